//! Mistral's REST API: chat completions, embeddings and models, with Mistral's
//! validation (422s in FastAPI/pydantic shape) and error bodies.

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

/// OpenAI request fields Mistral rejects as `extra_forbidden`; they reveal a
/// client that forwards OpenAI requests without translating them.
const FORBIDDEN_FIELDS: &[&str] = &[
    "stream_options",
    "max_completion_tokens",
    "user",
    "logit_bias",
    "store",
    "service_tier",
    "functions",
    "function_call",
    "modalities",
    "audio",
    "web_search_options",
];

/// Message fields from OpenAI's dialect that Mistral rejects.
const FORBIDDEN_MESSAGE_FIELDS: &[&str] = &[
    "refusal",
    "annotations",
    "audio",
    "function_call",
    "reasoning_content",
];

const TOOL_CALL_FIELDS: &[&str] = &["id", "type", "function", "index"];

const ROLES: &[&str] = &["assistant", "system", "tool", "user"];

/// Upper bound on `n`; the simulator builds every choice in memory.
const MAX_CHOICES: i64 = 128;

/// (id, context length, vision, function calling, fim)
const MODELS: &[(&str, u64, bool, bool, bool)] = &[
    ("mistral-large-latest", 131_072, true, true, false),
    ("mistral-medium-latest", 131_072, true, true, false),
    ("mistral-small-latest", 131_072, true, true, false),
    ("ministral-8b-latest", 131_072, false, true, false),
    ("ministral-3b-latest", 131_072, false, true, false),
    ("magistral-medium-latest", 40_960, true, true, false),
    ("magistral-small-latest", 40_960, true, true, false),
    ("codestral-latest", 256_000, false, true, true),
    ("devstral-small-latest", 131_072, false, true, false),
    ("pixtral-large-latest", 131_072, true, true, false),
    ("open-mistral-nemo", 131_072, false, true, false),
    ("mistral-embed", 8_192, false, false, false),
    ("codestral-embed", 8_192, false, false, false),
];

type Object = Map<String, Value>;
type Result<T> = std::result::Result<T, Reply>;

// ---------------------------------------------------------------------------
// Entry points used by the server.

pub(crate) fn handle(ctx: &Ctx<'_>) -> Reply {
    let authorized = match (bearer(ctx.headers), ctx.api_key) {
        (None, _) => false,
        (Some(key), Some(expected)) => key == expected,
        (Some(_), None) => true,
    };
    let reply = if authorized {
        route(ctx)
    } else {
        unauthorized()
    };
    decorate(reply, ctx.seq)
}

/// The body Mistral sends for `status`, used by status faults without a body.
pub(crate) fn status_error(ctx: &Ctx<'_>, status: u16, _retry_after: Option<u64>) -> Reply {
    let reply = match status {
        400 => error(
            400,
            "Invalid request",
            "invalid_request_error",
            Some("3000"),
        ),
        401 => unauthorized(),
        403 => Reply::json(403, json!({"detail": "Forbidden"})),
        404 => invalid_model(404, &request_model(ctx).unwrap_or_default()),
        422 => validation(vec![issue(
            "extra_forbidden",
            &[json!("body"), json!("simulated")],
            "Extra inputs are not permitted",
            Value::Bool(true),
        )]),
        429 => error(429, "Rate limit exceeded", "rate_limited", Some("1300")),
        s if s >= 500 => error(
            s,
            "Internal server error",
            "internal_server_error",
            Some("1000"),
        ),
        s => error(
            s,
            format!("Simulated error with status {s}."),
            "invalid_request_error",
            None,
        ),
    };
    decorate(reply, ctx.seq)
}

/// A status fault that brought its own body.
pub(crate) fn custom_error(ctx: &Ctx<'_>, status: u16, body: &str) -> Reply {
    decorate(
        Reply::raw(status, "application/json", body.to_owned()),
        ctx.seq,
    )
}

/// A malformed `x-simulator-fault` header, reported in Mistral's shape.
pub(crate) fn bad_fault_header(ctx: &Ctx<'_>, message: &str) -> Reply {
    decorate(
        error(
            400,
            format!("Invalid {FAULT_HEADER} header: {message}"),
            "invalid_request_error",
            None,
        ),
        ctx.seq,
    )
}

fn decorate(reply: Reply, seq: u64) -> Reply {
    let limited = reply.status == 429;
    let id = ids::hex(ids::seed(&["mistral-request", &seq.to_string()]), 32);
    let part = |range: std::ops::Range<usize>| id.get(range).unwrap_or_default();
    let correlation = format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    );
    reply
        .header("mistral-correlation-id", correlation)
        .header("x-ratelimit-limit-req-minute", "720")
        .header(
            "x-ratelimit-remaining-req-minute",
            if limited { "0" } else { "719" },
        )
        .header("x-ratelimit-limit-tokens-minute", "5000000")
        .header(
            "x-ratelimit-remaining-tokens-minute",
            if limited { "0" } else { "4999000" },
        )
}

fn route(ctx: &Ctx<'_>) -> Reply {
    let Some(path) = ctx.path.strip_prefix("/v1") else {
        return not_found();
    };
    let post = ctx.method == Method::POST;
    let get = ctx.method == Method::GET;
    let result = match path {
        "/chat/completions" if post => chat(ctx),
        "/embeddings" if post => embeddings(ctx),
        "/models" if get => Ok(list_models()),
        "/chat/completions" | "/embeddings" | "/models" => {
            Err(Reply::json(405, json!({"detail": "Method Not Allowed"})))
        }
        _ => match path.strip_prefix("/models/") {
            Some(id) if get => retrieve_model(id),
            _ => Err(not_found()),
        },
    };
    match result {
        Ok(reply) | Err(reply) => reply,
    }
}

// ---------------------------------------------------------------------------
// Errors.

fn error(status: u16, message: impl Into<String>, kind: &str, code: Option<&str>) -> Reply {
    Reply::json(
        status,
        json!({
            "object": "error",
            "message": message.into(),
            "type": kind,
            "param": null,
            "code": code,
            "raw_status_code": status
        }),
    )
}

fn unauthorized() -> Reply {
    Reply::json(401, json!({"detail": "Unauthorized"}))
}

fn not_found() -> Reply {
    Reply::json(404, json!({"detail": "Not Found"}))
}

fn invalid_model(status: u16, model: &str) -> Reply {
    error(
        status,
        format!("Invalid model: {model}"),
        "invalid_model",
        Some("1500"),
    )
}

/// One pydantic validation issue.
fn issue(kind: &str, loc: &[Value], msg: &str, input: Value) -> Value {
    json!({"type": kind, "loc": loc, "msg": msg, "input": input})
}

fn validation(detail: Vec<Value>) -> Reply {
    Reply::json(
        422,
        json!({
            "object": "error",
            "message": {"detail": detail},
            "type": "invalid_request_error",
            "param": null,
            "code": null
        }),
    )
}

fn parse_body(ctx: &Ctx<'_>) -> Result<Object> {
    match serde_json::from_slice::<Value>(ctx.body) {
        Ok(Value::Object(body)) => Ok(body),
        Ok(other) => Err(validation(vec![issue(
            "model_attributes_type",
            &[json!("body")],
            "Input should be a valid dictionary or object to extract fields from",
            other,
        )])),
        Err(e) => Err(validation(vec![json!({
            "type": "json_invalid",
            "loc": ["body", e.column()],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": e.to_string()}
        })])),
    }
}

fn request_model(ctx: &Ctx<'_>) -> Option<String> {
    let body: Value = serde_json::from_slice(ctx.body).ok()?;
    body.get("model")?.as_str().map(str::to_owned)
}

fn present<'a>(body: &'a Object, key: &str) -> Option<&'a Value> {
    body.get(key).filter(|v| !v.is_null())
}

/// Type checks for optional scalar fields, collecting pydantic issues.
fn check_types(body: &Object, issues: &mut Vec<Value>, fields: &[(&str, &str)]) {
    for (key, kind) in fields {
        let Some(value) = present(body, key) else {
            continue;
        };
        let (ok, issue_type, msg) = match *kind {
            "int" => (
                value.is_i64() || value.is_u64(),
                "int_type",
                "Input should be a valid integer",
            ),
            "float" => (
                value.is_number(),
                "float_type",
                "Input should be a valid number",
            ),
            "bool" => (
                value.is_boolean(),
                "bool_type",
                "Input should be a valid boolean",
            ),
            _ => (
                value.is_string(),
                "string_type",
                "Input should be a valid string",
            ),
        };
        if !ok {
            issues.push(issue(
                issue_type,
                &[json!("body"), json!(key)],
                msg,
                value.clone(),
            ));
        }
    }
}

fn model_field<'a>(body: &'a Object, issues: &mut Vec<Value>) -> Option<&'a str> {
    match body.get("model") {
        None => {
            issues.push(issue(
                "missing",
                &[json!("body"), json!("model")],
                "Field required",
                Value::Object(body.clone()),
            ));
            None
        }
        Some(Value::String(model)) => Some(model),
        Some(other) => {
            issues.push(issue(
                "string_type",
                &[json!("body"), json!("model")],
                "Input should be a valid string",
                other.clone(),
            ));
            None
        }
    }
}

// ---------------------------------------------------------------------------
// Models.

fn is_known_model(model: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "mistral",
        "ministral",
        "codestral",
        "magistral",
        "pixtral",
        "open-",
        "devstral",
        "voxtral",
    ];
    let base = model.strip_prefix("ft:").unwrap_or(model);
    model != crate::MISSING_MODEL && PREFIXES.iter().any(|p| base.starts_with(p))
}

/// Mistral answers an unknown model with a 400; the reserved missing model
/// gets a 404 so clients' not-found handling can be exercised too.
fn check_model(model: &str) -> Result<()> {
    if model == crate::MISSING_MODEL {
        Err(invalid_model(404, model))
    } else if is_known_model(model) {
        Ok(())
    } else {
        Err(invalid_model(400, model))
    }
}

fn model_card(id: &str, context: u64, vision: bool, tools: bool, fim: bool) -> Value {
    let chat = !id.contains("embed");
    json!({
        "id": id,
        "object": "model",
        "created": 1_735_689_600,
        "owned_by": "mistralai",
        "capabilities": {
            "completion_chat": chat,
            "completion_fim": fim,
            "function_calling": tools,
            "fine_tuning": false,
            "vision": vision,
            "classification": false
        },
        "name": id,
        "description": format!("Simulated {id}"),
        "max_context_length": context,
        "aliases": [],
        "deprecation": null,
        "deprecation_replacement_model": null,
        "default_model_temperature": if chat { json!(0.3) } else { Value::Null },
        "type": "base"
    })
}

fn list_models() -> Reply {
    let data: Vec<Value> = MODELS
        .iter()
        .map(|(id, context, vision, tools, fim)| model_card(id, *context, *vision, *tools, *fim))
        .collect();
    Reply::json(200, json!({"object": "list", "data": data}))
}

fn retrieve_model(id: &str) -> Result<Reply> {
    if let Some((id, context, vision, tools, fim)) = MODELS.iter().find(|m| m.0 == id) {
        return Ok(Reply::json(
            200,
            model_card(id, *context, *vision, *tools, *fim),
        ));
    }
    if !is_known_model(id) {
        return Err(invalid_model(404, id));
    }
    Ok(Reply::json(
        200,
        model_card(id, 131_072, false, true, false),
    ))
}

// ---------------------------------------------------------------------------
// Chat completions.

fn is_mistral_id(id: &str) -> bool {
    id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn role(message: &Value) -> &str {
    message.get("role").and_then(Value::as_str).unwrap_or("")
}

/// Pydantic-style checks of the messages array.
fn check_messages(messages: &[Value], issues: &mut Vec<Value>) {
    if messages.is_empty() {
        issues.push(issue(
            "too_short",
            &[json!("body"), json!("messages")],
            "List should have at least 1 item after validation, not 0",
            json!([]),
        ));
    }
    for (i, message) in messages.iter().enumerate() {
        let at = [json!("body"), json!("messages"), json!(i)];
        let Some(fields) = message.as_object() else {
            issues.push(issue(
                "model_attributes_type",
                &at,
                "Input should be a valid dictionary or object to extract fields from",
                message.clone(),
            ));
            continue;
        };
        let Some(role) = fields.get("role").and_then(Value::as_str) else {
            issues.push(issue(
                "union_tag_not_found",
                &at,
                "Unable to extract tag using discriminator 'role'",
                message.clone(),
            ));
            continue;
        };
        if !ROLES.contains(&role) {
            issues.push(issue(
                "union_tag_invalid",
                &at,
                &format!(
                    "Input tag '{role}' found using 'role' does not match any of the expected tags: 'assistant', 'system', 'tool', 'user'"
                ),
                message.clone(),
            ));
            continue;
        }
        let field_loc = |field: &str| -> Vec<Value> {
            let mut loc = at.to_vec();
            loc.push(json!(role));
            loc.push(json!(field));
            loc
        };
        if role != "assistant" && !fields.contains_key("content") {
            issues.push(issue(
                "missing",
                &field_loc("content"),
                "Field required",
                message.clone(),
            ));
        }
        for (key, value) in fields {
            let forbidden = FORBIDDEN_MESSAGE_FIELDS.contains(&key.as_str())
                || (key == "name" && role != "tool")
                || (key == "tool_calls" && role != "assistant");
            if forbidden {
                issues.push(issue(
                    "extra_forbidden",
                    &field_loc(key),
                    "Extra inputs are not permitted",
                    value.clone(),
                ));
            }
        }
        if role != "assistant" {
            continue;
        }
        let calls = fields
            .get("tool_calls")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (j, call) in calls.iter().enumerate() {
            let Some(call) = call.as_object() else {
                continue;
            };
            for (key, value) in call {
                if !TOOL_CALL_FIELDS.contains(&key.as_str()) {
                    let mut loc = field_loc("tool_calls");
                    loc.push(json!(j));
                    loc.push(json!(key));
                    issues.push(issue(
                        "extra_forbidden",
                        &loc,
                        "Extra inputs are not permitted",
                        value.clone(),
                    ));
                }
            }
        }
    }
}

/// Mistral insists on 9-character alphanumeric tool-call ids, in assistant
/// tool calls and in the tool messages answering them.
fn check_tool_ids(messages: &[Value]) -> Result<()> {
    for message in messages {
        let mut ids: Vec<&str> = message
            .get("tool_calls")
            .and_then(Value::as_array)
            .map(|calls| {
                calls
                    .iter()
                    .filter_map(|c| c.get("id").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(id) = message.get("tool_call_id").and_then(Value::as_str) {
            ids.push(id);
        }
        if let Some(bad) = ids.into_iter().find(|id| !is_mistral_id(id)) {
            return Err(error(
                400,
                format!("Tool call id was {bad} but must be a-z, A-Z, 0-9, with a length of 9."),
                "invalid_function_call",
                Some("3280"),
            ));
        }
    }
    Ok(())
}

fn check_last_role(messages: &[Value]) -> Result<()> {
    let Some(last) = messages.last() else {
        return Ok(());
    };
    let prefix = last.get("prefix").and_then(Value::as_bool) == Some(true);
    match role(last) {
        "user" | "tool" => Ok(()),
        "assistant" if prefix => Ok(()),
        other => Err(error(
            400,
            format!(
                "Expected last role User or Tool (or Assistant with prefix True) for serving but got {other}"
            ),
            "invalid_request_message_order",
            Some("3230"),
        )),
    }
}

fn stop_sequences(body: &Object) -> Vec<String> {
    match present(body, "stop") {
        Some(Value::String(stop)) => vec![stop.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn usage(prompt: u64, completion: u64) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

fn chat(ctx: &Ctx<'_>) -> Result<Reply> {
    let body = parse_body(ctx)?;
    let mut issues = Vec::new();
    let model = model_field(&body, &mut issues);
    let messages: &[Value] = match body.get("messages") {
        None => {
            issues.push(issue(
                "missing",
                &[json!("body"), json!("messages")],
                "Field required",
                Value::Object(body.clone()),
            ));
            &[]
        }
        Some(Value::Array(messages)) => {
            check_messages(messages, &mut issues);
            messages
        }
        Some(other) => {
            issues.push(issue(
                "list_type",
                &[json!("body"), json!("messages")],
                "Input should be a valid list",
                other.clone(),
            ));
            &[]
        }
    };
    for key in FORBIDDEN_FIELDS {
        if let Some(value) = body.get(*key) {
            issues.push(issue(
                "extra_forbidden",
                &[json!("body"), json!(key)],
                "Extra inputs are not permitted",
                value.clone(),
            ));
        }
    }
    check_types(
        &body,
        &mut issues,
        &[
            ("max_tokens", "int"),
            ("n", "int"),
            ("random_seed", "int"),
            ("temperature", "float"),
            ("top_p", "float"),
            ("stream", "bool"),
            ("safe_prompt", "bool"),
        ],
    );
    if let Some(n) = present(&body, "n").and_then(Value::as_i64) {
        let bound = if n < 1 {
            Some((
                "greater_than_equal",
                "Input should be greater than or equal to 1",
            ))
        } else if n > MAX_CHOICES {
            Some((
                "less_than_equal",
                "Input should be less than or equal to 128",
            ))
        } else {
            None
        };
        if let Some((kind, msg)) = bound {
            issues.push(issue(kind, &[json!("body"), json!("n")], msg, json!(n)));
        }
    }
    let Some(model) = model.filter(|_| issues.is_empty()) else {
        return Err(validation(issues));
    };
    check_model(model)?;
    check_tool_ids(messages)?;
    check_last_role(messages)?;

    let tools: &[Value] = present(&body, "tools")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let json_mode = matches!(
        body.get("response_format")
            .and_then(|f| f.get("type"))
            .and_then(Value::as_str),
        Some("json_object" | "json_schema")
    );
    let stop = stop_sequences(&body);
    let plan = chat::plan(&ChatRequest {
        messages,
        tools,
        tool_choice: present(&body, "tool_choice"),
        max_tokens: present(&body, "max_tokens").and_then(Value::as_u64),
        stop: &stop,
        n: present(&body, "n").and_then(Value::as_u64).unwrap_or(1),
        json_mode,
        usage_factor: ctx.usage_factor,
        max_usage: ctx.max_usage,
    });
    let rendering = ChatRendering {
        id: ids::hex(ids::seed(&["mistral-chat", &ctx.seq.to_string()]), 32),
        created: ids::now_secs(),
        model,
        seq: ctx.seq,
    };
    let usage = usage(plan.prompt_tokens, plan.completion_tokens);
    let stream = present(&body, "stream").and_then(Value::as_bool) == Some(true);
    Ok(if stream {
        Reply::events(rendering.events(&plan, usage))
    } else {
        Reply::json(200, rendering.body(&plan, usage))
    })
}

struct ChatRendering<'a> {
    id: String,
    created: u64,
    model: &'a str,
    seq: u64,
}

impl ChatRendering<'_> {
    fn tool_calls(&self, choice: usize, name: &str, arguments: &str) -> Value {
        let seed = ids::seed(&["mistral-call", &self.seq.to_string(), &choice.to_string()]);
        json!([{
            "id": ids::alnum(seed, 9),
            "type": "function",
            "function": {"name": name, "arguments": arguments},
            "index": 0
        }])
    }

    fn body(&self, plan: &Plan, usage: Value) -> Value {
        let choices: Vec<Value> = plan
            .choices
            .iter()
            .enumerate()
            .map(|(i, choice)| {
                let message = match &choice.output {
                    Output::Text(text) => {
                        json!({"role": "assistant", "tool_calls": null, "content": text})
                    }
                    Output::ToolCall { name, arguments } => json!({
                        "role": "assistant",
                        "tool_calls": self.tool_calls(i, name, arguments),
                        "content": ""
                    }),
                };
                json!({"index": i, "message": message, "finish_reason": choice.finish_reason})
            })
            .collect();
        json!({
            "id": self.id,
            "object": "chat.completion",
            "model": self.model,
            "usage": usage,
            "created": self.created,
            "choices": choices
        })
    }

    /// Mistral sends usage on the chunk that carries the final finish reason,
    /// with no opt-in, then `[DONE]`.
    fn events(&self, plan: &Plan, usage: Value) -> Vec<String> {
        let last = plan.choices.len().saturating_sub(1);
        let chunk = |i: usize, delta: Value, finish: Option<&str>| -> String {
            let mut chunk = json!({
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [{"index": i, "delta": delta, "finish_reason": finish}]
            });
            if let (Some(_), true, Value::Object(map)) = (finish, i == last, &mut chunk) {
                map.insert("usage".to_owned(), usage.clone());
            }
            chunk.to_string()
        };
        let mut events = Vec::new();
        for (i, choice) in plan.choices.iter().enumerate() {
            events.push(chunk(i, json!({"role": "assistant", "content": ""}), None));
            match &choice.output {
                Output::Text(text) => {
                    for piece in chat::text_pieces(text) {
                        events.push(chunk(i, json!({"content": piece}), None));
                    }
                    events.push(chunk(i, json!({"content": ""}), Some(choice.finish_reason)));
                }
                Output::ToolCall { name, arguments } => events.push(chunk(
                    i,
                    json!({"tool_calls": self.tool_calls(i, name, arguments)}),
                    Some(choice.finish_reason),
                )),
            }
        }
        events.push("[DONE]".to_owned());
        events
    }
}

// ---------------------------------------------------------------------------
// Embeddings.

fn embeddings(ctx: &Ctx<'_>) -> Result<Reply> {
    let body = parse_body(ctx)?;
    let mut issues = Vec::new();
    let model = model_field(&body, &mut issues);
    let inputs: Vec<&str> = match body.get("input") {
        None => {
            issues.push(issue(
                "missing",
                &[json!("body"), json!("input")],
                "Field required",
                Value::Object(body.clone()),
            ));
            Vec::new()
        }
        Some(Value::String(text)) => vec![text.as_str()],
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
            items.iter().filter_map(Value::as_str).collect()
        }
        Some(other) => {
            issues.push(issue(
                "string_type",
                &[json!("body"), json!("input")],
                "Input should be a valid string",
                other.clone(),
            ));
            Vec::new()
        }
    };
    check_types(&body, &mut issues, &[("output_dimension", "int")]);
    let base64 = match present(&body, "encoding_format") {
        None => false,
        Some(Value::String(format)) if format == "float" => false,
        Some(Value::String(format)) if format == "base64" => true,
        Some(other) => {
            issues.push(issue(
                "enum",
                &[json!("body"), json!("encoding_format")],
                "Input should be 'float' or 'base64'",
                other.clone(),
            ));
            false
        }
    };
    let Some(model) = model.filter(|_| issues.is_empty()) else {
        return Err(validation(issues));
    };
    check_model(model)?;
    if !model.contains("embed") {
        return Err(invalid_model(400, model));
    }
    let native = if model.starts_with("mistral-embed") {
        1024
    } else {
        1536
    };
    let dims = present(&body, "output_dimension")
        .and_then(Value::as_u64)
        .filter(|d| (1..=3072).contains(d))
        .and_then(|d| usize::try_from(d).ok())
        .unwrap_or(native);
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let vector = embeddings::vector(text, dims);
            let embedding = if base64 {
                Value::from(embeddings::to_base64(&vector))
            } else {
                Value::from(vector)
            };
            json!({"object": "embedding", "embedding": embedding, "index": i})
        })
        .collect();
    let tokens: u64 = inputs.iter().map(|t| count_tokens(t)).sum();
    Ok(Reply::json(
        200,
        json!({
            "id": format!("embd-{}", ids::hex(ids::seed(&["mistral-embed", &ctx.seq.to_string()]), 32)),
            "object": "list",
            "data": data,
            "model": model,
            "usage": usage(tokens, 0)
        }),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn mistral_ids() {
        assert!(is_mistral_id("abcDEF123"));
        assert!(!is_mistral_id("call_abc12"));
        assert!(!is_mistral_id("abc"));
    }

    #[test]
    fn mistral_models() {
        assert!(is_known_model("mistral-small-latest"));
        assert!(is_known_model("open-mistral-nemo"));
        assert!(is_known_model("ft:open-mistral-7b:abc:xyz"));
        assert!(!is_known_model("gpt-4o"));
        assert!(!is_known_model("sim-missing"));
    }
}
