//! Streaming: chunks, usage, cost, folding, and broken streams.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use indoxrouter::ErrorKind;
use indoxrouter::types::{ChatRequest, FinishReason, Message, Tool, ToolChoice};
use indoxrouter_simulator::Fault;
use serde_json::json;

async fn fold_equals_non_streaming(model: &str, req: ChatRequest) {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let whole = client.chat(req.clone()).await.unwrap();
    let folded = client
        .chat_stream(req)
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert_eq!(folded.choices.len(), whole.choices.len(), "{model}");
    for (a, b) in folded.choices.iter().zip(&whole.choices) {
        assert_eq!(a.message.content, b.message.content, "{model}");
        // Call ids are minted per request; everything else must match.
        let calls = |m: &indoxrouter::types::Message| {
            m.tool_calls.clone().map(|cs| {
                cs.into_iter()
                    .map(|c| {
                        assert!(!c.id.is_empty());
                        (c.kind, c.function)
                    })
                    .collect::<Vec<_>>()
            })
        };
        assert_eq!(calls(&a.message), calls(&b.message), "{model}");
        assert_eq!(a.finish_reason, b.finish_reason, "{model}");
    }
    assert_eq!(folded.usage, whole.usage, "{model}");
    assert_eq!(folded.cost, whole.cost, "{model}");
    assert!(folded.cost.is_some(), "{model}");
    assert_eq!(folded.provider, whole.provider);
}

#[tokio::test]
async fn folded_stream_equals_response_openai() {
    fold_equals_non_streaming(
        "openai",
        ChatRequest::new(
            "openai/gpt-4o-mini",
            vec![Message::user("Tell me a short story")],
        ),
    )
    .await;
}

#[tokio::test]
async fn folded_stream_equals_response_mistral() {
    fold_equals_non_streaming(
        "mistral",
        ChatRequest::new(
            "mistral/mistral-small-latest",
            vec![Message::user("Tell me a story")],
        ),
    )
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
        "openai tools",
        ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("find it")])
            .tools(vec![tool])
            .tool_choice(ToolChoice::Function("lookup".into())),
    )
    .await;
}

#[tokio::test]
async fn openai_stream_requests_usage_and_prices_it() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let mut stream = client
        .chat_stream(ChatRequest::new(
            "openai/gpt-4o-mini",
            vec![Message::user("count words please")],
        ))
        .await
        .unwrap();
    let mut text = String::new();
    let mut priced = 0;
    let mut finish = None;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        for c in &chunk.choices {
            text.push_str(c.delta.content.as_deref().unwrap_or(""));
            if c.finish_reason.is_some() {
                finish.clone_from(&c.finish_reason);
            }
        }
        if chunk.usage.is_some() {
            assert!(chunk.cost.is_some());
            priced += 1;
        }
    }
    assert_eq!(priced, 1, "exactly one usage chunk");
    assert!(text.contains("count words please"));
    assert_eq!(finish, Some(FinishReason::Stop));
    assert_eq!(
        sim.requests()[0].body["stream_options"],
        json!({"include_usage": true})
    );
    assert!(sim.requests()[0].body.get("stream_options").is_some());
}

#[tokio::test]
async fn mistral_stream_gets_usage_without_stream_options() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let folded = client
        .chat_stream(ChatRequest::new(
            "mistral/mistral-small-latest",
            vec![Message::user("hi")],
        ))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert!(folded.usage.total_tokens > 0);
    assert!(sim.requests()[0].body.get("stream_options").is_none());
}

#[tokio::test]
async fn cut_stream_is_interrupted_not_silent() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    sim.push_fault("openai", Fault::CutStream { after_chunks: 2 });
    let mut stream = client
        .chat_stream(ChatRequest::new(
            "openai/gpt-4o-mini",
            vec![Message::user("a b c d e f")],
        ))
        .await
        .unwrap();
    let mut got = 0;
    let err = loop {
        match stream.next().await {
            Some(Ok(_)) => got += 1,
            Some(Err(e)) => break e,
            None => panic!("a cut stream must end with an error"),
        }
    };
    assert_eq!(got, 2);
    assert_eq!(err.kind(), ErrorKind::StreamInterrupted);
    assert!(stream.next().await.is_none());
}

#[tokio::test]
async fn stalled_stream_times_out() {
    let sim = common::sim().await;
    let client = common::builder(&sim)
        .stream_idle_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    sim.push_fault("openai", Fault::Stall { after_chunks: 1 });
    let mut stream = client
        .chat_stream(ChatRequest::new(
            "openai/gpt-4o-mini",
            vec![Message::user("hi there")],
        ))
        .await
        .unwrap();
    assert!(stream.next().await.unwrap().is_ok());
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn malformed_stream_chunk_is_a_decode_error() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    sim.push_fault("openai", Fault::MalformedJson);
    let stream = client
        .chat_stream(ChatRequest::new(
            "openai/gpt-4o-mini",
            vec![Message::user("hi")],
        ))
        .await
        .unwrap();
    let err = stream.collect_response().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn dropping_a_stream_closes_the_connection() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    sim.push_fault("openai", Fault::Stall { after_chunks: 1 });
    let mut stream = client
        .chat_stream(ChatRequest::new(
            "openai/gpt-4o-mini",
            vec![Message::user("hi there")],
        ))
        .await
        .unwrap();
    assert!(stream.next().await.unwrap().is_ok());
    drop(stream);
    // The simulator sees the disconnect and ends its stalled stream task.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while sim.open_streams() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "upstream stream still open"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn retry_before_the_stream_starts() {
    let sim = common::sim().await;
    let client = common::builder(&sim)
        .retry_policy(common::fast_retries(2))
        .build()
        .unwrap();
    sim.push_fault(
        "openai",
        Fault::Status {
            status: 503,
            retry_after: None,
            body: None,
        },
    );
    let folded = client
        .chat_stream(ChatRequest::new(
            "openai/gpt-4o-mini",
            vec![Message::user("hi")],
        ))
        .await
        .unwrap()
        .collect_response()
        .await
        .unwrap();
    assert!(folded.usage.total_tokens > 0);
    assert_eq!(sim.request_count(), 2);
}
