//! Provider-neutral chat behaviour: what the "model" replies and what it costs.
//!
//! OpenAI, Mistral and Cohere speak this message/tool dialect directly;
//! Anthropic's and Gemini's modules translate their requests into it. So one
//! planner serves every provider, and each module only validates the request
//! its own way and renders the plan in its own wire format.

use serde_json::{Map, Value};

use crate::tokens::{
    IMAGE_TOKENS, MEDIA_TOKENS, MESSAGE_OVERHEAD, REPLY_PRIMING, TOOL_OVERHEAD, count_tokens,
    first_words,
};

/// The parts of a chat request that shape the reply.
pub(crate) struct ChatRequest<'a> {
    pub messages: &'a [Value],
    pub tools: &'a [Value],
    pub tool_choice: Option<&'a Value>,
    pub max_tokens: Option<u64>,
    pub stop: &'a [String],
    pub n: u64,
    pub json_mode: bool,
    /// Multiplies the reported usage (the `overreport` fault); 1 normally.
    pub usage_factor: u64,
    /// Report the most output the request permits (the `max_usage` fault).
    pub max_usage: bool,
}

/// What one choice says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Output {
    Text(String),
    ToolCall { name: String, arguments: String },
}

/// One choice with its finish reason and visible completion tokens.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Choice {
    pub output: Output,
    pub finish_reason: &'static str,
    pub tokens: u64,
}

/// The whole response, before a provider renders it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub prompt_tokens: u64,
    /// Visible completion tokens summed over all choices.
    pub completion_tokens: u64,
    pub choices: Vec<Choice>,
    /// `completion_tokens` is the request's whole output limit (the
    /// `max_usage` fault): hidden tokens a provider adds fall inside it.
    pub maxed: bool,
}

/// Text and image count of a message's `content`, which may be a string or an
/// array of parts.
pub(crate) struct Content {
    pub texts: Vec<String>,
    pub images: u64,
    /// File, audio, video and document parts.
    pub media: u64,
}

impl Content {
    pub(crate) fn joined(&self) -> String {
        self.texts.join(" ")
    }

    fn tokens(&self) -> u64 {
        self.texts.iter().map(|t| count_tokens(t)).sum::<u64>()
            + self.images * IMAGE_TOKENS
            + self.media * MEDIA_TOKENS
    }
}

pub(crate) fn read_content(content: Option<&Value>) -> Content {
    let mut out = Content {
        texts: Vec::new(),
        images: 0,
        media: 0,
    };
    match content {
        Some(Value::String(text)) => out.texts.push(text.clone()),
        Some(Value::Array(parts)) => {
            for part in parts {
                match part {
                    Value::String(text) => out.texts.push(text.clone()),
                    Value::Object(obj) => match obj.get("type").and_then(Value::as_str) {
                        Some("image_url" | "image" | "input_image") => out.images += 1,
                        Some(
                            "file" | "input_file" | "input_audio" | "audio" | "video" | "document"
                            | "media",
                        ) => out.media += 1,
                        _ => {
                            if let Some(text) = obj.get("text").and_then(Value::as_str) {
                                out.texts.push(text.to_owned());
                            }
                        }
                    },
                    _ => {}
                }
            }
        }
        _ => {}
    }
    out
}

fn role(message: &Value) -> Option<&str> {
    message.get("role").and_then(Value::as_str)
}

/// Tool-call arguments may arrive as a JSON string (OpenAI) or an object
/// (Mistral accepts both); either way we count the string form.
fn arguments_text(arguments: Option<&Value>) -> String {
    match arguments {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Prompt tokens for a chat request; see the crate docs for the formula.
pub(crate) fn prompt_tokens(messages: &[Value], tools: &[Value]) -> u64 {
    let mut total = REPLY_PRIMING;
    for message in messages {
        total += MESSAGE_OVERHEAD + read_content(message.get("content")).tokens();
        if let Some(name) = message.get("name").and_then(Value::as_str) {
            total += count_tokens(name);
        }
        if let Some(calls) = message.get("tool_calls").and_then(Value::as_array) {
            for call in calls {
                let function = call.get("function");
                let name = function
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let arguments = arguments_text(function.and_then(|f| f.get("arguments")));
                total += count_tokens(name) + count_tokens(&arguments);
            }
        }
    }
    for function in functions(tools) {
        let description = function
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let properties = function
            .get("parameters")
            .and_then(|p| p.get("properties"))
            .and_then(Value::as_object)
            .map_or(0, |p| p.len() as u64);
        total += TOOL_OVERHEAD + count_tokens(description) + properties;
    }
    total
}

/// The `function` objects of well-formed tool definitions.
fn functions(tools: &[Value]) -> Vec<&Value> {
    tools
        .iter()
        .filter_map(|tool| tool.get("function"))
        .filter(|f| f.get("name").and_then(Value::as_str).is_some())
        .collect()
}

fn function_name(function: &Value) -> &str {
    function.get("name").and_then(Value::as_str).unwrap_or("")
}

/// The tool the model "decides" to call, if any.
fn chosen_tool<'a>(request: &ChatRequest<'a>) -> Option<&'a Value> {
    let available = functions(request.tools);
    let first = *available.first()?;
    if request.messages.last().and_then(role) != Some("user") {
        return None;
    }
    match request.tool_choice {
        Some(Value::String(choice)) if choice == "none" => None,
        Some(Value::Object(choice)) => {
            let wanted = choice
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str);
            Some(
                available
                    .into_iter()
                    .find(|f| Some(function_name(f)) == wanted)
                    .unwrap_or(first),
            )
        }
        _ => Some(first),
    }
}

/// A stand-in value for a JSON-schema property.
fn placeholder(schema: Option<&Value>) -> Value {
    let Some(schema) = schema else {
        return Value::from("sample");
    };
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return first.clone();
    }
    if let Some(constant) = schema.get("const") {
        return constant.clone();
    }
    let kind = match schema.get("type") {
        Some(Value::String(kind)) => Some(kind.as_str()),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|kind| *kind != "null"),
        _ => None,
    };
    match kind {
        Some("integer" | "number") => Value::from(1),
        Some("boolean") => Value::Bool(true),
        Some("array") => Value::Array(Vec::new()),
        Some("object") => Value::Object(Map::new()),
        Some("null") => Value::Null,
        _ => Value::from("sample"),
    }
}

/// Arguments holding a placeholder for every `required` property.
fn placeholder_arguments(function: &Value) -> String {
    let parameters = function.get("parameters");
    let properties = parameters.and_then(|p| p.get("properties"));
    let mut required: Vec<&str> = parameters
        .and_then(|p| p.get("required"))
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    // Sorted explicitly so the output doesn't depend on whether serde_json's
    // `preserve_order` feature is enabled somewhere in the workspace.
    required.sort_unstable();
    required.dedup();
    let mut args = Map::new();
    for name in required {
        args.insert(
            name.to_owned(),
            placeholder(properties.and_then(|p| p.get(name))),
        );
    }
    Value::Object(args).to_string()
}

/// The simulator's reply text for a conversation; see the crate docs.
pub(crate) fn reply_text(messages: &[Value]) -> String {
    let mut words: Vec<String> = Vec::new();
    let push_words = |words: &mut Vec<String>, text: &str| {
        words.extend(text.split_whitespace().map(str::to_owned));
    };
    if let Some(last) = messages.last().filter(|m| role(m) == Some("tool")) {
        push_words(&mut words, "Tool result received:");
        push_words(&mut words, &read_content(last.get("content")).joined());
    } else {
        push_words(&mut words, "Hello from the simulator. You said:");
        let content = messages
            .iter()
            .rev()
            .find(|m| role(m) == Some("user"))
            .map(|m| read_content(m.get("content")));
        if let Some(content) = content {
            push_words(&mut words, &content.joined());
            if content.images > 0 {
                let noun = if content.images == 1 {
                    "image."
                } else {
                    "images."
                };
                push_words(&mut words, &format!("I see {} {noun}", content.images));
            }
        }
    }
    words.join(" ")
}

/// Applies `stop` (cut at the earliest match) and then `max_tokens` (keep
/// that many words) to a reply.
pub(crate) fn apply_limits(
    mut content: String,
    stop: &[String],
    max_tokens: Option<u64>,
) -> (String, &'static str) {
    let cut = stop
        .iter()
        .filter(|s| !s.is_empty())
        .filter_map(|s| content.find(s.as_str()))
        .min();
    if let Some(at) = cut {
        content.truncate(at);
    }
    match max_tokens {
        Some(max) if count_tokens(&content) > max => (first_words(&content, max), "length"),
        _ => (content, "stop"),
    }
}

/// Decides every choice of a chat response.
pub(crate) fn plan(request: &ChatRequest<'_>) -> Plan {
    let prompt_tokens = prompt_tokens(request.messages, request.tools);
    let choice = match chosen_tool(request) {
        Some(function) => {
            let name = function_name(function).to_owned();
            let arguments = placeholder_arguments(function);
            let tokens = count_tokens(&name) + count_tokens(&arguments);
            Choice {
                output: Output::ToolCall { name, arguments },
                finish_reason: "tool_calls",
                tokens,
            }
        }
        None => {
            let mut text = reply_text(request.messages);
            if request.json_mode {
                text = serde_json::json!({ "reply": text }).to_string();
            }
            let (text, finish_reason) = apply_limits(text, request.stop, request.max_tokens);
            Choice {
                tokens: count_tokens(&text),
                output: Output::Text(text),
                finish_reason,
            }
        }
    };
    let n = request.n.max(1);
    let factor = request.usage_factor.max(1);
    let maxed = request.max_usage && request.max_tokens.is_some();
    let per_choice = match request.max_tokens {
        Some(max) if maxed => max,
        _ => choice.tokens,
    };
    Plan {
        prompt_tokens: prompt_tokens.saturating_mul(factor),
        completion_tokens: per_choice.saturating_mul(n).saturating_mul(factor),
        choices: vec![choice; usize::try_from(n).unwrap_or(1)],
        maxed,
    }
}

/// Streaming pieces of a text: the first word, then each following word with
/// its leading space, so concatenating them restores the text exactly.
pub(crate) fn text_pieces(text: &str) -> Vec<String> {
    text.split(' ')
        .enumerate()
        .map(|(i, word)| {
            if i == 0 {
                word.to_owned()
            } else {
                format!(" {word}")
            }
        })
        .filter(|piece| !piece.is_empty())
        .collect()
}

/// Tool-call arguments split into 8-character fragments, the way providers
/// stream them in several deltas.
pub(crate) fn argument_fragments(arguments: &str) -> Vec<String> {
    let chars: Vec<char> = arguments.chars().collect();
    chars.chunks(8).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request<'a>(messages: &'a [Value], tools: &'a [Value]) -> ChatRequest<'a> {
        ChatRequest {
            messages,
            tools,
            tool_choice: None,
            max_tokens: None,
            stop: &[],
            n: 1,
            json_mode: false,
            usage_factor: 1,
            max_usage: false,
        }
    }

    #[test]
    fn hand_computed_example() {
        let messages = [
            json!({"role": "system", "content": "You are terse."}),
            json!({"role": "user", "content": "Say hello to the world"}),
        ];
        let plan = plan(&request(&messages, &[]));
        assert_eq!(plan.prompt_tokens, 3 + (4 + 3) + (4 + 5));
        assert_eq!(
            plan.choices[0].output,
            Output::Text("Hello from the simulator. You said: Say hello to the world".into())
        );
        assert_eq!(plan.completion_tokens, 11);
    }

    #[test]
    fn images_are_counted_and_mentioned() {
        let messages = [json!({"role": "user", "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            {"type": "image_url", "image_url": "https://example.com/a.png"},
        ]})];
        assert_eq!(prompt_tokens(&messages, &[]), 3 + 4 + 3 + 2 * 85);
        assert_eq!(
            reply_text(&messages),
            "Hello from the simulator. You said: What is this? I see 2 images."
        );
    }

    #[test]
    fn tool_call_uses_required_placeholders() {
        let tools = [json!({"type": "function", "function": {
            "name": "get_weather",
            "description": "Get the weather",
            "parameters": {"type": "object", "properties": {
                "city": {"type": "string"}, "days": {"type": "integer"},
                "unit": {"type": "string", "enum": ["c", "f"]}, "verbose": {"type": "boolean"}
            }, "required": ["unit", "city", "days"]}
        }})];
        let messages = [json!({"role": "user", "content": "weather?"})];
        let plan = plan(&request(&messages, &tools));
        assert_eq!(plan.prompt_tokens, 3 + 4 + 1 + 8 + 3 + 4);
        assert_eq!(
            plan.choices[0].output,
            Output::ToolCall {
                name: "get_weather".into(),
                arguments: r#"{"city":"sample","days":1,"unit":"c"}"#.into()
            }
        );
        assert_eq!(plan.choices[0].finish_reason, "tool_calls");
        assert_eq!(plan.completion_tokens, 2);
    }

    #[test]
    fn tool_result_gets_acknowledged() {
        let messages = [
            json!({"role": "user", "content": "weather?"}),
            json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "w", "arguments": "{}"}}
            ]}),
            json!({"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21C"}),
        ];
        let tools = [json!({"type": "function", "function": {"name": "w"}})];
        let plan = plan(&request(&messages, &tools));
        assert_eq!(
            plan.choices[0].output,
            Output::Text("Tool result received: sunny, 21C".into())
        );
    }

    #[test]
    fn stop_then_max_tokens() {
        let (text, finish) = apply_limits("a b c d".into(), &["c".into()], None);
        assert_eq!((text.as_str(), finish), ("a b ", "stop"));
        let (text, finish) = apply_limits("a b c d".into(), &[], Some(2));
        assert_eq!((text.as_str(), finish), ("a b", "length"));
    }

    #[test]
    fn pieces_reassemble() {
        for text in [
            "Hello from the simulator.",
            "a b ",
            "",
            "{\"reply\":\"x y\"}",
        ] {
            assert_eq!(text_pieces(text).concat(), text);
        }
        assert_eq!(
            argument_fragments("{\"city\":\"sample\"}").concat(),
            "{\"city\":\"sample\"}"
        );
    }
}
