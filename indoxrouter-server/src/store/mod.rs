//! Accounts, API keys and the credit ledger, behind narrow interfaces.
//!
//! The server talks to [`Accounts`] and [`Ledger`] only, so the embedded
//! redb store ([`redb_store::RedbStore`]) and a shared store for multi-instance
//! deployments are interchangeable. Money is [`Usd`] (integer pico-dollars)
//! throughout; nothing here uses floats.

pub mod key_budget;
pub mod redb_store;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use indoxrouter::Usd;
use serde::{Deserialize, Serialize};

pub use key_budget::{KeyBudget, KeySpend};

/// A boxed future, so the store traits stay object-safe.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A user's numeric id (assigned by the store, never reused).
pub type UserId = u64;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Calls models, manages own keys.
    User,
    /// Also manages users and credits.
    Admin,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }
}

/// An argon2id PHC string. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(pub String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(***)")
    }
}

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Store-assigned id.
    pub id: UserId,
    /// Unique login name (case-sensitive, as the classic API).
    pub username: String,
    /// argon2id hash of the password.
    pub password_hash: PasswordHash,
    /// Role.
    pub role: Role,
    /// Creation time, Unix seconds.
    pub created_at: u64,
    /// Rate-limit tier; `None` means the server's default tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// A disabled user's tokens and keys are refused on every route.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// Access tokens carry the generation they were issued under; raising
    /// it (a password change, a reset, a revocation) ends all of them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub token_generation: u32,
    /// Deleted by an administrator: disabled for good; the record stays for
    /// its usage rows and so its username cannot be taken again by accident.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Changes to a user; each `None` field is left as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// The rate-limit tier (`Some(None)`: the server default).
    pub tier: Option<Option<String>>,
    /// A new password hash; also ends the user's access tokens.
    pub password_hash: Option<PasswordHash>,
    /// Disable or enable the user.
    pub disabled: Option<bool>,
    /// End every access token issued so far.
    pub revoke_tokens: bool,
    /// Mark the user deleted (for good).
    pub deleted: bool,
}

impl UserUpdate {
    /// Applies the changes to `user`.
    pub fn apply(self, user: &mut User) {
        if let Some(tier) = self.tier {
            user.tier = tier;
        }
        if let Some(disabled) = self.disabled {
            user.disabled = disabled;
        }
        if self.deleted {
            user.deleted = true;
        }
        // A deleted user stays disabled whatever else is asked.
        user.disabled |= user.deleted;
        if self.revoke_tokens || self.password_hash.is_some() {
            user.token_generation = user.token_generation.wrapping_add(1);
        }
        if let Some(hash) = self.password_hash {
            user.password_hash = hash;
        }
    }
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Unique login name.
    pub username: String,
    /// argon2id hash of the password.
    pub password_hash: PasswordHash,
    /// Role.
    pub role: Role,
    /// Opening credit, written as a ledger entry when non-zero.
    pub credits: Usd,
    /// Rate-limit tier; `None` means the server's default tier.
    pub tier: Option<String>,
}

/// SHA-256 of an API key: the only form in which a key is stored.
pub type KeyHash = [u8; 32];

/// A stored API key (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    /// Public id (`key_…`), used to list and revoke.
    pub id: String,
    /// Owner.
    pub user_id: UserId,
    /// Caller-chosen label.
    pub name: Option<String>,
    /// The key's first characters, so users can tell keys apart.
    pub prefix: String,
    /// SHA-256 of the full key.
    pub hash: KeyHash,
    /// Creation time, Unix seconds.
    pub created_at: u64,
    /// Expiry, Unix seconds.
    pub expires_at: Option<u64>,
    /// Revocation time, Unix seconds.
    pub revoked_at: Option<u64>,
    /// The key's own rate-limit tier, applied on top of its user's; `None`
    /// means the key shares only its user's limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// What the key may do; `None` for a key made before scopes existed,
    /// which may do everything its user may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<crate::auth::scopes::Scope>>,
    /// Model patterns the key may call (`openai/*`); `None`: any model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub models: Option<Vec<String>>,
    /// The most output tokens one request may ask for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens_per_request: Option<u64>,
    /// The key's spending limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<KeyBudget>,
    /// The key that minted this one: its holds and charges also count
    /// against that key's budget (and its creator's, up the chain).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

impl ApiKeyRecord {
    /// Whether the key may be used at `now` (Unix seconds).
    pub fn is_active(&self, now: u64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// How a metered request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageStatus {
    /// The provider answered in full.
    Completed,
    /// A stream the client abandoned; billed by the streaming rule.
    ClientDisconnected,
    /// A stream the provider broke off; billed by the streaming rule.
    UpstreamError,
    /// The provider call failed before producing anything: cost is zero.
    Failed,
    /// A stream cut short by server shutdown; billed by the streaming rule.
    Interrupted,
}

/// One metered request: appended atomically with its charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRow {
    /// The request id returned to the client.
    pub request_id: String,
    /// Who is charged.
    pub user_id: UserId,
    /// The API key used, if any.
    pub key_id: Option<String>,
    /// `chat`, `completions`, `embeddings` or `images`.
    pub endpoint: String,
    /// Provider id.
    pub provider: String,
    /// Provider's model id.
    pub model: String,
    /// Whether the answer was streamed.
    pub stream: bool,
    /// Prompt tokens (all kinds).
    pub prompt_tokens: u64,
    /// Completion tokens (all kinds).
    pub completion_tokens: u64,
    /// Prompt tokens read from the provider's cache.
    pub cached_tokens: u64,
    /// Prompt tokens written to the provider's cache.
    pub cache_write_tokens: u64,
    /// Completion tokens spent on reasoning.
    pub reasoning_tokens: u64,
    /// Images generated.
    pub images: u32,
    /// The charge: the cost of the provider's reported usage, never more
    /// than the credit held for the request.
    pub cost: Usd,
    /// What the provider's reported usage cost beyond the hold: served but
    /// not charged, so that a balance never goes below zero. Zero unless a
    /// provider over-reported or a quote fell short; the operator sees it
    /// here, in a metric and in a warning.
    #[serde(default)]
    pub overrun: Usd,
    /// The model had no price and was allowed at zero cost.
    pub unpriced: bool,
    /// End-to-end latency in milliseconds.
    pub latency_ms: u64,
    /// How it ended.
    pub status: UsageStatus,
    /// Completion time, Unix milliseconds.
    pub created_at_ms: u64,
}

impl UsageRow {
    /// Caps the charge at `hold`, moving any excess into
    /// [`overrun`](Self::overrun). Idempotent; every ledger applies it, so
    /// no backend can charge more than it held.
    pub fn cap_to(&mut self, hold: Usd) {
        if self.cost > hold {
            self.overrun += self.cost - hold;
            self.cost = hold;
        }
    }
}

/// A credit (or debit) added by an administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditEntry {
    /// Whose balance changes.
    pub user_id: UserId,
    /// Signed amount.
    pub amount: Usd,
    /// Why.
    pub reason: String,
    /// The admin who made it (`None` for bootstrap/opening credit).
    pub by: Option<UserId>,
    /// Time, Unix milliseconds.
    pub created_at_ms: u64,
}

/// A hold on part of a user's balance while a provider call runs.
///
/// Dropping it without [`Ledger::settle`] releases the hold, so a failed or
/// panicking request never keeps credit locked. Reservations live in memory:
/// they do not survive a restart, by design.
#[must_use = "a reservation is released when dropped"]
pub struct Reservation {
    /// Whose credit is held.
    pub user_id: UserId,
    /// The API key whose budget (and its ancestors') also holds `amount`.
    pub key_id: Option<String>,
    /// How much is held.
    pub amount: Usd,
    /// Called once on drop unless the reservation was settled.
    release: Option<Box<dyn FnOnce(UserId, Usd) + Send + Sync>>,
}

impl Reservation {
    /// A reservation that calls `release` when dropped unsettled.
    pub fn new(
        user_id: UserId,
        amount: Usd,
        release: Box<dyn FnOnce(UserId, Usd) + Send + Sync>,
    ) -> Self {
        Reservation {
            user_id,
            key_id: None,
            amount,
            release: Some(release),
        }
    }

    /// The same reservation, also held against `key`'s budget.
    pub fn for_key(mut self, key: Option<String>) -> Self {
        self.key_id = key;
        self
    }

    /// Takes the release hook out (the store calls this when settling).
    pub fn disarm(&mut self) -> Option<Box<dyn FnOnce(UserId, Usd) + Send + Sync>> {
        self.release.take()
    }
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("user_id", &self.user_id)
            .field("key_id", &self.key_id)
            .field("amount", &self.amount)
            .finish()
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(release) = self.release.take() {
            release(self.user_id, self.amount);
        }
    }
}

/// A page of usage rows, newest first.
#[derive(Debug, Clone, Default)]
pub struct UsagePage {
    /// The rows.
    pub rows: Vec<UsageRow>,
    /// Pass back to get the next page; `None` at the end.
    pub next_cursor: Option<String>,
}

/// Which usage rows to list: every filter is optional and they combine with
/// AND. Rows come newest first, ordered by `(created_at_ms, seq)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageQuery {
    /// Only this user's rows; `None` lists every user (administrators).
    pub user: Option<UserId>,
    /// Only rows made with this API key id.
    pub key_id: Option<String>,
    /// Only rows served by this provider.
    pub provider: Option<String>,
    /// Only rows for this model id (as the provider names it). Served by an
    /// index only together with `provider`; alone it is post-filtered.
    pub model: Option<String>,
    /// Rows created at or after this Unix millisecond.
    pub from_ms: Option<u64>,
    /// Rows created before this Unix millisecond (exclusive).
    pub to_ms: Option<u64>,
    /// Page size, clamped to `1..=1000`.
    pub limit: usize,
    /// A `next_cursor` from an earlier page of the same query.
    pub cursor: Option<String>,
}

impl UsageQuery {
    /// One user's rows, unfiltered: the original `usage` listing.
    pub fn for_user(user: UserId, limit: usize, cursor: Option<&str>) -> Self {
        UsageQuery {
            user: Some(user),
            limit,
            cursor: cursor.map(str::to_owned),
            ..UsageQuery::default()
        }
    }
}

/// How a usage summary groups its totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UsageGroupBy {
    /// UTC calendar day of `created_at_ms`.
    Day,
    /// `provider/model`.
    Model,
    /// Provider id.
    Provider,
    /// API key id (rows made with a login token have none).
    Key,
    /// User (meaningful for administrators' all-user summaries).
    User,
}

/// What to summarise. Summaries are answered from per-day rollups, so the
/// range is in whole UTC days: `from_day` inclusive, `to_day` exclusive, both
/// counted in days since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryQuery {
    /// Only this user; `None` summarises every user.
    pub user: Option<UserId>,
    /// The grouping.
    pub group_by: UsageGroupBy,
    /// First day included.
    pub from_day: Option<u64>,
    /// First day excluded.
    pub to_day: Option<u64>,
}

/// Sums over a set of usage rows. Exact: money is [`Usd`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageTotals {
    /// Number of rows (metered requests, failed ones included).
    pub requests: u64,
    /// Σ prompt tokens.
    pub prompt_tokens: u64,
    /// Σ completion tokens.
    pub completion_tokens: u64,
    /// Σ cost.
    pub cost: Usd,
}

impl UsageTotals {
    /// Adds `other` in; `None` if the cost overflows (token counts saturate).
    pub fn checked_add(self, other: UsageTotals) -> Option<UsageTotals> {
        Some(UsageTotals {
            requests: self.requests.saturating_add(other.requests),
            prompt_tokens: self.prompt_tokens.saturating_add(other.prompt_tokens),
            completion_tokens: self
                .completion_tokens
                .saturating_add(other.completion_tokens),
            cost: self.cost.checked_add(other.cost)?,
        })
    }

    /// The totals of one row.
    pub fn of(row: &UsageRow) -> UsageTotals {
        UsageTotals {
            requests: 1,
            prompt_tokens: row.prompt_tokens,
            completion_tokens: row.completion_tokens,
            cost: row.cost,
        }
    }
}

/// What one summary group is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UsageGroupKey {
    /// Days since the Unix epoch (UTC).
    Day(u64),
    /// A provider and one of its models.
    Model {
        /// Provider id.
        provider: String,
        /// Model id.
        model: String,
    },
    /// A provider.
    Provider(String),
    /// An API key id; `None` for requests made with a login token.
    Key(Option<String>),
    /// A user.
    User(UserId),
}

/// Grouped totals plus the grand total, groups in key order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageSummary {
    /// One entry per group.
    pub groups: Vec<(UsageGroupKey, UsageTotals)>,
    /// Over every group.
    pub total: UsageTotals,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The username is taken.
    #[error("user `{0}` already exists")]
    UserExists(String),
    /// No such user.
    #[error("no such user")]
    UserNotFound,
    /// No such key (or not the caller's).
    #[error("no such API key")]
    KeyNotFound,
    /// The balance minus open reservations cannot cover the amount.
    #[error("insufficient credits: {needed} needed, {available} available")]
    InsufficientCredits {
        /// The amount asked for.
        needed: Usd,
        /// Balance minus open reservations.
        available: Usd,
    },
    /// A key's budget (or that of the key that minted it) cannot cover
    /// the amount.
    #[error("key budget exceeded: {needed} needed, {available} left on key {key_id}")]
    KeyBudgetExceeded {
        /// The key whose budget is short (the caller's key or an ancestor).
        key_id: String,
        /// The amount asked for.
        needed: Usd,
        /// Budget minus spend and open holds.
        available: Usd,
        /// When a periodic budget resets, Unix seconds.
        resets_at: Option<u64>,
    },
    /// A cursor the store did not issue.
    #[error("invalid cursor")]
    BadCursor,
    /// The underlying database failed.
    #[error("storage failure: {0}")]
    Storage(String),
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
}

/// Users and API keys.
pub trait Accounts: Send + Sync + 'static {
    /// Creates a user, and its opening credit entry when non-zero.
    fn create_user(&self, user: NewUser) -> StoreFuture<'_, User>;
    /// The user with `username`.
    fn user_by_name(&self, username: &str) -> Option<User>;
    /// The user with `id`.
    fn user_by_id(&self, id: UserId) -> Option<User>;
    /// Every user, by id.
    fn list_users(&self) -> Vec<User>;
    /// Sets `user`'s rate-limit tier (`None`: the server default).
    fn update_user(&self, user: UserId, update: UserUpdate) -> StoreFuture<'_, User>;
    /// Stores a new key record.
    fn create_key(&self, key: ApiKeyRecord) -> StoreFuture<'_, ()>;
    /// The key record whose hash is `hash` (active or not).
    fn key_by_hash(&self, hash: &KeyHash) -> Option<ApiKeyRecord>;
    /// `user`'s keys, newest first.
    fn list_keys(&self, user: UserId) -> Vec<ApiKeyRecord>;
    /// A key by its id (`key_…`), whoever owns it.
    fn key_by_id(&self, id: &str) -> Option<ApiKeyRecord>;
    /// Revokes `user`'s key `id` at `now`; `KeyNotFound` if not theirs.
    fn revoke_key(&self, user: UserId, id: &str, now: u64) -> StoreFuture<'_, ApiKeyRecord>;
}

/// Balances, reservations, charges and credits.
pub trait Ledger: Send + Sync + 'static {
    /// The durable balance (charges settled, reservations not subtracted).
    fn balance(&self, user: UserId) -> Usd;
    /// Balance minus open reservations and charges not yet durable.
    fn available(&self, user: UserId) -> Usd;
    /// Holds `amount` of `user`'s credit, or `InsufficientCredits`.
    fn reserve(&self, user: UserId, amount: Usd) -> Result<Reservation, StoreError> {
        self.reserve_for_key(user, None, amount)
    }
    /// Holds `amount` of `user`'s credit and, when `key` is given, of the
    /// budget of that key and of every key above it that has one — all or
    /// nothing. `InsufficientCredits` or `KeyBudgetExceeded` otherwise.
    fn reserve_for_key(
        &self,
        user: UserId,
        key: Option<&str>,
        amount: Usd,
    ) -> Result<Reservation, StoreError>;
    /// What `key` (and the keys minted from it) has spent, at `now`.
    fn key_spend(&self, key: &ApiKeyRecord, now: u64) -> KeySpend;
    /// Replaces the hold with the actual charge `row.cost`, capped at the
    /// hold ([`UsageRow::cap_to`]), and appends `row`, in one atomic,
    /// durable write (group-committed with concurrent ones).
    /// Resolves to the balance after the charge once it is durable.
    fn settle(&self, reservation: Reservation, row: UsageRow) -> StoreFuture<'_, Usd>;
    /// Adds a signed credit entry; resolves to the new balance once durable.
    fn credit(&self, entry: CreditEntry) -> StoreFuture<'_, Usd>;
    /// `user`'s usage rows, newest first, `limit` per page.
    fn usage(
        &self,
        user: UserId,
        limit: usize,
        cursor: Option<&str>,
    ) -> StoreFuture<'_, UsagePage> {
        self.usage_query(UsageQuery::for_user(user, limit, cursor))
    }
    /// Usage rows matching `query`, newest first. A page's cost must not
    /// grow with the ledger: implementations serve filters from indexes.
    /// A cursor from a different query is refused with `BadCursor`.
    fn usage_query(&self, query: UsageQuery) -> StoreFuture<'_, UsagePage>;
    /// Grouped totals and cost over whole UTC days, from rollups maintained
    /// with each charge (no scan of raw rows).
    fn usage_summary(&self, query: SummaryQuery) -> StoreFuture<'_, UsageSummary>;
    /// Total credits ever added to `user` (for the restart invariant check).
    fn credits_total(&self, user: UserId) -> StoreFuture<'_, Usd>;
    /// Waits until every accepted write is durable (graceful shutdown).
    fn flush(&self) -> StoreFuture<'_, ()>;
}
