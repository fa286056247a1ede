//! Administrator routes: users and credits (usage reports are in `usage.rs`).

use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use indoxrouter::Usd;
use serde::{Deserialize, Serialize};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::account::checked_tier;
use super::{Req, body, ctx, finish, json_value, parse_json};
use crate::auth::password::hash_password;
use crate::error::{ApiError, Surface};
use crate::state::AppState;
use crate::store::{CreditEntry, NewUser, Role, User, UserUpdate};
use crate::time::unix_millis;

/// Shortest password accepted for new accounts.
const MIN_PASSWORD_CHARS: usize = 8;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateUser {
    username: String,
    password: String,
    #[serde(default)]
    role: Option<Role>,
    /// Opening credit, a USD decimal string (a bare JSON number is refused:
    /// it would pass through a float).
    #[serde(default)]
    credits: Option<Usd>,
    /// Rate-limit tier; the server default if absent.
    #[serde(default)]
    tier: Option<String>,
}

/// `PATCH` body: each field present is changed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateUser {
    /// `"premium"`, or `null` for the server default; absent leaves it.
    #[serde(default, deserialize_with = "present")]
    tier: Option<Option<String>>,
    /// Disable (`true`) or enable (`false`): a disabled user's tokens and
    /// keys are refused at once.
    #[serde(default)]
    disabled: Option<bool>,
    /// A new password (an operator's reset); ends the user's access tokens.
    #[serde(default)]
    password: Option<String>,
}

/// Tells a field sent as `null` (`Some(None)`) from one not sent (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddCredits {
    /// Signed USD decimal string.
    amount: Usd,
    reason: String,
}

#[derive(Serialize)]
struct UserView<'a> {
    id: u64,
    username: &'a str,
    role: &'static str,
    created_at: u64,
    balance: String,
    /// The tier assigned (`null`: the server default).
    tier: Option<&'a str>,
    disabled: bool,
    deleted: bool,
}

fn view<'a>(state: &AppState, u: &'a User) -> UserView<'a> {
    UserView {
        id: u.id,
        username: &u.username,
        role: u.role.as_str(),
        created_at: u.created_at,
        balance: state.ledger.balance(u.id).to_string(),
        tier: u.tier.as_deref(),
        disabled: u.disabled,
        deleted: u.deleted,
    }
}

/// The hash of a new password (`password` named in the error), refused
/// when shorter than [`MIN_PASSWORD_CHARS`].
pub(super) async fn new_password_hash(
    password: String,
) -> Result<crate::store::PasswordHash, ApiError> {
    new_password_hash_for("password", password).await
}

/// [`new_password_hash`] with the request field's name.
pub(super) async fn new_password_hash_for(
    field: &'static str,
    password: String,
) -> Result<crate::store::PasswordHash, ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::unprocessable(format!(
            "`{field}` must be at least {MIN_PASSWORD_CHARS} characters"
        ))
        .param(field));
    }
    hash_password(password).await.map_err(|e| {
        tracing::error!(error = %e, "hashing a password");
        ApiError::internal()
    })
}

fn valid_username(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
}

pub(super) fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let create = warp::path!("admin" / "users")
        .and(warp::post())
        .and(ctx(state.clone()))
        .and(body(state.max_account_body_bytes))
        .then(|req: Req, body: Bytes| async move {
            let r = async {
                let admin = req.principal()?;
                admin.require_admin()?;
                let spec: CreateUser = parse_json(&body)?;
                if !valid_username(&spec.username) {
                    return Err(ApiError::unprocessable(
                        "`username` must be 1–64 characters of letters, digits, - _ . @",
                    )
                    .param("username"));
                }
                let tier = checked_tier(&req.state, spec.tier)?;
                let credits = spec.credits.unwrap_or(Usd::ZERO);
                if credits.is_negative() {
                    return Err(
                        ApiError::unprocessable("`credits` cannot be negative").param("credits")
                    );
                }
                let hash = new_password_hash(spec.password).await?;
                let user = req
                    .state
                    .accounts
                    .create_user(NewUser {
                        username: spec.username,
                        password_hash: hash,
                        role: spec.role.unwrap_or(Role::User),
                        credits,
                        tier,
                    })
                    .await?;
                Ok(json_value(StatusCode::CREATED, &view(&req.state, &user)))
            }
            .await;
            finish(r, Surface::Classic, &req)
        });

    let list = warp::path!("admin" / "users")
        .and(warp::get())
        .and(ctx(state.clone()))
        .map(|req: Req| {
            let r = req.principal().and_then(|p| {
                p.require_admin()?;
                let users = req.state.accounts.list_users();
                let views: Vec<UserView<'_>> = users.iter().map(|u| view(&req.state, u)).collect();
                Ok(json_value(
                    StatusCode::OK,
                    &serde_json::json!({ "data": views }),
                ))
            });
            finish(r, Surface::Classic, &req)
        });

    let credits = warp::path!("admin" / "users" / String / "credits")
        .and(warp::post())
        .and(ctx(state.clone()))
        .and(body(state.max_account_body_bytes))
        .then(|username: String, req: Req, body: Bytes| async move {
            let r = async {
                let admin = req.principal()?;
                admin.require_admin()?;
                let spec: AddCredits = parse_json(&body)?;
                if spec.amount.is_zero() {
                    return Err(
                        ApiError::unprocessable("`amount` must not be zero").param("amount")
                    );
                }
                if spec.reason.trim().is_empty() || spec.reason.len() > 500 {
                    return Err(ApiError::unprocessable("`reason` must be 1–500 characters")
                        .param("reason"));
                }
                let user = req
                    .state
                    .accounts
                    .user_by_name(&username)
                    .ok_or_else(|| ApiError::not_found(format!("no user `{username}`")))?;
                let balance = req
                    .state
                    .ledger
                    .credit(CreditEntry {
                        user_id: user.id,
                        amount: spec.amount,
                        reason: spec.reason,
                        by: Some(admin.user_id),
                        created_at_ms: unix_millis(),
                    })
                    .await?;
                Ok(json_value(
                    StatusCode::OK,
                    &serde_json::json!({
                        "username": user.username,
                        "amount": spec.amount.to_string(),
                        "balance": balance.to_string(),
                    }),
                ))
            }
            .await;
            finish(r, Surface::Classic, &req)
        });

    let update = warp::path!("admin" / "users" / String)
        .and(warp::patch())
        .and(ctx(state.clone()))
        .and(body(state.max_account_body_bytes))
        .then(|username: String, req: Req, body: Bytes| async move {
            let r = async {
                req.principal()?.require_admin()?;
                let spec: UpdateUser = parse_json(&body)?;
                let user = req
                    .state
                    .accounts
                    .user_by_name(&username)
                    .filter(|u| !u.deleted)
                    .ok_or_else(|| ApiError::not_found(format!("no user `{username}`")))?;
                let tier = match spec.tier {
                    None => None,
                    Some(tier) => Some(checked_tier(&req.state, tier)?),
                };
                let password_hash = match spec.password {
                    None => None,
                    Some(p) => Some(new_password_hash(p).await?),
                };
                let update = UserUpdate {
                    tier,
                    password_hash,
                    disabled: spec.disabled,
                    ..UserUpdate::default()
                };
                let reset = update.password_hash.is_some();
                let user = req.state.accounts.update_user(user.id, update).await?;
                if reset {
                    req.state.password_changed(&user.username);
                }
                Ok(json_value(StatusCode::OK, &view(&req.state, &user)))
            }
            .await;
            finish(r, Surface::Classic, &req)
        });

    create
        .or(list)
        .unify()
        .or(credits)
        .unify()
        .or(update)
        .unify()
        .boxed()
}
