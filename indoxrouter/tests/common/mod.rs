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

/// How one provider's errors must map, for [`assert_error_mapping`].
pub struct ErrorCases<'a> {
    /// Provider id.
    pub provider: &'a str,
    /// A model the simulator serves.
    pub model: &'a str,
    /// Status faults and the kinds they must become.
    pub statuses: &'a [(u16, indoxrouter::ErrorKind)],
    /// A key the simulator rejects; it must never appear in the error.
    pub wrong_key: &'a str,
}

/// The shared error contract: the simulator's reserved missing model is
/// `model_not_found`, each status maps to its kind, a 429 carries its
/// Retry-After, and a rejected key is an authentication error that does not
/// echo the key.
pub async fn assert_error_mapping(cases: ErrorCases<'_>) {
    use indoxrouter::ErrorKind;
    use indoxrouter_simulator::Fault;
    let sim = sim().await;
    let client = client(&sim);
    let missing = format!("{}/sim-missing", cases.provider);
    let err = client.chat(hi(&missing)).await.expect_err("missing model");
    assert_eq!(err.kind(), ErrorKind::ModelNotFound, "{err}");
    for &(status, kind) in cases.statuses {
        sim.push_fault(cases.provider, Fault::status(status));
        let err = client.chat(hi(cases.model)).await.expect_err("fault");
        assert_eq!(err.kind(), kind, "HTTP {status}: {err}");
    }
    sim.push_fault(cases.provider, Fault::rate_limited(3));
    let err = client.chat(hi(cases.model)).await.expect_err("rate limit");
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));

    let wrong = builder(&sim)
        .api_key(cases.provider, cases.wrong_key)
        .build()
        .expect("client builds");
    let err = wrong.chat(hi(cases.model)).await.expect_err("wrong key");
    assert_eq!(err.kind(), ErrorKind::Authentication, "{err}");
    assert!(!err.to_string().contains(cases.wrong_key), "{err}");
}

/// A stream cut off mid-way and a stream ending in the provider's own error
/// event are both `stream_interrupted`, the latter carrying `message`.
pub async fn assert_broken_streams(provider: &str, model: &str, message: &str) {
    use indoxrouter::ErrorKind;
    use indoxrouter_simulator::Fault;
    let sim = sim().await;
    let client = client(&sim);
    for (fault, expect) in [
        (Fault::CutStream { after_chunks: 3 }, None),
        (Fault::StreamError { after_chunks: 2 }, Some(message)),
    ] {
        sim.push_fault(provider, fault);
        let err = client
            .chat_stream(hi(model))
            .await
            .expect("stream starts")
            .collect_response()
            .await
            .expect_err("broken stream");
        assert_eq!(err.kind(), ErrorKind::StreamInterrupted, "{err}");
        if let Some(m) = expect {
            assert!(err.to_string().contains(m), "{err}");
        }
    }
}
