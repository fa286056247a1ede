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

/// What the metered path needs to know about each endpoint's answer.
pub(super) trait Metered {
    /// `chat`, `completions`, `embeddings` or `images`.
    const ENDPOINT: &'static str;
    /// Provider that answered.
    fn provider(&self) -> &str;
    /// Model that answered.
    fn model(&self) -> &str;
    /// Reported usage (empty when the provider reported none).
    fn usage(&self) -> Usage;
    /// The core's exact cost of it.
    fn cost(&self) -> Option<&CostBreakdown>;
    /// Images generated.
    fn images(&self) -> u32 {
        0
    }
    /// Bytes of text delivered, for the counted-token rule; `None` where the
    /// rule does not apply (images are priced per image or per reported token).
    fn delivered_bytes(&self) -> Option<u64>;
}

fn len64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

impl Metered for ChatResponse {
    const ENDPOINT: &'static str = "chat";
    fn provider(&self) -> &str {
        &self.provider
    }
    fn model(&self) -> &str {
        &self.model
    }
    fn usage(&self) -> Usage {
        self.usage
    }
    fn cost(&self) -> Option<&CostBreakdown> {
        self.cost.as_ref()
    }
    fn delivered_bytes(&self) -> Option<u64> {
        Some(len64(
            self.choices
                .iter()
                .map(|c| c.message.text().map_or(0, |t| t.len()))
                .sum(),
        ))
    }
}

impl Metered for CompletionResponse {
    const ENDPOINT: &'static str = "completions";
    fn provider(&self) -> &str {
        &self.provider
    }
    fn model(&self) -> &str {
        &self.model
    }
    fn usage(&self) -> Usage {
        self.usage
    }
    fn cost(&self) -> Option<&CostBreakdown> {
        self.cost.as_ref()
    }
    fn delivered_bytes(&self) -> Option<u64> {
        Some(len64(self.choices.iter().map(|c| c.text.len()).sum()))
    }
}

impl Metered for EmbeddingResponse {
    const ENDPOINT: &'static str = "embeddings";
    fn provider(&self) -> &str {
        &self.provider
    }
    fn model(&self) -> &str {
        &self.model
    }
    fn usage(&self) -> Usage {
        self.usage
    }
    fn cost(&self) -> Option<&CostBreakdown> {
        self.cost.as_ref()
    }
    fn delivered_bytes(&self) -> Option<u64> {
        Some(0)
    }
}

impl Metered for ImageResponse {
    const ENDPOINT: &'static str = "images";
    fn provider(&self) -> &str {
        &self.provider
    }
    fn model(&self) -> &str {
        &self.model
    }
    fn usage(&self) -> Usage {
        self.usage.unwrap_or_default()
    }
    fn cost(&self) -> Option<&CostBreakdown> {
        self.cost.as_ref()
    }
    fn images(&self) -> u32 {
        u32::try_from(self.data.len()).unwrap_or(u32::MAX)
    }
    fn delivered_bytes(&self) -> Option<u64> {
        None
    }
}

/// The request-side facts the metered path needs.
pub(super) struct Ask<'a> {
    /// The credit to hold.
    pub quote: Quote,
    /// The requested model.
    pub model: &'a str,
    /// Its fallbacks.
    pub fallbacks: &'a [String],
    /// Prompt tokens by the counted-token rule.
    pub counted_prompt: u64,
}

/// Reserve, call, settle: the one metered path for every non-streamed endpoint.
async fn metered<T: Metered>(
    req: &Req,
    p: &Principal,
    ask: Ask<'_>,
    call: impl std::future::Future<Output = indoxrouter::Result<T>>,
) -> Result<Outcome<T>, ApiError> {
    let reservation = reserve(req, p, ask.quote)?;
    let resp = match call.await {
        Ok(r) => r,
        Err(e) => {
            record_failure(req, p, reservation, T::ENDPOINT, false, ask.model).await;
            return Err(e.into());
        }
    };
    let (cost, unpriced) = match resp.delivered_bytes() {
        Some(delivered) => charge(
            &req.state.client,
            &candidates(ask.model, ask.fallbacks),
            resp.provider(),
            resp.cost(),
            || Usage::new(ask.counted_prompt, billing::counted_tokens(delivered)),
        ),
        None => resp.cost().map_or((Usd::ZERO, true), |c| (c.total, false)),
    };
    let usage = resp.usage();
    settle(
        req,
        p,
        reservation,
        Served {
            endpoint: T::ENDPOINT,
            stream: false,
            provider: resp.provider(),
            model: resp.model(),
            usage: &usage,
            images: resp.images(),
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

fn counted_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> u64 {
    texts
        .into_iter()
        .map(|s| billing::counted_tokens(len64(s.len())))
        .fold(0, u64::saturating_add)
}

/// A non-streamed chat.
pub async fn chat(
    req: &Req,
    p: &Principal,
    chat: ChatRequest,
) -> Result<Outcome<ChatResponse>, ApiError> {
    let quote = req.state.policy.chat(&req.state.client, &chat)?;
    let (model, fallbacks) = (chat.model.clone(), chat.fallbacks.clone());
    let counted_prompt = billing::counted_chat_usage(&chat.messages, 0).prompt_tokens;
    let ask = Ask {
        quote,
        model: &model,
        fallbacks: &fallbacks,
        counted_prompt,
    };
    metered(req, p, ask, req.state.client.chat(chat)).await
}

/// A text completion.
pub async fn completion(
    req: &Req,
    p: &Principal,
    c: CompletionRequest,
) -> Result<Outcome<CompletionResponse>, ApiError> {
    let quote = req.state.policy.completion(&req.state.client, &c)?;
    let (model, fallbacks) = (c.model.clone(), c.fallbacks.clone());
    let counted_prompt = counted_texts(c.prompt.as_vec());
    let ask = Ask {
        quote,
        model: &model,
        fallbacks: &fallbacks,
        counted_prompt,
    };
    metered(req, p, ask, req.state.client.completions(c)).await
}

/// Embeddings.
pub async fn embeddings(
    req: &Req,
    p: &Principal,
    e: EmbeddingRequest,
) -> Result<Outcome<EmbeddingResponse>, ApiError> {
    let quote = req.state.policy.embeddings(&req.state.client, &e)?;
    let (model, fallbacks) = (e.model.clone(), e.fallbacks.clone());
    let counted_prompt = counted_texts(e.input.as_vec());
    let ask = Ask {
        quote,
        model: &model,
        fallbacks: &fallbacks,
        counted_prompt,
    };
    metered(req, p, ask, req.state.client.embeddings(e)).await
}

/// Image generation.
pub async fn images(
    req: &Req,
    p: &Principal,
    i: ImageRequest,
) -> Result<Outcome<ImageResponse>, ApiError> {
    let quote = req.state.policy.images(&req.state.client, &i)?;
    let (model, fallbacks) = (i.model.clone(), i.fallbacks.clone());
    let ask = Ask {
        quote,
        model: &model,
        fallbacks: &fallbacks,
        counted_prompt: 0,
    };
    metered(req, p, ask, req.state.client.images(i)).await
}
