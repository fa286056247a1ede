//! Anthropic through the unified API against the simulator: chat, tools,
//! vision, thinking, cache pricing, streams, errors and unsupported calls.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use futures_util::StreamExt;
use indoxrouter::types::{
    ChatRequest, CompletionRequest, ContentPart, EmbeddingRequest, FinishReason, ImageRequest,
    Message, Tool, ToolChoice,
};
use indoxrouter::{ErrorKind, Usd};
use indoxrouter_simulator::Fault;
use serde_json::json;

const MODEL: &str = "anthropic/claude-haiku-4-5";

/// claude-haiku-4-5 per 1M tokens: input $1, cache read $0.10, cache write
/// $1.25, output $5 — in pico-dollars per token.
fn haiku_cost(input: u64, read: u64, written: u64, output: u64) -> Usd {
    Usd::from_pico(
        i128::from(input) * 1_000_000
            + i128::from(read) * 100_000
            + i128::from(written) * 1_250_000
            + i128::from(output) * 5_000_000,
    )
}

fn weather_tool() -> Tool {
    Tool::function(
        "get_weather",
        "Current weather for a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

#[tokio::test]
async fn chat_reply_usage_cost_and_wire() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .chat(ChatRequest::new(
            MODEL,
            vec![
                Message::system("You are terse."),
                Message::user("Say hello"),
                Message::user("to the world"),
            ],
        ))
        .await
        .unwrap();
    // Consecutive user turns were merged into one: the simulator's reply
    // quotes the last user turn's text, which is now both pieces.
    assert_eq!(
        resp.text(),
        Some("Hello from the simulator. You said: Say hello to the world")
    );
    assert_eq!(resp.provider, "anthropic");
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::Stop));
    // prompt: 3 + system (4 + 3) + user (4 + 2 + 3) = 19; output 11.
    assert_eq!(resp.usage.prompt_tokens, 19);
    assert_eq!(resp.usage.completion_tokens, 11);
    assert_eq!(resp.usage.total_tokens, 30);
    assert_eq!(resp.cost.unwrap().total, haiku_cost(19, 0, 0, 11));

    let req = &sim.requests()[0];
    assert_eq!(req.path, "/anthropic/v1/messages");
    assert_eq!(req.headers["anthropic-version"], "2023-06-01");
    assert!(!req.headers["x-api-key"].contains(common::KEY));
    assert!(!req.headers.contains_key("authorization"));
    // No max_tokens in the request: the catalog's max output for the model.
    assert_eq!(req.body["max_tokens"], 64000);
    assert_eq!(req.body["system"], "You are terse.");
    assert_eq!(req.body["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn tool_call_round_trip() {
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
    assert!(call.id.starts_with("toolu_"), "{}", call.id);
    assert_eq!(call.function.name, "get_weather");
    assert_eq!(call.function.arguments, r#"{"city":"sample"}"#);
    assert_eq!(first.choices[0].message.content, None);
    assert_eq!(
        sim.requests()[0].body["tool_choice"],
        json!({"type": "any"})
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
    assert_eq!(body["messages"][1]["content"][0]["type"], "tool_use");
    assert_eq!(body["messages"][2]["content"][0]["tool_use_id"], call.id);
}

#[tokio::test]
async fn vision_with_a_base64_image() {
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
    let block = &sim.requests()[0].body["messages"][0]["content"][1];
    assert_eq!(block["source"]["type"], "base64");
    assert_eq!(block["source"]["media_type"], "image/png");
}

#[tokio::test]
async fn cache_reads_and_writes_are_priced_separately() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let cached_block = ContentPart::Other(json!({
        "type": "text",
        "text": "A long shared document",
        "cache_control": {"type": "ephemeral"}
    }));
    let resp = client
        .chat(ChatRequest::new(
            MODEL,
            vec![Message::user_parts(vec![
                cached_block,
                ContentPart::text("Summarise it"),
            ])],
        ))
        .await
        .unwrap();
    // prompt: 3 + user (4 + 4 + 2) = 13 → read 6, written 3, plain 4.
    let u = resp.usage;
    assert_eq!(u.prompt_tokens, 13);
    assert_eq!(u.cached_tokens(), 6);
    assert_eq!(u.cache_creation_tokens(), 3);
    // Reply: "Hello from the simulator. You said: A long shared document Summarise it" = 12 words.
    assert_eq!(u.completion_tokens, 12);
    let cost = resp.cost.unwrap();
    assert_eq!(cost.cached_input, Usd::from_pico(6 * 100_000));
    assert_eq!(cost.cache_creation, Usd::from_pico(3 * 1_250_000));
    assert_eq!(cost.total, haiku_cost(4, 6, 3, 12));
}

#[tokio::test]
async fn thinking_is_reasoning_content_billed_as_output() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let mut req = ChatRequest::new(MODEL, vec![Message::user("Say hello")]).max_tokens(2000);
    req.extra.insert(
        "thinking".into(),
        json!({"type": "enabled", "budget_tokens": 1024}),
    );
    let whole = client.chat(req.clone()).await.unwrap();
    let m = &whole.choices[0].message;
    assert_eq!(
        m.reasoning_content.as_deref(),
        Some("Let me think about that.")
    );
    assert_eq!(
        whole.text(),
        Some("Hello from the simulator. You said: Say hello")
    );
    // 8 reply words + 5 thinking words, all at the output price.
    assert_eq!(whole.usage.completion_tokens, 13);
    assert_eq!(
        whole.cost.unwrap().total,
        haiku_cost(whole.usage.prompt_tokens, 0, 0, 13)
    );
    let folded = client
        .chat_stream(req)
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(
        folded.choices[0].message.reasoning_content,
        m.reasoning_content
    );
    assert_eq!(folded.text(), whole.text());
    assert_eq!(folded.usage, whole.usage);
    assert_eq!(folded.cost, whole.cost);
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
        if chunk.cost.is_some() {
            priced += 1;
        }
        acc.push(&chunk);
    }
    assert_eq!(priced, 1, "exactly one chunk carries usage and its cost");
    let folded = acc.finish();
    assert_eq!(folded.choices.len(), 1);
    let (a, b) = (&folded.choices[0].message, &whole.choices[0].message);
    assert_eq!(a.content, b.content);
    let shape = |m: &Message| {
        m.tool_calls.clone().map(|cs| {
            cs.into_iter()
                .map(|c| (c.kind, c.function))
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(shape(a), shape(b));
    assert_eq!(
        folded.choices[0].finish_reason,
        whole.choices[0].finish_reason
    );
    assert_eq!(folded.usage, whole.usage);
    assert_eq!(folded.cost, whole.cost);
    assert!(folded.cost.is_some());
    assert_eq!(folded.provider, "anthropic");
    assert!(folded.id.starts_with("msg_"));
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
    let tool = Tool::function(
        "lookup",
        "Look something up",
        json!({"type": "object", "properties": {"q": {"type": "string"}, "n": {"type": "integer"}}, "required": ["q", "n"]}),
    );
    fold_equals_non_streaming(
        ChatRequest::new(MODEL, vec![Message::user("Find it")]).tools(vec![tool]),
    )
    .await;
}

#[tokio::test]
async fn stop_sequences_and_max_tokens() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let mut req = ChatRequest::new(MODEL, vec![Message::user("Say hello")]);
    req.stop = Some(indoxrouter::types::Stop::One("simulator".into()));
    let resp = client.chat(req).await.unwrap();
    assert_eq!(resp.text(), Some("Hello from the "));
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::Stop));
    assert_eq!(
        sim.requests()[0].body["stop_sequences"],
        json!(["simulator"])
    );
    let resp = client
        .chat(ChatRequest::new(MODEL, vec![Message::user("Say hello")]).max_tokens(2))
        .await
        .unwrap();
    assert_eq!(resp.text(), Some("Hello from"));
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::Length));
}

#[tokio::test]
async fn error_event_after_200_is_a_stream_error() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    sim.push_fault("anthropic", Fault::StreamError { after_chunks: 4 });
    let mut stream = client
        .chat_stream(ChatRequest::new(MODEL, vec![Message::user("Say hello")]))
        .await
        .unwrap();
    let mut text = String::new();
    let err = loop {
        match stream.next().await {
            Some(Ok(c)) => text.push_str(c.choices[0].delta.content.as_deref().unwrap_or("")),
            Some(Err(e)) => break e,
            None => panic!("the stream ended without reporting the error"),
        }
    };
    assert_eq!(err.kind(), ErrorKind::StreamInterrupted);
    assert!(err.to_string().contains("Overloaded"), "{err}");
    assert_eq!(text, "Hello");
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn cut_stream_is_interrupted() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    sim.push_fault("anthropic", Fault::CutStream { after_chunks: 5 });
    let err = client
        .chat_stream(ChatRequest::new(MODEL, vec![Message::user("Say hello")]))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StreamInterrupted);
}

#[tokio::test]
async fn error_statuses_map_to_kinds() {
    common::assert_error_mapping(common::ErrorCases {
        provider: "anthropic",
        model: MODEL,
        statuses: &[
            (400, ErrorKind::InvalidRequest),
            (401, ErrorKind::Authentication),
            (403, ErrorKind::Permission),
            (404, ErrorKind::NotFound),
            (500, ErrorKind::ProviderUnavailable),
            (529, ErrorKind::ProviderUnavailable),
        ],
        wrong_key: "sk-ant-wrong-key-000",
    })
    .await;
}

#[tokio::test]
async fn overloaded_529_is_retried() {
    let sim = common::sim().await;
    let client = common::builder(&sim)
        .retry_policy(common::fast_retries(2))
        .build()
        .unwrap();
    sim.push_fault("anthropic", Fault::status(529));
    let resp = client.chat(common::hi(MODEL)).await.unwrap();
    assert!(resp.text().is_some());
    assert_eq!(sim.request_count(), 2);
}

#[tokio::test]
async fn completions_go_through_chat() {
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
    assert_eq!(resp.object, "text_completion");
    assert!(resp.cost.is_some());
    assert_eq!(sim.requests()[0].path, "/anthropic/v1/messages");
}

#[tokio::test]
async fn embeddings_and_images_are_unsupported_without_a_request() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let err = client
        .embeddings(EmbeddingRequest::new(MODEL, "hello"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert!(err.to_string().contains("anthropic"), "{err}");
    assert!(err.to_string().contains("embeddings"), "{err}");
    let err = client
        .images(ImageRequest::new(MODEL, "a cat"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported);
    assert_eq!(sim.request_count(), 0);
}

#[tokio::test]
async fn falls_back_from_anthropic_to_openai() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    sim.push_fault("anthropic", Fault::status(529));
    let resp = client
        .chat(common::hi(MODEL).fallbacks(["openai/gpt-4o-mini"]))
        .await
        .unwrap();
    assert_eq!(resp.provider, "openai");
}
