//! `GET /health` (liveness) and `GET /health/ready` (readiness).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use http::StatusCode;
use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::json_value;
use crate::state::AppState;

pub(super) fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let live = warp::path!("health")
        .and(warp::get())
        .map(|| json_value(StatusCode::OK, &json!({"status": "ok"})));
    let ready = warp::path!("health" / "ready")
        .and(warp::get())
        .map(move || {
            // Ready means: taking requests and able to reach at least one provider.
            let accepting = state.accepting.load(Ordering::SeqCst);
            let providers = state.client.providers();
            let ready = accepting && !providers.is_empty();
            let status = if ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            json_value(
                status,
                &json!({
                    "status": if ready { "ready" } else { "not_ready" },
                    "accepting": accepting,
                    "providers": providers,
                }),
            )
        });
    live.or(ready).unify().boxed()
}
