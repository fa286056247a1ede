//! Both API surfaces: the classic API's envelope, OpenAI's shapes, models, health
//! and errors with the right status and code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn classic_chat_answers_in_the_classic_envelope() {
    let h = start().await;
    let key = h.user_with_key("nina", "1").await;
    let r = h
        .post(
            "/api/v1/chat/completions",
            &key,
            json!({"provider": "openai", "model": "gpt-4o-mini",
                   "messages": [{"role": "user", "content": "hello classic"}],
                   "additional_params": {"seed": 1}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["success"], true);
    assert_eq!(v["provider"], "openai");
    assert!(
        v["model"]
            .as_str()
            .unwrap()
            .starts_with("openai/gpt-4o-mini")
    );
    assert!(v["data"].as_str().unwrap().contains("hello classic"));
    assert_eq!(v["finish_reason"], "stop");
    for field in ["request_id", "created_at", "duration_ms", "message"] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    let u = &v["usage"];
    assert_eq!(
        u["tokens_total"].as_u64().unwrap(),
        u["tokens_prompt"].as_u64().unwrap() + u["tokens_completion"].as_u64().unwrap()
    );
    let cost = usd(u["cost"].as_str().unwrap());
    assert_eq!(usd("1") - usd(&h.balance(&key).await), cost);
    assert!(u["latency"].as_f64().is_some());
    assert!(u["timestamp"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn classic_embeddings_completions_and_images() {
    let h = start().await;
    let key = h.user_with_key("omar", "5").await;
    let r = h
        .post(
            "/api/v1/embeddings",
            &key,
            json!({"provider": "openai", "model": "text-embedding-3-small", "text": ["a b", "c"]}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(
        v["dimensions"].as_u64().unwrap() as usize,
        data[0].as_array().unwrap().len()
    );

    let r = h
        .post(
            "/api/v1/completions",
            &key,
            json!({"model": "openai/gpt-4o-mini", "prompt": "once upon"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert!(v["data"].as_str().unwrap().contains("once upon"));

    let r = h
        .post(
            "/api/v1/images/generations",
            &key,
            json!({"model": "openai/dall-e-2", "prompt": "a cat", "size": "256x256"}),
        )
        .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    assert_eq!(v["usage"]["cost"], "0.016");
    let rows = h.usage(&key).await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["endpoint"], "images");
    assert_eq!(rows[0]["images"], 1);
}

#[tokio::test]
async fn openai_embeddings_honour_base64_encoding() {
    let h = start().await;
    let key = h.user_with_key("pia", "1").await;
    let body = json!({"model": "openai/text-embedding-3-small", "input": "hello"});
    let floats: Value = h
        .post("/v1/embeddings", &key, body.clone())
        .await
        .json()
        .await
        .unwrap();
    let mut b = body.clone();
    b["encoding_format"] = json!("base64");
    let packed: Value = h
        .post("/v1/embeddings", &key, b)
        .await
        .json()
        .await
        .unwrap();
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(packed["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let decoded: Vec<f32> = bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let expected: Vec<f32> = floats["data"][0]["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(decoded, expected);
    assert!(packed["usage"]["cost"].is_string());
}

#[tokio::test]
async fn models_routes() {
    let h = start().await;
    let key = h.user_with_key("quinn", "1").await;
    let v: Value = h.get("/v1/models", &key).await.json().await.unwrap();
    assert_eq!(v["object"], "list");
    let ids: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"openai/gpt-4o-mini"));
    assert!(
        ids.iter()
            .all(|id| id.starts_with("openai/") || id.starts_with("mistral/"))
    );
    let v: Value = h
        .get("/v1/models/openai/gpt-4o-mini", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["id"], "openai/gpt-4o-mini");
    assert_eq!(v["owned_by"], "openai");
    assert_eq!(h.get_public("/v1/models").await.status(), 401);

    // The classic API's catalog routes are public.
    let all: Value = h.get_public("/api/v1/models/").await.json().await.unwrap();
    let providers: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert!(providers.contains(&"anthropic") && providers.contains(&"openai"));
    let openai = all
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "openai")
        .unwrap();
    assert_eq!(openai["configured"], true);
    let p: Value = h
        .get_public("/api/v1/models/openai")
        .await
        .json()
        .await
        .unwrap();
    assert!(!p["models"].as_array().unwrap().is_empty());
    let m: Value = h
        .get_public("/api/v1/models/openai/gpt-4o-mini")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(m["id"], "gpt-4o-mini");
    assert!(m["pricing"].is_object(), "{m}");
    let r = h.get_public("/api/v1/models/nope").await;
    assert_eq!(r.status(), 404);
    let r = h.get_public("/api/v1/models/openai/nope-model").await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn health_and_readiness() {
    let h = start().await;
    let r = h.get_public("/health").await;
    assert_eq!(r.status(), 200);
    let r = h.get_public("/health/ready").await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let providers = v["providers"].as_array().unwrap();
    assert!(providers.contains(&json!("openai")) && providers.contains(&json!("mistral")));
    // HEAD answers as GET does, without the body (curl -I, uptime checkers).
    let r = h
        .http
        .head(format!("{}/health", h.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-request-id").is_some());
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn client_mistakes_get_4xx_with_codes_in_each_surface_shape() {
    let h = start().await;
    let key = h.user_with_key("ravi", "1").await;
    let post_raw = |path: &str, body: &'static str| {
        h.http
            .post(format!("{}{path}", h.url))
            .bearer_auth(&key)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let r = post_raw("/v1/chat/completions", "{not json").await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "invalid_json");
    assert_eq!(v["error"]["type"], "invalid_request_error");

    let r = post_raw("/v1/chat/completions", r#"{"model": 5, "messages": []}"#)
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = post_raw("/api/v1/chat/completions", "[1,2]").await.unwrap();
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["success"], false);

    let r = h.post("/v1/chat/completions", &key, json!({"model": "openai/no-such-model-xyz", "messages": [{"role": "user", "content": "hi"}]})).await;
    assert!(r.status() == 404 || r.status() == 403, "{}", r.status());

    let r = h
        .post(
            "/v1/chat/completions",
            &key,
            json!({"model": "nosuchprovider/x", "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert!(r.status().is_client_error(), "{}", r.status());

    let r = h.get_public("/v1/nothing-here").await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "not_found");

    let big = "x".repeat(17 * 1024 * 1024);
    let r = h
        .http
        .post(format!("{}/v1/chat/completions", h.url))
        .bearer_auth(&key)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);

    // Wrong type for `stream`.
    let r = h.post("/v1/chat/completions", &key, json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"})).await;
    assert_eq!(r.status(), 422);
    // Nothing was charged for any of it.
    assert_eq!(h.balance(&key).await, "1");
}

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let h = start().await;
    let r = h
        .http
        .get(format!("{}/api/v1/users/me", h.url))
        .header("x-request-id", "trace-123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-123");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["request_id"], "trace-123");
    let r = h
        .http
        .get(format!("{}/api/v1/users/me", h.url))
        .header("x-request-id", "bad id\u{7f}")
        .send()
        .await;
    if let Ok(r) = r {
        assert!(
            r.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .starts_with("req_")
        );
    }
}

#[tokio::test]
async fn provider_errors_reach_callers_without_the_operators_account_details() {
    use indoxrouter_simulator::Fault;
    let h = start().await;
    let key = h.user_with_key("eve", "1").await;
    let cases = [
        (
            r#"status=429;body={"error":{"message":"Rate limit reached for gpt-4o-mini in organization org-AbC123xyz on tokens per min (TPM): Limit 30000, Used 29990.","type":"tokens","code":"rate_limit_exceeded"}}"#,
            429,
            "org-AbC123xyz",
        ),
        ("status=429;quota", 502, "billing"),
        (
            r#"status=401;body={"error":{"message":"Incorrect API key provided: sk-proj-****cdef. You can find your API key at https://platform.openai.com/account/api-keys.","type":"invalid_request_error","code":"invalid_api_key"}}"#,
            502,
            "sk-proj",
        ),
        (
            r#"status=400;body={"error":{"message":"Project proj_9f8e7d6c does not allow max_tokens above 4096.","type":"invalid_request_error","param":"max_tokens","code":null}}"#,
            400,
            "proj_9f8e7d6c",
        ),
    ];
    for (fault, status, secret) in cases {
        h.sim.push_fault("openai", Fault::parse(fault).unwrap());
        let r = h.post("/v1/chat/completions", &key, chat_body("hi")).await;
        assert_eq!(r.status().as_u16(), status, "{fault}");
        let text = r.text().await.unwrap();
        assert!(!text.contains(secret), "{secret} leaked: {text}");
        if status == 400 {
            assert!(
                text.contains("max_tokens above 4096"),
                "the caller's fix survives: {text}"
            );
        }
    }
}
