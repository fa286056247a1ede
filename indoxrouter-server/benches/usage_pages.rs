//! The cost of one usage page as the ledger grows: 10k, 100k and 1M rows,
//! page 1 and a deep page (half-way through the matching rows, reached by
//! cursor), for a user's unfiltered listing, a key filter, a model filter, a
//! time range and an admin-wide listing. Per-page time should be flat
//! across sizes: every filter is an index range scan.
//!
//!     cargo bench -p indoxrouter-server --bench usage_pages
//!
//! `USAGE_BENCH_SIZES=10000,100000` limits the sizes (the 1M-row ledger
//! takes about a minute to build and ~1.5 GB of temporary disk). Under
//! `cargo test --all-targets` only the 10k-row ledger is built.
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use indoxrouter::Usd;
use indoxrouter_server::store::redb_store::RedbStore;
use indoxrouter_server::store::{
    Accounts, Ledger, NewUser, PasswordHash, Role, UsageQuery, UsageRow, UsageStatus, UserId,
};

const USERS: u64 = 10;
const KEYS_PER_USER: u64 = 4;
const MODELS: [(&str, &str); 6] = [
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o"),
    ("anthropic", "claude-3-5-haiku-latest"),
    ("anthropic", "claude-sonnet-4-5"),
    ("mistral", "mistral-small-latest"),
    ("mistral", "mistral-large-latest"),
];
/// 2026-01-01T00:00:00Z; one row every 2 s from there.
const START_MS: u64 = 1_767_225_600_000;
const STEP_MS: u64 = 2_000;
const PAGE: usize = 100;

fn row(i: u64, first_user: UserId) -> UsageRow {
    let user = first_user + i % USERS;
    let key = (i / USERS) % KEYS_PER_USER;
    let (provider, model) = MODELS[usize::try_from((i / 7) % 6).unwrap_or(0)];
    UsageRow {
        request_id: format!("req_{i:024x}"),
        user_id: user,
        key_id: Some(format!("key_u{user}_{key}")),
        endpoint: "chat".into(),
        provider: provider.into(),
        model: model.into(),
        stream: i % 3 == 0,
        prompt_tokens: 100 + i % 900,
        completion_tokens: 20 + i % 300,
        cached_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        images: 0,
        cost: Usd::from_pico(i128::from(i % 10_000) * 1_000_000 + 137),
        unpriced: false,
        overrun: Usd::ZERO,
        latency_ms: 250 + i % 1000,
        status: UsageStatus::Completed,
        created_at_ms: START_MS + i * STEP_MS,
    }
}

struct Ledger1 {
    _dir: tempfile::TempDir,
    store: Arc<RedbStore>,
    first_user: UserId,
}

fn build(rt: &tokio::runtime::Runtime, rows: u64) -> Ledger1 {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = RedbStore::open(&dir.path().join("bench.redb")).expect("open");
    let mut first_user = 0;
    for u in 0..USERS {
        let user = rt
            .block_on(store.create_user(NewUser {
                username: format!("user{u}"),
                password_hash: PasswordHash("$argon2id$bench".into()),
                role: Role::User,
                credits: Usd::parse("1000000000").unwrap(),
                tier: None,
            }))
            .unwrap();
        if u == 0 {
            first_user = user.id;
        }
    }
    let t = Instant::now();
    let written = store
        .bulk_load_usage((0..rows).map(|i| row(i, first_user)), 50_000)
        .unwrap();
    assert_eq!(written, rows);
    eprintln!(
        "usage_pages: loaded {rows} rows in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    Ledger1 {
        _dir: dir,
        store,
        first_user,
    }
}

/// The queries measured, built for a ledger of `rows` rows.
fn queries(first_user: UserId, rows: u64) -> Vec<(&'static str, UsageQuery)> {
    let user = first_user;
    let base = UsageQuery::for_user(user, PAGE, None);
    let span = rows * STEP_MS;
    vec![
        ("user", base.clone()),
        (
            "user+key",
            UsageQuery {
                key_id: Some(format!("key_u{user}_1")),
                ..base.clone()
            },
        ),
        (
            "user+model",
            UsageQuery {
                provider: Some("anthropic".into()),
                model: Some("claude-sonnet-4-5".into()),
                ..base.clone()
            },
        ),
        (
            // The middle fifth of the ledger's time span.
            "user+time",
            UsageQuery {
                from_ms: Some(START_MS + span * 2 / 5),
                to_ms: Some(START_MS + span * 3 / 5),
                ..base.clone()
            },
        ),
        (
            "admin-all",
            UsageQuery {
                user: None,
                ..base.clone()
            },
        ),
        (
            "admin+model",
            UsageQuery {
                user: None,
                provider: Some("openai".into()),
                model: Some("gpt-4o".into()),
                ..base
            },
        ),
    ]
}

/// A cursor about half-way through `q`'s matches, reached by paging (1,000 rows
/// a page, so getting there is quick).
fn deep_cursor(rt: &tokio::runtime::Runtime, store: &RedbStore, q: &UsageQuery) -> String {
    let mut total = 0usize;
    let mut probe = UsageQuery {
        limit: 1000,
        ..q.clone()
    };
    loop {
        let page = rt.block_on(store.usage_query(probe.clone())).unwrap();
        total += page.rows.len();
        match page.next_cursor {
            Some(c) => probe.cursor = Some(c),
            None => break,
        }
    }
    let mut walk = UsageQuery {
        limit: 1000,
        ..q.clone()
    };
    // Half-way, but leaving at least a full page after it.
    let target = (total / 2).min(total.saturating_sub(PAGE));
    let mut seen = 0usize;
    let mut cursor = None;
    while seen < target {
        walk.limit = (target - seen).min(1000);
        let page = rt.block_on(store.usage_query(walk.clone())).unwrap();
        seen += page.rows.len();
        cursor = page.next_cursor;
        walk.cursor.clone_from(&cursor);
        if cursor.is_none() {
            break;
        }
    }
    cursor.expect("matches past the middle")
}

fn sizes() -> Vec<u64> {
    if let Ok(sizes) = std::env::var("USAGE_BENCH_SIZES") {
        return sizes
            .split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect();
    }
    // `cargo test --all-targets` runs each benchmark once, unoptimised and
    // without `--bench`: the smallest ledger shows they work, while the
    // 1M-row one would cost CI minutes for nothing.
    if std::env::args().any(|a| a == "--bench") {
        vec![10_000, 100_000, 1_000_000]
    } else {
        vec![10_000]
    }
}

fn usage_pages(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("usage_page");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for rows in sizes() {
        let ledger = build(&rt, rows);
        for (name, q) in queries(ledger.first_user, rows) {
            let first = rt.block_on(ledger.store.usage_query(q.clone())).unwrap();
            assert_eq!(first.rows.len(), PAGE, "{name}: a full first page");
            let deep = UsageQuery {
                cursor: Some(deep_cursor(&rt, &ledger.store, &q)),
                ..q.clone()
            };
            for (page, query) in [("page1", q), ("deep", deep)] {
                group.bench_with_input(
                    BenchmarkId::new(format!("{name}/{page}"), rows),
                    &query,
                    |b, query| {
                        b.iter(|| {
                            let p = rt
                                .block_on(ledger.store.usage_query(query.clone()))
                                .unwrap();
                            assert_eq!(p.rows.len(), PAGE);
                            black_box(p)
                        });
                    },
                );
            }
        }
    }
    group.finish();
}

criterion_group!(benches, usage_pages);
criterion_main!(benches);
