//! The redb store: accounts, keys, reservations, group-committed settles,
//! paging, and the ledger invariant across a reopen.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;

use indoxrouter::Usd;
use indoxrouter_server::store::redb_store::RedbStore;
use indoxrouter_server::store::{
    Accounts, ApiKeyRecord, CreditEntry, Ledger, NewUser, PasswordHash, Role, StoreError, UsageRow,
    UsageStatus, User, UserId, UserUpdate,
};
use tempfile::TempDir;

fn usd(s: &str) -> Usd {
    Usd::parse(s).unwrap()
}

fn db_path(dir: &TempDir) -> PathBuf {
    // A missing parent directory: `open` must create it.
    dir.path().join("data").join("indoxrouter.redb")
}

fn open(dir: &TempDir) -> Arc<RedbStore> {
    RedbStore::open(&db_path(dir)).unwrap()
}

fn new_user(name: &str, credits: &str) -> NewUser {
    NewUser {
        username: name.into(),
        password_hash: PasswordHash("$argon2id$dummy".into()),
        role: Role::User,
        credits: usd(credits),
        tier: None,
    }
}

async fn user(store: &RedbStore, name: &str, credits: &str) -> User {
    store.create_user(new_user(name, credits)).await.unwrap()
}

fn row(user: UserId, request_id: &str, cost: &str) -> UsageRow {
    UsageRow {
        request_id: request_id.into(),
        user_id: user,
        key_id: None,
        endpoint: "chat".into(),
        provider: "openai".into(),
        model: "gpt-4o-mini".into(),
        stream: false,
        prompt_tokens: 10,
        completion_tokens: 5,
        cached_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
        images: 0,
        cost: usd(cost),
        unpriced: false,
        overrun: Usd::ZERO,
        latency_ms: 12,
        status: UsageStatus::Completed,
        created_at_ms: 1,
    }
}

fn credit(user: UserId, amount: &str) -> CreditEntry {
    CreditEntry {
        user_id: user,
        amount: usd(amount),
        reason: "top-up".into(),
        by: Some(1),
        created_at_ms: 2,
    }
}

fn key(id: &str, user: UserId, fill: u8, created_at: u64) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        user_id: user,
        name: Some(format!("{id} label")),
        prefix: "ixr-abcdefgh".into(),
        hash: [fill; 32],
        created_at,
        expires_at: None,
        revoked_at: None,
        tier: None,
        scopes: None,
        models: None,
        max_tokens_per_request: None,
        budget: None,
        parent: None,
    }
}

async fn all_usage(store: &RedbStore, user: UserId) -> Vec<UsageRow> {
    let mut rows = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.usage(user, 7, cursor.as_deref()).await.unwrap();
        rows.extend(page.rows);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return rows,
        }
    }
}

async fn assert_ledger_invariant(store: &RedbStore, user: UserId) {
    let credits = store.credits_total(user).await.unwrap();
    let spent: Usd = all_usage(store, user).await.iter().map(|r| r.cost).sum();
    assert_eq!(store.balance(user), credits - spent, "user {user}");
}

#[tokio::test]
async fn creates_users_with_opening_credit() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let ada = user(&store, "ada", "10").await;
    let bob = user(&store, "bob", "0").await;
    assert_eq!((ada.id, bob.id), (1, 2));
    assert_eq!(ada.role, Role::User);
    assert!(ada.created_at > 0);

    assert_eq!(store.user_by_name("ada"), Some(ada.clone()));
    assert_eq!(
        store.user_by_name("Ada"),
        None,
        "usernames are case-sensitive"
    );
    assert_eq!(store.user_by_id(bob.id), Some(bob.clone()));
    assert_eq!(store.user_by_id(99), None);
    assert_eq!(store.list_users(), vec![ada.clone(), bob.clone()]);

    assert_eq!(store.balance(ada.id), usd("10"));
    assert_eq!(store.available(ada.id), usd("10"));
    assert_eq!(store.credits_total(ada.id).await.unwrap(), usd("10"));
    assert_eq!(store.balance(bob.id), Usd::ZERO);
    assert_eq!(store.credits_total(bob.id).await.unwrap(), Usd::ZERO);
    assert_eq!(store.balance(99), Usd::ZERO);
}

#[tokio::test]
async fn duplicate_username_is_refused_without_spoiling_its_group() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    // Queued together so they land in one group: the refusal must not abort
    // the valid creations around it.
    let a = store.create_user(new_user("ada", "1"));
    let b = store.create_user(new_user("ada", "5"));
    let c = store.create_user(new_user("bob", "2"));
    let (a, b, c) = tokio::join!(a, b, c);
    assert_eq!(a.unwrap().username, "ada");
    assert!(matches!(b, Err(StoreError::UserExists(name)) if name == "ada"));
    let bob = c.unwrap();
    assert_eq!(bob.id, 2, "the refused user consumed no id");
    assert_eq!(store.list_users().len(), 2);
    assert_eq!(store.balance(1), usd("1"));
    assert_eq!(store.credits_total(1).await.unwrap(), usd("1"));
}

#[tokio::test]
async fn keys_are_found_listed_and_revoked() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let ada = user(&store, "ada", "0").await;
    let bob = user(&store, "bob", "0").await;

    store
        .create_key(key("key_a", ada.id, 1, 100))
        .await
        .unwrap();
    store
        .create_key(key("key_b", ada.id, 2, 200))
        .await
        .unwrap();
    store
        .create_key(key("key_c", bob.id, 3, 150))
        .await
        .unwrap();
    assert!(matches!(
        store.create_key(key("key_x", 99, 4, 1)).await,
        Err(StoreError::UserNotFound)
    ));
    assert!(
        store.create_key(key("key_a", ada.id, 5, 1)).await.is_err(),
        "duplicate id"
    );

    assert_eq!(store.key_by_hash(&[1; 32]).unwrap().id, "key_a");
    assert_eq!(store.key_by_hash(&[9; 32]), None);
    let ids: Vec<String> = store.list_keys(ada.id).into_iter().map(|k| k.id).collect();
    assert_eq!(ids, ["key_b", "key_a"], "newest first");

    // Someone else's key looks exactly like a missing one.
    assert!(matches!(
        store.revoke_key(bob.id, "key_a", 500).await,
        Err(StoreError::KeyNotFound)
    ));
    assert!(matches!(
        store.revoke_key(ada.id, "key_nope", 500).await,
        Err(StoreError::KeyNotFound)
    ));

    let revoked = store.revoke_key(ada.id, "key_a", 500).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(500));
    assert!(!revoked.is_active(501));
    let cached = store.key_by_hash(&[1; 32]).unwrap();
    assert_eq!(cached.revoked_at, Some(500));
    assert!(store.key_by_hash(&[2; 32]).unwrap().is_active(501));
    // A second revocation keeps the first time.
    let again = store.revoke_key(ada.id, "key_a", 900).await.unwrap();
    assert_eq!(again.revoked_at, Some(500));

    drop(store);
    let store = open(&dir);
    assert_eq!(store.key_by_hash(&[1; 32]).unwrap().revoked_at, Some(500));
    assert_eq!(store.list_keys(ada.id).len(), 2);
    assert_eq!(store.list_keys(bob.id).len(), 1);
}

#[tokio::test]
async fn user_tiers_are_set_cleared_and_survive_a_reopen() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let ada = user(&store, "ada", "1").await;
    assert_eq!(ada.tier, None);
    let mut spec = new_user("bob", "0");
    spec.tier = Some("basic".into());
    let bob = store.create_user(spec).await.unwrap();
    assert_eq!(bob.tier.as_deref(), Some("basic"));

    let ada2 = store
        .update_user(
            ada.id,
            UserUpdate {
                tier: Some(Some("premium".into())),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(ada2.tier.as_deref(), Some("premium"));
    assert_eq!(
        store.user_by_name("ada").unwrap().tier.as_deref(),
        Some("premium")
    );
    assert!(matches!(
        store
            .update_user(
                999,
                UserUpdate {
                    tier: Some(None),
                    ..UserUpdate::default()
                }
            )
            .await,
        Err(StoreError::UserNotFound)
    ));
    store
        .update_user(
            bob.id,
            UserUpdate {
                tier: Some(None),
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();

    drop(store);
    let store = open(&dir);
    assert_eq!(
        store.user_by_id(ada.id).unwrap().tier.as_deref(),
        Some("premium")
    );
    assert_eq!(store.user_by_id(bob.id).unwrap().tier, None);
}

#[tokio::test]
async fn reserve_refuses_what_is_not_available_and_drop_releases() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let ada = user(&store, "ada", "1").await;

    let r1 = store.reserve(ada.id, usd("0.6")).unwrap();
    assert_eq!(r1.amount, usd("0.6"));
    assert_eq!(store.balance(ada.id), usd("1"), "reserving is not charging");
    assert_eq!(store.available(ada.id), usd("0.4"));

    match store.reserve(ada.id, usd("0.5")) {
        Err(StoreError::InsufficientCredits { needed, available }) => {
            assert_eq!(needed, usd("0.5"));
            assert_eq!(available, usd("0.4"));
        }
        other => panic!("expected insufficient credits, got {other:?}"),
    }
    let r2 = store.reserve(ada.id, usd("0.4")).unwrap();
    assert_eq!(store.available(ada.id), Usd::ZERO);
    assert!(store.reserve(ada.id, usd("0.000000000001")).is_err());
    assert!(store.reserve(ada.id, Usd::ZERO).is_ok(), "zero always fits");

    drop(r1);
    assert_eq!(store.available(ada.id), usd("0.6"));
    drop(r2);
    assert_eq!(store.available(ada.id), usd("1"));
    assert_eq!(store.balance(ada.id), usd("1"));

    assert!(matches!(
        store.reserve(99, Usd::ZERO),
        Err(StoreError::UserNotFound)
    ));
}

#[tokio::test]
async fn settle_charges_exactly_and_appends_a_row() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let ada = user(&store, "ada", "1").await;

    let r = store.reserve(ada.id, usd("0.5")).unwrap();
    let balance = store
        .settle(r, row(ada.id, "req-1", "0.000014250001"))
        .await
        .unwrap();
    assert_eq!(balance, usd("0.999985749999"));
    assert_eq!(store.balance(ada.id), balance);
    assert_eq!(
        store.available(ada.id),
        balance,
        "the rest of the hold is released"
    );

    let page = store.usage(ada.id, 10, None).await.unwrap();
    assert_eq!(page.rows.len(), 1);
    assert_eq!(page.rows[0].request_id, "req-1");
    assert_eq!(page.rows[0].cost, usd("0.000014250001"));
    assert_eq!(page.next_cursor, None);
    assert_ledger_invariant(&store, ada.id).await;
}

#[tokio::test]
async fn a_zero_cost_settle_still_records_the_row() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let ada = user(&store, "ada", "1").await;
    let r = store.reserve(ada.id, usd("0.3")).unwrap();
    let mut failed = row(ada.id, "failed", "0");
    failed.status = UsageStatus::Failed;
    assert_eq!(store.settle(r, failed).await.unwrap(), usd("1"));
    assert_eq!(store.available(ada.id), usd("1"));
    let rows = all_usage(&store, ada.id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, UsageStatus::Failed);
}

#[tokio::test]
async fn credits_adjust_the_balance_and_are_totalled() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let ada = user(&store, "ada", "2").await;
    assert_eq!(
        store.credit(credit(ada.id, "3.5")).await.unwrap(),
        usd("5.5")
    );
    assert_eq!(
        store.credit(credit(ada.id, "-0.5")).await.unwrap(),
        usd("5")
    );
    assert_eq!(store.balance(ada.id), usd("5"));
    assert_eq!(store.available(ada.id), usd("5"));
    assert_eq!(store.credits_total(ada.id).await.unwrap(), usd("5"));
    assert!(matches!(
        store.credit(credit(99, "1")).await,
        Err(StoreError::UserNotFound)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_settles_are_group_committed() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let ada = user(&store, "ada", "100").await;
    const N: usize = 200;
    let before = store.commits();

    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                let r = store.reserve(ada.id, usd("0.02")).unwrap();
                barrier.wait().await;
                store
                    .settle(r, row(ada.id, &format!("req-{i}"), "0.01"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }

    let commits = store.commits() - before;
    assert!(commits >= 1);
    assert!(
        commits < N as u64,
        "{commits} commits for {N} settles: no grouping"
    );
    assert_eq!(store.balance(ada.id), usd("98"));
    assert_eq!(store.available(ada.id), usd("98"));
    assert_eq!(all_usage(&store, ada.id).await.len(), N);
    assert_ledger_invariant(&store, ada.id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_reservations_never_overspend() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let ada = user(&store, "ada", "1").await;

    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let Ok(r) = store.reserve(ada.id, usd("0.05")) else {
                    return false;
                };
                tokio::task::yield_now().await;
                store
                    .settle(r, row(ada.id, &format!("req-{i}"), "0.05"))
                    .await
                    .unwrap();
                true
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap() {
            won += 1;
        }
    }
    // Every success permanently consumes 0.05 of the 1 available.
    assert_eq!(won, 20);
    assert_eq!(store.balance(ada.id), Usd::ZERO);
    assert_eq!(store.available(ada.id), Usd::ZERO);
    assert_eq!(all_usage(&store, ada.id).await.len(), 20);
    assert_ledger_invariant(&store, ada.id).await;
}

#[tokio::test]
async fn usage_pages_newest_first_with_a_cursor() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let ada = user(&store, "ada", "10").await;
    let bob = user(&store, "bob", "10").await;
    for i in 0..5 {
        for (u, name) in [(ada.id, "ada"), (bob.id, "bob")] {
            let r = store.reserve(u, usd("0.1")).unwrap();
            store
                .settle(r, row(u, &format!("{name}-{i}"), "0.1"))
                .await
                .unwrap();
        }
    }

    let first = store.usage(ada.id, 2, None).await.unwrap();
    let ids: Vec<&str> = first.rows.iter().map(|r| r.request_id.as_str()).collect();
    assert_eq!(ids, ["ada-4", "ada-3"]);
    let cursor = first.next_cursor.unwrap();

    let second = store.usage(ada.id, 2, Some(&cursor)).await.unwrap();
    let ids: Vec<&str> = second.rows.iter().map(|r| r.request_id.as_str()).collect();
    assert_eq!(ids, ["ada-2", "ada-1"]);

    let third = store
        .usage(ada.id, 2, second.next_cursor.as_deref())
        .await
        .unwrap();
    let ids: Vec<&str> = third.rows.iter().map(|r| r.request_id.as_str()).collect();
    assert_eq!(ids, ["ada-0"]);
    assert_eq!(third.next_cursor, None);

    // An exact fit ends without a dangling cursor.
    let all = store.usage(ada.id, 5, None).await.unwrap();
    assert_eq!(all.rows.len(), 5);
    assert_eq!(all.next_cursor, None);
    assert!(all.rows.iter().all(|r| r.user_id == ada.id));

    // Someone else's cursor, or garbage, is refused.
    assert!(matches!(
        store.usage(bob.id, 2, Some(&cursor)).await,
        Err(StoreError::BadCursor)
    ));
    for bad in ["", "not base64!", "MTIz", &"A".repeat(500)] {
        assert!(
            matches!(
                store.usage(ada.id, 2, Some(bad)).await,
                Err(StoreError::BadCursor)
            ),
            "{bad:?}"
        );
    }

    let empty = store.usage(99, 10, None).await.unwrap();
    assert!(empty.rows.is_empty());
    assert_eq!(empty.next_cursor, None);
}

#[tokio::test]
async fn reopen_keeps_balances_and_rows_and_drops_reservations() {
    let dir = TempDir::new().unwrap();
    let (ada, bob) = {
        let store = open(&dir);
        let ada = user(&store, "ada", "5").await;
        let bob = user(&store, "bob", "1").await;
        store.credit(credit(ada.id, "2")).await.unwrap();
        for i in 0..3 {
            let r = store.reserve(ada.id, usd("1")).unwrap();
            store
                .settle(r, row(ada.id, &format!("r{i}"), "0.333333333333"))
                .await
                .unwrap();
        }
        let r = store.reserve(bob.id, usd("0.5")).unwrap();
        store.settle(r, row(bob.id, "b", "0.25")).await.unwrap();
        // Left open across the restart: must not survive it.
        let held = store.reserve(ada.id, usd("3")).unwrap();
        assert_eq!(store.available(ada.id), usd("3.000000000001"));
        std::mem::forget(held);
        store.flush().await.unwrap();
        (ada, bob)
    };

    let store = open(&dir);
    assert_eq!(store.user_by_name("ada"), Some(ada.clone()));
    assert_eq!(store.balance(ada.id), usd("6.000000000001"));
    assert_eq!(store.available(ada.id), store.balance(ada.id));
    assert_eq!(store.balance(bob.id), usd("0.75"));
    assert_eq!(all_usage(&store, ada.id).await.len(), 3);
    assert_eq!(all_usage(&store, bob.id).await.len(), 1);
    for u in [ada.id, bob.id] {
        assert_ledger_invariant(&store, u).await;
    }

    // Ids keep counting from where they were.
    let carol = user(&store, "carol", "0").await;
    assert_eq!(carol.id, 3);
    assert!(matches!(
        store.create_user(new_user("ada", "0")).await,
        Err(StoreError::UserExists(_))
    ));
}

#[tokio::test]
async fn a_second_open_of_the_same_file_fails() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let err = RedbStore::open(&db_path(&dir)).unwrap_err();
    assert!(matches!(err, StoreError::Storage(_)), "{err}");
    drop(store);
    assert!(RedbStore::open(&db_path(&dir)).is_ok(), "closed on drop");
}

#[tokio::test]
async fn after_shutdown_writes_fail_closed_and_holds_are_returned() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let ada = user(&store, "ada", "1").await;
    let r = store.reserve(ada.id, usd("0.5")).unwrap();
    let s = Arc::clone(&store);
    tokio::task::spawn_blocking(move || s.shutdown())
        .await
        .unwrap()
        .unwrap();
    store.shutdown().unwrap();

    assert!(matches!(
        store.settle(r, row(ada.id, "late", "0.5")).await,
        Err(StoreError::Closed)
    ));
    assert_eq!(store.balance(ada.id), usd("1"));
    assert_eq!(store.available(ada.id), usd("1"));
    assert!(matches!(
        store.credit(credit(ada.id, "1")).await,
        Err(StoreError::Closed)
    ));
    assert!(matches!(store.flush().await, Err(StoreError::Closed)));
    // Reads keep working from the caches.
    assert!(store.user_by_name("ada").is_some());
}

#[tokio::test]
async fn a_dropped_settle_future_is_still_charged() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let ada = user(&store, "ada", "1").await;
    let r = store.reserve(ada.id, usd("0.5")).unwrap();
    drop(store.settle(r, row(ada.id, "abandoned", "0.2")));
    store.flush().await.unwrap();
    assert_eq!(store.balance(ada.id), usd("0.8"));
    assert_eq!(store.available(ada.id), usd("0.8"));
    assert_eq!(all_usage(&store, ada.id).await.len(), 1);
}

#[tokio::test]
async fn a_settle_never_charges_more_than_its_hold() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    let u = user(&store, "capped", "1").await;
    let hold = store.reserve(u.id, usd("0.25")).unwrap();
    // The row claims 3 dollars; the ledger charges the 0.25 held.
    let balance = store.settle(hold, row(u.id, "r1", "3")).await.unwrap();
    assert_eq!(balance, usd("0.75"));
    assert_eq!(store.available(u.id), usd("0.75"));
    let rows = all_usage(&store, u.id).await;
    assert_eq!(rows[0].cost, usd("0.25"));
    assert_eq!(rows[0].overrun, usd("2.75"));
    assert_ledger_invariant(&store, u.id).await;
}

#[tokio::test]
async fn key_budgets_hold_across_a_chain_and_survive_a_reopen() {
    use indoxrouter_server::store::KeyBudget;
    let dir = TempDir::new().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (ada_id, parent, child) = {
        let store = open(&dir);
        let ada = user(&store, "ada", "10").await;
        let mut parent = key("key_parent", ada.id, 1, now);
        parent.budget = Some(KeyBudget {
            max: usd("1"),
            period_secs: None,
        });
        let mut child = key("key_child", ada.id, 2, now);
        child.parent = Some(parent.id.clone());
        child.budget = Some(KeyBudget {
            max: usd("0.8"),
            period_secs: None,
        });
        store.create_key(parent.clone()).await.unwrap();
        store.create_key(child.clone()).await.unwrap();

        let held = store
            .reserve_for_key(ada.id, Some("key_parent"), usd("0.6"))
            .unwrap();
        // The child's own budget has room, its creator's does not.
        match store.reserve_for_key(ada.id, Some("key_child"), usd("0.5")) {
            Err(StoreError::KeyBudgetExceeded {
                key_id, available, ..
            }) => {
                assert_eq!(key_id, "key_parent");
                assert_eq!(available, usd("0.4"));
            }
            other => panic!("expected the parent's budget to refuse, got {other:?}"),
        }
        assert_eq!(
            store.available(ada.id),
            usd("9.4"),
            "a refusal holds nothing"
        );
        drop(held);
        let r = store
            .reserve_for_key(ada.id, Some("key_child"), usd("0.5"))
            .unwrap();
        let mut charged = row(ada.id, "req-1", "0.3");
        charged.key_id = Some("key_child".into());
        store.settle(r, charged).await.unwrap();
        assert_eq!(store.key_spend(&child, now).spend, usd("0.3"));
        assert_eq!(store.key_spend(&parent, now).spend, usd("0.3"));
        (ada.id, parent, child)
    };
    let store = open(&dir);
    assert_eq!(store.key_spend(&child, now).spend, usd("0.3"));
    assert_eq!(store.key_spend(&parent, now).lifetime, usd("0.3"));
    assert!(matches!(
        store.reserve_for_key(ada_id, Some("key_child"), usd("0.500000000001")),
        Err(StoreError::KeyBudgetExceeded { .. })
    ));
    let r = store
        .reserve_for_key(ada_id, Some("key_parent"), usd("0.7"))
        .unwrap();
    drop(r);
    assert_eq!(store.available(ada_id), usd("9.7"));
}

#[tokio::test]
async fn a_periodic_key_budget_starts_afresh_each_period() {
    use indoxrouter_server::store::KeyBudget;
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let ada = user(&store, "ada", "10").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Created long enough ago that the current period started just now.
    let mut k = key("key_daily", ada.id, 3, now - 86_400);
    k.budget = Some(KeyBudget {
        max: usd("1"),
        period_secs: Some(86_400),
    });
    store.create_key(k.clone()).await.unwrap();
    let r = store
        .reserve_for_key(ada.id, Some("key_daily"), usd("1"))
        .unwrap();
    let mut charged = row(ada.id, "req-1", "1");
    charged.key_id = Some("key_daily".into());
    store.settle(r, charged).await.unwrap();
    let spent = store.key_spend(&k, now);
    assert_eq!(spent.spend, usd("1"));
    assert_eq!(spent.resets_at, Some(now + 86_400));
    assert!(
        store
            .reserve_for_key(ada.id, Some("key_daily"), usd("0.000000000001"))
            .is_err()
    );
    // A day later the same record is in a new period.
    let later = store.key_spend(&k, now + 86_400);
    assert_eq!((later.spend, later.lifetime), (Usd::ZERO, usd("1")));
}
