//! Gemini through the unified API against the simulator: chat, tools,
//! vision, JSON mode, thinking and cache pricing, streams, embeddings,
//! Imagen, errors and unsupported calls.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use futures_util::StreamExt;
use indoxrouter::types::{
    ChatRequest, CompletionRequest, ContentPart, EmbeddingRequest, FinishReason, ImageRequest,
    Message, ResponseFormat, Tool, ToolChoice,
};
use indoxrouter::{ErrorKind, Usd};
use serde_json::json;

const MODEL: &str = "google/gemini-2.5-flash";

/// gemini-2.5-flash per 1M tokens: input $0.30, cached $0.03, output and
/// thinking $2.50 — in pico-dollars per token.
fn flash_cost(input: u64, cached: u64, output: u64) -> Usd {
    Usd::from_pico(
        i128::from(input) * 300_000 + i128::from(cached) * 30_000 + i128::from(output) * 2_500_000,
    )
}

fn weather_tool() -> Tool {
    Tool::function(
        "get_weather",
        "Current weather for a city",
        // additionalProperties would be a 400 from Gemini: the adapter drops it.
        json!({"type": "object", "additionalProperties": false,
               "properties": {"city": {"type": "string"}, "unit": {"type": ["string", "null"]}},
               "required": ["city"]}),
    )
}

#[tokio::test]
async fn chat_reply_usage_cost_and_wire() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .chat(
            ChatRequest::new(
                MODEL,
                vec![
                    Message::system("You are terse."),
                    Message::user("Say hello to the world"),
                ],
            )
            .temperature(0.3),
        )
        .await
        .unwrap();
    assert_eq!(
        resp.text(),
        Some("Hello from the simulator. You said: Say hello to the world")
    );
    assert_eq!(resp.provider, "google");
    assert_eq!(resp.model, "gemini-2.5-flash");
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::Stop));
    // prompt: 3 + system (4 + 3) + user (4 + 5) = 19; 11 words.
    assert_eq!(resp.usage.prompt_tokens, 19);
    assert_eq!(resp.usage.completion_tokens, 11);
    assert_eq!(resp.cost.unwrap().total, flash_cost(19, 0, 11));
    let req = &sim.requests()[0];
    assert_eq!(
        req.path,
        "/google/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert!(!req.headers["x-goog-api-key"].contains(common::KEY));
    assert_eq!(
        req.body["systemInstruction"],
        json!({"parts": [{"text": "You are terse."}]})
    );
    assert_eq!(req.body["generationConfig"]["temperature"], 0.3);
}

#[tokio::test]
async fn tool_call_round_trip_with_synthesized_ids() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let first = client
        .chat(
            ChatRequest::new(MODEL, vec![Message::user("Weather in Paris?")])
                .tools(vec![weather_tool()])
                .tool_choice(ToolChoice::Required),
        )
        .await
        .unwrap();
    assert_eq!(
        first.choices[0].finish_reason,
        Some(FinishReason::ToolCalls)
    );
    let call = first.tool_calls()[0].clone();
    assert!(call.id.starts_with("call_"), "{}", call.id);
    assert_eq!(call.function.arguments, r#"{"city":"sample"}"#);
    let body = &sim.requests()[0].body;
    assert_eq!(body["toolConfig"]["functionCallingConfig"]["mode"], "ANY");
    assert_eq!(
        body["tools"][0]["functionDeclarations"][0]["parameters"]["properties"]["unit"],
        json!({"type": "string", "nullable": true})
    );

    let second = client
        .chat(
            ChatRequest::new(
                MODEL,
                vec![
                    Message::user("Weather in Paris?"),
                    Message::assistant_tool_calls(vec![call.clone()]),
                    Message::tool(call.id.clone(), "sunny, 21C"),
                ],
            )
            .tools(vec![weather_tool()]),
        )
        .await
        .unwrap();
    assert_eq!(second.text(), Some("Tool result received: sunny, 21C"));
    let body = &sim.requests()[1].body;
    assert_eq!(
        body["contents"][2]["parts"][0]["functionResponse"],
        json!({"name": "get_weather", "response": {"content": "sunny, 21C"}})
    );
}

#[tokio::test]
async fn vision_json_mode_and_several_candidates() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .chat(ChatRequest::new(
            MODEL,
            vec![Message::user_parts(vec![
                ContentPart::text("What is this?"),
                ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
            ])],
        ))
        .await
        .unwrap();
    assert_eq!(
        resp.text(),
        Some("Hello from the simulator. You said: What is this? I see 1 image.")
    );
    let mut req = ChatRequest::new(MODEL, vec![Message::user("Say hello")])
        .response_format(ResponseFormat::JsonObject);
    req.n = Some(2);
    let resp = client.chat(req).await.unwrap();
    assert_eq!(resp.choices.len(), 2);
    let parsed: serde_json::Value = serde_json::from_str(resp.text().unwrap()).unwrap();
    assert_eq!(
        parsed["reply"],
        "Hello from the simulator. You said: Say hello"
    );
    assert_eq!(
        sim.requests()[1].body["generationConfig"],
        json!({"candidateCount": 2, "responseMimeType": "application/json"})
    );
}

#[tokio::test]
async fn thinking_and_cached_tokens_are_priced_at_their_rates() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let mut req = ChatRequest::new(MODEL, vec![Message::user("Say hello")]);
    req.extra.insert(
        "thinking_config".into(),
        json!({"thinkingBudget": 512, "includeThoughts": true}),
    );
    req.extra
        .insert("cachedContent".into(), json!("cachedContents/abc"));
    let resp = client.chat(req.clone()).await.unwrap();
    assert_eq!(
        resp.choices[0].message.reasoning_content.as_deref(),
        Some("Let me think about that.")
    );
    // prompt: 3 + user (4 + 2) = 9, of which ⌊9/2⌋ = 4 cached; output 8
    // visible + 5 thinking words.
    let u = resp.usage;
    assert_eq!(u.prompt_tokens, 9);
    assert_eq!(u.cached_tokens(), 4);
    assert_eq!(u.completion_tokens, 13);
    assert_eq!(u.reasoning_tokens(), 5);
    assert_eq!(resp.cost.unwrap().total, flash_cost(5, 4, 13));
    let folded = client
        .chat_stream(req)
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(folded.usage, resp.usage);
    assert_eq!(folded.cost, resp.cost);
    assert_eq!(
        folded.choices[0].message.reasoning_content,
        resp.choices[0].message.reasoning_content
    );
}

async fn fold_equals_non_streaming(req: ChatRequest) {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let whole = client.chat(req.clone()).await.unwrap();
    let mut stream = client.chat_stream(req).await.unwrap();
    let mut acc = indoxrouter::ChunkAccumulator::new();
    let mut priced = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        priced += usize::from(chunk.cost.is_some());
        acc.push(&chunk);
    }
    assert_eq!(priced, 1, "exactly one chunk carries usage and its cost");
    let folded = acc.finish();
    assert_eq!(folded.choices.len(), whole.choices.len());
    for (a, b) in folded.choices.iter().zip(&whole.choices) {
        assert_eq!(a.message.content, b.message.content);
        // Ids are derived from the response id, which differs per call.
        let shape = |m: &Message| {
            m.tool_calls
                .clone()
                .map(|cs| cs.into_iter().map(|c| c.function).collect::<Vec<_>>())
        };
        assert_eq!(shape(&a.message), shape(&b.message));
        assert_eq!(a.finish_reason, b.finish_reason);
    }
    assert_eq!(folded.usage, whole.usage);
    assert_eq!(folded.cost, whole.cost);
    assert!(folded.cost.is_some());
    assert_eq!(folded.provider, "google");
    assert_eq!(
        sim.requests()[1].path,
        "/google/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
}

#[tokio::test]
async fn folded_stream_equals_response() {
    fold_equals_non_streaming(ChatRequest::new(
        MODEL,
        vec![Message::user("Tell me a short story")],
    ))
    .await;
}

#[tokio::test]
async fn folded_stream_equals_response_with_tool_calls() {
    fold_equals_non_streaming(
        ChatRequest::new(MODEL, vec![Message::user("Weather?")]).tools(vec![weather_tool()]),
    )
    .await;
}

#[tokio::test]
async fn folded_stream_equals_response_with_two_candidates() {
    let mut req = ChatRequest::new(MODEL, vec![Message::user("Say hi")]);
    req.n = Some(2);
    fold_equals_non_streaming(req).await;
}

#[tokio::test]
async fn broken_streams_are_errors() {
    // Gemini has no end marker: a body cut before the finish reason must not
    // pass for a complete answer.
    common::assert_broken_streams("google", MODEL, "overloaded").await;
}

#[tokio::test]
async fn embeddings_with_task_type_and_dimensions() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let mut req = EmbeddingRequest::new(
        "google/gemini-embedding-001",
        vec!["hello world", "another text"],
    );
    req.input_type = Some("search_query".into());
    req.dimensions = Some(256);
    let resp = client.embeddings(req).await.unwrap();
    assert_eq!(resp.data.len(), 2);
    assert_eq!(resp.data[1].index, 1);
    assert_eq!(resp.data[0].embedding.len(), 256);
    assert_eq!(resp.model, "gemini-embedding-001");
    assert_eq!(resp.usage.prompt_tokens, 4);
    // $0.15 / 1M input tokens.
    assert_eq!(resp.cost.unwrap().total, Usd::from_pico(4 * 150_000));
    let body = &sim.requests()[0].body;
    assert_eq!(body["requests"][0]["taskType"], "RETRIEVAL_QUERY");
    assert!(
        sim.requests()[0]
            .path
            .ends_with("gemini-embedding-001:batchEmbedContents")
    );
}

#[tokio::test]
async fn imagen_images_priced_per_image() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let mut req =
        ImageRequest::new("google/imagen-3.0-generate-001", "a red bicycle").size("1792x1024");
    req.n = Some(2);
    let resp = client.images(req).await.unwrap();
    assert_eq!(resp.data.len(), 2);
    assert!(
        resp.data[0]
            .b64_json
            .as_deref()
            .unwrap()
            .starts_with("iVBOR")
    );
    // $0.04 per image.
    assert_eq!(resp.cost.unwrap().total, Usd::from_pico(2 * 40_000_000_000));
    assert_eq!(
        sim.requests()[0].body["parameters"],
        json!({"sampleCount": 2, "aspectRatio": "16:9"})
    );
}

#[tokio::test]
async fn errors_map_to_kinds() {
    common::assert_error_mapping(common::ErrorCases {
        provider: "google",
        model: MODEL,
        statuses: &[
            (400, ErrorKind::InvalidRequest),
            (403, ErrorKind::Permission),
            (500, ErrorKind::ProviderUnavailable),
            (503, ErrorKind::ProviderUnavailable),
        ],
        wrong_key: "AIza-wrong-key-0000",
    })
    .await;
}

#[tokio::test]
async fn completions_through_chat_and_unsupported_images() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .completions(CompletionRequest::new(
            "gemini/gemini-2.5-flash",
            "Say hello",
        ))
        .await
        .unwrap();
    assert_eq!(
        resp.choices[0].text,
        "Hello from the simulator. You said: Say hello"
    );
    assert!(resp.cost.is_some());
    let before = sim.request_count();
    let err = client
        .images(ImageRequest::new("google/gemini-2.5-flash-image", "a cat"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert_eq!(sim.request_count(), before);
}
