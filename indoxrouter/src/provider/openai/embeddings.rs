//! `/embeddings`, decoding both float arrays and base64 little-endian f32.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Quirks, to_json};
use crate::error::{Error, Result};
use crate::provider::ProviderConfig;
use crate::types::{Embedding, EmbeddingInput, EmbeddingRequest, EmbeddingResponse, Usage};

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    input: &'a EmbeddingInput,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoding_format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

pub(super) fn body(q: &Quirks, model: &str, req: &EmbeddingRequest) -> Result<Vec<u8>> {
    if req.input.is_empty() {
        return Err(Error::InvalidRequest {
            provider: None,
            message: "`input` must contain at least one text".into(),
            param: Some("input".into()),
        });
    }
    let encoding_format =
        (q.base64_embeddings && !req.extra.contains_key("encoding_format")).then_some("base64");
    to_json(&Body {
        model,
        input: &req.input,
        dimensions: req.dimensions,
        encoding_format,
        user: req.user.as_deref(),
        extra: &req.extra,
    })
}

#[derive(Deserialize)]
struct Wire {
    data: Vec<WireItem>,
    #[serde(default)]
    model: String,
    #[serde(default)]
    usage: Usage,
}

#[derive(Deserialize)]
struct WireItem {
    #[serde(default)]
    index: u32,
    embedding: Vector,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Vector {
    Floats(Vec<f32>),
    Base64(String),
}

pub(super) fn parse(cfg: &ProviderConfig, body: &[u8]) -> Result<EmbeddingResponse> {
    let wire: Wire = crate::provider::decode_json(&cfg.id, body)?;
    let mut data = Vec::with_capacity(wire.data.len());
    for item in wire.data {
        let embedding = match item.embedding {
            Vector::Floats(v) => v,
            Vector::Base64(s) => decode_f32(&s).ok_or_else(|| {
                Error::decode(&cfg.id, "embedding is neither floats nor base64 f32")
            })?,
        };
        data.push(Embedding {
            object: "embedding".into(),
            index: item.index,
            embedding,
        });
    }
    data.sort_by_key(|e| e.index);
    let mut usage = wire.usage;
    usage.total_tokens = usage.prompt_tokens.saturating_add(usage.completion_tokens);
    Ok(EmbeddingResponse {
        object: "list".into(),
        data,
        model: wire.model,
        usage,
        provider: cfg.id.clone(),
        cost: None,
    })
}

fn decode_f32(s: &str) -> Option<Vec<f32>> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).ok()?;
    if bytes.len() % 4 != 0 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{
        AdapterKind,
        openai::{MISTRAL, OPENAI},
    };

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "openai".into(),
            kind: AdapterKind::OpenAi,
            base_url: String::new(),
            api_key: None,
        }
    }

    #[test]
    fn requests_base64_from_openai_only() {
        let req = EmbeddingRequest::new("openai/text-embedding-3-small", "hello");
        let v: Value =
            serde_json::from_slice(&body(&OPENAI.quirks, "text-embedding-3-small", &req).unwrap())
                .unwrap();
        assert_eq!(v["encoding_format"], "base64");
        let v: Value =
            serde_json::from_slice(&body(&MISTRAL.quirks, "mistral-embed", &req).unwrap()).unwrap();
        assert!(v.get("encoding_format").is_none());
    }

    #[test]
    fn parses_floats_and_base64() {
        let r = parse(&cfg(), br#"{"object":"list","data":[{"object":"embedding","embedding":[0.0023064255,-0.009327292],"index":0}],"model":"text-embedding-ada-002","usage":{"prompt_tokens":8,"total_tokens":8}}"#).unwrap();
        assert_eq!(r.data[0].embedding, vec![0.0023064255, -0.009327292]);
        assert_eq!(r.usage.prompt_tokens, 8);
        let b64 = base64::engine::general_purpose::STANDARD
            .encode([1.0f32.to_le_bytes(), (-2.5f32).to_le_bytes()].concat());
        let body = format!(
            r#"{{"object":"list","data":[{{"object":"embedding","embedding":"{b64}","index":0}}],"model":"m","usage":{{"prompt_tokens":1,"total_tokens":1}}}}"#
        );
        assert_eq!(
            parse(&cfg(), body.as_bytes()).unwrap().data[0].embedding,
            vec![1.0, -2.5]
        );
    }
}
