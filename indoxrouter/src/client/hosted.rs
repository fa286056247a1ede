//! Hosted mode's account reads: balance and usage from an IndoxRouter server.

use http::{HeaderValue, Method};
use serde::{Deserialize, Serialize};

use super::Client;
use crate::error::{Error, Result};
use crate::money::Usd;
use crate::provider::HttpRequest;
use crate::provider::hosted::{HOSTED, HOSTED_ID};

/// The caller's credit on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// Login name.
    pub username: String,
    /// Settled balance.
    pub balance: Usd,
    /// Balance minus credit held by requests in flight.
    pub available: Usd,
}

/// One metered request, as the server recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRecord {
    /// The request id the server returned.
    pub request_id: String,
    /// `chat`, `completions`, `embeddings` or `images`.
    pub endpoint: String,
    /// Provider that served it.
    pub provider: String,
    /// Model that served it.
    pub model: String,
    /// Whether it was streamed.
    #[serde(default)]
    pub stream: bool,
    /// Prompt tokens.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Completion tokens.
    #[serde(default)]
    pub completion_tokens: u64,
    /// Images generated.
    #[serde(default)]
    pub images: u32,
    /// The charge.
    pub cost: Usd,
    /// `completed`, `client_disconnected`, `interrupted`, `upstream_error` or `failed`.
    pub status: String,
    /// RFC 3339 time.
    pub created_at: String,
}

/// A page of usage, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsagePage {
    /// The records.
    pub data: Vec<UsageRecord>,
    /// Pass to [`Client::usage`] for the next page; `None` at the end.
    pub next_cursor: Option<String>,
}

impl Client {
    /// Whether this client talks to an IndoxRouter server.
    pub fn is_hosted(&self) -> bool {
        self.inner.hosted.is_some()
    }

    /// Hosted mode: the caller's balance.
    pub async fn balance(&self) -> Result<Balance> {
        let body = self.account_get("/api/v1/users/me").await?;
        crate::provider::decode_json(HOSTED_ID, &body)
    }

    /// Hosted mode: a page of the caller's usage, newest first (`limit` 1–1000).
    pub async fn usage(&self, limit: u32, cursor: Option<&str>) -> Result<UsagePage> {
        let mut path = format!("/api/v1/users/me/usage?limit={limit}");
        if let Some(c) = cursor {
            path.push_str("&cursor=");
            // Cursors are opaque but URL-safe by contract; encode the few
            // characters that would break the query anyway.
            for ch in c.chars() {
                match ch {
                    '&' => path.push_str("%26"),
                    '#' => path.push_str("%23"),
                    '+' => path.push_str("%2B"),
                    ' ' => path.push_str("%20"),
                    _ => path.push(ch),
                }
            }
        }
        let body = self.account_get(&path).await?;
        crate::provider::decode_json(HOSTED_ID, &body)
    }

    async fn account_get(&self, path: &str) -> Result<bytes::Bytes> {
        let (Some(root), Some(provider)) =
            (&self.inner.hosted, self.inner.providers.get(HOSTED_ID))
        else {
            return Err(Error::Unsupported {
                provider: "direct mode".into(),
                capability: "balance and usage (build the client with `hosted(...)`)".into(),
            });
        };
        let mut req = HttpRequest {
            method: Method::GET,
            url: format!("{root}{path}"),
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::new(),
        };
        req.headers.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("application/json"),
        );
        if let Some(key) = &provider.config.api_key {
            req.secret_header(
                http::header::AUTHORIZATION,
                &format!("Bearer {}", key.expose()),
                HOSTED_ID,
            )?;
        }
        self.inner
            .transport
            .send(&HOSTED, &provider.config, &req)
            .await
    }
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
}

impl Client {
    /// Exchanges a username and password for an access token.
    pub(super) async fn login(&self, root: &str, username: &str, password: &str) -> Result<String> {
        let Some(provider) = self.inner.providers.get(HOSTED_ID) else {
            return Err(Error::invalid("login needs a hosted client"));
        };
        #[derive(Serialize)]
        struct Login<'a> {
            username: &'a str,
            password: &'a str,
        }
        let body = serde_json::to_vec(&Login { username, password })
            .map_err(|e| Error::invalid(format!("login request: {e}")))?;
        let req = HttpRequest::post_json(format!("{root}/api/v1/auth/login"), body);
        let body = self
            .inner
            .transport
            .send(&HOSTED, &provider.config, &req)
            .await?;
        let token: Token = crate::provider::decode_json(HOSTED_ID, &body)?;
        Ok(token.access_token)
    }
}
