//! OpenAI chat and legacy completions.

use serde_json::{Value, json};

use crate::common::{json_events, post, post_json, sim};

fn hello() -> Value {
    json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hello to the world"}
        ]
    })
}

#[tokio::test]
async fn chat_reply_and_usage_match_the_documented_rules() {
    let sim = sim().await;
    let url = format!("{}/chat/completions", sim.openai_base());
    let (status, body) = post_json(&url, &hello()).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-4o-mini");
    assert!(body["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert!(body["created"].as_u64().unwrap() > 0);
    assert_eq!(body["service_tier"], "default");
    assert!(body["system_fingerprint"].is_string());
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["logprobs"], Value::Null);
    assert_eq!(
        choice["message"],
        json!({"role": "assistant", "content": "Hello from the simulator. You said: Say hello to the world", "refusal": null, "annotations": []})
    );
    // 3 + (4 + 3) + (4 + 5) prompt; 11 words of reply.
    assert_eq!(
        body["usage"],
        json!({
            "prompt_tokens": 19, "completion_tokens": 11, "total_tokens": 30,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
        })
    );
}

#[tokio::test]
async fn bare_v1_prefix_serves_openai_too() {
    let sim = sim().await;
    let (status, body) =
        post_json(&format!("{}/v1/chat/completions", sim.root_url()), &hello()).await;
    assert_eq!(status, 200);
    assert_eq!(body["usage"]["total_tokens"], 30);
}

#[tokio::test]
async fn stream_without_include_usage_has_no_usage() {
    let sim = sim().await;
    let mut request = hello();
    request["stream"] = json!(true);
    let (status, headers, text) =
        post(&format!("{}/chat/completions", sim.openai_base()), &request).await;
    assert_eq!(status, 200);
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let chunks = json_events(&text);
    // role chunk, 11 words, finish chunk
    assert_eq!(chunks.len(), 13);
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert!(chunk.get("usage").is_none());
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": "", "refusal": null})
    );
    let content: String = chunks[1..12]
        .iter()
        .map(|c| c["choices"][0]["delta"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        content,
        "Hello from the simulator. You said: Say hello to the world"
    );
    assert_eq!(chunks[12]["choices"][0]["delta"], json!({}));
    assert_eq!(chunks[12]["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn stream_with_include_usage_ends_with_a_usage_chunk() {
    let sim = sim().await;
    let mut request = hello();
    request["stream"] = json!(true);
    request["stream_options"] = json!({"include_usage": true});
    let (_, _, text) = post(&format!("{}/chat/completions", sim.openai_base()), &request).await;
    let chunks = json_events(&text);
    assert_eq!(chunks.len(), 14);
    for chunk in &chunks[..13] {
        assert_eq!(chunk["usage"], Value::Null);
        assert!(chunk.get("usage").is_some());
    }
    let last = &chunks[13];
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["prompt_tokens"], 19);
    assert_eq!(last["usage"]["completion_tokens"], 11);
}

#[tokio::test]
async fn stream_options_without_stream_is_rejected() {
    let sim = sim().await;
    let mut request = hello();
    request["stream_options"] = json!({"include_usage": true});
    let (status, body) =
        post_json(&format!("{}/chat/completions", sim.openai_base()), &request).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "stream_options");
}

fn weather_tools() -> Value {
    json!([{"type": "function", "function": {
        "name": "get_weather",
        "description": "Get the weather",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}, "days": {"type": "integer"}, "metric": {"type": "boolean"}
        }, "required": ["city", "days"]}
    }}, {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}])
}

#[tokio::test]
async fn tool_call_non_streaming() {
    let sim = sim().await;
    let request = json!({
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": weather_tools()
    });
    let (status, body) =
        post_json(&format!("{}/chat/completions", sim.openai_base()), &request).await;
    assert_eq!(status, 200);
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let call = &choice["message"]["tool_calls"][0];
    let id = call["id"].as_str().unwrap();
    assert!(id.starts_with("call_") && id.len() == 29);
    assert_eq!(call["type"], "function");
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(
        call["function"]["arguments"],
        r#"{"city":"sample","days":1}"#
    );
    // 3 + (4 + 3) + (8 + 3 + 3) + (8 + 0 + 0)
    assert_eq!(body["usage"]["prompt_tokens"], 32);
    assert_eq!(body["usage"]["completion_tokens"], 2);
}

#[tokio::test]
async fn tool_choice_selects_function_and_none_disables() {
    let sim = sim().await;
    let url = format!("{}/chat/completions", sim.openai_base());
    let mut request = json!({
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Time?"}],
        "tools": weather_tools(),
        "tool_choice": {"type": "function", "function": {"name": "get_time"}}
    });
    let (_, body) = post_json(&url, &request).await;
    assert_eq!(
        body["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "get_time"
    );
    assert_eq!(
        body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
        "{}"
    );
    request["tool_choice"] = json!("none");
    let (_, body) = post_json(&url, &request).await;
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn tool_call_streaming_and_tool_result() {
    let sim = sim().await;
    let url = format!("{}/chat/completions", sim.openai_base());
    let request = json!({
        "model": "gpt-4o",
        "stream": true,
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": weather_tools()
    });
    let (_, _, text) = post(&url, &request).await;
    let chunks = json_events(&text);
    let first = &chunks[0]["choices"][0]["delta"];
    assert_eq!(first["role"], "assistant");
    assert_eq!(first["content"], Value::Null);
    let head = &first["tool_calls"][0];
    assert_eq!(head["index"], 0);
    assert_eq!(head["type"], "function");
    assert_eq!(head["function"]["name"], "get_weather");
    assert_eq!(head["function"]["arguments"], "");
    let id = head["id"].as_str().unwrap().to_owned();
    let arguments: String = chunks[1..chunks.len() - 1]
        .iter()
        .map(|c| {
            let call = &c["choices"][0]["delta"]["tool_calls"][0];
            assert!(call.get("id").is_none());
            call["function"]["arguments"].as_str().unwrap()
        })
        .collect();
    assert_eq!(arguments, r#"{"city":"sample","days":1}"#);
    assert_eq!(
        chunks.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );

    let follow_up = json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": id, "type": "function", "function": {"name": "get_weather", "arguments": arguments}}
            ]},
            {"role": "tool", "tool_call_id": id, "content": "Sunny, 21C"}
        ],
        "tools": weather_tools()
    });
    let (status, body) = post_json(&url, &follow_up).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Tool result received: Sunny, 21C"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
}

#[tokio::test]
async fn unanswered_or_orphan_tool_messages_are_rejected() {
    let sim = sim().await;
    let url = format!("{}/chat/completions", sim.openai_base());
    let orphan = json!({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "tool", "tool_call_id": "call_1", "content": "x"}
    ]});
    let (status, body) = post_json(&url, &orphan).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["param"], "messages.[1].role");
    let unanswered = json!({"model": "gpt-4o", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "user", "content": "well?"}
    ]});
    let (status, body) = post_json(&url, &unanswered).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("call_1")
    );
}

#[tokio::test]
async fn limits_n_json_mode_and_vision() {
    let sim = sim().await;
    let url = format!("{}/chat/completions", sim.openai_base());
    let mut request = hello();
    request["max_tokens"] = json!(3);
    request["n"] = json!(2);
    let (_, body) = post_json(&url, &request).await;
    assert_eq!(body["choices"].as_array().unwrap().len(), 2);
    assert_eq!(body["choices"][1]["index"], 1);
    assert_eq!(body["choices"][1]["message"]["content"], "Hello from the");
    assert_eq!(body["choices"][1]["finish_reason"], "length");
    assert_eq!(body["usage"]["completion_tokens"], 6);

    let mut request = hello();
    request["stop"] = json!(["simulator", "zzz"]);
    let (_, body) = post_json(&url, &request).await;
    assert_eq!(body["choices"][0]["message"]["content"], "Hello from the ");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["completion_tokens"], 3);

    let mut request = hello();
    request["response_format"] = json!({"type": "json_object"});
    let (_, body) = post_json(&url, &request).await;
    let content: Value =
        serde_json::from_str(body["choices"][0]["message"]["content"].as_str().unwrap()).unwrap();
    assert_eq!(
        content,
        json!({"reply": "Hello from the simulator. You said: Say hello to the world"})
    );

    let vision = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    ]}]});
    let (_, body) = post_json(&url, &vision).await;
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Hello from the simulator. You said: What is in this image? I see 1 image."
    );
    assert_eq!(body["usage"]["prompt_tokens"], 3 + 4 + 5 + 85);
}

#[tokio::test]
async fn reasoning_models_report_reasoning_and_cached_tokens() {
    let sim = sim().await;
    let url = format!("{}/chat/completions", sim.openai_base());
    let long_text = vec!["word"; 1200].join(" ");
    let request = json!({"model": "o3-mini", "messages": [{"role": "user", "content": long_text}]});
    let (status, body) = post_json(&url, &request).await;
    assert_eq!(status, 200);
    let usage = &body["usage"];
    // 3 + 4 + 1200 prompt; reply is 6 + 1200 words, reasoning twice that.
    assert_eq!(usage["prompt_tokens"], 1207);
    assert_eq!(usage["prompt_tokens_details"]["cached_tokens"], 1024);
    assert_eq!(
        usage["completion_tokens_details"]["reasoning_tokens"],
        2 * 1206
    );
    assert_eq!(usage["completion_tokens"], 3 * 1206);
    assert_eq!(usage["total_tokens"], 1207 + 3 * 1206);

    let with_max_tokens = json!({"model": "o3-mini", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]});
    let (status, body) = post_json(&url, &with_max_tokens).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "unsupported_parameter");
}

#[tokio::test]
async fn chat_errors_use_openai_shapes() {
    let sim = sim().await;
    let url = format!("{}/chat/completions", sim.openai_base());
    let (status, body) = post_json(
        &url,
        &json!({"model": "nonexistent-model", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": {"message": "The model `nonexistent-model` does not exist or you do not have access to it.",
            "type": "invalid_request_error", "param": null, "code": "model_not_found"}})
    );
    let (status, body) = post_json(
        &url,
        &json!({"model": "sim-missing", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (404, json!("model_not_found"))
    );
    let (status, body) = post_json(&url, &json!({"model": "gpt-4o"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "missing_required_parameter");
    assert_eq!(body["error"]["param"], "messages");
    let (status, body) = post_json(
        &url,
        &json!({"model": "gpt-4o", "messages": [{"role": "wizard", "content": "x"}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "invalid_value");
    let (status, body) = post_json(
        &url,
        &json!({"model": "gpt-4o", "n": "two", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "Invalid type for 'n': expected an integer, but got a string instead."
    );

    let response = reqwest::Client::new()
        .post(&url)
        .bearer_auth("k")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("We could not parse the JSON body")
    );

    let (status, body) = post_json(&format!("{}/nope", sim.openai_base()), &json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["message"], "Invalid URL (POST /v1/nope)");
}

#[tokio::test]
async fn legacy_completions() {
    let sim = sim().await;
    let url = format!("{}/completions", sim.openai_base());
    let (status, body) = post_json(&url, &json!({"model": "gpt-4o-mini", "prompt": "Hi"})).await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        json!({"error": {"message": "This is a chat model and not supported in the v1/completions endpoint. Did you mean to use v1/chat/completions?",
            "type": "invalid_request_error", "param": "model", "code": null}})
    );

    let (status, body) = post_json(&url, &json!({"model": "gpt-3.5-turbo-instruct", "prompt": ["one two", "three"], "n": 2, "max_tokens": 7})).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "text_completion");
    let choices = body["choices"].as_array().unwrap();
    assert_eq!(choices.len(), 4);
    assert_eq!(
        choices[0]["text"],
        "Hello from the simulator. You said: one"
    );
    assert_eq!(choices[0]["finish_reason"], "length");
    assert_eq!(choices[3]["index"], 3);
    assert_eq!(
        choices[3]["text"],
        "Hello from the simulator. You said: three"
    );
    assert_eq!(choices[3]["finish_reason"], "stop");
    assert_eq!(choices[3]["logprobs"], Value::Null);
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 3, "completion_tokens": 28, "total_tokens": 31})
    );

    let request = json!({"model": "davinci-002", "prompt": "yo", "stream": true, "stream_options": {"include_usage": true}});
    let (_, _, text) = post(&url, &request).await;
    let chunks = json_events(&text);
    let last = chunks.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["completion_tokens"], 7);
    let finish = &chunks[chunks.len() - 2]["choices"][0];
    assert_eq!(finish["finish_reason"], "stop");
    let text: String = chunks[..chunks.len() - 2]
        .iter()
        .map(|c| c["choices"][0]["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Hello from the simulator. You said: yo");
}
