//! OpenAI's chat-completions wire format, and the near-OpenAI dialects
//! (Mistral, OpenAI-compatible servers) expressed as data in [`Quirks`].

mod chat;
mod completions;
mod embeddings;
mod error;
mod images;
mod stream;
mod tool_ids;

use http::HeaderMap;

use super::{Adapter, CompletionRoute, HttpRequest, ProviderConfig, StreamParser};
use crate::error::{Error, Result};
use crate::types::{
    ChatRequest, ChatResponse, CompletionRequest, CompletionResponse, EmbeddingRequest,
    EmbeddingResponse, ImageRequest, ImageResponse,
};

pub use tool_ids::{is_mistral_tool_call_id, mistral_tool_call_id};

/// How a dialect gets usage on a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamUsage {
    /// Ask with `stream_options: {"include_usage": true}` (OpenAI, most compatibles).
    IncludeUsageOption,
    /// The provider always sends it, and may reject `stream_options` (Mistral).
    Always,
}

/// The differences between OpenAI and a near-OpenAI dialect.
#[derive(Debug, Clone, Copy)]
pub struct Quirks {
    /// How streamed usage is obtained.
    pub stream_usage: StreamUsage,
    /// Field carrying the seed (`seed` or Mistral's `random_seed`).
    pub seed_field: &'static str,
    /// Mistral's strict schema: tool-call ids must be 9 alphanumerics (others
    /// are rewritten), `required` is spelled `any`, and fields OpenAI accepts
    /// but Mistral rejects with 422 are dropped (see `chat::MISTRAL_REJECTS`).
    pub mistral_strict: bool,
    /// Send `max_completion_tokens` rather than the deprecated `max_tokens`.
    pub max_completion_tokens: bool,
    /// The provider has `/completions` for instruct models.
    pub legacy_completions: bool,
    /// The provider has `/embeddings`.
    pub embeddings: bool,
    /// Request base64 embeddings (smaller and faster to decode than JSON floats).
    pub base64_embeddings: bool,
    /// The provider has `/images/generations`.
    pub images: bool,
}

/// An OpenAI-dialect adapter.
#[derive(Debug)]
pub struct OpenAiAdapter {
    /// Its quirks.
    pub quirks: Quirks,
}

/// OpenAI itself.
pub static OPENAI: OpenAiAdapter = OpenAiAdapter {
    quirks: Quirks {
        stream_usage: StreamUsage::IncludeUsageOption,
        seed_field: "seed",
        mistral_strict: false,
        max_completion_tokens: true,
        legacy_completions: true,
        embeddings: true,
        base64_embeddings: true,
        images: true,
    },
};

/// Mistral.
pub static MISTRAL: OpenAiAdapter = OpenAiAdapter {
    quirks: Quirks {
        stream_usage: StreamUsage::Always,
        seed_field: "random_seed",
        mistral_strict: true,
        max_completion_tokens: false,
        legacy_completions: false,
        embeddings: true,
        base64_embeddings: false,
        images: false,
    },
};

/// Any OpenAI-compatible server. Conservative: only what nearly all of them accept.
pub static COMPATIBLE: OpenAiAdapter = OpenAiAdapter {
    quirks: Quirks {
        stream_usage: StreamUsage::IncludeUsageOption,
        seed_field: "seed",
        mistral_strict: false,
        max_completion_tokens: false,
        legacy_completions: true,
        embeddings: true,
        base64_embeddings: false,
        images: true,
    },
};

impl OpenAiAdapter {
    fn authed(&self, cfg: &ProviderConfig, mut req: HttpRequest) -> Result<HttpRequest> {
        if let Some(key) = &cfg.api_key {
            let mut value = String::with_capacity(7 + key.expose().len());
            value.push_str("Bearer ");
            value.push_str(key.expose());
            req.secret_header(http::header::AUTHORIZATION, &value, &cfg.id)?;
        }
        Ok(req)
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::invalid(format!("request not serializable: {e}")))
}

impl Adapter for OpenAiAdapter {
    fn chat_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &ChatRequest,
        stream: bool,
    ) -> Result<HttpRequest> {
        let body = chat::body(&self.quirks, model, req, stream)?;
        self.authed(
            cfg,
            HttpRequest::post_json(cfg.url("/chat/completions"), body),
        )
    }

    fn parse_chat(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<ChatResponse> {
        chat::parse(cfg, body)
    }

    fn stream_parser(&self, cfg: &ProviderConfig) -> Box<dyn StreamParser> {
        Box::new(stream::OpenAiStream::new(cfg))
    }

    fn completion_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &CompletionRequest,
        native: bool,
    ) -> Result<CompletionRoute> {
        if !(native && self.quirks.legacy_completions) {
            return Ok(CompletionRoute::ViaChat);
        }
        let body = completions::body(&self.quirks, model, req)?;
        let http = self.authed(cfg, HttpRequest::post_json(cfg.url("/completions"), body))?;
        Ok(CompletionRoute::Native(http))
    }

    fn parse_completion(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<CompletionResponse> {
        completions::parse(cfg, body)
    }

    fn embeddings_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &EmbeddingRequest,
    ) -> Result<HttpRequest> {
        if !self.quirks.embeddings {
            return Err(super::unsupported(cfg, "embeddings"));
        }
        let body = embeddings::body(&self.quirks, model, req)?;
        self.authed(cfg, HttpRequest::post_json(cfg.url("/embeddings"), body))
    }

    fn parse_embeddings(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<EmbeddingResponse> {
        embeddings::parse(cfg, body)
    }

    fn image_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &ImageRequest,
    ) -> Result<HttpRequest> {
        if !self.quirks.images {
            return Err(super::unsupported(cfg, "image generation"));
        }
        let body = images::body(model, req)?;
        self.authed(
            cfg,
            HttpRequest::post_json(cfg.url("/images/generations"), body),
        )
    }

    fn parse_images(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<ImageResponse> {
        images::parse(cfg, body)
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
mod robustness {
    use proptest::prelude::*;

    use super::*;
    use crate::provider::{AdapterKind, ApiKey};
    use crate::transport::sse::SseEvent;

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "openai".into(),
            kind: AdapterKind::OpenAi,
            base_url: "http://127.0.0.1:1/v1".into(),
            api_key: Some(ApiKey::new("sk-prop-SECRET")),
        }
    }

    /// Bytes that look like JSON often enough to reach deep into the parsers.
    fn jsonish() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            "[{}\\[\\]\":,a-z0-9 \\\\]{0,200}".prop_map(String::into_bytes),
            Just(br#"{"choices":[{"message":{"role":"assistant"}}],"usage":{"prompt_tokens":18446744073709551615,"completion_tokens":18446744073709551615}}"#.to_vec()),
        ]
    }

    proptest! {
        /// No input makes a parser panic, and no error repeats the key.
        #[test]
        fn parsers_never_panic(body in jsonish(), status in 100u16..600) {
            let c = cfg();
            let _ = OPENAI.parse_chat(&c, &body);
            let _ = OPENAI.parse_completion(&c, &body);
            let _ = OPENAI.parse_embeddings(&c, &body);
            let _ = OPENAI.parse_images(&c, &body);
            let e = OPENAI.parse_error(&c, status, &http::HeaderMap::new(), &body);
            prop_assert!(!e.to_string().contains("SECRET"));
            let mut parser = OPENAI.stream_parser(&c);
            let _ = parser.event(&SseEvent { event: None, data: bytes::Bytes::from(body) });
        }
    }
}
