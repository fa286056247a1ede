//! `POST /api/v1/users/me/password`: change one's own password. Every
//! access token issued before ends at once (the user's token generation
//! rises); the answer carries a fresh one so the caller stays signed in.
//! API keys are not affected: revoke them separately.

use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::admin::new_password_hash_for;
use super::auth::{login_throttled, token_response};
use super::{Req, body, ctx, finish, parse_json};
use crate::error::{ApiError, Surface};
use crate::state::AppState;
use crate::store::UserUpdate;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePassword {
    current_password: String,
    new_password: String,
}

pub(super) fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    warp::path!("users" / "me" / "password")
        .and(warp::post())
        .and(ctx(state.clone()))
        .and(body(state.max_account_body_bytes))
        .then(|req: Req, body: Bytes| async move {
            let r = change(&req, &body).await;
            finish(r, Surface::Classic, &req)
        })
        .boxed()
}

async fn change(req: &Req, body: &Bytes) -> Result<Response, ApiError> {
    let p = req.principal()?;
    let spec: ChangePassword = parse_json(body)?;
    // The current password is checked like a login: throttled, and a wrong
    // one counts as a failed login for this username and address.
    if !login_throttled(req, &p.username, spec.current_password).await? {
        return Err(
            ApiError::unauthorized("the current password is wrong").param("current_password")
        );
    }
    let hash = new_password_hash_for("new_password", spec.new_password).await?;
    let user = req
        .state
        .accounts
        .update_user(
            p.user_id,
            UserUpdate {
                password_hash: Some(hash),
                ..UserUpdate::default()
            },
        )
        .await?;
    req.state.password_changed(&user.username);
    token_response(req, &user, StatusCode::OK)
}
