//! Embeddings through `:batchEmbedContents` (one request per input text).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::provider::ProviderConfig;
use crate::types::{Embedding, EmbeddingRequest, EmbeddingResponse, Usage};

/// OpenAI/Cohere-style purposes as Gemini task types; anything else is
/// passed through upper-cased (`RETRIEVAL_QUERY`, `CODE_RETRIEVAL_QUERY`…).
fn task_type(input_type: &str) -> String {
    match input_type {
        "search_document" | "document" => "RETRIEVAL_DOCUMENT".into(),
        "search_query" | "query" => "RETRIEVAL_QUERY".into(),
        "classification" => "CLASSIFICATION".into(),
        "clustering" => "CLUSTERING".into(),
        "semantic_similarity" => "SEMANTIC_SIMILARITY".into(),
        other => other.to_ascii_uppercase(),
    }
}

pub(super) fn body(model: &str, req: &EmbeddingRequest) -> Result<Vec<u8>> {
    let texts = req.input.as_vec();
    if texts.is_empty() {
        return Err(Error::InvalidRequest {
            provider: None,
            message: "`input` must contain at least one text".into(),
            param: Some("input".into()),
        });
    }
    let name = format!("models/{model}");
    let task = req.input_type.as_deref().map(task_type);
    let requests: Vec<Value> = texts
        .iter()
        .map(|t| {
            let mut r = json!({"model": name, "content": {"parts": [{"text": t}]}});
            if let Value::Object(m) = &mut r {
                if let Some(task) = &task {
                    m.insert("taskType".into(), Value::from(task.as_str()));
                }
                if let Some(d) = req.dimensions {
                    m.insert("outputDimensionality".into(), Value::from(d));
                }
            }
            r
        })
        .collect();
    serde_json::to_vec(&json!({"requests": requests}))
        .map_err(|e| Error::invalid(format!("request not serializable: {e}")))
}

#[derive(Deserialize)]
struct WireEmbedding {
    #[serde(default)]
    values: Vec<f32>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBatch {
    #[serde(default)]
    embeddings: Vec<WireEmbedding>,
    #[serde(default)]
    usage_metadata: Option<WireEmbedUsage>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEmbedUsage {
    #[serde(default)]
    prompt_token_count: u64,
}

pub(super) fn parse(cfg: &ProviderConfig, body: &[u8]) -> Result<EmbeddingResponse> {
    let wire: WireBatch = crate::provider::decode_json(&cfg.id, body)?;
    let data = wire
        .embeddings
        .into_iter()
        .enumerate()
        .map(|(i, e)| Embedding {
            object: "embedding".into(),
            index: u32::try_from(i).unwrap_or(u32::MAX),
            embedding: e.values,
        })
        .collect();
    Ok(EmbeddingResponse {
        object: "list".into(),
        data,
        model: String::new(),
        // Older API versions report no token count: that leaves the
        // response unpriced rather than free.
        usage: Usage::new(wire.usage_metadata.map_or(0, |u| u.prompt_token_count), 0),
        provider: cfg.id.clone(),
        cost: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::AdapterKind;

    #[test]
    fn batch_body_with_task_type_and_dimensions() {
        let mut req = EmbeddingRequest::new("google/gemini-embedding-001", vec!["a", "b"]);
        req.input_type = Some("search_query".into());
        req.dimensions = Some(768);
        let v: Value =
            serde_json::from_slice(&body("gemini-embedding-001", &req).unwrap()).unwrap();
        assert_eq!(
            v["requests"][1],
            json!({"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "b"}]}, "taskType": "RETRIEVAL_QUERY", "outputDimensionality": 768})
        );
        assert_eq!(task_type("code_retrieval_query"), "CODE_RETRIEVAL_QUERY");
    }

    #[test]
    fn parses_batch_response() {
        let cfg = ProviderConfig {
            id: "google".into(),
            kind: AdapterKind::Google,
            base_url: String::new(),
            api_key: None,
        };
        let r = parse(&cfg, br#"{"embeddings":[{"values":[0.1,0.2]},{"values":[0.3,0.4]}],"usageMetadata":{"promptTokenCount":4}}"#).unwrap();
        assert_eq!(r.data.len(), 2);
        assert_eq!(r.data[1].index, 1);
        assert_eq!(r.data[1].embedding, vec![0.3, 0.4]);
        assert_eq!(r.usage.prompt_tokens, 4);
        let r = parse(&cfg, br#"{"embeddings":[{"values":[1.0]}]}"#).unwrap();
        assert!(r.usage.is_empty());
    }
}
