//! OpenAI embeddings, images and models.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::common::{client, get_json, post_json, sim};

fn decode_f32s(b64: &str) -> Vec<f32> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn norm(v: &[f32]) -> f64 {
    v.iter()
        .map(|x| f64::from(*x) * f64::from(*x))
        .sum::<f64>()
        .sqrt()
}

#[tokio::test]
async fn embeddings_float_and_base64_agree() {
    let sim = sim().await;
    let url = format!("{}/embeddings", sim.openai_base());
    let (status, floats) = post_json(
        &url,
        &json!({"model": "text-embedding-3-small", "input": ["hello world", "bye"]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(floats["object"], "list");
    assert_eq!(floats["model"], "text-embedding-3-small");
    assert_eq!(
        floats["usage"],
        json!({"prompt_tokens": 3, "total_tokens": 3})
    );
    let first: Vec<f32> = floats["data"][0]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(first.len(), 1536);
    assert!((norm(&first) - 1.0).abs() < 1e-4);
    assert_eq!(floats["data"][1]["index"], 1);
    assert_eq!(floats["data"][1]["object"], "embedding");

    let (_, b64) = post_json(&url, &json!({"model": "text-embedding-3-small", "input": "hello world", "encoding_format": "base64"})).await;
    let decoded = decode_f32s(b64["data"][0]["embedding"].as_str().unwrap());
    assert_eq!(decoded, first);
}

#[tokio::test]
async fn embedding_dimensions_and_models() {
    let sim = sim().await;
    let url = format!("{}/embeddings", sim.openai_base());
    let (_, large) = post_json(
        &url,
        &json!({"model": "text-embedding-3-large", "input": "x"}),
    )
    .await;
    assert_eq!(
        large["data"][0]["embedding"].as_array().unwrap().len(),
        3072
    );
    let (_, short) = post_json(
        &url,
        &json!({"model": "text-embedding-3-large", "input": "x", "dimensions": 256}),
    )
    .await;
    assert_eq!(short["data"][0]["embedding"].as_array().unwrap().len(), 256);
    let (_, tokens) = post_json(
        &url,
        &json!({"model": "text-embedding-ada-002", "input": [[1, 2, 3], [4]]}),
    )
    .await;
    assert_eq!(tokens["usage"]["prompt_tokens"], 4);

    let (status, body) = post_json(
        &url,
        &json!({"model": "text-embedding-ada-002", "input": "x", "dimensions": 8}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "This model does not support specifying dimensions."
    );
    let (status, _) = post_json(
        &url,
        &json!({"model": "text-embedding-3-small", "input": ""}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = post_json(&url, &json!({"model": "gpt-4o", "input": "x"})).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn dall_e_2_urls_point_back_at_the_simulator() {
    let sim = sim().await;
    let url = format!("{}/images/generations", sim.openai_base());
    let (status, body) = post_json(
        &url,
        &json!({"model": "dall-e-2", "prompt": "a cat", "n": 2, "size": "256x256"}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["created"].is_u64());
    assert!(body.get("usage").is_none());
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    let image_url = data[0]["url"].as_str().unwrap();
    assert!(image_url.starts_with(&format!("{}/__sim/images/", sim.root_url())));
    let response = client().get(image_url).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "image/png");
    let png = response.bytes().await.unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    // Fetching the image is not a provider request.
    assert_eq!(sim.request_count(), 1);

    let (status, body) = post_json(
        &url,
        &json!({"model": "dall-e-2", "prompt": "a cat", "size": "1792x1024"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"],
        json!({"message": "Invalid value: '1792x1024'. Supported values are: '256x256', '512x512', and '1024x1024'.",
            "type": "invalid_request_error", "param": "size", "code": "invalid_value"})
    );
}

#[tokio::test]
async fn dall_e_3_rules() {
    let sim = sim().await;
    let url = format!("{}/images/generations", sim.openai_base());
    let (status, body) = post_json(&url, &json!({"model": "dall-e-3", "prompt": "a dog", "quality": "hd", "size": "1024x1792", "response_format": "b64_json"})).await;
    assert_eq!(status, 200);
    let image = &body["data"][0];
    assert_eq!(image["revised_prompt"], "A simulated image of: a dog");
    let png = base64::engine::general_purpose::STANDARD
        .decode(image["b64_json"].as_str().unwrap())
        .unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    let (status, _) = post_json(
        &url,
        &json!({"model": "dall-e-3", "prompt": "a dog", "n": 2}),
    )
    .await;
    assert_eq!(status, 400);
    let (status, body) = post_json(
        &url,
        &json!({"model": "dall-e-3", "prompt": "a dog", "quality": "ultra"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "quality");
}

#[tokio::test]
async fn gpt_image_usage_follows_the_table() {
    let sim = sim().await;
    let url = format!("{}/images/generations", sim.openai_base());
    let cases = [
        ("gpt-image-1", json!({}), "1024x1024", "medium", 1056),
        (
            "gpt-image-1",
            json!({"size": "1024x1024", "quality": "low"}),
            "1024x1024",
            "low",
            272,
        ),
        (
            "gpt-image-1-mini",
            json!({"size": "1024x1536", "quality": "high"}),
            "1024x1536",
            "high",
            6240,
        ),
        (
            "gpt-image-1.5",
            json!({"size": "1536x1024", "quality": "medium", "n": 2}),
            "1536x1024",
            "medium",
            2 * 1568,
        ),
    ];
    for (model, extra, size, quality, output_tokens) in cases {
        let mut request = json!({"model": model, "prompt": "three word prompt"});
        for (k, v) in extra.as_object().unwrap() {
            request[k] = v.clone();
        }
        let (status, body) = post_json(&url, &request).await;
        assert_eq!(status, 200, "{model}: {body}");
        assert_eq!(body["size"], size);
        assert_eq!(body["quality"], quality);
        assert_eq!(body["output_format"], "png");
        assert!(body["data"][0]["b64_json"].is_string());
        assert!(body["data"][0].get("url").is_none());
        assert_eq!(
            body["usage"],
            json!({"input_tokens": 3, "output_tokens": output_tokens, "total_tokens": 3 + output_tokens,
                "input_tokens_details": {"text_tokens": 3, "image_tokens": 0}})
        );
    }
    let (status, body) = post_json(
        &url,
        &json!({"model": "gpt-image-1", "prompt": "x", "response_format": "url"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "unknown_parameter");
    let (status, _) = post_json(
        &url,
        &json!({"model": "gpt-image-1", "prompt": "x", "size": "256x256"}),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn models_list_and_retrieve() {
    let sim = sim().await;
    let (status, body) = get_json(&format!("{}/models", sim.openai_base())).await;
    assert_eq!(status, 200);
    assert_eq!(body["object"], "list");
    let ids: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"gpt-4o-mini") && ids.contains(&"text-embedding-3-small"));
    assert_eq!(body["data"][0]["object"], "model");
    assert!(body["data"][0]["created"].is_u64());
    assert!(body["data"][0]["owned_by"].is_string());
    let (status, body) = get_json(&format!("{}/models/gpt-4o", sim.openai_base())).await;
    assert_eq!((status, body["id"].clone()), (200, Value::from("gpt-4o")));
    let (status, _) = get_json(&format!("{}/models/sim-missing", sim.openai_base())).await;
    assert_eq!(status, 404);
}
