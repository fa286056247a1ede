//! The embedded store: one redb file, in-memory caches, and a group-committing
//! writer thread.
//!
//! # Reads
//!
//! Everything the request path reads (users, keys, balances, reservations) is
//! cached in memory at [`RedbStore::open`] and kept current by the writer, so
//! those trait methods are synchronous and never touch redb or the async
//! executor. Only history reads (`usage_query`, `usage_summary`,
//! `credits_total`) open a redb read transaction, on tokio's blocking pool.
//!
//! # Writes and group commit
//!
//! Every write is sent, at call time (not when its future is first polled, so
//! a dropped future still gets its charge recorded), to one dedicated thread.
//! That thread blocks for one operation, drains whatever else is already
//! queued (up to [`MAX_GROUP`]), applies the whole group in one write
//! transaction and commits it with [`Durability::Immediate`]: one fsync for
//! the group. Only after the commit does it update the caches and answer each
//! operation, so no future resolves before its write is durable, and under
//! load one fsync is shared by many requests. If the transaction fails, every
//! operation in the group gets the error and the caches are left unchanged.
//!
//! An operation refused on its own merits (duplicate username, foreign key)
//! writes nothing and does not affect the rest of its group.
//!
//! # Money in flight
//!
//! Per user the cache holds `balance` (durable), `reserved` (open
//! [`Reservation`]s) and `pending` (settled charges whose group has not
//! committed yet); available credit is `balance − reserved − pending`.
//! `settle` moves the reservation into `pending` at once, so the credit stays
//! unavailable until the commit moves it into `balance`, or returns it if the
//! commit fails. Reservations exist only in memory and vanish on restart.
//!
//! # Tables
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | `&str` | `u64`: `schema_version`, `next_user_id`, `next_seq` |
//! | `users` | user id `u64` | [`User`] as JSON |
//! | `usernames` | username `&str` | user id |
//! | `keys` | key hash `[u8; 32]` | [`ApiKeyRecord`] as JSON |
//! | `key_ids` | key id `&str` | key hash |
//! | `balances` | user id | balance in pico-dollars, `i128` |
//! | `usage` | `(user id, seq)` | [`UsageRow`] as JSON |
//! | `credits` | `(user id, seq)` | [`CreditEntry`] as JSON |
//! | `key_spend` | key id `&str` | `(period start, period spend, lifetime spend)` |
//! | `usage_ix` | index tag · prefix · `created_at_ms` · seq (bytes) | user id |
//! | `usage_rollup_user` | `(user, day, key, provider, model)` | totals |
//! | `usage_rollup_day` | `(day, user, key, provider, model)` | totals |
//!
//! `seq` is one global counter shared by usage rows and credit entries, so
//! within a user it orders both by commit; usage listings go through the
//! indexes below, newest first by `(created_at_ms, seq)`. The stored balance is redundant with the
//! two ledgers (balance = Σ credits − Σ usage costs); it is kept so opening
//! does not replay history, and both are written in the same transaction.
//!
//! # Usage indexes (schema 2)
//!
//! A usage listing must cost the same whatever the ledger's size, so every
//! supported filter is a contiguous key range of some index, scanned in
//! reverse from the cursor. The indexes share one table, `usage_ix`, each
//! key starting with its index's tag byte (one B-tree keeps a settle's
//! commit small). Each index key is, after the tag, a prefix (the filter's values,
//! big-endian integers and length-prefixed strings) followed by
//! `created_at_ms` and `seq`, both big-endian, so byte order is
//! `(prefix, time, seq)` order and a time range is a sub-range. The value is
//! the row's user, which with `seq` locates the row in `usage`.
//!
//! | index (tag) | prefix | serves |
//! |---|---|---|
//! | time (1) | — | all users, time range |
//! | user (2) | user | one user |
//! | user key (3) | user, key id | one user's key |
//! | user provider (4) | user, provider | one user's provider |
//! | user model (5) | user, provider, model | one user's model |
//! | key (6) | key id | a key, any user |
//! | provider (7) | provider | a provider, all users |
//! | model (8) | provider, model | a model, all users |
//!
//! A query picks the narrowest index its filters allow (key, then
//! provider + model, then provider, then user alone or nothing); any filter
//! the index does not cover (provider or model next to a key, a model without
//! its provider) is checked per row. Such a page also stops after
//! [`MAX_SCAN`] index entries and returns a cursor, so even a post-filtered
//! page has a bounded cost (it may then hold fewer than `limit` rows).
//!
//! The two rollup tables hold per-UTC-day totals (requests, prompt and
//! completion tokens, cost in pico-dollars) per user, key, provider and
//! model; summaries read only them.
//!
//! Indexes and rollups are derived data, kept off the charge's critical
//! path: the writer commits a group's rows durably and answers, then adds
//! the committed rows to the indexes in batches (every `INDEX_BATCH` rows
//! or after `INDEX_IDLE` without writes), committed without an fsync
//! together with the `usage_indexed_end` watermark; the next durable commit
//! makes them durable. A read first asks the writer to index its backlog, so
//! it sees every acknowledged row. After a crash, opening indexes the rows
//! between the watermark and `usage_seq_end` (written with the rows). Opening
//! a schema-1 file builds everything from the `usage` table, in one
//! transaction, before bumping `schema_version`.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, mpsc};
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use indoxrouter::Usd;
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, Table, TableDefinition, WriteTransaction,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::key_budget::{KeyBudget, KeyMeter, KeySpend, KeyTally};
use super::{
    Accounts, ApiKeyRecord, CreditEntry, KeyHash, Ledger, NewUser, Reservation, StoreError,
    StoreFuture, SummaryQuery, UsageGroupBy, UsageGroupKey, UsagePage, UsageQuery, UsageRow,
    UsageSummary, UsageTotals, User, UserId, UserUpdate,
};
use crate::time::DAY_MS;

/// The most operations committed in one transaction. Bounds the latency a
/// single group adds and the memory a burst can pin.
pub const MAX_GROUP: usize = 512;

/// redb page cache: history reads (usage pages) are the only redb reads.
const REDB_CACHE_BYTES: usize = 8 * 1024 * 1024;
/// The most usage rows one page returns, whatever the caller asks for.
pub const MAX_PAGE: usize = 1000;

const SCHEMA_VERSION: u64 = 2;
/// The schema before the usage indexes and rollups: upgraded at open.
const SCHEMA_WITHOUT_USAGE_INDEXES: u64 = 1;

/// Index entries one usage page may examine before it returns what it has
/// and a cursor: bounds the cost of pages whose filters an index only
/// partly serves.
pub const MAX_SCAN: usize = 20_000;

const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
const USERS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("users");
const USERNAMES: TableDefinition<'_, &str, u64> = TableDefinition::new("usernames");
const KEYS: TableDefinition<'_, [u8; 32], &[u8]> = TableDefinition::new("keys");
const KEY_IDS: TableDefinition<'_, &str, [u8; 32]> = TableDefinition::new("key_ids");
const BALANCES: TableDefinition<'_, u64, i128> = TableDefinition::new("balances");
const USAGE: TableDefinition<'_, (u64, u64), &[u8]> = TableDefinition::new("usage");
const CREDITS: TableDefinition<'_, (u64, u64), &[u8]> = TableDefinition::new("credits");
/// Per key: `(period start, spend in that period, lifetime spend)`, the
/// spends in pico-dollars; written with each charge.
const KEY_SPEND: TableDefinition<'_, &str, (u64, i128, i128)> = TableDefinition::new("key_spend");

/// Every usage index in one B-tree (each key starts with its [`Index`]'s
/// tag): a settle then dirties one tree's pages, not eight trees' roots and
/// paths, which roughly halves the commit's page writes.
const USAGE_IX: TableDefinition<'_, &[u8], u64> = TableDefinition::new("usage_ix");
/// Rollup key: `(user, day, key id or "", provider, model)` in
/// `usage_rollup_user`, `(day, user, …)` in `usage_rollup_day`.
type RollupKey = (u64, u64, &'static str, &'static str, &'static str);
/// Rollup value: `(requests, prompt tokens, completion tokens, cost pico)`.
type RollupValue = (u64, u64, u64, i128);
const ROLLUP_USER: TableDefinition<'_, RollupKey, RollupValue> =
    TableDefinition::new("usage_rollup_user");
const ROLLUP_DAY: TableDefinition<'_, RollupKey, RollupValue> =
    TableDefinition::new("usage_rollup_day");

const META_SCHEMA: &str = "schema_version";
/// One past the seq of the newest usage row (written with the row, durably).
const META_USAGE_END: &str = "usage_seq_end";
/// Every usage row with a lower seq is in the indexes and rollups.
const META_INDEXED_END: &str = "usage_indexed_end";
/// Committed rows the writer indexes together once this many are waiting.
const INDEX_BATCH: usize = 256;
/// ... or once no write has arrived for this long.
const INDEX_IDLE: std::time::Duration = std::time::Duration::from_millis(20);
const META_NEXT_USER: &str = "next_user_id";
const META_NEXT_SEQ: &str = "next_seq";

/// The embedded redb store: implements [`Accounts`] and [`Ledger`].
///
/// Create it with [`RedbStore::open`]. Dropping the last handle (or calling
/// [`RedbStore::shutdown`]) commits everything already queued and closes the
/// file; both block for that final commit.
pub struct RedbStore {
    caches: Arc<Caches>,
    db: Arc<Database>,
    queue: mpsc::Sender<Op>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedbStore")
            .field("commits", &self.commits())
            .finish_non_exhaustive()
    }
}

/// What the request path reads, kept current by the writer thread.
#[derive(Default)]
struct Caches {
    users: RwLock<UserDirectory>,
    keys: RwLock<KeyDirectory>,
    accounts: RwLock<HashMap<UserId, AccountCell>>,
    key_meters: RwLock<HashMap<String, MeterCell>>,
    commits: AtomicU64,
}

#[derive(Default)]
struct UserDirectory {
    by_id: HashMap<UserId, User>,
    by_name: HashMap<String, UserId>,
}

#[derive(Default)]
struct KeyDirectory {
    by_hash: HashMap<KeyHash, ApiKeyRecord>,
    by_id: HashMap<String, KeyHash>,
    /// Each user's keys, so a listing never scans everyone's.
    by_user: HashMap<UserId, Vec<KeyHash>>,
}

impl KeyDirectory {
    fn insert(&mut self, key: ApiKeyRecord) {
        if !self.by_hash.contains_key(&key.hash) {
            self.by_user.entry(key.user_id).or_default().push(key.hash);
        }
        self.by_id.insert(key.id.clone(), key.hash);
        self.by_hash.insert(key.hash, key);
    }

    fn by_id(&self, id: &str) -> Option<&ApiKeyRecord> {
        self.by_hash.get(self.by_id.get(id)?)
    }
}

type MeterCell = Arc<Mutex<KeyMeter>>;

/// Budget chains are short in practice (a key minted by a key); this bounds
/// the walk whatever the data says.
const MAX_CHAIN: usize = 32;

/// One key on a reservation's chain: the key itself, then the key that
/// minted it, and so on.
struct ChainLink {
    id: String,
    budget: Option<KeyBudget>,
    created_at: u64,
    meter: MeterCell,
}

impl ChainLink {
    fn period_start(&self, now: u64) -> u64 {
        self.budget
            .map_or(0, |b| b.period_start(self.created_at, now))
    }
}

/// One user's money. A separate lock per user, so reservations for different
/// users never contend, and a reservation can hold just this cell.
#[derive(Debug, Default)]
struct Account {
    balance: Usd,
    reserved: Usd,
    pending: Usd,
}

impl Account {
    fn available(&self) -> Usd {
        self.balance - self.reserved - self.pending
    }
}

type AccountCell = Arc<Mutex<Account>>;

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

/// A settled charge whose group has not committed yet. Whatever way it is
/// dropped without [`PendingCharge::complete`] (failed commit, writer gone,
/// channel closed), the held amount goes back to available.
struct PendingCharge {
    account: AccountCell,
    /// The key chain's meters, in the order of the tallies the commit returns.
    keys: Vec<MeterCell>,
    hold: Usd,
    completed: bool,
}

impl PendingCharge {
    fn complete(mut self, balance: Usd, tallies: &[KeyTally]) {
        let mut account = lock(&self.account);
        account.balance = balance;
        account.pending -= self.hold;
        drop(account);
        for (meter, tally) in self.keys.iter().zip(tallies) {
            let mut meter = lock(meter);
            meter.tally = *tally;
            meter.pending -= self.hold;
        }
        self.completed = true;
    }
}

impl Drop for PendingCharge {
    fn drop(&mut self) {
        if !self.completed {
            lock(&self.account).pending -= self.hold;
            for meter in &self.keys {
                lock(meter).pending -= self.hold;
            }
        }
    }
}

enum Op {
    CreateUser {
        user: NewUser,
        reply: Reply<User>,
    },
    CreateKey {
        key: ApiKeyRecord,
        reply: Reply<()>,
    },
    RevokeKey {
        user: UserId,
        id: String,
        now: u64,
        reply: Reply<ApiKeyRecord>,
    },
    UpdateUser {
        user: UserId,
        update: UserUpdate,
        reply: Reply<User>,
    },
    Settle {
        row: UsageRow,
        /// Each chain key's id and the period its charge lands in.
        keys: Vec<(String, u64)>,
        charge: PendingCharge,
        reply: Reply<Usd>,
    },
    Credit {
        entry: CreditEntry,
        reply: Reply<Usd>,
    },
    Flush {
        reply: Reply<()>,
    },
    /// Answered once every committed usage row is in the indexes.
    SyncIndexes {
        reply: Reply<()>,
    },
    Shutdown,
}

impl RedbStore {
    /// Opens (or creates) the database at `path`, creating parent
    /// directories, loads the caches and starts the writer thread.
    ///
    /// Blocking: call it at startup or from `spawn_blocking`. Fails if the
    /// file is already open, in this process or another.
    pub fn open(path: &Path) -> Result<Arc<RedbStore>, StoreError> {
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Storage(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        // redb caches up to 1 GiB by default; the request path reads only
        // the in-memory caches above, so a small page cache is enough.
        let db = Database::builder()
            .set_cache_size(REDB_CACHE_BYTES)
            .create(path)
            .map_err(storage)?;
        init_schema(&db)?;
        let caches = Arc::new(load_caches(&db)?);
        let db = Arc::new(db);

        let (queue, rx) = mpsc::channel();
        let writer = {
            let db = Arc::clone(&db);
            let caches = Arc::clone(&caches);
            std::thread::Builder::new()
                .name("indoxrouter-ledger".into())
                .spawn(move || run_writer(&db, &caches, &rx))
                .map_err(|e| StoreError::Storage(format!("cannot start the writer thread: {e}")))?
        };
        Ok(Arc::new(RedbStore {
            caches,
            db,
            queue,
            writer: Mutex::new(Some(writer)),
        }))
    }

    /// Commits everything queued so far, stops the writer thread and waits
    /// for it; later writes fail with [`StoreError::Closed`]. Idempotent.
    ///
    /// Blocks for the final commit: from async code call it via
    /// `spawn_blocking`, after the server has stopped taking requests
    /// (or use [`Ledger::flush`], which does not block a thread).
    pub fn shutdown(&self) -> Result<(), StoreError> {
        // A send error means the writer is already gone: nothing to drain.
        let _ = self.queue.send(Op::Shutdown);
        let handle = lock(&self.writer).take();
        match handle {
            Some(handle) => handle
                .join()
                .map_err(|_| StoreError::Storage("the ledger writer thread panicked".into())),
            None => Ok(()),
        }
    }

    /// Write transactions committed since open (each may hold many
    /// operations): lets tests and metrics see group commit at work.
    pub fn commits(&self) -> u64 {
        self.caches.commits.load(Ordering::Relaxed)
    }

    fn account(&self, user: UserId) -> Option<AccountCell> {
        read(&self.caches.accounts).get(&user).cloned()
    }

    /// `key` and the keys above it, nearest first (empty for `None` or an
    /// unknown key).
    fn chain(&self, key: Option<&str>) -> Vec<ChainLink> {
        let Some(mut id) = key.map(str::to_owned) else {
            return Vec::new();
        };
        let keys = read(&self.caches.keys);
        let meters = read(&self.caches.key_meters);
        let mut chain: Vec<ChainLink> = Vec::new();
        while chain.len() < MAX_CHAIN {
            // A cycle (never made through the API) must not lock one meter twice.
            if chain.iter().any(|link| link.id == id) {
                break;
            }
            let (Some(record), Some(meter)) = (keys.by_id(&id), meters.get(&id)) else {
                break;
            };
            chain.push(ChainLink {
                id: id.clone(),
                budget: record.budget,
                created_at: record.created_at,
                meter: Arc::clone(meter),
            });
            match &record.parent {
                Some(parent) => id = parent.clone(),
                None => break,
            }
        }
        chain
    }

    /// Queues `op` now and returns a future for its answer. A failed send
    /// drops the op, and with it its reply sender, which the future reports
    /// as `Closed`.
    fn submit<T: Send + 'static>(&self, op: impl FnOnce(Reply<T>) -> Op) -> StoreFuture<'_, T> {
        let (reply, answer) = oneshot::channel();
        let _ = self.queue.send(op(reply));
        Box::pin(async move { answer.await.unwrap_or(Err(StoreError::Closed)) })
    }

    fn read_blocking<T, F>(&self, read: F) -> StoreFuture<'_, T>
    where
        T: Send + 'static,
        F: FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        Box::pin(async move {
            tokio::task::spawn_blocking(move || read(&db))
                .await
                .map_err(|_| StoreError::Storage("a store read task failed".into()))?
        })
    }
}

impl Drop for RedbStore {
    fn drop(&mut self) {
        // Joining here means the file is closed once the store is gone, so it
        // can be reopened; the writer only commits what was already queued.
        let _ = self.shutdown();
    }
}

impl Accounts for RedbStore {
    fn create_user(&self, user: NewUser) -> StoreFuture<'_, User> {
        self.submit(|reply| Op::CreateUser { user, reply })
    }

    fn user_by_name(&self, username: &str) -> Option<User> {
        let users = read(&self.caches.users);
        let id = users.by_name.get(username)?;
        users.by_id.get(id).cloned()
    }

    fn user_by_id(&self, id: UserId) -> Option<User> {
        read(&self.caches.users).by_id.get(&id).cloned()
    }

    fn list_users(&self) -> Vec<User> {
        let mut users: Vec<User> = read(&self.caches.users).by_id.values().cloned().collect();
        users.sort_by_key(|u| u.id);
        users
    }

    fn update_user(&self, user: UserId, update: UserUpdate) -> StoreFuture<'_, User> {
        self.submit(|reply| Op::UpdateUser {
            user,
            update,
            reply,
        })
    }

    fn create_key(&self, key: ApiKeyRecord) -> StoreFuture<'_, ()> {
        self.submit(|reply| Op::CreateKey { key, reply })
    }

    fn key_by_hash(&self, hash: &KeyHash) -> Option<ApiKeyRecord> {
        read(&self.caches.keys).by_hash.get(hash).cloned()
    }

    fn list_keys(&self, user: UserId) -> Vec<ApiKeyRecord> {
        let directory = read(&self.caches.keys);
        let mut keys: Vec<ApiKeyRecord> = directory
            .by_user
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|hash| directory.by_hash.get(hash))
            .cloned()
            .collect();
        drop(directory);
        keys.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        keys
    }

    fn key_by_id(&self, id: &str) -> Option<ApiKeyRecord> {
        read(&self.caches.keys).by_id(id).cloned()
    }

    fn revoke_key(&self, user: UserId, id: &str, now: u64) -> StoreFuture<'_, ApiKeyRecord> {
        let id = id.to_owned();
        self.submit(|reply| Op::RevokeKey {
            user,
            id,
            now,
            reply,
        })
    }
}

impl Ledger for RedbStore {
    fn balance(&self, user: UserId) -> Usd {
        self.account(user).map_or(Usd::ZERO, |a| lock(&a).balance)
    }

    fn available(&self, user: UserId) -> Usd {
        self.account(user)
            .map_or(Usd::ZERO, |a| lock(&a).available())
    }

    /// A negative `amount` is treated as zero: a hold never adds credit.
    fn reserve_for_key(
        &self,
        user: UserId,
        key: Option<&str>,
        amount: Usd,
    ) -> Result<Reservation, StoreError> {
        let amount = amount.max(Usd::ZERO);
        let cell = self.account(user).ok_or(StoreError::UserNotFound)?;
        let chain = self.chain(key);
        let now = now_ms() / 1000;
        {
            // The user's lock first, then the chain's nearest first: every
            // reservation takes them in this order, and one user's requests
            // are serialised by the first, so this cannot deadlock.
            let mut account = lock(&cell);
            let available = account.available();
            if available < amount {
                return Err(StoreError::InsufficientCredits {
                    needed: amount,
                    available,
                });
            }
            let mut meters: Vec<MutexGuard<'_, KeyMeter>> =
                chain.iter().map(|link| lock(&link.meter)).collect();
            for (link, meter) in chain.iter().zip(&meters) {
                if let Some(budget) = &link.budget {
                    let available = meter.headroom(budget, link.created_at, now);
                    if available < amount {
                        return Err(StoreError::KeyBudgetExceeded {
                            key_id: link.id.clone(),
                            needed: amount,
                            available: available.max(Usd::ZERO),
                            resets_at: budget.resets_at(link.created_at, now),
                        });
                    }
                }
            }
            for meter in &mut meters {
                meter.reserved += amount;
            }
            account.reserved += amount;
        }
        // Weak: a reservation outliving the store must not keep its caches alive.
        let cell = Arc::downgrade(&cell);
        let meters: Vec<_> = chain.iter().map(|l| Arc::downgrade(&l.meter)).collect();
        Ok(Reservation::new(
            user,
            amount,
            Box::new(move |_, amount| {
                if let Some(cell) = cell.upgrade() {
                    lock(&cell).reserved -= amount;
                }
                for meter in meters.iter().filter_map(std::sync::Weak::upgrade) {
                    lock(&meter).reserved -= amount;
                }
            }),
        )
        .for_key(key.map(str::to_owned)))
    }

    fn key_spend(&self, key: &ApiKeyRecord, now: u64) -> KeySpend {
        let Some(meter) = read(&self.caches.key_meters).get(&key.id).cloned() else {
            return KeySpend::default();
        };
        let tally = lock(&meter).tally;
        match key.budget {
            Some(budget) => KeySpend {
                spend: tally.spent_in(budget.period_start(key.created_at, now)),
                lifetime: tally.lifetime,
                resets_at: budget.resets_at(key.created_at, now),
            },
            None => KeySpend {
                spend: tally.lifetime,
                lifetime: tally.lifetime,
                resets_at: None,
            },
        }
    }

    /// The reservation's user is charged; `row.user_id` is overwritten with it.
    /// A negative cost is applied (it credits the user) but never made
    /// available before it is durable.
    fn settle(&self, mut reservation: Reservation, mut row: UsageRow) -> StoreFuture<'_, Usd> {
        let armed = reservation.disarm().is_some();
        let user = reservation.user_id;
        row.user_id = user;
        if armed {
            row.cap_to(reservation.amount);
        }
        let Some(cell) = self.account(user) else {
            return Box::pin(std::future::ready(Err(StoreError::UserNotFound)));
        };
        let hold = row.cost.max(Usd::ZERO);
        // The chain held at reserve time; an unheld row still counts
        // against its key's tally.
        let chain = self.chain(reservation.key_id.as_deref().or(row.key_id.as_deref()));
        let now = now_ms() / 1000;
        // One lock for both moves, so no reserve can see the credit free in
        // between; the user's lock is held across the chain's, as in reserve.
        let charge = {
            let mut account = lock(&cell);
            if armed {
                account.reserved -= reservation.amount;
            }
            account.pending += hold;
            for link in &chain {
                let mut meter = lock(&link.meter);
                if armed && reservation.key_id.is_some() {
                    meter.reserved -= reservation.amount;
                }
                meter.pending += hold;
            }
            drop(account);
            PendingCharge {
                account: cell,
                keys: chain.iter().map(|l| Arc::clone(&l.meter)).collect(),
                hold,
                completed: false,
            }
        };
        let keys = chain
            .into_iter()
            .map(|l| {
                let start = l.period_start(now);
                (l.id, start)
            })
            .collect();
        self.submit(|reply| Op::Settle {
            row,
            keys,
            charge,
            reply,
        })
    }

    fn credit(&self, entry: CreditEntry) -> StoreFuture<'_, Usd> {
        self.submit(|reply| Op::Credit { entry, reply })
    }

    fn usage_query(&self, mut query: UsageQuery) -> StoreFuture<'_, UsagePage> {
        let fingerprint = query_fingerprint(&query);
        let start = match query.cursor.take() {
            None => None,
            Some(cursor) => match decode_cursor(&cursor, fingerprint) {
                Some(position) => Some(position),
                None => return Box::pin(std::future::ready(Err(StoreError::BadCursor))),
            },
        };
        query.limit = query.limit.clamp(1, MAX_PAGE);
        let synced = self.submit(|reply| Op::SyncIndexes { reply });
        let read = self.read_blocking(move |db| read_usage(db, &query, fingerprint, start));
        Box::pin(async move {
            synced.await?;
            read.await
        })
    }

    fn usage_summary(&self, query: SummaryQuery) -> StoreFuture<'_, UsageSummary> {
        let synced = self.submit(|reply| Op::SyncIndexes { reply });
        let read = self.read_blocking(move |db| read_summary(db, &query));
        Box::pin(async move {
            synced.await?;
            read.await
        })
    }

    fn credits_total(&self, user: UserId) -> StoreFuture<'_, Usd> {
        self.read_blocking(move |db| {
            let txn = db.begin_read().map_err(storage)?;
            let table = txn.open_table(CREDITS).map_err(storage)?;
            let mut total = Usd::ZERO;
            for item in table.range((user, 0)..=(user, u64::MAX)).map_err(storage)? {
                let (_, value) = item.map_err(storage)?;
                let entry: CreditEntry = decode(value.value())?;
                total = total
                    .checked_add(entry.amount)
                    .ok_or_else(|| StoreError::Storage("credit total out of range".into()))?;
            }
            Ok(total)
        })
    }

    fn flush(&self) -> StoreFuture<'_, ()> {
        self.submit(|reply| Op::Flush { reply })
    }
}

// ---------------------------------------------------------------------------
// Opening

fn init_schema(db: &Database) -> Result<(), StoreError> {
    let txn = db.begin_write().map_err(storage)?;
    {
        // Opening a table in a write transaction creates it, so later read
        // transactions never meet a missing table.
        let mut meta = txn.open_table(META).map_err(storage)?;
        txn.open_table(USERS).map_err(storage)?;
        txn.open_table(USERNAMES).map_err(storage)?;
        txn.open_table(KEYS).map_err(storage)?;
        txn.open_table(KEY_IDS).map_err(storage)?;
        txn.open_table(BALANCES).map_err(storage)?;
        txn.open_table(USAGE).map_err(storage)?;
        txn.open_table(CREDITS).map_err(storage)?;
        txn.open_table(KEY_SPEND).map_err(storage)?;
        drop(UsageIndexes::open(&txn)?);
        let version = meta.get(META_SCHEMA).map_err(storage)?.map(|v| v.value());
        match version {
            None => {
                meta.insert(META_SCHEMA, SCHEMA_VERSION).map_err(storage)?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(SCHEMA_WITHOUT_USAGE_INDEXES) => {
                meta.insert(META_SCHEMA, SCHEMA_VERSION).map_err(storage)?;
                drop(meta);
                build_usage_indexes(&txn, 0)?;
            }
            Some(other) => {
                return Err(StoreError::Storage(format!(
                    "database schema version {other} is not supported (expected {SCHEMA_VERSION})"
                )));
            }
        }
    }
    {
        // Rows committed before a crash whose index batch was not yet
        // durable: index them now (the watermark says which).
        let meta = txn.open_table(META).map_err(storage)?;
        let get = |k: &str| -> Result<u64, StoreError> {
            Ok(meta.get(k).map_err(storage)?.map_or(0, |v| v.value()))
        };
        let (usage_end, indexed_end) = (get(META_USAGE_END)?, get(META_INDEXED_END)?);
        drop(meta);
        if usage_end > indexed_end {
            build_usage_indexes(&txn, indexed_end)?;
        }
    }
    txn.commit().map_err(storage)
}

fn load_caches(db: &Database) -> Result<Caches, StoreError> {
    let txn = db.begin_read().map_err(storage)?;
    let caches = Caches::default();
    {
        let mut users = caches.users.write().unwrap_or_else(PoisonError::into_inner);
        for item in txn
            .open_table(USERS)
            .map_err(storage)?
            .iter()
            .map_err(storage)?
        {
            let (_, value) = item.map_err(storage)?;
            let user: User = decode(value.value())?;
            users.by_name.insert(user.username.clone(), user.id);
            users.by_id.insert(user.id, user);
        }
        let balances = txn.open_table(BALANCES).map_err(storage)?;
        let mut accounts = caches
            .accounts
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for id in users.by_id.keys() {
            let balance = balances.get(id).map_err(storage)?.map_or(0, |b| b.value());
            let account = Account {
                balance: Usd::from_pico(balance),
                ..Account::default()
            };
            accounts.insert(*id, Arc::new(Mutex::new(account)));
        }
    }
    {
        let mut keys = caches.keys.write().unwrap_or_else(PoisonError::into_inner);
        let mut meters = caches
            .key_meters
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let spend = txn.open_table(KEY_SPEND).map_err(storage)?;
        for item in txn
            .open_table(KEYS)
            .map_err(storage)?
            .iter()
            .map_err(storage)?
        {
            let (_, value) = item.map_err(storage)?;
            let key: ApiKeyRecord = decode(value.value())?;
            let tally = spend
                .get(key.id.as_str())
                .map_err(storage)?
                .map(|v| tally_of(v.value()))
                .unwrap_or_default();
            let meter = KeyMeter {
                tally,
                ..KeyMeter::default()
            };
            meters.insert(key.id.clone(), Arc::new(Mutex::new(meter)));
            keys.insert(key);
        }
    }
    Ok(caches)
}

// ---------------------------------------------------------------------------
// The writer thread

/// The writer: group-commits every write durably, then indexes the
/// committed usage rows in batches, off the charges' critical path.
///
/// Indexes and rollups are derived data: a batch is committed without an
/// fsync (it becomes durable with the next durable commit), together with
/// the `usage_indexed_end` watermark, so after a crash opening re-indexes
/// exactly the rows past the watermark. Readers send `SyncIndexes` first and
/// so always see every acknowledged row.
fn run_writer(db: &Database, caches: &Caches, rx: &mpsc::Receiver<Op>) {
    let mut backlog: Vec<(u64, UsageRow)> = Vec::new();
    loop {
        let first = if backlog.is_empty() {
            rx.recv().ok()
        } else {
            match rx.recv_timeout(INDEX_IDLE) {
                Ok(op) => Some(op),
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    index_backlog(db, &mut backlog, Durability::None);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => None,
            }
        };
        // Ends when every sender is gone (store dropped) or on `Shutdown`.
        let Some(first) = first else { break };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(op) => group.push(op),
                Err(_) => break,
            }
        }
        let stop = group.iter().any(|op| matches!(op, Op::Shutdown));
        let mut syncs = Vec::new();
        group.retain_mut(|op| match op {
            Op::SyncIndexes { .. } => {
                if let Op::SyncIndexes { reply } = std::mem::replace(op, Op::Shutdown) {
                    syncs.push(reply);
                }
                false
            }
            _ => true,
        });
        backlog.extend(commit_group(db, caches, group));
        if stop {
            index_backlog(db, &mut backlog, Durability::Immediate);
            break;
        }
        if !syncs.is_empty() || backlog.len() >= INDEX_BATCH {
            index_backlog(db, &mut backlog, Durability::None);
        }
        for reply in syncs {
            let _ = reply.send(Ok(()));
        }
    }
    // Anything queued after `Shutdown` is dropped with the receiver: its
    // caller gets `Closed` and its pending charge is returned.
}

/// Adds the committed rows in `backlog` to the indexes and rollups and moves
/// the watermark past them, in one transaction of `durability`. On failure
/// the rows stay in the backlog for the next attempt (and a crash would
/// re-index them from the watermark at open).
fn index_backlog(db: &Database, backlog: &mut Vec<(u64, UsageRow)>, durability: Durability) {
    let Some(end) = backlog.iter().map(|(seq, _)| seq + 1).max() else {
        return;
    };
    let run = || -> Result<(), StoreError> {
        let mut txn = db.begin_write().map_err(storage)?;
        txn.set_durability(durability).map_err(storage)?;
        {
            let mut indexes = UsageIndexes::open(&txn)?;
            for (seq, row) in backlog.iter() {
                indexes.add(*seq, row)?;
            }
            let mut meta = txn.open_table(META).map_err(storage)?;
            meta.insert(META_INDEXED_END, end).map_err(storage)?;
        }
        txn.commit().map_err(storage)
    };
    match run() {
        Ok(()) => backlog.clear(),
        Err(e) => tracing::error!(error = %e, rows = backlog.len(), "indexing usage rows"),
    }
}

/// One operation applied inside the group's transaction, waiting for the
/// commit to decide its fate.
enum Staged {
    User(Reply<User>, Result<(User, Usd), StoreError>),
    Key(Reply<()>, Result<ApiKeyRecord, StoreError>),
    Revoked(Reply<ApiKeyRecord>, Result<ApiKeyRecord, StoreError>),
    Updated(Reply<User>, Result<User, StoreError>),
    Settled(
        Reply<Usd>,
        PendingCharge,
        Result<(Usd, Vec<KeyTally>), StoreError>,
    ),
    Credited(Reply<Usd>, UserId, Result<Usd, StoreError>),
    Flushed(Reply<()>),
    Nothing,
}

impl Staged {
    /// The commit succeeded: make the effect visible, then answer.
    fn finish(self, caches: &Caches) {
        match self {
            Staged::User(reply, result) => {
                let result = result.map(|(user, balance)| {
                    let account = Account {
                        balance,
                        ..Account::default()
                    };
                    write(&caches.accounts).insert(user.id, Arc::new(Mutex::new(account)));
                    let mut users = write(&caches.users);
                    users.by_name.insert(user.username.clone(), user.id);
                    users.by_id.insert(user.id, user.clone());
                    user
                });
                let _ = reply.send(result);
            }
            Staged::Key(reply, result) => {
                let result = result.map(|key| {
                    write(&caches.key_meters).entry(key.id.clone()).or_default();
                    write(&caches.keys).insert(key);
                });
                let _ = reply.send(result);
            }
            Staged::Revoked(reply, result) => {
                let result = result.inspect(|key| {
                    write(&caches.keys).by_hash.insert(key.hash, key.clone());
                });
                let _ = reply.send(result);
            }
            Staged::Updated(reply, result) => {
                let result = result.inspect(|user| {
                    write(&caches.users).by_id.insert(user.id, user.clone());
                });
                let _ = reply.send(result);
            }
            Staged::Settled(reply, charge, result) => {
                let result = match result {
                    Ok((balance, tallies)) => {
                        charge.complete(balance, &tallies);
                        Ok(balance)
                    }
                    Err(e) => {
                        drop(charge);
                        Err(e)
                    }
                };
                let _ = reply.send(result);
            }
            Staged::Credited(reply, user, result) => {
                if let Ok(balance) = result
                    && let Some(cell) = read(&caches.accounts).get(&user)
                {
                    lock(cell).balance = balance;
                }
                let _ = reply.send(result);
            }
            Staged::Flushed(reply) => {
                let _ = reply.send(Ok(()));
            }
            Staged::Nothing => {}
        }
    }

    /// The group's transaction failed: nothing it did is visible.
    fn fail(self, message: &str) {
        fn err<T>(message: &str) -> Result<T, StoreError> {
            Err(StoreError::Storage(message.to_owned()))
        }
        match self {
            Staged::User(reply, _) => drop(reply.send(err(message))),
            Staged::Key(reply, _) => drop(reply.send(err(message))),
            Staged::Revoked(reply, _) => drop(reply.send(err(message))),
            Staged::Updated(reply, _) => drop(reply.send(err(message))),
            Staged::Settled(reply, charge, _) => {
                drop(charge);
                drop(reply.send(err(message)));
            }
            Staged::Credited(reply, _, _) => drop(reply.send(err(message))),
            Staged::Flushed(reply) => drop(reply.send(err(message))),
            Staged::Nothing => {}
        }
    }
}

/// Usage rows (with their seq) committed but not yet indexed.
type Unindexed = Vec<(u64, UsageRow)>;

/// Commits the group; returns the usage rows it committed, for indexing.
fn commit_group(db: &Database, caches: &Caches, ops: Vec<Op>) -> Unindexed {
    let writes = ops
        .iter()
        .any(|op| !matches!(op, Op::Flush { .. } | Op::Shutdown));
    if !writes {
        // Everything accepted earlier is already committed: no fsync needed.
        for op in ops {
            stage_without_txn(op).finish(caches);
        }
        return Vec::new();
    }
    match apply_group(db, ops) {
        Ok((staged, rows)) => {
            caches.commits.fetch_add(1, Ordering::Relaxed);
            for s in staged {
                s.finish(caches);
            }
            rows
        }
        Err((message, staged)) => {
            for s in staged {
                s.fail(&message);
            }
            Vec::new()
        }
    }
}

fn stage_without_txn(op: Op) -> Staged {
    match op {
        Op::Flush { reply } | Op::SyncIndexes { reply } => Staged::Flushed(reply),
        Op::Shutdown => Staged::Nothing,
        other => fail_unapplied(other),
    }
}

/// Stages an op that never reached the transaction, as failed.
fn fail_unapplied(op: Op) -> Staged {
    fn closed<T>() -> Result<T, StoreError> {
        Err(StoreError::Storage("the write group was aborted".into()))
    }
    match op {
        Op::CreateUser { reply, .. } => Staged::User(reply, closed()),
        Op::CreateKey { reply, .. } => Staged::Key(reply, closed()),
        Op::RevokeKey { reply, .. } => Staged::Revoked(reply, closed()),
        Op::UpdateUser { reply, .. } => Staged::Updated(reply, closed()),
        Op::Settle { charge, reply, .. } => Staged::Settled(reply, charge, closed()),
        Op::Credit { entry, reply } => Staged::Credited(reply, entry.user_id, closed()),
        Op::Flush { reply } | Op::SyncIndexes { reply } => Staged::Flushed(reply),
        Op::Shutdown => Staged::Nothing,
    }
}

/// Applies the group in one transaction and commits it. On failure returns
/// the error message with every op staged, so each still gets its answer.
fn apply_group(
    db: &Database,
    ops: Vec<Op>,
) -> Result<(Vec<Staged>, Unindexed), (String, Vec<Staged>)> {
    let abort =
        |e: StoreError, ops: Vec<Op>| (message(&e), ops.into_iter().map(fail_unapplied).collect());
    let mut txn = match db.begin_write() {
        Ok(txn) => txn,
        Err(e) => return Err(abort(storage(e), ops)),
    };
    if let Err(e) = txn.set_durability(Durability::Immediate) {
        return Err(abort(storage(e), ops));
    }
    let mut staged = Vec::with_capacity(ops.len());
    let mut failure = None;
    let rows = {
        let mut tables = match Tables::open(&txn) {
            Ok(t) => t,
            Err(e) => return Err(abort(e, ops)),
        };
        for op in ops {
            if failure.is_some() {
                staged.push(fail_unapplied(op));
                continue;
            }
            let (s, fatal) = tables.apply(op);
            staged.push(s);
            failure = fatal;
        }
        if failure.is_none()
            && let Some(end) = tables.unindexed.last().map(|(seq, _)| seq + 1)
            && let Err(e) = tables.meta.insert(META_USAGE_END, end)
        {
            failure = Some(message(&storage(e)));
        }
        tables.unindexed
    };
    if let Some(message) = failure {
        // Dropping the transaction aborts it.
        drop(txn);
        return Err((message, staged));
    }
    match txn.commit() {
        Ok(()) => Ok((staged, rows)),
        Err(e) => Err((redb::Error::from(e).to_string(), staged)),
    }
}

/// The group's open tables.
struct Tables<'t> {
    meta: Table<'t, &'static str, u64>,
    users: Table<'t, u64, &'static [u8]>,
    usernames: Table<'t, &'static str, u64>,
    keys: Table<'t, [u8; 32], &'static [u8]>,
    key_ids: Table<'t, &'static str, [u8; 32]>,
    balances: Table<'t, u64, i128>,
    usage: Table<'t, (u64, u64), &'static [u8]>,
    credits: Table<'t, (u64, u64), &'static [u8]>,
    key_spend: Table<'t, &'static str, (u64, i128, i128)>,
    /// Usage rows written in this group, indexed once it has committed.
    unindexed: Vec<(u64, UsageRow)>,
}

/// `Err` aborts the group (storage failure); `Ok(Err)` refuses just this op.
type Applied<T> = Result<Result<T, StoreError>, StoreError>;

/// Splits an [`Applied`] into the op's own result and, for a storage
/// failure, the message that aborts the group.
fn split<T>(applied: Applied<T>) -> (Result<T, StoreError>, Option<String>) {
    match applied {
        Ok(result) => (result, None),
        Err(e) => {
            let message = message(&e);
            (Err(e), Some(message))
        }
    }
}

impl<'t> Tables<'t> {
    fn open(txn: &'t WriteTransaction) -> Result<Self, StoreError> {
        Ok(Tables {
            meta: txn.open_table(META).map_err(storage)?,
            users: txn.open_table(USERS).map_err(storage)?,
            usernames: txn.open_table(USERNAMES).map_err(storage)?,
            keys: txn.open_table(KEYS).map_err(storage)?,
            key_ids: txn.open_table(KEY_IDS).map_err(storage)?,
            balances: txn.open_table(BALANCES).map_err(storage)?,
            usage: txn.open_table(USAGE).map_err(storage)?,
            credits: txn.open_table(CREDITS).map_err(storage)?,
            key_spend: txn.open_table(KEY_SPEND).map_err(storage)?,
            unindexed: Vec::new(),
        })
    }

    /// Applies one op; the second value is set when the group must abort.
    fn apply(&mut self, op: Op) -> (Staged, Option<String>) {
        match op {
            Op::CreateUser { user, reply } => {
                let (result, fatal) = split(self.create_user(user));
                (Staged::User(reply, result), fatal)
            }
            Op::CreateKey { key, reply } => {
                let (result, fatal) = split(self.create_key(key));
                (Staged::Key(reply, result), fatal)
            }
            Op::RevokeKey {
                user,
                id,
                now,
                reply,
            } => {
                let (result, fatal) = split(self.revoke_key(user, &id, now));
                (Staged::Revoked(reply, result), fatal)
            }
            Op::UpdateUser {
                user,
                update,
                reply,
            } => {
                let (result, fatal) = split(self.update_user(user, update));
                (Staged::Updated(reply, result), fatal)
            }
            Op::Settle {
                row,
                keys,
                charge,
                reply,
            } => {
                let (result, fatal) = split(self.settle(&row, &keys));
                (Staged::Settled(reply, charge, result), fatal)
            }
            Op::Credit { entry, reply } => {
                let user = entry.user_id;
                let (result, fatal) = split(self.credit(&entry));
                (Staged::Credited(reply, user, result), fatal)
            }
            Op::Flush { reply } | Op::SyncIndexes { reply } => (Staged::Flushed(reply), None),
            Op::Shutdown => (Staged::Nothing, None),
        }
    }

    fn next_counter(&mut self, name: &str, first: u64) -> Result<u64, StoreError> {
        let value = self
            .meta
            .get(name)
            .map_err(storage)?
            .map_or(first, |v| v.value());
        let next = value
            .checked_add(1)
            .ok_or_else(|| StoreError::Storage(format!("counter {name} exhausted")))?;
        self.meta.insert(name, next).map_err(storage)?;
        Ok(value)
    }

    fn stored_balance(&self, user: UserId) -> Result<Option<Usd>, StoreError> {
        Ok(self
            .balances
            .get(user)
            .map_err(storage)?
            .map(|b| Usd::from_pico(b.value())))
    }

    fn create_user(&mut self, new: NewUser) -> Applied<(User, Usd)> {
        if self
            .usernames
            .get(new.username.as_str())
            .map_err(storage)?
            .is_some()
        {
            return Ok(Err(StoreError::UserExists(new.username)));
        }
        let id = self.next_counter(META_NEXT_USER, 1)?;
        let user = User {
            id,
            username: new.username,
            password_hash: new.password_hash,
            role: new.role,
            created_at: now_ms() / 1000,
            tier: new.tier,
            disabled: false,
            token_generation: 0,
            deleted: false,
        };
        self.users
            .insert(id, encode(&user)?.as_slice())
            .map_err(storage)?;
        self.usernames
            .insert(user.username.as_str(), id)
            .map_err(storage)?;
        if !new.credits.is_zero() {
            let entry = CreditEntry {
                user_id: id,
                amount: new.credits,
                reason: "opening credit".into(),
                by: None,
                created_at_ms: now_ms(),
            };
            let seq = self.next_counter(META_NEXT_SEQ, 0)?;
            self.credits
                .insert((id, seq), encode(&entry)?.as_slice())
                .map_err(storage)?;
        }
        self.balances
            .insert(id, new.credits.pico())
            .map_err(storage)?;
        Ok(Ok((user, new.credits)))
    }

    fn create_key(&mut self, key: ApiKeyRecord) -> Applied<ApiKeyRecord> {
        if self.users.get(key.user_id).map_err(storage)?.is_none() {
            return Ok(Err(StoreError::UserNotFound));
        }
        let taken = self.keys.get(key.hash).map_err(storage)?.is_some()
            || self
                .key_ids
                .get(key.id.as_str())
                .map_err(storage)?
                .is_some();
        if taken {
            return Ok(Err(StoreError::Storage(
                "an API key with this id or hash already exists".into(),
            )));
        }
        self.keys
            .insert(key.hash, encode(&key)?.as_slice())
            .map_err(storage)?;
        self.key_ids
            .insert(key.id.as_str(), key.hash)
            .map_err(storage)?;
        Ok(Ok(key))
    }

    fn revoke_key(&mut self, user: UserId, id: &str, now: u64) -> Applied<ApiKeyRecord> {
        let Some(hash) = self.key_ids.get(id).map_err(storage)?.map(|h| h.value()) else {
            return Ok(Err(StoreError::KeyNotFound));
        };
        let mut key: ApiKeyRecord = match self.keys.get(hash).map_err(storage)? {
            Some(value) => decode(value.value())?,
            None => return Ok(Err(StoreError::KeyNotFound)),
        };
        if key.user_id != user {
            return Ok(Err(StoreError::KeyNotFound));
        }
        // Revoking twice keeps the first time.
        if key.revoked_at.is_none() {
            key.revoked_at = Some(now);
            self.keys
                .insert(hash, encode(&key)?.as_slice())
                .map_err(storage)?;
        }
        Ok(Ok(key))
    }

    fn update_user(&mut self, id: UserId, update: UserUpdate) -> Applied<User> {
        let mut user: User = match self.users.get(id).map_err(storage)? {
            Some(value) => decode(value.value())?,
            None => return Ok(Err(StoreError::UserNotFound)),
        };
        update.apply(&mut user);
        self.users
            .insert(id, encode(&user)?.as_slice())
            .map_err(storage)?;
        Ok(Ok(user))
    }

    fn settle(&mut self, row: &UsageRow, keys: &[(String, u64)]) -> Applied<(Usd, Vec<KeyTally>)> {
        let Some(balance) = self.stored_balance(row.user_id)? else {
            return Ok(Err(StoreError::UserNotFound));
        };
        let Some(balance) = balance.checked_sub(row.cost) else {
            return Ok(Err(StoreError::Storage("balance out of range".into())));
        };
        let seq = self.next_counter(META_NEXT_SEQ, 0)?;
        self.usage
            .insert((row.user_id, seq), encode(row)?.as_slice())
            .map_err(storage)?;
        self.unindexed.push((seq, row.clone()));
        self.balances
            .insert(row.user_id, balance.pico())
            .map_err(storage)?;
        let cost = row.cost.max(Usd::ZERO);
        let mut tallies = Vec::with_capacity(keys.len());
        for (id, period_start) in keys {
            let before = self
                .key_spend
                .get(id.as_str())
                .map_err(storage)?
                .map(|v| tally_of(v.value()))
                .unwrap_or_default();
            let after = before.charged(*period_start, cost);
            self.key_spend
                .insert(
                    id.as_str(),
                    (
                        after.period_start,
                        after.period_spend.pico(),
                        after.lifetime.pico(),
                    ),
                )
                .map_err(storage)?;
            tallies.push(after);
        }
        Ok(Ok((balance, tallies)))
    }

    fn credit(&mut self, entry: &CreditEntry) -> Applied<Usd> {
        let Some(balance) = self.stored_balance(entry.user_id)? else {
            return Ok(Err(StoreError::UserNotFound));
        };
        let Some(balance) = balance.checked_add(entry.amount) else {
            return Ok(Err(StoreError::Storage("balance out of range".into())));
        };
        let seq = self.next_counter(META_NEXT_SEQ, 0)?;
        self.credits
            .insert((entry.user_id, seq), encode(entry)?.as_slice())
            .map_err(storage)?;
        self.balances
            .insert(entry.user_id, balance.pico())
            .map_err(storage)?;
        Ok(Ok(balance))
    }
}

/// The usage indexes, each a key layout within the one `usage_ix` table;
/// the discriminant is the first byte of every key of that index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Index {
    Time = 1,
    User = 2,
    UserKey = 3,
    UserProvider = 4,
    UserModel = 5,
    Key = 6,
    Provider = 7,
    Model = 8,
}

impl Index {
    const ALL: [Index; 8] = [
        Index::Time,
        Index::User,
        Index::UserKey,
        Index::UserProvider,
        Index::UserModel,
        Index::Key,
        Index::Provider,
        Index::Model,
    ];

    /// The key prefix for these filter values, or `None` when a value the
    /// index needs is missing (a row made without a key has no key entry).
    fn prefix(
        self,
        user: Option<UserId>,
        key: Option<&str>,
        provider: Option<&str>,
        model: Option<&str>,
    ) -> Option<Vec<u8>> {
        let mut p = Vec::with_capacity(48);
        p.push(self as u8);
        match self {
            Index::Time => {}
            Index::User => put_u64(&mut p, user?),
            Index::UserKey => {
                put_u64(&mut p, user?);
                put_str(&mut p, key?);
            }
            Index::UserProvider => {
                put_u64(&mut p, user?);
                put_str(&mut p, provider?);
            }
            Index::UserModel => {
                put_u64(&mut p, user?);
                put_str(&mut p, provider?);
                put_str(&mut p, model?);
            }
            Index::Key => put_str(&mut p, key?),
            Index::Provider => put_str(&mut p, provider?),
            Index::Model => {
                put_str(&mut p, provider?);
                put_str(&mut p, model?);
            }
        }
        Some(p)
    }

    fn row_prefix(self, row: &UsageRow) -> Option<Vec<u8>> {
        self.prefix(
            Some(row.user_id),
            row.key_id.as_deref(),
            Some(&row.provider),
            Some(&row.model),
        )
    }

    /// The narrowest index for `q`'s filters. Whatever it does not cover is
    /// checked per row by [`matches`].
    fn for_query(q: &UsageQuery) -> Index {
        let key = q.key_id.is_some();
        let provider = q.provider.is_some();
        let model = q.model.is_some();
        match (q.user.is_some(), key, provider, model) {
            (true, true, _, _) => Index::UserKey,
            (true, false, true, true) => Index::UserModel,
            (true, false, true, false) => Index::UserProvider,
            (true, false, false, _) => Index::User,
            (false, true, _, _) => Index::Key,
            (false, false, true, true) => Index::Model,
            (false, false, true, false) => Index::Provider,
            (false, false, false, _) => Index::Time,
        }
    }
}

fn put_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_be_bytes());
}

/// Length-prefixed, so one string can never be mistaken for the start of a
/// longer one and prefixes stay unambiguous.
fn put_str(buf: &mut Vec<u8>, s: &str) {
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(s.as_bytes());
}

fn index_key(prefix: &[u8], ts: u64, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + 16);
    k.extend_from_slice(prefix);
    put_u64(&mut k, ts);
    put_u64(&mut k, seq);
    k
}

/// `(created_at_ms, seq)` from the end of an index key.
fn index_position(key: &[u8]) -> Result<(u64, u64), StoreError> {
    let n = key.len();
    let tail = key
        .get(n.wrapping_sub(16)..)
        .filter(|_| n >= 16)
        .ok_or_else(|| StoreError::Storage("corrupt usage index key".into()))?;
    let mut ts = [0u8; 8];
    let mut seq = [0u8; 8];
    ts.copy_from_slice(&tail[..8]);
    seq.copy_from_slice(&tail[8..]);
    Ok((u64::from_be_bytes(ts), u64::from_be_bytes(seq)))
}

/// The usage indexes and rollups, open in a write transaction.
struct UsageIndexes<'t> {
    indexes: Table<'t, &'static [u8], u64>,
    rollup_user: Table<'t, RollupKey, RollupValue>,
    rollup_day: Table<'t, RollupKey, RollupValue>,
}

impl<'t> UsageIndexes<'t> {
    fn open(txn: &'t WriteTransaction) -> Result<Self, StoreError> {
        Ok(UsageIndexes {
            indexes: txn.open_table(USAGE_IX).map_err(storage)?,
            rollup_user: txn.open_table(ROLLUP_USER).map_err(storage)?,
            rollup_day: txn.open_table(ROLLUP_DAY).map_err(storage)?,
        })
    }

    /// Indexes the row stored at `(row.user_id, seq)` and adds it to the
    /// rollups.
    fn add(&mut self, seq: u64, row: &UsageRow) -> Result<(), StoreError> {
        let ts = row.created_at_ms;
        for index in Index::ALL {
            if let Some(prefix) = index.row_prefix(row) {
                self.indexes
                    .insert(index_key(&prefix, ts, seq).as_slice(), row.user_id)
                    .map_err(storage)?;
            }
        }
        let day = ts / DAY_MS;
        let key = row.key_id.as_deref().unwrap_or("");
        let (provider, model) = (row.provider.as_str(), row.model.as_str());
        bump(
            &mut self.rollup_user,
            (row.user_id, day, key, provider, model),
            row,
        )?;
        bump(
            &mut self.rollup_day,
            (day, row.user_id, key, provider, model),
            row,
        )
    }
}

fn bump(
    table: &mut Table<'_, RollupKey, RollupValue>,
    key: (u64, u64, &str, &str, &str),
    row: &UsageRow,
) -> Result<(), StoreError> {
    let (requests, prompt, completion, cost) = table
        .get(key)
        .map_err(storage)?
        .map_or((0, 0, 0, 0), |v| v.value());
    let cost = cost
        .checked_add(row.cost.pico())
        .ok_or_else(|| StoreError::Storage("usage rollup out of range".into()))?;
    table
        .insert(
            key,
            (
                requests.saturating_add(1),
                prompt.saturating_add(row.prompt_tokens),
                completion.saturating_add(row.completion_tokens),
                cost,
            ),
        )
        .map_err(storage)?;
    Ok(())
}

/// Schema 1 → 2: indexes and rolls up every stored usage row.
/// Indexes every usage row whose seq is at least `from` (a full scan of the
/// keys: only at open, after an upgrade or a crash) and moves both
/// watermarks past the newest row.
fn build_usage_indexes(txn: &WriteTransaction, from: u64) -> Result<(), StoreError> {
    let rows = txn.open_table(USAGE).map_err(storage)?;
    let mut indexes = UsageIndexes::open(txn)?;
    let mut end = from;
    for item in rows.iter().map_err(storage)? {
        let (key, value) = item.map_err(storage)?;
        let (_, seq) = key.value();
        if seq < from {
            continue;
        }
        let row: UsageRow = decode(value.value())?;
        indexes.add(seq, &row)?;
        end = end.max(seq + 1);
    }
    let mut meta = txn.open_table(META).map_err(storage)?;
    let recorded = meta
        .get(META_USAGE_END)
        .map_err(storage)?
        .map_or(0, |v| v.value());
    let end = end.max(recorded);
    meta.insert(META_USAGE_END, end).map_err(storage)?;
    meta.insert(META_INDEXED_END, end).map_err(storage)?;
    Ok(())
}

impl RedbStore {
    /// Appends `rows` directly, `batch` rows per write transaction, charging
    /// each row's cost to its user: a fast path to build large ledgers for
    /// benchmarks and tests. Bypasses reservations and the writer thread, so
    /// call it only while nothing else writes. Returns the rows written.
    #[doc(hidden)]
    pub fn bulk_load_usage(
        &self,
        rows: impl IntoIterator<Item = UsageRow>,
        batch: usize,
    ) -> Result<u64, StoreError> {
        let batch = batch.max(1);
        let mut rows = rows.into_iter().peekable();
        let mut written = 0u64;
        while rows.peek().is_some() {
            let txn = self.db.begin_write().map_err(storage)?;
            let mut balances_after = HashMap::new();
            {
                let mut meta = txn.open_table(META).map_err(storage)?;
                let mut usage = txn.open_table(USAGE).map_err(storage)?;
                let mut balances = txn.open_table(BALANCES).map_err(storage)?;
                let mut indexes = UsageIndexes::open(&txn)?;
                let mut seq = meta
                    .get(META_NEXT_SEQ)
                    .map_err(storage)?
                    .map_or(0, |v| v.value());
                for row in rows.by_ref().take(batch) {
                    let balance = balances
                        .get(row.user_id)
                        .map_err(storage)?
                        .map(|b| b.value())
                        .ok_or(StoreError::UserNotFound)?;
                    let balance = balance
                        .checked_sub(row.cost.pico())
                        .ok_or_else(|| StoreError::Storage("balance out of range".into()))?;
                    balances.insert(row.user_id, balance).map_err(storage)?;
                    balances_after.insert(row.user_id, balance);
                    usage
                        .insert((row.user_id, seq), encode(&row)?.as_slice())
                        .map_err(storage)?;
                    indexes.add(seq, &row)?;
                    seq += 1;
                    written += 1;
                }
                meta.insert(META_NEXT_SEQ, seq).map_err(storage)?;
                meta.insert(META_USAGE_END, seq).map_err(storage)?;
                meta.insert(META_INDEXED_END, seq).map_err(storage)?;
            }
            txn.commit().map_err(storage)?;
            let accounts = read(&self.caches.accounts);
            for (user, balance) in balances_after {
                if let Some(cell) = accounts.get(&user) {
                    lock(cell).balance = Usd::from_pico(balance);
                }
            }
        }
        Ok(written)
    }
}

// ---------------------------------------------------------------------------
// History reads

/// Whether `row` passes every filter of `q` (the index already guarantees
/// some of them; checking all is cheap and keeps this obviously right).
fn matches(q: &UsageQuery, row: &UsageRow) -> bool {
    q.user.is_none_or(|u| row.user_id == u)
        && q.key_id
            .as_deref()
            .is_none_or(|k| row.key_id.as_deref() == Some(k))
        && q.provider.as_deref().is_none_or(|p| row.provider == p)
        && q.model.as_deref().is_none_or(|m| row.model == m)
        && q.from_ms.is_none_or(|f| row.created_at_ms >= f)
        && q.to_ms.is_none_or(|t| row.created_at_ms < t)
}

fn read_usage(
    db: &Database,
    q: &UsageQuery,
    fingerprint: u64,
    start: Option<(u64, u64)>,
) -> Result<UsagePage, StoreError> {
    let index = Index::for_query(q);
    let Some(prefix) = index.prefix(
        q.user,
        q.key_id.as_deref(),
        q.provider.as_deref(),
        q.model.as_deref(),
    ) else {
        return Ok(UsagePage::default());
    };
    let txn = db.begin_read().map_err(storage)?;
    let rows_table = txn.open_table(USAGE).map_err(storage)?;
    let table = txn.open_table(USAGE_IX).map_err(storage)?;

    let low = index_key(&prefix, q.from_ms.unwrap_or(0), 0);
    // The upper end: the cursor's position (inclusive), else just before
    // `to`, else the end of the prefix.
    let range = match (start, q.to_ms) {
        (Some((ts, seq)), _) => {
            let high = index_key(&prefix, ts, seq);
            if low > high {
                return Ok(UsagePage::default());
            }
            table.range(low.as_slice()..=high.as_slice())
        }
        (None, Some(to)) => {
            let high = index_key(&prefix, to, 0);
            if low >= high {
                return Ok(UsagePage::default());
            }
            table.range(low.as_slice()..high.as_slice())
        }
        (None, None) => {
            let high = index_key(&prefix, u64::MAX, u64::MAX);
            table.range(low.as_slice()..=high.as_slice())
        }
    }
    .map_err(storage)?;

    let mut rows = Vec::with_capacity(q.limit.min(64));
    let mut next_cursor = None;
    for (scanned, item) in range.rev().enumerate() {
        let (key, value) = item.map_err(storage)?;
        let (ts, seq) = index_position(key.value())?;
        if rows.len() == q.limit || scanned == MAX_SCAN {
            // The first entry not taken: where the next page starts.
            next_cursor = Some(encode_cursor(fingerprint, ts, seq));
            break;
        }
        let user = value.value();
        let stored = rows_table
            .get((user, seq))
            .map_err(storage)?
            .ok_or_else(|| StoreError::Storage("a usage index names a missing row".into()))?;
        let row: UsageRow = decode(stored.value())?;
        if matches(q, &row) {
            rows.push(row);
        }
    }
    Ok(UsagePage { rows, next_cursor })
}

fn read_summary(db: &Database, q: &SummaryQuery) -> Result<UsageSummary, StoreError> {
    let txn = db.begin_read().map_err(storage)?;
    let from = q.from_day.unwrap_or(0);
    // No row has day u64::MAX, so it works as "no upper bound".
    let to = q.to_day.unwrap_or(u64::MAX);
    let mut groups: std::collections::BTreeMap<UsageGroupKey, UsageTotals> =
        std::collections::BTreeMap::new();
    let mut total = UsageTotals::default();
    if from >= to {
        return Ok(UsageSummary::default());
    }
    let (table, range) = match q.user {
        Some(user) => (
            txn.open_table(ROLLUP_USER).map_err(storage)?,
            ((user, from, "", "", ""), (user, to, "", "", "")),
        ),
        None => (
            txn.open_table(ROLLUP_DAY).map_err(storage)?,
            ((from, 0, "", "", ""), (to, 0, "", "", "")),
        ),
    };
    for item in table.range(range.0..range.1).map_err(storage)? {
        let (key, value) = item.map_err(storage)?;
        let key = key.value();
        let (user, day) = match q.user {
            Some(_) => (key.0, key.1),
            None => (key.1, key.0),
        };
        let (requests, prompt_tokens, completion_tokens, cost) = value.value();
        let totals = UsageTotals {
            requests,
            prompt_tokens,
            completion_tokens,
            cost: Usd::from_pico(cost),
        };
        let group = match q.group_by {
            UsageGroupBy::Day => UsageGroupKey::Day(day),
            UsageGroupBy::Model => UsageGroupKey::Model {
                provider: key.3.to_owned(),
                model: key.4.to_owned(),
            },
            UsageGroupBy::Provider => UsageGroupKey::Provider(key.3.to_owned()),
            UsageGroupBy::Key => UsageGroupKey::Key((!key.2.is_empty()).then(|| key.2.to_owned())),
            UsageGroupBy::User => UsageGroupKey::User(user),
        };
        let out_of_range = || StoreError::Storage("usage summary out of range".into());
        let slot = groups.entry(group).or_default();
        *slot = slot.checked_add(totals).ok_or_else(out_of_range)?;
        total = total.checked_add(totals).ok_or_else(out_of_range)?;
    }
    Ok(UsageSummary {
        groups: groups.into_iter().collect(),
        total,
    })
}

/// FNV-1a over the query's filters: a cursor carries it so that one issued
/// for another query (another user's, above all) is refused, not honoured.
fn query_fingerprint(q: &UsageQuery) -> u64 {
    let mut canonical = Vec::with_capacity(64);
    let opt_u64 = |buf: &mut Vec<u8>, v: Option<u64>| match v {
        Some(v) => {
            buf.push(1);
            put_u64(buf, v);
        }
        None => buf.push(0),
    };
    let opt_str = |buf: &mut Vec<u8>, v: Option<&str>| match v {
        Some(v) => {
            buf.push(1);
            put_str(buf, v);
        }
        None => buf.push(0),
    };
    opt_u64(&mut canonical, q.user);
    opt_str(&mut canonical, q.key_id.as_deref());
    opt_str(&mut canonical, q.provider.as_deref());
    opt_str(&mut canonical, q.model.as_deref());
    opt_u64(&mut canonical, q.from_ms);
    opt_u64(&mut canonical, q.to_ms);
    canonical.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `fingerprint.ts.seq` in base64url: opaque to clients.
fn encode_cursor(fingerprint: u64, ts: u64, seq: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{fingerprint:016x}.{ts}.{seq}"))
}

fn decode_cursor(cursor: &str, fingerprint: u64) -> Option<(u64, u64)> {
    if cursor.len() > 96 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let mut parts = text.split('.');
    let fp = u64::from_str_radix(parts.next()?, 16).ok()?;
    let ts = parts.next()?.parse().ok()?;
    let seq = parts.next()?.parse().ok()?;
    (parts.next().is_none() && fp == fingerprint).then_some((ts, seq))
}

// ---------------------------------------------------------------------------
// Helpers

/// The bare text of a group-aborting error, to be re-wrapped per op.
fn message(e: &StoreError) -> String {
    match e {
        StoreError::Storage(m) => m.clone(),
        other => other.to_string(),
    }
}

fn storage(e: impl Into<redb::Error>) -> StoreError {
    StoreError::Storage(e.into().to_string())
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value)
        .map_err(|e| StoreError::Storage(format!("cannot encode a record: {e}")))
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Storage(format!("corrupt record in the database: {e}")))
}

fn tally_of((period_start, period_spend, lifetime): (u64, i128, i128)) -> KeyTally {
    KeyTally {
        period_start,
        period_spend: Usd::from_pico(period_spend),
        lifetime: Usd::from_pico(lifetime),
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

// Nothing panics while these locks are held, but if something ever did, the
// data is still consistent (every update is a single assignment), so carry on.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(PoisonError::into_inner)
}
