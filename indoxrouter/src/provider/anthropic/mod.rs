//! Anthropic's Messages API (`POST /v1/messages`).
//!
//! Chat only: Anthropic has no embeddings or image-generation endpoint, so
//! those fail fast with `unsupported`; text completions go through chat.

mod chat;
mod error;
mod stream;

use http::{HeaderMap, HeaderValue};

use super::{Adapter, HttpRequest, ModelLimits, ProviderConfig, StreamParser};
use crate::error::{Error, Result};
use crate::types::{ChatRequest, ChatResponse};

/// The API version every request pins. Newer versions change wire shapes, so
/// the adapter is written against exactly this one.
pub const API_VERSION: &str = "2023-06-01";

/// Output cap sent when neither the request nor the catalog gives one
/// (Anthropic rejects a request without `max_tokens`). Every current Claude
/// model allows at least this many.
pub const FALLBACK_MAX_TOKENS: u32 = 4096;

/// The Anthropic adapter.
#[derive(Debug)]
pub struct AnthropicAdapter;

/// Anthropic.
pub static ANTHROPIC: AnthropicAdapter = AnthropicAdapter;

impl AnthropicAdapter {
    fn authed(cfg: &ProviderConfig, mut req: HttpRequest) -> Result<HttpRequest> {
        if let Some(key) = &cfg.api_key {
            req.secret_header(
                http::HeaderName::from_static("x-api-key"),
                key.expose(),
                &cfg.id,
            )?;
        }
        req.headers.insert(
            http::HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(API_VERSION),
        );
        Ok(req)
    }
}

impl Adapter for AnthropicAdapter {
    fn chat_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &ChatRequest,
        stream: bool,
    ) -> Result<HttpRequest> {
        self.chat_request_with_limits(cfg, model, ModelLimits::default(), req, stream)
    }

    fn chat_request_with_limits(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        limits: ModelLimits,
        req: &ChatRequest,
        stream: bool,
    ) -> Result<HttpRequest> {
        let body = chat::body(model, limits, req, stream)?;
        Self::authed(cfg, HttpRequest::post_json(cfg.url("/v1/messages"), body))
    }

    fn parse_chat(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<ChatResponse> {
        chat::parse(cfg, body)
    }

    fn stream_parser(&self, cfg: &ProviderConfig) -> Box<dyn StreamParser> {
        Box::new(stream::AnthropicStream::new(cfg))
    }

    fn parse_error(
        &self,
        cfg: &ProviderConfig,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Error {
        error::parse(cfg, status, headers, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{AdapterKind, ApiKey};
    use crate::types::{EmbeddingRequest, ImageRequest, Message};

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "anthropic".into(),
            kind: AdapterKind::Anthropic,
            base_url: "https://api.anthropic.com/".into(),
            api_key: Some(ApiKey::new("sk-ant-SECRET")),
        }
    }

    #[test]
    fn url_and_headers() {
        let req = ChatRequest::new("anthropic/claude-haiku-4-5", vec![Message::user("hi")]);
        let http = ANTHROPIC
            .chat_request(&cfg(), "claude-haiku-4-5", &req, false)
            .unwrap();
        assert_eq!(http.url, "https://api.anthropic.com/v1/messages");
        assert_eq!(http.headers["anthropic-version"], API_VERSION);
        assert!(http.headers["x-api-key"].is_sensitive());
        assert!(http.headers.get(http::header::AUTHORIZATION).is_none());
        assert!(!format!("{http:?}").contains("SECRET"));
    }

    #[test]
    fn embeddings_and_images_are_unsupported() {
        let e = ANTHROPIC
            .embeddings_request(&cfg(), "claude-haiku-4-5", &EmbeddingRequest::new("m", "x"))
            .unwrap_err();
        assert_eq!(e.code(), "unsupported");
        assert!(e.to_string().contains("anthropic"), "{e}");
        assert!(e.to_string().contains("embeddings"), "{e}");
        let e = ANTHROPIC
            .image_request(&cfg(), "claude-haiku-4-5", &ImageRequest::new("m", "a cat"))
            .unwrap_err();
        assert!(e.to_string().contains("image generation"), "{e}");
    }
}

#[cfg(test)]
mod robustness {
    use proptest::prelude::*;

    use super::*;
    use crate::provider::{AdapterKind, ApiKey};
    use crate::transport::sse::SseEvent;

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "anthropic".into(),
            kind: AdapterKind::Anthropic,
            base_url: "http://127.0.0.1:1".into(),
            api_key: Some(ApiKey::new("sk-ant-prop-SECRET")),
        }
    }

    fn jsonish() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            "[{}\\[\\]\":,a-z_0-9 \\\\]{0,200}".prop_map(String::into_bytes),
            Just(br#"{"type":"message","content":[{"type":"tool_use","id":"t","name":"f","input":1}],"usage":{"input_tokens":18446744073709551615,"cache_read_input_tokens":18446744073709551615,"output_tokens":1}}"#.to_vec()),
            Just(br#"{"type":"content_block_delta","index":4294967295,"delta":{"type":"input_json_delta","partial_json":"{"}}"#.to_vec()),
        ]
    }

    proptest! {
        /// No input makes a parser panic, and no error repeats the key.
        #[test]
        fn parsers_never_panic(body in jsonish(), status in 100u16..600) {
            let c = cfg();
            let _ = ANTHROPIC.parse_chat(&c, &body);
            let e = ANTHROPIC.parse_error(&c, status, &HeaderMap::new(), &body);
            prop_assert!(!e.to_string().contains("SECRET"));
            let mut parser = ANTHROPIC.stream_parser(&c);
            let data = bytes::Bytes::from(body);
            for name in ["message_start", "content_block_start", "content_block_delta", "message_delta", "error"] {
                let _ = parser.event(&SseEvent { event: Some(name.into()), data: data.clone() });
            }
        }
    }
}
