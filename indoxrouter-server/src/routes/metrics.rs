//! `GET /metrics`: Prometheus scrapes, optionally behind a bearer token.

use std::sync::Arc;

use http::{HeaderValue, StatusCode};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::error::{ApiError, Surface};
use crate::state::AppState;

pub(super) fn route(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    warp::path!("metrics")
        .and(warp::get())
        .and(warp::header::optional::<String>("authorization"))
        .map(move |auth: Option<String>| {
            if let Some(token) = &state.metrics_token {
                let given = auth
                    .as_deref()
                    .and_then(|h| h.strip_prefix("Bearer "))
                    .unwrap_or("");
                if !constant_time_eq(given.as_bytes(), token.expose().as_bytes()) {
                    let e = ApiError::unauthorized("/metrics needs the metrics bearer token");
                    let (parts, body) = e.response(Surface::Classic, None).into_parts();
                    return Response::from_parts(parts, body.into());
                }
            }
            let mut resp = Response::new(state.metrics.render().into());
            *resp.status_mut() = StatusCode::OK;
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            resp
        })
        .boxed()
}

/// Compares without an early exit, so timing does not reveal a prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
