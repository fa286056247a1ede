//! Sending requests: one pooled `reqwest::Client`, timeouts, and retries with
//! exponential backoff and jitter that honour `Retry-After`.
//!
//! Retries happen only before any byte of a response body reached the
//! caller: a non-streaming body is read whole inside the attempt, and a
//! stream is retried only until its response headers arrive.

pub mod sse;

use std::time::Duration;

use bytes::Bytes;
use rand::Rng as _;

use crate::error::{Error, Result};
use crate::provider::{Adapter, HttpRequest, ProviderConfig};

/// When and how often to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    /// Backoff before the first retry; doubles each time.
    pub initial_backoff: Duration,
    /// Backoff ceiling.
    pub max_backoff: Duration,
    /// A `Retry-After` longer than this is returned to the caller instead of waited out.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// How long to wait before retry number `attempt` (0-based) after `err`,
    /// or `None` when the error should be returned instead.
    pub fn delay(&self, attempt: u32, err: &Error) -> Option<Duration> {
        if attempt >= self.max_retries || !err.kind().is_retryable() {
            return None;
        }
        let exp = self
            .initial_backoff
            .saturating_mul(1u32.checked_shl(attempt).unwrap_or(u32::MAX))
            .min(self.max_backoff);
        // "Equal jitter": half fixed, half random, so concurrent clients spread out.
        let half = exp / 2;
        let jitter = if half.is_zero() {
            Duration::ZERO
        } else {
            rand::rng().random_range(Duration::ZERO..=half)
        };
        let backoff = half + jitter;
        match err.retry_after() {
            Some(ra) if ra > self.max_retry_after => None,
            Some(ra) => Some(ra.max(backoff)),
            None => Some(backoff),
        }
    }
}

/// The HTTP side of a client.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    http: reqwest::Client,
    pub(crate) retry: RetryPolicy,
    pub(crate) timeout: Duration,
    pub(crate) stream_idle_timeout: Duration,
}

impl Transport {
    pub(crate) fn new(
        connect_timeout: Duration,
        timeout: Duration,
        stream_idle_timeout: Duration,
        retry: RetryPolicy,
    ) -> Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(connect_timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()
            .map_err(|e| Error::invalid(format!("could not build the HTTP client: {e}")))?;
        Ok(Transport {
            http,
            retry,
            timeout,
            stream_idle_timeout,
        })
    }

    fn build(&self, req: &HttpRequest) -> reqwest::RequestBuilder {
        self.http
            .request(req.method.clone(), &req.url)
            .headers(req.headers.clone())
            .body(req.body.clone())
    }

    /// Runs `attempt` until it succeeds, or fails in a way the policy does
    /// not retry. Each attempt gets the full `timeout`, as in the official SDKs.
    async fn retrying<T, F, Fut>(
        &self,
        cfg: &ProviderConfig,
        phase: &str,
        mut attempt: F,
    ) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut retries = 0;
        loop {
            let outcome = tokio::time::timeout(self.timeout, attempt())
                .await
                .unwrap_or_else(|_| Err(timeout_error(cfg, self.timeout, phase)));
            match outcome {
                Ok(value) => return Ok(value),
                Err(err) => match self.retry.delay(retries, &err) {
                    Some(wait) => {
                        tokio::time::sleep(wait).await;
                        retries += 1;
                    }
                    None => return Err(err),
                },
            }
        }
    }

    /// Sends a request and returns the whole success body, retrying per policy.
    pub(crate) async fn send(
        &self,
        adapter: &dyn Adapter,
        cfg: &ProviderConfig,
        req: &HttpRequest,
    ) -> Result<Bytes> {
        self.retrying(cfg, "waiting for the response", || async {
            let resp = self
                .build(req)
                .send()
                .await
                .map_err(|e| network_error(cfg, e))?;
            if resp.status().is_success() {
                return resp.bytes().await.map_err(|e| network_error(cfg, e));
            }
            Err(error_response(adapter, cfg, resp).await)
        })
        .await
    }

    /// Opens a streaming request: retries until a success status arrives, then
    /// hands over the response whose body has not been read.
    pub(crate) async fn open_stream(
        &self,
        adapter: &dyn Adapter,
        cfg: &ProviderConfig,
        req: &HttpRequest,
    ) -> Result<reqwest::Response> {
        self.retrying(cfg, "waiting for the stream to start", || async {
            let resp = self
                .build(req)
                .send()
                .await
                .map_err(|e| network_error(cfg, e))?;
            if !resp.status().is_success() {
                return Err(error_response(adapter, cfg, resp).await);
            }
            // Some servers answer a stream request with a JSON error and a 200.
            let is_json = resp
                .headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/json"));
            if is_json {
                let body = resp.bytes().await.map_err(|e| network_error(cfg, e))?;
                if memchr::memmem::find(&body, b"\"error\"").is_some() {
                    return Err(adapter.parse_error(cfg, 502, &http::HeaderMap::new(), &body));
                }
                return Err(Error::decode(
                    &cfg.id,
                    "asked for an event stream, got a JSON body",
                ));
            }
            Ok(resp)
        })
        .await
    }
}

/// Reads an error response and lets the adapter interpret it.
async fn error_response(
    adapter: &dyn Adapter,
    cfg: &ProviderConfig,
    resp: reqwest::Response,
) -> Error {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    match resp.bytes().await {
        Ok(body) => adapter.parse_error(cfg, status, &headers, &body),
        Err(e) => network_error(cfg, e),
    }
}

/// A `reqwest` failure as our error. The URL is dropped from the message:
/// some providers put credentials in query strings.
pub(crate) fn network_error(cfg: &ProviderConfig, e: reqwest::Error) -> Error {
    let provider = cfg.id.clone();
    if e.is_timeout() {
        return Error::Timeout {
            provider,
            message: "the HTTP request timed out".into(),
        };
    }
    let what = if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the response body broke off"
    } else {
        "the request failed"
    };
    let mut message = what.to_owned();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Error::ProviderUnavailable {
        provider,
        status: None,
        message: crate::error::redact(&message, cfg.secret()),
        retry_after: None,
    }
}

pub(crate) fn timeout_error(cfg: &ProviderConfig, after: Duration, phase: &str) -> Error {
    Error::Timeout {
        provider: cfg.id.clone(),
        message: format!("{phase}, after {:.1}s", after.as_secs_f64()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        let p = RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(400),
            max_retry_after: Duration::from_secs(10),
        };
        let unavailable = Error::ProviderUnavailable {
            provider: "p".into(),
            status: Some(503),
            message: String::new(),
            retry_after: None,
        };
        for attempt in 0..5 {
            let d = p.delay(attempt, &unavailable).unwrap();
            let cap = Duration::from_millis(100 << attempt).min(Duration::from_millis(400));
            assert!(d >= cap / 2 && d <= cap, "{attempt}: {d:?}");
        }
        assert_eq!(p.delay(5, &unavailable), None);
        let limited = Error::RateLimited {
            provider: "p".into(),
            message: String::new(),
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(p.delay(0, &limited), Some(Duration::from_secs(3)));
        let too_long = Error::RateLimited {
            provider: "p".into(),
            message: String::new(),
            retry_after: Some(Duration::from_secs(30)),
        };
        assert_eq!(p.delay(0, &too_long), None);
        assert_eq!(p.delay(0, &Error::invalid("x")), None);
    }
}
