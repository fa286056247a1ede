//! Credits end to end: exact charges, usage rows, refusals before the
//! provider is called, streams billed like non-streams, races, restarts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn chat_charges_exactly_the_reported_cost_and_writes_one_row() {
    let h = start().await;
    let key = h.user_with_key("alice", "1.00").await;
    let before = usd(&h.balance(&key).await);
    let r = h
        .post("/v1/chat/completions", &key, chat_body("hello there"))
        .await;
    assert_eq!(r.status(), 200);
    let header = r.headers()["x-indoxrouter-cost"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(r.headers().contains_key("x-request-id"));
    let v: Value = r.json().await.unwrap();
    let cost = usd(v["usage"]["cost"].as_str().unwrap());
    assert_eq!(header, cost.to_string());
    assert_eq!(
        v["model"].as_str().unwrap().split('/').next(),
        Some("openai")
    );

    // The charge is the catalog price of the reported usage, exactly.
    let (usage, expected) = reported(&h, &v);
    assert_eq!(cost, expected);
    assert!(cost > indoxrouter::Usd::ZERO);

    let after = usd(&h.balance(&key).await);
    assert_eq!(before - after, cost);
    let rows = h.usage(&key).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["cost"], cost.to_string());
    assert_eq!(rows[0]["status"], "completed");
    assert_eq!(rows[0]["prompt_tokens"], usage.prompt_tokens);
    assert!(rows[0]["key_id"].as_str().unwrap().starts_with("key_"));
}

#[tokio::test]
async fn unaffordable_requests_get_402_and_never_reach_the_provider() {
    let h = start().await;
    let key = h.user_with_key("bob", "0.000001").await;
    let before = h.sim.request_count();
    let r = h
        .post("/v1/chat/completions", &key, chat_body("hello"))
        .await;
    assert_eq!(r.status(), 402);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "insufficient_credits");
    assert_eq!(v["error"]["type"], "insufficient_quota");
    assert_eq!(h.sim.request_count(), before, "the provider was called");
    // Same on the classic surface, in the classic API's shape.
    let r = h
        .post(
            "/api/v1/chat/completions",
            &key,
            json!({"messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(r.status(), 402);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["success"], false);
    assert_eq!(v["code"], "insufficient_credits");
    assert_eq!(h.sim.request_count(), before);
    assert_eq!(h.balance(&key).await, "0.000001");
}

#[tokio::test]
async fn failed_upstream_calls_cost_nothing() {
    let h = start().await;
    let key = h.user_with_key("carol", "1").await;
    h.sim
        .push_fault("openai", indoxrouter_simulator::Fault::status(500));
    let r = h.post("/v1/chat/completions", &key, chat_body("hi")).await;
    assert_eq!(r.status(), 502);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "provider_unavailable");
    assert_eq!(h.balance(&key).await, "1");
    let rows = h.usage(&key).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "failed");
    assert_eq!(rows[0]["cost"], "0");
}

async fn read_sse(r: reqwest::Response) -> (Vec<Value>, bool) {
    let text = r.text().await.unwrap();
    let mut chunks = Vec::new();
    let mut done = false;
    for line in text.lines() {
        if let Some(data) = line.strip_prefix("data: ") {
            if data == "[DONE]" {
                done = true;
            } else {
                chunks.push(serde_json::from_str(data).unwrap());
            }
        }
    }
    (chunks, done)
}

#[tokio::test]
async fn a_stream_costs_exactly_what_the_same_non_stream_costs() {
    let h = start().await;
    let key = h.user_with_key("dave", "1").await;
    let body = chat_body("the same words both ways");
    let r = h.post("/v1/chat/completions", &key, body.clone()).await;
    let plain: Value = r.json().await.unwrap();
    let plain_cost = usd(plain["usage"]["cost"].as_str().unwrap());

    let b1 = usd(&h.balance(&key).await);
    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    streamed["stream_options"] = json!({"include_usage": true});
    let r = h.post("/v1/chat/completions", &key, streamed).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let (chunks, done) = read_sse(r).await;
    assert!(done);
    let usage_chunk = chunks.iter().find(|c| c.get("usage").is_some()).unwrap();
    assert_eq!(
        usd(usage_chunk["usage"]["cost"].as_str().unwrap()),
        plain_cost
    );
    let b2 = usd(&h.balance(&key).await);
    assert_eq!(b1 - b2, plain_cost);

    // Without include_usage the usage chunk is not forwarded, but billed the same.
    let mut quiet = body.clone();
    quiet["stream"] = json!(true);
    let (chunks, done) = read_sse(h.post("/v1/chat/completions", &key, quiet).await).await;
    assert!(done);
    assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(
        text,
        plain["choices"][0]["message"]["content"].as_str().unwrap()
    );
    let b3 = usd(&h.balance(&key).await);
    assert_eq!(b2 - b3, plain_cost);
    let rows = h.usage(&key).await;
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["cost"] == plain_cost.to_string()));
}

#[tokio::test]
async fn a_cut_stream_bills_the_delivered_tokens_by_the_documented_rule() {
    let h = start().await;
    let key = h.user_with_key("erin", "1").await;
    h.sim.push_fault(
        "openai",
        indoxrouter_simulator::Fault::CutStream { after_chunks: 3 },
    );
    let r = h.post_stream(&key, "tell me something").await;
    let (chunks, done) = read_sse(r).await;
    assert!(!done, "a broken stream must not end with [DONE]");
    let last = chunks.last().unwrap();
    assert!(last.get("error").is_some(), "{last}");
    let delivered: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert!(!delivered.is_empty());
    let rows = h.usage(&key).await;
    assert_eq!(rows[0]["status"], "upstream_error");
    // The counted rule: gpt-4o-mini's own tokenizer (o200k) over what was
    // sent and what was delivered, plus the format overheads.
    let o200k = |text: &str| {
        tiktoken_rs::o200k_base_singleton()
            .encode_ordinary(text)
            .len() as u64
    };
    use indoxrouter_server::billing::{MESSAGE_OVERHEAD_TOKENS, REQUEST_OVERHEAD_TOKENS};
    let prompt = indoxrouter::types::Usage::new(
        o200k("tell me something") + MESSAGE_OVERHEAD_TOKENS + REQUEST_OVERHEAD_TOKENS,
        o200k(&delivered),
    );
    assert_eq!(rows[0]["prompt_tokens"], prompt.prompt_tokens);
    assert_eq!(rows[0]["completion_tokens"], prompt.completion_tokens);
    let expected = h
        .state
        .client
        .cost("openai/gpt-4o-mini", &prompt)
        .unwrap()
        .unwrap()
        .total;
    assert_eq!(rows[0]["cost"], expected.to_string());
    assert_eq!(usd("1") - usd(&h.balance(&key).await), expected);
}

#[tokio::test]
async fn a_client_that_disconnects_is_billed_and_upstream_closes_after_the_drain_bound() {
    let h = start_with(|c| c.drain = std::time::Duration::from_millis(300)).await;
    let key = h.user_with_key("frank", "1").await;
    h.sim.push_fault(
        "openai",
        indoxrouter_simulator::Fault::Stall { after_chunks: 2 },
    );
    let mut r = h.post_stream(&key, "stall please").await;
    let first = r.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "));
    drop(r);
    // The relay notices, drops the upstream stream and settles.
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = h.usage(&key).await;
        if !rows.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "client_disconnected");
    for _ in 0..100 {
        if h.sim.open_streams() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(h.sim.open_streams(), 0, "upstream stream still open");
}

#[tokio::test]
async fn concurrent_requests_racing_one_balance_never_overspend() {
    let h = start().await;
    // Enough for a few reservations only.
    let key = h.user_with_key("gina", "0.0001").await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let http = h.http.clone();
        let url = format!("{}/v1/chat/completions", h.url);
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .bearer_auth(key)
                .json(&chat_body(&format!("request number {i}")))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            402 => refused += 1,
            s => panic!("unexpected status {s}"),
        }
    }
    assert!(ok > 0 && refused > 0, "ok {ok} refused {refused}");
    let balance = usd(&h.balance(&key).await);
    assert!(!balance.is_negative(), "overspent: {balance}");
    let rows = h.usage(&key).await;
    assert_eq!(rows.len(), ok);
    let spent: indoxrouter::Usd = rows.iter().map(|r| usd(r["cost"].as_str().unwrap())).sum();
    assert_eq!(usd("0.0001") - spent, balance);
    assert_eq!(
        h.sim.request_count(),
        ok,
        "refused requests reached the provider"
    );
}

#[tokio::test]
async fn balances_and_rows_survive_a_restart_and_reservations_do_not() {
    let mut h = start().await;
    let key = h.user_with_key("hank", "2").await;
    for _ in 0..3 {
        assert_eq!(
            h.post("/v1/chat/completions", &key, chat_body("hi"))
                .await
                .status(),
            200
        );
    }
    let balance = h.balance(&key).await;
    h.shutdown().await;
    drop(h.state);

    let config = indoxrouter_server::Config::for_tests(h.dir.path(), ADMIN_PASSWORD);
    let (state, boot) = indoxrouter_server::AppState::open(&config, client_for(&h.sim))
        .await
        .unwrap();
    assert!(!boot.admin_created);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = indoxrouter_server::serve::start(state.clone(), listener).unwrap();
    let url = server.url();
    let me: Value = h
        .http
        .get(format!("{url}/api/v1/users/me"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["balance"], balance);
    assert_eq!(me["available"], balance);
    server.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_and_settles_in_flight_requests() {
    let mut h = start().await;
    let key = h.user_with_key("ivy", "1").await;
    h.sim.push_fault(
        "openai",
        indoxrouter_simulator::Fault::SlowFirstByte(std::time::Duration::from_millis(400)),
    );
    let http = h.http.clone();
    let url = format!("{}/v1/chat/completions", h.url);
    let k = key.clone();
    let inflight = tokio::spawn(async move {
        let r = http
            .post(url)
            .bearer_auth(k)
            .json(&chat_body("slow"))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json::<Value>().await.unwrap())
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    h.shutdown().await;
    let (status, v) = inflight.await.unwrap();
    assert_eq!(status, 200, "{v}");
    let cost = usd(v["usage"]["cost"].as_str().unwrap());
    // The charge is durable: the store shows it after a reopen.
    drop(h.state);
    let store = indoxrouter_server::store::redb_store::RedbStore::open(
        &h.dir.path().join("indoxrouter.redb"),
    )
    .unwrap();
    use indoxrouter_server::store::{Accounts as _, Ledger as _};
    let user = store.user_by_name("ivy").unwrap();
    assert_eq!(store.balance(user.id), usd("1") - cost);
}

#[tokio::test]
async fn unpriced_models_are_refused_unless_the_operator_allows_them() {
    let h = start().await;
    let key = h.user_with_key("jack", "1").await;
    let mut body = chat_body("hi");
    body["model"] = json!("openai/gpt-unlisted-preview");
    let before = h.sim.request_count();
    let r = h.post("/v1/chat/completions", &key, body).await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "model_not_found");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("INDOXROUTER_ALLOW_UNPRICED")
    );
    assert_eq!(h.sim.request_count(), before);

    let h = start_with(|c| c.allow_unpriced = true).await;
    let key = h.user_with_key("jack", "1").await;
    let mut body = chat_body("hi");
    body["model"] = json!("openai/gpt-unlisted-preview");
    let r = h.post("/v1/chat/completions", &key, body).await;
    assert_eq!(r.status(), 200);
    let rows = h.usage(&key).await;
    assert_eq!(rows[0]["unpriced"], true);
    assert_eq!(rows[0]["cost"], "0");
}

#[tokio::test]
async fn shutdown_interrupts_a_silent_stream_after_the_grace_period_and_bills_it() {
    let mut h = start_with(|c| c.shutdown_grace = std::time::Duration::from_millis(300)).await;
    let key = h.user_with_key("kate", "1").await;
    h.sim.push_fault(
        "openai",
        indoxrouter_simulator::Fault::Stall { after_chunks: 3 },
    );
    let mut r = h.post_stream(&key, "go quiet").await;
    let first = r.chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "));
    let started = std::time::Instant::now();
    h.shutdown().await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "shutdown hung on a silent stream"
    );
    let rest = async {
        let mut all = Vec::new();
        while let Ok(Some(c)) = r.chunk().await {
            all.extend_from_slice(&c);
        }
        String::from_utf8(all).unwrap()
    }
    .await;
    assert!(!rest.contains("[DONE]"));
    let (store, _dir) = reopen_store(h).await;
    use indoxrouter_server::store::{Accounts as _, Ledger as _};
    let user = store.user_by_name("kate").unwrap();
    let page = store.usage(user.id, 10, None).await.unwrap();
    assert_eq!(page.rows.len(), 1);
    assert_eq!(
        page.rows[0].status,
        indoxrouter_server::store::UsageStatus::Interrupted
    );
    assert!(page.rows[0].cost > indoxrouter::Usd::ZERO);
    assert_eq!(store.balance(user.id), usd("1") - page.rows[0].cost);
}

#[tokio::test]
async fn a_silent_stream_gets_keep_alive_comments() {
    let h = start_with(|c| c.sse_keepalive = std::time::Duration::from_millis(100)).await;
    let key = h.user_with_key("liam", "1").await;
    h.sim.push_fault(
        "openai",
        indoxrouter_simulator::Fault::Stall { after_chunks: 2 },
    );
    let mut r = h.post_stream(&key, "think quietly").await;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !seen.contains(": keep-alive\n\n") && tokio::time::Instant::now() < deadline {
        match tokio::time::timeout(std::time::Duration::from_secs(1), r.chunk()).await {
            Ok(Ok(Some(c))) => seen.push_str(&String::from_utf8_lossy(&c)),
            _ => break,
        }
    }
    assert!(seen.starts_with("data: "), "{seen}");
    assert!(
        seen.contains(": keep-alive\n\n"),
        "no keep-alive in {seen:?}"
    );
}

/// Usage rows across every user, as the admin report lists them.
async fn admin_rows(h: &Harness) -> Vec<Value> {
    let admin = h.admin().await;
    let v: Value = h
        .get("/api/v1/admin/usage?limit=100", &admin)
        .await
        .json()
        .await
        .unwrap();
    v["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_provider_that_over_reports_is_charged_the_hold_and_the_overrun_is_recorded() {
    // The limiter counts the reported tokens too; this test is about money.
    let h = start_with(|c| c.rate_limits = false).await;
    let key = h.user_with_key("ivan", "0.01").await;
    // Every answer reports a million times the usage it took: dollars for
    // a call held at a fraction of a cent.
    let overreport = indoxrouter_simulator::Fault::OverReport { factor: 1_000_000 };
    h.sim.push_fault("openai", overreport.clone());
    let mut body = chat_body("hi");
    body["max_tokens"] = json!(5);
    let r = h.post("/v1/chat/completions", &key, body.clone()).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let charged = usd(v["usage"]["cost"].as_str().unwrap());
    let (_, reported) = reported(&h, &v);
    assert!(reported > usd("1"), "the fault over-reports: {reported}");
    assert!(
        charged < usd("0.001"),
        "charged {charged}, more than the hold"
    );
    let balance = usd(&h.balance(&key).await);
    assert_eq!(usd("0.01") - balance, charged);

    // The row keeps both numbers exactly; the admin report shows it.
    let rows = h.usage(&key).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(usd(rows[0]["cost"].as_str().unwrap()), charged);
    assert_eq!(
        usd(rows[0]["overrun"].as_str().unwrap()),
        reported - charged
    );
    let admin = admin_rows(&h).await;
    assert_eq!(admin[0]["overrun"], rows[0]["overrun"]);

    // A stream's usage chunk carries the capped charge too.
    h.sim.push_fault("openai", overreport.clone());
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let r = h.post("/v1/chat/completions", &key, body.clone()).await;
    assert_eq!(r.status(), 200);
    let (events, done) = read_sse(r).await;
    assert!(done, "{events:?}");
    let streamed = events
        .iter()
        .find_map(|e| e["usage"]["cost"].as_str().map(usd))
        .expect("a usage chunk with the charge");
    assert!(streamed < usd("0.001"), "stream charged {streamed}");
    let balance_after = usd(&h.balance(&key).await);
    assert_eq!(balance - balance_after, streamed);

    // Many at once cannot take the balance below zero either.
    h.sim.push_fault("openai", overreport);
    h.sim.push_fault(
        "openai",
        indoxrouter_simulator::Fault::OverReport { factor: 1_000_000 },
    );
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let (http, url, key) = (
                h.http.clone(),
                format!("{}/v1/chat/completions", h.url),
                key.clone(),
            );
            let mut body = chat_body("hi");
            body["max_tokens"] = json!(5);
            tokio::spawn(async move {
                http.post(url)
                    .bearer_auth(key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for t in tasks {
        assert!(matches!(t.await.unwrap(), 200 | 402));
    }
    let final_balance = usd(&h.balance(&key).await);
    assert!(!final_balance.is_negative(), "balance {final_balance}");
    let rows = h.usage(&key).await;
    let spent: indoxrouter::Usd = rows.iter().map(|r| usd(r["cost"].as_str().unwrap())).sum();
    assert_eq!(usd("0.01") - spent, final_balance);

    let metrics = h.get_public("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(
            "indoxrouter_unbilled_overrun_usd_total{provider=\"openai\",model=\"gpt-4o-mini\"}"
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_non_streamed_call_whose_client_hangs_up_is_still_billed() {
    let h = start().await;
    let key = h.user_with_key("judy", "1").await;
    h.sim.push_fault(
        "openai",
        indoxrouter_simulator::Fault::SlowFirstByte(std::time::Duration::from_millis(600)),
    );
    let gone = h
        .http
        .post(format!("{}/v1/chat/completions", h.url))
        .bearer_auth(&key)
        .timeout(std::time::Duration::from_millis(200))
        .json(&chat_body("hello there"))
        .send()
        .await;
    assert!(gone.unwrap_err().is_timeout());
    // The provider answers after the client left; the call is settled anyway.
    let mut rows = Vec::new();
    for _ in 0..200 {
        rows = h.usage(&key).await;
        if !rows.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(rows.len(), 1, "no usage row for the abandoned call");
    assert_eq!(rows[0]["status"], "client_disconnected");
    assert!(rows[0]["completion_tokens"].as_u64().unwrap() > 0);
    let cost = usd(rows[0]["cost"].as_str().unwrap());
    assert!(cost > indoxrouter::Usd::ZERO);
    assert_eq!(usd("1") - usd(&h.balance(&key).await), cost);
    // Exactly what the same call costs when the client waits for it.
    let r = h
        .post("/v1/chat/completions", &key, chat_body("hello there"))
        .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(usd(v["usage"]["cost"].as_str().unwrap()), cost);
}

/// Polls the caller's usage rows until one appears.
async fn first_row(h: &Harness, key: &str) -> Value {
    for _ in 0..250 {
        if let Some(row) = h.usage(key).await.into_iter().next() {
            return row;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no usage row");
}

#[tokio::test]
async fn a_stream_whose_client_leaves_is_billed_the_usage_the_provider_reports_later() {
    let h = start().await;
    let key = h.user_with_key("kim", "1").await;
    // The same request, not streamed, for the reference price.
    let reference = h
        .post("/v1/chat/completions", &key, chat_body("tell me a story"))
        .await;
    let v: Value = reference.json().await.unwrap();
    let expected = usd(v["usage"]["cost"].as_str().unwrap());

    // A slow provider: the client reads one event and leaves; the usage
    // report arrives after that, within the drain bound.
    h.sim.push_fault(
        "openai",
        indoxrouter_simulator::Fault::Drip(std::time::Duration::from_millis(100)),
    );
    let mut r = h.post_stream(&key, "tell me a story").await;
    assert!(r.chunk().await.unwrap().unwrap().starts_with(b"data: "));
    drop(r);
    let mut streamed = None;
    for _ in 0..250 {
        streamed = h
            .usage(&key)
            .await
            .into_iter()
            .find(|r| r["stream"] == true);
        if streamed.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let row = streamed.expect("a row for the abandoned stream");
    assert_eq!(row["status"], "client_disconnected");
    assert_eq!(usd(row["cost"].as_str().unwrap()), expected, "{row}");
}

#[tokio::test]
async fn a_client_that_leaves_before_the_first_token_still_pays_for_its_prompt() {
    let h = start_with(|c| c.drain = std::time::Duration::from_millis(200)).await;
    let key = h.user_with_key("lee", "1").await;
    h.sim.push_fault(
        "openai",
        indoxrouter_simulator::Fault::Stall { after_chunks: 0 },
    );
    let r = h
        .post_stream(&key, "a prompt the provider has processed")
        .await;
    assert_eq!(r.status(), 200);
    drop(r);
    let row = first_row(&h, &key).await;
    assert_eq!(row["status"], "client_disconnected");
    assert_eq!(row["completion_tokens"], 0);
    assert!(row["prompt_tokens"].as_u64().unwrap() > 0);
    let cost = usd(row["cost"].as_str().unwrap());
    assert!(
        cost > indoxrouter::Usd::ZERO,
        "a processed prompt billed nothing"
    );
    assert_eq!(usd("1") - usd(&h.balance(&key).await), cost);
}

/// One of the request shapes the mixed test sends, by number.
fn mixed_body(i: usize) -> Value {
    let text = format!("request {i}: tell me something");
    match i % 8 {
        // A file part: held at the context window, reported as 100k tokens.
        0 => {
            json!({"model": "openai/gpt-4o-mini", "max_tokens": 16, "messages": [{"role": "user", "content": [
            {"type": "text", "text": text},
            {"type": "file", "file": {"file_id": "file-abc"}}]}]})
        }
        // Gemini with a long video by reference.
        1 => {
            json!({"model": "google/gemini-2.5-flash-lite", "max_tokens": 1, "messages": [{"role": "user", "content": [
            {"type": "text", "text": text},
            {"fileData": {"mimeType": "video/mp4", "fileUri": "https://example.com/hour.mp4"}}]}]})
        }
        // Tools the model must call.
        2 => json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}],
            "tools": [{"type": "function", "function": {"name": "lookup", "description": "Looks a thing up",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}}}],
            "tool_choice": "required"}),
        // Four choices.
        3 => {
            json!({"model": "openai/gpt-4o-mini", "n": 4, "max_tokens": 40, "messages": [{"role": "user", "content": text}]})
        }
        // A fallback to a pricier model (taken when a queued 500 hits the first).
        4 => json!({"model": "openai/gpt-4o-mini", "fallbacks": ["anthropic/claude-haiku-4-5"],
            "messages": [{"role": "user", "content": text}]}),
        // Streams, some cut by the provider.
        5 | 6 => json!({"model": "openai/gpt-4o-mini", "stream": true, "max_tokens": 30,
            "messages": [{"role": "user", "content": text}]}),
        // An image on Anthropic.
        _ => {
            json!({"model": "anthropic/claude-haiku-4-5", "max_tokens": 30, "messages": [{"role": "user", "content": [
            {"type": "text", "text": text},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]})
        }
    }
}

#[tokio::test]
async fn a_thousand_mixed_requests_never_overdraw_and_never_overrun_their_holds() {
    let h = start_with_client(|c| c.rate_limits = false, client_for_all).await;
    let key = h.user_with_key("mia", "0.5").await;
    for _ in 0..40 {
        h.sim
            .push_fault("openai", indoxrouter_simulator::Fault::status(500));
        h.sim.push_fault(
            "openai",
            indoxrouter_simulator::Fault::CutStream { after_chunks: 3 },
        );
    }
    let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(48));
    let tasks: Vec<_> = (0..1000)
        .map(|i| {
            let (http, url, key) = (
                h.http.clone(),
                format!("{}/v1/chat/completions", h.url),
                key.clone(),
            );
            let limit = limit.clone();
            tokio::spawn(async move {
                let _permit = limit.acquire().await.unwrap();
                let r = http
                    .post(url)
                    .bearer_auth(key)
                    .json(&mixed_body(i))
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let _ = r.bytes().await;
                status
            })
        })
        .collect();
    let mut by_status = std::collections::BTreeMap::new();
    for t in tasks {
        *by_status.entry(t.await.unwrap()).or_insert(0) += 1;
    }
    assert!(
        by_status.get(&200).copied().unwrap_or(0) > 20,
        "{by_status:?}"
    );
    assert!(
        by_status.get(&402).copied().unwrap_or(0) > 0,
        "{by_status:?}"
    );
    let balance = usd(&h.balance(&key).await);
    assert!(!balance.is_negative(), "balance {balance}");
    let admin = h.admin().await;
    let mut rows = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/admin/usage?limit=500&cursor={c}"),
            None => "/api/v1/admin/usage?limit=500".to_owned(),
        };
        let v: Value = h.get(&path, &admin).await.json().await.unwrap();
        rows.extend(v["data"].as_array().unwrap().iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let spent: indoxrouter::Usd = rows.iter().map(|r| usd(r["cost"].as_str().unwrap())).sum();
    assert_eq!(usd("0.5") - spent, balance, "Σ charges == balance drop");
    let overruns: Vec<&Value> = rows.iter().filter(|r| r["overrun"] != "0").collect();
    assert!(
        overruns.is_empty(),
        "an honest report exceeded its hold: {overruns:#?}"
    );
    // The file and video parts were billed as the provider counted them.
    assert!(
        rows.iter()
            .any(|r| r["prompt_tokens"].as_u64().unwrap() >= 100_000),
        "no media part reached the provider"
    );
}

#[tokio::test]
async fn a_batch_completion_charges_the_prompts_answered_when_another_fails() {
    let h = start().await;
    let key = h.user_with_key("nora", "1").await;
    h.sim
        .push_fault("openai", indoxrouter_simulator::Fault::status(500));
    let r = h
        .post(
            "/v1/completions",
            &key,
            json!({"model": "openai/gpt-4o-mini", "prompt": ["one", "two", "three"], "max_tokens": 20}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["choices"].as_array().unwrap().len(), 2, "{v}");
    let failed = v["failed_prompts"]
        .as_array()
        .expect("the failure is listed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["code"], "provider_unavailable");
    let cost = usd(v["usage"]["cost"].as_str().unwrap());
    assert!(cost > indoxrouter::Usd::ZERO);
    assert_eq!(usd("1") - usd(&h.balance(&key).await), cost);
    let rows = h.usage(&key).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(usd(rows[0]["cost"].as_str().unwrap()), cost);
}

#[tokio::test]
async fn shutdown_ends_in_bounded_time_when_a_client_stops_reading() {
    use tokio::io::AsyncWriteExt as _;
    let mut h = start_with(|c| c.shutdown_grace = std::time::Duration::from_secs(1)).await;
    let key = h.user_with_key("olga", "5").await;
    // A long answer (four choices of 16k words), to a client whose receive
    // buffer is tiny and who never reads: the relay fills every buffer on
    // the way and then waits to send.
    let prompt = "word ".repeat(16_000);
    let body = json!({"model": "openai/gpt-4o-mini", "stream": true, "n": 4, "max_tokens": 16_000,
        "messages": [{"role": "user", "content": prompt}]})
    .to_string();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr = h.url.trim_start_matches("http://").parse().unwrap();
    let mut conn = socket.connect(addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {key}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(body.as_bytes()).await.unwrap();
    // Until the relay is stuck: the stream is open and nothing is read.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;

    let started = std::time::Instant::now();
    tokio::time::timeout(std::time::Duration::from_secs(15), h.shutdown())
        .await
        .expect("shutdown hung on a client that does not read");
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(5),
        "shutdown took {took:?}"
    );
    drop(conn);

    let (store, _dir) = reopen_store(h).await;
    use indoxrouter_server::store::{Accounts as _, Ledger as _};
    let user = store.user_by_name("olga").unwrap();
    let page = store.usage(user.id, 10, None).await.unwrap();
    assert_eq!(page.rows.len(), 1, "the stream was not settled");
    assert!(page.rows[0].cost > indoxrouter::Usd::ZERO);
    assert_eq!(store.balance(user.id), usd("5") - page.rows[0].cost);
}

/// The stopped server's database, opened again. A connection's task may
/// hold the state a moment after shutdown, until it sees its client hang up.
/// Returns the store with the directory that holds it.
async fn reopen_store(
    h: Harness,
) -> (
    std::sync::Arc<indoxrouter_server::store::redb_store::RedbStore>,
    tempfile::TempDir,
) {
    let Harness { state, dir, .. } = h;
    drop(state);
    let path = dir.path().join("indoxrouter.redb");
    for _ in 0..100 {
        if let Ok(store) = indoxrouter_server::store::redb_store::RedbStore::open(&path) {
            return (store, dir);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let store = indoxrouter_server::store::redb_store::RedbStore::open(&path).unwrap();
    (store, dir)
}

/// The usage a gpt-4o-mini answer reports, and its catalog price.
fn reported(h: &Harness, answer: &Value) -> (indoxrouter::types::Usage, indoxrouter::Usd) {
    let usage: indoxrouter::types::Usage = serde_json::from_value(answer["usage"].clone()).unwrap();
    let cost = h
        .state
        .client
        .cost("openai/gpt-4o-mini", &usage)
        .unwrap()
        .unwrap()
        .total;
    (usage, cost)
}

#[tokio::test]
async fn priority_service_tier_is_charged_at_the_priority_price_and_unpriced_tiers_are_refused() {
    let h = start().await;
    let key = h.user_with_key("tia", "1").await;
    let priority = h
        .state
        .client
        .model("openai/gpt-4o-mini")
        .unwrap()
        .pricing
        .service_tier(Some("priority"))
        .unwrap()
        .clone();
    let mut body = chat_body("fast lane please");
    body["service_tier"] = json!("priority");
    let r = h.post("/v1/chat/completions", &key, body.clone()).await;
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    assert_eq!(answer["service_tier"], "priority");
    let (usage, standard) = reported(&h, &answer);
    let expected = priority.token_cost(&usage).unwrap().total;
    assert!(expected > standard, "{expected} vs {standard}");
    assert_eq!(usd(answer["usage"]["cost"].as_str().unwrap()), expected);

    // Streamed, the same price.
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let (chunks, done) = read_sse(h.post("/v1/chat/completions", &key, body).await).await;
    assert!(done);
    let last = chunks.iter().find(|c| c.get("usage").is_some()).unwrap();
    assert_eq!(usd(last["usage"]["cost"].as_str().unwrap()), expected);
    let rows = h.usage(&key).await;
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| usd(r["cost"].as_str().unwrap()) == expected)
    );

    // A tier the catalog has no price for (gpt-4o-mini has no flex price)
    // is refused before anything is held or sent.
    let before = h.sim.request_count();
    let mut flex = chat_body("cheap lane please");
    flex["service_tier"] = json!("flex");
    let r = h.post("/v1/chat/completions", &key, flex).await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["param"], "service_tier");
    assert_eq!(h.sim.request_count(), before);
}

#[tokio::test]
async fn a_cut_anthropic_stream_bills_the_input_tokens_anthropic_announced() {
    let h = start_with_client(|_| {}, client_for_all).await;
    let key = h.user_with_key("abe", "1").await;
    let mut body = chat_body("count my words exactly please");
    body["model"] = json!("anthropic/claude-haiku-4-5");
    let answer: Value = h
        .post("/v1/chat/completions", &key, body.clone())
        .await
        .json()
        .await
        .unwrap();
    let announced = answer["usage"]["prompt_tokens"].as_u64().unwrap();

    h.sim.push_fault(
        "anthropic",
        indoxrouter_simulator::Fault::CutStream { after_chunks: 3 },
    );
    body["stream"] = json!(true);
    let (chunks, done) = read_sse(h.post("/v1/chat/completions", &key, body).await).await;
    assert!(!done);
    assert!(chunks.last().unwrap().get("error").is_some());
    let rows = h.usage(&key).await;
    assert_eq!(rows[0]["status"], "upstream_error");
    // Not our estimate of the prompt: the count Anthropic sent in
    // `message_start`, the same as the whole answer reported.
    assert_eq!(rows[0]["prompt_tokens"], announced);
    assert!(rows[0]["completion_tokens"].as_u64().unwrap() >= 1);
}
