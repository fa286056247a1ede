//! Embeddings and image generation, with their prices.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use indoxrouter::Usd;
use indoxrouter::types::{EmbeddingRequest, ImageRequest};

#[tokio::test]
async fn openai_embeddings_decode_base64_and_are_priced() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let mut req = EmbeddingRequest::new(
        "openai/text-embedding-3-small",
        vec!["first text", "second text here"],
    );
    req.dimensions = Some(256);
    let resp = client.embeddings(req).await.unwrap();
    assert_eq!(resp.data.len(), 2);
    assert_eq!(resp.data[1].index, 1);
    assert_eq!(resp.data[0].embedding.len(), 256);
    let norm: f32 = resp.data[0].embedding.iter().map(|x| x * x).sum();
    assert!((norm - 1.0).abs() < 1e-3, "unit vector, got {norm}");
    assert_eq!(sim.requests()[0].body["encoding_format"], "base64");
    // $0.02 / 1M tokens = 20_000 pico-dollars per token.
    assert_eq!(
        resp.cost.unwrap().total,
        Usd::from_pico(i128::from(resp.usage.prompt_tokens) * 20_000)
    );
}

#[tokio::test]
async fn mistral_embeddings() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .embeddings(EmbeddingRequest::new("mistral/mistral-embed", "hello"))
        .await
        .unwrap();
    assert_eq!(resp.data[0].embedding.len(), 1024);
    assert_eq!(resp.provider, "mistral");
    assert!(resp.cost.is_some());
}

#[tokio::test]
async fn dall_e_priced_per_image_by_size_and_quality() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .images(
            ImageRequest::new("openai/dall-e-3", "a lighthouse")
                .size("1024x1792")
                .quality("hd")
                .response_format("url"),
        )
        .await
        .unwrap();
    assert!(
        resp.data[0]
            .url
            .as_deref()
            .unwrap()
            .starts_with("http://127.0.0.1")
    );
    assert_eq!(resp.cost.unwrap().total, Usd::parse("0.12").unwrap());

    let mut req = ImageRequest::new("openai/dall-e-2", "a cat")
        .size("256x256")
        .response_format("b64_json");
    req.n = Some(3);
    let resp = client.images(req).await.unwrap();
    assert_eq!(resp.data.len(), 3);
    assert!(resp.data[0].b64_json.is_some());
    assert_eq!(resp.cost.unwrap().total, Usd::parse("0.048").unwrap());
}

#[tokio::test]
async fn gpt_image_priced_by_reported_tokens() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .images(
            ImageRequest::new("openai/gpt-image-1", "a red fox")
                .size("1024x1024")
                .quality("low"),
        )
        .await
        .unwrap();
    assert!(resp.data[0].b64_json.is_some());
    let usage = resp.usage.unwrap();
    assert_eq!(usage.image_output_tokens(), 272);
    assert!(sim.requests()[0].body.get("response_format").is_none());
    // Text input $5/1M, image output $40/1M (reference price map for gpt-image-1).
    let expected = i128::from(usage.prompt_tokens - usage.image_input_tokens()) * 5_000_000
        + i128::from(usage.image_input_tokens()) * 10_000_000
        + 272 * 40_000_000;
    assert_eq!(resp.cost.unwrap().total, Usd::from_pico(expected));
}
