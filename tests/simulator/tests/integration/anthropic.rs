//! Anthropic Messages: auth headers, validation, JSON and named-event SSE.

use serde_json::{Value, json};

use crate::common::{client, sim};

async fn messages(
    sim: &indoxrouter_simulator::Simulator,
    body: &Value,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let mut request = client()
        .post(format!("{}/v1/messages", sim.anthropic_base()))
        .json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

const AUTH: &[(&str, &str)] = &[
    ("x-api-key", "sk-ant-test-0123456789"),
    ("anthropic-version", "2023-06-01"),
];

fn hello() -> Value {
    json!({"model": "claude-haiku-4-5", "max_tokens": 100, "system": "Be brief.",
        "messages": [{"role": "user", "content": "Say hello to the world"}]})
}

/// `(event name, data)` pairs of a named-event SSE body.
fn named_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (name, data) = e.split_once('\n').unwrap();
            let name = name.strip_prefix("event: ").unwrap().to_owned();
            let data = data.strip_prefix("data: ").unwrap();
            (name, serde_json::from_str(data).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn message_shape_and_usage() {
    let sim = sim().await;
    let (status, text) = messages(&sim, &hello(), AUTH).await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert!(body["id"].as_str().unwrap().starts_with("msg_01"));
    assert_eq!(
        body["content"],
        json!([{"type": "text", "text": "Hello from the simulator. You said: Say hello to the world"}])
    );
    assert_eq!(body["stop_reason"], "end_turn");
    assert_eq!(body["stop_sequence"], Value::Null);
    // 3 + system (4 + 2) + user (4 + 5) = 18; 11 words.
    assert_eq!(
        body["usage"],
        json!({"input_tokens": 18, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 11, "service_tier": "standard"})
    );
}

#[tokio::test]
async fn auth_and_version_headers_are_required() {
    let sim = sim().await;
    let (status, text) = messages(&sim, &hello(), &[("anthropic-version", "2023-06-01")]).await;
    assert_eq!(status, 401);
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "authentication_error");
    let (status, text) = messages(&sim, &hello(), &[("x-api-key", "k")]).await;
    assert_eq!(status, 400);
    assert!(text.contains("anthropic-version"), "{text}");
}

#[tokio::test]
async fn validation_catches_openai_shaped_requests() {
    let sim = sim().await;
    let cases = [
        (
            json!({"model": "claude-haiku-4-5", "messages": [{"role": "user", "content": "x"}]}),
            "max_tokens: Field required",
        ),
        (
            json!({"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "x"}]}),
            "top-level `system`",
        ),
        (
            json!({"model": "claude-haiku-4-5", "max_tokens": 5, "n": 2, "messages": [{"role": "user", "content": "x"}]}),
            "n: Extra inputs are not permitted",
        ),
        (
            json!({"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}),
            "image_url",
        ),
        (
            json!({"model": "claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "x"}]}]}),
            "tool_use_id",
        ),
        (
            json!({"model": "claude-haiku-4-5", "max_tokens": 5, "temperature": 1.5, "messages": [{"role": "user", "content": "x"}]}),
            "temperature",
        ),
    ];
    for (body, expected) in cases {
        let (status, text) = messages(&sim, &body, AUTH).await;
        assert_eq!(status, 400, "{body}: {text}");
        let error: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(error["error"]["type"], "invalid_request_error");
        assert!(text.contains(expected), "{expected} not in {text}");
    }
    let (status, text) = messages(
        &sim,
        &json!({"model": "gpt-4o", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}),
        AUTH,
    )
    .await;
    assert_eq!(status, 404);
    assert!(text.contains("model: gpt-4o"), "{text}");
}

#[tokio::test]
async fn stream_uses_named_events() {
    let sim = sim().await;
    let mut request = hello();
    request["stream"] = json!(true);
    let (status, text) = messages(&sim, &request, AUTH).await;
    assert_eq!(status, 200);
    let events = named_events(&text);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(std::iter::repeat_n("content_block_delta", 11));
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    assert_eq!(names, expected);
    for (name, data) in &events {
        assert_eq!(data["type"], name.as_str());
    }
    assert_eq!(events[0].1["message"]["usage"]["input_tokens"], 18);
    assert_eq!(events[0].1["message"]["usage"]["output_tokens"], 1);
    let text: String = events
        .iter()
        .filter_map(|(_, d)| d["delta"]["text"].as_str())
        .collect();
    assert_eq!(
        text,
        "Hello from the simulator. You said: Say hello to the world"
    );
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(delta["usage"]["output_tokens"], 11);
}

#[tokio::test]
async fn streamed_tool_use_sends_input_json_deltas() {
    let sim = sim().await;
    let request = json!({"model": "claude-haiku-4-5", "max_tokens": 100, "stream": true,
        "tools": [{"name": "w", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}],
        "tool_choice": {"type": "tool", "name": "w"},
        "messages": [{"role": "user", "content": "weather?"}]});
    let (_, text) = messages(&sim, &request, AUTH).await;
    let events = named_events(&text);
    let start = &events[1].1["content_block"];
    assert_eq!(start["type"], "tool_use");
    assert_eq!(start["input"], json!({}));
    let json: String = events
        .iter()
        .filter_map(|(_, d)| d["delta"]["partial_json"].as_str())
        .collect();
    assert_eq!(json, r#"{"city":"sample"}"#);
    assert_eq!(
        events[events.len() - 2].1["delta"]["stop_reason"],
        "tool_use"
    );
}

#[tokio::test]
async fn stream_error_fault_sends_an_error_event() {
    let sim = sim().await;
    let mut request = hello();
    request["stream"] = json!(true);
    let mut headers = AUTH.to_vec();
    headers.push(("x-simulator-fault", "error=2"));
    let (status, text) = messages(&sim, &request, &headers).await;
    assert_eq!(status, 200);
    let events = named_events(&text);
    assert_eq!(events.len(), 3);
    assert_eq!(events[2].0, "error");
    assert_eq!(events[2].1["error"]["type"], "overloaded_error");
}

#[tokio::test]
async fn status_faults_use_anthropic_error_bodies() {
    let sim = sim().await;
    let mut headers = AUTH.to_vec();
    headers.push(("x-simulator-fault", "status=529"));
    let (status, text) = messages(&sim, &hello(), &headers).await;
    assert_eq!(status, 529);
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"]["type"], "overloaded_error");
}
