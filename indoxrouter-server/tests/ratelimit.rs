//! Rate limits over HTTP: per-key and per-user buckets, 429 with
//! `Retry-After`, the `X-RateLimit-*` headers, token estimates corrected at
//! settle, tiers assigned by admins.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use indoxrouter_server::ratelimit::Tiers;
use serde_json::{Value, json};

async fn start_tiers(table: &str, default: &str) -> Harness {
    let tiers = Tiers::parse(Some(table), Some(default)).unwrap();
    start_with(move |c| c.tiers = tiers).await
}

fn header(r: &reqwest::Response, name: &str) -> Option<u64> {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().parse().unwrap())
}

/// A new key for the user behind `token`, optionally with its own tier.
async fn key(h: &Harness, token: &str, tier: Option<&str>) -> String {
    let r = h.post("/api/v1/keys", token, json!({"tier": tier})).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["tier"].as_str(), tier);
    v["key"].as_str().unwrap().to_owned()
}

async fn make_user(h: &Harness, name: &str, tier: Option<&str>) -> String {
    let admin = h.admin().await;
    let r = h
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({"username": name, "password": "password-123", "credits": "5", "tier": tier}),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    h.login(name, "password-123").await
}

#[tokio::test]
async fn a_burst_over_a_keys_limit_gets_429s_while_another_key_is_unaffected() {
    let h = start_tiers("tiny=3:100000,roomy=1000:1000000", "roomy").await;
    let token = make_user(&h, "kim", None).await;
    let tight = key(&h, &token, Some("tiny")).await;
    let other = key(&h, &token, None).await;

    for i in 0..3 {
        let r = h
            .post("/v1/chat/completions", &tight, chat_body("hi"))
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "x-ratelimit-limit-requests"), Some(3));
        assert_eq!(header(&r, "x-ratelimit-remaining-requests"), Some(2 - i));
        assert_eq!(header(&r, "x-ratelimit-limit"), Some(3));
        assert_eq!(header(&r, "x-ratelimit-limit-tokens"), Some(100_000));
        assert!(header(&r, "x-ratelimit-remaining-tokens").unwrap() < 100_000);
        assert!(header(&r, "x-ratelimit-reset-requests").unwrap() >= 1);
    }
    let before = h.sim.request_count();
    let r = h
        .post("/v1/chat/completions", &tight, chat_body("hi"))
        .await;
    assert_eq!(r.status(), 429);
    // 3 per minute: the next one fits 20 s after the first.
    let retry = header(&r, "retry-after").unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    assert!(header(&r, "retry-after-ms").unwrap() <= retry * 1000);
    assert_eq!(header(&r, "x-ratelimit-remaining-requests"), Some(0));
    assert!(r.headers().get("x-request-id").is_some());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert!(v["error"]["message"].as_str().unwrap().contains("key"));
    assert_eq!(
        h.sim.request_count(),
        before,
        "a refused request reached the provider"
    );

    // Streams and the classic surface are limited by the same bucket.
    let mut body = chat_body("hi");
    body["stream"] = json!(true);
    let r = h.post("/v1/chat/completions", &tight, body).await;
    assert_eq!(r.status(), 429);
    let r = h
        .post(
            "/api/v1/chat/completions",
            &tight,
            json!({"provider": "openai", "model": "gpt-4o-mini",
                   "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(r.status(), 429);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "rate_limit_exceeded");

    // The other key (no tier of its own) only meets the user's roomy bucket,
    // which the refused requests did not drain.
    let r = h
        .post("/v1/chat/completions", &other, chat_body("hi"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-ratelimit-limit-requests"), Some(1000));
    // Four requests taken; the bucket refills 1 per 60 ms meanwhile.
    let left = header(&r, "x-ratelimit-remaining-requests").unwrap();
    assert!((996..1000).contains(&left), "{left}");
    // The refusals were not charged.
    let rows = h.usage(&token).await;
    assert_eq!(rows.len(), 4);
}

#[tokio::test]
async fn a_users_bucket_covers_all_their_credentials_and_admins_are_exempt() {
    let h = start_tiers("two=2:100000,roomy=1000:1000000", "roomy").await;
    let token = make_user(&h, "lou", Some("two")).await;
    let k = key(&h, &token, None).await;
    assert_eq!(h.chat_status(&k, "a").await, 200);
    // The access token draws on the same user bucket as the key.
    assert_eq!(h.chat_status(&token, "b").await, 200);
    let r = h
        .post(
            "/v1/embeddings",
            &k,
            json!({"model": "openai/text-embedding-3-small", "input": "c"}),
        )
        .await;
    assert_eq!(r.status(), 429);
    assert!(
        r.json::<Value>().await.unwrap()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("user")
    );

    let me: Value = h
        .get("/api/v1/users/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["tier"], "two");
    assert_eq!(me["rate_limits"]["requests_per_minute"], 2);
    assert_eq!(me["rate_limits"]["tokens_per_minute"], 100_000);

    let admin = h.admin().await;
    let me: Value = h
        .get("/api/v1/users/me", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert!(me["tier"].is_null() && me["rate_limits"].is_null());
    // An admin's inference carries no rate-limit headers (402 here: no credit).
    let r = h.post("/v1/chat/completions", &admin, chat_body("x")).await;
    assert_eq!(r.status(), 402);
    assert!(r.headers().get("x-ratelimit-limit-requests").is_none());
}

#[tokio::test]
async fn token_estimates_are_corrected_to_the_reported_usage() {
    let h = start_tiers("tok=100:300", "tok").await;
    let token = make_user(&h, "max", None).await;
    let k = key(&h, &token, None).await;
    let ask = |max_tokens: u64| {
        json!({"model": "openai/gpt-4o-mini", "max_tokens": max_tokens,
               "messages": [{"role": "user", "content": "hi"}]})
    };
    // Estimate: the prompt (a few tokens) plus max_tokens 200.
    let r = h.post("/v1/chat/completions", &k, ask(200)).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let used = v["usage"]["total_tokens"].as_u64().unwrap();
    assert!(used < 50, "{used}");
    // Without the correction 200 more would not fit in 300; with it they do.
    let r = h.post("/v1/chat/completions", &k, ask(200)).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let remaining = header(&r, "x-ratelimit-remaining-tokens").unwrap();
    assert!(remaining < 300 - 200, "{remaining}");

    // More than the whole per-minute allowance can never pass.
    let before = h.sim.request_count();
    let r = h.post("/v1/chat/completions", &k, ask(1000)).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "tokens_exceed_limit");
    assert_eq!(h.sim.request_count(), before);
}

#[tokio::test]
async fn admins_assign_tiers_and_unknown_tiers_are_refused() {
    let h = start_tiers("one=1:100000,roomy=1000:1000000", "roomy").await;
    let token = make_user(&h, "ned", None).await;
    let admin = h.admin().await;
    let patch = |body: Value| {
        h.http
            .patch(format!("{}/api/v1/admin/users/ned", h.url))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let r = patch(json!({"tier": "gold"})).await.unwrap();
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "unknown_tier");
    assert!(v["message"].as_str().unwrap().contains("one, roomy"));

    let r = patch(json!({"tier": "one"})).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["tier"], "one");
    // Takes effect at once, even for a token issued before.
    assert_eq!(h.chat_status(&token, "a").await, 200);
    assert_eq!(h.chat_status(&token, "a").await, 429);
    // `null` restores the default; an absent field changes nothing.
    let r = patch(json!({})).await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["tier"], "one");
    let r = patch(json!({"tier": null})).await.unwrap();
    assert!(r.json::<Value>().await.unwrap()["tier"].is_null());
    let me: Value = h
        .get("/api/v1/users/me", &token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["tier"], "roomy");

    // Users cannot assign tiers, and keys only take known ones.
    let r = h
        .http
        .patch(format!("{}/api/v1/admin/users/ned", h.url))
        .bearer_auth(&token)
        .json(&json!({"tier": "roomy"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = h
        .post("/api/v1/keys", &token, json!({"tier": "gold"}))
        .await;
    assert_eq!(r.status(), 422);
    let r = patch(json!({"tier": 5})).await.unwrap();
    assert_eq!(r.status(), 422);
    let r = h
        .http
        .patch(format!("{}/api/v1/admin/users/nobody", h.url))
        .bearer_auth(&admin)
        .json(&json!({"tier": "one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn limits_can_be_switched_off() {
    let tiers = Tiers::parse(Some("one=1:10"), None).unwrap();
    let h = start_with(move |c| {
        c.tiers = tiers;
        c.rate_limits = false;
    })
    .await;
    let token = make_user(&h, "olga", None).await;
    for _ in 0..3 {
        let r = h
            .post("/v1/chat/completions", &token, chat_body("hello there"))
            .await;
        assert_eq!(r.status(), 200);
        assert!(r.headers().get("x-ratelimit-limit-requests").is_none());
    }
}
