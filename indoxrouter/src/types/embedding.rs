//! Embeddings.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::usage::Usage;
use crate::cost::CostBreakdown;

/// An embeddings request.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct EmbeddingRequest {
    /// `provider/model`.
    pub model: String,
    /// Text(s) to embed.
    pub input: EmbeddingInput,
    /// Output dimensions, for models that can shorten vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// Purpose of the embedding (Cohere/Gemini `input_type`/`taskType`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_type: Option<String>,
    /// End-user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Models to try, in order, if this one fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// Provider-specific fields, sent upstream verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl EmbeddingRequest {
    /// Embeds one text.
    pub fn new(model: impl Into<String>, input: impl Into<EmbeddingInput>) -> Self {
        EmbeddingRequest {
            model: model.into(),
            input: input.into(),
            ..Default::default()
        }
    }
}

/// One text or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EmbeddingInput {
    /// One text.
    One(String),
    /// A batch.
    Many(Vec<String>),
}

impl Default for EmbeddingInput {
    fn default() -> Self {
        EmbeddingInput::Many(Vec::new())
    }
}

impl From<&str> for EmbeddingInput {
    fn from(s: &str) -> Self {
        EmbeddingInput::One(s.to_owned())
    }
}

impl From<String> for EmbeddingInput {
    fn from(s: String) -> Self {
        EmbeddingInput::One(s)
    }
}

impl From<Vec<String>> for EmbeddingInput {
    fn from(v: Vec<String>) -> Self {
        EmbeddingInput::Many(v)
    }
}

impl From<Vec<&str>> for EmbeddingInput {
    fn from(v: Vec<&str>) -> Self {
        EmbeddingInput::Many(v.into_iter().map(str::to_owned).collect())
    }
}

impl EmbeddingInput {
    /// The texts as a list.
    pub fn as_vec(&self) -> Vec<&str> {
        match self {
            EmbeddingInput::One(s) => vec![s.as_str()],
            EmbeddingInput::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }

    /// Number of texts.
    pub fn len(&self) -> usize {
        match self {
            EmbeddingInput::One(_) => 1,
            EmbeddingInput::Many(v) => v.len(),
        }
    }

    /// True when there is nothing to embed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An embeddings response, in OpenAI's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingResponse {
    /// `list`.
    #[serde(default = "list_object")]
    pub object: String,
    /// One vector per input, in input order.
    pub data: Vec<Embedding>,
    /// Model that answered.
    #[serde(default)]
    pub model: String,
    /// Input tokens (completion tokens are zero).
    #[serde(default)]
    pub usage: Usage,
    /// Which configured provider answered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider: String,
    /// Exact cost when priced; `None` means unpriced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostBreakdown>,
}

fn list_object() -> String {
    "list".to_owned()
}

/// One vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Embedding {
    /// `embedding`.
    #[serde(default = "embedding_object")]
    pub object: String,
    /// Input position.
    #[serde(default)]
    pub index: u32,
    /// The vector.
    pub embedding: Vec<f32>,
}

fn embedding_object() -> String {
    "embedding".to_owned()
}

super::extra::deserialize_with_extra!(EmbeddingRequest, "an embeddings request", extra, {
    model: String = "model" => required,
    input: EmbeddingInput = "input" => required,
    dimensions: Option<u32> = "dimensions" => default,
    input_type: Option<String> = "input_type" => default,
    user: Option<String> = "user" => default,
    fallbacks: Vec<String> = "fallbacks" => default,
});
