//! Cohere through the unified API against the simulator: chat, tools and
//! tool plans, JSON mode, billing on billed units, streams, embeddings,
//! errors and unsupported calls.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use futures_util::StreamExt;
use indoxrouter::types::{
    ChatRequest, CompletionRequest, EmbeddingRequest, FinishReason, ImageRequest, Message,
    ResponseFormat, Tool, ToolChoice,
};
use indoxrouter::{ErrorKind, Usd};
use serde_json::json;

const MODEL: &str = "cohere/command-a-03-2025";

/// command-a-03-2025: $2.50 / 1M input, $10 / 1M output, in pico-dollars per token.
fn command_a_cost(input: u64, output: u64) -> Usd {
    Usd::from_pico(i128::from(input) * 2_500_000 + i128::from(output) * 10_000_000)
}

fn weather_tool() -> Tool {
    Tool::function(
        "get_weather",
        "Current weather for a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

#[tokio::test]
async fn chat_billed_on_billed_units() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let mut req = ChatRequest::new(
        MODEL,
        vec![
            Message::system("You are terse."),
            Message::user("Say hello to the world"),
        ],
    );
    req.top_p = Some(0.5);
    req.extra.insert("top_k".into(), json!(10));
    let resp = client.chat(req).await.unwrap();
    assert_eq!(
        resp.text(),
        Some("Hello from the simulator. You said: Say hello to the world")
    );
    assert_eq!(resp.provider, "cohere");
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::Stop));
    // Billed 19 in / 11 out; the simulator's `tokens` say 29 / 12, which
    // must not be what is charged.
    assert_eq!(resp.usage.prompt_tokens, 19);
    assert_eq!(resp.usage.completion_tokens, 11);
    assert_eq!(resp.cost.unwrap().total, command_a_cost(19, 11));
    let body = &sim.requests()[0].body;
    assert_eq!(body["p"], 0.5);
    assert_eq!(body["k"], 10);
    assert!(body.get("top_p").is_none());
}

#[tokio::test]
async fn tool_call_round_trip_with_tool_plan() {
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
    let assistant = first.choices[0].message.clone();
    assert_eq!(
        assistant.reasoning_content.as_deref(),
        Some("I will use the get_weather tool.")
    );
    let call = first.tool_calls()[0].clone();
    assert!(call.id.starts_with("get_weather_"));
    assert_eq!(call.function.arguments, r#"{"city":"sample"}"#);
    assert_eq!(sim.requests()[0].body["tool_choice"], "REQUIRED");
    // 2 call tokens + 6 plan tokens.
    assert_eq!(first.usage.completion_tokens, 8);

    let second = client
        .chat(
            ChatRequest::new(
                MODEL,
                vec![
                    Message::user("Weather in Paris?"),
                    assistant,
                    Message::tool(call.id.clone(), "sunny, 21C"),
                ],
            )
            .tools(vec![weather_tool()]),
        )
        .await
        .unwrap();
    assert_eq!(second.text(), Some("Tool result received: sunny, 21C"));
    let replayed = &sim.requests()[1].body["messages"][1];
    assert_eq!(replayed["tool_plan"], "I will use the get_weather tool.");
    assert!(replayed.get("reasoning_content").is_none());
}

#[tokio::test]
async fn json_mode() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .chat(
            ChatRequest::new(MODEL, vec![Message::user("Say hello")])
                .response_format(ResponseFormat::JsonObject),
        )
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(resp.text().unwrap()).unwrap();
    assert_eq!(v["reply"], "Hello from the simulator. You said: Say hello");
    assert_eq!(
        sim.requests()[0].body["response_format"],
        json!({"type": "json_object"})
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
    let (a, b) = (&folded.choices[0].message, &whole.choices[0].message);
    assert_eq!(a.content, b.content);
    assert_eq!(a.reasoning_content, b.reasoning_content);
    let shape = |m: &Message| {
        m.tool_calls
            .clone()
            .map(|cs| cs.into_iter().map(|c| c.function).collect::<Vec<_>>())
    };
    assert_eq!(shape(a), shape(b));
    assert_eq!(
        folded.choices[0].finish_reason,
        whole.choices[0].finish_reason
    );
    assert_eq!(folded.usage, whole.usage);
    assert_eq!(folded.cost, whole.cost);
    assert!(folded.cost.is_some());
    assert_eq!(folded.provider, "cohere");
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
async fn broken_streams_are_errors() {
    common::assert_broken_streams("cohere", MODEL, "internal server error").await;
}

#[tokio::test]
async fn embeddings_default_to_search_documents() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .embeddings(EmbeddingRequest::new(
            "cohere/embed-v4.0",
            vec!["hello world", "another text"],
        ))
        .await
        .unwrap();
    assert_eq!(resp.data.len(), 2);
    assert_eq!(resp.data[0].embedding.len(), 1536);
    assert_eq!(resp.usage.prompt_tokens, 4);
    // $0.12 / 1M input tokens.
    assert_eq!(resp.cost.unwrap().total, Usd::from_pico(4 * 120_000));
    assert_eq!(resp.model, "embed-v4.0");
    let body = &sim.requests()[0].body;
    assert_eq!(body["input_type"], "search_document");
    assert_eq!(body["embedding_types"], json!(["float"]));

    let mut req = EmbeddingRequest::new("cohere/embed-v4.0", "a query");
    req.input_type = Some("search_query".into());
    req.dimensions = Some(256);
    let resp = client.embeddings(req).await.unwrap();
    assert_eq!(resp.data[0].embedding.len(), 256);
    assert_eq!(sim.requests()[1].body["input_type"], "search_query");
}

#[tokio::test]
async fn errors_map_to_kinds() {
    common::assert_error_mapping(common::ErrorCases {
        provider: "cohere",
        model: MODEL,
        statuses: &[
            (400, ErrorKind::InvalidRequest),
            (402, ErrorKind::InsufficientQuota),
            (498, ErrorKind::Authentication),
            (500, ErrorKind::ProviderUnavailable),
        ],
        wrong_key: "co-wrong-key-0000",
    })
    .await;
}

#[tokio::test]
async fn completions_through_chat_and_images_unsupported() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .completions(CompletionRequest::new(MODEL, "Say hello"))
        .await
        .unwrap();
    assert_eq!(
        resp.choices[0].text,
        "Hello from the simulator. You said: Say hello"
    );
    assert!(resp.cost.is_some());
    let before = sim.request_count();
    let err = client
        .images(ImageRequest::new(MODEL, "a cat"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("cohere"), "{err}");
    assert_eq!(sim.request_count(), before);
}
