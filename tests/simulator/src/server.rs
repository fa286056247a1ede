//! The HTTP server: accepting connections, routing to a provider, recording
//! requests and applying faults.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, Method, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::SimConfig;
use crate::auth::redacted_headers;
use crate::control;
use crate::faults::{Effect, FAULT_HEADER, Fault};
use crate::reply::Reply;
use crate::sse::Body;
use crate::state::{RecordedRequest, State};
use crate::{anthropic, cohere, google, mistral, openai};

/// What a provider handler gets to see of a request.
pub(crate) struct Ctx<'a> {
    pub method: &'a Method,
    /// The path after the provider prefix, e.g. `/v1/chat/completions`.
    pub path: &'a str,
    /// The query string, if any (`alt=sse`).
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// This request's number, for deterministic ids.
    pub seq: u64,
    /// `http://127.0.0.1:PORT`.
    pub root: &'a str,
    /// The key requests must carry, if one is configured.
    pub api_key: Option<&'a str>,
    /// Usage is reported this many times over (the `overreport` fault).
    pub usage_factor: u64,
    /// Usage is the most the request permits (the `max_usage` fault).
    pub max_usage: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Provider {
    OpenAi,
    Mistral,
    Anthropic,
    Google,
    Cohere,
}

impl Provider {
    fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Mistral => "mistral",
            Provider::Anthropic => "anthropic",
            Provider::Google => "google",
            Provider::Cohere => "cohere",
        }
    }

    fn handle(self, ctx: &Ctx<'_>) -> Reply {
        match self {
            Provider::OpenAi => openai::handle(ctx),
            Provider::Mistral => mistral::handle(ctx),
            Provider::Anthropic => anthropic::handle(ctx),
            Provider::Google => google::handle(ctx),
            Provider::Cohere => cohere::handle(ctx),
        }
    }

    fn status_error(self, ctx: &Ctx<'_>, status: u16, retry_after: Option<u64>) -> Reply {
        match self {
            Provider::OpenAi => openai::status_error(ctx, status, retry_after),
            Provider::Mistral => mistral::status_error(ctx, status, retry_after),
            Provider::Anthropic => anthropic::status_error(ctx, status, retry_after),
            Provider::Google => google::status_error(ctx, status, retry_after),
            Provider::Cohere => cohere::status_error(ctx, status, retry_after),
        }
    }

    fn custom_error(self, ctx: &Ctx<'_>, status: u16, body: &str) -> Reply {
        match self {
            Provider::OpenAi => openai::custom_error(ctx, status, body),
            Provider::Mistral => mistral::custom_error(ctx, status, body),
            Provider::Anthropic => anthropic::custom_error(ctx, status, body),
            Provider::Google => google::custom_error(ctx, status, body),
            Provider::Cohere => cohere::custom_error(ctx, status, body),
        }
    }

    fn bad_fault_header(self, ctx: &Ctx<'_>, message: &str) -> Reply {
        match self {
            Provider::OpenAi => openai::bad_fault_header(ctx, message),
            Provider::Mistral => mistral::bad_fault_header(ctx, message),
            Provider::Anthropic => anthropic::bad_fault_header(ctx, message),
            Provider::Google => google::bad_fault_header(ctx, message),
            Provider::Cohere => cohere::bad_fault_header(ctx, message),
        }
    }
}

/// Maps a request path to its provider and the path that provider sees:
/// `/openai/v1/x` and `/v1/x` → OpenAI `/v1/x`; `/mistral/v1/x` → Mistral `/v1/x`.
fn route(path: &str) -> Option<(Provider, &str)> {
    let trimmed = |p: &'_ str| -> bool { p.is_empty() || p.starts_with('/') };
    for (prefix, provider) in [
        ("/openai", Provider::OpenAi),
        ("/mistral", Provider::Mistral),
        ("/anthropic", Provider::Anthropic),
        ("/google", Provider::Google),
        ("/cohere", Provider::Cohere),
    ] {
        if let Some(rest) = path.strip_prefix(prefix).filter(|rest| trimmed(rest)) {
            return Some((provider, rest.trim_end_matches('/')));
        }
    }
    if path == "/v1" || path.starts_with("/v1/") {
        return Some((Provider::OpenAi, path.trim_end_matches('/')));
    }
    None
}

/// Binds and starts serving; the returned task owns every connection, so
/// aborting it shuts the whole server down.
pub(crate) async fn spawn(
    config: SimConfig,
) -> io::Result<(SocketAddr, Arc<State>, JoinHandle<()>)> {
    let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(State::new(config, format!("http://{addr}")));
    let task = tokio::spawn(accept_loop(listener, Arc::clone(&state)));
    Ok((addr, state, task))
}

async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    // Connections live in this set rather than as detached tasks so that
    // dropping the loop (on abort) also drops them, stalled streams included.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Small SSE writes must not wait on Nagle's algorithm.
                    let _ = stream.set_nodelay(true);
                    let state = Arc::clone(&state);
                    connections.spawn(async move {
                        let service = service_fn(move |request| serve(Arc::clone(&state), request));
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                // Usually a transient shortage of file descriptors; back off
                // rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    // An unreadable body is treated as empty: the provider then reports it as
    // invalid JSON, which is what a real API would say about a garbled body.
    let bytes = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let path = parts.uri.path();

    if let Some(control_path) = path.strip_prefix("/__sim") {
        return Ok(control::handle(&state, &parts.method, control_path, &bytes));
    }
    let Some((provider, provider_path)) = route(path) else {
        return Ok(unknown_path(&parts.method, path));
    };

    state.record(RecordedRequest {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| path.to_owned(), |pq| pq.as_str().to_owned()),
        provider: provider.name().to_owned(),
        headers: redacted_headers(&parts.headers),
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    });
    let mut ctx = Ctx {
        method: &parts.method,
        path: provider_path,
        query: parts.uri.query(),
        headers: &parts.headers,
        body: &bytes,
        seq: state.next_seq(),
        root: &state.root,
        api_key: state.config.api_key.as_deref(),
        usage_factor: 1,
        max_usage: false,
    };

    // A fault named in the request wins over queued ones and leaves them queued.
    let fault = match parts.headers.get(FAULT_HEADER) {
        Some(value) => {
            let parsed = value
                .to_str()
                .map_err(|_| "the header is not visible ASCII".to_owned())
                .and_then(Fault::parse);
            match parsed {
                Ok(fault) => Some(fault),
                Err(message) => {
                    return Ok(provider
                        .bad_fault_header(&ctx, &message)
                        .into_response(Effect::None));
                }
            }
        }
        None => state.take_fault(provider.name()),
    };

    if let Some(Fault::OverReport { factor }) = &fault {
        ctx.usage_factor = *factor;
    }
    if let Some(Fault::MaxUsage) = &fault {
        ctx.max_usage = true;
    }
    if let Some(Fault::SlowFirstByte(delay)) = &fault {
        tokio::time::sleep(*delay).await;
    }
    let reply = match &fault {
        Some(Fault::Status {
            status,
            retry_after,
            body,
        }) => {
            let reply = match body {
                Some(body) => provider.custom_error(&ctx, *status, body),
                None => provider.status_error(&ctx, *status, *retry_after),
            };
            match retry_after {
                Some(seconds) => reply.header("retry-after", seconds.to_string()),
                None => reply,
            }
        }
        _ => provider.handle(&ctx),
    };
    let effect = fault.as_ref().map_or(Effect::None, Fault::effect);
    let response = reply.into_response(effect);
    Ok(response.map(|body| crate::sse::tracked(body, state.open_bodies())))
}

fn unknown_path(method: &Method, path: &str) -> Response<Body> {
    let message = format!(
        "No provider serves {method} {path}; use /openai/v1/..., /v1/..., /mistral/v1/..., /anthropic/v1/..., /google/v1beta/... or /cohere/v2/..."
    );
    Reply::json(404, json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}}))
        .into_response(Effect::None)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_prefix() {
        assert_eq!(
            route("/openai/v1/chat/completions"),
            Some((Provider::OpenAi, "/v1/chat/completions"))
        );
        assert_eq!(route("/v1/models/"), Some((Provider::OpenAi, "/v1/models")));
        assert_eq!(
            route("/mistral/v1/embeddings"),
            Some((Provider::Mistral, "/v1/embeddings"))
        );
        assert_eq!(route("/mistral"), Some((Provider::Mistral, "")));
        assert_eq!(
            route("/anthropic/v1/messages"),
            Some((Provider::Anthropic, "/v1/messages"))
        );
        assert_eq!(route("/openaix/v1"), None);
        assert_eq!(route("/"), None);
    }
}
