//! Google's Gemini API (`v1beta`): `models/{m}:generateContent`,
//! `:streamGenerateContent` (SSE with `alt=sse`, else a JSON array),
//! `:embedContent`, `:batchEmbedContents`, Imagen's `:predict`, and
//! `GET models`, with Google's `x-goog-api-key` auth and
//! `{"error":{"code","message","status"}}` bodies.
//!
//! Requests are translated into the OpenAI-style messages the shared planner
//! understands, so replies and token counts follow the crate's rules.

use base64::Engine as _;
use http::Method;
use serde_json::{Map, Value, json};

use crate::chat::{self, ChatRequest, Output, Plan};
use crate::embeddings;
use crate::faults::FAULT_HEADER;
use crate::ids;
use crate::reply::Reply;
use crate::server::Ctx;
use crate::tokens::count_tokens;

/// The thought text when thinking is requested with `includeThoughts`.
const THINKING_TEXT: &str = "Let me think about that.";

const TOP_LEVEL: &[&str] = &[
    "contents",
    "systemInstruction",
    "system_instruction",
    "tools",
    "toolConfig",
    "generationConfig",
    "safetySettings",
    "cachedContent",
    "labels",
];

const GENERATION_CONFIG: &[&str] = &[
    "temperature",
    "topP",
    "topK",
    "maxOutputTokens",
    "stopSequences",
    "candidateCount",
    "seed",
    "presencePenalty",
    "frequencyPenalty",
    "responseMimeType",
    "responseSchema",
    "responseJsonSchema",
    "responseModalities",
    "thinkingConfig",
    "responseLogprobs",
    "logprobs",
    "mediaResolution",
    "speechConfig",
];

/// Keywords of Gemini's Schema object; anything else is an unknown field.
const SCHEMA_FIELDS: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];

type Object = Map<String, Value>;
type Result<T> = std::result::Result<T, Reply>;

// ---------------------------------------------------------------------------
// Entry points used by the server.

pub(crate) fn handle(ctx: &Ctx<'_>) -> Reply {
    let key = ctx
        .headers
        .get("x-goog-api-key")
        .and_then(|v| v.to_str().ok())
        .map(|k| k.trim().to_owned())
        .or_else(|| query_param(ctx.query, "key"))
        .filter(|k| !k.is_empty());
    match (key.as_deref(), ctx.api_key) {
        (None, _) => error(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        ),
        (Some(key), Some(expected)) if key != expected => invalid_key(),
        _ => route(ctx),
    }
}

/// The body Google sends for `status`, used by status faults without a body.
pub(crate) fn status_error(_ctx: &Ctx<'_>, status: u16, _retry_after: Option<u64>) -> Reply {
    let message = match status {
        400 => "Request contains an invalid argument.",
        401 => "Request had invalid authentication credentials.",
        403 => "The caller does not have permission",
        404 => "Requested entity was not found.",
        429 => "You exceeded your current quota, please check your plan and billing details.",
        503 => "The model is overloaded. Please try again later.",
        _ => {
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
        }
    };
    error(status, message)
}

/// A status fault that brought its own body.
pub(crate) fn custom_error(_ctx: &Ctx<'_>, status: u16, body: &str) -> Reply {
    Reply::raw(status, "application/json; charset=UTF-8", body.to_owned())
}

/// A malformed `x-simulator-fault` header, reported in Google's shape.
pub(crate) fn bad_fault_header(_ctx: &Ctx<'_>, message: &str) -> Reply {
    error(400, &format!("Invalid {FAULT_HEADER} header: {message}"))
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn rpc_status(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

fn error_body(status: u16, message: &str) -> Value {
    json!({"error": {"code": status, "message": message, "status": rpc_status(status)}})
}

fn error(status: u16, message: &str) -> Reply {
    Reply::json(status, error_body(status, message))
}

fn invalid_key() -> Reply {
    Reply::json(
        400,
        json!({"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.", "status": "INVALID_ARGUMENT",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID", "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]}}),
    )
}

fn unknown_field(name: &str, at: Option<&str>) -> Reply {
    let at = at.map(|a| format!(" at '{a}'")).unwrap_or_default();
    error(
        400,
        &format!("Invalid JSON payload received. Unknown name \"{name}\"{at}: Cannot find field."),
    )
}

fn route(ctx: &Ctx<'_>) -> Reply {
    let Some(rest) = ctx.path.strip_prefix("/v1beta/") else {
        return error(404, "Not Found");
    };
    if rest == "models" && ctx.method == Method::GET {
        return list_models();
    }
    let Some((model, method)) = rest
        .strip_prefix("models/")
        .and_then(|m| m.rsplit_once(':'))
    else {
        return error(404, "Not Found");
    };
    if ctx.method != Method::POST {
        return error(405, "Method Not Allowed");
    }
    let result = check_model(model, method).and_then(|()| match method {
        "generateContent" => generate(ctx, model, None),
        "streamGenerateContent" => {
            let sse = query_param(ctx.query, "alt").as_deref() == Some("sse");
            generate(ctx, model, Some(sse))
        }
        "embedContent" => embed(ctx, model, false),
        "batchEmbedContents" => embed(ctx, model, true),
        "predict" => predict(ctx, model),
        _ => Err(error(404, "Not Found")),
    });
    match result {
        Ok(reply) | Err(reply) => reply,
    }
}

fn check_model(model: &str, method: &str) -> Result<()> {
    const PREFIXES: &[&str] = &[
        "gemini-",
        "gemma-",
        "imagen-",
        "text-embedding-",
        "embedding-",
        "learnlm-",
    ];
    let known = model != crate::MISSING_MODEL && PREFIXES.iter().any(|p| model.starts_with(p));
    let fits = match method {
        "embedContent" | "batchEmbedContents" => model.contains("embedding"),
        "predict" => model.starts_with("imagen-"),
        _ => !model.contains("embedding") && !model.starts_with("imagen-"),
    };
    if known && fits {
        Ok(())
    } else {
        Err(error(
            404,
            &format!(
                "models/{model} is not found for API version v1beta, or is not supported for {method}. Call ListModels to see the list of available models and their supported methods."
            ),
        ))
    }
}

fn list_models() -> Reply {
    let models: Vec<Value> = [
        ("gemini-2.5-flash", "generateContent"),
        ("gemini-2.5-pro", "generateContent"),
        ("gemini-embedding-001", "embedContent"),
        ("imagen-3.0-generate-001", "predict"),
    ]
    .iter()
    .map(|(id, method)| json!({"name": format!("models/{id}"), "displayName": id, "supportedGenerationMethods": [method]}))
    .collect();
    Reply::json(200, json!({"models": models}))
}

fn parse_body(ctx: &Ctx<'_>) -> Result<Object> {
    match serde_json::from_slice::<Value>(ctx.body) {
        Ok(Value::Object(b)) => Ok(b),
        Ok(_) => Err(error(
            400,
            "Invalid JSON payload received. Expected an object.",
        )),
        Err(e) => Err(error(400, &format!("Invalid JSON payload received. {e}"))),
    }
}

// ---------------------------------------------------------------------------
// generateContent.

/// Rejects keywords outside Gemini's Schema object, as the API does.
fn check_schema(schema: &Value, at: &str) -> Result<()> {
    let Value::Object(o) = schema else {
        return Ok(());
    };
    for (k, v) in o {
        if !SCHEMA_FIELDS.contains(&k.as_str()) {
            return Err(unknown_field(k, Some(at)));
        }
        if k == "type" && !v.is_string() {
            return Err(error(
                400,
                &format!(
                    "Invalid JSON payload received. Proto field is not repeating, cannot start list at '{at}.type'."
                ),
            ));
        }
    }
    if let Some(Value::Object(props)) = o.get("properties") {
        for (name, p) in props {
            check_schema(p, &format!("{at}.properties[{name}].value"))?;
        }
    }
    if let Some(items) = o.get("items") {
        check_schema(items, &format!("{at}.items"))?;
    }
    for (i, v) in o
        .get("anyOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        check_schema(v, &format!("{at}.any_of[{i}]"))?;
    }
    Ok(())
}

/// The text a function response stands for: a lone string field (what
/// callers usually wrap text in), else the compact JSON.
fn response_text(response: Option<&Value>) -> String {
    match response {
        Some(Value::Object(o)) if o.len() == 1 => match o.values().next() {
            Some(Value::String(s)) => s.clone(),
            _ => Value::Object(o.clone()).to_string(),
        },
        Some(v) => v.to_string(),
        None => String::new(),
    }
}

fn translate(body: &Object) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    if let Some(sys) = body
        .get("systemInstruction")
        .or_else(|| body.get("system_instruction"))
    {
        let texts: Vec<&str> = sys
            .get("parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect();
        out.push(json!({"role": "system", "content": texts.join(" ")}));
    }
    let contents = match body.get("contents") {
        Some(Value::Array(c)) if !c.is_empty() => c,
        _ => {
            return Err(error(
                400,
                "* GenerateContentRequest.contents: contents is not specified\n",
            ));
        }
    };
    for (i, c) in contents.iter().enumerate() {
        let role = c.get("role").and_then(Value::as_str).unwrap_or("user");
        let role = match role {
            "user" => "user",
            "model" => "assistant",
            _ => return Err(error(400, "Please use a valid role: user, model.")),
        };
        let parts = c
            .get("parts")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if parts.is_empty() {
            return Err(error(
                400,
                &format!(
                    "* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.\n"
                ),
            ));
        }
        let mut visible = Vec::new();
        let mut calls = Vec::new();
        for p in parts {
            if let Some(t) = p.get("text").and_then(Value::as_str) {
                if p.get("thought").and_then(Value::as_bool) != Some(true) {
                    visible.push(json!({"type": "text", "text": t}));
                }
            } else if p.get("fileData").is_some() {
                visible.push(json!({"type": "media"}));
            } else if p.get("inlineData").is_some() {
                visible.push(json!({"type": "image"}));
            } else if let Some(fc) = p.get("functionCall") {
                calls.push(json!({"type": "function", "function": {
                    "name": fc.get("name").and_then(Value::as_str).unwrap_or(""),
                    "arguments": fc.get("args").map(Value::to_string).unwrap_or_default()
                }}));
            } else if let Some(fr) = p.get("functionResponse") {
                out.push(json!({"role": "tool", "content": response_text(fr.get("response"))}));
            }
        }
        if !visible.is_empty() || !calls.is_empty() {
            let mut m = json!({"role": role, "content": visible});
            if !calls.is_empty()
                && let Value::Object(o) = &mut m
            {
                o.insert("tool_calls".into(), Value::Array(calls));
            }
            out.push(m);
        }
    }
    Ok(out)
}

fn generate(ctx: &Ctx<'_>, model: &str, stream: Option<bool>) -> Result<Reply> {
    let body = parse_body(ctx)?;
    if let Some(k) = body.keys().find(|k| !TOP_LEVEL.contains(&k.as_str())) {
        return Err(unknown_field(k, None));
    }
    let config = body
        .get("generationConfig")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(k) = config
        .keys()
        .find(|k| !GENERATION_CONFIG.contains(&k.as_str()))
    {
        return Err(unknown_field(k, Some("generation_config")));
    }
    if let Some(schema) = config.get("responseSchema") {
        check_schema(schema, "generation_config.response_schema")?;
    }
    let mut tools = Vec::new();
    for (i, t) in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        for (j, d) in t
            .get("functionDeclarations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let at = format!("tools[{i}].function_declarations[{j}].parameters");
            if let Some(p) = d.get("parameters") {
                check_schema(p, &at)?;
            }
            let mut f = json!({"name": d.get("name").cloned().unwrap_or(Value::Null)});
            if let Value::Object(o) = &mut f {
                for k in ["description", "parameters"] {
                    if let Some(v) = d.get(k) {
                        o.insert(k.into(), v.clone());
                    }
                }
            }
            tools.push(json!({"type": "function", "function": f}));
        }
    }
    let fcc = body
        .get("toolConfig")
        .and_then(|t| t.get("functionCallingConfig"));
    let tool_choice = match fcc.and_then(|f| f.get("mode")).and_then(Value::as_str) {
        Some("NONE") => Some(json!("none")),
        Some("ANY") => fcc
            .and_then(|f| f.get("allowedFunctionNames"))
            .and_then(|a| a.get(0))
            .map(|name| json!({"type": "function", "function": {"name": name}})),
        _ => None,
    };
    let messages = translate(&body)?;
    let stop: Vec<String> = config
        .get("stopSequences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let n = config
        .get("candidateCount")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    if !(1..=8).contains(&n) {
        return Err(error(
            400,
            "* GenerateContentRequest.generation_config.candidate_count: must be in [1, 8]\n",
        ));
    }
    let json_mode =
        config.get("responseMimeType").and_then(Value::as_str) == Some("application/json");
    let plan = chat::plan(&ChatRequest {
        messages: &messages,
        tools: &tools,
        tool_choice: tool_choice.as_ref(),
        max_tokens: config.get("maxOutputTokens").and_then(Value::as_u64),
        stop: &stop,
        n,
        json_mode,
        usage_factor: ctx.usage_factor,
        max_usage: ctx.max_usage,
    });
    let thinking = config.get("thinkingConfig");
    // Protobuf JSON takes both spellings, and the Python SDK sends these in
    // snake_case.
    let field =
        |camel: &str, snake: &str| thinking.and_then(|t| t.get(camel).or_else(|| t.get(snake)));
    let budget = field("thinkingBudget", "thinking_budget").and_then(Value::as_i64);
    let render = Rendering {
        id: ids::alnum(ids::seed(&["google-response", &ctx.seq.to_string()]), 23),
        model,
        thoughts: if budget.is_some_and(|b| b != 0)
            || field("thinkingLevel", "thinking_level").is_some()
        {
            count_tokens(THINKING_TEXT)
        } else {
            0
        },
        include_thoughts: field("includeThoughts", "include_thoughts").and_then(Value::as_bool)
            == Some(true),
        cached: body.contains_key("cachedContent"),
    };
    Ok(match stream {
        None => Reply::json(200, render.body(&plan)),
        Some(true) => Reply::crlf_events(
            render.events(&plan).iter().map(Value::to_string).collect(),
            &error_body(503, "The model is overloaded. Please try again later.").to_string(),
        ),
        Some(false) => Reply::json(200, Value::Array(render.events(&plan))),
    })
}

struct Rendering<'a> {
    id: String,
    model: &'a str,
    thoughts: u64,
    include_thoughts: bool,
    cached: bool,
}

impl Rendering<'_> {
    fn usage(&self, plan: &Plan, candidates: u64) -> Value {
        let p = plan.prompt_tokens;
        let mut u = json!({
            "promptTokenCount": p,
            "candidatesTokenCount": candidates,
            "totalTokenCount": p + candidates + self.thoughts,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": p}]
        });
        if let Value::Object(o) = &mut u {
            if self.thoughts > 0 {
                o.insert("thoughtsTokenCount".into(), Value::from(self.thoughts));
            }
            if self.cached {
                o.insert("cachedContentTokenCount".into(), Value::from(p / 2));
            }
        }
        u
    }

    fn finish(choice: &chat::Choice) -> &'static str {
        match choice.finish_reason {
            "length" => "MAX_TOKENS",
            _ => "STOP",
        }
    }

    fn thought_part(&self) -> Option<Value> {
        (self.include_thoughts && self.thoughts > 0)
            .then(|| json!({"text": THINKING_TEXT, "thought": true}))
    }

    fn output_parts(choice: &chat::Choice) -> Vec<Value> {
        match &choice.output {
            Output::Text(t) => vec![json!({"text": t})],
            Output::ToolCall { name, arguments } => {
                let args: Value =
                    serde_json::from_str(arguments).unwrap_or(Value::Object(Map::new()));
                vec![json!({"functionCall": {"name": name, "args": args}})]
            }
        }
    }

    fn body(&self, plan: &Plan) -> Value {
        let candidates: Vec<Value> = plan
            .choices
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut parts: Vec<Value> = self.thought_part().into_iter().collect();
                parts.extend(Self::output_parts(c));
                json!({"content": {"parts": parts, "role": "model"}, "finishReason": Self::finish(c), "index": i})
            })
            .collect();
        json!({
            "candidates": candidates,
            "usageMetadata": self.usage(plan, plan.completion_tokens),
            "modelVersion": self.model,
            "responseId": self.id
        })
    }

    /// One event per word, all candidates advancing together (a thought
    /// part first when asked for), each candidate's finish reason on its
    /// last piece, and cumulative usage on every event.
    fn events(&self, plan: &Plan) -> Vec<Value> {
        let per_candidate: Vec<Vec<(Value, u64)>> = plan
            .choices
            .iter()
            .map(|c| {
                let mut pieces: Vec<(Value, u64)> =
                    self.thought_part().into_iter().map(|t| (t, 0)).collect();
                match &c.output {
                    Output::Text(text) => {
                        let words = chat::text_pieces(text);
                        if words.is_empty() {
                            pieces.push((json!({"text": ""}), 0));
                        }
                        for w in words {
                            let n = count_tokens(&w);
                            pieces.push((json!({"text": w}), n));
                        }
                    }
                    Output::ToolCall { .. } => {
                        pieces.extend(Self::output_parts(c).into_iter().map(|p| (p, c.tokens)));
                    }
                }
                pieces
            })
            .collect();
        let rounds = per_candidate.iter().map(Vec::len).max().unwrap_or(0);
        let mut events = Vec::with_capacity(rounds);
        let mut so_far = 0;
        for round in 0..rounds {
            let mut candidates = Vec::new();
            for (i, (pieces, choice)) in per_candidate.iter().zip(&plan.choices).enumerate() {
                let Some((part, tokens)) = pieces.get(round) else {
                    continue;
                };
                so_far += tokens;
                let mut cand = json!({"content": {"parts": [part], "role": "model"}, "index": i});
                if round + 1 == pieces.len()
                    && let Value::Object(o) = &mut cand
                {
                    o.insert("finishReason".into(), Value::from(Self::finish(choice)));
                }
                candidates.push(cand);
            }
            events.push(json!({
                "candidates": candidates,
                "usageMetadata": self.usage(plan, so_far),
                "modelVersion": self.model,
                "responseId": self.id
            }));
        }
        events
    }
}

// ---------------------------------------------------------------------------
// Embeddings and Imagen.

fn embed_one(req: &Value, model: &str) -> Result<(Vec<f32>, u64)> {
    let text: Vec<&str> = req
        .get("content")
        .and_then(|c| c.get("parts"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect();
    if text.is_empty() {
        return Err(error(
            400,
            "* BatchEmbedContentsRequest.requests[0].content: contents is not specified\n",
        ));
    }
    let text = text.join(" ");
    let native = if model.starts_with("gemini-embedding") {
        3072
    } else {
        768
    };
    let dims = req
        .get("outputDimensionality")
        .and_then(Value::as_u64)
        .and_then(|d| usize::try_from(d).ok())
        .filter(|d| (1..=native).contains(d))
        .unwrap_or(native);
    Ok((embeddings::vector(&text, dims), count_tokens(&text)))
}

fn embed(ctx: &Ctx<'_>, model: &str, batch: bool) -> Result<Reply> {
    let body = parse_body(ctx)?;
    if !batch {
        let (values, _) = embed_one(&Value::Object(body), model)?;
        return Ok(Reply::json(200, json!({"embedding": {"values": values}})));
    }
    let requests = body
        .get("requests")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if requests.is_empty() {
        return Err(error(
            400,
            "* BatchEmbedContentsRequest.requests: requests is not specified\n",
        ));
    }
    let mut out = Vec::new();
    let mut tokens = 0;
    for r in &requests {
        let named = r.get("model").and_then(Value::as_str).unwrap_or("");
        if named != format!("models/{model}") {
            return Err(error(
                400,
                &format!(
                    "Model name in the request ({named}) does not match the model in the URL (models/{model})."
                ),
            ));
        }
        let (values, n) = embed_one(r, model)?;
        tokens += n;
        out.push(json!({"values": values}));
    }
    Ok(Reply::json(
        200,
        json!({"embeddings": out, "usageMetadata": {"promptTokenCount": tokens, "totalTokenCount": tokens}}),
    ))
}

fn predict(ctx: &Ctx<'_>, _model: &str) -> Result<Reply> {
    let body = parse_body(ctx)?;
    let prompt = body
        .get("instances")
        .and_then(|i| i.get(0))
        .and_then(|i| i.get("prompt"))
        .and_then(Value::as_str);
    if prompt.is_none_or(str::is_empty) {
        return Err(error(400, "Missing prompt in instances[0]."));
    }
    let params = body.get("parameters");
    let n = params
        .and_then(|p| p.get("sampleCount"))
        .and_then(Value::as_u64)
        .unwrap_or(4);
    if !(1..=4).contains(&n) {
        return Err(error(400, "sampleCount must be between 1 and 4."));
    }
    if let Some(ratio) = params
        .and_then(|p| p.get("aspectRatio"))
        .and_then(Value::as_str)
        && !["1:1", "3:4", "4:3", "9:16", "16:9"].contains(&ratio)
    {
        return Err(error(400, &format!("Unsupported aspect ratio: {ratio}")));
    }
    let png = base64::engine::general_purpose::STANDARD.encode(crate::png::tiny_png());
    let predictions: Vec<Value> = (0..n)
        .map(|_| json!({"bytesBase64Encoded": png, "mimeType": "image/png"}))
        .collect();
    Ok(Reply::json(200, json!({"predictions": predictions})))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn function_response_text() {
        assert_eq!(response_text(Some(&json!({"content": "sunny"}))), "sunny");
        assert_eq!(response_text(Some(&json!({"t": 21}))), r#"{"t":21}"#);
    }

    #[test]
    fn schema_check_rejects_openai_keywords() {
        assert!(
            check_schema(
                &json!({"type": "object", "properties": {"a": {"type": "string"}}}),
                "p"
            )
            .is_ok()
        );
        assert!(
            check_schema(
                &json!({"type": "object", "additionalProperties": false}),
                "p"
            )
            .is_err()
        );
        assert!(check_schema(&json!({"type": ["string", "null"]}), "p").is_err());
        assert!(check_schema(&json!({"properties": {"a": {"$ref": "#/x"}}}), "p").is_err());
    }
}
