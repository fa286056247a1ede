//! Model catalog routes: the classic API's `/api/v1/models/...` (providers,
//! capabilities, limits, prices) and OpenAI's `/v1/models`.

use std::sync::Arc;

use http::StatusCode;
use indoxrouter::ModelInfo;
use serde::Serialize;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::path::Tail;
use warp::reply::Response;

use super::{Req, ctx, finish, json_value};
use crate::error::{ApiError, Surface};
use crate::state::AppState;

#[derive(Serialize)]
struct ProviderView<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    website: Option<&'a str>,
    /// Whether this server holds credentials for it.
    configured: bool,
    models: Vec<&'a ModelInfo>,
}

#[derive(Serialize)]
struct OpenAiModel<'a> {
    id: String,
    object: &'static str,
    created: u64,
    owned_by: &'a str,
}

fn openai_model(m: &ModelInfo) -> OpenAiModel<'_> {
    OpenAiModel {
        id: m.full_id(),
        object: "model",
        created: 0,
        owned_by: &m.provider,
    }
}

/// `GET /api/v1/models/`, `/models/{provider}`, `/models/{provider}/{model}`.
/// Public: the catalog holds no secrets.
pub(super) fn classic_routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    warp::path("models")
        .and(warp::path::tail())
        .and(warp::get())
        .and(ctx(state))
        .map(|tail: Tail, req: Req| {
            let decoded = percent_encoding::percent_decode_str(tail.as_str()).decode_utf8_lossy();
            let r = classic_lookup(&req, decoded.trim_end_matches('/'));
            finish(r, Surface::Classic, &req)
        })
        .boxed()
}

fn classic_lookup(req: &Req, path: &str) -> Result<Response, ApiError> {
    let client = &req.state.client;
    let catalog = client.catalog();
    let configured = client.providers();
    let provider_view = |p: &'_ indoxrouter::catalog::ProviderInfo| -> serde_json::Value {
        let view = ProviderView {
            id: &p.id,
            name: &p.name,
            description: &p.description,
            website: p.website.as_deref(),
            configured: configured.contains(&p.id.as_str()),
            models: catalog.provider_models(&p.id).collect(),
        };
        serde_json::to_value(view).unwrap_or_default()
    };
    if path.is_empty() {
        let all: Vec<serde_json::Value> = catalog.providers().map(provider_view).collect();
        return Ok(json_value(StatusCode::OK, &all));
    }
    let (provider, model) = match path.split_once('/') {
        Some((p, m)) => (p, Some(m)),
        None => (path, None),
    };
    let provider = indoxrouter::catalog::canonical_provider(provider);
    let Some(info) = catalog.provider(provider) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "provider_not_found",
            format!("no provider `{provider}` in the catalog"),
        ));
    };
    match model {
        None => Ok(json_value(StatusCode::OK, &provider_view(info))),
        Some(m) => {
            let id = format!("{provider}/{m}");
            let model = client.model(&id).map_err(ApiError::from)?;
            Ok(json_value(StatusCode::OK, model))
        }
    }
}

/// `GET /v1/models` and `GET /v1/models/{provider}/{model}`: models of the
/// providers this server is configured for, ids as `provider/model`.
pub(super) fn openai_routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    warp::path("models")
        .and(warp::path::tail())
        .and(warp::get())
        .and(ctx(state))
        .map(|tail: Tail, req: Req| {
            let r = req.principal().and_then(|_| {
                let client = &req.state.client;
                let configured = client.providers();
                // SDKs percent-encode the `/` inside `provider/model`.
                let decoded =
                    percent_encoding::percent_decode_str(tail.as_str()).decode_utf8_lossy();
                let path = decoded.trim_end_matches('/');
                if path.is_empty() {
                    let data: Vec<OpenAiModel<'_>> = client
                        .catalog()
                        .models()
                        .filter(|m| configured.contains(&m.provider.as_str()))
                        .map(openai_model)
                        .collect();
                    return Ok(json_value(
                        StatusCode::OK,
                        &serde_json::json!({ "object": "list", "data": data }),
                    ));
                }
                let model = client.model(path).map_err(ApiError::from)?;
                Ok(json_value(StatusCode::OK, &openai_model(model)))
            });
            finish(r, Surface::OpenAi, &req)
        })
        .boxed()
}
