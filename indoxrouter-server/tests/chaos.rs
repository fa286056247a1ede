//! Chaos at every point: for each of the five providers, streamed and not,
//! a fault before the headers, right after them, mid-stream, as an
//! in-stream error, after the usage but before the end marker, or a
//! malformed event. Every case must end cleanly — an
//! error answer with its documented status, or a stream that ends with
//! `[DONE]` or an error event — never a 500 or a hang, and be charged by
//! the credit guide's rules: nothing for a provider that failed before
//! producing anything, the counted rule for what was delivered otherwise;
//! the balance never below zero and always equal to credits minus the
//! usage rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use indoxrouter_simulator::Fault;
use serde_json::{Value, json};

const MODELS: [&str; 5] = [
    "openai/gpt-4o-mini",
    "anthropic/claude-haiku-4-5",
    "google/gemini-2.5-flash-lite",
    "mistral/mistral-small",
    "cohere/command-r-08-2024",
];

/// Where the fault strikes, and the row statuses the guide allows then.
struct Point {
    name: &'static str,
    fault: Fault,
    /// Allowed usage-row statuses (a row is always written).
    statuses: &'static [&'static str],
    /// The charge must be zero.
    free: bool,
}

fn points() -> Vec<Point> {
    vec![
        Point {
            name: "before headers",
            fault: Fault::status(500),
            statuses: &["failed"],
            free: true,
        },
        Point {
            name: "right after headers",
            fault: Fault::CutStream { after_chunks: 0 },
            statuses: &["failed"],
            free: true,
        },
        Point {
            name: "mid-stream cut",
            fault: Fault::CutStream { after_chunks: 2 },
            statuses: &["failed", "upstream_error", "completed"],
            free: false,
        },
        Point {
            name: "in-stream error",
            fault: Fault::StreamError { after_chunks: 2 },
            statuses: &["failed", "upstream_error", "completed"],
            free: false,
        },
        Point {
            name: "after the usage, before the end marker",
            fault: Fault::CutBeforeEnd,
            statuses: &["completed", "upstream_error"],
            free: false,
        },
        Point {
            name: "malformed",
            fault: Fault::MalformedJson,
            statuses: &["failed", "upstream_error", "completed"],
            free: false,
        },
    ]
}

/// How a streamed answer ended: `Some(true)` with `[DONE]`, `Some(false)`
/// with an error event, `None` without either (not clean).
fn stream_end(text: &str) -> Option<bool> {
    let last = text.lines().rev().find_map(|l| l.strip_prefix("data: "))?;
    if last == "[DONE]" {
        return Some(true);
    }
    let v: Value = serde_json::from_str(last).ok()?;
    v.get("error").map(|_| false)
}

#[tokio::test]
async fn every_fault_point_ends_cleanly_and_is_charged_by_the_rules() {
    let h = start_with_client(|c| c.rate_limits = false, client_for_all).await;
    let key = h.user_with_key("chaos", "5").await;
    let mut failures = Vec::new();
    for model in MODELS {
        let provider = model.split('/').next().unwrap();
        for point in points() {
            for stream in [false, true] {
                let case = format!("{model} {} stream={stream}", point.name);
                let rows_before = h.usage(&key).await.len();
                h.sim.push_fault(provider, point.fault.clone());
                let body = json!({"model": model, "stream": stream, "max_tokens": 40,
                    "messages": [{"role": "user", "content": "tell me about the weather"}]});
                let r = tokio::time::timeout(
                    Duration::from_secs(20),
                    h.post("/v1/chat/completions", &key, body),
                )
                .await
                .unwrap_or_else(|_| panic!("{case}: no answer"));
                let status = r.status().as_u16();
                let text = tokio::time::timeout(Duration::from_secs(20), r.text())
                    .await
                    .unwrap_or_else(|_| panic!("{case}: the body never ended"))
                    .unwrap_or_default();
                let clean = match (stream, status) {
                    (_, 500) => false,
                    (true, 200) => stream_end(&text).is_some(),
                    (_, 200 | 502 | 504) => true,
                    _ => false,
                };
                if !clean {
                    failures.push(format!("{case}: not clean: {status} {text:.300}"));
                    continue;
                }
                // Every case writes exactly one row, settled before the answer ended.
                let mut rows = h.usage(&key).await;
                for _ in 0..50 {
                    if rows.len() > rows_before {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    rows = h.usage(&key).await;
                }
                if rows.len() != rows_before + 1 {
                    failures.push(format!("{case}: {} new rows", rows.len() - rows_before));
                    continue;
                }
                let row = &rows[0];
                let row_status = row["status"].as_str().unwrap_or_default();
                if !point.statuses.contains(&row_status) {
                    failures.push(format!("{case}: row status {row_status}"));
                }
                let cost = usd(row["cost"].as_str().unwrap());
                if point.free && cost != indoxrouter::Usd::ZERO {
                    failures.push(format!("{case}: charged {cost} for a provider failure"));
                }
                if row_status == "failed" && cost != indoxrouter::Usd::ZERO {
                    failures.push(format!("{case}: a failed row costs {cost}"));
                }
                // Text was delivered (or the usage reported): the call is billed.
                if row_status != "failed" && cost == indoxrouter::Usd::ZERO {
                    failures.push(format!("{case}: a {row_status} row costs nothing"));
                }
            }
        }
    }
    // The books balance after all of it.
    let balance = usd(&h.balance(&key).await);
    assert!(!balance.is_negative());
    let spent: indoxrouter::Usd = h
        .usage(&key)
        .await
        .iter()
        .map(|r| usd(r["cost"].as_str().unwrap()))
        .sum();
    assert_eq!(usd("5") - spent, balance);
    assert!(failures.is_empty(), "{failures:#?}");
}
