//! Integration tests: a real simulator on a real port, driven over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod anthropic;
mod cohere;
mod common;
mod control;
mod faults;
mod google;
mod mistral;
mod openai_chat;
mod openai_other;
