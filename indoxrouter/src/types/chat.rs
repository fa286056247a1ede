//! Chat completions: request, response and stream chunks.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::lenient::lenient_enum;
use super::message::{Message, Role, ToolCall, function_type};
use super::usage::Usage;
use crate::cost::CostBreakdown;

/// A chat request in OpenAI's shape. `model` is `provider/model` or a bare catalog id.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ChatRequest {
    /// `provider/model`, e.g. `openai/gpt-4o-mini`.
    pub model: String,
    /// The conversation.
    pub messages: Vec<Message>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    /// Upper bound on generated tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<Stop>,
    /// Seed for best-effort determinism.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Number of choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// Presence penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f32>,
    /// Frequency penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f32>,
    /// Tools the model may call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// Whether and which tool must be called.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Allow several tool calls in one turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// JSON mode or structured output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<ResponseFormat>,
    /// Reasoning effort for reasoning models (`low`, `medium`, `high`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// End-user id, forwarded for abuse monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Models to try, in order, if this one fails (not sent upstream).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// Provider-specific fields, sent upstream verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    /// The output cap the caller asked for: `max_tokens`, or
    /// `max_completion_tokens` passed through `extra`.
    pub fn max_output_tokens(&self) -> Option<u64> {
        requested_max_output(self.max_tokens, &self.extra)
    }

    /// A request for `model` with `messages` and default options.
    pub fn new(model: impl Into<String>, messages: Vec<Message>) -> Self {
        ChatRequest {
            model: model.into(),
            messages,
            ..Default::default()
        }
    }

    /// Sets the temperature.
    pub fn temperature(mut self, t: f32) -> Self {
        self.temperature = Some(t);
        self
    }

    /// Sets `max_tokens`.
    pub fn max_tokens(mut self, n: u32) -> Self {
        self.max_tokens = Some(n);
        self
    }

    /// Sets the tools.
    pub fn tools(mut self, tools: Vec<Tool>) -> Self {
        self.tools = Some(tools);
        self
    }

    /// Sets the tool choice.
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.tool_choice = Some(choice);
        self
    }

    /// Sets the response format.
    pub fn response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = Some(format);
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: i64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets the fallback models.
    pub fn fallbacks<I, S>(mut self, models: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fallbacks = models.into_iter().map(Into::into).collect();
        self
    }
}

/// Stop sequences: one string or several.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Stop {
    /// One sequence.
    One(String),
    /// Several sequences.
    Many(Vec<String>),
}

impl Stop {
    /// The sequences as a slice-like list.
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Stop::One(s) => vec![s.clone()],
            Stop::Many(v) => v.clone(),
        }
    }

    /// The sequences, borrowed.
    pub fn as_strs(&self) -> Vec<&str> {
        match self {
            Stop::One(s) => vec![s.as_str()],
            Stop::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// `max_tokens`, or OpenAI's newer `max_completion_tokens` when a caller
/// passed it through `extra`.
pub(crate) fn requested_max_output(
    max_tokens: Option<u32>,
    extra: &Map<String, Value>,
) -> Option<u64> {
    max_tokens
        .map(u64::from)
        .or_else(|| extra.get("max_completion_tokens").and_then(Value::as_u64))
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Always `function` today.
    #[serde(rename = "type", default = "function_type")]
    pub kind: String,
    /// The function's name, description and JSON Schema parameters.
    pub function: FunctionDef,
}

impl Tool {
    /// A function tool.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Self {
        Tool {
            kind: function_type(),
            function: FunctionDef {
                name: name.into(),
                description: Some(description.into()),
                parameters: Some(parameters),
                strict: None,
            },
        }
    }
}

/// A function definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionDef {
    /// Name the model calls it by.
    pub name: String,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Strict schema adherence (OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// Whether the model must, may or must not call tools.
#[derive(Debug, Clone, PartialEq)]
pub enum ToolChoice {
    /// `"none"`.
    None,
    /// `"auto"`.
    Auto,
    /// `"required"` (Anthropic/Mistral call it `any`).
    Required,
    /// Call this function.
    Function(String),
    /// A value this version does not model, kept verbatim.
    Other(Value),
}

impl Serialize for ToolChoice {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ToolChoice::None => s.serialize_str("none"),
            ToolChoice::Auto => s.serialize_str("auto"),
            ToolChoice::Required => s.serialize_str("required"),
            ToolChoice::Function(name) => serde_json::json!({
                "type": "function",
                "function": {"name": name}
            })
            .serialize(s),
            ToolChoice::Other(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(match &v {
            Value::String(s) => match s.as_str() {
                "none" => ToolChoice::None,
                "auto" => ToolChoice::Auto,
                "required" | "any" => ToolChoice::Required,
                _ => ToolChoice::Other(v),
            },
            Value::Object(o) => match o
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
            {
                Some(name) => ToolChoice::Function(name.to_owned()),
                None => ToolChoice::Other(v),
            },
            _ => ToolChoice::Other(v),
        })
    }
}

/// JSON mode or structured output.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseFormat {
    /// Plain text (the default).
    Text,
    /// Any valid JSON object.
    JsonObject,
    /// JSON matching a schema.
    JsonSchema {
        /// Schema name.
        name: String,
        /// The JSON Schema.
        schema: Value,
        /// Strict adherence.
        strict: Option<bool>,
    },
    /// A format this version does not model, kept verbatim.
    Other(Value),
}

impl Serialize for ResponseFormat {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ResponseFormat::Text => serde_json::json!({"type": "text"}).serialize(s),
            ResponseFormat::JsonObject => serde_json::json!({"type": "json_object"}).serialize(s),
            ResponseFormat::JsonSchema {
                name,
                schema,
                strict,
            } => {
                let mut js = Map::new();
                js.insert("name".into(), Value::String(name.clone()));
                js.insert("schema".into(), schema.clone());
                if let Some(strict) = strict {
                    js.insert("strict".into(), Value::Bool(*strict));
                }
                serde_json::json!({"type": "json_schema", "json_schema": js}).serialize(s)
            }
            ResponseFormat::Other(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ResponseFormat {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Ok(match v.get("type").and_then(Value::as_str) {
            Some("text") => ResponseFormat::Text,
            Some("json_object") => ResponseFormat::JsonObject,
            Some("json_schema") => {
                let js = v.get("json_schema");
                match js.and_then(|j| j.get("schema")) {
                    Some(schema) => ResponseFormat::JsonSchema {
                        name: js
                            .and_then(|j| j.get("name"))
                            .and_then(Value::as_str)
                            .unwrap_or("response")
                            .to_owned(),
                        schema: schema.clone(),
                        strict: js.and_then(|j| j.get("strict")).and_then(Value::as_bool),
                    },
                    None => ResponseFormat::Other(v),
                }
            }
            _ => ResponseFormat::Other(v),
        })
    }
}

lenient_enum! {
    /// Why generation stopped.
    pub enum FinishReason {
        /// Natural end or a stop sequence.
        Stop => "stop",
        /// Hit `max_tokens`.
        Length => "length",
        /// The model called tools.
        ToolCalls => "tool_calls",
        /// Filtered by the provider.
        ContentFilter => "content_filter",
        /// Legacy function calling.
        FunctionCall => "function_call",
    }
}

/// A complete chat response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatResponse {
    /// Provider's response id.
    #[serde(default)]
    pub id: String,
    /// `chat.completion`.
    #[serde(default = "chat_object")]
    pub object: String,
    /// Unix seconds.
    #[serde(default)]
    pub created: u64,
    /// Model that answered, as the provider names it.
    #[serde(default)]
    pub model: String,
    /// The answers.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Token usage.
    #[serde(default)]
    pub usage: Usage,
    /// Backend configuration fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Service tier that served the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Which configured provider answered (set by the client).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider: String,
    /// Exact cost, when the catalog prices the model; `None` means unpriced, not free.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostBreakdown>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn chat_object() -> String {
    "chat.completion".to_owned()
}

impl ChatResponse {
    /// Text of the first choice, if any.
    pub fn text(&self) -> Option<&str> {
        match self.choices.first()?.message.content.as_ref()? {
            super::message::Content::Text(t) => Some(t),
            super::message::Content::Parts(_) => None,
        }
    }

    /// Tool calls of the first choice.
    pub fn tool_calls(&self) -> &[ToolCall] {
        self.choices
            .first()
            .and_then(|c| c.message.tool_calls.as_deref())
            .unwrap_or(&[])
    }
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Position among the choices.
    #[serde(default)]
    pub index: u32,
    /// The assistant message.
    pub message: Message,
    /// Why it stopped (`None` if the provider did not say).
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// Log probabilities, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
}

/// One streamed chunk, in OpenAI's `chat.completion.chunk` shape.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ChatChunk {
    /// Response id (same across chunks).
    #[serde(default)]
    pub id: String,
    /// `chat.completion.chunk`.
    #[serde(default = "chunk_object")]
    pub object: String,
    /// Unix seconds.
    #[serde(default)]
    pub created: u64,
    /// Model that answered.
    #[serde(default)]
    pub model: String,
    /// Deltas, one per choice index present in this chunk.
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    /// Usage, on the chunk that carries it (usually the last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Backend configuration fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_fingerprint: Option<String>,
    /// Service tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// Which configured provider answered (set by the client).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider: String,
    /// Exact cost, set on the chunk that carries usage when the model is priced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostBreakdown>,
    /// Fields this version does not model (e.g. Groq's `x_groq`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn chunk_object() -> String {
    "chat.completion.chunk".to_owned()
}

/// A delta for one choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// Choice index.
    #[serde(default)]
    pub index: u32,
    /// What was added.
    #[serde(default)]
    pub delta: Delta,
    /// Set on the choice's last chunk.
    #[serde(default)]
    pub finish_reason: Option<FinishReason>,
    /// Log probabilities, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Value>,
}

/// Incremental message content.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Delta {
    /// Set on the first delta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Text added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Reasoning text added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_content: Option<String>,
    /// Tool-call fragments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_calls: Option<Vec<ToolCallDelta>>,
    /// Refusal text added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
}

/// A fragment of a tool call; fragments with the same `index` concatenate.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ToolCallDelta {
    /// Which call within the message.
    #[serde(default)]
    pub index: u32,
    /// Present on the first fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `function`, on the first fragment.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name and argument fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
}

/// Name (first fragment) and a piece of the JSON arguments.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FunctionCallDelta {
    /// Function name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Argument text to append.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}

super::extra::deserialize_with_extra!(ChatRequest, "a chat request", extra, {
    model: String = "model" => required,
    messages: Vec<Message> = "messages" => required,
    temperature: Option<f32> = "temperature" => default,
    top_p: Option<f32> = "top_p" => default,
    max_tokens: Option<u32> = "max_tokens" => default,
    stop: Option<Stop> = "stop" => default,
    seed: Option<i64> = "seed" => default,
    n: Option<u32> = "n" => default,
    presence_penalty: Option<f32> = "presence_penalty" => default,
    frequency_penalty: Option<f32> = "frequency_penalty" => default,
    tools: Option<Vec<Tool>> = "tools" => default,
    tool_choice: Option<ToolChoice> = "tool_choice" => default,
    parallel_tool_calls: Option<bool> = "parallel_tool_calls" => default,
    response_format: Option<ResponseFormat> = "response_format" => default,
    reasoning_effort: Option<String> = "reasoning_effort" => default,
    user: Option<String> = "user" => default,
    fallbacks: Vec<String> = "fallbacks" => default,
});

super::extra::deserialize_with_extra!(ChatResponse, "a chat completion", extra, {
    id: String = "id" => default,
    object: String = "object" => (with chat_object),
    created: u64 = "created" => default,
    model: String = "model" => default,
    choices: Vec<Choice> = "choices" => default,
    usage: Usage = "usage" => default,
    system_fingerprint: Option<String> = "system_fingerprint" => default,
    service_tier: Option<String> = "service_tier" => default,
    provider: String = "provider" => default,
    cost: Option<CostBreakdown> = "cost" => default,
});

super::extra::deserialize_with_extra!(ChatChunk, "a chat completion chunk", extra, {
    id: String = "id" => default,
    object: String = "object" => (with chunk_object),
    created: u64 = "created" => default,
    model: String = "model" => default,
    choices: Vec<ChunkChoice> = "choices" => default,
    usage: Option<Usage> = "usage" => default,
    system_fingerprint: Option<String> = "system_fingerprint" => default,
    service_tier: Option<String> = "service_tier" => default,
    provider: String = "provider" => default,
    cost: Option<CostBreakdown> = "cost" => default,
});
