//! Cohere's v2 API: `POST /v2/chat` (JSON and SSE with Cohere's event
//! types) and `POST /v2/embed`, with bearer auth and `{"id", "message"}`
//! error bodies.
//!
//! v2 messages are close to OpenAI's, so the shared planner reads them almost
//! directly; the differences (upper-case `tool_choice`, `p`/`k`, tool plans,
//! billed units) are handled here.

use http::Method;
use serde_json::{Map, Value, json};

use crate::auth::bearer;
use crate::chat::{self, ChatRequest, Output, Plan};
use crate::embeddings;
use crate::faults::FAULT_HEADER;
use crate::ids;
use crate::reply::Reply;
use crate::server::Ctx;
use crate::tokens::count_tokens;

/// Fields `/v2/chat` accepts.
const CHAT_FIELDS: &[&str] = &[
    "model",
    "messages",
    "tools",
    "strict_tools",
    "documents",
    "citation_options",
    "response_format",
    "safety_mode",
    "max_tokens",
    "stop_sequences",
    "temperature",
    "seed",
    "frequency_penalty",
    "presence_penalty",
    "k",
    "p",
    "logprobs",
    "tool_choice",
    "thinking",
    "priority",
    "stream",
];

/// Tokens Cohere adds to every prompt for its own preamble: counted in
/// `usage.tokens.input_tokens` but not billed.
pub(crate) const PREAMBLE_TOKENS: u64 = 10;

type Object = Map<String, Value>;
type Result<T> = std::result::Result<T, Reply>;

// ---------------------------------------------------------------------------
// Entry points used by the server.

pub(crate) fn handle(ctx: &Ctx<'_>) -> Reply {
    match (bearer(ctx.headers), ctx.api_key) {
        (None, _) => error(401, "no api key supplied"),
        (Some(key), Some(expected)) if key != expected => error(401, "invalid api token"),
        _ => route(ctx),
    }
}

/// The body Cohere sends for `status`, used by status faults without a body.
pub(crate) fn status_error(_ctx: &Ctx<'_>, status: u16, _retry_after: Option<u64>) -> Reply {
    let message = match status {
        400 => "invalid request: simulated bad request",
        401 => "invalid api token",
        402 => "Please add a payment method to your account",
        404 => "model not found",
        429 => "You are using a Trial key, which is limited to 20 API calls / minute.",
        498 => "invalid token",
        503 => "service unavailable",
        _ => "internal server error, this has been reported to our developers",
    };
    error(status, message)
}

/// A status fault that brought its own body.
pub(crate) fn custom_error(_ctx: &Ctx<'_>, status: u16, body: &str) -> Reply {
    Reply::raw(status, "application/json", body.to_owned())
}

/// A malformed `x-simulator-fault` header, reported in Cohere's shape.
pub(crate) fn bad_fault_header(_ctx: &Ctx<'_>, message: &str) -> Reply {
    error(
        400,
        &format!("invalid request: {FAULT_HEADER} header: {message}"),
    )
}

fn error(status: u16, message: &str) -> Reply {
    let id = ids::hex(ids::seed(&["cohere-error", message]), 32);
    Reply::json(status, json!({"id": uuid(&id), "message": message}))
}

fn uuid(hex: &str) -> String {
    let part = |r: std::ops::Range<usize>| hex.get(r).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

fn route(ctx: &Ctx<'_>) -> Reply {
    let result = match (ctx.path, ctx.method == Method::POST) {
        ("/v2/chat", true) => chat(ctx),
        ("/v2/embed", true) => embed(ctx),
        ("/v2/chat" | "/v2/embed", false) => Err(error(405, "method not allowed")),
        _ => Err(error(404, "not found")),
    };
    match result {
        Ok(reply) | Err(reply) => reply,
    }
}

fn parse_body(ctx: &Ctx<'_>) -> Result<Object> {
    match serde_json::from_slice::<Value>(ctx.body) {
        Ok(Value::Object(b)) => Ok(b),
        _ => Err(error(400, "invalid request: body must be a JSON object")),
    }
}

fn model_of(body: &Object, kind: &str) -> Result<String> {
    let Some(model) = body.get("model").and_then(Value::as_str) else {
        return Err(error(400, "invalid request: model must be specified"));
    };
    let known = model != crate::MISSING_MODEL
        && match kind {
            "embed" => model.starts_with("embed-"),
            _ => model.starts_with("command") || model.starts_with("c4ai-aya"),
        };
    if known {
        Ok(model.to_owned())
    } else {
        Err(error(
            404,
            &format!(
                "model '{model}' not found, make sure the correct model ID was used and that you have access to the model."
            ),
        ))
    }
}

// ---------------------------------------------------------------------------
// Chat.

fn check_messages(messages: &[Value]) -> Result<()> {
    if messages.is_empty() {
        return Err(error(400, "invalid request: messages must not be empty"));
    }
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        if !["system", "user", "assistant", "tool"].contains(&role) {
            return Err(error(
                400,
                &format!(
                    "invalid request: messages[{i}].role must be one of system, user, assistant, tool"
                ),
            ));
        }
        for k in m.as_object().into_iter().flat_map(|o| o.keys()) {
            let allowed: &[&str] = match role {
                "assistant" => &["role", "content", "tool_calls", "tool_plan", "citations"],
                "tool" => &["role", "content", "tool_call_id"],
                _ => &["role", "content"],
            };
            if !allowed.contains(&k.as_str()) {
                return Err(error(
                    400,
                    &format!("invalid request: unknown field: messages[{i}].{k}"),
                ));
            }
        }
        if role == "tool" && m.get("tool_call_id").and_then(Value::as_str).is_none() {
            return Err(error(
                400,
                &format!("invalid request: messages[{i}].tool_call_id is required"),
            ));
        }
    }
    Ok(())
}

/// Tool-message content may be a string or document blocks; the planner
/// wants text.
fn flatten_tool_content(messages: &[Value]) -> Vec<Value> {
    messages
        .iter()
        .map(|m| {
            let mut m = m.clone();
            if m.get("role").and_then(Value::as_str) == Some("tool")
                && let Some(Value::Array(parts)) = m.get("content").cloned()
                && let Value::Object(o) = &mut m
            {
                let text: Vec<String> = parts
                    .iter()
                    .map(|p| match p.get("document").and_then(|d| d.get("data")) {
                        Some(Value::String(s)) => s.clone(),
                        Some(other) => other.to_string(),
                        None => p
                            .get("text")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                    })
                    .collect();
                o.insert("content".into(), Value::from(text.join(" ")));
            }
            m
        })
        .collect()
}

fn tool_plan(name: &str) -> String {
    format!("I will use the {name} tool.")
}

fn chat(ctx: &Ctx<'_>) -> Result<Reply> {
    let body = parse_body(ctx)?;
    if let Some(k) = body.keys().find(|k| !CHAT_FIELDS.contains(&k.as_str())) {
        return Err(error(
            400,
            &format!("invalid request: unknown field: parameter {k} is not a valid field"),
        ));
    }
    model_of(&body, "chat")?;
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    check_messages(&messages)?;
    let messages = flatten_tool_content(&messages);
    let tool_choice = match body.get("tool_choice") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "REQUIRED" => None,
        Some(Value::String(s)) if s == "NONE" => Some(json!("none")),
        Some(_) => {
            return Err(error(
                400,
                "invalid request: tool_choice must be one of REQUIRED, NONE",
            ));
        }
    };
    let json_mode = match body.get("response_format") {
        None | Some(Value::Null) => false,
        Some(f) => match f.get("type").and_then(Value::as_str) {
            Some("json_object") => true,
            Some("text") => false,
            _ => {
                return Err(error(
                    400,
                    "invalid request: response_format.type must be one of text, json_object",
                ));
            }
        },
    };
    let stop: Vec<String> = body
        .get("stop_sequences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let tools = body
        .get("tools")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let plan = chat::plan(&ChatRequest {
        messages: &messages,
        tools: &tools,
        tool_choice: tool_choice.as_ref(),
        max_tokens: body.get("max_tokens").and_then(Value::as_u64),
        stop: &stop,
        n: 1,
        json_mode,
        usage_factor: ctx.usage_factor,
        max_usage: ctx.max_usage,
    });
    let render = Rendering {
        id: uuid(&ids::hex(
            ids::seed(&["cohere-chat", &ctx.seq.to_string()]),
            32,
        )),
        seq: ctx.seq,
        stop_matched: !stop.is_empty()
            && plan
                .choices
                .first()
                .is_some_and(|c| c.finish_reason == "stop")
            && {
                let full = chat::reply_text(&messages);
                stop.iter()
                    .any(|s| !s.is_empty() && full.contains(s.as_str()))
            },
    };
    Ok(
        if body.get("stream").and_then(Value::as_bool) == Some(true) {
            Reply::named_events(
            render.events(&plan),
            (
                "message-end",
                &json!({"type": "message-end", "delta": {"finish_reason": "ERROR", "error": "internal server error"}}).to_string(),
            ),
        )
        } else {
            Reply::json(200, render.body(&plan))
        },
    )
}

struct Rendering {
    id: String,
    seq: u64,
    stop_matched: bool,
}

impl Rendering {
    fn call_id(&self, name: &str) -> String {
        format!(
            "{name}_{}",
            ids::alnum(ids::seed(&["cohere-call", &self.seq.to_string()]), 12).to_ascii_lowercase()
        )
    }

    fn output_tokens(plan: &Plan) -> u64 {
        if plan.maxed {
            return plan.completion_tokens;
        }
        match plan.choices.first().map(|c| &c.output) {
            Some(Output::ToolCall { name, .. }) => {
                plan.completion_tokens + count_tokens(&tool_plan(name))
            }
            _ => plan.completion_tokens,
        }
    }

    fn usage(plan: &Plan) -> Value {
        let output = Self::output_tokens(plan);
        json!({
            "billed_units": {"input_tokens": plan.prompt_tokens, "output_tokens": output},
            "tokens": {"input_tokens": plan.prompt_tokens + PREAMBLE_TOKENS, "output_tokens": output + 1}
        })
    }

    fn finish(&self, plan: &Plan) -> &'static str {
        match plan.choices.first().map(|c| c.finish_reason) {
            Some("tool_calls") => "TOOL_CALL",
            Some("length") => "MAX_TOKENS",
            _ if self.stop_matched => "STOP_SEQUENCE",
            _ => "COMPLETE",
        }
    }

    fn body(&self, plan: &Plan) -> Value {
        let message = match plan.choices.first().map(|c| &c.output) {
            Some(Output::ToolCall { name, arguments }) => json!({
                "role": "assistant",
                "tool_plan": tool_plan(name),
                "tool_calls": [{"id": self.call_id(name), "type": "function", "function": {"name": name, "arguments": arguments}}]
            }),
            Some(Output::Text(text)) => {
                json!({"role": "assistant", "content": [{"type": "text", "text": text}]})
            }
            None => json!({"role": "assistant", "content": []}),
        };
        json!({"id": self.id, "finish_reason": self.finish(plan), "message": message, "usage": Self::usage(plan)})
    }

    /// Cohere's event sequence: `message-start`; for text `content-start`,
    /// one `content-delta` per word, `content-end`; for a tool call one
    /// `tool-plan-delta` per word of the plan, `tool-call-start` (empty
    /// arguments), 8-character `tool-call-delta`s, `tool-call-end`; then
    /// `message-end` with the finish reason and usage. Each event is named
    /// after its `type`.
    fn events(&self, plan: &Plan) -> Vec<(&'static str, String)> {
        let mut events = vec![(
            "message-start",
            json!({"id": self.id, "type": "message-start", "delta": {"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": [], "citations": []}}}).to_string(),
        )];
        match plan.choices.first().map(|c| &c.output) {
            Some(Output::Text(text)) => {
                events.push(("content-start", json!({"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}}).to_string()));
                for piece in chat::text_pieces(text) {
                    events.push(("content-delta", json!({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": piece}}}}).to_string()));
                }
                events.push((
                    "content-end",
                    json!({"type": "content-end", "index": 0}).to_string(),
                ));
            }
            Some(Output::ToolCall { name, arguments }) => {
                for piece in chat::text_pieces(&tool_plan(name)) {
                    events.push(("tool-plan-delta", json!({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": piece}}}).to_string()));
                }
                events.push(("tool-call-start", json!({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {"id": self.call_id(name), "type": "function", "function": {"name": name, "arguments": ""}}}}}).to_string()));
                for fragment in chat::argument_fragments(arguments) {
                    events.push(("tool-call-delta", json!({"type": "tool-call-delta", "index": 0, "delta": {"message": {"tool_calls": {"function": {"arguments": fragment}}}}}).to_string()));
                }
                events.push((
                    "tool-call-end",
                    json!({"type": "tool-call-end", "index": 0}).to_string(),
                ));
            }
            None => {}
        }
        events.push((
            "message-end",
            json!({"type": "message-end", "delta": {"finish_reason": self.finish(plan), "usage": Self::usage(plan)}}).to_string(),
        ));
        events
    }
}

// ---------------------------------------------------------------------------
// Embed.

fn dimensions(model: &str) -> usize {
    if model.contains("light") {
        384
    } else if model.starts_with("embed-v4") {
        1536
    } else if model.starts_with("embed-v5") {
        2048
    } else {
        1024
    }
}

fn embed(ctx: &Ctx<'_>) -> Result<Reply> {
    let body = parse_body(ctx)?;
    let model = model_of(&body, "embed")?;
    let texts: Vec<&str> = body
        .get("texts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if texts.is_empty() {
        return Err(error(400, "invalid request: texts must not be empty"));
    }
    let input_type = body.get("input_type").and_then(Value::as_str);
    match input_type {
        Some("search_document" | "search_query" | "classification" | "clustering" | "image") => {}
        Some(other) => {
            return Err(error(
                400,
                &format!("invalid request: input_type {other} is not supported"),
            ));
        }
        None => {
            return Err(error(
                400,
                "invalid request: valid input_type must be provided with the provided model",
            ));
        }
    }
    let types: Vec<&str> = body
        .get("embedding_types")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if types.is_empty() {
        return Err(error(400, "invalid request: embedding_types is required"));
    }
    let native = dimensions(&model);
    let dims = match body.get("output_dimension").and_then(Value::as_u64) {
        None => native,
        Some(d @ (256 | 512 | 1024 | 1536)) if model.starts_with("embed-v4") => {
            usize::try_from(d).unwrap_or(native)
        }
        Some(d) => {
            return Err(error(
                400,
                &format!("invalid request: output_dimension {d} is not supported for {model}"),
            ));
        }
    };
    let vectors: Vec<Vec<f32>> = texts.iter().map(|t| embeddings::vector(t, dims)).collect();
    let mut by_type = Map::new();
    for t in types {
        let value = match t {
            "float" => json!(vectors),
            // Quantised types are answered with the float values rounded,
            // which keeps their length and order right.
            "int8" | "uint8" | "binary" | "ubinary" => json!(
                vectors
                    .iter()
                    .map(|v| v
                        .iter()
                        .map(|x| (x * 127.0).round() as i64)
                        .collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            ),
            "base64" => json!(
                vectors
                    .iter()
                    .map(|v| embeddings::to_base64(v))
                    .collect::<Vec<_>>()
            ),
            other => {
                return Err(error(
                    400,
                    &format!("invalid request: embedding type {other} is not supported"),
                ));
            }
        };
        by_type.insert(t.to_owned(), value);
    }
    let tokens: u64 = texts.iter().map(|t| count_tokens(t)).sum();
    Ok(Reply::json(
        200,
        json!({
            "id": uuid(&ids::hex(ids::seed(&["cohere-embed", &ctx.seq.to_string()]), 32)),
            "embeddings": by_type,
            "texts": texts,
            "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": tokens}},
            "response_type": "embeddings_by_type"
        }),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn document_tool_content_is_flattened() {
        let m = flatten_tool_content(&[json!({"role": "tool", "tool_call_id": "x",
            "content": [{"type": "document", "document": {"data": "sunny"}}]})]);
        assert_eq!(m[0]["content"], "sunny");
    }

    #[test]
    fn uuids_are_well_formed() {
        let id = uuid(&ids::hex(1, 32));
        assert_eq!(id.len(), 36);
        assert_eq!(id.matches('-').count(), 4);
    }
}
