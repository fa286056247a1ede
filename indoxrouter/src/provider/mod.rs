//! Provider adapters: pure translation between the unified types and each provider's wire format.
//!
//! An adapter builds an [`HttpRequest`] and parses response bodies, SSE events
//! and error bodies. It performs no I/O, so every translation is testable
//! with fixtures; the [`crate::Client`] owns sending, retries and streaming.

pub mod anthropic;
pub mod cohere;
pub mod google;
pub mod hosted;
pub mod openai;

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};

use crate::error::{Error, Result};
use crate::transport::sse::SseEvent;
use crate::types::{
    ChatChunk, ChatRequest, ChatResponse, CompletionRequest, CompletionResponse, EmbeddingRequest,
    EmbeddingResponse, ImageRequest, ImageResponse,
};

/// An API key. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for building the auth header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// Which wire format a configured provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdapterKind {
    /// OpenAI itself.
    OpenAi,
    /// Mistral's near-OpenAI API.
    Mistral,
    /// Any other OpenAI-compatible endpoint (Ollama, vLLM, DeepSeek, Groq…).
    OpenAiCompatible,
    /// Anthropic's Messages API.
    Anthropic,
    /// Google's Gemini API.
    Google,
    /// Cohere's v2 API.
    Cohere,
}

/// What the catalog knows about the model being called that shapes a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelLimits {
    /// The model's maximum output tokens, when the catalog lists the model.
    pub max_output_tokens: Option<u64>,
}

/// Everything an adapter needs to address one provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Provider id as used in `provider/model`.
    pub id: String,
    /// Wire format.
    pub kind: AdapterKind,
    /// Base URL (OpenAI-style bases include `/v1`).
    pub base_url: String,
    /// Key, if the provider needs one.
    pub api_key: Option<ApiKey>,
}

impl ProviderConfig {
    /// The key as a string, for redacting it from upstream messages.
    pub(crate) fn secret(&self) -> Option<&str> {
        self.api_key.as_ref().map(ApiKey::expose)
    }

    /// `base_url` joined with `path` (which starts with `/`).
    pub(crate) fn url(&self, path: &str) -> String {
        let base = self.base_url.trim_end_matches('/');
        let mut url = String::with_capacity(base.len() + path.len());
        url.push_str(base);
        url.push_str(path);
        url
    }
}

/// A fully built HTTP request. `Debug` hides credential headers.
#[derive(Clone)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Headers, credentials marked sensitive.
    pub headers: HeaderMap,
    /// JSON body.
    pub body: Bytes,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // HeaderMap's Debug prints `Sensitive` for values marked sensitive.
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl HttpRequest {
    /// A JSON POST to `url` with `body`.
    pub(crate) fn post_json(url: String, body: Vec<u8>) -> Self {
        let mut headers = HeaderMap::with_capacity(4);
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        HttpRequest {
            method: Method::POST,
            url,
            headers,
            body: Bytes::from(body),
        }
    }

    /// Adds a credential header, marked sensitive so it never prints.
    pub(crate) fn secret_header(
        &mut self,
        name: http::HeaderName,
        value: &str,
        provider: &str,
    ) -> Result<()> {
        let mut v = HeaderValue::from_str(value).map_err(|_| Error::InvalidRequest {
            provider: Some(provider.to_owned()),
            message: "the API key contains characters not allowed in an HTTP header".into(),
            param: None,
        })?;
        v.set_sensitive(true);
        self.headers.insert(name, v);
        Ok(())
    }
}

/// What one SSE event meant.
// Returned once per event and moved straight out; boxing the chunk would
// cost an allocation per event for no benefit.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum StreamStep {
    /// A chunk for the caller.
    Chunk(ChatChunk),
    /// Nothing to emit (keep-alive, bookkeeping event).
    Skip,
    /// The provider signalled the end of the stream.
    Done,
}

/// Per-stream state machine turning SSE events into chunks.
pub trait StreamParser: Send {
    /// Handles one event.
    fn event(&mut self, event: &SseEvent) -> Result<StreamStep>;

    /// Called when the body ends without a [`StreamStep::Done`]. Providers
    /// with an explicit end marker treat that as a cut stream (the default);
    /// providers without one (Gemini) finish cleanly.
    fn end_of_body(&mut self, provider: &str) -> Result<()> {
        Err(Error::StreamInterrupted {
            provider: provider.to_owned(),
            message: "the connection closed before the end-of-stream marker".into(),
        })
    }

    /// Usage the provider has announced before its final usage event
    /// (Anthropic's `message_start` gives the exact input tokens first), or
    /// `None`. Lets a gateway bill a stream cut short by the provider's own
    /// counts instead of estimating them.
    fn partial_usage(&self) -> Option<crate::types::Usage> {
        None
    }
}

/// How a text completion is served.
#[derive(Debug)]
pub enum CompletionRoute {
    /// The provider's own completions endpoint.
    Native(HttpRequest),
    /// Through chat: the client sends a chat request and converts the answer.
    ViaChat,
}

/// A provider adapter. Pure: builds requests and parses bodies, never does I/O.
pub trait Adapter: Send + Sync {
    /// Builds a chat request for `model` (the provider's own id).
    fn chat_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &ChatRequest,
        stream: bool,
    ) -> Result<HttpRequest>;

    /// Builds a chat request knowing the model's catalog limits. Adapters
    /// whose API requires an output cap (Anthropic) use them when the request
    /// sets none; the default ignores them.
    fn chat_request_with_limits(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        limits: ModelLimits,
        req: &ChatRequest,
        stream: bool,
    ) -> Result<HttpRequest> {
        let _ = limits;
        self.chat_request(cfg, model, req, stream)
    }

    /// Parses a chat response body.
    fn parse_chat(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<ChatResponse>;

    /// A fresh parser for one chat stream.
    fn stream_parser(&self, cfg: &ProviderConfig) -> Box<dyn StreamParser>;

    /// Decides how to serve a text completion; `native` says whether the model
    /// has a native completions endpoint according to the catalog.
    fn completion_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &CompletionRequest,
        native: bool,
    ) -> Result<CompletionRoute> {
        let _ = (cfg, model, req, native);
        Ok(CompletionRoute::ViaChat)
    }

    /// Parses a native completion body.
    fn parse_completion(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<CompletionResponse> {
        let _ = body;
        Err(unsupported(cfg, "text completions"))
    }

    /// Builds an embeddings request.
    fn embeddings_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &EmbeddingRequest,
    ) -> Result<HttpRequest> {
        let _ = (model, req);
        Err(unsupported(cfg, "embeddings"))
    }

    /// Parses an embeddings body.
    fn parse_embeddings(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<EmbeddingResponse> {
        let _ = body;
        Err(unsupported(cfg, "embeddings"))
    }

    /// Builds an image-generation request.
    fn image_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &ImageRequest,
    ) -> Result<HttpRequest> {
        let _ = (model, req);
        Err(unsupported(cfg, "image generation"))
    }

    /// Parses an image-generation body.
    fn parse_images(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<ImageResponse> {
        let _ = body;
        Err(unsupported(cfg, "image generation"))
    }

    /// Maps an error response to an [`Error`], with the key redacted.
    fn parse_error(
        &self,
        cfg: &ProviderConfig,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Error;
}

/// Decodes a JSON body. UTF-8 is validated once for the whole body, which is
/// markedly cheaper than serde_json validating every string of a `&[u8]`.
pub(crate) fn decode_json<T: serde::de::DeserializeOwned>(
    provider: &str,
    body: &[u8],
) -> Result<T> {
    let text = std::str::from_utf8(body).map_err(|e| Error::decode(provider, e))?;
    serde_json::from_str(text).map_err(|e| Error::decode(provider, e))
}

/// Longest upstream text quoted in an error.
pub(crate) const MAX_UPSTREAM_MESSAGE: usize = 500;

/// Upstream error text made safe to show: the key that was sent is redacted
/// (before clipping, since a key cut in half would no longer match), and
/// the text is clipped to a readable length.
pub(crate) fn scrub(cfg: &ProviderConfig, text: &str) -> String {
    let redacted = crate::error::redact(text, cfg.secret());
    let clipped = crate::text::clip(&redacted, MAX_UPSTREAM_MESSAGE);
    if clipped.len() < redacted.len() {
        format!("{clipped}…")
    } else {
        clipped.to_owned()
    }
}

/// The `unsupported` error for `capability` on `cfg`'s provider.
pub(crate) fn unsupported(cfg: &ProviderConfig, capability: &str) -> Error {
    Error::Unsupported {
        provider: cfg.id.clone(),
        capability: capability.to_owned(),
    }
}

/// The adapter for a wire format.
pub fn adapter(kind: AdapterKind) -> &'static dyn Adapter {
    match kind {
        AdapterKind::OpenAi => &openai::OPENAI,
        AdapterKind::Mistral => &openai::MISTRAL,
        AdapterKind::OpenAiCompatible => &openai::COMPATIBLE,
        AdapterKind::Anthropic => &anthropic::ANTHROPIC,
        AdapterKind::Google => &google::GOOGLE,
        AdapterKind::Cohere => &cohere::COHERE,
    }
}

/// Reads OpenAI's `retry-after-ms`, else `Retry-After` in seconds (an
/// HTTP-date form is ignored). Values outside 0..1 day are ignored.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<std::time::Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    let secs = number("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| number("retry-after"))?;
    if !(0.0..86_400.0).contains(&secs) {
        return None;
    }
    std::time::Duration::try_from_secs_f64(secs).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_headers() {
        let mut h = HeaderMap::new();
        h.insert("retry-after-ms", HeaderValue::from_static("1e30"));
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&h), Some(std::time::Duration::from_millis(250)));
        let mut h = HeaderMap::new();
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", HeaderValue::from_static("NaN"));
        assert_eq!(retry_after(&h), None);
    }
}
