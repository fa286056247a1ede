//! Messages request bodies and responses.

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::FALLBACK_MAX_TOKENS;
use crate::error::{Error, Result};
use crate::provider::{ModelLimits, ProviderConfig};
use crate::types::{
    ChatRequest, ChatResponse, Choice, Content, ContentPart, FinishReason, Message,
    PromptTokensDetails, ResponseFormat, Role, ToolCall, ToolChoice, Usage,
};

/// The body we send. Text is borrowed from the request wherever Anthropic's
/// shape allows, so building it copies little beyond the serialized bytes.
#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<System<'a>>,
    messages: Vec<Turn<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_sequences: Option<Vec<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<Vec<ToolDef<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<Metadata<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// `system`: a plain string when there is one piece, else text blocks.
enum System<'a> {
    Text(Cow<'a, str>),
    Blocks(Vec<Cow<'a, str>>),
}

impl Serialize for System<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            System::Text(t) => s.serialize_str(t),
            System::Blocks(texts) => {
                let blocks: Vec<Block<'_>> = texts
                    .iter()
                    .map(|t| Block::Text(Cow::Borrowed(t.as_ref())))
                    .collect();
                blocks.serialize(s)
            }
        }
    }
}

#[derive(Serialize)]
struct Metadata<'a> {
    user_id: &'a str,
}

#[derive(Serialize)]
struct ToolDef<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    input_schema: Cow<'a, Value>,
}

/// One user or assistant turn.
struct Turn<'a> {
    role: &'static str,
    blocks: Vec<Block<'a>>,
}

impl Serialize for Turn<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("role", self.role)?;
        match self.blocks.as_slice() {
            // The common single-text turn stays a plain string, as people write it.
            [Block::Text(t)] => m.serialize_entry("content", t)?,
            blocks => m.serialize_entry("content", blocks)?,
        }
        m.end()
    }
}

/// A content block of a request.
enum Block<'a> {
    Text(Cow<'a, str>),
    ImageBase64 {
        media_type: &'a str,
        data: &'a str,
    },
    ImageUrl(&'a str),
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: Vec<Block<'a>>,
        is_error: Option<bool>,
    },
    /// A block the caller wrote in Anthropic's own shape (document, thinking…).
    Raw(&'a Value),
}

impl Serialize for Block<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Block::Text(text) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("type", "text")?;
                m.serialize_entry("text", text)?;
                m.end()
            }
            Block::ImageBase64 { media_type, data } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("type", "image")?;
                m.serialize_entry(
                    "source",
                    &ImageSource {
                        kind: "base64",
                        media_type: Some(media_type),
                        data: Some(data),
                        url: None,
                    },
                )?;
                m.end()
            }
            Block::ImageUrl(url) => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("type", "image")?;
                m.serialize_entry(
                    "source",
                    &ImageSource {
                        kind: "url",
                        media_type: None,
                        data: None,
                        url: Some(url),
                    },
                )?;
                m.end()
            }
            Block::ToolUse { id, name, input } => {
                let mut m = s.serialize_map(Some(4))?;
                m.serialize_entry("type", "tool_use")?;
                m.serialize_entry("id", id)?;
                m.serialize_entry("name", name)?;
                m.serialize_entry("input", input)?;
                m.end()
            }
            Block::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => {
                let mut m = s.serialize_map(Some(4))?;
                m.serialize_entry("type", "tool_result")?;
                m.serialize_entry("tool_use_id", tool_use_id)?;
                match content.as_slice() {
                    [Block::Text(t)] => m.serialize_entry("content", t)?,
                    blocks => m.serialize_entry("content", blocks)?,
                }
                if let Some(is_error) = is_error {
                    m.serialize_entry("is_error", is_error)?;
                }
                m.end()
            }
            Block::Raw(v) => v.serialize(s),
        }
    }
}

#[derive(Serialize)]
struct ImageSource<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    media_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

/// Keys we always set ourselves, never taken from `extra`.
const MANAGED: &[&str] = &["model", "messages", "system", "max_tokens", "stream"];

/// OpenAI request fields with no Anthropic meaning, which the API would
/// reject as unknown; they arrive in `extra` from OpenAI-shaped callers.
const OPENAI_ONLY: &[&str] = &[
    "stream_options",
    "max_completion_tokens",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "store",
    "modalities",
    "audio",
    "prediction",
    "web_search_options",
    "functions",
    "function_call",
];

/// Appended to the system prompt for JSON mode: the Messages API has no
/// model-independent JSON switch, and every Claude model follows this.
const JSON_INSTRUCTION: &str =
    "Respond with a single valid JSON object and nothing else: no prose, no code fences.";

/// Serializes `req` for `model`.
pub(super) fn body(
    model: &str,
    limits: ModelLimits,
    req: &ChatRequest,
    stream: bool,
) -> Result<Vec<u8>> {
    if req.messages.is_empty() {
        return Err(invalid(
            "`messages` must contain at least one message",
            "messages",
        ));
    }
    if req.n.is_some_and(|n| n > 1) {
        return Err(invalid(
            "Anthropic returns one choice per request; `n` must be 1",
            "n",
        ));
    }
    let (mut system, messages) = turns(&req.messages)?;
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => system.push(Cow::Borrowed(JSON_INSTRUCTION)),
        Some(ResponseFormat::JsonSchema { schema, .. }) => system.push(Cow::Owned(format!(
            "{JSON_INSTRUCTION} It must match this JSON Schema: {schema}"
        ))),
        _ => {}
    }
    let system = match system.len() {
        0 => None,
        1 => system.pop().map(System::Text),
        _ => Some(System::Blocks(system)),
    };
    let max_tokens = req
        .max_output_tokens()
        .or(limits.max_output_tokens)
        .map_or(FALLBACK_MAX_TOKENS, saturating_u32);
    let tools = req.tools.as_ref().map(|tools| {
        tools
            .iter()
            .map(|t| ToolDef {
                name: &t.function.name,
                description: t.function.description.as_deref(),
                input_schema: match &t.function.parameters {
                    Some(p) => Cow::Borrowed(p),
                    // Anthropic requires an object schema even for no arguments.
                    None => Cow::Owned(serde_json::json!({"type": "object", "properties": {}})),
                },
            })
            .collect()
    });
    let extra = req
        .extra
        .iter()
        .filter(|(k, _)| !MANAGED.contains(&k.as_str()) && !OPENAI_ONLY.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let body = Body {
        model,
        max_tokens,
        system,
        messages,
        temperature: req.temperature,
        top_p: req.top_p,
        stop_sequences: req.stop.as_ref().map(crate::types::Stop::as_strs),
        tools,
        tool_choice: tool_choice(req),
        metadata: req.user.as_deref().map(|user_id| Metadata { user_id }),
        stream,
        extra,
    };
    serde_json::to_vec(&body).map_err(|e| Error::invalid(format!("request not serializable: {e}")))
}

fn saturating_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn invalid(message: &str, param: &str) -> Error {
    Error::InvalidRequest {
        provider: None,
        message: message.to_owned(),
        param: Some(param.to_owned()),
    }
}

/// OpenAI's tool choice in Anthropic's shape; `parallel_tool_calls: false`
/// becomes `disable_parallel_tool_use`.
fn tool_choice(req: &ChatRequest) -> Option<Value> {
    let serial = req.parallel_tool_calls == Some(false);
    let mut choice = match &req.tool_choice {
        Some(ToolChoice::None) => return Some(serde_json::json!({"type": "none"})),
        Some(ToolChoice::Other(v)) => return Some(v.clone()),
        Some(ToolChoice::Auto) => serde_json::json!({"type": "auto"}),
        Some(ToolChoice::Required) => serde_json::json!({"type": "any"}),
        Some(ToolChoice::Function(name)) => serde_json::json!({"type": "tool", "name": name}),
        None if serial && req.tools.is_some() => serde_json::json!({"type": "auto"}),
        None => return None,
    };
    if serial && let Value::Object(m) = &mut choice {
        m.insert("disable_parallel_tool_use".into(), Value::Bool(true));
    }
    Some(choice)
}

/// Splits the conversation into system text and user/assistant turns:
/// system and developer messages are lifted out, tool results become
/// `tool_result` blocks in a user turn, and consecutive turns of the same
/// role are merged (the API requires alternation).
fn turns(messages: &[Message]) -> Result<(Vec<Cow<'_, str>>, Vec<Turn<'_>>)> {
    let mut system = Vec::new();
    let mut out: Vec<Turn<'_>> = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let (role, blocks) = match &m.role {
            Role::System | Role::Developer => {
                if let Some(text) = text_of(m.content.as_ref()) {
                    system.push(text);
                }
                continue;
            }
            Role::User => ("user", content_blocks(m.content.as_ref())),
            Role::Assistant => ("assistant", assistant_blocks(m, i)?),
            Role::Tool => {
                let Some(id) = m.tool_call_id.as_deref() else {
                    return Err(invalid(
                        "a `tool` message needs `tool_call_id`",
                        &format!("messages[{i}].tool_call_id"),
                    ));
                };
                let block = Block::ToolResult {
                    tool_use_id: id,
                    content: content_blocks(m.content.as_ref()),
                    is_error: m.extra.get("is_error").and_then(Value::as_bool),
                };
                ("user", vec![block])
            }
            Role::Other(other) => {
                return Err(Error::InvalidRequest {
                    provider: None,
                    message: format!("Anthropic has no `{other}` role"),
                    param: Some(format!("messages[{i}].role")),
                });
            }
        };
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.role == role => last.blocks.extend(blocks),
            _ => out.push(Turn { role, blocks }),
        }
    }
    if out.is_empty() {
        return Err(invalid(
            "Anthropic needs at least one user or assistant message besides the system prompt",
            "messages",
        ));
    }
    Ok((system, out))
}

/// The text of a system message; several text parts are joined by newlines.
fn text_of(content: Option<&Content>) -> Option<Cow<'_, str>> {
    match content? {
        Content::Text(t) if t.is_empty() => None,
        Content::Text(t) => Some(Cow::Borrowed(t)),
        Content::Parts(parts) => {
            let texts: Vec<&str> = parts
                .iter()
                .filter_map(|p| match p {
                    ContentPart::Text { text } if !text.is_empty() => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            match texts.as_slice() {
                [] => None,
                [one] => Some(Cow::Borrowed(*one)),
                many => Some(Cow::Owned(many.join("\n"))),
            }
        }
    }
}

/// User or tool-result content as blocks. Empty text is dropped: the API
/// rejects empty text blocks.
fn content_blocks(content: Option<&Content>) -> Vec<Block<'_>> {
    match content {
        None => Vec::new(),
        Some(Content::Text(t)) if t.is_empty() => Vec::new(),
        Some(Content::Text(t)) => vec![Block::Text(Cow::Borrowed(t))],
        Some(Content::Parts(parts)) => parts
            .iter()
            .filter_map(|p| match p {
                ContentPart::Text { text } if text.is_empty() => None,
                ContentPart::Text { text } => Some(Block::Text(Cow::Borrowed(text))),
                ContentPart::ImageUrl { image_url } => Some(match image_url.as_data() {
                    Some((media_type, data)) => Block::ImageBase64 { media_type, data },
                    None => Block::ImageUrl(&image_url.url),
                }),
                ContentPart::Other(v) => Some(Block::Raw(v)),
            })
            .collect(),
    }
}

fn assistant_blocks(m: &Message, index: usize) -> Result<Vec<Block<'_>>> {
    let mut blocks = content_blocks(m.content.as_ref());
    for (j, call) in m.tool_calls.iter().flatten().enumerate() {
        let args = call.function.arguments.trim();
        let input = if args.is_empty() {
            Value::Object(Map::new())
        } else {
            match serde_json::from_str::<Value>(args) {
                Ok(v @ Value::Object(_)) => v,
                _ => {
                    return Err(Error::InvalidRequest {
                        provider: None,
                        message: "tool-call arguments must be a JSON object for Anthropic".into(),
                        param: Some(format!(
                            "messages[{index}].tool_calls[{j}].function.arguments"
                        )),
                    });
                }
            }
        };
        blocks.push(Block::ToolUse {
            id: &call.id,
            name: &call.function.name,
            input,
        });
    }
    Ok(blocks)
}

/// Anthropic's usage object; fields are optional because `message_delta`
/// carries only some of them.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// Takes every count `newer` reports; the stream's counts are cumulative.
    pub(super) fn update(&mut self, newer: &WireUsage) {
        let take = |old: &mut Option<u64>, new: Option<u64>| {
            if new.is_some() {
                *old = new;
            }
        };
        take(&mut self.input_tokens, newer.input_tokens);
        take(&mut self.output_tokens, newer.output_tokens);
        take(
            &mut self.cache_creation_input_tokens,
            newer.cache_creation_input_tokens,
        );
        take(
            &mut self.cache_read_input_tokens,
            newer.cache_read_input_tokens,
        );
    }

    /// In OpenAI's shape: `input_tokens` excludes cache reads and writes,
    /// so prompt tokens are the sum of all three, and the details say which
    /// part is billed at which price.
    pub(super) fn to_usage(self) -> Usage {
        let input = self.input_tokens.unwrap_or(0);
        let created = self.cache_creation_input_tokens.unwrap_or(0);
        let read = self.cache_read_input_tokens.unwrap_or(0);
        let prompt = input.saturating_add(created).saturating_add(read);
        let mut usage = Usage::new(prompt, self.output_tokens.unwrap_or(0));
        if created > 0 || read > 0 {
            usage.prompt_tokens_details = Some(PromptTokensDetails {
                cached_tokens: read,
                cache_creation_tokens: created,
                ..Default::default()
            });
        }
        usage
    }
}

/// `stop_reason` in OpenAI's terms.
pub(super) fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// Seconds since the epoch: Anthropic sends no `created`, OpenAI's shape has one.
pub(super) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A response content block, leniently: unknown types are skipped.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireBlock {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub thinking: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub input: Option<Value>,
}

#[derive(Deserialize)]
struct WireMessage {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    content: Vec<WireBlock>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: WireUsage,
    #[serde(default)]
    error: Option<Value>,
}

/// Tool input as OpenAI's argument string. An empty input object is `{}`.
pub(super) fn arguments(input: Option<&Value>) -> String {
    match input {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(v) => v.to_string(),
    }
}

/// Parses a Messages response body.
pub(super) fn parse(cfg: &ProviderConfig, body: &[u8]) -> Result<ChatResponse> {
    let wire: WireMessage = crate::provider::decode_json(&cfg.id, body)?;
    if wire.kind == "error" {
        return Err(super::error::from_value(
            cfg,
            200,
            wire.error.as_ref(),
            None,
        ));
    }
    let mut text: Option<String> = None;
    let mut reasoning: Option<String> = None;
    let mut calls = Vec::new();
    for block in wire.content {
        match block.kind.as_str() {
            "text" => text
                .get_or_insert_with(String::new)
                .push_str(block.text.as_deref().unwrap_or_default()),
            "thinking" => reasoning
                .get_or_insert_with(String::new)
                .push_str(block.thinking.as_deref().unwrap_or_default()),
            "tool_use" => calls.push(ToolCall::function(
                block.id.unwrap_or_default(),
                block.name.unwrap_or_default(),
                arguments(block.input.as_ref()),
            )),
            _ => {}
        }
    }
    let has_calls = !calls.is_empty();
    let message = Message {
        content: match text {
            Some(t) => Some(Content::Text(t)),
            None if has_calls => None,
            None => Some(Content::Text(String::new())),
        },
        tool_calls: has_calls.then_some(calls),
        reasoning_content: reasoning,
        ..Message::assistant("")
    };
    Ok(ChatResponse {
        id: wire.id,
        object: "chat.completion".into(),
        created: now(),
        model: wire.model,
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: wire.stop_reason.as_deref().map(finish_reason),
            logprobs: None,
        }],
        usage: wire.usage.to_usage(),
        system_fingerprint: None,
        service_tier: None,
        provider: cfg.id.clone(),
        cost: None,
        extra: Map::new(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::provider::AdapterKind;
    use crate::types::Tool;

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "anthropic".into(),
            kind: AdapterKind::Anthropic,
            base_url: "https://api.anthropic.com".into(),
            api_key: None,
        }
    }

    fn built(req: &ChatRequest, limits: ModelLimits) -> Value {
        serde_json::from_slice(&body("claude-haiku-4-5", limits, req, false).unwrap()).unwrap()
    }

    fn weather() -> Tool {
        Tool::function(
            "get_weather",
            "Current weather",
            json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        )
    }

    #[test]
    fn text_request_lifts_system_and_uses_catalog_max_tokens() {
        let mut req = ChatRequest::new(
            "anthropic/claude-haiku-4-5",
            vec![
                Message::system("Be brief."),
                Message::new(Role::Developer, "Use British spelling."),
                Message::user("Hello"),
            ],
        )
        .temperature(0.2);
        req.stop = Some(crate::types::Stop::One("END".into()));
        req.user = Some("user-42".into());
        req.seed = Some(7);
        req.extra.insert("top_k".into(), json!(5));
        req.extra
            .insert("stream_options".into(), json!({"include_usage": true}));
        let limits = ModelLimits {
            max_output_tokens: Some(64_000),
        };
        assert_eq!(
            built(&req, limits),
            json!({
                "model": "claude-haiku-4-5",
                "max_tokens": 64000,
                "system": [
                    {"type": "text", "text": "Be brief."},
                    {"type": "text", "text": "Use British spelling."}
                ],
                "messages": [{"role": "user", "content": "Hello"}],
                "temperature": 0.2,
                "stop_sequences": ["END"],
                "metadata": {"user_id": "user-42"},
                "top_k": 5
            })
        );
        // The request's own cap wins; without catalog data a safe default is sent.
        assert_eq!(built(&req.clone().max_tokens(10), limits)["max_tokens"], 10);
        assert_eq!(
            built(&req, ModelLimits::default())["max_tokens"],
            FALLBACK_MAX_TOKENS
        );
        let mut openai_style = req.clone();
        openai_style
            .extra
            .insert("max_completion_tokens".into(), json!(77));
        let v = built(&openai_style, limits);
        assert_eq!(v["max_tokens"], 77);
        assert!(v.get("max_completion_tokens").is_none());
    }

    #[test]
    fn vision_blocks_base64_and_url() {
        let req = ChatRequest::new(
            "m",
            vec![Message::user_parts(vec![
                ContentPart::text("What is in these?"),
                ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
                ContentPart::image_url("https://example.com/cat.jpg"),
            ])],
        );
        assert_eq!(
            built(&req, ModelLimits::default())["messages"],
            json!([{"role": "user", "content": [
                {"type": "text", "text": "What is in these?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}
            ]}])
        );
    }

    #[test]
    fn tools_tool_use_and_merged_tool_results() {
        let req = ChatRequest::new(
            "m",
            vec![
                Message::user("Weather in Paris and Rome?"),
                Message {
                    content: Some(Content::Text("Checking both.".into())),
                    ..Message::assistant_tool_calls(vec![
                        ToolCall::function("toolu_1", "get_weather", r#"{"city":"Paris"}"#),
                        ToolCall::function("toolu_2", "get_weather", ""),
                    ])
                },
                Message::tool("toolu_1", "sunny"),
                Message::tool("toolu_2", "rainy"),
                Message::user("Thanks. Which is warmer?"),
            ],
        )
        .tools(vec![weather()])
        .tool_choice(ToolChoice::Required);
        let v = built(&req, ModelLimits::default());
        assert_eq!(
            v["tools"],
            json!([{"name": "get_weather", "description": "Current weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}])
        );
        assert_eq!(v["tool_choice"], json!({"type": "any"}));
        assert_eq!(
            v["messages"],
            json!([
                {"role": "user", "content": "Weather in Paris and Rome?"},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "Checking both."},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": "rainy"},
                    {"type": "text", "text": "Thanks. Which is warmer?"}
                ]}
            ])
        );
    }

    #[test]
    fn tool_choice_mapping() {
        let base = ChatRequest::new("m", vec![Message::user("x")]).tools(vec![weather()]);
        let choice = |c: Option<ToolChoice>, parallel: Option<bool>| {
            let mut r = base.clone();
            r.tool_choice = c;
            r.parallel_tool_calls = parallel;
            built(&r, ModelLimits::default())
                .get("tool_choice")
                .cloned()
        };
        assert_eq!(choice(None, None), None);
        assert_eq!(
            choice(Some(ToolChoice::Auto), None),
            Some(json!({"type": "auto"}))
        );
        assert_eq!(
            choice(Some(ToolChoice::None), Some(false)),
            Some(json!({"type": "none"}))
        );
        assert_eq!(
            choice(
                Some(ToolChoice::Function("get_weather".into())),
                Some(false)
            ),
            Some(json!({"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true}))
        );
        assert_eq!(
            choice(None, Some(false)),
            Some(json!({"type": "auto", "disable_parallel_tool_use": true}))
        );
    }

    #[test]
    fn json_mode_is_a_system_instruction() {
        let req = ChatRequest::new("m", vec![Message::system("Be terse."), Message::user("x")])
            .response_format(ResponseFormat::JsonSchema {
                name: "r".into(),
                schema: json!({"type": "object"}),
                strict: None,
            });
        let v = built(&req, ModelLimits::default());
        let system = v["system"].as_array().unwrap();
        assert_eq!(system[0]["text"], "Be terse.");
        let instruction = system[1]["text"].as_str().unwrap();
        assert!(instruction.starts_with(JSON_INSTRUCTION), "{instruction}");
        assert!(
            instruction.ends_with(r#"{"type":"object"}"#),
            "{instruction}"
        );
        assert!(v.get("response_format").is_none());
        let req = ChatRequest::new("m", vec![Message::user("x")])
            .response_format(ResponseFormat::JsonObject);
        assert_eq!(
            built(&req, ModelLimits::default())["system"],
            JSON_INSTRUCTION
        );
    }

    #[test]
    fn rejects_what_anthropic_cannot_express() {
        let mut req = ChatRequest::new("m", vec![Message::user("x")]);
        req.n = Some(2);
        let e = body("m", ModelLimits::default(), &req, false).unwrap_err();
        assert_eq!(e.code(), "invalid_request");
        let req = ChatRequest::new("m", vec![Message::system("only a system prompt")]);
        assert!(body("m", ModelLimits::default(), &req, false).is_err());
        let req = ChatRequest::new(
            "m",
            vec![
                Message::user("x"),
                Message::assistant_tool_calls(vec![ToolCall::function("t", "f", "[1]")]),
            ],
        );
        let e = body("m", ModelLimits::default(), &req, false).unwrap_err();
        assert!(e.to_string().contains("JSON object"), "{e}");
    }

    /// The example response from Anthropic's Messages API reference.
    #[test]
    fn parses_reference_response() {
        let body = br#"{
          "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
          "type": "message",
          "role": "assistant",
          "content": [{"type": "text", "text": "Hi! My name is Claude."}],
          "model": "claude-sonnet-4-5-20250929",
          "stop_reason": "end_turn",
          "stop_sequence": null,
          "usage": {"input_tokens": 2095, "output_tokens": 503, "cache_creation_input_tokens": 2051, "cache_read_input_tokens": 2051}
        }"#;
        let r = parse(&cfg(), body).unwrap();
        assert_eq!(r.text(), Some("Hi! My name is Claude."));
        assert_eq!(r.id, "msg_013Zva2CMHLNnXjNJJKqJ2EF");
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(r.usage.prompt_tokens, 2095 + 2051 + 2051);
        assert_eq!(r.usage.completion_tokens, 503);
        assert_eq!(r.usage.total_tokens, 2095 + 2051 + 2051 + 503);
        assert_eq!(r.usage.cached_tokens(), 2051);
        assert_eq!(r.usage.cache_creation_tokens(), 2051);
        assert_eq!(r.provider, "anthropic");
    }

    #[test]
    fn parses_thinking_and_tool_use() {
        let body = br#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5",
          "content":[
            {"type":"thinking","thinking":"The user wants weather.","signature":"EqQBCgIYAhIM"},
            {"type":"redacted_thinking","data":"EmwKAhgBEgy"},
            {"type":"text","text":"Let me check."},
            {"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"get_weather","input":{"city":"Paris"}},
            {"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{}}
          ],
          "stop_reason":"tool_use","stop_sequence":null,
          "usage":{"input_tokens":10,"output_tokens":30,"cache_creation_input_tokens":null,"cache_read_input_tokens":null}}"#;
        let r = parse(&cfg(), body).unwrap();
        let m = &r.choices[0].message;
        assert_eq!(
            m.reasoning_content.as_deref(),
            Some("The user wants weather.")
        );
        assert_eq!(r.text(), Some("Let me check."));
        assert_eq!(r.tool_calls().len(), 1);
        assert_eq!(r.tool_calls()[0].id, "toolu_01A09q90qw90lq917835lq9");
        assert_eq!(r.tool_calls()[0].function.arguments, r#"{"city":"Paris"}"#);
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(r.usage, Usage::new(10, 30));
    }

    #[test]
    fn stop_reasons() {
        assert_eq!(finish_reason("stop_sequence"), FinishReason::Stop);
        assert_eq!(finish_reason("max_tokens"), FinishReason::Length);
        assert_eq!(finish_reason("refusal"), FinishReason::ContentFilter);
        assert_eq!(
            finish_reason("pause_turn"),
            FinishReason::Other("pause_turn".into())
        );
    }

    #[test]
    fn error_object_in_a_200_is_an_error() {
        let body =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        let e = parse(&cfg(), body).unwrap_err();
        assert_eq!(e.code(), "provider_unavailable");
    }
}
