//! Error bodies: `{"id": …, "message": …}` (sometimes just `{"message"}`).

use http::HeaderMap;
use serde_json::Value;

use crate::error::Error;
use crate::provider::{ProviderConfig, retry_after, scrub};

pub(super) fn parse(cfg: &ProviderConfig, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let retry = retry_after(headers);
    let message = match serde_json::from_slice::<Value>(body) {
        Ok(v) => match v.get("message") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => v.to_string(),
        },
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            if text.trim().is_empty() {
                format!("HTTP {status} with an empty body")
            } else {
                text.trim().to_owned()
            }
        }
    };
    // 498 is Cohere's "invalid token"; it is an authentication failure.
    let status = if status == 498 { 401 } else { status };
    let code = (status == 404 && message.starts_with("model ")).then_some("model_not_found");
    Error::from_status(&cfg.id, status, scrub(cfg, &message), code, retry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::provider::{AdapterKind, ApiKey};

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "cohere".into(),
            kind: AdapterKind::Cohere,
            base_url: String::new(),
            api_key: Some(ApiKey::new("co-SECRET-key")),
        }
    }

    fn kind(status: u16, body: &str) -> ErrorKind {
        parse(&cfg(), status, &HeaderMap::new(), body.as_bytes()).kind()
    }

    #[test]
    fn documented_errors() {
        assert_eq!(
            kind(401, r#"{"id":"a","message":"invalid api token"}"#),
            ErrorKind::Authentication
        );
        assert_eq!(
            kind(498, r#"{"message":"invalid token"}"#),
            ErrorKind::Authentication
        );
        assert_eq!(
            kind(
                400,
                r#"{"id":"a","message":"invalid request: message must be at least 1 token long"}"#
            ),
            ErrorKind::InvalidRequest
        );
        assert_eq!(
            kind(422, r#"{"message":"unprocessable"}"#),
            ErrorKind::InvalidRequest
        );
        assert_eq!(
            kind(
                404,
                r#"{"id":"a","message":"model 'command-x' not found, make sure the correct model ID was used and that you have access to the model."}"#
            ),
            ErrorKind::ModelNotFound
        );
        assert_eq!(
            kind(402, r#"{"message":"Please add a payment method"}"#),
            ErrorKind::InsufficientQuota
        );
        assert_eq!(
            kind(500, r#"{"message":"internal server error"}"#),
            ErrorKind::ProviderUnavailable
        );
        assert_eq!(
            kind(503, "upstream connect error"),
            ErrorKind::ProviderUnavailable
        );
    }

    #[test]
    fn rate_limit_and_secrets() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "4".parse().unwrap());
        let e = parse(&cfg(), 429, &h, br#"{"id":"a","message":"You are using a Trial key, which is limited to 10 API calls / minute."}"#);
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(4)));
        let e = parse(
            &cfg(),
            401,
            &HeaderMap::new(),
            br#"{"message":"bad key co-SECRET-key"}"#,
        );
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }
}
