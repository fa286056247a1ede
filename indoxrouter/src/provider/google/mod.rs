//! Google's Gemini API (`generativelanguage.googleapis.com/v1beta`):
//! `:generateContent`, `:streamGenerateContent?alt=sse`,
//! `:batchEmbedContents`, and Imagen's `:predict`.

mod chat;
mod embeddings;
mod error;
mod images;
mod schema;
mod stream;

use http::HeaderMap;

use super::{Adapter, HttpRequest, ProviderConfig, StreamParser};
use crate::error::{Error, Result};
use crate::types::{
    ChatRequest, ChatResponse, EmbeddingRequest, EmbeddingResponse, ImageRequest, ImageResponse,
};

/// The Gemini adapter.
#[derive(Debug)]
pub struct GoogleAdapter;

/// Google Gemini.
pub static GOOGLE: GoogleAdapter = GoogleAdapter;

impl GoogleAdapter {
    /// `{base}/v1beta/models/{model}:{method}`. The model id goes into the
    /// path, so it must be a plain id, not something that could change the
    /// URL (`?`, `/`, `..`).
    fn url(cfg: &ProviderConfig, model: &str, method: &str) -> Result<String> {
        let model = model.strip_prefix("models/").unwrap_or(model);
        let plain = !model.is_empty()
            && model
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && !model.contains("..");
        if !plain {
            return Err(Error::InvalidRequest {
                provider: None,
                message: format!("`{model}` is not a valid Gemini model id"),
                param: Some("model".into()),
            });
        }
        Ok(cfg.url(&format!("/v1beta/models/{model}:{method}")))
    }

    fn post(cfg: &ProviderConfig, url: String, body: Vec<u8>) -> Result<HttpRequest> {
        let mut req = HttpRequest::post_json(url, body);
        if let Some(key) = &cfg.api_key {
            req.secret_header(
                http::HeaderName::from_static("x-goog-api-key"),
                key.expose(),
                &cfg.id,
            )?;
        }
        Ok(req)
    }
}

impl Adapter for GoogleAdapter {
    fn chat_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &ChatRequest,
        stream: bool,
    ) -> Result<HttpRequest> {
        let method = if stream {
            "streamGenerateContent?alt=sse"
        } else {
            "generateContent"
        };
        let url = Self::url(cfg, model, method)?;
        Self::post(cfg, url, chat::body(req)?)
    }

    fn parse_chat(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<ChatResponse> {
        chat::parse(cfg, body)
    }

    fn stream_parser(&self, cfg: &ProviderConfig) -> Box<dyn StreamParser> {
        Box::new(stream::GoogleStream::new(cfg))
    }

    fn embeddings_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &EmbeddingRequest,
    ) -> Result<HttpRequest> {
        let url = Self::url(cfg, model, "batchEmbedContents")?;
        Self::post(cfg, url, embeddings::body(model, req)?)
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
        // Gemini's native image models answer through generateContent with
        // image parts, a different shape; only Imagen's predict is mapped.
        if !model.starts_with("imagen") {
            return Err(super::unsupported(
                cfg,
                "image generation with models other than Imagen",
            ));
        }
        let url = Self::url(cfg, model, "predict")?;
        Self::post(cfg, url, images::body(req)?)
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
mod tests {
    use super::*;
    use crate::provider::{AdapterKind, ApiKey};
    use crate::types::Message;

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "google".into(),
            kind: AdapterKind::Google,
            base_url: "https://generativelanguage.googleapis.com".into(),
            api_key: Some(ApiKey::new("AIza-SECRET")),
        }
    }

    #[test]
    fn urls_and_key_header() {
        let req = ChatRequest::new("google/gemini-2.5-flash", vec![Message::user("hi")]);
        let http = GOOGLE
            .chat_request(&cfg(), "gemini-2.5-flash", &req, false)
            .unwrap();
        assert_eq!(
            http.url,
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
        );
        assert!(http.headers["x-goog-api-key"].is_sensitive());
        assert!(!format!("{http:?}").contains("SECRET"));
        let http = GOOGLE
            .chat_request(&cfg(), "models/gemini-2.5-flash", &req, true)
            .unwrap();
        assert!(
            http.url
                .ends_with("/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
        );
        for bad in ["../x", "a?b", "a/b", ""] {
            assert!(
                GOOGLE.chat_request(&cfg(), bad, &req, false).is_err(),
                "{bad}"
            );
        }
        let e = GOOGLE
            .image_request(
                &cfg(),
                "gemini-2.5-flash-image",
                &ImageRequest::new("m", "x"),
            )
            .unwrap_err();
        assert_eq!(e.code(), "unsupported");
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
            id: "google".into(),
            kind: AdapterKind::Google,
            base_url: "http://127.0.0.1:1".into(),
            api_key: Some(ApiKey::new("AIza-prop-SECRET")),
        }
    }

    fn jsonish() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            "[{}\\[\\]\":,a-zA-Z0-9 \\\\]{0,200}".prop_map(String::into_bytes),
            Just(br#"{"candidates":[{"index":4294967295,"content":{"parts":[{"functionCall":{"name":"f","args":1}}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":18446744073709551615,"toolUsePromptTokenCount":18446744073709551615,"thoughtsTokenCount":18446744073709551615,"candidatesTokenCount":1}}"#.to_vec()),
        ]
    }

    proptest! {
        /// No input makes a parser panic, and no error repeats the key.
        #[test]
        fn parsers_never_panic(body in jsonish(), status in 100u16..600) {
            let c = cfg();
            let _ = GOOGLE.parse_chat(&c, &body);
            let _ = GOOGLE.parse_embeddings(&c, &body);
            let _ = GOOGLE.parse_images(&c, &body);
            let e = GOOGLE.parse_error(&c, status, &HeaderMap::new(), &body);
            prop_assert!(!e.to_string().contains("SECRET"));
            let mut parser = GOOGLE.stream_parser(&c);
            let _ = parser.event(&SseEvent { event: None, data: bytes::Bytes::from(body) });
            let _ = parser.end_of_body("google");
        }
    }
}
