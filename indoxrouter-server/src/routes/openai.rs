//! OpenAI-compatible `/v1`: the official SDKs work with only `base_url` and
//! `api_key` changed. Model ids are `provider/model`; each answer carries its
//! charge as `usage.cost` (USD decimal string) and `x-indoxrouter-cost`.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use indoxrouter::Usd;
use indoxrouter::types::{
    ChatChunk, ChatRequest, ChatResponse, Choice, ChunkChoice, CompletionRequest, EmbeddingRequest,
    ImageRequest, Usage,
};
use serde::Serialize;
use serde_json::{Map, Value};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::inference::{self, Metered, Outcome};
use super::{Req, json_value, parse_json, post_route};
use crate::error::{ApiError, Surface};

/// `usage` with the charge added.
#[derive(Serialize)]
pub(super) struct UsageWire<'a> {
    #[serde(flatten)]
    pub usage: &'a Usage,
    /// USD decimal string.
    pub cost: String,
}

#[derive(Serialize)]
struct ChatWire<'a> {
    id: &'a str,
    object: &'a str,
    created: u64,
    model: String,
    choices: &'a [Choice],
    usage: UsageWire<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_fingerprint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_tier: Option<&'a str>,
    provider: &'a str,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

/// One streamed chunk as `/v1` sends it.
#[derive(Serialize)]
pub(super) struct ChunkWire<'a> {
    id: &'a str,
    object: &'a str,
    created: u64,
    model: &'a str,
    choices: &'a [ChunkChoice],
    #[serde(skip_serializing_if = "Option::is_none")]
    usage: Option<UsageWire<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_fingerprint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_tier: Option<&'a str>,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

impl<'a> ChunkWire<'a> {
    /// `chunk` with `model` (already `provider/model`) and, on the usage
    /// chunk, the charge.
    pub(super) fn new(chunk: &'a ChatChunk, model: &'a str, cost: Option<Usd>) -> Self {
        ChunkWire {
            id: &chunk.id,
            object: &chunk.object,
            created: chunk.created,
            model,
            choices: &chunk.choices,
            usage: chunk.usage.as_ref().map(|usage| UsageWire {
                usage,
                cost: cost.unwrap_or(Usd::ZERO).to_string(),
            }),
            system_fingerprint: chunk.system_fingerprint.as_deref(),
            service_tier: chunk.service_tier.as_deref(),
            extra: &chunk.extra,
        }
    }
}

/// `provider/model` for an answer.
pub(super) fn full_model(provider: &str, model: &str) -> String {
    if provider.is_empty() {
        model.to_owned()
    } else {
        format!("{provider}/{model}")
    }
}

/// Adds the charge header.
pub(super) fn with_cost(mut resp: Response, cost: Usd) -> Response {
    if let Ok(v) = HeaderValue::from_str(&cost.to_string()) {
        resp.headers_mut().insert("x-indoxrouter-cost", v);
    }
    resp
}

/// Removes a boolean flag the server handles itself from `extra`.
pub(super) fn take_flag(extra: &mut Map<String, Value>, key: &str) -> Result<bool, ApiError> {
    match extra.remove(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(_) => Err(ApiError::unprocessable(format!("`{key}` must be a boolean")).param(key)),
    }
}

/// Takes `stream` and `stream_options.include_usage` out of the request: the
/// server always asks the provider for usage (it bills from it) and decides
/// itself whether to forward the usage chunk.
pub(super) fn take_stream_flags(chat: &mut ChatRequest) -> Result<(bool, bool), ApiError> {
    let stream = take_flag(&mut chat.extra, "stream")?;
    let include_usage = match chat.extra.remove("stream_options") {
        None | Some(Value::Null) => false,
        Some(Value::Object(o)) => o
            .get("include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        Some(_) => {
            return Err(
                ApiError::unprocessable("`stream_options` must be an object")
                    .param("stream_options"),
            );
        }
    };
    Ok((stream, include_usage))
}

pub(super) fn chat_response(out: &Outcome<ChatResponse>) -> Response {
    let r = &out.resp;
    let wire = ChatWire {
        id: &r.id,
        object: &r.object,
        created: r.created,
        model: full_model(&r.provider, &r.model),
        choices: &r.choices,
        usage: UsageWire {
            usage: &r.usage,
            cost: out.cost.to_string(),
        },
        system_fingerprint: r.system_fingerprint.as_deref(),
        service_tier: r.service_tier.as_deref(),
        provider: &r.provider,
        extra: &r.extra,
    };
    with_cost(json_value(StatusCode::OK, &wire), out.cost)
}

/// Serializes the answer, then puts the charge in `usage.cost` and the model as
/// `provider/model`. For the less hot endpoints, where a typed wire struct per
/// shape would be more code than it saves.
fn patched<T: Serialize + Metered>(out: &Outcome<T>) -> Result<Value, ApiError> {
    let mut v = serde_json::to_value(&out.resp).map_err(|_| ApiError::internal())?;
    if let Value::Object(o) = &mut v {
        o.remove("cost");
        o.insert(
            "model".into(),
            Value::String(full_model(out.resp.provider(), out.resp.model())),
        );
        let usage = o
            .entry("usage")
            .or_insert_with(|| Value::Object(Map::new()));
        if !usage.is_object() {
            *usage = Value::Object(Map::new());
        }
        if let Value::Object(u) = usage {
            u.insert("cost".into(), Value::String(out.cost.to_string()));
        }
    }
    Ok(v)
}

/// The response for a patched value.
fn patched_response(v: &Value, cost: Usd) -> Response {
    with_cost(json_value(StatusCode::OK, v), cost)
}

/// Float vectors as OpenAI's base64 (little-endian f32), a quarter of the JSON size.
fn base64_vectors(v: &mut Value) {
    use base64::Engine as _;
    let Some(data) = v.get_mut("data").and_then(Value::as_array_mut) else {
        return;
    };
    for item in data {
        let Some(vec) = item.get("embedding").and_then(Value::as_array) else {
            continue;
        };
        let mut bytes = Vec::with_capacity(vec.len() * 4);
        for x in vec {
            // Values came from f32s, so narrowing back is exact.
            #[allow(clippy::cast_possible_truncation)]
            let f = x.as_f64().unwrap_or(0.0) as f32;
            bytes.extend_from_slice(&f.to_le_bytes());
        }
        item["embedding"] = Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
    }
}

pub(super) fn routes(state: Arc<crate::state::AppState>) -> BoxedFilter<(Response,)> {
    let chat = post_route(
        &state,
        Surface::OpenAi,
        warp::path!("chat" / "completions").boxed(),
        |req: Req, body: Bytes| async move {
            let p = req.principal()?;
            let mut chat: ChatRequest = parse_json(&body)?;
            let (stream, include_usage) = take_stream_flags(&mut chat)?;
            if stream {
                return super::stream::chat(req.clone(), p, chat, include_usage).await;
            }
            let out = inference::chat(&req, &p, chat).await?;
            Ok(chat_response(&out))
        },
    );

    let completions = post_route(
        &state,
        Surface::OpenAi,
        warp::path!("completions").boxed(),
        |req: Req, body: Bytes| async move {
            let p = req.principal()?;
            let mut c: CompletionRequest = parse_json(&body)?;
            if take_flag(&mut c.extra, "stream")? {
                return Err(ApiError::bad_request(
                    "streaming text completions is not supported; use /v1/chat/completions with stream=true",
                )
                .param("stream"));
            }
            c.extra.remove("stream_options");
            let out = inference::completion(&req, &p, c).await?;
            Ok(patched_response(&patched(&out)?, out.cost))
        },
    );

    let embeddings = post_route(
        &state,
        Surface::OpenAi,
        warp::path!("embeddings").boxed(),
        |req: Req, body: Bytes| async move {
            let p = req.principal()?;
            let mut e: EmbeddingRequest = parse_json(&body)?;
            let base64 = match e.extra.remove("encoding_format") {
                None | Some(Value::Null) => false,
                Some(Value::String(f)) if f == "float" => false,
                Some(Value::String(f)) if f == "base64" => true,
                Some(_) => {
                    return Err(ApiError::unprocessable(
                        "`encoding_format` must be `float` or `base64`",
                    )
                    .param("encoding_format"));
                }
            };
            let out = inference::embeddings(&req, &p, e).await?;
            let mut v = patched(&out)?;
            if base64 {
                base64_vectors(&mut v);
            }
            Ok(patched_response(&v, out.cost))
        },
    );

    let images = post_route(
        &state,
        Surface::OpenAi,
        warp::path!("images" / "generations").boxed(),
        |req: Req, body: Bytes| async move {
            let p = req.principal()?;
            let i: ImageRequest = parse_json(&body)?;
            let out = inference::images(&req, &p, i).await?;
            Ok(patched_response(&patched(&out)?, out.cost))
        },
    );

    chat.or(completions)
        .unify()
        .or(embeddings)
        .unify()
        .or(images)
        .unify()
        .boxed()
}
