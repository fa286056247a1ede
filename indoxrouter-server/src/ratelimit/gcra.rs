//! The in-process limiter: GCRA (the generic cell rate algorithm) on a
//! monotonic clock.
//!
//! Each bucket keeps one number per dimension, its "theoretical arrival
//! time" (TAT): the moment the allowance would be whole again if nothing else
//! arrived. Taking `n` units moves it `n × 60 s / limit` later (starting from
//! now if it lay in the past); the take is refused if that would put it more
//! than 60 s ahead of now. That is a token bucket of one minute's capacity
//! refilled continuously, kept in one integer.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{Bucket, Dimension, Grant, Limits, RateLimiter, Refusal, Snapshot, Subject, Window};
use crate::store::StoreFuture;

/// One minute, the period every limit is expressed in.
const PERIOD_NS: u64 = 60_000_000_000;

/// Above this many tracked subjects, the ones whose allowance is whole again
/// are forgotten (they are indistinguishable from new ones).
const SWEEP_ABOVE: usize = 65_536;

#[derive(Debug, Clone, Copy, Default)]
struct State {
    requests_tat: u64,
    tokens_tat: u64,
    /// The token limit last applied, to convert a settle-time correction.
    tokens_per_minute: u64,
}

/// The in-process [`RateLimiter`].
#[derive(Debug)]
pub struct GcraLimiter {
    epoch: Instant,
    buckets: Mutex<HashMap<Subject, State>>,
}

impl Default for GcraLimiter {
    fn default() -> Self {
        Self::new()
    }
}

/// Nanoseconds `n` units take at `limit` per minute.
fn cost(n: u64, limit: u64) -> u64 {
    let ns = u128::from(n) * u128::from(PERIOD_NS) / u128::from(limit.max(1));
    u64::try_from(ns).unwrap_or(u64::MAX)
}

/// The window after a bucket's TAT moved to `tat`.
fn window(tat: u64, now: u64, limit: u64) -> Window {
    let ahead = tat.saturating_sub(now);
    let room = PERIOD_NS.saturating_sub(ahead);
    let remaining = u128::from(room) * u128::from(limit) / u128::from(PERIOD_NS);
    Window {
        limit,
        remaining: u64::try_from(remaining).unwrap_or(u64::MAX),
        reset: Duration::from_nanos(ahead),
    }
}

impl GcraLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        GcraLimiter {
            epoch: Instant::now(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The decision at `now` (nanoseconds since the limiter's epoch).
    pub fn admit_at(&self, buckets: &[Bucket], tokens: u64, now: u64) -> Result<Grant, Refusal> {
        let mut map = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, s| s.requests_tat > now || s.tokens_tat > now);
        }
        let mut next = Vec::with_capacity(buckets.len());
        let mut snapshot: Option<Snapshot> = None;
        let mut refusal: Option<Refusal> = None;
        for b in buckets {
            let Limits {
                requests_per_minute: rpm,
                tokens_per_minute: tpm,
            } = b.limits;
            let s = map.get(&b.subject).copied().unwrap_or_default();
            let req_tat = s.requests_tat.max(now).saturating_add(cost(1, rpm));
            let tok_tat = s.tokens_tat.max(now).saturating_add(cost(tokens, tpm));
            let over = |tat: u64| tat.saturating_sub(now).saturating_sub(PERIOD_NS);
            let (req_over, tok_over) = (over(req_tat), over(tok_tat));
            let this = if req_over == 0 && tok_over == 0 {
                Snapshot {
                    requests: window(req_tat, now, rpm),
                    tokens: window(tok_tat, now, tpm),
                }
            } else {
                // Refused: report the bucket as it stands.
                Snapshot {
                    requests: window(s.requests_tat.max(now), now, rpm),
                    tokens: window(s.tokens_tat.max(now), now, tpm),
                }
            };
            snapshot = Some(match snapshot {
                None => this,
                Some(prev) => Snapshot {
                    requests: prev.requests.tighter(this.requests),
                    tokens: prev.tokens.tighter(this.tokens),
                },
            });
            if req_over > 0 || tok_over > 0 {
                let (dimension, wait) = if tokens > tpm {
                    (Dimension::Tokens, None)
                } else if tok_over > req_over {
                    (Dimension::Tokens, Some(Duration::from_nanos(tok_over)))
                } else {
                    (Dimension::Requests, Some(Duration::from_nanos(req_over)))
                };
                let worse = refusal
                    .as_ref()
                    .is_none_or(|r| match (r.retry_after, wait) {
                        (None, _) => false,
                        (Some(_), None) => true,
                        (Some(a), Some(b)) => b > a,
                    });
                if worse {
                    refusal = Some(Refusal {
                        subject: b.subject.clone(),
                        dimension,
                        retry_after: wait,
                        snapshot: this,
                    });
                }
            }
            next.push((
                b.subject.clone(),
                State {
                    requests_tat: req_tat,
                    tokens_tat: tok_tat,
                    tokens_per_minute: tpm,
                },
            ));
        }
        let snapshot = snapshot.unwrap_or(Snapshot {
            requests: window(now, now, 0),
            tokens: window(now, now, 0),
        });
        if let Some(mut r) = refusal {
            r.snapshot = snapshot;
            return Err(r);
        }
        let mut subjects = Vec::with_capacity(next.len());
        for (subject, state) in next {
            subjects.push(subject.clone());
            map.insert(subject, state);
        }
        Ok(Grant {
            subjects,
            estimate: tokens,
            snapshot,
        })
    }

    /// Corrects a grant's token estimate to `used`.
    pub fn settle_at(&self, grant: &Grant, used: u64) {
        if used == grant.estimate {
            return;
        }
        let mut map = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        for subject in &grant.subjects {
            if let Some(s) = map.get_mut(subject) {
                let tpm = s.tokens_per_minute;
                if used > grant.estimate {
                    s.tokens_tat = s
                        .tokens_tat
                        .saturating_add(cost(used - grant.estimate, tpm));
                } else {
                    s.tokens_tat = s
                        .tokens_tat
                        .saturating_sub(cost(grant.estimate - used, tpm));
                }
            }
        }
    }
}

impl RateLimiter for GcraLimiter {
    fn admit(&self, buckets: Vec<Bucket>, tokens: u64) -> StoreFuture<'_, Result<Grant, Refusal>> {
        let decision = self.admit_at(&buckets, tokens, self.now());
        Box::pin(std::future::ready(Ok(decision)))
    }

    fn settle(&self, grant: Grant, used: u64) {
        self.settle_at(&grant, used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    fn bucket(subject: Subject, rpm: u64, tpm: u64) -> Bucket {
        Bucket {
            subject,
            limits: Limits {
                requests_per_minute: rpm,
                tokens_per_minute: tpm,
            },
        }
    }

    #[test]
    fn a_minutes_allowance_then_a_steady_rate() {
        let l = GcraLimiter::new();
        let b = [bucket(Subject::User(1), 60, 1_000_000)];
        for i in 0..60 {
            let g = l.admit_at(&b, 1, 0).unwrap();
            assert_eq!(g.snapshot.requests.remaining, 59 - i);
        }
        let r = l.admit_at(&b, 1, 0).unwrap_err();
        assert_eq!(r.dimension, Dimension::Requests);
        assert_eq!(r.retry_after, Some(Duration::from_secs(1)));
        assert_eq!(r.snapshot.requests.remaining, 0);
        // One second later exactly one more fits: no window-edge burst.
        assert!(l.admit_at(&b, 1, SEC).is_ok());
        assert!(l.admit_at(&b, 1, SEC).is_err());
        // After a quiet minute the whole allowance is back.
        let g = l.admit_at(&b, 1, 62 * SEC).unwrap();
        assert_eq!(g.snapshot.requests.remaining, 59);
    }

    #[test]
    fn tokens_are_corrected_at_settle() {
        let l = GcraLimiter::new();
        let b = [bucket(Subject::User(1), 1000, 600)];
        let g = l.admit_at(&b, 500, 0).unwrap();
        assert_eq!(g.snapshot.tokens.remaining, 100);
        assert_eq!(
            l.admit_at(&b, 200, 0).unwrap_err().dimension,
            Dimension::Tokens
        );
        // The call used only 100: 400 come back.
        l.settle_at(&g, 100);
        assert!(l.admit_at(&b, 200, 0).is_ok());
        // A request larger than the limit can never pass.
        let r = l.admit_at(&b, 601, 0).unwrap_err();
        assert_eq!(r.retry_after, None);
    }

    #[test]
    fn all_buckets_or_none() {
        let l = GcraLimiter::new();
        let key = bucket(Subject::Key("k".into()), 2, 1000);
        let user = bucket(Subject::User(1), 100, 1000);
        let both = [key.clone(), user.clone()];
        assert!(l.admit_at(&both, 1, 0).is_ok());
        let g = l.admit_at(&both, 1, 0).unwrap();
        // The key is the tighter: its window is reported.
        assert_eq!(g.snapshot.requests.limit, 2);
        assert_eq!(g.snapshot.requests.remaining, 0);
        let r = l.admit_at(&both, 1, 0).unwrap_err();
        assert_eq!(r.subject, Subject::Key("k".into()));
        // The refused request took nothing from the user's bucket.
        let g = l.admit_at(std::slice::from_ref(&user), 1, 0).unwrap();
        assert_eq!(g.snapshot.requests.remaining, 97);
    }

    #[test]
    fn reset_is_the_time_until_whole() {
        let l = GcraLimiter::new();
        let b = [bucket(Subject::User(1), 60, 6000)];
        let g = l.admit_at(&b, 3000, 0).unwrap();
        assert_eq!(g.snapshot.requests.reset, Duration::from_secs(1));
        assert_eq!(g.snapshot.tokens.reset, Duration::from_secs(30));
    }
}
