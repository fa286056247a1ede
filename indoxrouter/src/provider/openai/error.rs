//! Error bodies: OpenAI's `{"error": {message, type, param, code}}`, Mistral's
//! `{"object": "error", "message": …}` / `{"detail": …}`, and whatever an
//! OpenAI-compatible server sends.

use http::HeaderMap;
use serde_json::Value;

use crate::error::Error;
use crate::provider::{ProviderConfig, retry_after, scrub};

pub(super) fn parse(cfg: &ProviderConfig, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let retry = retry_after(headers);
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => {
            let inner = v.get("error").filter(|e| e.is_object());
            match inner {
                Some(e) => from_value(cfg, status, Some(e), retry),
                None => from_value(cfg, status, Some(&v), retry),
            }
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

/// Builds an error from an error object (`{"message", "type", "code"}` or similar).
pub(super) fn from_value(
    cfg: &ProviderConfig,
    status: u16,
    v: Option<&Value>,
    retry: Option<std::time::Duration>,
) -> Error {
    let v = v.unwrap_or(&Value::Null);
    let message = match v.get("message").or_else(|| v.get("detail")) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None if v.is_string() => v.as_str().unwrap_or_default().to_owned(),
        None => format!("HTTP {status}"),
    };
    let kind = v.get("type").and_then(Value::as_str);
    let code = match (v.get("code"), kind) {
        // Mistral's unknown model: `type: invalid_model` with a numeric code.
        (_, Some("invalid_model")) => Some("invalid_model".to_owned()),
        (Some(Value::String(s)), _) => Some(s.clone()),
        (Some(Value::Number(n)), _) => Some(n.to_string()),
        (_, kind) => kind.map(str::to_owned),
    };
    // An in-band error after a 200 has no useful status; treat it as the provider failing.
    let status = if status == 200 { 502 } else { status };
    let message = scrub(cfg, &message);
    let mut err = Error::from_status(&cfg.id, status, message, code.as_deref(), retry);
    if let Error::InvalidRequest { param, .. } = &mut err {
        *param = v.get("param").and_then(Value::as_str).map(str::to_owned);
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::provider::{AdapterKind, ApiKey};

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "openai".into(),
            kind: AdapterKind::OpenAi,
            base_url: "http://x/v1".into(),
            api_key: Some(ApiKey::new("sk-test-SECRET-value")),
        }
    }

    #[test]
    fn openai_error_body() {
        let body = br#"{"error":{"message":"Incorrect API key provided: sk-test-SECRET-value.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
        let e = parse(&cfg(), 401, &HeaderMap::new(), body);
        assert_eq!(e.kind(), ErrorKind::Authentication);
        assert!(!e.to_string().contains("SECRET"), "{e}");
        assert!(!format!("{e:?}").contains("SECRET"));
    }

    #[test]
    fn rate_limit_with_retry_after() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "3".parse().unwrap());
        let body = br#"{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}"#;
        let e = parse(&cfg(), 429, &h, body);
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(3)));
    }

    #[test]
    fn insufficient_quota() {
        let body = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
        assert_eq!(
            parse(&cfg(), 429, &HeaderMap::new(), body).kind(),
            ErrorKind::InsufficientQuota
        );
    }

    #[test]
    fn model_not_found() {
        let body = br#"{"error":{"message":"The model `gpt-5x` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}"#;
        assert_eq!(
            parse(&cfg(), 404, &HeaderMap::new(), body).kind(),
            ErrorKind::ModelNotFound
        );
    }

    #[test]
    fn mistral_validation_error() {
        let body = br#"{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","seed"],"msg":"Extra inputs are not permitted"}]},"type":"invalid_request_error","param":null,"code":null}"#;
        let e = parse(&cfg(), 422, &HeaderMap::new(), body);
        assert_eq!(e.kind(), ErrorKind::InvalidRequest);
        assert!(e.to_string().contains("extra_forbidden"));
    }

    #[test]
    fn mistral_invalid_model_is_model_not_found() {
        let body = br#"{"object":"error","message":"Invalid model: mistral-nope","type":"invalid_model","param":null,"code":"1500"}"#;
        assert_eq!(
            parse(&cfg(), 400, &HeaderMap::new(), body).kind(),
            ErrorKind::ModelNotFound
        );
    }

    #[test]
    fn key_straddling_the_clip_point_is_still_redacted() {
        let msg = format!(
            "{}sk-test-SECRET-value",
            "x".repeat(crate::provider::MAX_UPSTREAM_MESSAGE - 5)
        );
        let body = serde_json::json!({"error": {"message": msg}}).to_string();
        let e = parse(&cfg(), 400, &HeaderMap::new(), body.as_bytes());
        assert!(!e.to_string().contains("sk-te"), "{e}");
    }

    #[test]
    fn retry_after_on_503() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        let e = parse(&cfg(), 503, &h, b"{}");
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(2)));
    }

    #[test]
    fn html_body_and_5xx() {
        let e = parse(&cfg(), 502, &HeaderMap::new(), b"<html>Bad gateway</html>");
        assert_eq!(e.kind(), ErrorKind::ProviderUnavailable);
        let e = parse(&cfg(), 500, &HeaderMap::new(), b"");
        assert!(e.to_string().contains("empty body"));
    }
}
