//! Legacy text completions (`/v1/completions`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::chat::{FinishReason, Stop};
use super::usage::Usage;
use crate::cost::CostBreakdown;

/// A text-completion request.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct CompletionRequest {
    /// `provider/model`.
    pub model: String,
    /// The prompt.
    pub prompt: Prompt,
    /// Upper bound on generated tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Number of completions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// End-user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Models to try, in order, if this one fails (not sent upstream).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// Provider-specific fields, sent upstream verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CompletionRequest {
    /// The output cap the caller asked for: `max_tokens`, or
    /// `max_completion_tokens` passed through `extra`.
    pub fn max_output_tokens(&self) -> Option<u64> {
        super::chat::requested_max_output(self.max_tokens, &self.extra)
    }

    /// A request for `model` completing `prompt`.
    pub fn new(model: impl Into<String>, prompt: impl Into<String>) -> Self {
        CompletionRequest {
            model: model.into(),
            prompt: Prompt::One(prompt.into()),
            ..Default::default()
        }
    }

    /// Sets `max_tokens`.
    pub fn max_tokens(mut self, n: u32) -> Self {
        self.max_tokens = Some(n);
        self
    }
}

/// One prompt or a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Prompt {
    /// One prompt.
    One(String),
    /// Several prompts; choices come back per prompt × n.
    Many(Vec<String>),
}

impl Default for Prompt {
    fn default() -> Self {
        Prompt::One(String::new())
    }
}

impl Prompt {
    /// The prompts as a list.
    pub fn as_vec(&self) -> Vec<&str> {
        match self {
            Prompt::One(p) => vec![p.as_str()],
            Prompt::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// A text-completion response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompletionResponse {
    /// Response id.
    #[serde(default)]
    pub id: String,
    /// `text_completion`.
    #[serde(default = "completion_object")]
    pub object: String,
    /// Unix seconds.
    #[serde(default)]
    pub created: u64,
    /// Model that answered.
    #[serde(default)]
    pub model: String,
    /// The completions.
    #[serde(default)]
    pub choices: Vec<CompletionChoice>,
    /// Token usage.
    #[serde(default)]
    pub usage: Usage,
    /// Which configured provider answered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider: String,
    /// Exact cost when priced; `None` means unpriced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostBreakdown>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn completion_object() -> String {
    "text_completion".to_owned()
}

impl CompletionResponse {
    /// Text of the first choice.
    pub fn text(&self) -> Option<&str> {
        self.choices.first().map(|c| c.text.as_str())
    }
}

/// One completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionChoice {
    /// The generated text.
    #[serde(default)]
    pub text: String,
    /// Position.
    #[serde(default)]
    pub index: u32,
    /// Why it stopped.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// Log probabilities, verbatim.
    #[serde(default)]
    pub logprobs: Option<Value>,
}

super::extra::deserialize_with_extra!(CompletionRequest, "a completion request", extra, {
    model: String = "model" => required,
    prompt: Prompt = "prompt" => required,
    max_tokens: Option<u32> = "max_tokens" => default,
    temperature: Option<f32> = "temperature" => default,
    top_p: Option<f32> = "top_p" => default,
    n: Option<u32> = "n" => default,
    stop: Option<Stop> = "stop" => default,
    seed: Option<i64> = "seed" => default,
    user: Option<String> = "user" => default,
    fallbacks: Vec<String> = "fallbacks" => default,
});

super::extra::deserialize_with_extra!(CompletionResponse, "a text completion", extra, {
    id: String = "id" => default,
    object: String = "object" => (with completion_object),
    created: u64 = "created" => default,
    model: String = "model" => default,
    choices: Vec<CompletionChoice> = "choices" => default,
    usage: Usage = "usage" => default,
    provider: String = "provider" => default,
    cost: Option<CostBreakdown> = "cost" => default,
});
