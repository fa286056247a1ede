//! The core's hosted mode against a real server: the same typed calls, the
//! server's charges, balance and usage reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use futures_util::StreamExt as _;
use indoxrouter::types::{ChatRequest, CompletionRequest, EmbeddingRequest, ImageRequest, Message};
use indoxrouter::{Client, ErrorKind, Usd};

#[tokio::test]
async fn hosted_client_calls_are_charged_by_the_server() {
    let h = start().await;
    let key = h.user_with_key("sam", "1").await;
    let client = Client::builder().hosted(&h.url, &key).build().unwrap();
    assert!(client.is_hosted());
    let start = client.balance().await.unwrap();
    assert_eq!(start.balance, usd("1"));
    assert_eq!(start.username, "sam");

    let resp = client
        .chat(
            ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hello hosted")])
                .max_tokens(40),
        )
        .await
        .unwrap();
    assert!(resp.text().unwrap().contains("hello hosted"));
    // The provider the server routed to, not the hosted client's own id.
    assert_eq!(resp.provider, "openai");
    let chat_cost = resp.cost.unwrap().total;
    assert!(chat_cost > Usd::ZERO);

    let mut stream = client
        .chat_stream(
            ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hello hosted")])
                .max_tokens(40),
        )
        .await
        .unwrap();
    let mut stream_cost = None;
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        assert_eq!(chunk.provider, "openai");
        if let Some(c) = chunk.choices.first().and_then(|c| c.delta.content.as_ref()) {
            text.push_str(c);
        }
        if chunk.usage.is_some() {
            stream_cost = chunk.cost.map(|c| c.total);
        }
    }
    assert_eq!(text, resp.text().unwrap());
    assert_eq!(stream_cost, Some(chat_cost));

    let emb = client
        .embeddings(EmbeddingRequest::new(
            "openai/text-embedding-3-small",
            vec!["a", "b"],
        ))
        .await
        .unwrap();
    assert_eq!(emb.data.len(), 2);
    let emb_cost = emb.cost.unwrap().total;

    let img = client
        .images(ImageRequest::new("openai/dall-e-2", "a cat").size("256x256"))
        .await
        .unwrap();
    let img_cost = img.cost.unwrap().total;
    assert_eq!(img_cost, usd("0.016"));

    let comp = client
        .completions(CompletionRequest::new("openai/gpt-4o-mini", "once upon"))
        .await
        .unwrap();
    let comp_cost = comp.cost.unwrap().total;

    let end = client.balance().await.unwrap();
    assert_eq!(
        start.balance - end.balance,
        chat_cost + chat_cost + emb_cost + img_cost + comp_cost
    );
    let page = client.usage(3, None).await.unwrap();
    assert_eq!(page.data.len(), 3);
    assert_eq!(page.data[0].endpoint, "completions");
    let rest = client.usage(10, page.next_cursor.as_deref()).await.unwrap();
    assert_eq!(rest.data.len(), 2);
    assert!(rest.next_cursor.is_none());
}

#[tokio::test]
async fn hosted_errors_keep_their_kinds() {
    let h = start().await;
    let key = h.user_with_key("tess", "0").await;
    let client = Client::builder()
        .hosted(format!("{}/v1", h.url), &key)
        .build()
        .unwrap();
    let err = client
        .chat(ChatRequest::new(
            "openai/gpt-4o-mini",
            vec![Message::user("hi")],
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InsufficientQuota, "{err}");
    assert!(err.to_string().contains("insufficient_credits"));
    let err = client
        .chat(ChatRequest::new(
            "openai/gpt-definitely-missing",
            vec![Message::user("hi")],
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::ModelNotFound | ErrorKind::Permission),
        "{err}"
    );

    let bad = Client::builder()
        .hosted(&h.url, "ixr-not-a-real-key")
        .build()
        .unwrap();
    let err = bad.balance().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    assert!(!err.to_string().contains("ixr-not-a-real-key"));

    let direct = client_for(&h.sim);
    assert_eq!(
        direct.balance().await.unwrap_err().kind(),
        ErrorKind::Unsupported
    );
}

#[tokio::test]
async fn hosted_login_with_username_and_password() {
    let h = start().await;
    h.user_with_key("uma", "1").await;
    let client = Client::builder()
        .hosted_login(&h.url, "uma", "password-123")
        .await
        .unwrap();
    assert_eq!(client.balance().await.unwrap().balance, usd("1"));
    let err = Client::builder()
        .hosted_login(&h.url, "uma", "wrong-password")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
}
