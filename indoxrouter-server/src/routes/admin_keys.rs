//! Administrators and other users' keys: `GET /api/v1/admin/users/{username}/keys`
//! lists them, `DELETE /api/v1/admin/keys/{id}` revokes any one, and
//! `DELETE /api/v1/admin/users/{username}` deletes a user — disabled for
//! good, every key revoked, every access token ended, the usage rows kept
//! for accounting and the username kept so it cannot be taken by accident.

use std::sync::Arc;

use http::StatusCode;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::account::{KeyView, keys_listing};
use super::{Req, ctx, finish, json_value};
use crate::error::{ApiError, Surface};
use crate::state::AppState;
use crate::store::{User, UserUpdate};
use crate::time::unix_secs;

pub(super) fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let list = warp::path!("admin" / "users" / String / "keys")
        .and(warp::get())
        .and(ctx(state.clone()))
        .map(|username: String, req: Req| {
            let r = admin_user(&req, &username).map(|user| keys_listing(&req.state, user.id));
            finish(r, Surface::Classic, &req)
        });

    let revoke = warp::path!("admin" / "keys" / String)
        .and(warp::delete())
        .and(ctx(state.clone()))
        .then(|id: String, req: Req| async move {
            let r = async {
                req.principal()?.require_admin()?;
                let key = req.state.accounts.key_by_id(&id).ok_or_else(|| {
                    ApiError::new(StatusCode::NOT_FOUND, "key_not_found", "no such key")
                })?;
                let now = unix_secs();
                let k = req.state.accounts.revoke_key(key.user_id, &id, now).await?;
                Ok(json_value(
                    StatusCode::OK,
                    &KeyView::of(&k, &*req.state.ledger, now),
                ))
            }
            .await;
            finish(r, Surface::Classic, &req)
        });

    let delete = warp::path!("admin" / "users" / String)
        .and(warp::delete())
        .and(ctx(state.clone()))
        .then(|username: String, req: Req| async move {
            let r = async {
                let user = admin_user(&req, &username)?;
                if req.principal()?.user_id == user.id {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "cannot_delete_self",
                        "an administrator cannot delete their own account",
                    ));
                }
                let now = unix_secs();
                for key in req.state.accounts.list_keys(user.id) {
                    if key.revoked_at.is_none() {
                        req.state.accounts.revoke_key(user.id, &key.id, now).await?;
                    }
                }
                let update = UserUpdate {
                    disabled: Some(true),
                    deleted: true,
                    revoke_tokens: true,
                    ..UserUpdate::default()
                };
                req.state.accounts.update_user(user.id, update).await?;
                Ok(json_value(
                    StatusCode::OK,
                    &serde_json::json!({ "username": user.username, "deleted": true }),
                ))
            }
            .await;
            finish(r, Surface::Classic, &req)
        });

    list.or(revoke).unify().or(delete).unify().boxed()
}

/// The named user, for an administrator; 404 for an unknown or deleted one.
fn admin_user(req: &Req, username: &str) -> Result<User, ApiError> {
    req.principal()?.require_admin()?;
    req.state
        .accounts
        .user_by_name(username)
        .filter(|u| !u.deleted)
        .ok_or_else(|| ApiError::not_found(format!("no user `{username}`")))
}
