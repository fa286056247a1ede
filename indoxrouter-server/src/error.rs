//! The server's error: an HTTP status, a stable machine-readable code and a
//! message, rendered in OpenAI's shape on `/v1` and the classic API's on `/api/v1`.
//!
//! Messages are written for the caller and never carry a secret: core errors
//! already have provider keys redacted, and store/auth failures are reduced
//! to a generic message here (details go to the log, without secrets).

use std::time::Duration;

use http::StatusCode;
use serde::Serialize;

use crate::store::StoreError;

/// Which API surface is answering, which decides the error body's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// OpenAI-compatible `/v1`.
    OpenAi,
    /// The classic API's `/api/v1`.
    Classic,
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code, e.g. `insufficient_credits`.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
    /// The request parameter at fault, if any.
    pub param: Option<String>,
    /// Seconds the caller should wait before retrying.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with no parameter.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            param: None,
            retry_after: None,
        }
    }

    /// Names the offending parameter.
    pub fn param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// 400 `invalid_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 422 `invalid_parameters`: well-formed JSON with wrong fields or types.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_parameters",
            message,
        )
    }

    /// 401 `unauthorized`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500 `internal_error`, with a generic message (the cause is logged).
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the server failed to complete the request",
        )
    }

    /// 503 `unavailable`.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
    }

    /// OpenAI's error `type` for this status, so SDKs classify it the same way.
    fn openai_type(&self) -> &'static str {
        match self.status.as_u16() {
            401 => "authentication_error",
            402 => "insufficient_quota",
            403 => "permission_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            400 | 413 | 422 => "invalid_request_error",
            500..=599 => "api_error",
            _ => "invalid_request_error",
        }
    }

    /// The JSON body for `surface`.
    pub fn body(&self, surface: Surface, request_id: Option<&str>) -> Vec<u8> {
        let result = match surface {
            Surface::OpenAi => serde_json::to_vec(&OpenAiBody {
                error: OpenAiError {
                    message: &self.message,
                    kind: self.openai_type(),
                    param: self.param.as_deref(),
                    code: self.code,
                },
            }),
            Surface::Classic => serde_json::to_vec(&ClassicBody {
                success: false,
                message: &self.message,
                detail: &self.message,
                code: self.code,
                param: self.param.as_deref(),
                request_id,
            }),
        };
        // Serializing plain strings cannot fail; an empty body still carries the status.
        result.unwrap_or_default()
    }

    /// The full HTTP response for `surface`.
    pub fn response(
        &self,
        surface: Surface,
        request_id: Option<&str>,
    ) -> http::Response<bytes::Bytes> {
        let mut resp = http::Response::new(bytes::Bytes::from(self.body(surface, request_id)));
        *resp.status_mut() = self.status;
        let headers = resp.headers_mut();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        if let Some(after) = self.retry_after {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
            // Finer than Retry-After's whole seconds; the OpenAI SDKs prefer it.
            let ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
            headers.insert("retry-after-ms", http::HeaderValue::from(ms));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

#[derive(Serialize)]
struct OpenAiBody<'a> {
    error: OpenAiError<'a>,
}

#[derive(Serialize)]
struct OpenAiError<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    param: Option<&'a str>,
    code: &'static str,
}

/// The classic API's failure envelope; `detail` keeps FastAPI-style clients working.
#[derive(Serialize)]
struct ClassicBody<'a> {
    success: bool,
    message: &'a str,
    detail: &'a str,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    param: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

impl From<indoxrouter::Error> for ApiError {
    fn from(e: indoxrouter::Error) -> Self {
        use indoxrouter::Error as E;
        let message = crate::provider_errors::caller_message(&e);
        match &e {
            // The operator's provider credentials or account failed: the
            // caller's request was fine, so this is a bad gateway, not a 401.
            E::Authentication { .. } => {
                Self::new(StatusCode::BAD_GATEWAY, "provider_authentication", message)
            }
            E::Permission { .. } => {
                Self::new(StatusCode::BAD_GATEWAY, "provider_permission", message)
            }
            E::InsufficientQuota { .. } => {
                Self::new(StatusCode::BAD_GATEWAY, "provider_quota", message)
            }
            E::RateLimited { retry_after, .. } => ApiError {
                retry_after: *retry_after,
                ..Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "provider_rate_limited",
                    message,
                )
            },
            E::ProviderUnavailable { retry_after, .. } => ApiError {
                retry_after: *retry_after,
                ..Self::new(StatusCode::BAD_GATEWAY, "provider_unavailable", message)
            },
            E::InvalidRequest { param, .. } => ApiError {
                param: param.clone(),
                ..Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
            },
            E::ModelNotFound { .. } => ApiError {
                param: Some("model".into()),
                ..Self::new(StatusCode::NOT_FOUND, "model_not_found", message)
            },
            E::NotConfigured { provider, .. } => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "provider_not_configured",
                // The env var name is operator detail; callers only need the fact.
                format!("provider `{provider}` is not configured on this server"),
            ),
            E::Timeout { .. } => Self::new(StatusCode::GATEWAY_TIMEOUT, "timeout", message),
            other => {
                let status =
                    StatusCode::from_u16(other.http_status()).unwrap_or(StatusCode::BAD_GATEWAY);
                Self::new(status, other.code(), message)
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UserExists(name) => Self::new(
                StatusCode::CONFLICT,
                "user_exists",
                format!("user `{name}` already exists"),
            ),
            StoreError::UserNotFound => Self::not_found("no such user"),
            StoreError::KeyNotFound => {
                Self::new(StatusCode::NOT_FOUND, "key_not_found", "no such API key")
            }
            StoreError::InsufficientCredits { needed, available } => Self::new(
                StatusCode::PAYMENT_REQUIRED,
                "insufficient_credits",
                format!(
                    "insufficient credits: this request may cost up to ${needed} and ${available} is available"
                ),
            ),
            StoreError::KeyBudgetExceeded {
                needed,
                available,
                resets_at,
                ..
            } => Self::new(
                StatusCode::PAYMENT_REQUIRED,
                "key_budget_exceeded",
                match resets_at {
                    Some(at) => format!(
                        "this API key's budget is spent: this request may cost up to ${needed} and ${available} is left until the budget resets at {at} (Unix seconds)"
                    ),
                    None => format!(
                        "this API key's budget is spent: this request may cost up to ${needed} and ${available} is left"
                    ),
                },
            ),
            StoreError::BadCursor => Self::bad_request("invalid cursor").param("cursor"),
            StoreError::Closed => Self::unavailable("the server is shutting down"),
            StoreError::Storage(msg) => {
                tracing::error!(error = %msg, "storage failure");
                Self::internal()
            }
        }
    }
}
