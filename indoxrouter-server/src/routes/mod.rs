//! HTTP routes: the classic API's `/api/v1`, the OpenAI-compatible `/v1`, health.
//!
//! Handlers never reject after routing: they answer with a response, errors
//! included, in the shape of the surface they belong to. Only routing-level
//! failures (unknown path, wrong method, body too large) become warp
//! rejections, which each surface's `recover` turns into its error shape.

mod account;
mod admin;
mod admin_keys;
mod auth;
pub mod catalog;
mod classic;
mod docs;
mod health;
mod inference;
mod key_spec;
mod metrics;
mod models;
mod openai;
mod password;
mod stream;
mod usage;

use std::convert::Infallible;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use serde::de::DeserializeOwned;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::error::{ApiError, Surface};
use crate::principal::{Principal, authenticate};
use crate::ratelimit::{Snapshot, Window};
use crate::state::AppState;

/// Per-request context every handler receives.
#[derive(Clone)]
pub struct Req {
    /// Shared state.
    pub state: Arc<AppState>,
    /// The raw `Authorization` header.
    pub authorization: Option<String>,
    /// The caller's `x-request-id` if usable, else a generated one.
    pub request_id: String,
    /// When the request arrived.
    pub started: std::time::Instant,
    /// The rate-limit state the response reports, once a limit was checked.
    pub rate: Arc<OnceLock<Snapshot>>,
    /// The client's address: the peer's, or a trusted proxy's
    /// `X-Forwarded-For` client.
    pub client: Option<std::net::IpAddr>,
    /// The scope an API key needs for this route.
    pub scope: Option<crate::auth::scopes::Scope>,
    /// The caller, once authenticated: inference routes authenticate
    /// before reading the body, and the handler reuses the answer.
    caller: Arc<OnceLock<Principal>>,
}

impl Req {
    /// The authenticated caller.
    /// The authenticated caller, refused (403 `insufficient_scope`) when an
    /// API key lacks the scope this route needs.
    pub fn principal(&self) -> Result<Principal, ApiError> {
        if let Some(p) = self.caller.get() {
            return Ok(p.clone());
        }
        let p = authenticate(&self.state, self.authorization.as_deref())?;
        match self.scope {
            // A non-administrator hears "not an administrator" from the
            // route itself, not that a key lacks a scope it could never have.
            Some(crate::auth::scopes::Scope::Admin) if p.role != crate::store::Role::Admin => {}
            Some(scope) => p.require(scope)?,
            None => {}
        }
        let _ = self.caller.set(p.clone());
        Ok(p)
    }
}

/// Every route, with TCP-level concerns left to [`crate::serve`].
pub fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let api = warp::path!("api" / "v1" / ..)
        .and(
            auth::routes(state.clone())
                .or(password::routes(state.clone()))
                .unify()
                .or(account::routes(state.clone()))
                .unify()
                .or(admin::routes(state.clone()))
                .unify()
                .or(admin_keys::routes(state.clone()))
                .unify()
                .or(usage::routes(state.clone()))
                .unify()
                .or(models::classic_routes(state.clone()))
                .unify()
                .or(classic::routes(state.clone()))
                .unify()
                .recover(|r| recover(r, Surface::Classic))
                .unify(),
        )
        .boxed();
    let v1 = warp::path!("v1" / ..)
        .and(
            openai::routes(state.clone())
                .or(models::openai_routes(state.clone()))
                .unify()
                .recover(|r| recover(r, Surface::OpenAi))
                .unify(),
        )
        .boxed();
    let all = health::routes(state.clone())
        .or(metrics::route(state))
        .unify()
        .or(docs::routes())
        .unify()
        .or(api)
        .unify()
        .or(v1)
        .unify()
        .recover(|r| recover(r, Surface::Classic))
        .unify();
    warp::path::full().and(all).map(with_allow).boxed()
}

/// A 405 must list the methods the path does accept (RFC 9110 §15.5.6);
/// the rejection does not know them, the route table does.
fn with_allow(path: warp::path::FullPath, mut resp: Response) -> Response {
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED {
        let methods: Vec<&str> = catalog::ROUTES
            .iter()
            .filter(|r| r.matches(path.as_str()))
            .map(|r| r.method.as_str())
            .collect();
        if let Ok(v) = HeaderValue::from_str(&methods.join(", ")) {
            if !methods.is_empty() {
                resp.headers_mut().insert(http::header::ALLOW, v);
            }
        }
    }
    resp
}

/// Builds the per-request context.
pub fn ctx(state: Arc<AppState>) -> impl Filter<Extract = (Req,), Error = warp::Rejection> + Clone {
    warp::any()
        .map(move || state.clone())
        .and(warp::header::optional::<String>("authorization"))
        .and(warp::header::optional::<String>("x-request-id"))
        .and(warp::ext::optional::<crate::serve::Peer>())
        .and(warp::header::optional::<String>("x-forwarded-for"))
        .and(warp::path::full())
        .map(
            |state: Arc<AppState>,
             authorization,
             incoming: Option<String>,
             peer: Option<crate::serve::Peer>,
             forwarded: Option<String>,
             path: warp::path::FullPath| {
                let client = crate::auth::throttle::client_addr(
                    peer.map(|p| p.0),
                    forwarded.as_deref(),
                    &state.trusted_proxies,
                );
                Req {
                    state,
                    authorization,
                    request_id: incoming
                        .filter(|id| usable_request_id(id))
                        .unwrap_or_else(new_request_id),
                    started: std::time::Instant::now(),
                    rate: Arc::default(),
                    caller: Arc::default(),
                    client,
                    scope: crate::auth::scopes::required(path.as_str()),
                }
            },
        )
}

/// A request body no larger than the configured limit. A request with
/// neither `Content-Length` nor `Transfer-Encoding` has an empty body (e.g.
/// `curl -X POST` with no data), rather than being refused with 411.
pub fn body(limit: u64) -> impl Filter<Extract = (Bytes,), Error = warp::Rejection> + Clone {
    let bodiless = warp::header::headers_cloned().and_then(|h: http::HeaderMap| async move {
        if h.contains_key(http::header::CONTENT_LENGTH)
            || h.contains_key(http::header::TRANSFER_ENCODING)
        {
            Err(warp::reject())
        } else {
            Ok(Bytes::new())
        }
    });
    bodiless
        .or(warp::body::content_length_limit(limit).and(warp::body::bytes()))
        .unify()
}

/// A POST route on `path` whose handler gets the context and the body and
/// answers in `surface`'s shape.
pub(super) fn post_route<F, Fut>(
    state: &Arc<AppState>,
    surface: Surface,
    path: BoxedFilter<()>,
    handle: F,
) -> BoxedFilter<(Response,)>
where
    F: Fn(Req, Bytes) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Response, ApiError>> + Send + 'static,
{
    path.and(warp::post())
        .and(ctx(state.clone()))
        .and_then(authenticated)
        .and(body(state.max_body_bytes))
        .then(move |req: Req, body: Bytes| {
            let handle = handle.clone();
            async move {
                let r = handle(req.clone(), body).await;
                finish(r, surface, &req)
            }
        })
        .boxed()
}

/// Refuses a request whose credentials are missing or wrong before its
/// body is read: a stranger cannot make the server buffer megabytes.
async fn authenticated(req: Req) -> Result<Req, warp::Rejection> {
    match req.principal() {
        Ok(_) => Ok(req),
        Err(e) => Err(warp::reject::custom(Unauthenticated(e))),
    }
}

/// An authentication failure decided before the body was read.
#[derive(Debug)]
struct Unauthenticated(ApiError);

impl warp::reject::Reject for Unauthenticated {}

/// Accepts caller-supplied ids that are safe to log and echo.
pub fn usable_request_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// `req_` and 24 random hex digits.
pub fn new_request_id() -> String {
    use rand::RngCore as _;
    let mut b = [0u8; 12];
    rand::rng().fill_bytes(&mut b);
    let mut s = String::with_capacity(28);
    s.push_str("req_");
    for byte in b {
        s.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        s.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    s
}

/// Parses a JSON body: malformed JSON is 400, well-formed but wrong is 422.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; send JSON",
        ));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("the request body is not valid UTF-8"))?;
    // Every body is a JSON object. Without this, serde's derived structs
    // also accept an array of their fields in order (`[null, null]` created
    // an API key), a shape no client means.
    if !text.trim_start().starts_with('{') {
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Ok(_) => ApiError::unprocessable("the request body must be a JSON object"),
            Err(e) => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("malformed JSON: {e}"),
            ),
        });
    }
    serde_json::from_str(text).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("malformed JSON: {e}"),
            ),
            Category::Data => ApiError::unprocessable(format!("invalid request: {e}")),
        }
    })
}

/// A JSON response with `status`.
pub fn json(status: StatusCode, body: Vec<u8>) -> Response {
    let mut resp = Response::new(Bytes::from(body).into());
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Serializes `value` as a 200 (or `status`) JSON response.
pub fn json_value<T: serde::Serialize>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => json(status, body),
        Err(e) => {
            tracing::error!(error = %e, "serializing a response");
            let err = ApiError::internal();
            json(err.status, err.body(Surface::Classic, None))
        }
    }
}

/// Turns a handler's result into the response, tagging it with the request id.
pub fn finish(result: Result<Response, ApiError>, surface: Surface, req: &Req) -> Response {
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => {
            if e.status.is_server_error() {
                tracing::warn!(request_id = %req.request_id, code = e.code, status = e.status.as_u16(), "request failed");
            }
            let r = e.response(surface, Some(&req.request_id));
            let (parts, body) = r.into_parts();
            Response::from_parts(parts, body.into())
        }
    };
    if let Ok(v) = HeaderValue::from_str(&req.request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    if let Some(snapshot) = req.rate.get() {
        rate_headers(resp.headers_mut(), snapshot);
    }
    resp
}

/// `X-RateLimit-{Limit,Remaining,Reset}-{Requests,Tokens}`, and the plain
/// three mirroring the requests window. Reset is in whole seconds, rounded up.
fn rate_headers(h: &mut http::HeaderMap, s: &Snapshot) {
    fn put(h: &mut http::HeaderMap, names: [&'static str; 3], w: &Window) {
        let reset = w.reset.as_secs() + u64::from(w.reset.subsec_nanos() > 0);
        h.insert(names[0], HeaderValue::from(w.limit));
        h.insert(names[1], HeaderValue::from(w.remaining));
        h.insert(names[2], HeaderValue::from(reset));
    }
    put(
        h,
        [
            "x-ratelimit-limit-requests",
            "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests",
        ],
        &s.requests,
    );
    put(
        h,
        [
            "x-ratelimit-limit-tokens",
            "x-ratelimit-remaining-tokens",
            "x-ratelimit-reset-tokens",
        ],
        &s.tokens,
    );
    put(
        h,
        [
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
        ],
        &s.requests,
    );
}

/// Routing failures in the surface's error shape.
async fn recover(r: warp::Rejection, surface: Surface) -> Result<Response, Infallible> {
    let err = if let Some(Unauthenticated(e)) = r.find::<Unauthenticated>() {
        e.clone()
    } else if r.is_not_found() {
        ApiError::not_found("no such route")
    } else if r.find::<warp::reject::PayloadTooLarge>().is_some() {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is larger than this server accepts",
        )
    } else if r.find::<warp::reject::LengthRequired>().is_some() {
        ApiError::new(
            StatusCode::LENGTH_REQUIRED,
            "length_required",
            "send a Content-Length header",
        )
    } else if r.find::<warp::reject::MethodNotAllowed>().is_some() {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "this route does not accept that method",
        )
    } else if r.find::<warp::reject::UnsupportedMediaType>().is_some() {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "unsupported content type",
        )
    } else if let Some(e) = r.find::<warp::reject::InvalidHeader>() {
        ApiError::bad_request(e.to_string())
    } else if let Some(e) = r.find::<warp::reject::InvalidQuery>() {
        ApiError::bad_request(e.to_string())
    } else {
        tracing::warn!(rejection = ?r, "unhandled rejection");
        ApiError::bad_request("the request could not be handled")
    };
    let r = err.response(surface, None);
    let (parts, body) = r.into_parts();
    Ok(Response::from_parts(parts, body.into()))
}
