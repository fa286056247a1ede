//! Authentication and authorization: tokens, keys, attacks, roles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{Value, json};

fn b64(v: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
}

async fn status(h: &Harness, token: &str) -> u16 {
    h.get("/api/v1/users/me", token).await.status().as_u16()
}

#[tokio::test]
async fn form_and_json_login_issue_working_tokens() {
    let h = start().await;
    let r = h
        .http
        .post(format!("{}/api/v1/auth/token", h.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=admin&password={ADMIN_PASSWORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "bearer");
    assert_eq!(v["expires_in"], 3600);
    let token = v["access_token"].as_str().unwrap();
    let me: Value = h.get("/api/v1/users/me", token).await.json().await.unwrap();
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["balance"], "0");

    let r = h.try_login("admin", "wrong").await;
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["success"], false);
    assert_eq!(v["code"], "unauthorized");
    let r = h.try_login("nobody", "wrong").await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn forged_expired_and_alg_none_tokens_are_rejected() {
    let h = start().await;
    let good = h.admin().await;
    assert_eq!(status(&h, &good).await, 200);
    let parts: Vec<&str> = good.split('.').collect();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();

    // Tampered payload (role kept, subject changed), original signature.
    let mut forged = claims.clone();
    forged["sub"] = json!("999");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(forged.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(status(&h, &tampered).await, 401);

    // alg: none with no signature.
    let none_header = b64(br#"{"alg":"none","typ":"JWT"}"#);
    let none = format!("{none_header}.{}.", parts[1]);
    assert_eq!(status(&h, &none).await, 401);

    // Signed with another secret.
    let other = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"some-other-secret-of-enough-length!!"),
    )
    .unwrap();
    assert_eq!(status(&h, &other).await, 401);

    // Right secret, expired.
    let mut expired = claims.clone();
    expired["exp"] = json!(1_000_000_000);
    let secret = "test-secret-that-is-long-enough-for-hs256";
    let old = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &expired,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    assert_eq!(status(&h, &old).await, 401);

    // Right secret, no exp at all.
    let mut no_exp = claims.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    let t = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &no_exp,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    assert_eq!(status(&h, &t).await, 401);

    // Right secret, other HMAC algorithm.
    let t = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap();
    assert_eq!(status(&h, &t).await, 401);

    // Garbage and missing headers.
    assert_eq!(status(&h, "not-a-token").await, 401);
    let r = h.get_public("/api/v1/users/me").await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn api_keys_are_shown_once_listed_without_secret_and_revocable() {
    let h = start().await;
    let key = h.user_with_key("kim", "1").await;
    assert!(key.starts_with("ixr-"));
    assert_eq!(status(&h, &key).await, 200);
    let token = h.login("kim", "password-123").await;
    let list: Value = h.get("/api/v1/keys", &token).await.json().await.unwrap();
    let listed = list["data"].as_array().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        list.to_string().find(&key).is_none(),
        "the key itself was listed"
    );
    assert!(listed[0].get("key").is_none());
    assert!(key.starts_with(listed[0]["prefix"].as_str().unwrap()));
    let id = listed[0]["id"].as_str().unwrap();

    // Another user cannot revoke it.
    let other = h.user_with_key("lee", "1").await;
    let r = h
        .http
        .delete(format!("{}/api/v1/keys/{id}", h.url))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(status(&h, &key).await, 200);

    let r = h
        .http
        .delete(format!("{}/api/v1/keys/{id}", h.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(status(&h, &key).await, 401);
    // A well-formed key that was never issued.
    assert_eq!(
        status(&h, "ixr-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").await,
        401
    );
}

#[tokio::test]
async fn users_cannot_use_admin_routes_and_admins_manage_credits() {
    let h = start().await;
    let key = h.user_with_key("max", "1.50").await;
    let r = h.get("/api/v1/admin/users", &key).await;
    assert_eq!(r.status(), 403);
    let r = h
        .post(
            "/api/v1/admin/users/max/credits",
            &key,
            json!({"amount": "100", "reason": "self"}),
        )
        .await;
    assert_eq!(r.status(), 403);

    let admin = h.admin().await;
    let r = h
        .post(
            "/api/v1/admin/users/max/credits",
            &admin,
            json!({"amount": "-0.25", "reason": "refund reversal"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["balance"], "1.25");
    assert_eq!(h.balance(&key).await, "1.25");
    // Amounts are decimal strings: a JSON number would have passed through a float.
    let r = h
        .post(
            "/api/v1/admin/users/max/credits",
            &admin,
            json!({"amount": 0.1, "reason": "x"}),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r = h
        .post(
            "/api/v1/admin/users/nobody/credits",
            &admin,
            json!({"amount": "1", "reason": "x"}),
        )
        .await;
    assert_eq!(r.status(), 404);
    let list: Value = h
        .get("/api/v1/admin/users", &admin)
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["admin", "max"]);
    // Duplicate usernames conflict.
    let r = h
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({"username": "max", "password": "password-123"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    // Password hashes never leave the server.
    assert!(!list.to_string().contains("argon2"));
}

async fn patch_user(h: &Harness, admin: &str, username: &str, body: Value) -> reqwest::Response {
    h.http
        .patch(format!("{}/api/v1/admin/users/{username}", h.url))
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn changing_a_password_ends_every_earlier_access_token() {
    let h = start().await;
    h.user_with_key("pam", "1").await;
    let old_a = h.login("pam", "password-123").await;
    let old_b = h.login("pam", "password-123").await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});
    // The wrong current password, or a short new one, changes nothing.
    let r = h
        .post(
            "/api/v1/users/me/password",
            &old_a,
            change("nope-nope", "new-password-456"),
        )
        .await;
    assert_eq!(r.status(), 401);
    let r = h
        .post(
            "/api/v1/users/me/password",
            &old_a,
            change("password-123", "short"),
        )
        .await;
    assert_eq!(r.status(), 422);
    assert_eq!(status(&h, &old_b).await, 200);

    let r = h
        .post(
            "/api/v1/users/me/password",
            &old_a,
            change("password-123", "new-password-456"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let fresh = v["access_token"].as_str().unwrap().to_owned();
    assert_eq!(status(&h, &old_a).await, 401);
    assert_eq!(status(&h, &old_b).await, 401);
    assert_eq!(status(&h, &fresh).await, 200);
    assert_eq!(
        status(&h, &h.login("pam", "new-password-456").await).await,
        200
    );
    let r = h.try_login("pam", "password-123").await;
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn a_disabled_user_is_refused_everywhere_at_once_and_an_admin_can_reset_a_password() {
    let h = start().await;
    let admin = h.admin().await;
    let key = h.user_with_key("quin", "1").await;
    let token = h.login("quin", "password-123").await;
    assert_eq!(h.chat_status(&key, "hi").await, 200);

    let r = patch_user(&h, &admin, "quin", json!({"disabled": true})).await;
    assert_eq!(r.status(), 200);
    for credential in [&key, &token] {
        assert_eq!(h.chat_status(credential, "hi").await, 403);
        for path in ["/api/v1/users/me", "/api/v1/keys", "/api/v1/users/me/usage"] {
            let r = h.get(path, credential).await;
            assert_eq!(r.status(), 403, "{path}");
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["code"], "account_disabled");
        }
    }
    let r = h.try_login("quin", "password-123").await;
    assert_eq!(r.status(), 403);

    // Enabled again: the same key and token work.
    patch_user(&h, &admin, "quin", json!({"disabled": false})).await;
    assert_eq!(h.chat_status(&key, "hi").await, 200);
    assert_eq!(status(&h, &token).await, 200);

    // An operator's reset ends the user's tokens; keys keep working.
    let r = patch_user(
        &h,
        &admin,
        "quin",
        json!({"password": "reset-password-789"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(status(&h, &token).await, 401);
    assert_eq!(h.chat_status(&key, "hi").await, 200);
    assert_eq!(
        status(&h, &h.login("quin", "reset-password-789").await).await,
        200
    );
}

#[tokio::test]
async fn admins_list_and_revoke_anyones_keys_and_delete_users_keeping_their_usage() {
    let h = start().await;
    let admin = h.admin().await;
    let key = h.user_with_key("rhea", "1").await;
    assert_eq!(h.chat_status(&key, "hi").await, 200);

    let v: Value = h
        .get("/api/v1/admin/users/rhea/keys", &admin)
        .await
        .json()
        .await
        .unwrap();
    let id = v["data"][0]["id"].as_str().unwrap().to_owned();
    let r = h
        .http
        .delete(format!("{}/api/v1/admin/keys/{id}", h.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(h.chat_status(&key, "hi").await, 401);

    let token = h.login("rhea", "password-123").await;
    let r = h
        .http
        .delete(format!("{}/api/v1/admin/users/rhea", h.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(status(&h, &token).await, 401);
    let r = h.try_login("rhea", "password-123").await;
    assert_eq!(r.status(), 403);
    // The usage stays in the reports; the name stays taken.
    let v: Value = h
        .get("/api/v1/admin/usage?user=rhea", &admin)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 1);
    let r = h
        .post(
            "/api/v1/admin/users",
            &admin,
            json!({"username": "rhea", "password": "password-123"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    // An administrator cannot delete themself.
    let r = h
        .http
        .delete(format!("{}/api/v1/admin/users/admin", h.url))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
}

/// A key made with `token` (an access token or a key) from `body`.
async fn make_key(h: &Harness, token: &str, body: Value) -> reqwest::Response {
    h.post("/api/v1/keys", token, body).await
}

async fn key_of(r: reqwest::Response) -> String {
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    r.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_key_without_scopes_can_only_call_inference() {
    let h = start().await;
    h.user_with_key("sam", "1").await;
    let token = h.login("sam", "password-123").await;
    let key = key_of(make_key(&h, &token, json!({"name": "app"})).await).await;
    assert_eq!(h.chat_status(&key, "hi").await, 200);
    assert_eq!(h.get("/v1/models", &key).await.status(), 200);
    for (method, path) in [
        ("GET", "/api/v1/users/me"),
        ("GET", "/api/v1/users/me/usage"),
        ("GET", "/api/v1/keys"),
        ("POST", "/api/v1/keys"),
    ] {
        let r = if method == "GET" {
            h.get(path, &key).await
        } else {
            h.post(path, &key, json!({})).await
        };
        assert_eq!(r.status(), 403, "{method} {path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], "insufficient_scope");
    }
    let listed: Value = h.get("/api/v1/keys", &token).await.json().await.unwrap();
    let app = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "app")
        .unwrap();
    assert_eq!(app["scopes"], json!(["inference"]));
}

#[tokio::test]
async fn a_key_never_mints_a_broader_key() {
    let tiers = indoxrouter_server::ratelimit::Tiers::parse(
        Some("small=10:10000,big=100:100000"),
        Some("big"),
    )
    .unwrap();
    let h = start_with(move |c| c.tiers = tiers).await;
    h.user_with_key("tess", "1").await;
    let token = h.login("tess", "password-123").await;
    let parent = key_of(
        make_key(
            &h,
            &token,
            json!({"scopes": ["inference", "keys:manage"], "models": ["openai/*"],
                   "max_tokens_per_request": 100, "expires_in_days": 7, "tier": "small"}),
        )
        .await,
    )
    .await;
    for (body, field) in [
        (json!({"scopes": ["inference", "usage:read"]}), "scopes"),
        (json!({"models": ["anthropic/*"]}), "models"),
        (json!({"models": ["*"]}), "models"),
        (
            json!({"max_tokens_per_request": 101}),
            "max_tokens_per_request",
        ),
        (json!({"expires_in_days": 30}), "expires_in_days"),
        (json!({"tier": "big"}), "tier"),
    ] {
        let r = make_key(&h, &parent, body.clone()).await;
        assert_eq!(r.status(), 403, "{body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            (v["code"].as_str(), v["param"].as_str()),
            (Some("key_exceeds_creator"), Some(field))
        );
    }
    // Narrower in every way is fine; what it does not set, it inherits.
    let r = make_key(
        &h,
        &parent,
        json!({"models": ["openai/gpt-4o-*"], "max_tokens_per_request": 50}),
    )
    .await;
    let child = key_of(r).await;
    let listed: Value = h.get("/api/v1/keys", &token).await.json().await.unwrap();
    let row = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| child.starts_with(k["prefix"].as_str().unwrap()))
        .unwrap()
        .clone();
    assert_eq!(row["scopes"], json!(["inference"]));
    assert_eq!(row["models"], json!(["openai/gpt-4o-*"]));
    assert_eq!(row["max_tokens_per_request"], 50);
    assert_eq!(row["tier"], "small");
    assert!(
        row["expires_at"].as_u64().is_some(),
        "the creator's expiry is inherited"
    );
    assert_eq!(h.chat_status(&child, "hi").await, 200);
}

#[tokio::test]
async fn a_keys_model_list_and_output_cap_hold_before_the_provider_is_called() {
    let h = start().await;
    h.user_with_key("uma", "1").await;
    let token = h.login("uma", "password-123").await;
    let key = key_of(
        make_key(
            &h,
            &token,
            json!({"models": ["openai/gpt-4o-mini"], "max_tokens_per_request": 12}),
        )
        .await,
    )
    .await;
    let before = h.sim.request_count();
    for model in ["openai/gpt-4o", "mistral/mistral-small"] {
        let body = json!({"model": model, "messages": [{"role": "user", "content": "hi"}]});
        let r = h.post("/v1/chat/completions", &key, body).await;
        assert_eq!(r.status(), 403, "{model}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "model_not_allowed");
    }
    // A fallback outside the list is refused too.
    let body = json!({"model": "openai/gpt-4o-mini", "fallbacks": ["openai/gpt-4o"],
        "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(
        h.post("/v1/chat/completions", &key, body).await.status(),
        403
    );
    assert_eq!(
        h.sim.request_count(),
        before,
        "a refused model reached the provider"
    );
    // Allowed, and capped: asked for 500 output tokens, sent 12.
    let body = json!({"model": "gpt-4o-mini", "max_tokens": 500,
        "messages": [{"role": "user", "content": "hi"}]});
    assert_eq!(
        h.post("/v1/chat/completions", &key, body).await.status(),
        200
    );
    let sent = h.sim.requests().last().unwrap().body.clone();
    let limit = sent["max_completion_tokens"]
        .as_u64()
        .or(sent["max_tokens"].as_u64())
        .unwrap();
    assert_eq!(limit, 12);
}

#[tokio::test]
async fn revoking_a_key_ends_the_keys_minted_with_it() {
    let h = start().await;
    h.user_with_key("val", "1").await;
    let token = h.login("val", "password-123").await;
    let r = make_key(&h, &token, json!({"scopes": ["inference", "keys:manage"]})).await;
    let v: Value = r.json().await.unwrap();
    let (parent, parent_id) = (
        v["key"].as_str().unwrap().to_owned(),
        v["id"].as_str().unwrap().to_owned(),
    );
    let child =
        key_of(make_key(&h, &parent, json!({"scopes": ["inference", "keys:manage"]})).await).await;
    let grandchild = key_of(make_key(&h, &child, json!({})).await).await;
    let sibling = key_of(make_key(&h, &token, json!({})).await).await;
    for k in [&parent, &child, &grandchild, &sibling] {
        assert_eq!(h.chat_status(k, "hi").await, 200);
    }
    let r = h
        .http
        .delete(format!("{}/api/v1/keys/{parent_id}", h.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for k in [&parent, &child, &grandchild] {
        assert_eq!(h.chat_status(k, "hi").await, 401);
    }
    assert_eq!(
        h.chat_status(&sibling, "hi").await,
        200,
        "other keys live on"
    );
}
