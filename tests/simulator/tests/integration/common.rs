//! Helpers shared by the integration tests.

use futures_util::StreamExt as _;
use indoxrouter_simulator::Simulator;
use serde_json::Value;

pub async fn sim() -> Simulator {
    Simulator::start().await.unwrap()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// POSTs JSON with a bearer key; returns status, headers and raw body text.
pub async fn post(url: &str, body: &Value) -> (u16, reqwest::header::HeaderMap, String) {
    post_with(url, body, &[]).await
}

pub async fn post_with(
    url: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = client()
        .post(url)
        .bearer_auth("sk-test-key-0123456789")
        .json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

pub async fn post_json(url: &str, body: &Value) -> (u16, Value) {
    let (status, _, text) = post(url, body).await;
    (status, serde_json::from_str(&text).unwrap())
}

pub async fn get_json(url: &str) -> (u16, Value) {
    let response = client()
        .get(url)
        .bearer_auth("sk-test-key-0123456789")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// The `data:` payloads of an SSE body, in order.
pub fn events(body: &str) -> Vec<String> {
    body.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").unwrap().to_owned())
        .collect()
}

/// The JSON events of an SSE body, which must end with `[DONE]`.
pub fn json_events(body: &str) -> Vec<Value> {
    let mut events = events(body);
    assert_eq!(
        events.pop().as_deref(),
        Some("[DONE]"),
        "stream must end with [DONE]"
    );
    events
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect()
}

/// Reads a streaming response chunk by chunk until it ends or fails.
/// Returns the bytes received and whether the body ended in an error.
pub async fn read_until_end(response: reqwest::Response) -> (String, bool) {
    let mut stream = response.bytes_stream();
    let mut received = Vec::new();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(bytes) => received.extend_from_slice(&bytes),
            Err(_) => return (String::from_utf8(received).unwrap(), true),
        }
    }
    (String::from_utf8(received).unwrap(), false)
}
