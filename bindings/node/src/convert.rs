//! JavaScript values ⇄ the core's serde types.
//!
//! Requests arrive as JSON values. Option names may be camelCase (the
//! package's documented style) or snake_case (what users copy from OpenAI
//! code); a fixed list of known camelCase names is rewritten, because a
//! general rewrite would corrupt provider-specific fields that must stay
//! camelCase (Gemini's `safetySettings`) and user-defined JSON schemas.
//! Results are serialized by the core and every key is made camelCase.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::invalid;

/// Known camelCase option and field names and the core's spelling.
const SNAKE: &[(&str, &str)] = &[
    ("maxTokens", "max_tokens"),
    ("maxCompletionTokens", "max_completion_tokens"),
    ("topP", "top_p"),
    ("presencePenalty", "presence_penalty"),
    ("frequencyPenalty", "frequency_penalty"),
    ("toolChoice", "tool_choice"),
    ("parallelToolCalls", "parallel_tool_calls"),
    ("responseFormat", "response_format"),
    ("reasoningEffort", "reasoning_effort"),
    ("reasoningContent", "reasoning_content"),
    ("toolCalls", "tool_calls"),
    ("toolCallId", "tool_call_id"),
    ("imageUrl", "image_url"),
    ("inputAudio", "input_audio"),
    ("jsonSchema", "json_schema"),
    ("inputType", "input_type"),
    ("encodingFormat", "encoding_format"),
    ("promptTokens", "prompt_tokens"),
    ("completionTokens", "completion_tokens"),
    ("totalTokens", "total_tokens"),
    ("promptTokensDetails", "prompt_tokens_details"),
    ("completionTokensDetails", "completion_tokens_details"),
    ("cachedTokens", "cached_tokens"),
    ("cacheCreationTokens", "cache_creation_tokens"),
    ("audioTokens", "audio_tokens"),
    ("imageTokens", "image_tokens"),
    ("reasoningTokens", "reasoning_tokens"),
];

/// Subtrees that are user data, never renamed: JSON schemas and
/// provider-specific fields.
const VERBATIM: &[&str] = &["parameters", "schema", "extra", "arguments"];

/// Nesting deeper than this is refused rather than overflowing the stack.
const MAX_DEPTH: usize = 128;

/// Converts a request object into a core request type.
pub(crate) fn request<T: DeserializeOwned>(mut value: Value) -> napi::Result<T> {
    let Value::Object(map) = &mut value else {
        return Err(invalid("the request must be an object"));
    };
    // `extra` holds provider-specific fields sent verbatim; the core keeps
    // unknown top-level fields in its own `extra`, so they are merged up.
    let extra = map.remove("extra");
    snake_keys(&mut value, 0)?;
    if let (Some(extra), Value::Object(map)) = (extra, &mut value) {
        match extra {
            Value::Object(fields) => map.extend(fields),
            Value::Null => {}
            _ => return Err(invalid("`extra` must be an object")),
        }
    }
    serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
}

fn snake_keys(value: &mut Value, depth: usize) -> napi::Result<()> {
    if depth > MAX_DEPTH {
        return Err(invalid("the request is nested too deeply"));
    }
    match value {
        Value::Object(map) => {
            for (camel, snake) in SNAKE {
                if let Some(v) = map.remove(*camel) {
                    // An explicit snake_case field wins over its camelCase twin.
                    map.entry(*snake).or_insert(v);
                }
            }
            for (key, child) in map.iter_mut() {
                if !VERBATIM.contains(&key.as_str()) {
                    snake_keys(child, depth + 1)?;
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                snake_keys(item, depth + 1)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Serializes a core result with camelCase keys.
pub(crate) fn result<T: Serialize>(value: &T) -> napi::Result<Value> {
    let value = serde_json::to_value(value)
        .map_err(|e| invalid(format!("internal: result not serializable: {e}")))?;
    Ok(camel_keys(value))
}

/// Keys under these are provider data passed through verbatim.
const RESULT_VERBATIM: &[&str] = &["logprobs"];

fn camel_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, child) in map {
                let child = if RESULT_VERBATIM.contains(&key.as_str()) {
                    child
                } else {
                    camel_keys(child)
                };
                out.insert(camel(key), child);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

fn camel(key: String) -> String {
    if !key.contains('_') {
        return key;
    }
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for (i, ch) in key.chars().enumerate() {
        if ch == '_' && i > 0 {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}
