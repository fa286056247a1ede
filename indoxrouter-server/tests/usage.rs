//! Usage and spend reports: filters, cursors, access control, summaries,
//! exports, and upgrading a schema-1 database.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use std::collections::{BTreeMap, HashSet};

use common::*;
use indoxrouter::Usd;
use indoxrouter_server::store::redb_store::RedbStore;
use indoxrouter_server::store::{
    Accounts, Ledger, NewUser, PasswordHash, Role, SummaryQuery, UsageGroupBy, UsageGroupKey,
    UsageQuery, UsageRow, UsageStatus, UserId,
};
use serde_json::{Value, json};

/// 2026-11-01T00:00:00Z.
const BASE: u64 = 1_793_491_200_000;
const HOUR: u64 = 3_600_000;
const DAY: u64 = 86_400_000;

const MODELS: [(&str, &str); 3] = [
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o"),
    ("mistral", "mistral-small-latest"),
];

fn row(user: UserId, i: u64, key: Option<&str>, provider: &str, model: &str) -> UsageRow {
    UsageRow {
        request_id: format!("req_classic_{i:05}"),
        user_id: user,
        key_id: key.map(str::to_owned),
        endpoint: "chat".into(),
        provider: provider.into(),
        model: model.into(),
        stream: i % 2 == 0,
        prompt_tokens: 10 + i,
        completion_tokens: 3 * i + 1,
        cached_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        images: 0,
        // Odd pico amounts: any rounding or float would show.
        cost: Usd::from_pico(i128::from(i) * 1_234_567 + 1),
        unpriced: false,
        overrun: Usd::ZERO,
        latency_ms: 5,
        status: UsageStatus::Completed,
        // Every 7 hours and a few ms: distinct, spread over ~70 days.
        created_at_ms: BASE + i * 7 * HOUR + i,
    }
}

/// Settles `rows` through the ledger, concurrently so they group-commit.
async fn settle_all(ledger: &dyn Ledger, rows: Vec<UsageRow>) {
    let futures: Vec<_> = rows
        .into_iter()
        .map(|r| {
            let reservation = ledger.reserve(r.user_id, r.cost).unwrap();
            ledger.settle(reservation, r)
        })
        .collect();
    for result in futures_util::future::join_all(futures).await {
        result.unwrap();
    }
}

struct World {
    h: Harness,
    alice: String,
    bob: String,
    alice_id: UserId,
    bob_id: UserId,
    alice_keys: [String; 2],
    bob_key: String,
    /// Every seeded row, newest first.
    rows: Vec<UsageRow>,
}

async fn second_key(h: &Harness, username: &str) {
    let token = h.login(username, "password-123").await;
    let r = h
        .post("/api/v1/keys", &token, json!({"name": "second"}))
        .await;
    assert_eq!(r.status(), 201);
}

/// Alice (two keys) and Bob (one key), with `n` rows spread across users,
/// keys (and none: login-token requests), providers, models and days.
async fn world(n: u64) -> World {
    let h = start().await;
    let alice = h.user_with_key("alice", "1000").await;
    let bob = h.user_with_key("bob", "1000").await;
    second_key(&h, "alice").await;
    let alice_id = h.state.accounts.user_by_name("alice").unwrap().id;
    let bob_id = h.state.accounts.user_by_name("bob").unwrap().id;
    let mut ak: Vec<String> = h
        .state
        .accounts
        .list_keys(alice_id)
        .into_iter()
        .map(|k| k.id)
        .collect();
    ak.sort();
    let alice_keys = [ak[0].clone(), ak[1].clone()];
    let bob_key = h.state.accounts.list_keys(bob_id)[0].id.clone();

    let mut rows = Vec::new();
    for i in 0..n {
        let (provider, model) = MODELS[usize::try_from(i % 3).unwrap()];
        let r = if i % 4 == 3 {
            row(bob_id, i, Some(&bob_key), provider, model)
        } else {
            let key = match i % 5 {
                0 | 1 => Some(alice_keys[0].as_str()),
                2 | 3 => Some(alice_keys[1].as_str()),
                _ => None,
            };
            row(alice_id, i, key, provider, model)
        };
        rows.push(r);
    }
    settle_all(h.state.ledger.as_ref(), rows.clone()).await;
    rows.reverse();
    World {
        h,
        alice,
        bob,
        alice_id,
        bob_id,
        alice_keys,
        bob_key,
        rows,
    }
}

/// Follows `next_cursor` to the end with `limit`-row pages, checking page
/// sizes on the way.
async fn list_all(h: &Harness, token: &str, path: &str, limit: usize) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{path}{sep}limit={limit}");
        if let Some(c) = &cursor {
            url.push_str("&cursor=");
            url.push_str(c);
        }
        let r = h.get(&url, token).await;
        assert_eq!(r.status(), 200, "{url}: {}", r.text().await.unwrap());
        let v: Value = r.json().await.unwrap();
        let data = v["data"].as_array().unwrap();
        assert!(data.len() <= limit);
        out.extend(data.iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => {
                assert_eq!(data.len(), limit, "a short page before the end");
                cursor = Some(c.to_owned());
            }
            None => return out,
        }
    }
}

type Keep = Box<dyn Fn(&UsageRow) -> bool>;

fn keep(f: impl Fn(&UsageRow) -> bool + 'static) -> Keep {
    Box::new(f)
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| r["request_id"].as_str().unwrap().to_owned())
        .collect()
}

fn expected(rows: &[UsageRow], keep: impl Fn(&UsageRow) -> bool) -> Vec<String> {
    rows.iter()
        .filter(|r| keep(r))
        .map(|r| r.request_id.clone())
        .collect()
}

#[tokio::test]
async fn filters_and_cursors_select_exactly_the_matching_rows() {
    let w = world(120).await;
    let admin = w.h.admin().await;
    let (a, b) = (w.alice_id, w.bob_id);
    let [k1, k2] = w.alice_keys.clone();
    let from = BASE + 10 * DAY;
    let to = BASE + 30 * DAY;
    let from_rfc = "2026-11-11T00:00:00Z";
    // `+` must be escaped in a query string. = BASE + 30 days.
    let to_rfc = "2026-12-01T01:00:00%2B01:00";
    let (alice, bob) = (w.alice.as_str(), w.bob.as_str());
    let admin = admin.as_str();

    let cases: Vec<(String, &str, Keep)> = vec![
        (
            "/api/v1/users/me/usage".into(),
            alice,
            keep(move |r| r.user_id == a),
        ),
        (
            format!("/api/v1/users/me/usage?key_id={k1}"),
            alice,
            keep({
                let k1 = k1.clone();
                move |r| r.key_id.as_deref() == Some(k1.as_str())
            }),
        ),
        (
            "/api/v1/users/me/usage?provider=openai".into(),
            alice,
            keep(move |r| r.user_id == a && r.provider == "openai"),
        ),
        (
            "/api/v1/users/me/usage?model=openai/gpt-4o".into(),
            alice,
            keep(move |r| r.user_id == a && r.model == "gpt-4o"),
        ),
        (
            "/api/v1/users/me/usage?provider=mistral&model=mistral-small-latest".into(),
            alice,
            keep(move |r| r.user_id == a && r.provider == "mistral"),
        ),
        (
            format!("/api/v1/users/me/usage?from={from}&to={to}"),
            alice,
            keep(move |r| r.user_id == a && (from..to).contains(&r.created_at_ms)),
        ),
        (
            format!(
                "/api/v1/users/me/usage?from={from_rfc}&to={to_rfc}&key_id={k2}&provider=openai"
            ),
            alice,
            keep({
                let k2 = k2.clone();
                move |r| {
                    r.key_id.as_deref() == Some(k2.as_str())
                        && r.provider == "openai"
                        && (from..to).contains(&r.created_at_ms)
                }
            }),
        ),
        (
            "/api/v1/users/me/usage".into(),
            bob,
            keep(move |r| r.user_id == b),
        ),
        ("/api/v1/admin/usage".into(), admin, keep(|_| true)),
        (
            "/api/v1/admin/usage?user=bob".into(),
            admin,
            keep(move |r| r.user_id == b),
        ),
        (
            "/api/v1/admin/users/alice/usage?model=openai/gpt-4o-mini".into(),
            admin,
            keep(move |r| r.user_id == a && r.model == "gpt-4o-mini"),
        ),
        (
            format!("/api/v1/admin/usage?key_id={}", w.bob_key),
            admin,
            keep(move |r| r.user_id == b),
        ),
        (
            "/api/v1/admin/usage?provider=openai&model=gpt-4o".into(),
            admin,
            keep(|r| r.model == "gpt-4o"),
        ),
        (
            format!("/api/v1/admin/usage?provider=mistral&from={from}"),
            admin,
            keep(move |r| r.provider == "mistral" && r.created_at_ms >= from),
        ),
        (
            format!("/api/v1/admin/usage?to={to}"),
            admin,
            keep(move |r| r.created_at_ms < to),
        ),
    ];
    for (path, token, keep) in &cases {
        let want = expected(&w.rows, keep);
        assert!(!want.is_empty(), "{path}: the case selects nothing");
        for limit in [7, 1000] {
            let got = ids(&list_all(&w.h, token, path, limit).await);
            // Newest first, every row once: no gap, no duplicate.
            assert_eq!(got, want, "{path} limit={limit}");
        }
    }

    // Rows keep their shape and money stays a decimal string.
    let page = list_all(&w.h, &w.bob, "/api/v1/users/me/usage", 1000).await;
    let first = w.rows.iter().find(|r| r.user_id == b).unwrap();
    assert_eq!(page[0]["cost"], first.cost.to_string());
    assert_eq!(page[0]["key_id"], w.bob_key.as_str());
    assert_eq!(page[0]["created_at_ms"], first.created_at_ms);
    assert!(page[0]["created_at"].as_str().unwrap().ends_with('Z'));

    // A range with nothing in it is an empty last page.
    let v: Value =
        w.h.get(
            "/api/v1/users/me/usage?from=2020-01-01&to=2020-01-02",
            &w.alice,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v, json!({"data": [], "next_cursor": null}));
}

#[tokio::test]
async fn users_read_only_their_own_rows() {
    let w = world(40).await;
    let h = &w.h;
    for path in [
        "/api/v1/admin/usage",
        "/api/v1/admin/usage?user=alice",
        "/api/v1/admin/users/alice/usage",
        "/api/v1/admin/usage/summary",
        "/api/v1/admin/usage/export",
    ] {
        let r = h.get(path, &w.bob).await;
        assert_eq!(r.status(), 403, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], "forbidden");
    }
    // /me has no user filter at all.
    let r = h.get("/api/v1/users/me/usage?user=alice", &w.bob).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["param"], "user");
    // Someone else's key is "no such key", not their rows.
    let r = h
        .get(
            &format!("/api/v1/users/me/usage?key_id={}", w.alice_keys[0]),
            &w.bob,
        )
        .await;
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "key_not_found");
    let r = h
        .get(
            &format!("/api/v1/users/me/usage/export?key_id={}", w.alice_keys[0]),
            &w.bob,
        )
        .await;
    assert_eq!(r.status(), 404);

    // Alice's cursor does not page Bob's listing (or another query's).
    let v: Value = h
        .get("/api/v1/users/me/usage?limit=2", &w.alice)
        .await
        .json()
        .await
        .unwrap();
    let cursor = v["next_cursor"].as_str().unwrap();
    for (token, path) in [
        (&w.bob, format!("/api/v1/users/me/usage?cursor={cursor}")),
        (
            &w.alice,
            format!("/api/v1/users/me/usage?provider=openai&cursor={cursor}"),
        ),
    ] {
        let r = h.get(&path, token).await;
        assert_eq!(r.status(), 400, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["param"], "cursor");
    }

    // Everything Bob can see is his.
    let mine = list_all(h, &w.bob, "/api/v1/users/me/usage", 1000).await;
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|r| r["user_id"] == w.bob_id));
    let summary: Value = h
        .get("/api/v1/users/me/usage/summary?group_by=key", &w.bob)
        .await
        .json()
        .await
        .unwrap();
    let groups = summary["data"].as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["key_id"], w.bob_key.as_str());
}

#[tokio::test]
async fn bad_filter_values_are_client_errors_with_a_code() {
    let w = world(5).await;
    let admin = w.h.admin().await;
    let cases: &[(&str, u16, &str, &str)] = &[
        (
            "/api/v1/users/me/usage?limit=0",
            400,
            "invalid_request",
            "limit",
        ),
        (
            "/api/v1/users/me/usage?limit=1001",
            400,
            "invalid_request",
            "limit",
        ),
        (
            "/api/v1/users/me/usage?limit=ten",
            400,
            "invalid_request",
            "limit",
        ),
        (
            "/api/v1/users/me/usage?cursor=garbage",
            400,
            "invalid_request",
            "cursor",
        ),
        (
            "/api/v1/users/me/usage?cursor=",
            400,
            "invalid_request",
            "cursor",
        ),
        (
            "/api/v1/users/me/usage?from=yesterday",
            400,
            "invalid_request",
            "from",
        ),
        (
            "/api/v1/users/me/usage?to=2026-02-30",
            400,
            "invalid_request",
            "to",
        ),
        (
            "/api/v1/users/me/usage?from=-1",
            400,
            "invalid_request",
            "from",
        ),
        (
            "/api/v1/users/me/usage?from=99999999999999999999",
            400,
            "invalid_request",
            "from",
        ),
        (
            "/api/v1/users/me/usage?from=2026-11-02&to=2026-11-01",
            422,
            "invalid_parameters",
            "from",
        ),
        (
            "/api/v1/users/me/usage?model=gpt-4o",
            400,
            "invalid_request",
            "model",
        ),
        (
            "/api/v1/users/me/usage?provider=",
            400,
            "invalid_request",
            "provider",
        ),
        (
            "/api/v1/users/me/usage?modle=x",
            400,
            "invalid_request",
            "modle",
        ),
        (
            "/api/v1/users/me/usage?key_id=key_nope",
            404,
            "key_not_found",
            "key_id",
        ),
        (
            "/api/v1/users/me/usage/summary?group_by=week",
            400,
            "invalid_request",
            "group_by",
        ),
        (
            "/api/v1/users/me/usage/summary?group_by=user",
            400,
            "invalid_request",
            "group_by",
        ),
        (
            "/api/v1/users/me/usage/summary?from=1793491200001",
            400,
            "invalid_request",
            "from",
        ),
        (
            "/api/v1/users/me/usage/summary?to=2026-11-01T12:00:00Z",
            400,
            "invalid_request",
            "to",
        ),
        (
            "/api/v1/users/me/usage/summary?limit=5",
            400,
            "invalid_request",
            "limit",
        ),
        (
            "/api/v1/users/me/usage/export?format=xml",
            400,
            "invalid_request",
            "format",
        ),
        (
            "/api/v1/users/me/usage/export?cursor=abc",
            400,
            "invalid_request",
            "cursor",
        ),
    ];
    for (path, status, code, param) in cases {
        let r = w.h.get(path, &w.alice).await;
        assert_eq!(r.status().as_u16(), *status, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], *code, "{path}: {v}");
        assert_eq!(v["param"], *param, "{path}: {v}");
    }
    for (path, status, code) in [
        ("/api/v1/admin/usage?user=nobody", 404, "user_not_found"),
        ("/api/v1/admin/users/nobody/usage", 404, "user_not_found"),
        (
            "/api/v1/admin/usage/summary?user=nobody",
            404,
            "user_not_found",
        ),
        (
            "/api/v1/admin/usage?from=2026-11-27T10:57:19",
            400,
            "invalid_request",
        ),
        (
            "/api/v1/admin/users/alice/usage?user=bob",
            400,
            "invalid_request",
        ),
    ] {
        let r = w.h.get(path, &admin).await;
        assert_eq!(r.status().as_u16(), status, "{path}");
        assert_eq!(r.json::<Value>().await.unwrap()["code"], code, "{path}");
    }
    // Unauthenticated is 401, not a listing.
    let r = w.h.get_public("/api/v1/users/me/usage/summary").await;
    assert_eq!(r.status(), 401);
}

fn day_label(ms: u64) -> String {
    indoxrouter_server::time::rfc3339_millis(ms)[..10].to_owned()
}

#[tokio::test]
async fn summary_totals_equal_the_sum_of_the_rows_exactly() {
    let w = world(150).await;
    let admin = w.h.admin().await;
    let from = "2026-11-05";
    let to = "2026-12-20";
    let (from_ms, to_ms) = (BASE + 4 * DAY, BASE + 49 * DAY);

    // (token, summary path, listing path whose rows it must add up to)
    let cases = [
        (
            &w.alice,
            "/api/v1/users/me/usage/summary".to_owned(),
            "/api/v1/users/me/usage".to_owned(),
        ),
        (
            &w.alice,
            format!("/api/v1/users/me/usage/summary?from={from}&to={to}"),
            format!("/api/v1/users/me/usage?from={from}&to={to}"),
        ),
        (
            &admin,
            "/api/v1/admin/usage/summary".into(),
            "/api/v1/admin/usage".into(),
        ),
        (
            &admin,
            format!("/api/v1/admin/usage/summary?user=bob&from={from_ms}&to={to_ms}"),
            format!("/api/v1/admin/usage?user=bob&from={from_ms}&to={to_ms}"),
        ),
    ];
    for (token, summary_path, list_path) in &cases {
        let rows = list_all(&w.h, token, list_path, 1000).await;
        assert!(!rows.is_empty());
        for group_by in ["day", "model", "provider", "key", "user"] {
            if group_by == "user" && !summary_path.contains("/admin/") {
                continue;
            }
            let sep = if summary_path.contains('?') { '&' } else { '?' };
            let r =
                w.h.get(&format!("{summary_path}{sep}group_by={group_by}"), token)
                    .await;
            assert_eq!(r.status(), 200, "{summary_path} {group_by}");
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["group_by"], group_by);

            // The same sums computed from the rows.
            let mut want: BTreeMap<String, (u64, u64, u64, Usd)> = BTreeMap::new();
            for row in &rows {
                let label = match group_by {
                    "day" => day_label(row["created_at_ms"].as_u64().unwrap()),
                    "model" => format!(
                        "{}/{}",
                        row["provider"].as_str().unwrap(),
                        row["model"].as_str().unwrap()
                    ),
                    "provider" => row["provider"].as_str().unwrap().to_owned(),
                    "key" => row["key_id"].as_str().unwrap_or("<none>").to_owned(),
                    _ => {
                        let id = row["user_id"].as_u64().unwrap();
                        w.h.state.accounts.user_by_id(id).unwrap().username
                    }
                };
                let e = want.entry(label).or_insert((0, 0, 0, Usd::ZERO));
                e.0 += 1;
                e.1 += row["prompt_tokens"].as_u64().unwrap();
                e.2 += row["completion_tokens"].as_u64().unwrap();
                e.3 += usd(row["cost"].as_str().unwrap());
            }
            let mut got = BTreeMap::new();
            for g in v["data"].as_array().unwrap() {
                let label = g["group"].as_str().unwrap_or("<none>").to_owned();
                let totals = (
                    g["requests"].as_u64().unwrap(),
                    g["prompt_tokens"].as_u64().unwrap(),
                    g["completion_tokens"].as_u64().unwrap(),
                    usd(g["cost"].as_str().unwrap()),
                );
                assert!(got.insert(label, totals).is_none(), "duplicate group");
            }
            assert_eq!(got, want, "{summary_path} group_by={group_by}");

            let total = &v["total"];
            assert_eq!(total["requests"].as_u64().unwrap(), rows.len() as u64);
            let cost: Usd = rows.iter().map(|r| usd(r["cost"].as_str().unwrap())).sum();
            assert_eq!(total["cost"], cost.to_string(), "{summary_path}");
            assert_eq!(
                total["total_tokens"].as_u64().unwrap(),
                total["prompt_tokens"].as_u64().unwrap()
                    + total["completion_tokens"].as_u64().unwrap()
            );
        }
    }

    // Days come in calendar order.
    let v: Value =
        w.h.get("/api/v1/users/me/usage/summary", &w.alice)
            .await
            .json()
            .await
            .unwrap();
    let days: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    let mut sorted = days.clone();
    sorted.sort_unstable();
    assert_eq!(days, sorted);
}

/// A minimal RFC 4180 reader: quoted fields, doubled quotes, CRLF records.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                other => field.push(other),
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            other => field.push(other),
        }
    }
    assert!(field.is_empty() && record.is_empty(), "unterminated record");
    records
}

#[tokio::test]
async fn exports_stream_csv_and_jsonl_that_match_the_rows() {
    // More than one export page (1,000 rows), so the body spans pages.
    let w = world(2300).await;
    // A model name that needs quoting.
    let odd = row(w.alice_id, 99_999, None, "custom", "odd,\"model\"\nname");
    settle_all(w.h.state.ledger.as_ref(), vec![odd.clone()]).await;
    let admin = w.h.admin().await;

    for (token, export, list) in [
        (
            &w.alice,
            "/api/v1/users/me/usage/export",
            "/api/v1/users/me/usage",
        ),
        (
            &w.alice,
            "/api/v1/users/me/usage/export?format=csv&provider=openai&from=2026-11-10",
            "/api/v1/users/me/usage?provider=openai&from=2026-11-10",
        ),
        (
            &admin,
            "/api/v1/admin/usage/export?format=csv",
            "/api/v1/admin/usage",
        ),
    ] {
        let rows = list_all(&w.h, token, list, 1000).await;
        let r = w.h.get(export, token).await;
        assert_eq!(r.status(), 200, "{export}");
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let disposition = r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            disposition.starts_with("attachment; filename=\"usage-")
                && disposition.ends_with(".csv\""),
            "{disposition}"
        );
        assert_eq!(r.headers()["transfer-encoding"], "chunked");
        let text = r.text().await.unwrap();
        let records = parse_csv(&text);
        let header = &records[0];
        assert_eq!(header[0], "request_id");
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(records.len() - 1, rows.len(), "{export}");
        for (rec, row) in records[1..].iter().zip(&rows) {
            assert_eq!(rec.len(), header.len());
            assert_eq!(rec[col("request_id")], row["request_id"].as_str().unwrap());
            assert_eq!(rec[col("model")], row["model"].as_str().unwrap());
            assert_eq!(rec[col("cost")], row["cost"].as_str().unwrap());
            assert_eq!(rec[col("key_id")], row["key_id"].as_str().unwrap_or(""));
            assert_eq!(rec[col("created_at_ms")], row["created_at_ms"].to_string());
            assert_eq!(rec[col("status")], row["status"].as_str().unwrap());
            let user =
                w.h.state
                    .accounts
                    .user_by_id(row["user_id"].as_u64().unwrap())
                    .unwrap();
            assert_eq!(rec[col("username")], user.username);
        }
        if export.starts_with("/api/v1/admin") || export.ends_with("/export") {
            assert!(text.contains("\"odd,\"\"model\"\"\nname\""), "quoted field");
        }
    }

    for (token, export, list) in [
        (
            &w.bob,
            "/api/v1/users/me/usage/export?format=jsonl",
            "/api/v1/users/me/usage",
        ),
        (
            &admin,
            "/api/v1/admin/usage/export?format=jsonl&user=alice&model=openai/gpt-4o",
            "/api/v1/admin/usage?user=alice&model=openai/gpt-4o",
        ),
        (
            &admin,
            "/api/v1/admin/usage/export?format=jsonl",
            "/api/v1/admin/usage",
        ),
    ] {
        let rows = list_all(&w.h, token, list, 1000).await;
        let r = w.h.get(export, token).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/x-ndjson");
        assert!(
            r.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .ends_with(".jsonl\"")
        );
        let text = r.text().await.unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines, rows, "{export}");
    }

    // An empty export is just the header.
    let r =
        w.h.get(
            "/api/v1/users/me/usage/export?from=2020-01-01&to=2020-01-02",
            &w.bob,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(parse_csv(&r.text().await.unwrap()).len(), 1);
}

#[tokio::test]
async fn real_requests_are_reported_by_key_and_model() {
    let h = start().await;
    let key = h.user_with_key("carol", "5").await;
    second_key(&h, "carol").await;
    let carol = h.state.accounts.user_by_name("carol").unwrap().id;
    let keys = h.state.accounts.list_keys(carol);
    let first = keys
        .iter()
        .find(|k| k.name.as_deref() == Some("test"))
        .unwrap();
    for text in ["one", "two", "three"] {
        let r = h.post("/v1/chat/completions", &key, chat_body(text)).await;
        assert_eq!(r.status(), 200);
    }
    let all = list_all(&h, &key, "/api/v1/users/me/usage", 100).await;
    let model = format!(
        "{}/{}",
        all[0]["provider"].as_str().unwrap(),
        all[0]["model"].as_str().unwrap()
    );
    let rows = list_all(
        &h,
        &key,
        &format!("/api/v1/users/me/usage?key_id={}&model={model}", first.id),
        2,
    )
    .await;
    assert_eq!(rows.len(), 3);
    let unique: HashSet<String> = ids(&rows).into_iter().collect();
    assert_eq!(unique.len(), 3);
    let v: Value = h
        .get("/api/v1/users/me/usage/summary?group_by=model", &key)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"][0]["group"], model.as_str());
    assert_eq!(v["data"][0]["requests"], 3);
    let spent: Usd = rows.iter().map(|r| usd(r["cost"].as_str().unwrap())).sum();
    assert_eq!(v["total"]["cost"], spent.to_string());
    assert_eq!(usd(&h.balance(&key).await), usd("5") - spent);
}

// ---------------------------------------------------------------------------
// Store level

fn new_user(name: &str) -> NewUser {
    NewUser {
        username: name.into(),
        password_hash: PasswordHash("$argon2id$dummy".into()),
        role: Role::User,
        credits: usd("100"),
        tier: None,
    }
}

async fn all_rows(store: &RedbStore, query: UsageQuery) -> Vec<UsageRow> {
    let mut out = Vec::new();
    let mut q = query;
    loop {
        let page = store.usage_query(q.clone()).await.unwrap();
        out.extend(page.rows);
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => return out,
        }
    }
}

#[tokio::test]
async fn reopening_a_schema_1_database_builds_the_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("indoxrouter.redb");
    let (ada, rows) = {
        let store = RedbStore::open(&path).unwrap();
        let ada = store.create_user(new_user("ada")).await.unwrap();
        let rows: Vec<UsageRow> = (0..50)
            .map(|i| {
                let (p, m) = MODELS[usize::try_from(i % 3).unwrap()];
                row(ada.id, i, (i % 2 == 0).then_some("key_even"), p, m)
            })
            .collect();
        settle_all(store.as_ref(), rows.clone()).await;
        store.shutdown().unwrap();
        (ada, rows)
    };

    // Make it what a schema-1 server wrote: no index or rollup tables.
    {
        use redb::TableHandle as _;
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        let mut dropped = 0;
        for table in txn.list_tables().unwrap() {
            let name = table.name().to_owned();
            if name.starts_with("usage_") {
                assert!(txn.delete_table(table).unwrap());
                dropped += 1;
            }
        }
        assert_eq!(dropped, 3, "the index table and 2 rollups");
        {
            let mut meta = txn
                .open_table(redb::TableDefinition::<&str, u64>::new("meta"))
                .unwrap();
            meta.insert("schema_version", 1).unwrap();
        }
        txn.commit().unwrap();
    }

    let store = RedbStore::open(&path).unwrap();
    let newest_first: Vec<UsageRow> = rows.iter().rev().cloned().collect();
    let q = |f: &dyn Fn(&mut UsageQuery)| {
        let mut q = UsageQuery::for_user(ada.id, 7, None);
        f(&mut q);
        q
    };
    assert_eq!(all_rows(&store, q(&|_| {})).await, newest_first);
    let by_key = all_rows(&store, q(&|q| q.key_id = Some("key_even".into()))).await;
    assert_eq!(by_key.len(), 25);
    let by_model = all_rows(
        &store,
        q(&|q| {
            q.provider = Some("openai".into());
            q.model = Some("gpt-4o".into());
        }),
    )
    .await;
    let want: Vec<UsageRow> = newest_first
        .iter()
        .filter(|r| r.model == "gpt-4o")
        .cloned()
        .collect();
    assert_eq!(by_model, want);
    let all_users = all_rows(
        &store,
        UsageQuery {
            limit: 9,
            ..UsageQuery::default()
        },
    )
    .await;
    assert_eq!(all_users, newest_first);

    let summary = store
        .usage_summary(SummaryQuery {
            user: Some(ada.id),
            group_by: UsageGroupBy::Provider,
            from_day: None,
            to_day: None,
        })
        .await
        .unwrap();
    let total: Usd = rows.iter().map(|r| r.cost).sum();
    assert_eq!(summary.total.cost, total);
    assert_eq!(summary.total.requests, 50);
    assert_eq!(
        summary
            .groups
            .iter()
            .map(|(k, _)| k.clone())
            .collect::<Vec<_>>(),
        [
            UsageGroupKey::Provider("mistral".into()),
            UsageGroupKey::Provider("openai".into())
        ]
    );

    // New rows after the upgrade land in the same indexes.
    let extra = row(ada.id, 50, Some("key_even"), "openai", "gpt-4o");
    settle_all(store.as_ref(), vec![extra.clone()]).await;
    let by_key = all_rows(&store, q(&|q| q.key_id = Some("key_even".into()))).await;
    assert_eq!(by_key[0], extra);
    assert_eq!(by_key.len(), 26);
    // The balance still reconciles.
    assert_eq!(store.balance(ada.id), usd("100") - total - extra.cost);
}

/// Indexes are written after the charge, in batches committed without an
/// fsync; a crash can lose a batch but never the rows. Reopening re-indexes
/// the rows past the durable watermark.
#[tokio::test]
async fn rows_committed_but_not_yet_indexed_are_indexed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("indoxrouter.redb");
    let (ada, rows) = {
        let store = RedbStore::open(&path).unwrap();
        let ada = store.create_user(new_user("ada")).await.unwrap();
        let rows: Vec<UsageRow> = (0..40)
            .map(|i| row(ada.id, i, Some("key_a"), "openai", "gpt-4o-mini"))
            .collect();
        settle_all(store.as_ref(), rows.clone()).await;
        store.shutdown().unwrap();
        (ada, rows)
    };
    // What a crash before the last index batch was durable leaves: the rows
    // and `usage_seq_end`, but indexes and watermark from before them.
    {
        let db = redb::Database::create(&path).unwrap();
        let txn = db.begin_write().unwrap();
        {
            use redb::ReadableTable as _;
            let meta_def = redb::TableDefinition::<&str, u64>::new("meta");
            let mut meta = txn.open_table(meta_def).unwrap();
            let end = meta.get("usage_seq_end").unwrap().unwrap().value();
            let indexed = meta.get("usage_indexed_end").unwrap().unwrap().value();
            assert_eq!(end, indexed, "a clean shutdown indexes everything");
            meta.insert("usage_indexed_end", 0).unwrap();
            let mut ix = txn
                .open_table(redb::TableDefinition::<&[u8], u64>::new("usage_ix"))
                .unwrap();
            ix.retain(|_, _| false).unwrap();
            type Rollup = redb::TableDefinition<
                'static,
                (u64, u64, &'static str, &'static str, &'static str),
                (u64, u64, u64, i128),
            >;
            for name in ["usage_rollup_user", "usage_rollup_day"] {
                let mut t = txn.open_table(Rollup::new(name)).unwrap();
                t.retain(|_, _| false).unwrap();
            }
        }
        txn.commit().unwrap();
    }
    let store = RedbStore::open(&path).unwrap();
    let listed = all_rows(&store, UsageQuery::for_user(ada.id, 7, None)).await;
    let newest_first: Vec<UsageRow> = rows.iter().rev().cloned().collect();
    assert_eq!(listed, newest_first);
    let summary = store
        .usage_summary(SummaryQuery {
            user: Some(ada.id),
            group_by: UsageGroupBy::Key,
            from_day: None,
            to_day: None,
        })
        .await
        .unwrap();
    assert_eq!(summary.total.requests, 40);
    assert_eq!(summary.total.cost, rows.iter().map(|r| r.cost).sum::<Usd>());
}

/// A read right after a settle sees the row: reads wait for the writer to
/// index what it has committed.
#[tokio::test]
async fn a_settled_row_is_listed_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&dir.path().join("db.redb")).unwrap();
    let ada = store.create_user(new_user("ada")).await.unwrap();
    for i in 0..5 {
        let r = row(ada.id, i, None, "openai", "gpt-4o");
        settle_all(store.as_ref(), vec![r.clone()]).await;
        let page = store
            .usage_query(UsageQuery::for_user(ada.id, 1, None))
            .await
            .unwrap();
        assert_eq!(page.rows, vec![r]);
    }
}

#[tokio::test]
async fn bulk_load_and_post_filtered_pages_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let store = RedbStore::open(&dir.path().join("db.redb")).unwrap();
    let ada = store.create_user(new_user("ada")).await.unwrap();
    // 30,000 rows from one key on one model, then one on another model: a
    // key + model query must post-filter, and stops after MAX_SCAN entries.
    let mut rows: Vec<UsageRow> = (0..30_000)
        .map(|i| {
            let mut r = row(ada.id, i, Some("key_a"), "openai", "gpt-4o-mini");
            r.cost = Usd::ZERO;
            r
        })
        .collect();
    let mut needle = row(ada.id, 0, Some("key_a"), "openai", "gpt-4o");
    needle.request_id = "needle".into();
    needle.created_at_ms = 1;
    rows.push(needle.clone());
    assert_eq!(store.bulk_load_usage(rows, 10_000).unwrap(), 30_001);
    assert_eq!(store.balance(ada.id), usd("100") - needle.cost);

    let mut q = UsageQuery::for_user(ada.id, 10, None);
    q.key_id = Some("key_a".into());
    q.provider = Some("openai".into());
    q.model = Some("gpt-4o".into());
    let first = store.usage_query(q.clone()).await.unwrap();
    assert!(first.rows.is_empty(), "the budget ends the page early");
    assert!(first.next_cursor.is_some());
    let all = all_rows(&store, q).await;
    assert_eq!(all, [needle]);
}
