//! Shared setup: a simulator and a client pointed at it.
#![allow(dead_code, clippy::expect_used)]

use std::time::Duration;

use indoxrouter::types::{ChatRequest, Message};
use indoxrouter::{Client, ClientBuilder, RetryPolicy};
use indoxrouter_simulator::{SimConfig, Simulator};

pub const KEY: &str = "sk-sim-test-0123456789abcdef";

pub async fn sim() -> Simulator {
    Simulator::start_with(SimConfig {
        api_key: Some(KEY.to_owned()),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// Fast retries so retry tests take milliseconds.
pub fn fast_retries(n: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries: n,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(5),
    }
}

pub fn builder(sim: &Simulator) -> ClientBuilder {
    Client::builder()
        .no_env()
        .api_key("openai", KEY)
        .base_url("openai", sim.openai_base())
        .api_key("mistral", KEY)
        .base_url("mistral", sim.mistral_base())
        .api_key("anthropic", KEY)
        .base_url("anthropic", sim.anthropic_base())
        .api_key("google", KEY)
        .base_url("google", sim.google_base())
        .api_key("cohere", KEY)
        .base_url("cohere", sim.cohere_base())
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy::none())
}

pub fn client(sim: &Simulator) -> Client {
    builder(sim).build().expect("client builds")
}

/// A one-line chat request.
pub fn hi(model: &str) -> ChatRequest {
    ChatRequest::new(model, vec![Message::user("hi")])
}
