//! `/v2/embed` with float embeddings.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::provider::ProviderConfig;
use crate::types::{Embedding, EmbeddingRequest, EmbeddingResponse, Usage};

/// What the texts are for, when the caller doesn't say: v3+ models require
/// an `input_type`, and documents for search are the common case.
const DEFAULT_INPUT_TYPE: &str = "search_document";

const MANAGED: &[&str] = &[
    "model",
    "texts",
    "input_type",
    "embedding_types",
    "output_dimension",
];

pub(super) fn body(model: &str, req: &EmbeddingRequest) -> Result<Vec<u8>> {
    let texts = req.input.as_vec();
    if texts.is_empty() {
        return Err(Error::InvalidRequest {
            provider: None,
            message: "`input` must contain at least one text".into(),
            param: Some("input".into()),
        });
    }
    let mut out = Map::new();
    out.insert("model".into(), Value::from(model));
    out.insert("texts".into(), json!(texts));
    out.insert(
        "input_type".into(),
        Value::from(req.input_type.as_deref().unwrap_or(DEFAULT_INPUT_TYPE)),
    );
    out.insert("embedding_types".into(), json!(["float"]));
    if let Some(d) = req.dimensions {
        out.insert("output_dimension".into(), Value::from(d));
    }
    for (k, v) in &req.extra {
        if !MANAGED.contains(&k.as_str()) && k != "encoding_format" && k != "user" {
            out.insert(k.clone(), v.clone());
        }
    }
    serde_json::to_vec(&Value::Object(out))
        .map_err(|e| Error::invalid(format!("request not serializable: {e}")))
}

#[derive(Deserialize, Default)]
struct ByType {
    #[serde(default)]
    float: Vec<Vec<f32>>,
}

#[derive(Deserialize, Default)]
struct Billed {
    #[serde(default)]
    input_tokens: Option<f64>,
}

#[derive(Deserialize, Default)]
struct Meta {
    #[serde(default)]
    billed_units: Option<Billed>,
}

#[derive(Deserialize)]
struct WireEmbed {
    #[serde(default)]
    embeddings: ByType,
    #[serde(default)]
    meta: Option<Meta>,
}

pub(super) fn parse(cfg: &ProviderConfig, body: &[u8]) -> Result<EmbeddingResponse> {
    let wire: WireEmbed = crate::provider::decode_json(&cfg.id, body)?;
    let tokens = wire
        .meta
        .and_then(|m| m.billed_units)
        .and_then(|b| b.input_tokens)
        .filter(|n| n.is_finite() && *n > 0.0)
        // `as` saturates; billed units are whole numbers.
        .map_or(0, |n| n as u64);
    let data = wire
        .embeddings
        .float
        .into_iter()
        .enumerate()
        .map(|(i, v)| Embedding {
            object: "embedding".into(),
            index: u32::try_from(i).unwrap_or(u32::MAX),
            embedding: v,
        })
        .collect();
    Ok(EmbeddingResponse {
        object: "list".into(),
        data,
        model: String::new(),
        usage: Usage::new(tokens, 0),
        provider: cfg.id.clone(),
        cost: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::AdapterKind;

    #[test]
    fn body_defaults_input_type_and_asks_for_floats() {
        let req = EmbeddingRequest::new("cohere/embed-v4.0", vec!["a", "b"]);
        let v: Value = serde_json::from_slice(&body("embed-v4.0", &req).unwrap()).unwrap();
        assert_eq!(
            v,
            json!({"model": "embed-v4.0", "texts": ["a", "b"], "input_type": "search_document", "embedding_types": ["float"]})
        );
        let mut req = EmbeddingRequest::new("m", "q");
        req.input_type = Some("search_query".into());
        req.dimensions = Some(256);
        req.extra.insert("truncate".into(), json!("END"));
        let v: Value = serde_json::from_slice(&body("embed-v4.0", &req).unwrap()).unwrap();
        assert_eq!(v["input_type"], "search_query");
        assert_eq!(v["output_dimension"], 256);
        assert_eq!(v["truncate"], "END");
    }

    /// The response shape of Cohere's v2 embed reference.
    #[test]
    fn parses_reference_response() {
        let cfg = ProviderConfig {
            id: "cohere".into(),
            kind: AdapterKind::Cohere,
            base_url: String::new(),
            api_key: None,
        };
        let body = br#"{"id":"da6e531f-54c6-4a73-bf92-f60566d8d753","embeddings":{"float":[[0.016296387,-0.008354187],[0.1,0.2]]},"texts":["hello","goodbye"],"meta":{"api_version":{"version":"2"},"billed_units":{"input_tokens":2}},"response_type":"embeddings_by_type"}"#;
        let r = parse(&cfg, body).unwrap();
        assert_eq!(r.data.len(), 2);
        assert_eq!(r.data[1].index, 1);
        assert_eq!(r.data[0].embedding, vec![0.016296387, -0.008354187]);
        assert_eq!(r.usage.prompt_tokens, 2);
    }
}
