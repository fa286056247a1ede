//! Per-key budgets: a spending limit on one API key, for its lifetime or per
//! period (`budget_duration`), enforced in the same reserve/settle path as
//! the user's balance so parallel requests cannot overshoot it.
//!
//! A key minted by another key spends out of its creator's budget too: every
//! hold and charge counts against the key and each of its ancestors, so
//! minting many small keys never widens what the first one may spend.
//!
//! Periods are aligned to the key's creation time: period *k* covers
//! `[created_at + k·d, created_at + (k+1)·d)`. A charge counts in the period
//! in which it becomes durable; since a hold is subtracted in every period
//! until it settles, a period's spend never exceeds the budget.

use indoxrouter::Usd;
use serde::{Deserialize, Serialize};

/// The longest `budget_duration` accepted: about ten years.
pub const MAX_PERIOD_SECS: u64 = 3_650 * 86_400;

/// A key's spending limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyBudget {
    /// The most the key may spend in one period (or in its lifetime).
    pub max: Usd,
    /// The period length in seconds; `None`: the budget never resets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_secs: Option<u64>,
}

impl KeyBudget {
    /// Start of the period containing `now` for a key created at
    /// `created_at` (Unix seconds); 0 for a lifetime budget.
    pub fn period_start(&self, created_at: u64, now: u64) -> u64 {
        match self.period_secs {
            Some(d) if d > 0 => {
                let elapsed = now.saturating_sub(created_at);
                created_at.saturating_add(elapsed - elapsed % d)
            }
            _ => 0,
        }
    }

    /// When the period containing `now` ends; `None` for a lifetime budget.
    pub fn resets_at(&self, created_at: u64, now: u64) -> Option<u64> {
        let d = self.period_secs.filter(|d| *d > 0)?;
        Some(self.period_start(created_at, now).saturating_add(d))
    }
}

/// Parses a `budget_duration`: a positive whole number followed by `s`,
/// `m`, `h` or `d` (`"30s"`, `"1h"`, `"7d"`, `"30d"`), the forms LiteLLM's
/// virtual keys use. `None` when malformed or longer than
/// [`MAX_PERIOD_SECS`].
pub fn parse_duration(s: &str) -> Option<u64> {
    let unit_at = s.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = s.split_at(unit_at);
    if digits.is_empty() || digits.len() > 12 {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    let secs = n.checked_mul(scale)?;
    (1..=MAX_PERIOD_SECS).contains(&secs).then_some(secs)
}

/// Writes a period the way [`parse_duration`] reads it, in the largest
/// unit that divides it (`86400` → `"1d"`).
pub fn format_duration(secs: u64) -> String {
    for (scale, unit) in [(86_400, "d"), (3_600, "h"), (60, "m")] {
        if secs >= scale && secs % scale == 0 {
            return format!("{}{unit}", secs / scale);
        }
    }
    format!("{secs}s")
}

/// What a key has spent, as shown in its listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeySpend {
    /// Spent in the current period (for a lifetime or no budget: ever), by
    /// the key and the keys minted from it.
    pub spend: Usd,
    /// Spent ever, by the key and the keys minted from it.
    pub lifetime: Usd,
    /// When a periodic budget next resets, Unix seconds.
    pub resets_at: Option<u64>,
}

/// A key's durable tally: what the ledger stores per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyTally {
    /// Start of the period `period_spend` belongs to (0 for lifetime).
    pub period_start: u64,
    /// Spent in that period.
    pub period_spend: Usd,
    /// Spent ever.
    pub lifetime: Usd,
}

impl KeyTally {
    /// The tally after a charge of `cost` landing in the period that starts
    /// at `period_start`.
    pub fn charged(self, period_start: u64, cost: Usd) -> KeyTally {
        let base = if period_start > self.period_start {
            Usd::ZERO
        } else {
            self.period_spend
        };
        KeyTally {
            period_start: period_start.max(self.period_start),
            period_spend: base.saturating_add(cost),
            lifetime: self.lifetime.saturating_add(cost),
        }
    }

    /// Spent in the period starting at `period_start` (zero once a newer
    /// period has begun).
    pub fn spent_in(&self, period_start: u64) -> Usd {
        if period_start > self.period_start {
            Usd::ZERO
        } else {
            self.period_spend
        }
    }
}

/// A key's money in memory: its durable tally plus what is held for it.
#[derive(Debug, Default)]
pub struct KeyMeter {
    /// The durable tally.
    pub tally: KeyTally,
    /// Open holds.
    pub reserved: Usd,
    /// Settled charges whose write is not yet durable.
    pub pending: Usd,
}

impl KeyMeter {
    /// What `budget` still allows at `now` for a key created at `created_at`.
    pub fn headroom(&self, budget: &KeyBudget, created_at: u64, now: u64) -> Usd {
        let spent = self.tally.spent_in(budget.period_start(created_at, now));
        budget
            .max
            .saturating_sub(spent)
            .saturating_sub(self.reserved)
            .saturating_sub(self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_litellm() {
        assert_eq!(parse_duration("30s"), Some(30));
        assert_eq!(parse_duration("5m"), Some(300));
        assert_eq!(parse_duration("1h"), Some(3_600));
        assert_eq!(parse_duration("30d"), Some(30 * 86_400));
        for bad in [
            "",
            "d",
            "0d",
            "1",
            "1w",
            "-1d",
            "1.5d",
            "1 d",
            "99999999999999d",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
        assert_eq!(format_duration(86_400), "1d");
        assert_eq!(format_duration(7_200), "2h");
        assert_eq!(format_duration(90), "90s");
    }

    #[test]
    fn periods_align_to_creation() {
        let b = KeyBudget {
            max: Usd::from_dollars(1),
            period_secs: Some(100),
        };
        assert_eq!(b.period_start(1_000, 1_000), 1_000);
        assert_eq!(b.period_start(1_000, 1_099), 1_000);
        assert_eq!(b.period_start(1_000, 1_100), 1_100);
        assert_eq!(b.resets_at(1_000, 1_150), Some(1_200));
        let lifetime = KeyBudget {
            max: Usd::from_dollars(1),
            period_secs: None,
        };
        assert_eq!(lifetime.period_start(1_000, 9_999), 0);
        assert_eq!(lifetime.resets_at(1_000, 9_999), None);
    }

    #[test]
    fn a_new_period_starts_from_zero_but_holds_still_count() {
        let b = KeyBudget {
            max: Usd::from_dollars(10),
            period_secs: Some(100),
        };
        let mut m = KeyMeter {
            tally: KeyTally::default().charged(0, Usd::from_dollars(8)),
            reserved: Usd::from_dollars(1),
            pending: Usd::ZERO,
        };
        assert_eq!(m.headroom(&b, 0, 50), Usd::from_dollars(1));
        assert_eq!(m.headroom(&b, 0, 150), Usd::from_dollars(9));
        m.tally = m.tally.charged(100, Usd::from_dollars(1));
        assert_eq!(m.tally.period_spend, Usd::from_dollars(1));
        assert_eq!(m.tally.lifetime, Usd::from_dollars(9));
    }
}
