//! `/__sim/...` routes: control of the simulator for clients that can't use
//! the Rust API, plus the images that generated URLs point at. None of these
//! count as provider requests.

use bytes::Bytes;
use http::{Method, Response};
use serde_json::{Value, json};

use crate::faults::{self, Effect};
use crate::png::tiny_png;
use crate::reply::Reply;
use crate::sse::Body;
use crate::state::State;

/// Upper bound on `times`, so a typo can't queue billions of faults.
const MAX_TIMES: u64 = 10_000;

pub(crate) fn handle(state: &State, method: &Method, path: &str, body: &[u8]) -> Response<Body> {
    let path = path.trim_end_matches('/');
    let reply = match (method, path) {
        (&Method::POST, "/faults") => push_faults(state, body),
        (&Method::GET, "/faults") => Reply::json(200, json!({"pending": state.pending_faults()})),
        (&Method::GET, "/requests") => Reply::json(
            200,
            serde_json::to_value(state.requests()).unwrap_or_else(|_| json!([])),
        ),
        (&Method::GET, "/count") => Reply::json(200, json!({"count": state.request_count()})),
        // Lets clients without the Rust API check that a cancelled stream
        // really hung up on the provider.
        (&Method::GET, "/streams") => Reply::json(
            200,
            json!({"open": state.open_bodies().load(std::sync::atomic::Ordering::SeqCst)}),
        ),
        (&Method::POST, "/reset") => {
            state.reset();
            Reply::json(200, json!({"ok": true}))
        }
        (&Method::GET, image) if image.starts_with("/images/") && image.ends_with(".png") => {
            Reply::raw(200, "image/png", Bytes::from_static(tiny_png()))
        }
        _ => Reply::json(
            404,
            json!({"error": format!("no control route {method} /__sim{path}")}),
        ),
    };
    reply.into_response(Effect::None)
}

/// `{"provider": "openai" | "mistral" | "*", "fault": {...} | "header syntax", "times": n}`
fn push_faults(state: &State, body: &[u8]) -> Reply {
    let bad = |message: String| Reply::json(400, json!({"error": message}));
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return bad("body must be a JSON object".to_owned());
    };
    let provider = request
        .get("provider")
        .and_then(Value::as_str)
        .unwrap_or("*");
    let fault = match request.get("fault").map(faults::from_json) {
        Some(Ok(fault)) => fault,
        Some(Err(message)) => return bad(message),
        None => return bad("missing 'fault'".to_owned()),
    };
    let times = match request.get("times") {
        None => 1,
        Some(times) => match times.as_u64() {
            Some(n) if (1..=MAX_TIMES).contains(&n) => n,
            _ => {
                return bad(format!(
                    "'times' must be a whole number from 1 to {MAX_TIMES}"
                ));
            }
        },
    };
    for _ in 0..times {
        state.push_fault(provider, fault.clone());
    }
    Reply::json(
        200,
        json!({"queued": times, "pending": state.pending_faults()}),
    )
}
