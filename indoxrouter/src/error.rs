//! One error type with a stable, machine-readable kind.
//!
//! Messages never contain API keys: upstream bodies are scrubbed of the key
//! that was sent before they become part of an error (see `redact`).

use std::time::Duration;

/// What went wrong, as a stable machine-readable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The provider rejected the credentials.
    Authentication,
    /// The credentials lack access to this resource.
    Permission,
    /// The resource does not exist.
    NotFound,
    /// The model does not exist.
    ModelNotFound,
    /// The request is malformed or has invalid parameters.
    InvalidRequest,
    /// Too many requests; retry later.
    RateLimited,
    /// The provider account is out of quota or credit.
    InsufficientQuota,
    /// The provider failed or could not be reached.
    ProviderUnavailable,
    /// No answer in time.
    Timeout,
    /// A stream ended before it was complete.
    StreamInterrupted,
    /// A response could not be decoded.
    Decode,
    /// The provider does not offer this capability.
    Unsupported,
    /// The provider is not configured (no key).
    NotConfigured,
}

impl ErrorKind {
    /// The stable code, e.g. `rate_limited`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Authentication => "authentication",
            ErrorKind::Permission => "permission",
            ErrorKind::NotFound => "not_found",
            ErrorKind::ModelNotFound => "model_not_found",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::InsufficientQuota => "insufficient_quota",
            ErrorKind::ProviderUnavailable => "provider_unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::StreamInterrupted => "stream_interrupted",
            ErrorKind::Decode => "decode",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::NotConfigured => "not_configured",
        }
    }

    /// The HTTP status a gateway should answer with for this kind.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::Authentication => 401,
            ErrorKind::Permission => 403,
            ErrorKind::NotFound | ErrorKind::ModelNotFound => 404,
            ErrorKind::InvalidRequest | ErrorKind::Unsupported => 400,
            ErrorKind::RateLimited => 429,
            ErrorKind::InsufficientQuota => 402,
            ErrorKind::ProviderUnavailable | ErrorKind::Decode | ErrorKind::StreamInterrupted => {
                502
            }
            ErrorKind::Timeout => 504,
            ErrorKind::NotConfigured => 503,
        }
    }

    /// Whether a retry of the same request may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited | ErrorKind::ProviderUnavailable | ErrorKind::Timeout
        )
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every failure the client reports.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Credentials rejected.
    #[error("{provider}: authentication failed: {message}")]
    Authentication {
        /// Provider id.
        provider: String,
        /// Upstream message (key redacted).
        message: String,
    },
    /// Credentials lack access.
    #[error("{provider}: permission denied: {message}")]
    Permission {
        /// Provider id.
        provider: String,
        /// Upstream message.
        message: String,
    },
    /// Resource not found.
    #[error("{provider}: not found: {message}")]
    NotFound {
        /// Provider id.
        provider: String,
        /// Upstream message.
        message: String,
    },
    /// Unknown model.
    #[error("model `{model}` not found{}", suggest(.suggestions))]
    ModelNotFound {
        /// The id asked for.
        model: String,
        /// Close matches from the catalog.
        suggestions: Vec<String>,
    },
    /// Malformed request or invalid parameter.
    #[error("{}invalid request: {message}", prefix(.provider))]
    InvalidRequest {
        /// Provider id, when the provider rejected it.
        provider: Option<String>,
        /// What is wrong.
        message: String,
        /// Offending parameter, when known.
        param: Option<String>,
    },
    /// Rate limited.
    #[error("{provider}: rate limited{}: {message}", after(.retry_after))]
    RateLimited {
        /// Provider id.
        provider: String,
        /// Upstream message.
        message: String,
        /// How long the provider asked us to wait.
        retry_after: Option<Duration>,
    },
    /// Out of quota or credit.
    #[error("{provider}: insufficient quota: {message}")]
    InsufficientQuota {
        /// Provider id.
        provider: String,
        /// Upstream message.
        message: String,
    },
    /// Provider failed (5xx) or unreachable.
    #[error("{provider}: unavailable{}: {message}", status_of(.status))]
    ProviderUnavailable {
        /// Provider id.
        provider: String,
        /// Upstream HTTP status, if a response arrived.
        status: Option<u16>,
        /// What happened.
        message: String,
        /// How long the provider asked us to wait (a 503 may say).
        retry_after: Option<Duration>,
    },
    /// Timed out.
    #[error("{provider}: timed out ({message})")]
    Timeout {
        /// Provider id.
        provider: String,
        /// Which timeout fired.
        message: String,
    },
    /// Stream ended early.
    #[error("{provider}: stream interrupted: {message}")]
    StreamInterrupted {
        /// Provider id.
        provider: String,
        /// What happened.
        message: String,
    },
    /// Response not decodable.
    #[error("{provider}: could not decode response: {message}")]
    Decode {
        /// Provider id.
        provider: String,
        /// Parser message.
        message: String,
    },
    /// Capability not offered by the provider.
    #[error("{provider} does not support {capability}")]
    Unsupported {
        /// Provider id.
        provider: String,
        /// E.g. `embeddings`.
        capability: String,
    },
    /// Provider not configured.
    #[error("{provider} is not configured: set {env_var}")]
    NotConfigured {
        /// Provider id.
        provider: String,
        /// Environment variable that configures it.
        env_var: String,
    },
}

fn suggest(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}

fn prefix(p: &Option<String>) -> String {
    p.as_ref().map(|p| format!("{p}: ")).unwrap_or_default()
}

fn after(d: &Option<Duration>) -> String {
    d.map(|d| format!(" (retry after {:.1}s)", d.as_secs_f64()))
        .unwrap_or_default()
}

fn status_of(s: &Option<u16>) -> String {
    s.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

impl Error {
    /// The machine-readable kind.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Authentication { .. } => ErrorKind::Authentication,
            Error::Permission { .. } => ErrorKind::Permission,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::ModelNotFound { .. } => ErrorKind::ModelNotFound,
            Error::InvalidRequest { .. } => ErrorKind::InvalidRequest,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::InsufficientQuota { .. } => ErrorKind::InsufficientQuota,
            Error::ProviderUnavailable { .. } => ErrorKind::ProviderUnavailable,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::StreamInterrupted { .. } => ErrorKind::StreamInterrupted,
            Error::Decode { .. } => ErrorKind::Decode,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::NotConfigured { .. } => ErrorKind::NotConfigured,
        }
    }

    /// The stable code, e.g. `rate_limited`.
    pub fn code(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The HTTP status a gateway should answer with.
    pub fn http_status(&self) -> u16 {
        self.kind().http_status()
    }

    /// How long to wait before retrying, when the provider said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. }
            | Error::ProviderUnavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The provider involved, when there is one.
    pub fn provider(&self) -> Option<&str> {
        match self {
            Error::Authentication { provider, .. }
            | Error::Permission { provider, .. }
            | Error::NotFound { provider, .. }
            | Error::RateLimited { provider, .. }
            | Error::InsufficientQuota { provider, .. }
            | Error::ProviderUnavailable { provider, .. }
            | Error::Timeout { provider, .. }
            | Error::StreamInterrupted { provider, .. }
            | Error::Decode { provider, .. }
            | Error::Unsupported { provider, .. }
            | Error::NotConfigured { provider, .. } => Some(provider),
            Error::InvalidRequest { provider, .. } => provider.as_deref(),
            Error::ModelNotFound { .. } => None,
        }
    }

    /// A client-side invalid request.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidRequest {
            provider: None,
            message: message.into(),
            param: None,
        }
    }

    /// A decode error for `provider`.
    pub fn decode(provider: &str, message: impl std::fmt::Display) -> Self {
        Error::Decode {
            provider: provider.to_owned(),
            message: message.to_string(),
        }
    }

    /// Builds the error for an HTTP error status, from the parts an adapter
    /// parsed. `code` is the provider's machine-readable code or type.
    pub fn from_status(
        provider: &str,
        status: u16,
        message: String,
        code: Option<&str>,
        retry_after: Option<Duration>,
    ) -> Self {
        let provider = provider.to_owned();
        let code = code.unwrap_or("");
        if code == "insufficient_quota" || status == 402 {
            return Error::InsufficientQuota { provider, message };
        }
        // OpenAI says `model_not_found`; Mistral says `invalid_model`.
        if code == "model_not_found" || code == "invalid_model" {
            // The client fills in the model id and catalog suggestions.
            return Error::ModelNotFound {
                model: String::new(),
                suggestions: Vec::new(),
            };
        }
        match status {
            401 => Error::Authentication { provider, message },
            403 => Error::Permission { provider, message },
            404 => Error::NotFound { provider, message },
            408 => Error::Timeout { provider, message },
            429 => Error::RateLimited {
                provider,
                message,
                retry_after,
            },
            400..=499 => Error::InvalidRequest {
                provider: Some(provider),
                message,
                param: None,
            },
            _ => Error::ProviderUnavailable {
                provider,
                status: Some(status),
                message,
                retry_after,
            },
        }
    }
}

/// Short for `Result<T, indoxrouter::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Replaces every occurrence of `secret` in `text` with `***`.
///
/// Upstream error bodies sometimes echo the credential (fully or in part);
/// we never let one reach an error message.
pub(crate) fn redact(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(s) if s.len() >= 4 && text.contains(s) => text.replace(s, "***"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping() {
        assert_eq!(
            Error::from_status("openai", 401, "x".into(), None, None).kind(),
            ErrorKind::Authentication
        );
        assert_eq!(
            Error::from_status("openai", 429, "x".into(), Some("insufficient_quota"), None).kind(),
            ErrorKind::InsufficientQuota
        );
        let e = Error::from_status(
            "openai",
            429,
            "x".into(),
            None,
            Some(Duration::from_secs(2)),
        );
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(
            Error::from_status("openai", 503, "x".into(), None, None).kind(),
            ErrorKind::ProviderUnavailable
        );
        assert_eq!(
            Error::from_status("openai", 422, "x".into(), None, None).kind(),
            ErrorKind::InvalidRequest
        );
    }

    #[test]
    fn redact_hides_secret() {
        assert_eq!(
            redact("bad key sk-secret-123 given", Some("sk-secret-123")),
            "bad key *** given"
        );
        assert_eq!(redact("nothing", Some("sk-secret-123")), "nothing");
    }

    #[test]
    fn model_not_found_suggests() {
        let e = Error::ModelNotFound {
            model: "gpt-4o-mni".into(),
            suggestions: vec!["openai/gpt-4o-mini".into()],
        };
        assert_eq!(
            e.to_string(),
            "model `gpt-4o-mni` not found; did you mean openai/gpt-4o-mini?"
        );
        assert_eq!(e.code(), "model_not_found");
    }
}
