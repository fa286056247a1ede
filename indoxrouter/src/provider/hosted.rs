//! Hosted mode: an IndoxRouter server as the one upstream.
//!
//! The server's `/v1` speaks OpenAI's wire format with model ids
//! `provider/model`, so requests and responses go through the OpenAI adapter.
//! What differs: the charge comes from the server (`usage.cost`, a USD decimal
//! string) rather than from the local catalog, and errors are the server's
//! (its own codes such as `insufficient_credits`, in OpenAI's or the classic API's
//! error shape).

use http::HeaderMap;
use serde::Deserialize;

use super::openai::{OpenAiAdapter, Quirks, StreamUsage};
use super::{Adapter, CompletionRoute, HttpRequest, ProviderConfig, StreamParser, StreamStep};
use crate::cost::CostBreakdown;
use crate::error::{Error, Result};
use crate::money::Usd;
use crate::transport::sse::SseEvent;
use crate::types::{
    ChatRequest, ChatResponse, CompletionRequest, CompletionResponse, EmbeddingRequest,
    EmbeddingResponse, ImageRequest, ImageResponse,
};

/// The provider id a hosted client reports (errors, `ChatResponse::provider`
/// stays the server's answer).
pub const HOSTED_ID: &str = "indoxrouter";

/// The server's `/v1` accepts everything OpenAI's does that the core sends.
static BASE: OpenAiAdapter = OpenAiAdapter {
    quirks: Quirks {
        stream_usage: StreamUsage::IncludeUsageOption,
        seed_field: "seed",
        mistral_strict: false,
        max_completion_tokens: false,
        legacy_completions: true,
        embeddings: true,
        base64_embeddings: true,
        images: true,
    },
};

/// The hosted-mode adapter.
#[derive(Debug)]
pub struct HostedAdapter;

/// The one instance.
pub static HOSTED: HostedAdapter = HostedAdapter;

#[derive(Deserialize)]
struct WithUsage {
    #[serde(default)]
    usage: Option<CostOnly>,
}

#[derive(Deserialize)]
struct CostOnly {
    #[serde(default)]
    cost: Option<Usd>,
}

/// The server's charge in a response body, as a breakdown with only the total
/// known (the server prices by its own catalog).
fn server_cost(body: &[u8]) -> Option<CostBreakdown> {
    let parsed: WithUsage = serde_json::from_slice(body).ok()?;
    let total = parsed.usage?.cost?;
    Some(CostBreakdown {
        total,
        ..CostBreakdown::default()
    })
}

/// The provider that served an answer, from the server's `provider/model` id
/// (the OpenAI adapter fills `provider` with [`HOSTED_ID`]; the server's
/// answer says which provider it routed to).
fn served_by(model: &str) -> Option<String> {
    model
        .split_once('/')
        .map(|(provider, _)| provider)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
}

struct HostedStream {
    inner: Box<dyn StreamParser>,
}

impl StreamParser for HostedStream {
    fn event(&mut self, event: &SseEvent) -> Result<StreamStep> {
        let step = self.inner.event(event)?;
        Ok(match step {
            StreamStep::Chunk(mut chunk) => {
                if let Some(p) = served_by(&chunk.model) {
                    chunk.provider = p;
                }
                if chunk.usage.is_some() {
                    chunk.cost = server_cost(&event.data);
                }
                StreamStep::Chunk(chunk)
            }
            other => other,
        })
    }
}

#[derive(Deserialize, Default)]
struct ServerError {
    #[serde(default)]
    error: Option<ErrorObject>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

#[derive(Deserialize, Default)]
struct ErrorObject {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    param: Option<String>,
}

impl Adapter for HostedAdapter {
    fn chat_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &ChatRequest,
        stream: bool,
    ) -> Result<HttpRequest> {
        BASE.chat_request(cfg, model, req, stream)
    }

    fn parse_chat(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<ChatResponse> {
        let mut r = BASE.parse_chat(cfg, body)?;
        r.cost = server_cost(body);
        if let Some(p) = served_by(&r.model) {
            r.provider = p;
        }
        Ok(r)
    }

    fn stream_parser(&self, cfg: &ProviderConfig) -> Box<dyn StreamParser> {
        Box::new(HostedStream {
            inner: BASE.stream_parser(cfg),
        })
    }

    fn completion_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &CompletionRequest,
        _native: bool,
    ) -> Result<CompletionRoute> {
        // The server decides between a native endpoint and chat.
        BASE.completion_request(cfg, model, req, true)
    }

    fn parse_completion(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<CompletionResponse> {
        let mut r = BASE.parse_completion(cfg, body)?;
        r.cost = server_cost(body);
        if let Some(p) = served_by(&r.model) {
            r.provider = p;
        }
        Ok(r)
    }

    fn embeddings_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &EmbeddingRequest,
    ) -> Result<HttpRequest> {
        BASE.embeddings_request(cfg, model, req)
    }

    fn parse_embeddings(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<EmbeddingResponse> {
        let mut r = BASE.parse_embeddings(cfg, body)?;
        r.cost = server_cost(body);
        if let Some(p) = served_by(&r.model) {
            r.provider = p;
        }
        Ok(r)
    }

    fn image_request(
        &self,
        cfg: &ProviderConfig,
        model: &str,
        req: &ImageRequest,
    ) -> Result<HttpRequest> {
        BASE.image_request(cfg, model, req)
    }

    fn parse_images(&self, cfg: &ProviderConfig, body: &[u8]) -> Result<ImageResponse> {
        let mut r = BASE.parse_images(cfg, body)?;
        r.cost = server_cost(body);
        if let Some(p) = served_by(&r.model) {
            r.provider = p;
        }
        Ok(r)
    }

    fn parse_error(
        &self,
        cfg: &ProviderConfig,
        status: u16,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Error {
        let parsed: ServerError = serde_json::from_slice(body).unwrap_or_default();
        let (message, code, param) = match parsed.error {
            Some(e) => (e.message, e.code, e.param),
            None => (parsed.message, parsed.code, None),
        };
        let code = code.unwrap_or_default();
        let message = super::scrub(
            cfg,
            &match message {
                Some(m) if code.is_empty() => m,
                Some(m) => format!("{m} ({code})"),
                None => format!("HTTP {status}"),
            },
        );
        error_for(cfg, status, &code, message, param, headers)
    }
}

/// Maps the server's status and code to the core's error kinds.
pub(crate) fn error_for(
    cfg: &ProviderConfig,
    status: u16,
    code: &str,
    message: String,
    param: Option<String>,
    headers: &HeaderMap,
) -> Error {
    let provider = cfg.id.clone();
    match (status, code) {
        (401, _) => Error::Authentication { provider, message },
        (402, _) => Error::InsufficientQuota { provider, message },
        (403, _) => Error::Permission { provider, message },
        (404, "model_not_found") => Error::ModelNotFound {
            model: String::new(),
            suggestions: Vec::new(),
        },
        (404, _) => Error::NotFound { provider, message },
        (429, _) => Error::RateLimited {
            provider,
            message,
            retry_after: super::retry_after(headers),
        },
        (504, _) => Error::Timeout { provider, message },
        (400..=499, _) => Error::InvalidRequest {
            provider: Some(provider),
            message,
            param,
        },
        _ => Error::ProviderUnavailable {
            provider,
            status: Some(status),
            message,
            retry_after: super::retry_after(headers),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{AdapterKind, ApiKey};

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: HOSTED_ID.into(),
            kind: AdapterKind::OpenAiCompatible,
            base_url: "http://127.0.0.1:8000/v1".into(),
            api_key: Some(ApiKey::new("ixr-secretsecret")),
        }
    }

    #[test]
    fn reads_the_server_charge() {
        let body = br#"{"id":"c","object":"chat.completion","created":1,"model":"openai/gpt-4o-mini",
            "choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4,"cost":"0.0000012"}}"#;
        let r = HOSTED.parse_chat(&cfg(), body).unwrap();
        assert_eq!(r.cost.unwrap().total, Usd::parse("0.0000012").unwrap());
        assert_eq!(r.usage.total_tokens, 4);
        assert_eq!(r.provider, "openai", "the provider the server routed to");
        assert_eq!(r.model, "openai/gpt-4o-mini");
    }

    #[test]
    fn stream_chunks_name_the_provider_that_served_them() {
        let mut parser = HOSTED.stream_parser(&cfg());
        let event = SseEvent {
            event: None,
            data: bytes::Bytes::from_static(
                br#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"anthropic/claude-haiku-4-5",
                "choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}"#,
            ),
        };
        let StreamStep::Chunk(chunk) = parser.event(&event).unwrap() else {
            panic!("expected a chunk");
        };
        assert_eq!(chunk.provider, "anthropic");
        assert_eq!(served_by("no-slash"), None);
        assert_eq!(served_by("/m"), None);
    }

    #[test]
    fn maps_server_errors_in_both_shapes() {
        let h = HeaderMap::new();
        let e = HOSTED.parse_error(
            &cfg(),
            402,
            &h,
            br#"{"error":{"message":"insufficient credits","type":"insufficient_quota","param":null,"code":"insufficient_credits"}}"#,
        );
        assert_eq!(e.kind(), crate::ErrorKind::InsufficientQuota);
        assert!(e.to_string().contains("insufficient_credits"));
        let e = HOSTED.parse_error(
            &cfg(),
            401,
            &h,
            br#"{"success":false,"message":"bad key ixr-secretsecret","code":"unauthorized"}"#,
        );
        assert_eq!(e.kind(), crate::ErrorKind::Authentication);
        assert!(!e.to_string().contains("ixr-secretsecret"));
        let e = HOSTED.parse_error(
            &cfg(),
            404,
            &h,
            br#"{"error":{"message":"m","code":"model_not_found"}}"#,
        );
        assert_eq!(e.kind(), crate::ErrorKind::ModelNotFound);
        let e = HOSTED.parse_error(&cfg(), 502, &h, b"not json");
        assert_eq!(e.kind(), crate::ErrorKind::ProviderUnavailable);
    }
}
