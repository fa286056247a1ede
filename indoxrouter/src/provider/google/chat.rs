//! `generateContent` request bodies and responses.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::provider::ProviderConfig;
use crate::types::{
    ChatRequest, ChatResponse, Choice, CompletionTokensDetails, Content, ContentPart, FinishReason,
    Message, PromptTokensDetails, ResponseFormat, Role, ToolCall, ToolChoice, Usage,
};

/// Keys we always set ourselves, never taken from `extra`.
const MANAGED: &[&str] = &[
    "contents",
    "systemInstruction",
    "tools",
    "toolConfig",
    "generationConfig",
];

/// OpenAI request fields with no Gemini meaning, and our spellings of
/// generation settings that belong inside `generationConfig`.
const OPENAI_ONLY: &[&str] = &[
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_completion_tokens",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "store",
    "modalities",
    "audio",
    "prediction",
    "service_tier",
    "functions",
    "function_call",
    "top_k",
    "thinking_config",
    "thinkingConfig",
];

fn invalid(message: impl Into<String>, param: impl Into<String>) -> Error {
    Error::InvalidRequest {
        provider: None,
        message: message.into(),
        param: Some(param.into()),
    }
}

/// Serializes `req` as a `generateContent` body.
pub(super) fn body(req: &ChatRequest) -> Result<Vec<u8>> {
    if req.messages.is_empty() {
        return Err(invalid(
            "`messages` must contain at least one message",
            "messages",
        ));
    }
    let (system, contents) = contents(&req.messages)?;
    let mut out = Map::new();
    out.insert("contents".into(), Value::Array(contents));
    if !system.is_empty() {
        let parts: Vec<Value> = system.into_iter().map(|t| json!({"text": t})).collect();
        out.insert("systemInstruction".into(), json!({"parts": parts}));
    }
    if let Some(tools) = req.tools.as_ref().filter(|t| !t.is_empty()) {
        let decls: Vec<Value> = tools
            .iter()
            .map(|t| {
                let mut d = Map::new();
                d.insert("name".into(), Value::from(t.function.name.as_str()));
                if let Some(desc) = &t.function.description {
                    d.insert("description".into(), Value::from(desc.as_str()));
                }
                // A function without parameters has none: Gemini rejects an
                // empty object schema's missing `properties` less often
                // than an empty `parameters`.
                if let Some(p) = &t.function.parameters {
                    let has_props = p
                        .get("properties")
                        .and_then(Value::as_object)
                        .is_some_and(|m| !m.is_empty());
                    if has_props || p.get("type").and_then(Value::as_str) != Some("object") {
                        d.insert("parameters".into(), super::schema::normalize(p));
                    }
                }
                Value::Object(d)
            })
            .collect();
        out.insert("tools".into(), json!([{"functionDeclarations": decls}]));
    }
    if let Some(config) = tool_config(req.tool_choice.as_ref()) {
        out.insert("toolConfig".into(), config);
    }
    let config = generation_config(req);
    if !config.is_empty() {
        out.insert("generationConfig".into(), Value::Object(config));
    }
    for (k, v) in &req.extra {
        if !MANAGED.contains(&k.as_str()) && !OPENAI_ONLY.contains(&k.as_str()) {
            out.insert(k.clone(), v.clone());
        }
    }
    serde_json::to_vec(&Value::Object(out))
        .map_err(|e| Error::invalid(format!("request not serializable: {e}")))
}

fn tool_config(choice: Option<&ToolChoice>) -> Option<Value> {
    let config = match choice? {
        ToolChoice::Auto => json!({"mode": "AUTO"}),
        ToolChoice::None => json!({"mode": "NONE"}),
        ToolChoice::Required => json!({"mode": "ANY"}),
        ToolChoice::Function(name) => json!({"mode": "ANY", "allowedFunctionNames": [name]}),
        ToolChoice::Other(_) => return None,
    };
    Some(json!({"functionCallingConfig": config}))
}

/// An `f32` as the decimal it was written as: widening `0.3f32` to `f64`
/// would send `0.30000001192092896`.
fn float(x: f32) -> Value {
    x.to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn generation_config(req: &ChatRequest) -> Map<String, Value> {
    let mut c = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            c.insert(k.to_owned(), v);
        }
    };
    put("temperature", req.temperature.map(float));
    put("topP", req.top_p.map(float));
    put("topK", req.extra.get("top_k").cloned());
    put("maxOutputTokens", req.max_output_tokens().map(Value::from));
    put(
        "stopSequences",
        req.stop.as_ref().map(|s| json!(s.as_strs())),
    );
    put("candidateCount", req.n.map(Value::from));
    put("seed", req.seed.map(Value::from));
    put("presencePenalty", req.presence_penalty.map(float));
    put("frequencyPenalty", req.frequency_penalty.map(float));
    put(
        "thinkingConfig",
        req.extra
            .get("thinking_config")
            .or_else(|| req.extra.get("thinkingConfig"))
            .cloned(),
    );
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => {
            put("responseMimeType", Some(Value::from("application/json")));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            put("responseMimeType", Some(Value::from("application/json")));
            put("responseSchema", Some(super::schema::normalize(schema)));
        }
        _ => {}
    }
    c
}

/// The function name a tool result answers: Gemini matches results by
/// name, OpenAI by call id.
fn call_name<'a>(messages: &'a [Message], id: &str) -> Option<&'a str> {
    messages
        .iter()
        .rev()
        .flat_map(|m| m.tool_calls.iter().flatten())
        .find(|c| c.id == id)
        .map(|c| c.function.name.as_str())
}

/// Splits the conversation into system text and `contents`: assistant turns
/// become `model`, tool results `functionResponse` parts in a user turn, and
/// consecutive turns of one role are merged.
fn contents(messages: &[Message]) -> Result<(Vec<String>, Vec<Value>)> {
    let mut system = Vec::new();
    let mut out: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let (role, parts) = match &m.role {
            Role::System | Role::Developer => {
                if let Some(t) = m.text().filter(|t| !t.is_empty()) {
                    system.push(t);
                }
                continue;
            }
            Role::User => ("user", parts(m.content.as_ref())),
            Role::Assistant => {
                let mut p = parts(m.content.as_ref());
                for (j, call) in m.tool_calls.iter().flatten().enumerate() {
                    let args = call.function.arguments.trim();
                    let args = if args.is_empty() {
                        Value::Object(Map::new())
                    } else {
                        match serde_json::from_str::<Value>(args) {
                            Ok(v @ Value::Object(_)) => v,
                            _ => {
                                return Err(invalid(
                                    "tool-call arguments must be a JSON object for Gemini",
                                    format!("messages[{i}].tool_calls[{j}].function.arguments"),
                                ));
                            }
                        }
                    };
                    p.push(json!({"functionCall": {"name": call.function.name, "args": args}}));
                }
                ("model", p)
            }
            Role::Tool => {
                let id = m.tool_call_id.as_deref().unwrap_or_default();
                let Some(name) = m.name.as_deref().or_else(|| call_name(messages, id)) else {
                    return Err(invalid(
                        "a tool result must answer a tool call earlier in the conversation (Gemini matches results by function name)",
                        format!("messages[{i}].tool_call_id"),
                    ));
                };
                let text = m.text().unwrap_or_default();
                let response = match serde_json::from_str::<Value>(&text) {
                    Ok(v @ Value::Object(_)) => v,
                    _ => json!({"content": text}),
                };
                (
                    "user",
                    vec![json!({"functionResponse": {"name": name, "response": response}})],
                )
            }
            Role::Other(other) => {
                return Err(invalid(
                    format!("Gemini has no `{other}` role"),
                    format!("messages[{i}].role"),
                ));
            }
        };
        if parts.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last, p)) if *last == role => p.extend(parts),
            _ => out.push((role, parts)),
        }
    }
    if out.is_empty() {
        return Err(invalid(
            "Gemini needs at least one user or assistant message besides the system prompt",
            "messages",
        ));
    }
    let contents = out
        .into_iter()
        .map(|(role, parts)| json!({"role": role, "parts": parts}))
        .collect();
    Ok((system, contents))
}

fn parts(content: Option<&Content>) -> Vec<Value> {
    match content {
        None => Vec::new(),
        Some(Content::Text(t)) if t.is_empty() => Vec::new(),
        Some(Content::Text(t)) => vec![json!({"text": t})],
        Some(Content::Parts(parts)) => parts
            .iter()
            .filter_map(|p| match p {
                ContentPart::Text { text } if text.is_empty() => None,
                ContentPart::Text { text } => Some(json!({"text": text})),
                ContentPart::ImageUrl { image_url } => Some(match image_url.as_data() {
                    Some((mime, data)) => json!({"inlineData": {"mimeType": mime, "data": data}}),
                    None => json!({"fileData": {
                        "mimeType": guess_mime(&image_url.url),
                        "fileUri": image_url.url
                    }}),
                }),
                ContentPart::Other(v) => Some(v.clone()),
            })
            .collect(),
    }
}

/// Gemini's `fileData` needs a MIME type; an image URL usually says it.
fn guess_mime(url: &str) -> &'static str {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    if path.ends_with(".png") {
        "image/png"
    } else if path.ends_with(".webp") {
        "image/webp"
    } else if path.ends_with(".gif") {
        "image/gif"
    } else if path.ends_with(".heic") {
        "image/heic"
    } else {
        "image/jpeg"
    }
}

/// `usageMetadata`.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireUsage {
    #[serde(default)]
    pub prompt_token_count: Option<u64>,
    #[serde(default)]
    pub candidates_token_count: Option<u64>,
    #[serde(default)]
    pub thoughts_token_count: Option<u64>,
    #[serde(default)]
    pub tool_use_prompt_token_count: Option<u64>,
    #[serde(default)]
    pub cached_content_token_count: Option<u64>,
}

impl WireUsage {
    /// In OpenAI's shape. `promptTokenCount` already includes cached tokens;
    /// thinking tokens are billed as output but reported outside
    /// `candidatesTokenCount`, so completion tokens are their sum.
    pub(super) fn to_usage(self) -> Usage {
        let prompt = self
            .prompt_token_count
            .unwrap_or(0)
            .saturating_add(self.tool_use_prompt_token_count.unwrap_or(0));
        let thoughts = self.thoughts_token_count.unwrap_or(0);
        let completion = self
            .candidates_token_count
            .unwrap_or(0)
            .saturating_add(thoughts);
        let mut usage = Usage::new(prompt, completion);
        let cached = self.cached_content_token_count.unwrap_or(0);
        if cached > 0 {
            usage.prompt_tokens_details = Some(PromptTokensDetails {
                cached_tokens: cached,
                ..Default::default()
            });
        }
        if thoughts > 0 {
            usage.completion_tokens_details = Some(CompletionTokensDetails {
                reasoning_tokens: thoughts,
                ..Default::default()
            });
        }
        usage
    }
}

/// One response part; only the fields we translate.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WirePart {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub thought: Option<bool>,
    #[serde(default)]
    pub function_call: Option<WireCall>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub args: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct WireContent {
    #[serde(default)]
    pub parts: Vec<WirePart>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireCandidate {
    #[serde(default)]
    pub content: Option<WireContent>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub index: Option<u32>,
}

/// A `GenerateContentResponse` (also each streamed event).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireResponse {
    #[serde(default)]
    pub candidates: Vec<WireCandidate>,
    #[serde(default)]
    pub usage_metadata: Option<WireUsage>,
    #[serde(default)]
    pub model_version: Option<String>,
    #[serde(default)]
    pub response_id: Option<String>,
    #[serde(default)]
    pub prompt_feedback: Option<Value>,
    #[serde(default)]
    pub error: Option<Value>,
}

/// `finishReason` in OpenAI's terms; a stop with function calls is `tool_calls`.
pub(super) fn finish_reason(reason: &str, has_calls: bool) -> FinishReason {
    match reason {
        "STOP" if has_calls => FinishReason::ToolCalls,
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            FinishReason::ContentFilter
        }
        other => FinishReason::Other(other.to_ascii_lowercase()),
    }
}

/// Gemini's function calls have no ids (or only sometimes): one is made from
/// the response id, the candidate and the call's position, so a call and
/// the result that answers it keep matching.
pub(super) fn call_id(call: &WireCall, response_id: &str, candidate: u32, position: u32) -> String {
    if let Some(id) = call.id.as_deref().filter(|id| !id.is_empty()) {
        return id.to_owned();
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [
        response_id.as_bytes(),
        call.name.as_bytes(),
        &candidate.to_le_bytes(),
        &position.to_le_bytes(),
    ] {
        for b in part {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        hash ^= 0x1f;
    }
    format!("call_{hash:016x}")
}

pub(super) fn arguments(args: Option<&Value>) -> String {
    match args {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(v) => v.to_string(),
    }
}

/// Seconds since the epoch: Gemini sends no `created`.
pub(super) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Parses a `generateContent` body.
pub(super) fn parse(cfg: &ProviderConfig, body: &[u8]) -> Result<ChatResponse> {
    let wire: WireResponse = crate::provider::decode_json(&cfg.id, body)?;
    if let Some(e) = &wire.error {
        return Err(super::error::from_value(cfg, 200, e, None));
    }
    let response_id = wire.response_id.clone().unwrap_or_default();
    let mut choices = Vec::with_capacity(wire.candidates.len().max(1));
    for (i, cand) in wire.candidates.into_iter().enumerate() {
        let index = cand
            .index
            .unwrap_or_else(|| u32::try_from(i).unwrap_or(u32::MAX));
        let mut text: Option<String> = None;
        let mut reasoning: Option<String> = None;
        let mut calls = Vec::new();
        for part in cand.content.map(|c| c.parts).unwrap_or_default() {
            if let Some(call) = &part.function_call {
                let position = u32::try_from(calls.len()).unwrap_or(u32::MAX);
                calls.push(ToolCall::function(
                    call_id(call, &response_id, index, position),
                    call.name.clone(),
                    arguments(call.args.as_ref()),
                ));
            } else if let Some(t) = part.text {
                let slot = if part.thought == Some(true) {
                    &mut reasoning
                } else {
                    &mut text
                };
                slot.get_or_insert_with(String::new).push_str(&t);
            }
        }
        let has_calls = !calls.is_empty();
        choices.push(Choice {
            index,
            message: Message {
                content: match text {
                    Some(t) => Some(Content::Text(t)),
                    None if has_calls => None,
                    None => Some(Content::Text(String::new())),
                },
                tool_calls: has_calls.then_some(calls),
                reasoning_content: reasoning,
                ..Message::assistant("")
            },
            finish_reason: cand
                .finish_reason
                .as_deref()
                .map(|r| finish_reason(r, has_calls)),
            logprobs: None,
        });
    }
    let mut extra = Map::new();
    if choices.is_empty() {
        // A blocked prompt has no candidates, only `promptFeedback`.
        choices.push(Choice {
            index: 0,
            message: Message::assistant(""),
            finish_reason: Some(FinishReason::ContentFilter),
            logprobs: None,
        });
    }
    if let Some(feedback) = wire.prompt_feedback {
        extra.insert("prompt_feedback".into(), feedback);
    }
    Ok(ChatResponse {
        id: response_id,
        object: "chat.completion".into(),
        created: now(),
        model: wire.model_version.unwrap_or_default(),
        choices,
        usage: wire.usage_metadata.unwrap_or_default().to_usage(),
        system_fingerprint: None,
        service_tier: None,
        provider: cfg.id.clone(),
        cost: None,
        extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::AdapterKind;
    use crate::types::Tool;

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "google".into(),
            kind: AdapterKind::Google,
            base_url: "https://generativelanguage.googleapis.com".into(),
            api_key: None,
        }
    }

    fn built(req: &ChatRequest) -> Value {
        serde_json::from_slice(&body(req).unwrap()).unwrap()
    }

    #[test]
    fn text_request_with_generation_config() {
        let mut req = ChatRequest::new(
            "google/gemini-2.5-flash",
            vec![Message::system("Be brief."), Message::user("Hello")],
        )
        .temperature(0.5)
        .max_tokens(50)
        .seed(3);
        req.stop = Some(crate::types::Stop::Many(vec!["END".into()]));
        req.n = Some(2);
        req.extra.insert("top_k".into(), json!(40));
        req.extra.insert("safetySettings".into(), json!([]));
        req.extra
            .insert("stream_options".into(), json!({"include_usage": true}));
        assert_eq!(
            built(&req),
            json!({
                "contents": [{"role": "user", "parts": [{"text": "Hello"}]}],
                "systemInstruction": {"parts": [{"text": "Be brief."}]},
                "generationConfig": {
                    "temperature": 0.5, "topK": 40, "maxOutputTokens": 50,
                    "stopSequences": ["END"], "candidateCount": 2, "seed": 3
                },
                "safetySettings": []
            })
        );
    }

    #[test]
    fn vision_parts() {
        let req = ChatRequest::new(
            "m",
            vec![Message::user_parts(vec![
                ContentPart::text("What is this?"),
                ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
                ContentPart::image_url("https://example.com/a.webp?x=1"),
            ])],
        );
        assert_eq!(
            built(&req)["contents"][0]["parts"],
            json!([
                {"text": "What is this?"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
                {"fileData": {"mimeType": "image/webp", "fileUri": "https://example.com/a.webp?x=1"}}
            ])
        );
    }

    #[test]
    fn tools_calls_and_results() {
        let tool = Tool::function(
            "get_weather",
            "Current weather",
            json!({"type": "object", "additionalProperties": false, "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        );
        let req = ChatRequest::new(
            "m",
            vec![
                Message::user("Weather?"),
                Message::assistant_tool_calls(vec![ToolCall::function(
                    "call_1",
                    "get_weather",
                    r#"{"city":"Paris"}"#,
                )]),
                Message::tool("call_1", "sunny"),
                Message::tool("call_1", r#"{"temp": 21}"#),
            ],
        )
        .tools(vec![tool])
        .tool_choice(ToolChoice::Function("get_weather".into()));
        let v = built(&req);
        assert_eq!(
            v["tools"],
            json!([{"functionDeclarations": [{"name": "get_weather", "description": "Current weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]}])
        );
        assert_eq!(
            v["toolConfig"],
            json!({"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}})
        );
        assert_eq!(
            v["contents"],
            json!([
                {"role": "user", "parts": [{"text": "Weather?"}]},
                {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get_weather", "response": {"content": "sunny"}}},
                    {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}}
                ]}
            ])
        );
        let orphan = ChatRequest::new("m", vec![Message::tool("nope", "x")]);
        assert_eq!(body(&orphan).unwrap_err().code(), "invalid_request");
    }

    #[test]
    fn tool_choice_modes() {
        let mode =
            |c: ToolChoice| tool_config(Some(&c)).unwrap()["functionCallingConfig"]["mode"].clone();
        assert_eq!(mode(ToolChoice::Auto), "AUTO");
        assert_eq!(mode(ToolChoice::None), "NONE");
        assert_eq!(mode(ToolChoice::Required), "ANY");
    }

    #[test]
    fn json_mode_and_schema() {
        let req = ChatRequest::new("m", vec![Message::user("x")])
            .response_format(ResponseFormat::JsonSchema {
                name: "r".into(),
                schema: json!({"type": "object", "properties": {"a": {"type": ["integer", "null"]}}, "additionalProperties": false}),
                strict: Some(true),
            });
        let v = built(&req);
        assert_eq!(
            v["generationConfig"]["responseMimeType"],
            "application/json"
        );
        assert_eq!(
            v["generationConfig"]["responseSchema"],
            json!({"type": "object", "properties": {"a": {"type": "integer", "nullable": true}}})
        );
        let req = ChatRequest::new("m", vec![Message::user("x")])
            .response_format(ResponseFormat::JsonObject);
        let v = built(&req);
        assert_eq!(
            v["generationConfig"],
            json!({"responseMimeType": "application/json"})
        );
    }

    /// A response in the shape of Gemini's API reference, with thinking.
    #[test]
    fn parses_reference_response() {
        let body = br#"{
          "candidates": [{
            "content": {"parts": [
              {"text": "The user greets me.", "thought": true},
              {"text": "Hello! How can I help?"}
            ], "role": "model"},
            "finishReason": "STOP", "index": 0, "avgLogprobs": -0.2
          }],
          "usageMetadata": {"promptTokenCount": 1200, "candidatesTokenCount": 7, "totalTokenCount": 1250,
            "cachedContentTokenCount": 1024, "thoughtsTokenCount": 43,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1200}]},
          "modelVersion": "gemini-2.5-flash",
          "responseId": "mAitaLmkHPPlz7IPvtfUqQ4"
        }"#;
        let r = parse(&cfg(), body).unwrap();
        assert_eq!(r.text(), Some("Hello! How can I help?"));
        assert_eq!(
            r.choices[0].message.reasoning_content.as_deref(),
            Some("The user greets me.")
        );
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(r.id, "mAitaLmkHPPlz7IPvtfUqQ4");
        assert_eq!(r.model, "gemini-2.5-flash");
        assert_eq!(r.usage.prompt_tokens, 1200);
        assert_eq!(r.usage.cached_tokens(), 1024);
        // Completion = candidates + thoughts.
        assert_eq!(r.usage.completion_tokens, 7 + 43);
        assert_eq!(r.usage.reasoning_tokens(), 43);
        assert_eq!(r.usage.total_tokens, 1250);
    }

    #[test]
    fn function_calls_get_stable_ids() {
        let body = br#"{"candidates":[{"content":{"role":"model","parts":[
            {"functionCall":{"name":"get_weather","args":{"city":"Paris"}}},
            {"functionCall":{"name":"get_weather","args":{"city":"Rome"}}},
            {"functionCall":{"id":"given-id","name":"noop"}}
          ]},"finishReason":"STOP"}],"responseId":"r1"}"#;
        let r = parse(&cfg(), body).unwrap();
        let calls = r.tool_calls();
        assert_eq!(calls.len(), 3);
        assert!(calls[0].id.starts_with("call_"));
        assert_ne!(calls[0].id, calls[1].id);
        assert_eq!(calls[0].id, parse(&cfg(), body).unwrap().tool_calls()[0].id);
        assert_eq!(calls[1].function.arguments, r#"{"city":"Rome"}"#);
        assert_eq!(calls[2].id, "given-id");
        assert_eq!(calls[2].function.arguments, "{}");
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(r.choices[0].message.content, None);
    }

    #[test]
    fn finish_reasons_and_blocked_prompts() {
        assert_eq!(finish_reason("MAX_TOKENS", false), FinishReason::Length);
        assert_eq!(finish_reason("SAFETY", false), FinishReason::ContentFilter);
        assert_eq!(
            finish_reason("MALFORMED_FUNCTION_CALL", false),
            FinishReason::Other("malformed_function_call".into())
        );
        let body = br#"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}}"#;
        let r = parse(&cfg(), body).unwrap();
        assert_eq!(
            r.choices[0].finish_reason,
            Some(FinishReason::ContentFilter)
        );
        assert_eq!(r.extra["prompt_feedback"]["blockReason"], "SAFETY");
        assert_eq!(r.usage.prompt_tokens, 8);
    }
}
