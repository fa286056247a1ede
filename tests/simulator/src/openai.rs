//! OpenAI's REST API: chat completions, legacy completions, embeddings, image
//! generation and models, with OpenAI's error bodies and headers.

use http::Method;
use serde_json::{Map, Value, json};

use crate::auth::{bearer, mask_key};
use crate::chat::{self, ChatRequest, Output, Plan};
use crate::embeddings;
use crate::faults::FAULT_HEADER;
use crate::ids;
use crate::png::tiny_png;
use crate::reply::Reply;
use crate::server::Ctx;
use crate::tokens::count_tokens;

const FINGERPRINT: &str = "fp_simulator";

const PARSE_ERROR: &str = "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)";

const MISSING_KEY: &str = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.";

const INVALID_EMBEDDING_INPUT: &str = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.";

/// Legacy completions stop after this many tokens unless told otherwise.
const LEGACY_DEFAULT_MAX_TOKENS: i64 = 16;

/// Ids served by `GET /v1/models`, with creation times and owners.
const MODELS: &[(&str, u64, &str)] = &[
    ("gpt-4o", 1_715_367_049, "system"),
    ("gpt-4o-mini", 1_721_172_741, "system"),
    ("gpt-4.1", 1_744_316_542, "system"),
    ("gpt-4.1-mini", 1_744_318_173, "system"),
    ("gpt-4.1-nano", 1_744_321_707, "system"),
    ("gpt-5", 1_754_425_777, "system"),
    ("gpt-5-mini", 1_754_425_928, "system"),
    ("gpt-5-nano", 1_754_426_384, "system"),
    ("o1", 1_734_375_816, "system"),
    ("o3", 1_744_225_308, "system"),
    ("o3-mini", 1_737_146_383, "system"),
    ("o4-mini", 1_744_225_351, "system"),
    ("gpt-3.5-turbo", 1_677_610_602, "openai"),
    ("gpt-3.5-turbo-instruct", 1_692_901_427, "system"),
    ("davinci-002", 1_692_634_301, "system"),
    ("babbage-002", 1_692_634_615, "system"),
    ("text-embedding-3-small", 1_705_948_997, "system"),
    ("text-embedding-3-large", 1_705_953_180, "system"),
    ("text-embedding-ada-002", 1_671_217_299, "openai-internal"),
    ("dall-e-2", 1_698_798_177, "system"),
    ("dall-e-3", 1_698_785_189, "system"),
    ("gpt-image-1", 1_745_517_030, "system"),
    ("gpt-image-1-mini", 1_758_845_821, "system"),
    ("gpt-image-1.5", 1_765_152_000, "system"),
];

type Object = Map<String, Value>;
type Result<T> = std::result::Result<T, Reply>;

// ---------------------------------------------------------------------------
// Entry points used by the server.

pub(crate) fn handle(ctx: &Ctx<'_>) -> Reply {
    let reply = match authorize(ctx) {
        Ok(()) => route(ctx),
        Err(reply) => reply,
    };
    decorate(reply, ctx.seq)
}

/// The body OpenAI sends for `status`, used by status faults without a body.
pub(crate) fn status_error(ctx: &Ctx<'_>, status: u16, retry_after: Option<u64>) -> Reply {
    let model = request_model(ctx).unwrap_or_else(|| "gpt-4o-mini".to_owned());
    let reply = match status {
        400 => invalid(PARSE_ERROR, None, None),
        401 => match bearer(ctx.headers) {
            Some(key) => incorrect_key(&key),
            None => error(401, MISSING_KEY, "invalid_request_error", None, None),
        },
        403 => error(
            403,
            "Country, region, or territory not supported",
            "request_forbidden",
            None,
            Some("unsupported_country_region_territory"),
        ),
        404 => model_not_found(&model),
        429 => {
            let wait = retry_after.map_or_else(|| "120ms".to_owned(), |s| format!("{s}s"));
            error(
                429,
                format!(
                    "Rate limit reached for {model} in organization org-simulator on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in {wait}. Visit https://platform.openai.com/account/rate-limits to learn more."
                ),
                "requests",
                None,
                Some("rate_limit_exceeded"),
            )
        }
        // Cloudflare answers these in front of OpenAI, with its own shape.
        502 => Reply::json(
            502,
            json!({"error": {"code": 502, "message": "Bad gateway.", "param": null, "type": "cf_bad_gateway"}}),
        ),
        504 => Reply::json(
            504,
            json!({"error": {"code": 504, "message": "Gateway timeout.", "param": null, "type": "cf_gateway_timeout"}}),
        ),
        503 => error(
            503,
            "The server is overloaded or not ready yet.",
            "server_error",
            None,
            None,
        ),
        s if s >= 500 => error(
            s,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            None,
            None,
        ),
        s => error(
            s,
            format!("Simulated error with status {s}."),
            "invalid_request_error",
            None,
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

/// A malformed `x-simulator-fault` header, reported in OpenAI's shape.
pub(crate) fn bad_fault_header(ctx: &Ctx<'_>, message: &str) -> Reply {
    decorate(
        invalid(
            format!("Invalid {FAULT_HEADER} header: {message}"),
            None,
            None,
        ),
        ctx.seq,
    )
}

/// OpenAI's 429 for an account out of credit.
pub(crate) fn insufficient_quota_body() -> String {
    json!({"error": {
        "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "type": "insufficient_quota",
        "param": null,
        "code": "insufficient_quota"
    }})
    .to_string()
}

/// Cached prompt tokens: the largest multiple of 128 not above
/// `prompt_tokens - 128`, if that is at least 1024; otherwise 0.
pub(crate) fn cached_tokens(prompt_tokens: u64) -> u64 {
    let cached = prompt_tokens.saturating_sub(128) / 128 * 128;
    if cached >= 1024 { cached } else { 0 }
}

fn decorate(reply: Reply, seq: u64) -> Reply {
    let limited = reply.status == 429;
    let request_id = ids::hex(ids::seed(&["openai-request", &seq.to_string()]), 32);
    reply
        .header("x-request-id", format!("req_{request_id}"))
        .header("openai-version", "2020-10-01")
        .header("openai-processing-ms", "1")
        .header("x-ratelimit-limit-requests", "10000")
        .header(
            "x-ratelimit-remaining-requests",
            if limited { "0" } else { "9999" },
        )
        .header("x-ratelimit-reset-requests", "6ms")
        .header("x-ratelimit-limit-tokens", "30000000")
        .header(
            "x-ratelimit-remaining-tokens",
            if limited { "0" } else { "29999000" },
        )
        .header("x-ratelimit-reset-tokens", "0s")
}

fn authorize(ctx: &Ctx<'_>) -> Result<()> {
    match (bearer(ctx.headers), ctx.api_key) {
        (None, _) => Err(error(401, MISSING_KEY, "invalid_request_error", None, None)),
        (Some(key), Some(expected)) if key != expected => Err(incorrect_key(&key)),
        _ => Ok(()),
    }
}

fn incorrect_key(key: &str) -> Reply {
    error(
        401,
        format!(
            "Incorrect API key provided: {}. You can find your API key at https://platform.openai.com/account/api-keys.",
            mask_key(key)
        ),
        "invalid_request_error",
        None,
        Some("invalid_api_key"),
    )
}

fn route(ctx: &Ctx<'_>) -> Reply {
    let Some(path) = ctx.path.strip_prefix("/v1") else {
        return invalid_url(ctx);
    };
    let post = ctx.method == Method::POST;
    let get = ctx.method == Method::GET;
    let result = match path {
        "/chat/completions" if post => chat(ctx),
        "/completions" if post => completions(ctx),
        "/embeddings" if post => embeddings(ctx),
        "/images/generations" if post => images(ctx),
        "/models" if get => Ok(list_models()),
        _ => match path.strip_prefix("/models/") {
            Some(id) if get => retrieve_model(id),
            _ => Err(invalid_url(ctx)),
        },
    };
    match result {
        Ok(reply) | Err(reply) => reply,
    }
}

// ---------------------------------------------------------------------------
// Errors and parameter reading, worded as OpenAI words them.

fn error(
    status: u16,
    message: impl Into<String>,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Reply {
    Reply::json(
        status,
        json!({"error": {"message": message.into(), "type": kind, "param": param, "code": code}}),
    )
}

fn invalid(message: impl Into<String>, param: Option<&str>, code: Option<&str>) -> Reply {
    error(400, message, "invalid_request_error", param, code)
}

fn invalid_url(ctx: &Ctx<'_>) -> Reply {
    error(
        404,
        format!("Invalid URL ({} {})", ctx.method, ctx.path),
        "invalid_request_error",
        None,
        None,
    )
}

fn missing(param: &str) -> Reply {
    invalid(
        format!("Missing required parameter: '{param}'."),
        Some(param),
        Some("missing_required_parameter"),
    )
}

fn empty_array(param: &str) -> Reply {
    invalid(
        format!(
            "Invalid '{param}': empty array. Expected an array with minimum length 1, but got an empty array instead."
        ),
        Some(param),
        Some("empty_array"),
    )
}

fn invalid_value(param: &str, value: &str, supported: &[&str]) -> Reply {
    invalid(
        format!(
            "Invalid value: '{value}'. Supported values are: {}.",
            quote_list(supported)
        ),
        Some(param),
        Some("invalid_value"),
    )
}

/// `'a'`, `'a' and 'b'`, `'a', 'b', and 'c'`.
fn quote_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("'{i}'")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn invalid_type(param: &str, expected: &str, got: &Value) -> Reply {
    invalid(
        format!(
            "Invalid type for '{param}': expected {expected}, but got {} instead.",
            kind_of(got)
        ),
        Some(param),
        Some("invalid_type"),
    )
}

fn parse_body(ctx: &Ctx<'_>) -> Result<Object> {
    match serde_json::from_slice::<Value>(ctx.body) {
        Ok(Value::Object(body)) => Ok(body),
        _ => Err(invalid(PARSE_ERROR, None, None)),
    }
}

/// The `model` of the request body, if it has one; for fault messages.
fn request_model(ctx: &Ctx<'_>) -> Option<String> {
    let body: Value = serde_json::from_slice(ctx.body).ok()?;
    body.get("model")?.as_str().map(str::to_owned)
}

fn present<'a>(body: &'a Object, key: &str) -> Option<&'a Value> {
    body.get(key).filter(|v| !v.is_null())
}

fn opt_int(body: &Object, key: &str) -> Result<Option<i64>> {
    match present(body, key) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid_type(key, "an integer", v)),
    }
}

fn opt_num(body: &Object, key: &str) -> Result<Option<f64>> {
    match present(body, key) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| invalid_type(key, "a number", v)),
    }
}

fn opt_bool(body: &Object, key: &str) -> Result<Option<bool>> {
    match present(body, key) {
        None => Ok(None),
        Some(v) => v
            .as_bool()
            .map(Some)
            .ok_or_else(|| invalid_type(key, "a boolean", v)),
    }
}

fn opt_str<'a>(body: &'a Object, key: &str) -> Result<Option<&'a str>> {
    match present(body, key) {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .map(Some)
            .ok_or_else(|| invalid_type(key, "a string", v)),
    }
}

fn int_range(key: &str, value: i64, min: i64, max: Option<i64>) -> Result<()> {
    if value < min {
        return Err(invalid(
            format!(
                "Invalid '{key}': integer below minimum value. Expected a value >= {min}, but got {value} instead."
            ),
            Some(key),
            Some("integer_below_min_value"),
        ));
    }
    match max {
        Some(max) if value > max => Err(invalid(
            format!(
                "Invalid '{key}': integer above maximum value. Expected a value <= {max}, but got {value} instead."
            ),
            Some(key),
            Some("integer_above_max_value"),
        )),
        _ => Ok(()),
    }
}

fn num_range(key: &str, value: f64, min: f64, max: f64) -> Result<()> {
    if value < min {
        return Err(invalid(
            format!(
                "Invalid '{key}': decimal below minimum value. Expected a value >= {min}, but got {value} instead."
            ),
            Some(key),
            Some("decimal_below_min_value"),
        ));
    }
    if value > max {
        return Err(invalid(
            format!(
                "Invalid '{key}': decimal above maximum value. Expected a value <= {max}, but got {value} instead."
            ),
            Some(key),
            Some("decimal_above_max_value"),
        ));
    }
    Ok(())
}

fn require_model(body: &Object) -> Result<&str> {
    match present(body, "model") {
        Some(Value::String(model)) if !model.is_empty() => Ok(model),
        Some(Value::String(_)) | None => {
            Err(invalid("you must provide a model parameter", None, None))
        }
        Some(other) => Err(invalid_type("model", "a string", other)),
    }
}

fn sampling(body: &Object) -> Result<()> {
    if let Some(t) = opt_num(body, "temperature")? {
        num_range("temperature", t, 0.0, 2.0)?;
    }
    if let Some(p) = opt_num(body, "top_p")? {
        num_range("top_p", p, 0.0, 1.0)?;
    }
    Ok(())
}

fn stop_sequences(body: &Object) -> Result<Vec<String>> {
    match present(body, "stop") {
        None => Ok(Vec::new()),
        Some(Value::String(stop)) => Ok(vec![stop.clone()]),
        Some(Value::Array(items)) => {
            if items.len() > 4 {
                return Err(invalid(
                    format!(
                        "Invalid 'stop': array too long. Expected an array with maximum length 4, but got an array with length {} instead.",
                        items.len()
                    ),
                    Some("stop"),
                    Some("array_above_max_length"),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| invalid_type(&format!("stop[{i}]"), "a string", item))
                })
                .collect()
        }
        Some(other) => Err(invalid_type(
            "stop",
            "one of a string or array of strings",
            other,
        )),
    }
}

/// `include_usage`, refusing `stream_options` on a non-streaming request as
/// OpenAI does.
fn include_usage(body: &Object, stream: bool) -> Result<bool> {
    match present(body, "stream_options") {
        None => Ok(false),
        Some(_) if !stream => Err(invalid(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            Some("stream_options"),
            None,
        )),
        Some(Value::Object(options)) => Ok(options
            .get("include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false)),
        Some(other) => Err(invalid_type("stream_options", "an object", other)),
    }
}

fn positive(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

// ---------------------------------------------------------------------------
// Models.

/// Strips a fine-tune wrapper: `ft:gpt-4o-mini:org::id` → `gpt-4o-mini`.
fn base_model(model: &str) -> &str {
    match model.strip_prefix("ft:") {
        Some(rest) => rest.split(':').next().unwrap_or(rest),
        None => model,
    }
}

fn is_known_model(model: &str) -> bool {
    if model == crate::MISSING_MODEL {
        return false;
    }
    let m = base_model(model);
    const PREFIXES: &[&str] = &[
        "gpt-",
        "o1",
        "o3",
        "o4",
        "chatgpt-",
        "text-embedding-",
        "dall-e-",
        "gpt-image-",
    ];
    PREFIXES.iter().any(|p| m.starts_with(p)) || is_completion_model(model)
}

fn is_completion_model(model: &str) -> bool {
    let m = base_model(model);
    m.contains("-instruct") || m.starts_with("davinci-002") || m.starts_with("babbage-002")
}

fn is_embedding_model(model: &str) -> bool {
    base_model(model).starts_with("text-embedding-")
}

fn is_image_model(model: &str) -> bool {
    let m = base_model(model);
    m.starts_with("dall-e-") || m.starts_with("gpt-image-") || m.starts_with("chatgpt-image")
}

fn is_reasoning_model(model: &str) -> bool {
    let m = base_model(model);
    ["o1", "o3", "o4", "gpt-5"].iter().any(|p| m.starts_with(p))
}

fn model_not_found(model: &str) -> Reply {
    error(
        404,
        format!("The model `{model}` does not exist or you do not have access to it."),
        "invalid_request_error",
        None,
        Some("model_not_found"),
    )
}

fn check_model(model: &str) -> Result<()> {
    if is_known_model(model) {
        Ok(())
    } else {
        Err(model_not_found(model))
    }
}

fn model_object(id: &str, created: u64, owned_by: &str) -> Value {
    json!({"id": id, "object": "model", "created": created, "owned_by": owned_by})
}

fn list_models() -> Reply {
    let data: Vec<Value> = MODELS
        .iter()
        .map(|(id, created, owner)| model_object(id, *created, owner))
        .collect();
    Reply::json(200, json!({"object": "list", "data": data}))
}

fn retrieve_model(id: &str) -> Result<Reply> {
    if let Some((id, created, owner)) = MODELS.iter().find(|(m, _, _)| *m == id) {
        return Ok(Reply::json(200, model_object(id, *created, owner)));
    }
    check_model(id)?;
    Ok(Reply::json(200, model_object(id, 1_700_000_000, "system")))
}

// ---------------------------------------------------------------------------
// Chat completions.

const ROLES: &[&str] = &[
    "system",
    "assistant",
    "user",
    "function",
    "tool",
    "developer",
];

fn role(message: &Value) -> &str {
    message.get("role").and_then(Value::as_str).unwrap_or("")
}

fn tool_call_ids(message: &Value) -> Vec<&str> {
    message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(|calls| {
            calls
                .iter()
                .filter_map(|c| c.get("id").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

fn validate_messages(messages: &[Value]) -> Result<()> {
    for (i, message) in messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let Some(fields) = message.as_object() else {
            return Err(invalid_type(&at, "an object", message));
        };
        let role = match fields.get("role") {
            None | Some(Value::Null) => return Err(missing(&format!("{at}.role"))),
            Some(Value::String(role)) => role.as_str(),
            Some(other) => return Err(invalid_type(&format!("{at}.role"), "a string", other)),
        };
        if !ROLES.contains(&role) {
            return Err(invalid_value(&format!("{at}.role"), role, ROLES));
        }
        match fields.get("content") {
            // Assistant turns may carry only tool calls (or a refusal).
            None | Some(Value::Null) if role != "assistant" => {
                return Err(missing(&format!("{at}.content")));
            }
            Some(content @ (Value::Bool(_) | Value::Number(_) | Value::Object(_))) => {
                return Err(invalid_type(
                    &format!("{at}.content"),
                    "one of a string or array of objects",
                    content,
                ));
            }
            _ => {}
        }
        if role == "tool" && fields.get("tool_call_id").and_then(Value::as_str).is_none() {
            return Err(missing(&format!("{at}.tool_call_id")));
        }
    }

    // Tool messages must answer the tool calls right before them, all of them.
    let mut i = 0;
    while let Some(message) = messages.get(i) {
        if role(message) == "tool" {
            return Err(invalid(
                "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                Some(&format!("messages.[{i}].role")),
                None,
            ));
        }
        let start = i;
        i += 1;
        let mut pending = tool_call_ids(message);
        if role(message) != "assistant" || pending.is_empty() {
            continue;
        }
        while let Some(answer) = messages.get(i).filter(|m| role(m) == "tool") {
            let id = answer.get("tool_call_id").and_then(Value::as_str);
            pending.retain(|p| Some(*p) != id);
            i += 1;
        }
        if !pending.is_empty() {
            return Err(invalid(
                format!(
                    "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
                    pending.join(", ")
                ),
                Some(&format!("messages.[{start}].role")),
                None,
            ));
        }
    }
    Ok(())
}

fn tools(body: &Object) -> Result<&[Value]> {
    let tools = match present(body, "tools") {
        None => return Ok(&[]),
        Some(Value::Array(tools)) => tools,
        Some(other) => return Err(invalid_type("tools", "an array", other)),
    };
    if tools.is_empty() {
        return Err(empty_array("tools"));
    }
    for (i, tool) in tools.iter().enumerate() {
        match tool.get("type").and_then(Value::as_str) {
            None => return Err(missing(&format!("tools[{i}].type"))),
            Some("function") => {}
            Some(_) => continue,
        }
        let Some(function) = tool.get("function").filter(|f| f.is_object()) else {
            return Err(missing(&format!("tools[{i}].function")));
        };
        if function.get("name").and_then(Value::as_str).is_none() {
            return Err(missing(&format!("tools[{i}].function.name")));
        }
    }
    Ok(tools)
}

fn json_mode(body: &Object) -> Result<bool> {
    let format = match present(body, "response_format") {
        None => return Ok(false),
        Some(Value::Object(format)) => format,
        Some(other) => return Err(invalid_type("response_format", "an object", other)),
    };
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(false),
        Some("json_object") => Ok(true),
        Some("json_schema") => {
            let named = format
                .get("json_schema")
                .and_then(|s| s.get("name"))
                .and_then(Value::as_str)
                .is_some();
            if named {
                Ok(true)
            } else {
                Err(missing("response_format.json_schema.name"))
            }
        }
        Some(other) => Err(invalid_value(
            "response_format.type",
            other,
            &["text", "json_object", "json_schema"],
        )),
        None => Err(missing("response_format.type")),
    }
}

fn usage(prompt: u64, completion: u64, reasoning: u64) -> Value {
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached_tokens(prompt), "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0
        }
    })
}

fn with_field(mut value: Value, key: &str, field: Value) -> Value {
    if let Value::Object(map) = &mut value {
        map.insert(key.to_owned(), field);
    }
    value
}

fn chat(ctx: &Ctx<'_>) -> Result<Reply> {
    let body = parse_body(ctx)?;
    let model = require_model(&body)?;
    let messages = match present(&body, "messages") {
        None => return Err(missing("messages")),
        Some(Value::Array(messages)) => messages,
        Some(other) => return Err(invalid_type("messages", "an array", other)),
    };
    if messages.is_empty() {
        return Err(empty_array("messages"));
    }
    validate_messages(messages)?;
    check_model(model)?;
    if is_completion_model(model) || is_embedding_model(model) || is_image_model(model) {
        return Err(error(
            404,
            "This is not a chat model and thus not supported in the v1/chat/completions endpoint. Did you mean to use v1/completions?",
            "invalid_request_error",
            Some("model"),
            None,
        ));
    }
    let stream = opt_bool(&body, "stream")?.unwrap_or(false);
    let include_usage = include_usage(&body, stream)?;
    let n = opt_int(&body, "n")?.unwrap_or(1);
    int_range("n", n, 1, Some(128))?;
    let reasoning = is_reasoning_model(model);
    let max_tokens = opt_int(&body, "max_tokens")?;
    if reasoning && max_tokens.is_some() {
        return Err(invalid(
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
            Some("max_tokens"),
            Some("unsupported_parameter"),
        ));
    }
    let max_completion_tokens = opt_int(&body, "max_completion_tokens")?;
    for (key, value) in [
        ("max_tokens", max_tokens),
        ("max_completion_tokens", max_completion_tokens),
    ] {
        if let Some(value) = value {
            int_range(key, value, 1, None)?;
        }
    }
    sampling(&body)?;
    let stop = stop_sequences(&body)?;
    let tools = tools(&body)?;
    let tool_choice = present(&body, "tool_choice");
    if tool_choice.is_some() && tools.is_empty() {
        return Err(invalid(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            Some("tool_choice"),
            None,
        ));
    }
    let json_mode = json_mode(&body)?;
    // Answers report the tier that served them, as OpenAI's do: the one
    // asked for when it is `priority` or `flex`, else `default`.
    let service_tier = match body.get("service_tier").and_then(Value::as_str) {
        Some(t @ ("priority" | "flex")) => t,
        None | Some("auto" | "default") => "default",
        Some(_) => {
            return Err(invalid(
                "Invalid value for 'service_tier': expected one of 'auto', 'default', 'flex', 'priority'.",
                Some("service_tier"),
                Some("invalid_value"),
            ));
        }
    };

    let plan = chat::plan(&ChatRequest {
        messages,
        tools,
        tool_choice,
        max_tokens: max_completion_tokens.or(max_tokens).map(positive),
        stop: &stop,
        n: positive(n),
        json_mode,
        usage_factor: ctx.usage_factor,
        max_usage: ctx.max_usage,
    });
    // A maxed plan's completion is the whole limit, reasoning inside it.
    let (reasoning_tokens, completion_tokens) = match (reasoning, plan.maxed) {
        (true, true) => (plan.completion_tokens / 2, plan.completion_tokens),
        (true, false) => (2 * plan.completion_tokens, 3 * plan.completion_tokens),
        (false, _) => (0, plan.completion_tokens),
    };
    let usage = usage(plan.prompt_tokens, completion_tokens, reasoning_tokens);
    let rendering = ChatRendering {
        id: format!(
            "chatcmpl-{}",
            ids::alnum(ids::seed(&["chatcmpl", &ctx.seq.to_string()]), 29)
        ),
        created: ids::now_secs(),
        model,
        seq: ctx.seq,
        service_tier,
    };
    Ok(if stream {
        Reply::events(rendering.events(&plan, usage, include_usage))
    } else {
        Reply::json(200, rendering.body(&plan, usage))
    })
}

struct ChatRendering<'a> {
    id: String,
    created: u64,
    model: &'a str,
    seq: u64,
    service_tier: &'a str,
}

impl ChatRendering<'_> {
    fn call_id(&self, choice: usize) -> String {
        let seed = ids::seed(&["call", &self.seq.to_string(), &choice.to_string()]);
        format!("call_{}", ids::alnum(seed, 24))
    }

    fn body(&self, plan: &Plan, usage: Value) -> Value {
        let choices: Vec<Value> = plan
            .choices
            .iter()
            .enumerate()
            .map(|(i, choice)| {
                let message = match &choice.output {
                    Output::Text(text) => json!({
                        "role": "assistant", "content": text, "refusal": null, "annotations": []
                    }),
                    Output::ToolCall { name, arguments } => json!({
                        "role": "assistant",
                        "content": null,
                        "tool_calls": [{
                            "id": self.call_id(i),
                            "type": "function",
                            "function": {"name": name, "arguments": arguments}
                        }],
                        "refusal": null,
                        "annotations": []
                    }),
                };
                json!({"index": i, "message": message, "logprobs": null, "finish_reason": choice.finish_reason})
            })
            .collect();
        json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": choices,
            "usage": usage,
            "service_tier": self.service_tier,
            "system_fingerprint": FINGERPRINT
        })
    }

    fn events(&self, plan: &Plan, usage: Value, include_usage: bool) -> Vec<String> {
        // With include_usage, OpenAI puts `"usage": null` on every chunk but
        // the last; without it, the field is absent.
        let chunk = |choices: Value, chunk_usage: Value| -> String {
            let chunk = json!({
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "service_tier": self.service_tier,
                "system_fingerprint": FINGERPRINT,
                "choices": choices
            });
            if include_usage {
                with_field(chunk, "usage", chunk_usage).to_string()
            } else {
                chunk.to_string()
            }
        };
        let delta = |i: usize, delta: Value, finish: Option<&str>| -> String {
            chunk(
                json!([{"index": i, "delta": delta, "logprobs": null, "finish_reason": finish}]),
                Value::Null,
            )
        };
        let mut events = Vec::new();
        for (i, choice) in plan.choices.iter().enumerate() {
            match &choice.output {
                Output::Text(text) => {
                    events.push(delta(
                        i,
                        json!({"role": "assistant", "content": "", "refusal": null}),
                        None,
                    ));
                    for piece in chat::text_pieces(text) {
                        events.push(delta(i, json!({"content": piece}), None));
                    }
                }
                Output::ToolCall { name, arguments } => {
                    events.push(delta(
                        i,
                        json!({
                            "role": "assistant",
                            "content": null,
                            "tool_calls": [{
                                "index": 0,
                                "id": self.call_id(i),
                                "type": "function",
                                "function": {"name": name, "arguments": ""}
                            }],
                            "refusal": null
                        }),
                        None,
                    ));
                    for fragment in chat::argument_fragments(arguments) {
                        events.push(delta(
                            i,
                            json!({"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]}),
                            None,
                        ));
                    }
                }
            }
            events.push(delta(i, json!({}), Some(choice.finish_reason)));
        }
        if include_usage {
            events.push(chunk(json!([]), usage));
        }
        events.push("[DONE]".to_owned());
        events
    }
}

// ---------------------------------------------------------------------------
// Legacy completions.

fn token_text(tokens: &[Value]) -> String {
    tokens
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Prompts as texts; token-id prompts become their ids separated by spaces.
fn prompts(body: &Object) -> Result<Vec<String>> {
    let items = match present(body, "prompt") {
        None => return Err(missing("prompt")),
        Some(Value::String(prompt)) => return Ok(vec![prompt.clone()]),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(invalid_type(
                "prompt",
                "one of a string or array of strings",
                other,
            ));
        }
    };
    if items.is_empty() {
        return Err(empty_array("prompt"));
    }
    if items.iter().all(Value::is_string) {
        return Ok(items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect());
    }
    if items.iter().all(Value::is_u64) {
        return Ok(vec![token_text(items)]);
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item.as_array() {
            Some(tokens) if tokens.iter().all(Value::is_u64) => Ok(token_text(tokens)),
            _ => Err(invalid_type(
                &format!("prompt[{i}]"),
                "one of a string or array of integers",
                item,
            )),
        })
        .collect()
}

fn completions(ctx: &Ctx<'_>) -> Result<Reply> {
    let body = parse_body(ctx)?;
    let model = require_model(&body)?;
    check_model(model)?;
    if !is_completion_model(model) {
        return Err(error(
            404,
            "This is a chat model and not supported in the v1/completions endpoint. Did you mean to use v1/chat/completions?",
            "invalid_request_error",
            Some("model"),
            None,
        ));
    }
    let prompts = prompts(&body)?;
    let stream = opt_bool(&body, "stream")?.unwrap_or(false);
    let include_usage = include_usage(&body, stream)?;
    let n = opt_int(&body, "n")?.unwrap_or(1);
    int_range("n", n, 1, Some(128))?;
    let max_tokens = opt_int(&body, "max_tokens")?.unwrap_or(LEGACY_DEFAULT_MAX_TOKENS);
    int_range("max_tokens", max_tokens, 0, None)?;
    sampling(&body)?;
    let stop = stop_sequences(&body)?;

    let mut choices: Vec<(String, &str)> = Vec::new();
    let mut prompt_tokens = 0;
    let mut completion_tokens = 0;
    for prompt in &prompts {
        prompt_tokens += count_tokens(prompt);
        let reply = chat::reply_text(&[json!({"role": "user", "content": prompt})]);
        let (text, finish) = chat::apply_limits(reply, &stop, Some(positive(max_tokens)));
        for _ in 0..n {
            completion_tokens += count_tokens(&text);
            choices.push((text.clone(), finish));
        }
    }
    let usage = json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens
    });
    let id = format!(
        "cmpl-{}",
        ids::alnum(ids::seed(&["cmpl", &ctx.seq.to_string()]), 29)
    );
    let created = ids::now_secs();
    let envelope = |choices: Value| {
        json!({
            "id": id,
            "object": "text_completion",
            "created": created,
            "model": model,
            "system_fingerprint": FINGERPRINT,
            "choices": choices
        })
    };
    if !stream {
        let choices: Vec<Value> = choices
            .iter()
            .enumerate()
            .map(|(i, (text, finish))| {
                json!({"text": text, "index": i, "logprobs": null, "finish_reason": finish})
            })
            .collect();
        return Ok(Reply::json(
            200,
            with_field(envelope(Value::from(choices)), "usage", usage),
        ));
    }
    let chunk = |choices: Value, chunk_usage: Value| {
        let chunk = envelope(choices);
        if include_usage {
            with_field(chunk, "usage", chunk_usage).to_string()
        } else {
            chunk.to_string()
        }
    };
    let mut events = Vec::new();
    for (i, (text, finish)) in choices.iter().enumerate() {
        for piece in chat::text_pieces(text) {
            events.push(chunk(
                json!([{"text": piece, "index": i, "logprobs": null, "finish_reason": null}]),
                Value::Null,
            ));
        }
        events.push(chunk(
            json!([{"text": "", "index": i, "logprobs": null, "finish_reason": finish}]),
            Value::Null,
        ));
    }
    if include_usage {
        events.push(chunk(json!([]), usage));
    }
    events.push("[DONE]".to_owned());
    Ok(Reply::events(events))
}

// ---------------------------------------------------------------------------
// Embeddings.

/// Each input as (text to hash, tokens).
fn embedding_inputs(body: &Object) -> Result<Vec<(String, u64)>> {
    let bad = || invalid(INVALID_EMBEDDING_INPUT, None, None);
    let items = match present(body, "input") {
        None => return Err(missing("input")),
        Some(Value::String(text)) if text.is_empty() => return Err(bad()),
        Some(Value::String(text)) => return Ok(vec![(text.clone(), count_tokens(text))]),
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(_) => return Err(bad()),
    };
    if items.iter().all(Value::is_u64) {
        return Ok(vec![(token_text(items), items.len() as u64)]);
    }
    items
        .iter()
        .map(|item| match item {
            Value::String(text) if !text.is_empty() => Ok((text.clone(), count_tokens(text))),
            Value::Array(tokens) if !tokens.is_empty() && tokens.iter().all(Value::is_u64) => {
                Ok((token_text(tokens), tokens.len() as u64))
            }
            _ => Err(bad()),
        })
        .collect()
}

fn embeddings(ctx: &Ctx<'_>) -> Result<Reply> {
    let body = parse_body(ctx)?;
    let model = require_model(&body)?;
    let inputs = embedding_inputs(&body)?;
    check_model(model)?;
    if !is_embedding_model(model) {
        return Err(invalid(
            "You are not allowed to generate embeddings from this model",
            None,
            None,
        ));
    }
    let native: i64 = if base_model(model).starts_with("text-embedding-3-large") {
        3072
    } else {
        1536
    };
    let dims = match opt_int(&body, "dimensions")? {
        None => native,
        Some(_) if !base_model(model).starts_with("text-embedding-3") => {
            return Err(invalid(
                "This model does not support specifying dimensions.",
                None,
                None,
            ));
        }
        Some(dims) => {
            int_range("dimensions", dims, 1, Some(native))?;
            dims
        }
    };
    let dims = usize::try_from(dims).unwrap_or(0);
    let base64 = match opt_str(&body, "encoding_format")? {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return Err(invalid_value(
                "encoding_format",
                other,
                &["float", "base64"],
            ));
        }
    };
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, (text, _))| {
            let vector = embeddings::vector(text, dims);
            let embedding = if base64 {
                Value::from(embeddings::to_base64(&vector))
            } else {
                Value::from(vector)
            };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    let tokens: u64 = inputs.iter().map(|(_, t)| t).sum();
    Ok(Reply::json(
        200,
        json!({
            "object": "list",
            "data": data,
            "model": model,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}
        }),
    ))
}

// ---------------------------------------------------------------------------
// Image generation.

#[derive(Clone, Copy, PartialEq, Eq)]
enum ImageFamily {
    DallE2,
    DallE3,
    GptImage,
}

/// Output tokens of one GPT Image, from OpenAI's published table.
fn image_output_tokens(size: &str, quality: &str) -> u64 {
    match (size, quality) {
        ("1024x1024", "low") => 272,
        ("1024x1024", "high") => 4160,
        ("1024x1536", "low") => 408,
        ("1024x1536", "medium") => 1584,
        ("1024x1536", "high") => 6240,
        ("1536x1024", "low") => 400,
        ("1536x1024", "medium") => 1568,
        ("1536x1024", "high") => 6208,
        _ => 1056,
    }
}

fn images(ctx: &Ctx<'_>) -> Result<Reply> {
    let body = parse_body(ctx)?;
    let prompt = match present(&body, "prompt") {
        None => return Err(missing("prompt")),
        Some(Value::String(prompt)) => prompt.as_str(),
        Some(other) => return Err(invalid_type("prompt", "a string", other)),
    };
    let model = opt_str(&body, "model")?.unwrap_or("dall-e-2");
    let family = match base_model(model) {
        "dall-e-2" => ImageFamily::DallE2,
        "dall-e-3" => ImageFamily::DallE3,
        m if m.starts_with("gpt-image-") || m.starts_with("chatgpt-image") => ImageFamily::GptImage,
        _ if !is_known_model(model) => return Err(model_not_found(model)),
        _ => {
            return Err(invalid_value(
                "model",
                model,
                &[
                    "gpt-image-1",
                    "gpt-image-1-mini",
                    "gpt-image-1.5",
                    "dall-e-2",
                    "dall-e-3",
                ],
            ));
        }
    };

    let n = opt_int(&body, "n")?.unwrap_or(1);
    if family == ImageFamily::DallE3 && n != 1 {
        return Err(invalid("You must provide n=1 for this model.", None, None));
    }
    int_range("n", n, 1, Some(10))?;

    let (sizes, default_size): (&[&str], &str) = match family {
        ImageFamily::DallE2 => (&["256x256", "512x512", "1024x1024"], "1024x1024"),
        ImageFamily::DallE3 => (&["1024x1024", "1792x1024", "1024x1792"], "1024x1024"),
        ImageFamily::GptImage => (&["1024x1024", "1536x1024", "1024x1536", "auto"], "auto"),
    };
    let size = opt_str(&body, "size")?.unwrap_or(default_size);
    if !sizes.contains(&size) {
        return Err(invalid_value("size", size, sizes));
    }

    let (qualities, default_quality): (&[&str], &str) = match family {
        ImageFamily::DallE2 => (&["standard"], "standard"),
        ImageFamily::DallE3 => (&["standard", "hd"], "standard"),
        ImageFamily::GptImage => (&["low", "medium", "high", "auto"], "auto"),
    };
    let quality = opt_str(&body, "quality")?.unwrap_or(default_quality);
    if !qualities.contains(&quality) {
        return Err(invalid_value("quality", quality, qualities));
    }

    let as_url = match (family, present(&body, "response_format")) {
        (ImageFamily::GptImage, Some(_)) => {
            return Err(invalid(
                "Unknown parameter: 'response_format'.",
                Some("response_format"),
                Some("unknown_parameter"),
            ));
        }
        (ImageFamily::GptImage, None) => false,
        _ => match opt_str(&body, "response_format")?.unwrap_or("url") {
            "url" => true,
            "b64_json" => false,
            other => {
                return Err(invalid_value(
                    "response_format",
                    other,
                    &["url", "b64_json"],
                ));
            }
        },
    };
    let output_format = if family == ImageFamily::GptImage {
        let format = opt_str(&body, "output_format")?.unwrap_or("png");
        if !["png", "jpeg", "webp"].contains(&format) {
            return Err(invalid_value(
                "output_format",
                format,
                &["png", "jpeg", "webp"],
            ));
        }
        format
    } else {
        "png"
    };

    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, tiny_png());
    let data: Vec<Value> = (0..n)
        .map(|i| {
            let mut image = if as_url {
                let id = ids::alnum(
                    ids::seed(&["image", &ctx.seq.to_string(), &i.to_string()]),
                    16,
                );
                json!({"url": format!("{}/__sim/images/img-{id}.png", ctx.root)})
            } else {
                json!({"b64_json": b64})
            };
            if family == ImageFamily::DallE3 {
                image = with_field(
                    image,
                    "revised_prompt",
                    Value::from(format!("A simulated image of: {prompt}")),
                );
            }
            image
        })
        .collect();

    let mut response = json!({"created": ids::now_secs(), "data": data});
    if family == ImageFamily::GptImage {
        let size = if size == "auto" { "1024x1024" } else { size };
        let quality = if quality == "auto" { "medium" } else { quality };
        let text_tokens = count_tokens(prompt);
        let output_tokens = image_output_tokens(size, quality) * positive(n);
        for (key, value) in [
            ("background", Value::from("opaque")),
            ("output_format", Value::from(output_format)),
            ("quality", Value::from(quality)),
            ("size", Value::from(size)),
            (
                "usage",
                json!({
                    "input_tokens": text_tokens,
                    "output_tokens": output_tokens,
                    "total_tokens": text_tokens + output_tokens,
                    "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": 0}
                }),
            ),
        ] {
            response = with_field(response, key, value);
        }
    }
    Ok(Reply::json(200, response))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cache_rule() {
        assert_eq!(cached_tokens(0), 0);
        assert_eq!(cached_tokens(1151), 0);
        assert_eq!(cached_tokens(1152), 1024);
        assert_eq!(cached_tokens(1300), 1152);
        assert_eq!(cached_tokens(2048), 1920);
    }

    #[test]
    fn lists_are_quoted_like_openai() {
        assert_eq!(quote_list(&["a"]), "'a'");
        assert_eq!(quote_list(&["a", "b"]), "'a' and 'b'");
        assert_eq!(quote_list(&["a", "b", "c"]), "'a', 'b', and 'c'");
    }

    #[test]
    fn model_families() {
        assert!(is_known_model("gpt-4o-mini"));
        assert!(is_known_model("ft:gpt-4o-mini-2024-07-18:acme::abc123"));
        assert!(is_known_model("o3-mini"));
        assert!(is_known_model("gpt-3.5-turbo-instruct"));
        assert!(!is_known_model("claude-3-opus"));
        assert!(!is_known_model("sim-missing"));
        assert!(is_completion_model("davinci-002"));
        assert!(is_reasoning_model("gpt-5-mini"));
        assert!(!is_reasoning_model("gpt-4o"));
    }
}
