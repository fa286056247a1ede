//! Error bodies: `{"type": "error", "error": {"type", "message"}, "request_id"}`.

use std::time::Duration;

use http::HeaderMap;
use serde_json::Value;

use crate::error::Error;
use crate::provider::{ProviderConfig, retry_after, scrub};

pub(super) fn parse(cfg: &ProviderConfig, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let retry = retry_after(headers);
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            let inner = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
            from_value(cfg, status, Some(inner), retry)
        }
        Err(_) => {
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

/// Builds an error from Anthropic's inner error object (`{"type", "message"}`).
pub(super) fn from_value(
    cfg: &ProviderConfig,
    status: u16,
    v: Option<&Value>,
    retry: Option<Duration>,
) -> Error {
    let v = v.unwrap_or(&Value::Null);
    let message = match v.get("message") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => format!("HTTP {status}"),
    };
    let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
    // An error event after a 200 carries only its type; give it the status
    // Anthropic would have answered with.
    let status = match (status, kind) {
        (200, "invalid_request_error") => 400,
        (200, "authentication_error") => 401,
        (200, "permission_error") => 403,
        (200, "not_found_error") => 404,
        (200, "request_too_large") => 413,
        (200, "rate_limit_error") => 429,
        (200, "overloaded_error") => 529,
        (200, _) => 502,
        (s, _) => s,
    };
    // Anthropic reports an unknown model as `not_found_error` with the
    // message "model: <id>".
    let code = match kind {
        "not_found_error" if message.starts_with("model:") => Some("model_not_found"),
        "billing_error" => Some("insufficient_quota"),
        _ => None,
    };
    Error::from_status(&cfg.id, status, scrub(cfg, &message), code, retry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::provider::{AdapterKind, ApiKey};

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "anthropic".into(),
            kind: AdapterKind::Anthropic,
            base_url: "https://api.anthropic.com".into(),
            api_key: Some(ApiKey::new("sk-ant-api03-SECRET")),
        }
    }

    fn body(kind: &str, message: &str) -> Vec<u8> {
        serde_json::json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"})
            .to_string()
            .into_bytes()
    }

    fn kind(status: u16, k: &str, message: &str) -> ErrorKind {
        parse(&cfg(), status, &HeaderMap::new(), &body(k, message)).kind()
    }

    #[test]
    fn documented_error_types() {
        assert_eq!(
            kind(400, "invalid_request_error", "max_tokens: Field required"),
            ErrorKind::InvalidRequest
        );
        assert_eq!(
            kind(401, "authentication_error", "invalid x-api-key"),
            ErrorKind::Authentication
        );
        assert_eq!(
            kind(403, "permission_error", "no access"),
            ErrorKind::Permission
        );
        assert_eq!(
            kind(404, "not_found_error", "model: claude-nope"),
            ErrorKind::ModelNotFound
        );
        assert_eq!(
            kind(404, "not_found_error", "Not found"),
            ErrorKind::NotFound
        );
        assert_eq!(
            kind(
                413,
                "request_too_large",
                "Request exceeds the maximum allowed number of bytes."
            ),
            ErrorKind::InvalidRequest
        );
        assert_eq!(
            kind(500, "api_error", "Internal server error"),
            ErrorKind::ProviderUnavailable
        );
        assert_eq!(
            kind(402, "billing_error", "credit balance too low"),
            ErrorKind::InsufficientQuota
        );
    }

    #[test]
    fn overloaded_529_is_retryable_unavailability() {
        let e = parse(
            &cfg(),
            529,
            &HeaderMap::new(),
            &body("overloaded_error", "Overloaded"),
        );
        assert_eq!(e.kind(), ErrorKind::ProviderUnavailable);
        assert!(e.kind().is_retryable());
        assert!(e.to_string().contains("Overloaded"), "{e}");
    }

    #[test]
    fn rate_limit_with_retry_after() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        let e = parse(
            &cfg(),
            429,
            &h,
            &body(
                "rate_limit_error",
                "Number of request tokens has exceeded your per-minute rate limit",
            ),
        );
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn key_is_never_echoed() {
        let e = parse(
            &cfg(),
            401,
            &HeaderMap::new(),
            &body("authentication_error", "bad key sk-ant-api03-SECRET"),
        );
        assert!(!e.to_string().contains("SECRET"), "{e}");
        let e = parse(
            &cfg(),
            502,
            &HeaderMap::new(),
            b"<html>sk-ant-api03-SECRET</html>",
        );
        assert!(!e.to_string().contains("SECRET"), "{e}");
        assert_eq!(e.kind(), ErrorKind::ProviderUnavailable);
    }

    #[test]
    fn in_stream_error_gets_a_status_from_its_type() {
        let v = serde_json::json!({"type": "overloaded_error", "message": "Overloaded"});
        let e = from_value(&cfg(), 200, Some(&v), None);
        assert_eq!(e.kind(), ErrorKind::ProviderUnavailable);
        let v = serde_json::json!({"type": "rate_limit_error", "message": "slow down"});
        assert_eq!(
            from_value(&cfg(), 200, Some(&v), None).kind(),
            ErrorKind::RateLimited
        );
    }
}
