//! Google's error bodies: `{"error": {"code", "message", "status", "details"}}`
//! (as an array's single element when a stream was requested without SSE).

use std::time::Duration;

use http::HeaderMap;
use serde_json::Value;

use crate::error::Error;
use crate::provider::{ProviderConfig, retry_after, scrub};

pub(super) fn parse(cfg: &ProviderConfig, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let retry = retry_after(headers);
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let first = match &parsed {
        Some(Value::Array(items)) => items.first(),
        other => other.as_ref(),
    };
    match first {
        Some(v) => {
            let inner = v.get("error").filter(|e| e.is_object()).unwrap_or(v);
            from_value(cfg, status, inner, retry)
        }
        None => {
            let text = String::from_utf8_lossy(body);
            let text = if text.trim().is_empty() {
                format!("HTTP {status} with an empty body")
            } else {
                scrub(cfg, text.trim())
            };
            Error::from_status(&cfg.id, status, text, None, retry)
        }
    }
}

/// `google.rpc.Status` names as HTTP statuses, for errors inside a 200.
fn status_of(name: &str) -> Option<u16> {
    Some(match name {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => 400,
        "UNAUTHENTICATED" => 401,
        "PERMISSION_DENIED" => 403,
        "NOT_FOUND" => 404,
        "RESOURCE_EXHAUSTED" => 429,
        "CANCELLED" => 499,
        "INTERNAL" | "UNKNOWN" | "DATA_LOSS" => 500,
        "UNIMPLEMENTED" => 501,
        "UNAVAILABLE" => 503,
        "DEADLINE_EXCEEDED" => 504,
        _ => return None,
    })
}

/// `RetryInfo.retryDelay` (`"20s"`, `"1.5s"`), Google's in-body retry hint.
fn retry_delay(details: Option<&Value>) -> Option<Duration> {
    details?
        .as_array()?
        .iter()
        .filter_map(|d| d.get("retryDelay").and_then(Value::as_str))
        .find_map(|s| s.strip_suffix('s')?.parse::<f64>().ok())
        .filter(|s| (0.0..86_400.0).contains(s))
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
}

fn reason(details: Option<&Value>) -> Option<&str> {
    details?
        .as_array()?
        .iter()
        .find_map(|d| d.get("reason").and_then(Value::as_str))
}

/// Builds an error from Google's inner error object.
pub(super) fn from_value(
    cfg: &ProviderConfig,
    status: u16,
    v: &Value,
    retry: Option<Duration>,
) -> Error {
    let message = match v.get("message") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => format!("HTTP {status}"),
    };
    let rpc_status = v.get("status").and_then(Value::as_str).unwrap_or("");
    let details = v.get("details");
    let status = if status == 200 {
        status_of(rpc_status)
            .or_else(|| {
                v.get("code")
                    .and_then(Value::as_u64)
                    .and_then(|c| u16::try_from(c).ok())
            })
            .filter(|s| *s >= 400)
            .unwrap_or(502)
    } else {
        status
    };
    // Google answers a bad key with 400 INVALID_ARGUMENT; it is an auth failure.
    let status = match reason(details) {
        Some("API_KEY_INVALID" | "API_KEY_EXPIRED") => 401,
        _ => status,
    };
    let code = (status == 404 && message.contains("models/")).then_some("model_not_found");
    let retry = retry.or_else(|| retry_delay(details));
    Error::from_status(&cfg.id, status, scrub(cfg, &message), code, retry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::provider::{AdapterKind, ApiKey};

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "google".into(),
            kind: AdapterKind::Google,
            base_url: String::new(),
            api_key: Some(ApiKey::new("AIzaSy-SECRET-key")),
        }
    }

    fn kind(status: u16, body: &str) -> ErrorKind {
        parse(&cfg(), status, &HeaderMap::new(), body.as_bytes()).kind()
    }

    #[test]
    fn documented_errors() {
        assert_eq!(
            kind(
                400,
                r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}"#
            ),
            ErrorKind::Authentication
        );
        assert_eq!(
            kind(
                400,
                r#"{"error":{"code":400,"message":"Invalid JSON payload received.","status":"INVALID_ARGUMENT"}}"#
            ),
            ErrorKind::InvalidRequest
        );
        assert_eq!(
            kind(
                403,
                r#"{"error":{"code":403,"message":"Method doesn't allow unregistered callers","status":"PERMISSION_DENIED"}}"#
            ),
            ErrorKind::Permission
        );
        assert_eq!(
            kind(
                404,
                r#"{"error":{"code":404,"message":"models/gemini-nope is not found for API version v1beta, or is not supported for generateContent.","status":"NOT_FOUND"}}"#
            ),
            ErrorKind::ModelNotFound
        );
        assert_eq!(
            kind(
                500,
                r#"{"error":{"code":500,"message":"An internal error has occurred.","status":"INTERNAL"}}"#
            ),
            ErrorKind::ProviderUnavailable
        );
        assert_eq!(
            kind(
                503,
                r#"[{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}]"#
            ),
            ErrorKind::ProviderUnavailable
        );
    }

    #[test]
    fn resource_exhausted_retry_delay_from_the_body() {
        let body = r#"{"error":{"code":429,"message":"You exceeded your current quota.","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"20s"}]}}"#;
        let e = parse(&cfg(), 429, &HeaderMap::new(), body.as_bytes());
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(20)));
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        let e = parse(&cfg(), 429, &h, body.as_bytes());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn key_is_never_echoed() {
        let e = parse(
            &cfg(),
            400,
            &HeaderMap::new(),
            br#"{"error":{"code":400,"message":"bad key AIzaSy-SECRET-key","status":"INVALID_ARGUMENT"}}"#,
        );
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }
}
