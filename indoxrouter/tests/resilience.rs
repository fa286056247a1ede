//! Retries with backoff honouring Retry-After, and fallbacks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use indoxrouter::ErrorKind;
use indoxrouter_simulator::Fault;

use common::hi;

#[tokio::test]
async fn retries_after_injected_429s_and_honours_retry_after() {
    let sim = common::sim().await;
    let client = common::builder(&sim)
        .retry_policy(common::fast_retries(3))
        .build()
        .unwrap();
    sim.push_fault(
        "openai",
        Fault::Status {
            status: 429,
            retry_after: Some(1),
            body: None,
        },
    );
    sim.push_fault(
        "openai",
        Fault::Status {
            status: 429,
            retry_after: None,
            body: None,
        },
    );
    let started = Instant::now();
    let resp = client.chat(hi("openai/gpt-4o-mini")).await.unwrap();
    assert!(resp.usage.total_tokens > 0);
    assert_eq!(sim.request_count(), 3);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited out Retry-After"
    );
}

#[tokio::test]
async fn gives_up_after_max_retries() {
    let sim = common::sim().await;
    let client = common::builder(&sim)
        .retry_policy(common::fast_retries(2))
        .build()
        .unwrap();
    for _ in 0..3 {
        sim.push_fault(
            "openai",
            Fault::Status {
                status: 500,
                retry_after: None,
                body: None,
            },
        );
    }
    let err = client.chat(hi("openai/gpt-4o-mini")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
    assert_eq!(sim.request_count(), 3);
}

#[tokio::test]
async fn does_not_retry_client_errors() {
    let sim = common::sim().await;
    let client = common::builder(&sim)
        .retry_policy(common::fast_retries(3))
        .build()
        .unwrap();
    sim.push_fault(
        "openai",
        Fault::Status {
            status: 400,
            retry_after: None,
            body: None,
        },
    );
    assert_eq!(
        client
            .chat(hi("openai/gpt-4o-mini"))
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidRequest
    );
    assert_eq!(sim.request_count(), 1);
}

#[tokio::test]
async fn falls_back_to_the_next_model() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    sim.push_fault(
        "openai",
        Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
    );
    let resp = client
        .chat(hi("openai/gpt-4o-mini").fallbacks(["mistral/mistral-small-latest"]))
        .await
        .unwrap();
    assert_eq!(resp.provider, "mistral");
    assert!(resp.cost.is_some());
    let providers: Vec<String> = sim.requests().into_iter().map(|r| r.provider).collect();
    assert_eq!(providers, ["openai", "mistral"]);
}

#[tokio::test]
async fn stream_falls_back_before_it_starts() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    sim.push_fault(
        "openai",
        Fault::Status {
            status: 500,
            retry_after: None,
            body: None,
        },
    );
    let stream = client
        .chat_stream(hi("openai/gpt-4o-mini").fallbacks(["mistral/mistral-small-latest"]))
        .await
        .unwrap();
    assert_eq!(stream.provider(), "mistral");
    let folded = stream.collect_response().await.unwrap();
    assert!(folded.usage.total_tokens > 0);
}
