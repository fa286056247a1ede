//! Rate limits: requests and tokens per minute, per user and per API key.
//!
//! The server talks to the [`RateLimiter`] trait only, as it does to the
//! ledger, so the in-process [`gcra::GcraLimiter`] can be replaced by a
//! shared-store limiter when several instances serve one set of users (until
//! then each instance enforces the limits on its own).
//!
//! Each subject (a user, or an API key that has its own tier) has two GCRA
//! buckets: requests and tokens, each holding at most one minute's allowance
//! and refilling continuously, so there is no burst at a window edge. A
//! request is admitted only if every bucket that applies to it has room; the
//! token estimate taken at admission is corrected to the reported tokens when
//! the call settles.

pub mod gcra;
mod tiers;

use std::fmt;
use std::time::Duration;

pub use tiers::{Limits, TierError, Tiers};

use crate::store::{StoreFuture, UserId};

/// Whose allowance a bucket holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// A user (every request of theirs, whatever the credential).
    User(UserId),
    /// An API key with its own tier (`key_…` id).
    Key(String),
}

impl Subject {
    /// `user` or `key`, for messages and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Subject::User(_) => "user",
            Subject::Key(_) => "key",
        }
    }
}

/// Which allowance ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// Requests per minute.
    Requests,
    /// Tokens per minute.
    Tokens,
}

impl Dimension {
    /// `requests` or `tokens`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Requests => "requests",
            Dimension::Tokens => "tokens",
        }
    }
}

/// One bucket pair to check: a subject and its limits.
#[derive(Debug, Clone)]
pub struct Bucket {
    /// Whose allowance.
    pub subject: Subject,
    /// Its per-minute limits.
    pub limits: Limits,
}

/// The state of one allowance after a decision, for the `X-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The per-minute limit.
    pub limit: u64,
    /// What is left now.
    pub remaining: u64,
    /// Until the allowance is whole again.
    pub reset: Duration,
}

impl Window {
    /// The tighter of two windows (less remaining; on a tie, the later reset).
    pub fn tighter(self, other: Window) -> Window {
        match self.remaining.cmp(&other.remaining) {
            std::cmp::Ordering::Less => self,
            std::cmp::Ordering::Greater => other,
            std::cmp::Ordering::Equal if other.reset > self.reset => other,
            std::cmp::Ordering::Equal => self,
        }
    }
}

/// Requests and tokens windows, each the tightest over the buckets checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// Requests per minute.
    pub requests: Window,
    /// Tokens per minute.
    pub tokens: Window,
}

/// An admitted request. Hand it back to [`RateLimiter::settle`] with the
/// tokens the call really used.
#[derive(Debug)]
pub struct Grant {
    /// The buckets charged.
    pub subjects: Vec<Subject>,
    /// Tokens charged at admission.
    pub estimate: u64,
    /// The state after admission.
    pub snapshot: Snapshot,
}

/// Why a request was refused.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// Whose allowance ran out.
    pub subject: Subject,
    /// Which one.
    pub dimension: Dimension,
    /// When the request would be admitted; `None` if never (the token
    /// estimate alone is larger than the per-minute limit).
    pub retry_after: Option<Duration>,
    /// The state at refusal.
    pub snapshot: Snapshot,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.retry_after {
            Some(_) => write!(
                f,
                "{} per minute limit of this {} reached",
                self.dimension.as_str(),
                self.subject.kind()
            ),
            None => write!(
                f,
                "this request's estimated tokens exceed the {} tokens per minute limit of this {}",
                self.snapshot.tokens.limit,
                self.subject.kind()
            ),
        }
    }
}

/// Admits requests against per-minute allowances.
pub trait RateLimiter: Send + Sync + 'static {
    /// Takes one request and `tokens` from every bucket, or none of them if
    /// any bucket lacks room.
    fn admit(&self, buckets: Vec<Bucket>, tokens: u64) -> StoreFuture<'_, Result<Grant, Refusal>>;
    /// Replaces the grant's token estimate with the tokens actually used
    /// (zero for a failed call: the request still counts, its tokens do not).
    fn settle(&self, grant: Grant, used: u64);
}
