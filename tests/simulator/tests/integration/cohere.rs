//! Cohere v2 chat, named-event streams, embed, auth and validation.

use serde_json::{Value, json};

use crate::common::{client, post_with, sim};

async fn post(
    sim: &indoxrouter_simulator::Simulator,
    path: &str,
    body: &Value,
) -> (u16, Value, String) {
    let (status, _, text) = post_with(&format!("{}{path}", sim.cohere_base()), body, &[]).await;
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, json, text)
}

fn hello() -> Value {
    json!({"model": "command-a-03-2025", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello to the world"}
    ]})
}

#[tokio::test]
async fn chat_shape_and_billed_units() {
    let sim = sim().await;
    let (status, body, _) = post(&sim, "/v2/chat", &hello()).await;
    assert_eq!(status, 200);
    assert_eq!(body["finish_reason"], "COMPLETE");
    assert_eq!(
        body["message"],
        json!({"role": "assistant", "content": [{"type": "text", "text": "Hello from the simulator. You said: Say hello to the world"}]})
    );
    // 3 + (4 + 2) + (4 + 5) = 18 billed; tokens add the 10-token preamble and an end token.
    assert_eq!(
        body["usage"],
        json!({"billed_units": {"input_tokens": 18, "output_tokens": 11}, "tokens": {"input_tokens": 28, "output_tokens": 12}})
    );
    assert_eq!(body["id"].as_str().unwrap().len(), 36);
}

#[tokio::test]
async fn stream_events_are_named_by_type() {
    let sim = sim().await;
    let mut request = hello();
    request["stream"] = json!(true);
    let (status, _, text) = post(&sim, "/v2/chat", &request).await;
    assert_eq!(status, 200);
    let events: Vec<(String, Value)> = text
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| {
            let (name, data) = e.split_once('\n').unwrap();
            (
                name.strip_prefix("event: ").unwrap().to_owned(),
                serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap(),
            )
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    let mut expected = vec!["message-start", "content-start"];
    expected.extend(std::iter::repeat_n("content-delta", 11));
    expected.extend(["content-end", "message-end"]);
    assert_eq!(names, expected);
    for (name, data) in &events {
        assert_eq!(data["type"], name.as_str());
    }
    assert_eq!(
        events[14].1["delta"]["usage"]["billed_units"]["output_tokens"],
        11
    );
}

#[tokio::test]
async fn validation_and_auth() {
    let sim = sim().await;
    for (body, expected) in [
        (
            json!({"model": "command-a-03-2025", "messages": [{"role": "user", "content": "x"}], "top_p": 0.5}),
            "top_p",
        ),
        (
            json!({"model": "command-a-03-2025", "messages": [{"role": "user", "content": "x"}], "tool_choice": "required"}),
            "tool_choice",
        ),
        (
            json!({"model": "command-a-03-2025", "messages": [{"role": "developer", "content": "x"}]}),
            "role",
        ),
        (
            json!({"model": "command-a-03-2025", "messages": [{"role": "user", "content": "x", "name": "bob"}]}),
            "messages[0].name",
        ),
    ] {
        let (status, error, _) = post(&sim, "/v2/chat", &body).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            error["message"].as_str().unwrap().contains(expected),
            "{error}"
        );
    }
    let (status, error, _) = post(
        &sim,
        "/v2/chat",
        &json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("model 'gpt-4o' not found")
    );
    let response = client()
        .post(format!("{}/v2/chat", sim.cohere_base()))
        .json(&hello())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
}

#[tokio::test]
async fn embed_requires_input_type_and_reports_billed_units() {
    let sim = sim().await;
    let body = json!({"model": "embed-english-v3.0", "texts": ["a b", "c"], "input_type": "search_query", "embedding_types": ["float"]});
    let (status, v, _) = post(&sim, "/v2/embed", &body).await;
    assert_eq!(status, 200);
    assert_eq!(v["embeddings"]["float"].as_array().unwrap().len(), 2);
    assert_eq!(v["embeddings"]["float"][0].as_array().unwrap().len(), 1024);
    assert_eq!(v["meta"]["billed_units"]["input_tokens"], 3);
    assert_eq!(v["response_type"], "embeddings_by_type");
    let (status, v, _) = post(
        &sim,
        "/v2/embed",
        &json!({"model": "embed-v4.0", "texts": ["x"], "embedding_types": ["float"]}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(v["message"].as_str().unwrap().contains("input_type"));
}
