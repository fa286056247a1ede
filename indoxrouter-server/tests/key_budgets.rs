//! Per-key budgets over HTTP: parallel requests never overshoot a key's
//! budget, keys minted from a key spend out of its budget, periodic budgets
//! reset, and the listing shows spend equal to the key's usage rows.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use indoxrouter::Usd;
use serde_json::{Value, json};

/// A small chat whose charge is the same every time.
fn small_chat() -> Value {
    json!({"model": "openai/gpt-4o-mini",
           "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5})
}

async fn make_key(h: &Harness, credential: &str, body: Value) -> reqwest::Response {
    h.post("/api/v1/keys", credential, body).await
}

async fn key_of(r: reqwest::Response) -> (String, String) {
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let v: Value = r.json().await.unwrap();
    (
        v["key"].as_str().unwrap().to_owned(),
        v["id"].as_str().unwrap().to_owned(),
    )
}

async fn listed(h: &Harness, token: &str, id: &str) -> Value {
    let v: Value = h.get("/api/v1/keys", token).await.json().await.unwrap();
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap()
        .clone()
}

/// The exact charge of one [`small_chat`], made with `key`.
async fn one_charge(h: &Harness, key: &str) -> Usd {
    let r = h.post("/v1/chat/completions", key, small_chat()).await;
    assert_eq!(r.status(), 200);
    let rows = h.usage(key).await;
    usd(rows[0]["cost"].as_str().unwrap())
}

fn key_rows_total(rows: &[Value], key_id: &str) -> (usize, Usd) {
    let mine: Vec<&Value> = rows.iter().filter(|r| r["key_id"] == key_id).collect();
    let total = mine
        .iter()
        .map(|r| usd(r["cost"].as_str().unwrap()))
        .fold(Usd::ZERO, |a, b| a + b);
    (mine.len(), total)
}

async fn all_rows(h: &Harness, token: &str) -> Vec<Value> {
    let v: Value = h
        .get("/api/v1/users/me/usage?limit=1000", token)
        .await
        .json()
        .await
        .unwrap();
    assert!(v["next_cursor"].is_null());
    v["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn two_hundred_parallel_requests_never_overshoot_a_key_budget() {
    let h = start().await;
    let key = h.user_with_key("pat", "10").await;
    let token = h.login("pat", "password-123").await;
    let c = one_charge(&h, &key).await;
    let budget = c.checked_mul(50).unwrap();
    let (budgeted, id) =
        key_of(make_key(&h, &token, json!({"max_budget": budget.to_string()})).await).await;
    let before = h.sim.request_count();
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let (http, url, budgeted) = (h.http.clone(), h.url.clone(), budgeted.clone());
        calls.spawn(async move {
            let r = http
                .post(format!("{url}/v1/chat/completions"))
                .bearer_auth(budgeted)
                .json(&small_chat())
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap();
            (status, v)
        });
    }
    let answers = calls.join_all().await;
    let served = answers.iter().filter(|(s, _)| *s == 200).count();
    for (status, v) in &answers {
        if *status != 200 {
            assert_eq!(*status, 402, "{v}");
            assert_eq!(v["error"]["code"], "key_budget_exceeded");
        }
    }
    assert!((1..=50).contains(&served), "served {served}");
    assert_eq!(
        h.sim.request_count() - before,
        served,
        "a refused request never reaches the provider"
    );
    let (rows, total) = key_rows_total(&all_rows(&h, &token).await, &id);
    assert_eq!(rows, served);
    let shown = listed(&h, &token, &id).await;
    assert_eq!(usd(shown["spend"].as_str().unwrap()), total);
    assert!(total <= budget);
    assert_eq!(shown["max_budget"], budget.to_string());
    assert!(shown["budget_duration"].is_null());
    // The user's own balance was never the limit.
    assert!(usd(&h.balance(&token).await) > usd("9.99"));
}

#[tokio::test]
async fn a_minted_key_spends_out_of_its_creators_budget() {
    let h = start().await;
    let key = h.user_with_key("kim", "10").await;
    let token = h.login("kim", "password-123").await;
    let c = one_charge(&h, &key).await;
    let budget = c.checked_mul(3).unwrap();
    let (parent, parent_id) = key_of(
        make_key(
            &h,
            &token,
            json!({"scopes": ["inference", "keys:manage"], "max_budget": budget.to_string()}),
        )
        .await,
    )
    .await;
    let larger = (budget + Usd::from_pico(1)).to_string();
    let r = make_key(&h, &parent, json!({"max_budget": larger})).await;
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["code"].as_str(), v["param"].as_str()),
        (Some("key_exceeds_creator"), Some("max_budget"))
    );

    // Two children, each with the creator's whole budget: together they
    // still spend no more than it.
    let (a, a_id) =
        key_of(make_key(&h, &parent, json!({"max_budget": budget.to_string()})).await).await;
    let (b, _) = key_of(make_key(&h, &parent, json!({})).await).await;
    let mut served = 0;
    for credential in [&a, &b, &a, &b, &a, &b] {
        match h
            .post("/v1/chat/completions", credential, small_chat())
            .await
            .status()
            .as_u16()
        {
            200 => served += 1,
            402 => {}
            other => panic!("status {other}"),
        }
    }
    let r = h.post("/v1/chat/completions", &parent, small_chat()).await;
    assert_eq!(r.status(), 402, "the children spent the creator's budget");
    let shown = listed(&h, &token, &parent_id).await;
    let spend = usd(shown["spend"].as_str().unwrap());
    assert!(spend <= budget, "{spend} > {budget}");
    assert!(served >= 1);
    let child = listed(&h, &token, &a_id).await;
    assert!(usd(child["spend"].as_str().unwrap()) <= spend);
}

#[tokio::test]
async fn a_periodic_budget_resets_and_says_when() {
    let h = start().await;
    let key = h.user_with_key("ray", "10").await;
    let token = h.login("ray", "password-123").await;
    let c = one_charge(&h, &key).await;
    // Room for one request's hold but not two.
    let budget = c.checked_mul(2).unwrap();
    let (k, id) = key_of(
        make_key(
            &h,
            &token,
            json!({"max_budget": budget.to_string(), "budget_duration": "2s"}),
        )
        .await,
    )
    .await;
    let shown = listed(&h, &token, &id).await;
    assert_eq!(shown["budget_duration"], "2s");
    let resets = shown["budget_resets_at"].as_u64().unwrap();
    assert_eq!(
        h.post("/v1/chat/completions", &k, small_chat())
            .await
            .status(),
        200
    );
    let r = h.post("/v1/chat/completions", &k, small_chat()).await;
    assert_eq!(r.status(), 402);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "key_budget_exceeded");
    assert_eq!(
        usd(listed(&h, &token, &id).await["spend"].as_str().unwrap()),
        c
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    tokio::time::sleep(std::time::Duration::from_secs(
        resets.saturating_sub(now) + 1,
    ))
    .await;
    assert_eq!(
        h.post("/v1/chat/completions", &k, small_chat())
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn malformed_budgets_are_refused_with_the_field_named() {
    let h = start().await;
    h.user_with_key("lee", "1").await;
    let token = h.login("lee", "password-123").await;
    for (body, field) in [
        (json!({"max_budget": "-1"}), "max_budget"),
        (json!({"max_budget": "1e3"}), "max_budget"),
        (json!({"max_budget": "ten"}), "max_budget"),
        (
            json!({"max_budget": "5", "budget_duration": "1w"}),
            "budget_duration",
        ),
        (
            json!({"max_budget": "5", "budget_duration": "0d"}),
            "budget_duration",
        ),
        (json!({"budget_duration": "1d"}), "budget_duration"),
    ] {
        let r = make_key(&h, &token, body.clone()).await;
        assert_eq!(r.status(), 422, "{body}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["param"], field, "{body}");
    }
    let (_, id) = key_of(
        make_key(
            &h,
            &token,
            json!({"max_budget": "12.50", "budget_duration": "30d"}),
        )
        .await,
    )
    .await;
    let shown = listed(&h, &token, &id).await;
    assert_eq!(
        (
            shown["max_budget"].as_str(),
            shown["budget_duration"].as_str(),
            shown["spend"].as_str()
        ),
        (Some("12.5"), Some("30d"), Some("0"))
    );
}
