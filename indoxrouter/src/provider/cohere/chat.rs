//! `/v2/chat` request bodies and responses.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::provider::ProviderConfig;
use crate::types::{
    ChatRequest, ChatResponse, Choice, Content, ContentPart, FinishReason, Message,
    PromptTokensDetails, ResponseFormat, Role, ToolCall, ToolChoice, Usage,
};

/// Keys we always set ourselves, never taken from `extra`.
const MANAGED: &[&str] = &["model", "messages", "stream", "tools", "tool_choice"];

/// OpenAI request fields Cohere's v2 API would reject as unknown, and our
/// spellings it takes under other names (`top_k` → `k`).
const NOT_FORWARDED: &[&str] = &[
    "stream_options",
    "max_completion_tokens",
    "logit_bias",
    "top_logprobs",
    "store",
    "modalities",
    "audio",
    "prediction",
    "service_tier",
    "functions",
    "function_call",
    "top_k",
    "user",
];

fn invalid(message: impl Into<String>, param: impl Into<String>) -> Error {
    Error::InvalidRequest {
        provider: None,
        message: message.into(),
        param: Some(param.into()),
    }
}

/// An `f32` as the decimal it was written as (widening `0.3f32` would send
/// `0.30000001192092896`).
fn float(x: f32) -> Value {
    x.to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// Serializes `req` as a `/v2/chat` body.
pub(super) fn body(model: &str, req: &ChatRequest, stream: bool) -> Result<Vec<u8>> {
    if req.messages.is_empty() {
        return Err(invalid(
            "`messages` must contain at least one message",
            "messages",
        ));
    }
    if req.n.is_some_and(|n| n > 1) {
        return Err(invalid(
            "Cohere returns one choice per request; `n` must be 1",
            "n",
        ));
    }
    let mut out = Map::new();
    out.insert("model".into(), Value::from(model));
    out.insert("messages".into(), Value::Array(messages(&req.messages)?));
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            out.insert(k.to_owned(), v);
        }
    };
    put("temperature", req.temperature.map(float));
    put("p", req.top_p.map(float));
    put("k", req.extra.get("top_k").cloned());
    put("max_tokens", req.max_output_tokens().map(Value::from));
    put(
        "stop_sequences",
        req.stop.as_ref().map(|s| json!(s.as_strs())),
    );
    put("seed", req.seed.map(Value::from));
    put("presence_penalty", req.presence_penalty.map(float));
    put("frequency_penalty", req.frequency_penalty.map(float));
    put(
        "response_format",
        match &req.response_format {
            Some(ResponseFormat::JsonObject) => Some(json!({"type": "json_object"})),
            Some(ResponseFormat::JsonSchema { schema, .. }) => {
                Some(json!({"type": "json_object", "json_schema": schema}))
            }
            _ => None,
        },
    );
    // Cohere can't name one tool: forcing a function sends only that tool,
    // with a call required.
    let forced = match &req.tool_choice {
        Some(ToolChoice::Function(name)) => Some(name.as_str()),
        _ => None,
    };
    if let Some(tools) = req.tools.as_ref().filter(|t| !t.is_empty()) {
        let tools: Vec<Value> = tools
            .iter()
            .filter(|t| forced.is_none_or(|name| t.function.name == name))
            .map(|t| {
                let mut f = Map::new();
                f.insert("name".into(), Value::from(t.function.name.as_str()));
                if let Some(d) = &t.function.description {
                    f.insert("description".into(), Value::from(d.as_str()));
                }
                f.insert(
                    "parameters".into(),
                    t.function
                        .parameters
                        .clone()
                        .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                );
                json!({"type": "function", "function": f})
            })
            .collect();
        put("tools", Some(Value::Array(tools)));
    }
    put(
        "tool_choice",
        match &req.tool_choice {
            Some(ToolChoice::Required | ToolChoice::Function(_)) => Some(json!("REQUIRED")),
            Some(ToolChoice::None) => Some(json!("NONE")),
            Some(ToolChoice::Other(v)) => Some(v.clone()),
            Some(ToolChoice::Auto) | None => None,
        },
    );
    if stream {
        put("stream", Some(Value::Bool(true)));
    }
    for (k, v) in &req.extra {
        let k = k.as_str();
        if !MANAGED.contains(&k) && !NOT_FORWARDED.contains(&k) && !out.contains_key(k) {
            out.insert(k.to_owned(), v.clone());
        }
    }
    serde_json::to_vec(&Value::Object(out))
        .map_err(|e| Error::invalid(format!("request not serializable: {e}")))
}

/// Messages in Cohere's v2 shape: OpenAI's, minus the fields it rejects,
/// with `developer` as `system` and an assistant's reasoning sent back as
/// its `tool_plan`.
fn messages(messages: &[Message]) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(messages.len());
    for (i, m) in messages.iter().enumerate() {
        let role = match &m.role {
            Role::System | Role::Developer => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
            Role::Other(other) => {
                return Err(invalid(
                    format!("Cohere has no `{other}` role"),
                    format!("messages[{i}].role"),
                ));
            }
        };
        let mut msg = Map::new();
        msg.insert("role".into(), Value::from(role));
        if let Some(content) = content(m.content.as_ref()) {
            msg.insert("content".into(), content);
        }
        match m.role {
            Role::Assistant => {
                if let Some(calls) = m.tool_calls.as_ref().filter(|c| !c.is_empty()) {
                    let calls: Vec<Value> = calls
                        .iter()
                        .map(|c| {
                            json!({"id": c.id, "type": "function",
                                   "function": {"name": c.function.name, "arguments": c.function.arguments}})
                        })
                        .collect();
                    msg.insert("tool_calls".into(), Value::Array(calls));
                    if let Some(plan) = &m.reasoning_content {
                        msg.insert("tool_plan".into(), Value::from(plan.as_str()));
                    }
                }
            }
            Role::Tool => {
                let Some(id) = &m.tool_call_id else {
                    return Err(invalid(
                        "a `tool` message needs `tool_call_id`",
                        format!("messages[{i}].tool_call_id"),
                    ));
                };
                msg.insert("tool_call_id".into(), Value::from(id.as_str()));
                msg.entry("content").or_insert_with(|| Value::from(""));
            }
            _ => {
                msg.entry("content").or_insert_with(|| Value::from(""));
            }
        }
        out.push(Value::Object(msg));
    }
    Ok(out)
}

fn content(content: Option<&Content>) -> Option<Value> {
    match content? {
        Content::Text(t) if t.is_empty() => None,
        Content::Text(t) => Some(Value::from(t.as_str())),
        Content::Parts(parts) => {
            let parts: Vec<Value> = parts
                .iter()
                .map(|p| match p {
                    ContentPart::Text { text } => json!({"type": "text", "text": text}),
                    ContentPart::ImageUrl { image_url } => {
                        json!({"type": "image_url", "image_url": {"url": image_url.url}})
                    }
                    ContentPart::Other(v) => v.clone(),
                })
                .collect();
            (!parts.is_empty()).then_some(Value::Array(parts))
        }
    }
}

/// `usage`: billed units are what Cohere charges; `tokens` counts its own
/// preamble too, so it is not used for money.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub(super) struct WireUsage {
    #[serde(default)]
    billed_units: Option<Units>,
    #[serde(default)]
    tokens: Option<Units>,
    #[serde(default)]
    cached_tokens: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
struct Units {
    #[serde(default)]
    input_tokens: Option<f64>,
    #[serde(default)]
    output_tokens: Option<f64>,
}

/// Cohere sends counts as JSON numbers that may be written as floats.
fn count(n: Option<f64>) -> u64 {
    match n {
        // `as` saturates for finite values; counts are never fractional.
        Some(n) if n.is_finite() && n > 0.0 => n as u64,
        _ => 0,
    }
}

impl WireUsage {
    pub(super) fn to_usage(self) -> Usage {
        let units = self.billed_units.or(self.tokens).unwrap_or_default();
        let mut usage = Usage::new(count(units.input_tokens), count(units.output_tokens));
        let cached = count(self.cached_tokens).min(usage.prompt_tokens);
        if cached > 0 {
            usage.prompt_tokens_details = Some(PromptTokensDetails {
                cached_tokens: cached,
                ..Default::default()
            });
        }
        usage
    }
}

/// `finish_reason` in OpenAI's terms.
pub(super) fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "COMPLETE" | "STOP_SEQUENCE" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "TOOL_CALL" => FinishReason::ToolCalls,
        other => FinishReason::Other(other.to_ascii_lowercase()),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireBlock {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub thinking: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub function: Option<WireFunction>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireFunction {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct WireMessage {
    #[serde(default)]
    content: Vec<WireBlock>,
    #[serde(default)]
    tool_plan: Option<String>,
    #[serde(default)]
    tool_calls: Vec<WireCall>,
    #[serde(default)]
    citations: Option<Value>,
}

#[derive(Deserialize)]
struct WireResponse {
    #[serde(default)]
    id: String,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    message: WireMessage,
    #[serde(default)]
    usage: WireUsage,
}

pub(super) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Parses a `/v2/chat` body. Thinking and the tool plan both surface as
/// `reasoning_content` (thinking first); the plan goes back to Cohere as
/// `tool_plan` when the message is replayed. Cohere's responses don't name
/// the model, so `model` stays empty.
pub(super) fn parse(cfg: &ProviderConfig, body: &[u8]) -> Result<ChatResponse> {
    let wire: WireResponse = crate::provider::decode_json(&cfg.id, body)?;
    let mut text: Option<String> = None;
    let mut reasoning: Option<String> = None;
    for block in wire.message.content {
        match block.kind.as_deref() {
            Some("thinking") => reasoning
                .get_or_insert_with(String::new)
                .push_str(block.thinking.as_deref().unwrap_or_default()),
            _ => {
                if let Some(t) = block.text {
                    text.get_or_insert_with(String::new).push_str(&t);
                }
            }
        }
    }
    if let Some(plan) = wire.message.tool_plan.filter(|p| !p.is_empty()) {
        reasoning.get_or_insert_with(String::new).push_str(&plan);
    }
    let calls: Vec<ToolCall> = wire
        .message
        .tool_calls
        .into_iter()
        .map(|c| {
            let f = c.function.unwrap_or_default();
            ToolCall::function(
                c.id.unwrap_or_default(),
                f.name.unwrap_or_default(),
                f.arguments.unwrap_or_default(),
            )
        })
        .collect();
    let has_calls = !calls.is_empty();
    let mut message = Message {
        content: match text {
            Some(t) => Some(Content::Text(t)),
            None if has_calls => None,
            None => Some(Content::Text(String::new())),
        },
        tool_calls: has_calls.then_some(calls),
        reasoning_content: reasoning,
        ..Message::assistant("")
    };
    if let Some(c) = wire.message.citations.filter(|c| !c.is_null()) {
        message.extra.insert("citations".into(), c);
    }
    Ok(ChatResponse {
        id: wire.id,
        object: "chat.completion".into(),
        created: now(),
        model: String::new(),
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: wire.finish_reason.as_deref().map(finish_reason),
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
    use super::*;
    use crate::provider::AdapterKind;
    use crate::types::Tool;

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "cohere".into(),
            kind: AdapterKind::Cohere,
            base_url: "https://api.cohere.com".into(),
            api_key: None,
        }
    }

    fn built(req: &ChatRequest) -> Value {
        serde_json::from_slice(&body("command-a-03-2025", req, false).unwrap()).unwrap()
    }

    #[test]
    fn text_request_uses_p_k_and_stop_sequences() {
        let mut req = ChatRequest::new(
            "cohere/command-a-03-2025",
            vec![
                Message::new(Role::Developer, "Be brief."),
                Message::user("Hello"),
            ],
        )
        .temperature(0.3)
        .max_tokens(100)
        .seed(5);
        req.top_p = Some(0.9);
        req.stop = Some(crate::types::Stop::One("END".into()));
        req.user = Some("u1".into());
        req.extra.insert("top_k".into(), json!(40));
        req.extra.insert("safety_mode".into(), json!("OFF"));
        req.extra
            .insert("stream_options".into(), json!({"include_usage": true}));
        assert_eq!(
            built(&req),
            json!({
                "model": "command-a-03-2025",
                "messages": [
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Hello"}
                ],
                "temperature": 0.3, "p": 0.9, "k": 40, "max_tokens": 100,
                "stop_sequences": ["END"], "seed": 5, "safety_mode": "OFF"
            })
        );
    }

    #[test]
    fn vision_json_schema_and_stream_flag() {
        let req = ChatRequest::new(
            "m",
            vec![Message::user_parts(vec![
                ContentPart::text("What is this?"),
                ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
            ])],
        )
        .response_format(ResponseFormat::JsonSchema {
            name: "r".into(),
            schema: json!({"type": "object"}),
            strict: None,
        });
        let v: Value =
            serde_json::from_slice(&body("command-a-vision-07-2025", &req, true).unwrap()).unwrap();
        assert_eq!(
            v["messages"][0]["content"],
            json!([{"type": "text", "text": "What is this?"},
                   {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}])
        );
        assert_eq!(
            v["response_format"],
            json!({"type": "json_object", "json_schema": {"type": "object"}})
        );
        assert_eq!(v["stream"], true);
    }

    #[test]
    fn tools_calls_plan_and_results() {
        let weather = Tool::function(
            "get_weather",
            "Weather",
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        );
        let time = Tool::function(
            "get_time",
            "Time",
            json!({"type": "object", "properties": {}}),
        );
        let mut assistant = Message::assistant_tool_calls(vec![ToolCall::function(
            "get_weather_abc",
            "get_weather",
            r#"{"city":"Paris"}"#,
        )]);
        assistant.reasoning_content = Some("I will check the weather.".into());
        assistant.refusal = Some("dropped".into());
        let req = ChatRequest::new(
            "m",
            vec![
                Message::user("Weather?"),
                assistant,
                Message::tool("get_weather_abc", "sunny"),
            ],
        )
        .tools(vec![weather, time])
        .tool_choice(ToolChoice::Function("get_weather".into()));
        let v = built(&req);
        assert_eq!(v["tool_choice"], "REQUIRED");
        assert_eq!(v["tools"].as_array().unwrap().len(), 1);
        assert_eq!(v["tools"][0]["function"]["name"], "get_weather");
        assert_eq!(
            v["messages"][1],
            json!({"role": "assistant", "tool_calls": [{"id": "get_weather_abc", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}],
                "tool_plan": "I will check the weather."})
        );
        assert_eq!(
            v["messages"][2],
            json!({"role": "tool", "content": "sunny", "tool_call_id": "get_weather_abc"})
        );
        let mut none = req.clone();
        none.tool_choice = Some(ToolChoice::None);
        assert_eq!(built(&none)["tool_choice"], "NONE");
        let mut auto = req;
        auto.tool_choice = Some(ToolChoice::Auto);
        assert!(built(&auto).get("tool_choice").is_none());
    }

    #[test]
    fn rejects_several_choices() {
        let mut req = ChatRequest::new("m", vec![Message::user("x")]);
        req.n = Some(3);
        assert_eq!(
            body("m", &req, false).unwrap_err().code(),
            "invalid_request"
        );
    }

    /// The response example from Cohere's v2 chat reference.
    #[test]
    fn parses_reference_response() {
        let body = br#"{
          "id": "c14c80c3-18eb-4519-9460-6c92edd8cfb4",
          "finish_reason": "COMPLETE",
          "message": {"role": "assistant", "content": [{"type": "text", "text": "LLMs stand for Large Language Models."}]},
          "usage": {"billed_units": {"input_tokens": 17, "output_tokens": 12}, "tokens": {"input_tokens": 215, "output_tokens": 12}}
        }"#;
        let r = parse(&cfg(), body).unwrap();
        assert_eq!(r.text(), Some("LLMs stand for Large Language Models."));
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
        // Billed units, not the raw token counts that include Cohere's preamble.
        assert_eq!(r.usage, Usage::new(17, 12));
    }

    #[test]
    fn parses_tool_calls_plan_and_citations() {
        let body = br#"{"id":"x","finish_reason":"TOOL_CALL","message":{"role":"assistant",
          "tool_plan":"I will search for the weather.",
          "tool_calls":[{"id":"get_weather_1byjy32y4hvq","type":"function","function":{"name":"get_weather","arguments":"{\"location\":\"Toronto\"}"}}],
          "citations":[{"start":0,"end":5,"text":"x","sources":[]}]},
          "usage":{"billed_units":{"input_tokens":37.0,"output_tokens":28.0},"tokens":{"input_tokens":1255,"output_tokens":67},"cached_tokens":0}}"#;
        let r = parse(&cfg(), body).unwrap();
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(r.tool_calls()[0].id, "get_weather_1byjy32y4hvq");
        assert_eq!(
            r.choices[0].message.reasoning_content.as_deref(),
            Some("I will search for the weather.")
        );
        assert_eq!(r.choices[0].message.content, None);
        assert!(r.choices[0].message.extra.contains_key("citations"));
        assert_eq!(r.usage, Usage::new(37, 28));
        assert_eq!(finish_reason("MAX_TOKENS"), FinishReason::Length);
        assert_eq!(finish_reason("ERROR"), FinishReason::Other("error".into()));
    }
}
