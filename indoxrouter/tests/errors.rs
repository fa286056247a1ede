//! Every error kind, and no key in any error or Debug output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use indoxrouter::types::{ChatRequest, EmbeddingRequest, ImageRequest};
use indoxrouter::{Client, ErrorKind};
use indoxrouter_simulator::Fault;

use common::hi;

#[tokio::test]
async fn wrong_key_is_authentication_and_never_leaks() {
    let sim = common::sim().await;
    let secret = "sk-wrong-SUPERSECRET-987654321";
    let client = Client::builder()
        .no_env()
        .api_key("openai", secret)
        .base_url("openai", sim.openai_base())
        .build()
        .unwrap();
    let err = client.chat(hi("openai/gpt-4o-mini")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert_eq!(err.http_status(), 401);
    for text in [err.to_string(), format!("{err:?}"), format!("{client:?}")] {
        assert!(!text.contains("SUPERSECRET"), "{text}");
    }
}

#[tokio::test]
async fn upstream_echo_of_the_key_is_redacted() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    sim.push_fault(
        "openai",
        Fault::Status {
            status: 400,
            retry_after: None,
            body: Some(format!(
                r#"{{"error":{{"message":"bad key {} here","type":"invalid_request_error","param":null,"code":null}}}}"#,
                common::KEY
            )),
        },
    );
    let err = client.chat(hi("openai/gpt-4o-mini")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(!err.to_string().contains(common::KEY));
    assert!(!format!("{err:?}").contains(common::KEY));
}

#[tokio::test]
async fn unknown_models() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    // Bare typo: refused locally, with suggestions, before any request.
    let err = client.chat(hi("gpt-4o-mni")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelNotFound);
    match &err {
        indoxrouter::Error::ModelNotFound { suggestions, .. } => {
            assert!(
                suggestions.iter().any(|s| s == "openai/gpt-4o-mini"),
                "{suggestions:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.request_count(), 0);
    // Explicit provider: the provider's 404 becomes model_not_found too.
    let err = client.chat(hi("openai/sim-missing")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ModelNotFound);
    assert_eq!(sim.request_count(), 1);
}

#[tokio::test]
async fn status_faults_map_to_kinds() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let cases = [
        (403, ErrorKind::Permission),
        // The simulator's default 404 is OpenAI's `model_not_found` body.
        (404, ErrorKind::ModelNotFound),
        (422, ErrorKind::InvalidRequest),
        (429, ErrorKind::RateLimited),
        (500, ErrorKind::ProviderUnavailable),
        (503, ErrorKind::ProviderUnavailable),
    ];
    for (status, kind) in cases {
        sim.push_fault(
            "openai",
            Fault::Status {
                status,
                retry_after: Some(7),
                body: None,
            },
        );
        let err = client.chat(hi("openai/gpt-4o-mini")).await.unwrap_err();
        assert_eq!(err.kind(), kind, "HTTP {status}: {err}");
        if status == 429 {
            assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
        }
    }
    sim.push_fault(
        "openai",
        Fault::Status {
            status: 429,
            retry_after: None,
            body: Some(r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#.into()),
        },
    );
    let err = client.chat(hi("openai/gpt-4o-mini")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InsufficientQuota);
    // A 404 that is not about the model stays `not_found`.
    sim.push_fault(
        "openai",
        Fault::Status {
            status: 404,
            retry_after: None,
            body: Some(r#"{"error":{"message":"No such route","type":"invalid_request_error","param":null,"code":null}}"#.into()),
        },
    );
    let err = client.chat(hi("openai/gpt-4o-mini")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn malformed_body_is_decode() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    sim.push_fault("openai", Fault::MalformedJson);
    let err = client.chat(hi("openai/gpt-4o-mini")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn slow_first_byte_times_out() {
    let sim = common::sim().await;
    let client = common::builder(&sim)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    sim.push_fault("openai", Fault::SlowFirstByte(Duration::from_secs(3)));
    let err = client.chat(hi("openai/gpt-4o-mini")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn not_configured_names_the_variable() {
    let client = Client::builder().no_env().build().unwrap();
    let err = client.chat(hi("openai/gpt-4o-mini")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConfigured);
    assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");
    let err = client
        .chat(hi("mistral/mistral-small-latest"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("MISTRAL_API_KEY"), "{err}");
}

#[tokio::test]
async fn unsupported_fails_fast_without_a_request() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let err = client
        .images(ImageRequest::new("mistral/mistral-small-latest", "a cat"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("mistral"));
    assert_eq!(sim.request_count(), 0);
}

#[tokio::test]
async fn invalid_requests_never_reach_the_provider() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let err = client
        .chat(ChatRequest::new("openai/gpt-4o-mini", vec![]))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let err = client
        .embeddings(EmbeddingRequest::new(
            "openai/text-embedding-3-small",
            Vec::<String>::new(),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let err = client.chat(hi("openai/")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(sim.request_count(), 0);
}

#[tokio::test]
async fn unreachable_provider_is_unavailable() {
    // Bind then drop a listener so the port is (almost certainly) closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = Client::builder()
        .no_env()
        .api_key("openai", "k")
        .base_url("openai", format!("http://127.0.0.1:{port}/v1"))
        .retry_policy(common::fast_retries(1))
        .build()
        .unwrap();
    let err = client.chat(hi("openai/gpt-4o-mini")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ProviderUnavailable);
}
