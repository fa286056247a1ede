//! Cohere's v2 API: `POST /v2/chat` (JSON and SSE) and `POST /v2/embed`.
//!
//! No image generation (fails fast with `unsupported`); text completions go
//! through chat.

mod chat;
mod embeddings;
mod error;
mod stream;

use http::HeaderMap;

use super::{Adapter, HttpRequest, ProviderConfig, StreamParser};
use crate::error::{Error, Result};
use crate::types::{ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse};

/// The Cohere adapter.
#[derive(Debug)]
pub struct CohereAdapter;

/// Cohere.
pub static COHERE: CohereAdapter = CohereAdapter;

impl CohereAdapter {
    fn post(cfg: &ProviderConfig, path: &str, body: Vec<u8>) -> Result<HttpRequest> {
        let mut req = HttpRequest::post_json(cfg.url(path), body);
        if let Some(key) = &cfg.api_key {
            let mut value = String::with_capacity(7 + key.expose().len());
            value.push_str("Bearer ");
            value.push_str(key.expose());
            req.secret_header(http::header::AUTHORIZATION, &value, &cfg.id)?;
        }
        Ok(req)
    }
}

impl Adapter for CohereAdapter {
    fn chat_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &ChatRequest,
        stream: bool,
    ) -> Result<HttpRequest> {
        Self::post(cfg, "/v2/chat", chat::body(model, req, stream)?)
    }

    fn parse_chat(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<ChatResponse> {
        chat::parse(cfg, body)
    }

    fn stream_parser(&self, cfg: &ProviderConfig) -> Box<dyn StreamParser> {
        Box::new(stream::CohereStream::new(cfg))
    }

    fn embeddings_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &EmbeddingRequest,
    ) -> Result<HttpRequest> {
        Self::post(cfg, "/v2/embed", embeddings::body(model, req)?)
    }

    fn parse_embeddings(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<EmbeddingResponse> {
        embeddings::parse(cfg, body)
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
    use crate::types::{ImageRequest, Message};

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "cohere".into(),
            kind: AdapterKind::Cohere,
            base_url: "https://api.cohere.com/".into(),
            api_key: Some(ApiKey::new("co-SECRET")),
        }
    }

    #[test]
    fn urls_auth_and_unsupported_images() {
        let req = ChatRequest::new("cohere/command-a-03-2025", vec![Message::user("hi")]);
        let http = COHERE
            .chat_request(&cfg(), "command-a-03-2025", &req, false)
            .unwrap();
        assert_eq!(http.url, "https://api.cohere.com/v2/chat");
        assert!(http.headers[http::header::AUTHORIZATION].is_sensitive());
        assert!(!format!("{http:?}").contains("SECRET"));
        let http = COHERE
            .embeddings_request(&cfg(), "embed-v4.0", &EmbeddingRequest::new("m", "x"))
            .unwrap();
        assert_eq!(http.url, "https://api.cohere.com/v2/embed");
        let e = COHERE
            .image_request(&cfg(), "command-a-03-2025", &ImageRequest::new("m", "x"))
            .unwrap_err();
        assert_eq!(e.code(), "unsupported");
        assert!(e.to_string().contains("cohere"), "{e}");
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
            id: "cohere".into(),
            kind: AdapterKind::Cohere,
            base_url: "http://127.0.0.1:1".into(),
            api_key: Some(ApiKey::new("co-prop-SECRET")),
        }
    }

    fn jsonish() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            "[{}\\[\\]\":,a-z0-9_ \\-\\\\]{0,200}".prop_map(String::into_bytes),
            Just(br#"{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":1e308,"output_tokens":-5},"cached_tokens":1e300}}}"#.to_vec()),
        ]
    }

    proptest! {
        /// No input makes a parser panic, and no error repeats the key.
        #[test]
        fn parsers_never_panic(body in jsonish(), status in 100u16..600) {
            let c = cfg();
            let _ = COHERE.parse_chat(&c, &body);
            let _ = COHERE.parse_embeddings(&c, &body);
            let e = COHERE.parse_error(&c, status, &HeaderMap::new(), &body);
            prop_assert!(!e.to_string().contains("SECRET"));
            let mut parser = COHERE.stream_parser(&c);
            let _ = parser.event(&SseEvent { event: None, data: bytes::Bytes::from(body) });
        }
    }
}
