//! What a new API key may be: its scopes, model allow-list, output cap,
//! budget, expiry and tier — never more than the key that creates it.
//!
//! A key minted by another key inherits each of the creator's limits it
//! does not set, and is refused (403 `key_exceeds_creator`, naming the
//! field) when it asks for more: a broader scope, a model the creator may
//! not call, a larger cap, a larger budget, a later expiry or a looser
//! tier. Its spending also counts against the creator's budget (see
//! [`crate::store::key_budget`]), so many small keys add up to no more.

use http::StatusCode;
use serde::Deserialize;

use crate::auth::scopes::{Scope, glob};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::state::AppState;
use crate::store::Role;
use crate::store::key_budget::{KeyBudget, parse_duration};
use indoxrouter::Usd;

/// Most model patterns on one key.
const MAX_PATTERNS: usize = 50;
/// Longest model pattern.
const MAX_PATTERN_CHARS: usize = 200;

/// The limits a new key asks for (`POST /api/v1/keys`).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct NewKey {
    #[serde(default)]
    pub name: Option<String>,
    /// Lifetime in days; none means no expiry (or the creator key's).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
    /// The key's own rate-limit tier, on top of its user's.
    #[serde(default)]
    pub tier: Option<String>,
    /// What the key may do; `["inference"]` when absent.
    #[serde(default)]
    pub scopes: Option<Vec<Scope>>,
    /// Model patterns the key may call (`openai/*`); any when absent.
    #[serde(default)]
    pub models: Option<Vec<String>>,
    /// The most output tokens one request may ask for.
    #[serde(default)]
    pub max_tokens_per_request: Option<u64>,
    /// The most the key may spend, a USD decimal string (`"10.50"`).
    #[serde(default)]
    pub max_budget: Option<String>,
    /// How often the budget resets (`"1d"`, `"30d"`); lifetime when absent.
    #[serde(default)]
    pub budget_duration: Option<String>,
}

/// The limits a new key gets.
pub(super) struct KeyLimits {
    pub scopes: Vec<Scope>,
    pub models: Option<Vec<String>>,
    pub max_tokens_per_request: Option<u64>,
    pub expires_at: Option<u64>,
    pub tier: Option<String>,
    pub budget: Option<KeyBudget>,
}

fn exceeds(field: &'static str, what: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "key_exceeds_creator",
        format!("a key cannot create a key with {what} than its own"),
    )
    .param(field)
}

/// The checked limits of `spec` for a key created by `p` (an access
/// token, or a key whose own limits bound the new one).
pub(super) fn limits(
    state: &AppState,
    p: &Principal,
    spec: &NewKey,
    tier: Option<String>,
    now: u64,
) -> Result<KeyLimits, ApiError> {
    let mut scopes = spec
        .scopes
        .clone()
        .unwrap_or_else(|| vec![Scope::Inference]);
    scopes.sort_unstable();
    scopes.dedup();
    if scopes.is_empty() {
        return Err(ApiError::unprocessable("`scopes` cannot be empty").param("scopes"));
    }
    if scopes.contains(&Scope::Admin) && p.role != Role::Admin {
        return Err(
            ApiError::forbidden("only an administrator's key can have the `admin` scope")
                .param("scopes"),
        );
    }
    if scopes.iter().any(|s| !p.has(*s)) {
        return Err(exceeds("scopes", "broader scopes"));
    }

    let models = match (&spec.models, &p.models) {
        (Some(asked), _) if asked.is_empty() || asked.len() > MAX_PATTERNS => {
            return Err(ApiError::unprocessable(format!(
                "`models` takes 1 to {MAX_PATTERNS} patterns"
            ))
            .param("models"));
        }
        (Some(asked), _)
            if asked
                .iter()
                .any(|m| m.is_empty() || m.chars().count() > MAX_PATTERN_CHARS) =>
        {
            return Err(ApiError::unprocessable(format!(
                "a model pattern is 1 to {MAX_PATTERN_CHARS} characters"
            ))
            .param("models"));
        }
        (Some(asked), Some(own)) => {
            // Each pattern asked for, read as text, must fall under one of
            // the creator's: `openai/gpt-*` under `openai/*`, not the reverse.
            if !asked.iter().all(|a| own.iter().any(|o| glob(o, a))) {
                return Err(exceeds("models", "a wider model list"));
            }
            Some(asked.clone())
        }
        (Some(asked), None) => Some(asked.clone()),
        (None, own) => own.clone(),
    };

    let max_tokens_per_request = match (spec.max_tokens_per_request, p.max_tokens_per_request) {
        (Some(0), _) => {
            return Err(
                ApiError::unprocessable("`max_tokens_per_request` must be at least 1")
                    .param("max_tokens_per_request"),
            );
        }
        (Some(asked), Some(own)) if asked > own => {
            return Err(exceeds("max_tokens_per_request", "a larger output cap"));
        }
        (asked, own) => asked.or(own),
    };

    let asked_expiry = spec
        .expires_in_days
        .map(|d| now.saturating_add(u64::from(d).saturating_mul(86_400)));
    let expires_at = match (asked_expiry, p.key_expires_at) {
        (Some(asked), Some(own)) if asked > own => {
            return Err(exceeds("expires_in_days", "a later expiry"));
        }
        (asked, own) => asked.or(own),
    };

    let tier = match (tier, &p.key_tier) {
        (Some(asked), Some(own)) => {
            let a = state.tiers.resolve(Some(&asked)).1;
            let o = state.tiers.resolve(Some(own)).1;
            if a.requests_per_minute > o.requests_per_minute
                || a.tokens_per_minute > o.tokens_per_minute
            {
                return Err(exceeds("tier", "a looser tier"));
            }
            Some(asked)
        }
        (asked, own) => asked.or_else(|| own.clone()),
    };

    let budget = budget(spec, p.key_budget)?;

    Ok(KeyLimits {
        scopes,
        models,
        max_tokens_per_request,
        expires_at,
        tier,
        budget,
    })
}

/// The new key's budget: as asked (never larger than the creator key's),
/// or the creator key's when none is asked.
fn budget(spec: &NewKey, own: Option<KeyBudget>) -> Result<Option<KeyBudget>, ApiError> {
    let period_secs = match &spec.budget_duration {
        None => None,
        Some(d) => Some(parse_duration(d).ok_or_else(|| {
            ApiError::unprocessable(
                "`budget_duration` is a whole number of seconds, minutes, hours or days: `30s`, `15m`, `1h`, `30d`",
            )
            .param("budget_duration")
        })?),
    };
    let Some(max) = &spec.max_budget else {
        if period_secs.is_some() {
            return Err(
                ApiError::unprocessable("`budget_duration` needs a `max_budget`")
                    .param("budget_duration"),
            );
        }
        return Ok(own);
    };
    let max = Usd::parse(max)
        .ok()
        .filter(|m| !m.is_negative())
        .ok_or_else(|| {
            ApiError::unprocessable(
                "`max_budget` is a USD amount as a decimal string, e.g. \"10.50\"",
            )
            .param("max_budget")
        })?;
    if own.is_some_and(|own| max > own.max) {
        return Err(exceeds("max_budget", "a larger budget"));
    }
    Ok(Some(KeyBudget { max, period_secs }))
}
