//! The metered request path shared by both surfaces:
//! quote → reserve → call the core → settle the exact charge and its usage row.

use indoxrouter::types::{
    ChatRequest, ChatResponse, CompletionRequest, CompletionResponse, EmbeddingRequest,
    EmbeddingResponse, ImageRequest, ImageResponse, Usage,
};
use indoxrouter::{Client, CostBreakdown, Usd};

use super::Req;
use crate::billing::{self, Quote};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::store::{Reservation, UsageRow, UsageStatus};
use crate::time::unix_millis;

/// A served request and what it cost.
#[derive(Debug)]
pub struct Outcome<T> {
    /// The core's answer.
    pub resp: T,
    /// The charge (durable when this exists).
    pub cost: Usd,
    /// The model was unpriced and served at zero cost.
    pub unpriced: bool,
}

/// What the ledger row needs to know about a finished call.
pub(super) struct Served<'a> {
    pub endpoint: &'static str,
    pub stream: bool,
    pub provider: &'a str,
    pub model: &'a str,
    pub usage: &'a Usage,
    pub images: u32,
    pub cost: Usd,
    pub unpriced: bool,
    pub status: UsageStatus,
}

/// Settles `reservation` with the charge in `served` and appends its row;
/// resolves once both are durable.
pub(super) async fn settle(
    req: &Req,
    p: &Principal,
    reservation: Reservation,
    served: Served<'_>,
) -> Result<Usd, ApiError> {
    let u = served.usage;
    let row = UsageRow {
        request_id: req.request_id.clone(),
        user_id: p.user_id,
        key_id: p.key_id.clone(),
        endpoint: served.endpoint.to_owned(),
        provider: served.provider.to_owned(),
        model: served.model.to_owned(),
        stream: served.stream,
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        cached_tokens: u.cached_tokens(),
        cache_write_tokens: u
            .prompt_tokens_details
            .map_or(0, |d| d.cache_creation_tokens),
        reasoning_tokens: u
            .completion_tokens_details
            .map_or(0, |d| d.reasoning_tokens),
        images: served.images,
        cost: served.cost,
        unpriced: served.unpriced,
        latency_ms: u64::try_from(req.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        status: served.status,
        created_at_ms: unix_millis(),
    };
    Ok(req.state.ledger.settle(reservation, row).await?)
}

/// Records a failed provider call: a zero-cost row, the hold released.
pub(super) async fn record_failure(
    req: &Req,
    p: &Principal,
    reservation: Reservation,
    endpoint: &'static str,
    stream: bool,
    model: &str,
) {
    let (provider, model) = model.split_once('/').unwrap_or(("", model));
    let served = Served {
        endpoint,
        stream,
        provider,
        model,
        usage: &Usage::default(),
        images: 0,
        cost: Usd::ZERO,
        unpriced: false,
        status: UsageStatus::Failed,
    };
    if let Err(e) = settle(req, p, reservation, served).await {
        tracing::warn!(request_id = %req.request_id, error = %e.message, "recording a failed call");
    }
}

/// Holds the quote's amount, or 402.
pub(super) fn reserve(req: &Req, p: &Principal, quote: Quote) -> Result<Reservation, ApiError> {
    Ok(req.state.ledger.reserve(p.user_id, quote.amount)?)
}

/// The charge for a priced answer, or the counted-token fallback when the
/// provider reported no usage, or zero for an allowed unpriced model.
pub(super) fn charge(
    client: &Client,
    candidates: &[&str],
    provider: &str,
    cost: Option<&CostBreakdown>,
    counted: impl FnOnce() -> Usage,
) -> (Usd, bool) {
    if let Some(c) = cost {
        return (c.total, false);
    }
    let priced = candidates
        .iter()
        .filter_map(|id| client.model(id).ok())
        .find(|m| m.provider == provider)
        .and_then(|m| m.pricing.token_cost(&counted()));
    match priced {
        Some(c) => (c.total, false),
        None => (Usd::ZERO, true),
    }
}

fn candidates<'a>(first: &'a str, rest: &'a [String]) -> Vec<&'a str> {
    std::iter::once(first)
        .chain(rest.iter().map(String::as_str))
        .collect()
}

/// A non-streamed chat.
pub async fn chat(
    req: &Req,
    p: &Principal,
    chat: ChatRequest,
) -> Result<Outcome<ChatResponse>, ApiError> {
    let quote = req.state.policy.chat(&req.state.client, &chat)?;
    let reservation = reserve(req, p, quote)?;
    let model = chat.model.clone();
    let fallbacks = chat.fallbacks.clone();
    let counted_prompt = billing::counted_chat_usage(&chat.messages, 0).prompt_tokens;
    let resp = match req.state.client.chat(chat).await {
        Ok(r) => r,
        Err(e) => {
            record_failure(req, p, reservation, "chat", false, &model).await;
            return Err(e.into());
        }
    };
    let (cost, unpriced) = charge(
        &req.state.client,
        &candidates(&model, &fallbacks),
        &resp.provider,
        resp.cost.as_ref(),
        || {
            let delivered: usize = resp
                .choices
                .iter()
                .map(|c| c.message.text().map_or(0, |t| t.len()))
                .sum();
            Usage::new(
                counted_prompt,
                billing::counted_tokens(u64::try_from(delivered).unwrap_or(u64::MAX)),
            )
        },
    );
    settle(
        req,
        p,
        reservation,
        Served {
            endpoint: "chat",
            stream: false,
            provider: &resp.provider,
            model: &resp.model,
            usage: &resp.usage,
            images: 0,
            cost,
            unpriced,
            status: UsageStatus::Completed,
        },
    )
    .await?;
    Ok(Outcome {
        resp,
        cost,
        unpriced,
    })
}

/// A text completion.
pub async fn completion(
    req: &Req,
    p: &Principal,
    c: CompletionRequest,
) -> Result<Outcome<CompletionResponse>, ApiError> {
    let quote = req.state.policy.completion(&req.state.client, &c)?;
    let reservation = reserve(req, p, quote)?;
    let model = c.model.clone();
    let fallbacks = c.fallbacks.clone();
    let prompt_bytes: u64 = c
        .prompt
        .as_vec()
        .iter()
        .map(|s| billing::counted_tokens(u64::try_from(s.len()).unwrap_or(u64::MAX)))
        .sum();
    let resp = match req.state.client.completions(c).await {
        Ok(r) => r,
        Err(e) => {
            record_failure(req, p, reservation, "completions", false, &model).await;
            return Err(e.into());
        }
    };
    let (cost, unpriced) = charge(
        &req.state.client,
        &candidates(&model, &fallbacks),
        &resp.provider,
        resp.cost.as_ref(),
        || {
            let delivered: usize = resp.choices.iter().map(|c| c.text.len()).sum();
            Usage::new(
                prompt_bytes,
                billing::counted_tokens(u64::try_from(delivered).unwrap_or(u64::MAX)),
            )
        },
    );
    settle(
        req,
        p,
        reservation,
        Served {
            endpoint: "completions",
            stream: false,
            provider: &resp.provider,
            model: &resp.model,
            usage: &resp.usage,
            images: 0,
            cost,
            unpriced,
            status: UsageStatus::Completed,
        },
    )
    .await?;
    Ok(Outcome {
        resp,
        cost,
        unpriced,
    })
}

/// Embeddings.
pub async fn embeddings(
    req: &Req,
    p: &Principal,
    e: EmbeddingRequest,
) -> Result<Outcome<EmbeddingResponse>, ApiError> {
    let quote = req.state.policy.embeddings(&req.state.client, &e)?;
    let reservation = reserve(req, p, quote)?;
    let model = e.model.clone();
    let fallbacks = e.fallbacks.clone();
    let counted: u64 = e
        .input
        .as_vec()
        .iter()
        .map(|s| billing::counted_tokens(u64::try_from(s.len()).unwrap_or(u64::MAX)))
        .sum();
    let resp = match req.state.client.embeddings(e).await {
        Ok(r) => r,
        Err(err) => {
            record_failure(req, p, reservation, "embeddings", false, &model).await;
            return Err(err.into());
        }
    };
    let (cost, unpriced) = charge(
        &req.state.client,
        &candidates(&model, &fallbacks),
        &resp.provider,
        resp.cost.as_ref(),
        || Usage::new(counted, 0),
    );
    settle(
        req,
        p,
        reservation,
        Served {
            endpoint: "embeddings",
            stream: false,
            provider: &resp.provider,
            model: &resp.model,
            usage: &resp.usage,
            images: 0,
            cost,
            unpriced,
            status: UsageStatus::Completed,
        },
    )
    .await?;
    Ok(Outcome {
        resp,
        cost,
        unpriced,
    })
}

/// Image generation.
pub async fn images(
    req: &Req,
    p: &Principal,
    i: ImageRequest,
) -> Result<Outcome<ImageResponse>, ApiError> {
    let quote = req.state.policy.images(&req.state.client, &i)?;
    let reservation = reserve(req, p, quote)?;
    let model = i.model.clone();
    let resp = match req.state.client.images(i).await {
        Ok(r) => r,
        Err(err) => {
            record_failure(req, p, reservation, "images", false, &model).await;
            return Err(err.into());
        }
    };
    // Image prices are per image or per reported token; with neither there is
    // nothing to count, so only an allowed unpriced model gets here with None.
    let (cost, unpriced) = match &resp.cost {
        Some(c) => (c.total, false),
        None => (Usd::ZERO, true),
    };
    let images = u32::try_from(resp.data.len()).unwrap_or(u32::MAX);
    let usage = resp.usage.unwrap_or_default();
    settle(
        req,
        p,
        reservation,
        Served {
            endpoint: "images",
            stream: false,
            provider: &resp.provider,
            model: &resp.model,
            usage: &usage,
            images,
            cost,
            unpriced,
            status: UsageStatus::Completed,
        },
    )
    .await?;
    Ok(Outcome {
        resp,
        cost,
        unpriced,
    })
}
