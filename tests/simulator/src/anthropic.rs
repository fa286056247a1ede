//! Anthropic's Messages API: `POST /v1/messages` (JSON and named-event SSE)
//! and `GET /v1/models`, with Anthropic's auth headers, validation and
//! `{"type":"error","error":{…}}` bodies.
//!
//! The request is translated into the OpenAI-style messages the shared
//! planner understands (system prompt → one system message, `tool_result`
//! blocks → tool messages, `tool_use` blocks → tool calls), so replies and
//! token counts follow the same documented rules as every other provider.

use http::Method;
use serde_json::{Map, Value, json};

use crate::auth::bearer;
use crate::chat::{self, ChatRequest, Output, Plan};
use crate::faults::FAULT_HEADER;
use crate::ids;
use crate::reply::Reply;
use crate::server::Ctx;
use crate::tokens::count_tokens;

/// Top-level request fields the Messages API accepts; anything else is a 400.
const FIELDS: &[&str] = &[
    "model",
    "messages",
    "max_tokens",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "stream",
    "tools",
    "tool_choice",
    "metadata",
    "thinking",
    "service_tier",
    "container",
    "mcp_servers",
    "context_management",
];

/// The thinking text when extended thinking is enabled.
pub(crate) const THINKING_TEXT: &str = "Let me think about that.";

/// Models `GET /v1/models` lists.
const MODELS: &[(&str, &str)] = &[
    ("claude-opus-4-5-20251101", "Claude Opus 4.5"),
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5"),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5"),
];

type Object = Map<String, Value>;
type Result<T> = std::result::Result<T, Reply>;

// ---------------------------------------------------------------------------
// Entry points used by the server.

pub(crate) fn handle(ctx: &Ctx<'_>) -> Reply {
    // The API takes `x-api-key`; recent SDKs send the key as a bearer token,
    // which it accepts too.
    let key = ctx
        .headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| k.trim().to_owned())
        .filter(|k| !k.is_empty())
        .or_else(|| bearer(ctx.headers));
    let reply = match (key.as_deref(), ctx.api_key) {
        (None, _) => error(401, "authentication_error", "x-api-key header is required"),
        (Some(key), Some(expected)) if key != expected => {
            error(401, "authentication_error", "invalid x-api-key")
        }
        _ if ctx.headers.get("anthropic-version").is_none() => error(
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
        ),
        _ => route(ctx),
    };
    decorate(reply, ctx.seq)
}

/// The body Anthropic sends for `status`, used by status faults without a body.
pub(crate) fn status_error(ctx: &Ctx<'_>, status: u16, _retry_after: Option<u64>) -> Reply {
    let (kind, message) = match status {
        400 => ("invalid_request_error", "Invalid request"),
        401 => ("authentication_error", "invalid x-api-key"),
        403 => (
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        404 => ("not_found_error", "Not found"),
        413 => (
            "request_too_large",
            "Request exceeds the maximum allowed number of bytes.",
        ),
        429 => (
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit",
        ),
        529 => ("overloaded_error", "Overloaded"),
        _ => ("api_error", "Internal server error"),
    };
    decorate(error(status, kind, message), ctx.seq)
}

/// A status fault that brought its own body.
pub(crate) fn custom_error(ctx: &Ctx<'_>, status: u16, body: &str) -> Reply {
    decorate(
        Reply::raw(status, "application/json", body.to_owned()),
        ctx.seq,
    )
}

/// A malformed `x-simulator-fault` header, reported in Anthropic's shape.
pub(crate) fn bad_fault_header(ctx: &Ctx<'_>, message: &str) -> Reply {
    decorate(
        error(
            400,
            "invalid_request_error",
            &format!("Invalid {FAULT_HEADER} header: {message}"),
        ),
        ctx.seq,
    )
}

fn request_id(seq: u64) -> String {
    format!(
        "req_011C{}",
        ids::alnum(ids::seed(&["anthropic-request", &seq.to_string()]), 20)
    )
}

fn decorate(reply: Reply, seq: u64) -> Reply {
    let limited = reply.status == 429;
    reply
        .header("request-id", request_id(seq))
        .header("anthropic-organization-id", "sim-org")
        .header("anthropic-ratelimit-requests-limit", "4000")
        .header(
            "anthropic-ratelimit-requests-remaining",
            if limited { "0" } else { "3999" },
        )
        .header("anthropic-ratelimit-input-tokens-limit", "2000000")
        .header("anthropic-ratelimit-output-tokens-limit", "400000")
}

fn route(ctx: &Ctx<'_>) -> Reply {
    let post = ctx.method == Method::POST;
    let get = ctx.method == Method::GET;
    match ctx.path {
        "/v1/messages" if post => match messages(ctx) {
            Ok(reply) | Err(reply) => reply,
        },
        "/v1/models" if get => list_models(),
        "/v1/messages" | "/v1/models" => error(
            405,
            "invalid_request_error",
            &format!("Method {} not allowed", ctx.method),
        ),
        _ => error(404, "not_found_error", "Not found"),
    }
}

fn error(status: u16, kind: &str, message: &str) -> Reply {
    Reply::json(status, error_body(kind, message))
}

fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}})
}

fn invalid(message: impl AsRef<str>) -> Reply {
    error(400, "invalid_request_error", message.as_ref())
}

fn list_models() -> Reply {
    let data: Vec<Value> = MODELS
        .iter()
        .map(|(id, name)| {
            json!({"type": "model", "id": id, "display_name": name, "created_at": "2025-09-29T00:00:00Z"})
        })
        .collect();
    let first = MODELS.first().map(|m| m.0);
    let last = MODELS.last().map(|m| m.0);
    Reply::json(
        200,
        json!({"data": data, "has_more": false, "first_id": first, "last_id": last}),
    )
}

// ---------------------------------------------------------------------------
// Validation and translation to the shared planner's shape.

fn present<'a>(body: &'a Object, key: &str) -> Option<&'a Value> {
    body.get(key).filter(|v| !v.is_null())
}

/// A content value (string or blocks) as a list of blocks.
fn blocks(content: &Value) -> Vec<Value> {
    match content {
        Value::String(text) => vec![json!({"type": "text", "text": text})],
        Value::Array(items) => items.clone(),
        _ => Vec::new(),
    }
}

fn text_of(blocks: &[Value]) -> String {
    blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks one block the way the API does, returning a 400 message on error.
fn check_block(at: &str, block: &Value, role: &str) -> std::result::Result<(), String> {
    let kind = block.get("type").and_then(Value::as_str).unwrap_or("");
    match kind {
        "text" => match block.get("text").and_then(Value::as_str) {
            Some("") => Err(format!("{at}: text content blocks must be non-empty")),
            Some(_) => Ok(()),
            None => Err(format!("{at}.text: Field required")),
        },
        "image" => {
            let source = block.get("source");
            match source.and_then(|s| s.get("type")).and_then(Value::as_str) {
                Some("base64") => {
                    let media = source
                        .and_then(|s| s.get("media_type"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    if ["image/jpeg", "image/png", "image/gif", "image/webp"].contains(&media) {
                        Ok(())
                    } else {
                        Err(format!(
                            "{at}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"
                        ))
                    }
                }
                Some("url") => Ok(()),
                _ => Err(format!("{at}.source: Field required")),
            }
        }
        "tool_use" if role == "assistant" => {
            if block.get("input").is_some_and(Value::is_object) {
                Ok(())
            } else {
                Err(format!(
                    "{at}.tool_use.input: Input should be a valid dictionary"
                ))
            }
        }
        "tool_result" if role == "user" => Ok(()),
        "thinking" | "redacted_thinking" | "document" if role != "system" => Ok(()),
        other => Err(format!(
            "{at}: Input tag '{other}' found using 'type' does not match any of the expected tags"
        )),
    }
}

/// Translates the validated request into OpenAI-style messages.
fn translate(body: &Object) -> std::result::Result<Vec<Value>, String> {
    let mut out = Vec::new();
    match present(body, "system") {
        None => {}
        Some(Value::String(s)) => out.push(json!({"role": "system", "content": s})),
        Some(Value::Array(items)) => {
            for (i, b) in items.iter().enumerate() {
                if b.get("type").and_then(Value::as_str) != Some("text") {
                    return Err(format!("system.{i}.type: Input should be 'text'"));
                }
                check_block(&format!("system.{i}"), b, "user")?;
            }
            out.push(json!({"role": "system", "content": text_of(items)}));
        }
        Some(_) => return Err("system: Input should be a valid string".into()),
    }
    let messages = match body.get("messages") {
        Some(Value::Array(m)) => m,
        None => return Err("messages: Field required".into()),
        Some(_) => return Err("messages: Input should be a valid list".into()),
    };
    if messages.is_empty() {
        return Err("messages: at least one message is required".into());
    }
    let mut previous_tool_ids: Vec<String> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        match role {
            "user" | "assistant" => {}
            "system" => {
                return Err("messages: Unexpected role \"system\". The Messages API accepts a top-level `system` parameter, not \"system\" as an input message role.".into());
            }
            other => {
                return Err(format!(
                    "messages.{i}.role: Input should be 'user' or 'assistant', got '{other}'"
                ));
            }
        }
        let Some(content) = m.get("content") else {
            return Err(format!("messages.{i}.content: Field required"));
        };
        if content.as_str() == Some("") {
            return Err(format!(
                "messages.{i}: user messages must have non-empty content"
            ));
        }
        let list = blocks(content);
        let mut tool_ids = Vec::new();
        let mut calls = Vec::new();
        let mut visible = Vec::new();
        for (j, b) in list.iter().enumerate() {
            let at = format!("messages.{i}.content.{j}");
            check_block(&at, b, role)?;
            match b.get("type").and_then(Value::as_str) {
                Some("tool_result") => {
                    let id = b.get("tool_use_id").and_then(Value::as_str).unwrap_or("");
                    if !previous_tool_ids.iter().any(|p| p == id) {
                        return Err(format!(
                            "{at}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
                        ));
                    }
                    let text = b
                        .get("content")
                        .map(|c| text_of(&blocks(c)))
                        .unwrap_or_default();
                    out.push(json!({"role": "tool", "tool_call_id": id, "content": text}));
                }
                Some("tool_use") => {
                    let id = b.get("id").and_then(Value::as_str).unwrap_or("");
                    tool_ids.push(id.to_owned());
                    calls.push(json!({"id": id, "type": "function", "function": {
                        "name": b.get("name").and_then(Value::as_str).unwrap_or(""),
                        "arguments": b.get("input").map(Value::to_string).unwrap_or_default()
                    }}));
                }
                Some("image") => visible.push(json!({"type": "image"})),
                Some("text") => visible.push(b.clone()),
                _ => {}
            }
        }
        if !visible.is_empty() || !calls.is_empty() {
            let mut msg = json!({"role": role, "content": visible});
            if !calls.is_empty()
                && let Value::Object(o) = &mut msg
            {
                o.insert("tool_calls".into(), Value::Array(calls));
            }
            out.push(msg);
        }
        previous_tool_ids = tool_ids;
    }
    Ok(out)
}

/// OpenAI-style tools and tool choice from Anthropic's.
fn translate_tools(body: &Object) -> std::result::Result<(Vec<Value>, Option<Value>), String> {
    let mut tools = Vec::new();
    if let Some(list) = present(body, "tools") {
        let Some(list) = list.as_array() else {
            return Err("tools: Input should be a valid list".into());
        };
        for (i, t) in list.iter().enumerate() {
            let Some(name) = t.get("name").and_then(Value::as_str) else {
                return Err(format!("tools.{i}.custom.name: Field required"));
            };
            let Some(schema) = t.get("input_schema").filter(|s| s.is_object()) else {
                return Err(format!("tools.{i}.custom.input_schema: Field required"));
            };
            if schema.get("type").and_then(Value::as_str) != Some("object") {
                return Err(format!(
                    "tools.{i}.custom.input_schema.type: Input should be 'object'"
                ));
            }
            let mut function = json!({"name": name, "parameters": schema});
            if let (Some(d), Value::Object(f)) = (t.get("description"), &mut function) {
                f.insert("description".into(), d.clone());
            }
            tools.push(json!({"type": "function", "function": function}));
        }
    }
    let choice = match present(body, "tool_choice") {
        None => None,
        Some(c) => match c.get("type").and_then(Value::as_str) {
            Some("auto" | "any") => None,
            Some("none") => Some(json!("none")),
            Some("tool") => match c.get("name").and_then(Value::as_str) {
                Some(name) => Some(json!({"type": "function", "function": {"name": name}})),
                None => return Err("tool_choice.tool.name: Field required".into()),
            },
            _ => {
                return Err(
                    "tool_choice: Input tag found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'"
                        .into(),
                );
            }
        },
    };
    Ok((tools, choice))
}

fn stop_sequences(body: &Object) -> std::result::Result<Vec<String>, String> {
    match present(body, "stop_sequences") {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => Ok(items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()),
        Some(_) => Err("stop_sequences: Input should be a valid list of strings".into()),
    }
}

fn mentions_cache_control(value: &Value) -> bool {
    match value {
        Value::Object(o) => {
            o.contains_key("cache_control") || o.values().any(mentions_cache_control)
        }
        Value::Array(a) => a.iter().any(mentions_cache_control),
        _ => false,
    }
}

/// The usage object. With `cache_control` anywhere in the request, a
/// deterministic split stands in for a real cache: half the prompt is read
/// from the cache, a quarter written to it, the rest is plain input.
fn usage(prompt: u64, output: u64, cached: bool) -> Value {
    let (read, created) = if cached {
        (prompt / 2, prompt / 4)
    } else {
        (0, 0)
    };
    json!({
        "input_tokens": prompt - read - created,
        "cache_creation_input_tokens": created,
        "cache_read_input_tokens": read,
        "output_tokens": output,
        "service_tier": "standard"
    })
}

fn messages(ctx: &Ctx<'_>) -> Result<Reply> {
    let body: Object = match serde_json::from_slice::<Value>(ctx.body) {
        Ok(Value::Object(b)) => b,
        Ok(_) => return Err(invalid("Input should be a valid dictionary")),
        Err(e) => {
            return Err(invalid(format!(
                "There was an issue with your request body: {e}"
            )));
        }
    };
    if let Some(extra) = body.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(format!("{extra}: Extra inputs are not permitted")));
    }
    let model = match body.get("model") {
        Some(Value::String(m)) => m.clone(),
        None => return Err(invalid("model: Field required")),
        Some(_) => return Err(invalid("model: Input should be a valid string")),
    };
    let max_tokens = match body.get("max_tokens") {
        Some(v) => match v.as_u64() {
            Some(n) if n >= 1 => n,
            _ => {
                return Err(invalid(
                    "max_tokens: Input should be greater than or equal to 1",
                ));
            }
        },
        None => return Err(invalid("max_tokens: Field required")),
    };
    for (key, ok) in [
        (
            "temperature",
            present(&body, "temperature")
                .is_none_or(|t| t.as_f64().is_some_and(|t| (0.0..=1.0).contains(&t))),
        ),
        (
            "top_p",
            present(&body, "top_p").is_none_or(Value::is_number),
        ),
        ("top_k", present(&body, "top_k").is_none_or(|k| k.is_u64())),
        (
            "stream",
            present(&body, "stream").is_none_or(Value::is_boolean),
        ),
        (
            "metadata",
            present(&body, "metadata")
                .is_none_or(|m| m.get("user_id").is_none_or(Value::is_string)),
        ),
    ] {
        if !ok {
            return Err(invalid(format!("{key}: Input is not valid")));
        }
    }
    let messages = translate(&body).map_err(invalid)?;
    let (tools, tool_choice) = translate_tools(&body).map_err(invalid)?;
    let stop = stop_sequences(&body).map_err(invalid)?;
    if model == crate::MISSING_MODEL || !model.starts_with("claude-") {
        return Err(error(404, "not_found_error", &format!("model: {model}")));
    }
    let thinking = present(&body, "thinking")
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str)
        == Some("enabled");
    let plan = chat::plan(&ChatRequest {
        messages: &messages,
        tools: &tools,
        tool_choice: tool_choice.as_ref(),
        max_tokens: Some(max_tokens),
        stop: &stop,
        n: 1,
        json_mode: false,
        usage_factor: ctx.usage_factor,
        max_usage: ctx.max_usage,
    });
    // Which stop sequence cut the reply, if any: Anthropic names it.
    let matched_stop = match plan.choices.first().map(|c| &c.output) {
        Some(Output::Text(_)) => {
            let full = chat::reply_text(&messages);
            stop.iter()
                .filter(|s| !s.is_empty())
                .filter_map(|s| full.find(s.as_str()).map(|at| (at, s.clone())))
                .min()
                .map(|(_, s)| s)
        }
        _ => None,
    };
    let render = Rendering {
        id: format!(
            "msg_01{}",
            ids::alnum(ids::seed(&["anthropic-msg", &ctx.seq.to_string()]), 22)
        ),
        tool_id: format!(
            "toolu_01{}",
            ids::alnum(ids::seed(&["anthropic-tool", &ctx.seq.to_string()]), 22)
        ),
        model: &model,
        thinking,
        matched_stop,
        cached: mentions_cache_control(&Value::Object(body.clone())),
    };
    let stream = present(&body, "stream").and_then(Value::as_bool) == Some(true);
    Ok(if stream {
        Reply::named_events(
            render.events(&plan),
            (
                "error",
                &error_body("overloaded_error", "Overloaded").to_string(),
            ),
        )
    } else {
        Reply::json(200, render.body(&plan))
    })
}

struct Rendering<'a> {
    id: String,
    tool_id: String,
    model: &'a str,
    thinking: bool,
    matched_stop: Option<String>,
    cached: bool,
}

impl Rendering<'_> {
    fn output_tokens(&self, plan: &Plan) -> u64 {
        if plan.maxed {
            return plan.completion_tokens;
        }
        let thinking = if self.thinking {
            count_tokens(THINKING_TEXT)
        } else {
            0
        };
        plan.completion_tokens + thinking
    }

    /// `stop_reason` and `stop_sequence`.
    fn stop(&self, plan: &Plan) -> (&'static str, Value) {
        match plan.choices.first().map(|c| c.finish_reason) {
            Some("tool_calls") => ("tool_use", Value::Null),
            Some("length") => ("max_tokens", Value::Null),
            _ => match &self.matched_stop {
                Some(s) => ("stop_sequence", Value::from(s.as_str())),
                None => ("end_turn", Value::Null),
            },
        }
    }

    fn content(&self, plan: &Plan) -> Vec<Value> {
        let mut content = Vec::new();
        if self.thinking {
            content.push(json!({"type": "thinking", "thinking": THINKING_TEXT, "signature": self.signature()}));
        }
        match plan.choices.first().map(|c| &c.output) {
            Some(Output::Text(text)) if !text.is_empty() => {
                content.push(json!({"type": "text", "text": text}));
            }
            Some(Output::ToolCall { name, arguments }) => {
                let input: Value =
                    serde_json::from_str(arguments).unwrap_or(Value::Object(Map::new()));
                content.push(
                    json!({"type": "tool_use", "id": self.tool_id, "name": name, "input": input}),
                );
            }
            _ => {}
        }
        content
    }

    fn signature(&self) -> String {
        ids::alnum(ids::seed(&["anthropic-signature", &self.id]), 48)
    }

    fn body(&self, plan: &Plan) -> Value {
        let (stop_reason, stop_sequence) = self.stop(plan);
        json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": self.content(plan),
            "stop_reason": stop_reason,
            "stop_sequence": stop_sequence,
            "usage": usage(plan.prompt_tokens, self.output_tokens(plan), self.cached)
        })
    }

    /// The event sequence of Anthropic's streaming reference: `message_start`
    /// (input usage, `output_tokens: 1`), each block's start, deltas (one per
    /// word; tool input in 8-character `input_json_delta`s after an empty
    /// one) and stop, a `ping` after the first block starts, `message_delta`
    /// with the stop reason and cumulative output tokens, `message_stop`.
    fn events(&self, plan: &Plan) -> Vec<(&'static str, String)> {
        let mut start_usage = usage(plan.prompt_tokens, 1, self.cached);
        if let Value::Object(u) = &mut start_usage {
            u.remove("service_tier");
        }
        let mut events = vec![(
            "message_start",
            json!({"type": "message_start", "message": {
                "id": self.id, "type": "message", "role": "assistant", "model": self.model,
                "content": [], "stop_reason": null, "stop_sequence": null, "usage": start_usage
            }})
            .to_string(),
        )];
        let mut index = 0u32;
        let mut block =
            |events: &mut Vec<(&'static str, String)>, start: Value, deltas: Vec<Value>| {
                events.push((
                    "content_block_start",
                    json!({"type": "content_block_start", "index": index, "content_block": start})
                        .to_string(),
                ));
                if index == 0 {
                    events.push(("ping", json!({"type": "ping"}).to_string()));
                }
                for delta in deltas {
                    events.push((
                        "content_block_delta",
                        json!({"type": "content_block_delta", "index": index, "delta": delta})
                            .to_string(),
                    ));
                }
                events.push((
                    "content_block_stop",
                    json!({"type": "content_block_stop", "index": index}).to_string(),
                ));
                index += 1;
            };
        if self.thinking {
            let mut deltas: Vec<Value> = chat::text_pieces(THINKING_TEXT)
                .into_iter()
                .map(|p| json!({"type": "thinking_delta", "thinking": p}))
                .collect();
            deltas.push(json!({"type": "signature_delta", "signature": self.signature()}));
            block(
                &mut events,
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                deltas,
            );
        }
        match plan.choices.first().map(|c| &c.output) {
            Some(Output::Text(text)) if !text.is_empty() => {
                let deltas = chat::text_pieces(text)
                    .into_iter()
                    .map(|p| json!({"type": "text_delta", "text": p}))
                    .collect();
                block(&mut events, json!({"type": "text", "text": ""}), deltas);
            }
            Some(Output::ToolCall { name, arguments }) => {
                let mut deltas = vec![json!({"type": "input_json_delta", "partial_json": ""})];
                deltas.extend(
                    chat::argument_fragments(arguments)
                        .into_iter()
                        .map(|f| json!({"type": "input_json_delta", "partial_json": f})),
                );
                block(
                    &mut events,
                    json!({"type": "tool_use", "id": self.tool_id, "name": name, "input": {}}),
                    deltas,
                );
            }
            _ => {}
        }
        let (stop_reason, stop_sequence) = self.stop(plan);
        events.push((
            "message_delta",
            json!({"type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
                "usage": {"output_tokens": self.output_tokens(plan)}})
            .to_string(),
        ));
        events.push(("message_stop", json!({"type": "message_stop"}).to_string()));
        events
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn object(v: Value) -> Object {
        match v {
            Value::Object(o) => o,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn translates_system_tools_and_results() {
        let body = object(json!({
            "system": [{"type": "text", "text": "Be brief."}],
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "w", "input": {"city": "Paris"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}]}
            ]
        }));
        let m = translate(&body).unwrap();
        assert_eq!(m[0], json!({"role": "system", "content": "Be brief."}));
        assert_eq!(
            m[2]["tool_calls"][0]["function"]["arguments"],
            r#"{"city":"Paris"}"#
        );
        assert_eq!(
            m[3],
            json!({"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"})
        );
        assert_eq!(chat::reply_text(&m), "Tool result received: sunny");
    }

    #[test]
    fn rejects_orphan_tool_results_and_system_role() {
        let orphan = object(json!({"messages": [
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "?"}]}
        ]}));
        assert!(translate(&orphan).unwrap_err().contains("tool_use_id"));
        let system = object(json!({"messages": [{"role": "system", "content": "x"}]}));
        assert!(
            translate(&system)
                .unwrap_err()
                .contains("top-level `system`")
        );
        let empty = object(
            json!({"messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}]}),
        );
        assert!(translate(&empty).unwrap_err().contains("non-empty"));
    }

    #[test]
    fn cache_split_adds_up() {
        let u = usage(101, 5, true);
        let total = [
            "input_tokens",
            "cache_creation_input_tokens",
            "cache_read_input_tokens",
        ]
        .iter()
        .map(|k| u[k].as_u64().unwrap())
        .sum::<u64>();
        assert_eq!(total, 101);
        assert_eq!(u["cache_read_input_tokens"], 50);
        assert_eq!(u["cache_creation_input_tokens"], 25);
    }
}
