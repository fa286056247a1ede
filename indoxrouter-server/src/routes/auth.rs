//! `POST /api/v1/auth/token` (form) and `POST /api/v1/auth/login` (JSON).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::{Req, body, ctx, finish, json_value, parse_json};
use crate::auth::password::verify_password;
use crate::error::{ApiError, Surface};
use crate::state::AppState;

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

/// The token answer, as the classic API (and OAuth2 password flow) shape it.
#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

pub(super) fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let token = warp::path!("auth" / "token")
        .and(warp::post())
        .and(ctx(state.clone()))
        .and(body(state.max_account_body_bytes))
        .then(|req: Req, body: Bytes| async move {
            let result = async {
                let form: HashMap<String, String> =
                    serde_urlencoded::from_bytes(&body).map_err(|_| {
                        ApiError::unprocessable("expected a form with `username` and `password`")
                    })?;
                let (Some(u), Some(p)) = (form.get("username"), form.get("password")) else {
                    return Err(ApiError::unprocessable(
                        "expected a form with `username` and `password`",
                    ));
                };
                login(&req, u.clone(), p.clone()).await
            }
            .await;
            finish(result, Surface::Classic, &req)
        });
    let login_json = warp::path!("auth" / "login")
        .and(warp::post())
        .and(ctx(state.clone()))
        .and(body(state.max_account_body_bytes))
        .then(|req: Req, body: Bytes| async move {
            let result = async {
                let l: Login = parse_json(&body)?;
                login(&req, l.username, l.password).await
            }
            .await;
            finish(result, Surface::Classic, &req)
        });
    token.or(login_json).unify().boxed()
}

async fn login(req: &Req, username: String, password: String) -> Result<Response, ApiError> {
    if !login_throttled(req, &username, password).await? {
        return Err(ApiError::unauthorized("incorrect username or password"));
    }
    let Some(user) = req.state.accounts.user_by_name(&username) else {
        return Err(ApiError::unauthorized("incorrect username or password"));
    };
    // Said only to someone who knows the password.
    crate::principal::refuse_disabled(&user)?;
    token_response(req, &user, StatusCode::OK)
}

/// Checks `password` for `username` under the login throttle: refused with
/// 429 while the username or the caller's address is throttled (before any
/// hashing), 503 when the hashing queue is full; `Ok(false)` for a wrong
/// password (counted as a failure) or an unknown user, which take the same
/// time.
pub(super) async fn login_throttled(
    req: &Req,
    username: &str,
    password: String,
) -> Result<bool, ApiError> {
    let throttle = &req.state.login_throttle;
    if let Err(wait) = throttle.check(username, req.client) {
        return Err(too_many_logins(
            "too many failed logins for this username or from this address; try again later",
            wait,
        ));
    }
    let Some(_in_flight) = throttle.begin(req.client) else {
        return Err(too_many_logins(
            "too many logins in progress from this address; try again shortly",
            std::time::Duration::from_secs(1),
        ));
    };
    let user = req.state.accounts.user_by_name(username);
    // Verify even for unknown users so timing does not reveal which names exist.
    let ok = match verify_password(password, user.as_ref().map(|u| u.password_hash.clone())).await {
        Ok(ok) => ok && user.is_some(),
        Err(_) => {
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "too many logins in progress; try again shortly",
            );
            e.retry_after = Some(std::time::Duration::from_secs(1));
            return Err(e);
        }
    };
    if ok {
        throttle.succeeded(username);
    } else {
        throttle.failed(username, req.client);
    }
    Ok(ok)
}

/// An access token for `user`, in the classic API's (and OAuth2's) shape.
pub(super) fn token_response(
    req: &Req,
    user: &crate::store::User,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let issued = req.state.jwt.issue(user).map_err(|e| {
        tracing::error!(error = %e, "issuing a token");
        ApiError::internal()
    })?;
    Ok(json_value(
        status,
        &TokenResponse {
            access_token: issued.access_token,
            token_type: "bearer",
            expires_in: issued.expires_in,
        },
    ))
}

/// 429 `too_many_login_attempts`, retry after `wait`.
fn too_many_logins(message: &'static str, wait: std::time::Duration) -> ApiError {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_login_attempts",
        message,
    );
    e.retry_after = Some(wait);
    e
}
