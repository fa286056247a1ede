//! Core errors → JavaScript errors the package's JS layer can classify.
//!
//! napi-rs turns a rejected future's error into a plain `Error` whose `code`
//! is a fixed napi status, so the details travel in the message instead:
//! `ixr:` followed by a JSON object (`class`, `code`, `status`, `message`,
//! `provider`, `retryAfter`, …). `lib/index.js` parses it and throws the
//! matching subclass; nothing else ever sees the encoded form.

use indoxrouter::{Error, ErrorKind};
use serde_json::{Map, Value, json};

/// Prefix that marks an encoded error message.
pub(crate) const PREFIX: &str = "ixr:";

/// The JavaScript class name for a core error.
fn class_name(e: &Error) -> &'static str {
    match e.kind() {
        ErrorKind::Authentication => "AuthenticationError",
        ErrorKind::Permission => "PermissionDeniedError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::ModelNotFound => "ModelNotFoundError",
        ErrorKind::InvalidRequest => "InvalidParametersError",
        ErrorKind::RateLimited => "RateLimitError",
        ErrorKind::InsufficientQuota => "InsufficientCreditsError",
        // No HTTP status means no response arrived: the network failed.
        ErrorKind::ProviderUnavailable => match e {
            Error::ProviderUnavailable { status: None, .. } => "NetworkError",
            _ => "ProviderError",
        },
        ErrorKind::Timeout => "TimeoutError",
        ErrorKind::StreamInterrupted => "StreamInterruptedError",
        ErrorKind::Decode => "ResponseDecodeError",
        ErrorKind::Unsupported => "UnsupportedError",
        ErrorKind::NotConfigured => "ProviderNotFoundError",
        // ErrorKind is non-exhaustive: a kind added later is still an
        // IndoxRouterError with its own code.
        _ => "IndoxRouterError",
    }
}

/// Encodes a core error for the JS layer.
pub(crate) fn to_napi(e: Error) -> napi::Error {
    let status = match &e {
        // The provider's own status is more useful than the gateway's 502.
        Error::ProviderUnavailable {
            status: Some(s), ..
        } => *s,
        other => other.http_status(),
    };
    let mut body = Map::new();
    body.insert("class".into(), class_name(&e).into());
    body.insert("code".into(), e.code().into());
    body.insert("status".into(), status.into());
    body.insert("message".into(), e.to_string().into());
    if let Some(p) = e.provider() {
        body.insert("provider".into(), p.into());
    }
    if let Some(d) = e.retry_after() {
        body.insert("retryAfter".into(), d.as_secs_f64().into());
    }
    match &e {
        Error::ModelNotFound { model, suggestions } => {
            body.insert("model".into(), model.as_str().into());
            body.insert("suggestions".into(), json!(suggestions));
        }
        Error::InvalidRequest {
            param: Some(param), ..
        } => {
            body.insert("param".into(), param.as_str().into());
        }
        Error::NotConfigured { env_var, .. } => {
            body.insert("envVar".into(), env_var.as_str().into());
        }
        _ => {}
    }
    encoded(Value::Object(body))
}

/// An `invalid_request` raised by this layer (bad options, bad request shape).
pub(crate) fn invalid(message: impl Into<String>) -> napi::Error {
    to_napi(Error::invalid(message))
}

/// The error a cancelled call rejects with (`AbortError` in JS).
pub(crate) fn aborted() -> napi::Error {
    encoded(json!({
        "class": "AbortError",
        "code": "aborted",
        "message": "the operation was aborted",
    }))
}

fn encoded(body: Value) -> napi::Error {
    napi::Error::from_reason(format!("{PREFIX}{body}"))
}
