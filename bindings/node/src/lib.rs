//! Node.js bindings for IndoxRouter, built with napi-rs.
//!
//! This crate only adapts the core: JavaScript values become the core's
//! request types, results and chunks become plain objects with camelCase
//! keys, and errors carry a stable code that the package's JavaScript layer
//! (`lib/index.js`) turns into `IndoxRouterError` subclasses. Every network
//! call runs on napi-rs's tokio runtime and settles a Promise, so the event
//! loop never waits on I/O.

mod client;
mod convert;
mod error;
mod stream;

pub use client::{Cancel, ClientOptions, CompatibleProvider, NativeClient, hosted_login};
pub use stream::NativeStream;
