//! `/metrics` shows the traffic: requests by route and status, latencies,
//! tokens and cost, rate-limit and credit refusals, upstream errors, stream
//! disconnects; and it can be locked behind a token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use indoxrouter_server::config::Secret;
use indoxrouter_server::ratelimit::Tiers;
use serde_json::json;

/// The value of the series whose line starts with `prefix` (labels included).
fn value(text: &str, prefix: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|rest| rest.trim().split(' ').next())
        .unwrap_or_else(|| panic!("no series {prefix} in\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn metrics_show_the_traffic() {
    let tiers = Tiers::parse(Some("two=2:100000,roomy=1000:1000000"), Some("roomy")).unwrap();
    let h = start_with(move |c| {
        c.tiers = tiers;
        // The abandoned stream below hangs up on its provider this soon.
        c.drain = std::time::Duration::from_millis(200);
    })
    .await;
    let key = h.user_with_key("mia", "1").await;
    for _ in 0..3 {
        let r = h
            .post("/v1/chat/completions", &key, chat_body("hello"))
            .await;
        assert_eq!(r.status(), 200);
    }
    // An upstream failure, a stream the client abandons, a credit refusal and
    // a rate-limit refusal.
    h.sim.push_fault(
        "openai",
        indoxrouter_simulator::Fault::Status {
            status: 500,
            retry_after: None,
            body: None,
        },
    );
    let mut no_retry = chat_body("boom");
    no_retry["max_tokens"] = json!(5);
    let r = h.post("/v1/chat/completions", &key, no_retry).await;
    assert!(r.status().is_server_error());
    let poor = h.user_with_key("pat", "0.0000001").await;
    let admin = h.admin().await;
    let r = h
        .http
        .patch(format!("{}/api/v1/admin/users/pat", h.url))
        .bearer_auth(&admin)
        .json(&json!({"tier": "two"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Two a minute, each refused for credit (they still count), then 429.
    for _ in 0..2 {
        assert_eq!(h.chat_status(&poor, "hi").await, 402);
    }
    assert_eq!(h.chat_status(&poor, "hi").await, 429);
    h.sim.push_fault(
        "openai",
        indoxrouter_simulator::Fault::Stall { after_chunks: 1 },
    );
    let mut stream = chat_body("a long story");
    stream["stream"] = json!(true);
    let mut r = h.post("/v1/chat/completions", &key, stream).await;
    assert_eq!(r.status(), 200);
    let _ = r.chunk().await.unwrap();
    drop(r);
    for _ in 0..200 {
        if h.sim.open_streams() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    let r = h.get_public("/metrics").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = r.text().await.unwrap();
    assert_eq!(
        value(
            &text,
            r#"indoxrouter_http_requests_total{route="/v1/chat/completions",method="POST",status="200"}"#
        ),
        4.0
    );
    assert_eq!(
        value(
            &text,
            r#"indoxrouter_http_requests_total{route="/v1/chat/completions",method="POST",status="402"}"#
        ),
        2.0
    );
    assert_eq!(
        value(
            &text,
            r#"indoxrouter_http_requests_total{route="/api/v1/admin/users/{username}",method="PATCH",status="200"}"#
        ),
        1.0
    );
    assert!(
        value(
            &text,
            r#"indoxrouter_http_request_duration_seconds_count{route="/v1/chat/completions"}"#
        ) >= 8.0
    );
    assert!(
        value(
            &text,
            r#"indoxrouter_upstream_duration_seconds_count{provider="openai"}"#
        ) >= 5.0
    );
    assert!(
        value(
            &text,
            r#"indoxrouter_tokens_total{provider="openai",model="gpt-4o-mini",kind="prompt"}"#
        ) > 0.0
    );
    assert!(
        value(
            &text,
            r#"indoxrouter_cost_usd_total{provider="openai",model="gpt-4o-mini"}"#
        ) > 0.0
    );
    assert_eq!(value(&text, "indoxrouter_credit_refusals_total"), 2.0);
    assert_eq!(
        value(
            &text,
            r#"indoxrouter_rate_limited_total{subject="user",limit="requests"}"#
        ),
        1.0
    );
    assert!(
        text.contains(r#"indoxrouter_upstream_errors_total{provider="openai","#),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            r#"indoxrouter_stream_disconnects_total{reason="client"}"#
        ),
        1.0
    );
    assert_eq!(value(&text, "indoxrouter_streams_active"), 0.0);
    // Raw paths never become labels (they carry usernames and ids).
    assert!(!text.contains("/admin/users/pat"));
}

#[tokio::test]
async fn metrics_can_require_a_token() {
    let h = start_with(|c| c.metrics_token = Some(Secret::new("scrape-token-123"))).await;
    assert_eq!(h.get_public("/metrics").await.status(), 401);
    assert_eq!(h.get("/metrics", "wrong").await.status(), 401);
    let r = h.get("/metrics", "scrape-token-123").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("indoxrouter_http_requests_total")
    );
}
