//! The caller's own account: profile and balance, API keys (usage reports are in `usage.rs`).

use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use serde::Serialize;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::key_spec::{self, NewKey};
use super::{Req, body, ctx, finish, json_value, parse_json};
use crate::auth::api_key;
use crate::error::{ApiError, Surface};
use crate::ratelimit::Limits;
use crate::state::AppState;
use crate::store::key_budget::format_duration;
use crate::store::{ApiKeyRecord, Ledger, Role};
use crate::time::unix_secs;

#[derive(Serialize)]
struct Me<'a> {
    id: u64,
    username: &'a str,
    role: &'static str,
    created_at: u64,
    /// USD, exact decimal string.
    balance: String,
    /// Balance minus credit held by requests in flight.
    available: String,
    /// Rate-limit tier; `None` for admins (exempt) or when limits are off.
    tier: Option<&'a str>,
    /// The tier's allowances.
    rate_limits: Option<RateLimitsView>,
}

/// A tier's allowances on the wire.
#[derive(Serialize)]
pub(crate) struct RateLimitsView {
    requests_per_minute: u64,
    tokens_per_minute: u64,
}

impl From<Limits> for RateLimitsView {
    fn from(l: Limits) -> Self {
        RateLimitsView {
            requests_per_minute: l.requests_per_minute,
            tokens_per_minute: l.tokens_per_minute,
        }
    }
}

/// A tier named in a request: it must be in the table (422 `unknown_tier`).
pub(super) fn checked_tier(
    state: &AppState,
    tier: Option<String>,
) -> Result<Option<String>, ApiError> {
    match tier {
        Some(t) if state.tiers.get(&t).is_none() => {
            let known: Vec<&str> = state.tiers.iter().map(|(n, _)| n).collect();
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_tier",
                format!("no tier `{t}`; this server has {}", known.join(", ")),
            )
            .param("tier"))
        }
        t => Ok(t),
    }
}

/// A key as listed: never the key itself.
#[derive(Serialize)]
pub(crate) struct KeyView<'a> {
    id: &'a str,
    name: Option<&'a str>,
    prefix: &'a str,
    created_at: u64,
    expires_at: Option<u64>,
    revoked_at: Option<u64>,
    active: bool,
    tier: Option<&'a str>,
    /// `null` for a key from before scopes (it may do everything).
    scopes: Option<Vec<&'static str>>,
    models: Option<&'a [String]>,
    max_tokens_per_request: Option<u64>,
    /// USD spent by the key and keys minted from it: in the current budget
    /// period for a periodic budget, otherwise ever.
    spend: String,
    /// USD decimal string; `null`: no budget of its own.
    max_budget: Option<String>,
    /// `1d`, `30d`…; `null`: a lifetime budget (or none).
    budget_duration: Option<String>,
    /// When a periodic budget next resets, Unix seconds.
    budget_resets_at: Option<u64>,
}

impl<'a> KeyView<'a> {
    pub(crate) fn of(k: &'a ApiKeyRecord, ledger: &dyn Ledger, now: u64) -> Self {
        let spent = ledger.key_spend(k, now);
        KeyView {
            id: &k.id,
            name: k.name.as_deref(),
            prefix: &k.prefix,
            created_at: k.created_at,
            expires_at: k.expires_at,
            revoked_at: k.revoked_at,
            active: k.is_active(now),
            tier: k.tier.as_deref(),
            scopes: k
                .scopes
                .as_ref()
                .map(|s| s.iter().map(|s| s.as_str()).collect()),
            models: k.models.as_deref(),
            max_tokens_per_request: k.max_tokens_per_request,
            spend: spent.spend.to_string(),
            max_budget: k.budget.map(|b| b.max.to_string()),
            budget_duration: k.budget.and_then(|b| b.period_secs).map(format_duration),
            budget_resets_at: spent.resets_at,
        }
    }
}

/// `{"data": [...]}`: `user`'s keys, newest first, with their spend.
pub(crate) fn keys_listing(state: &AppState, user: crate::store::UserId) -> Response {
    let now = unix_secs();
    let keys = state.accounts.list_keys(user);
    let views: Vec<KeyView<'_>> = keys
        .iter()
        .map(|k| KeyView::of(k, &*state.ledger, now))
        .collect();
    json_value(StatusCode::OK, &serde_json::json!({ "data": views }))
}

/// Active (unrevoked, unexpired) API keys one user may hold: keys are
/// cheap to mint, and each one is kept in memory for authentication.
pub const MAX_ACTIVE_KEYS: usize = 100;

pub(super) fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let me = warp::path!("users" / "me")
        .and(warp::get())
        .and(ctx(state.clone()))
        .map(|req: Req| {
            let r = req.principal().and_then(|p| {
                let user = req
                    .state
                    .accounts
                    .user_by_id(p.user_id)
                    .ok_or_else(|| ApiError::unauthorized("the account no longer exists"))?;
                let exempt = !req.state.rate_limits || user.role == Role::Admin;
                let (tier, limits) = req.state.tiers.resolve(user.tier.as_deref());
                Ok(json_value(
                    StatusCode::OK,
                    &Me {
                        id: user.id,
                        username: &user.username,
                        role: user.role.as_str(),
                        created_at: user.created_at,
                        balance: req.state.ledger.balance(user.id).to_string(),
                        available: req.state.ledger.available(user.id).to_string(),
                        tier: (!exempt).then_some(tier),
                        rate_limits: (!exempt).then(|| limits.into()),
                    },
                ))
            });
            finish(r, Surface::Classic, &req)
        });

    let create_key = warp::path!("keys")
        .and(warp::post())
        .and(ctx(state.clone()))
        .and(body(state.max_account_body_bytes))
        .then(|req: Req, body: Bytes| async move {
            let r = async {
                let p = req.principal()?;
                let spec: NewKey = if body.iter().all(u8::is_ascii_whitespace) {
                    NewKey::default()
                } else {
                    parse_json(&body)?
                };
                if spec.name.as_ref().is_some_and(|n| n.len() > 100) {
                    return Err(
                        ApiError::unprocessable("`name` is limited to 100 characters")
                            .param("name"),
                    );
                }
                let tier = checked_tier(&req.state, spec.tier.clone())?;
                let now = unix_secs();
                let active = req
                    .state
                    .accounts
                    .list_keys(p.user_id)
                    .iter()
                    .filter(|k| k.is_active(now))
                    .count();
                if active >= MAX_ACTIVE_KEYS {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "too_many_keys",
                        format!("a user may hold {MAX_ACTIVE_KEYS} active keys; revoke one first"),
                    ));
                }
                let limits = key_spec::limits(&req.state, &p, &spec, tier, now)?;
                let generated = api_key::generate();
                let record = ApiKeyRecord {
                    id: format!("key_{}", &super::new_request_id()[4..]),
                    user_id: p.user_id,
                    name: spec.name,
                    prefix: generated.prefix.clone(),
                    hash: generated.hash,
                    created_at: now,
                    expires_at: limits.expires_at,
                    revoked_at: None,
                    tier: limits.tier,
                    scopes: Some(limits.scopes),
                    models: limits.models,
                    max_tokens_per_request: limits.max_tokens_per_request,
                    budget: limits.budget,
                    parent: p.key_id.clone(),
                };
                req.state.accounts.create_key(record.clone()).await?;
                let mut view = serde_json::to_value(KeyView::of(&record, &*req.state.ledger, now))
                    .map_err(|_| ApiError::internal())?;
                // The only time the key itself is ever returned.
                view["key"] = serde_json::Value::String(generated.key);
                Ok(json_value(StatusCode::CREATED, &view))
            }
            .await;
            finish(r, Surface::Classic, &req)
        });

    let list_keys = warp::path!("keys")
        .and(warp::get())
        .and(ctx(state.clone()))
        .map(|req: Req| {
            let r = req.principal().map(|p| keys_listing(&req.state, p.user_id));
            finish(r, Surface::Classic, &req)
        });

    let revoke = warp::path!("keys" / String)
        .and(warp::delete())
        .and(ctx(state.clone()))
        .then(|id: String, req: Req| async move {
            let r = async {
                let p = req.principal()?;
                let k = req
                    .state
                    .accounts
                    .revoke_key(p.user_id, &id, unix_secs())
                    .await?;
                Ok(json_value(
                    StatusCode::OK,
                    &KeyView::of(&k, &*req.state.ledger, unix_secs()),
                ))
            }
            .await;
            finish(r, Surface::Classic, &req)
        });

    me.or(create_key)
        .unify()
        .or(list_keys)
        .unify()
        .or(revoke)
        .unify()
        .boxed()
}
