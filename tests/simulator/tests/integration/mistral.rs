//! Mistral chat, embeddings, models and validation.

use serde_json::{Value, json};

use crate::common::{get_json, json_events, post, post_json, sim};

fn chat_url(sim: &indoxrouter_simulator::Simulator) -> String {
    format!("{}/v1/chat/completions", sim.mistral_base())
}

#[tokio::test]
async fn chat_non_streaming_shape() {
    let sim = sim().await;
    let request = json!({"model": "mistral-small-latest", "random_seed": 7, "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Bonjour le monde"}
    ]});
    let (status, body) = post_json(&chat_url(&sim), &request).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "mistral-small-latest");
    assert_eq!(body["id"].as_str().unwrap().len(), 32);
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(
        choice["message"],
        json!({"role": "assistant", "tool_calls": null, "content": "Hello from the simulator. You said: Bonjour le monde"})
    );
    // 3 + (4 + 2) + (4 + 3); 9 words.
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 16, "completion_tokens": 9, "total_tokens": 25})
    );
    assert_eq!(sim.requests()[0].body["random_seed"], 7);
}

#[tokio::test]
async fn streaming_puts_usage_on_the_final_chunk() {
    let sim = sim().await;
    let request = json!({"model": "mistral-large-latest", "stream": true, "messages": [{"role": "user", "content": "hi"}]});
    let (status, headers, text) = post(&chat_url(&sim), &request).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let chunks = json_events(&text);
    // role, 7 words, final
    assert_eq!(chunks.len(), 9);
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    for chunk in &chunks[..8] {
        assert!(chunk.get("usage").is_none());
        assert_eq!(chunk["object"], "chat.completion.chunk");
    }
    let last = &chunks[8];
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        last["usage"],
        json!({"prompt_tokens": 8, "completion_tokens": 7, "total_tokens": 15})
    );
}

#[tokio::test]
async fn tool_calls_use_nine_character_ids() {
    let sim = sim().await;
    let tools = json!([{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}]);
    let request = json!({"model": "mistral-large-latest", "tool_choice": "any", "tools": tools,
        "messages": [{"role": "user", "content": "find it"}]});
    let (_, body) = post_json(&chat_url(&sim), &request).await;
    let message = &body["choices"][0]["message"];
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(message["content"], "");
    let call = &message["tool_calls"][0];
    let id = call["id"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 9);
    assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(
        call["function"],
        json!({"name": "lookup", "arguments": "{\"q\":\"sample\"}"})
    );

    let mut streamed = request.clone();
    streamed["stream"] = json!(true);
    let (_, _, text) = post(&chat_url(&sim), &streamed).await;
    let chunks = json_events(&text);
    assert_eq!(chunks.len(), 2);
    let last = &chunks[1];
    assert_eq!(last["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        last["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"],
        "{\"q\":\"sample\"}"
    );
    assert!(last["usage"].is_object());

    let follow_up = json!({"model": "mistral-large-latest", "tools": tools, "messages": [
        {"role": "user", "content": "find it"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": id, "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]},
        {"role": "tool", "name": "lookup", "tool_call_id": id, "content": "found"}
    ]});
    let (status, body) = post_json(&chat_url(&sim), &follow_up).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Tool result received: found"
    );
}

#[tokio::test]
async fn openai_style_tool_ids_get_mistrals_400() {
    let sim = sim().await;
    let request = json!({"model": "mistral-large-latest", "messages": [
        {"role": "user", "content": "find it"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": "call_abc123XYZ", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_abc123XYZ", "content": "found"}
    ]});
    let (status, body) = post_json(&chat_url(&sim), &request).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"object": "error", "message": "Tool call id was call_abc123XYZ but must be a-z, A-Z, 0-9, with a length of 9.",
            "type": "invalid_function_call", "param": null, "code": "3280", "raw_status_code": 400})
    );
}

#[tokio::test]
async fn validation_errors_are_422s() {
    let sim = sim().await;
    let request = json!({"model": "mistral-small-latest", "stream": true, "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "hi", "name": "bob"}]});
    let (status, body) = post_json(&chat_url(&sim), &request).await;
    assert_eq!(status, 422);
    assert_eq!(body["object"], "error");
    assert_eq!(body["type"], "invalid_request_error");
    let detail = body["message"]["detail"].as_array().unwrap();
    let locs: Vec<&Value> = detail.iter().map(|d| &d["loc"]).collect();
    assert!(locs.contains(&&json!(["body", "stream_options"])));
    assert!(locs.contains(&&json!(["body", "messages", 0, "user", "name"])));
    assert!(detail.iter().all(|d| d["type"] == "extra_forbidden"));

    let (status, body) = post_json(
        &chat_url(&sim),
        &json!({"model": "mistral-small-latest", "n": 0,
        "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(body["message"]["detail"][0]["type"], "greater_than_equal");

    let (status, body) =
        post_json(&chat_url(&sim), &json!({"model": "mistral-small-latest"})).await;
    assert_eq!(status, 422);
    assert_eq!(body["message"]["detail"][0]["type"], "missing");
    assert_eq!(
        body["message"]["detail"][0]["loc"],
        json!(["body", "messages"])
    );

    let (status, body) = post_json(
        &chat_url(&sim),
        &json!({"model": "mistral-small-latest", "messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["type"], "invalid_request_message_order");
}

#[tokio::test]
async fn unknown_models() {
    let sim = sim().await;
    let (status, body) = post_json(
        &chat_url(&sim),
        &json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"object": "error", "message": "Invalid model: gpt-4o", "type": "invalid_model", "param": null, "code": "1500", "raw_status_code": 400})
    );
    let (status, _) = post_json(
        &chat_url(&sim),
        &json!({"model": "sim-missing", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn embeddings_and_models() {
    let sim = sim().await;
    let url = format!("{}/v1/embeddings", sim.mistral_base());
    let (status, body) = post_json(
        &url,
        &json!({"model": "mistral-embed", "input": ["a b", "c"]}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["id"].is_string());
    assert_eq!(body["data"][0]["embedding"].as_array().unwrap().len(), 1024);
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 3, "completion_tokens": 0, "total_tokens": 3})
    );
    let (_, body) = post_json(
        &url,
        &json!({"model": "codestral-embed", "input": "x", "encoding_format": "base64"}),
    )
    .await;
    assert!(body["data"][0]["embedding"].is_string());

    let (status, body) = get_json(&format!("{}/v1/models", sim.mistral_base())).await;
    assert_eq!(status, 200);
    let card = &body["data"][0];
    assert_eq!(card["object"], "model");
    assert_eq!(card["type"], "base");
    assert!(card["capabilities"]["completion_chat"].is_boolean());
}

#[tokio::test]
async fn mistral_unauthorized_body() {
    let sim = sim().await;
    let response = reqwest::Client::new()
        .post(chat_url(&sim))
        .json(&json!({"model": "mistral-small-latest", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "Unauthorized"})
    );
}
