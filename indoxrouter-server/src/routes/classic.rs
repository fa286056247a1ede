//! The classic API's `/api/v1` inference routes: its request fields (`provider` +
//! `model`, `text` for embeddings, `additional_params`) and its response
//! envelope. The work underneath is the same as on `/v1`.

use std::sync::Arc;

use http::StatusCode;
use indoxrouter::Usd;
use indoxrouter::types::{ChatRequest, CompletionRequest, EmbeddingRequest, ImageRequest, Usage};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::inference::{self, Metered, Outcome};
use super::openai::{full_model, take_stream_flags, with_cost};
use super::{Req, json_value, parse_json, post_route};
use crate::error::{ApiError, Surface};
use crate::state::AppState;
use crate::time::{rfc3339_millis, unix_millis};

/// The classic API's `usage` block.
#[derive(Serialize)]
struct ClassicUsage {
    tokens_prompt: u64,
    tokens_completion: u64,
    tokens_total: u64,
    /// USD decimal string.
    cost: String,
    /// Seconds, end to end.
    latency: f64,
    timestamp: String,
}

/// The classic API's success envelope.
#[derive(Serialize)]
struct Envelope<'a, D: Serialize> {
    request_id: &'a str,
    created_at: String,
    duration_ms: u64,
    provider: &'a str,
    model: &'a str,
    success: bool,
    message: &'static str,
    data: D,
    #[serde(skip_serializing_if = "Option::is_none")]
    finish_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dimensions: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<&'a [indoxrouter::types::ToolCall]>,
    usage: ClassicUsage,
    /// The model was unpriced and served at zero cost.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unpriced: bool,
}

struct Meta<'a> {
    provider: &'a str,
    model: &'a str,
    usage: Usage,
    cost: Usd,
    unpriced: bool,
}

impl<'a> Meta<'a> {
    fn of<T: Metered>(out: &'a Outcome<T>) -> Self {
        Meta {
            provider: out.resp.provider(),
            model: out.resp.model(),
            usage: out.resp.usage(),
            cost: out.cost,
            unpriced: out.unpriced,
        }
    }
}

fn envelope<D: Serialize>(
    req: &Req,
    meta: Meta<'_>,
    data: D,
    finish_reason: Option<String>,
    dimensions: Option<usize>,
    tool_calls: Option<&[indoxrouter::types::ToolCall]>,
) -> Response {
    let elapsed = req.started.elapsed();
    let now = unix_millis();
    let model = full_model(meta.provider, meta.model);
    let env = Envelope {
        request_id: &req.request_id,
        created_at: rfc3339_millis(now),
        duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        provider: meta.provider,
        model: &model,
        success: true,
        message: "",
        data,
        finish_reason,
        dimensions,
        tool_calls,
        usage: ClassicUsage {
            tokens_prompt: meta.usage.prompt_tokens,
            tokens_completion: meta.usage.completion_tokens,
            tokens_total: meta.usage.prompt_tokens + meta.usage.completion_tokens,
            cost: meta.cost.to_string(),
            latency: elapsed.as_secs_f64(),
            timestamp: rfc3339_millis(now),
        },
        unpriced: meta.unpriced,
    };
    with_cost(json_value(StatusCode::OK, &env), meta.cost)
}

/// Rewrites a classic request into the core's field names, then decodes it.
fn classic_request<T: DeserializeOwned>(
    body: &[u8],
    default_model: &str,
    text_is_input: bool,
) -> Result<T, ApiError> {
    let v: Value = parse_json(body)?;
    let Value::Object(mut o) = v else {
        return Err(ApiError::unprocessable(
            "the request body must be a JSON object",
        ));
    };
    if let Some(extra) = o.remove("additional_params") {
        let Value::Object(extra) = extra else {
            return Err(
                ApiError::unprocessable("`additional_params` must be an object")
                    .param("additional_params"),
            );
        };
        for (k, v) in extra {
            o.entry(k).or_insert(v);
        }
    }
    let provider = match o.remove("provider") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(p),
        Some(_) => {
            return Err(ApiError::unprocessable("`provider` must be a string").param("provider"));
        }
    };
    let model = match (provider, o.remove("model")) {
        (Some(p), Some(Value::String(m))) if !m.contains('/') => format!("{p}/{m}"),
        (_, Some(Value::String(m))) => m,
        (Some(p), None | Some(Value::Null)) => {
            return Err(ApiError::unprocessable(format!(
                "`model` is required with `provider` `{p}`"
            ))
            .param("model"));
        }
        (None, None | Some(Value::Null)) => default_model.to_owned(),
        (_, Some(_)) => {
            return Err(ApiError::unprocessable("`model` must be a string").param("model"));
        }
    };
    o.insert("model".into(), Value::String(model));
    if text_is_input && !o.contains_key("input") {
        if let Some(text) = o.remove("text") {
            o.insert("input".into(), text);
        }
    }
    serde_json::from_value(Value::Object(o))
        .map_err(|e| ApiError::unprocessable(format!("invalid request: {e}")))
}

pub(super) fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let chat = post_route(
        &state,
        Surface::Classic,
        warp::path!("chat" / "completions").boxed(),
        |req, body| async move {
            let p = req.principal()?;
            let mut chat: ChatRequest = classic_request(&body, &req.state.defaults.chat, false)?;
            let (stream, include_usage) = take_stream_flags(&mut chat)?;
            if stream {
                return super::stream::chat(req.clone(), p, chat, include_usage).await;
            }
            let out = inference::chat(&req, &p, chat).await?;
            let r = &out.resp;
            let first = r.choices.first();
            Ok(envelope(
                &req,
                Meta::of(&out),
                r.text().unwrap_or_default(),
                first
                    .and_then(|c| c.finish_reason.as_ref())
                    .map(|f| f.as_str().to_owned()),
                None,
                Some(r.tool_calls()).filter(|t| !t.is_empty()),
            ))
        },
    );

    let completions = post_route(
        &state,
        Surface::Classic,
        warp::path!("completions").boxed(),
        |req, body| async move {
            let p = req.principal()?;
            let mut c: CompletionRequest = classic_request(&body, &req.state.defaults.chat, false)?;
            if super::openai::take_flag(&mut c.extra, "stream")? {
                return Err(ApiError::bad_request(
                    "streaming text completions is not supported; stream a chat instead",
                )
                .param("stream"));
            }
            let out = inference::completion(&req, &p, c).await?;
            let r = &out.resp;
            let first = r.choices.first();
            Ok(envelope(
                &req,
                Meta::of(&out),
                first.map_or("", |c| c.text.as_str()),
                first
                    .and_then(|c| c.finish_reason.as_ref())
                    .map(|f| f.as_str().to_owned()),
                None,
                None,
            ))
        },
    );

    let embeddings = post_route(
        &state,
        Surface::Classic,
        warp::path!("embeddings").boxed(),
        |req, body| async move {
            let p = req.principal()?;
            let e: EmbeddingRequest = classic_request(&body, &req.state.defaults.embeddings, true)?;
            let out = inference::embeddings(&req, &p, e).await?;
            let r = &out.resp;
            let vectors: Vec<&[f32]> = r.data.iter().map(|d| d.embedding.as_slice()).collect();
            Ok(envelope(
                &req,
                Meta::of(&out),
                &vectors,
                None,
                Some(vectors.first().map_or(0, |v| v.len())),
                None,
            ))
        },
    );

    let images = post_route(
        &state,
        Surface::Classic,
        warp::path!("images" / "generations").boxed(),
        |req, body| async move {
            let p = req.principal()?;
            let i: ImageRequest = classic_request(&body, &req.state.defaults.images, false)?;
            let out = inference::images(&req, &p, i).await?;
            let r = &out.resp;
            Ok(envelope(&req, Meta::of(&out), &r.data, None, None, None))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_fields_map_to_core_fields() {
        let e: EmbeddingRequest = classic_request(
            br#"{"provider":"openai","model":"text-embedding-3-small","text":"hi"}"#,
            "x/y",
            true,
        )
        .unwrap();
        assert_eq!(e.model, "openai/text-embedding-3-small");
        assert_eq!(e.input.as_vec(), vec!["hi"]);
        let c: ChatRequest = classic_request(
            br#"{"messages":[{"role":"user","content":"hi"}],"additional_params":{"seed":7}}"#,
            "openai/gpt-4o-mini",
            false,
        )
        .unwrap();
        assert_eq!(c.model, "openai/gpt-4o-mini");
        assert_eq!(c.seed, Some(7));
        let err =
            classic_request::<ChatRequest>(br#"{"provider":"openai","messages":[]}"#, "x", false)
                .unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
