//! Gemini generateContent, SSE and JSON-array streams, embeddings, Imagen,
//! auth and validation.

use serde_json::{Value, json};

use crate::common::{client, sim};

async fn call(
    sim: &indoxrouter_simulator::Simulator,
    path: &str,
    body: &Value,
    key: Option<&str>,
) -> (u16, String) {
    let mut request = client()
        .post(format!("{}/v1beta/{path}", sim.google_base()))
        .json(body);
    if let Some(key) = key {
        request = request.header("x-goog-api-key", key);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn hello() -> Value {
    json!({"systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": "Say hello to the world"}]}]})
}

#[tokio::test]
async fn generate_content_shape() {
    let sim = sim().await;
    let (status, text) = call(
        &sim,
        "models/gemini-2.5-flash:generateContent",
        &hello(),
        Some("k"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let cand = &body["candidates"][0];
    assert_eq!(cand["content"]["role"], "model");
    assert_eq!(
        cand["content"]["parts"],
        json!([{"text": "Hello from the simulator. You said: Say hello to the world"}])
    );
    assert_eq!(cand["finishReason"], "STOP");
    // 3 + system (4 + 2) + user (4 + 5) = 18
    assert_eq!(body["usageMetadata"]["promptTokenCount"], 18);
    assert_eq!(body["usageMetadata"]["candidatesTokenCount"], 11);
    assert_eq!(body["usageMetadata"]["totalTokenCount"], 29);
    assert_eq!(body["modelVersion"], "gemini-2.5-flash");
}

#[tokio::test]
async fn sse_stream_uses_crlf_and_no_done_marker() {
    let sim = sim().await;
    let (status, text) = call(
        &sim,
        "models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        &hello(),
        Some("k"),
    )
    .await;
    assert_eq!(status, 200);
    let events: Vec<Value> = text
        .split("\r\n\r\n")
        .filter(|e| !e.is_empty())
        .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
        .collect();
    assert_eq!(events.len(), 11);
    assert!(!text.contains("[DONE]"));
    let last = &events[10];
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 11);
    assert!(events[0]["candidates"][0].get("finishReason").is_none());
    // Without alt=sse the same responses come as one JSON array.
    let (_, text) = call(
        &sim,
        "models/gemini-2.5-flash:streamGenerateContent",
        &hello(),
        Some("k"),
    )
    .await;
    let array: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(array.as_array().unwrap().len(), 11);
}

#[tokio::test]
async fn auth_errors_in_google_shape() {
    let sim = indoxrouter_simulator::Simulator::start_with(indoxrouter_simulator::SimConfig {
        api_key: Some("right".into()),
        ..Default::default()
    })
    .await
    .unwrap();
    let (status, text) = call(
        &sim,
        "models/gemini-2.5-flash:generateContent",
        &hello(),
        None,
    )
    .await;
    assert_eq!(status, 403);
    assert!(text.contains("PERMISSION_DENIED"), "{text}");
    let (status, text) = call(
        &sim,
        "models/gemini-2.5-flash:generateContent",
        &hello(),
        Some("wrong"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("API_KEY_INVALID"), "{text}");
}

#[tokio::test]
async fn validation_rejects_what_gemini_rejects() {
    let sim = sim().await;
    let path = "models/gemini-2.5-flash:generateContent";
    let cases = [
        (
            json!({"messages": [{"role": "user", "content": "x"}]}),
            "Unknown name \"messages\"",
        ),
        (
            json!({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}),
            "valid role",
        ),
        (
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}],
            "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"type": "object", "additionalProperties": false}}]}]}),
            "Unknown name \"additionalProperties\"",
        ),
        (
            json!({"contents": [{"role": "user", "parts": [{"text": "x"}]}], "generationConfig": {"max_tokens": 5}}),
            "Unknown name \"max_tokens\"",
        ),
    ];
    for (body, expected) in cases {
        let (status, text) = call(&sim, path, &body, Some("k")).await;
        assert_eq!(status, 400, "{body}");
        let error: Value = serde_json::from_str(&text).unwrap();
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{expected} not in {message}");
        assert_eq!(error["error"]["status"], "INVALID_ARGUMENT");
    }
    let (status, text) = call(&sim, "models/gpt-4o:generateContent", &hello(), Some("k")).await;
    assert_eq!(status, 404);
    assert!(text.contains("models/gpt-4o is not found"), "{text}");
}

#[tokio::test]
async fn embeddings_and_imagen() {
    let sim = sim().await;
    let body = json!({"requests": [
        {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "a b"}]}, "outputDimensionality": 8},
        {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "c"}]}}
    ]});
    let (status, text) = call(
        &sim,
        "models/gemini-embedding-001:batchEmbedContents",
        &body,
        Some("k"),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["embeddings"][0]["values"].as_array().unwrap().len(), 8);
    assert_eq!(v["embeddings"][1]["values"].as_array().unwrap().len(), 3072);
    assert_eq!(v["usageMetadata"]["promptTokenCount"], 3);
    let (status, _) = call(
        &sim,
        "models/gemini-embedding-001:batchEmbedContents",
        &json!({"requests": [{"model": "models/other", "content": {"parts": [{"text": "x"}]}}]}),
        Some("k"),
    )
    .await;
    assert_eq!(status, 400);
    let (status, text) = call(
        &sim,
        "models/imagen-3.0-generate-001:predict",
        &json!({"instances": [{"prompt": "a cat"}]}),
        Some("k"),
    )
    .await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&text).unwrap();
    // Imagen's default is four images.
    assert_eq!(v["predictions"].as_array().unwrap().len(), 4);
    assert_eq!(v["predictions"][0]["mimeType"], "image/png");
}
