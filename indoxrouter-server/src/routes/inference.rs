//! The metered request path shared by both surfaces:
//! quote → reserve → call the core → settle the exact charge and its usage row.

use indoxrouter::types::{
    ChatRequest, ChatResponse, CompletionRequest, CompletionResponse, EmbeddingRequest,
    EmbeddingResponse, ImageRequest, ImageResponse, Usage,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indoxrouter::{Client, CostBreakdown, Usd};

use super::Req;
use crate::billing::{self, Quote};
use crate::error::ApiError;
use crate::principal::Principal;
use crate::ratelimit::{Bucket, Grant, Subject};
use crate::store::{Reservation, Role, UsageRow, UsageStatus};
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

/// What one admitted request holds: credit, and the rate allowance taken.
pub(super) struct Hold {
    credit: Reservation,
    rate: Option<Grant>,
}

impl Hold {
    /// The most this request can be charged: what was held.
    pub(super) fn cap(&self, cost: Usd) -> Usd {
        cost.min(self.credit.amount)
    }
}

/// Settles the hold with the charge in `served` (capped at the hold) and
/// appends its row; resolves to the charge once both are durable. The rate
/// allowance is corrected to the tokens actually used (none for a failed
/// call).
pub(super) async fn settle(
    req: &Req,
    p: &Principal,
    hold: Hold,
    served: Served<'_>,
) -> Result<Usd, ApiError> {
    let u = served.usage;
    if let Some(grant) = hold.rate {
        req.state
            .limiter
            .settle(grant, u.prompt_tokens.saturating_add(u.completion_tokens));
    }
    let mut row = UsageRow {
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
        overrun: Usd::ZERO,
        unpriced: served.unpriced,
        latency_ms: u64::try_from(req.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        status: served.status,
        created_at_ms: unix_millis(),
    };
    row.cap_to(hold.credit.amount);
    let (charge, overrun) = (row.cost, row.overrun);
    // Labels come from the catalog only: with unpriced models allowed, a
    // caller's model string (any length, any count) must not grow the
    // metrics registry.
    let model_label = if req
        .state
        .client
        .catalog()
        .get(served.provider, served.model)
        .is_some()
    {
        served.model
    } else {
        "other"
    };
    if !overrun.is_zero() {
        // The quote is meant to bound every honest report: this is a
        // provider over-reporting or a bound to fix, and the operator pays it.
        tracing::warn!(
            request_id = %req.request_id,
            provider = served.provider,
            model = served.model,
            charged = %charge,
            overrun = %overrun,
            "provider usage cost more than the hold; the excess is not charged"
        );
        req.state
            .metrics
            .unbilled_overrun(served.provider, model_label, overrun);
    }
    req.state.ledger.settle(hold.credit, row).await?;
    req.state.metrics.billed(
        served.provider,
        model_label,
        u.prompt_tokens,
        u.completion_tokens,
        charge,
    );
    Ok(charge)
}

/// Records a failed provider call: a zero-cost row, the hold released.
pub(super) async fn record_failure(
    req: &Req,
    p: &Principal,
    hold: Hold,
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
    if let Err(e) = settle(req, p, hold, served).await {
        tracing::warn!(request_id = %req.request_id, error = %e.message, "recording a failed call");
    }
}

/// Admits a request estimated at `tokens`: its rate limits first (429),
/// then its credit (402), so a refused request never reaches the provider.
pub(super) async fn admit(
    req: &Req,
    p: &Principal,
    quote: Quote,
    tokens: u64,
) -> Result<Hold, ApiError> {
    let rate = rate_limit(req, p, tokens).await?;
    match req
        .state
        .ledger
        .reserve_for_key(p.user_id, p.key_id.as_deref(), quote.amount)
    {
        Ok(credit) => Ok(Hold { credit, rate }),
        Err(e) => {
            // The request counts against the rate; its tokens do not.
            if let Some(grant) = rate {
                req.state.limiter.settle(grant, 0);
            }
            if matches!(e, crate::store::StoreError::InsufficientCredits { .. }) {
                req.state.metrics.credit_refused();
            }
            Err(e.into())
        }
    }
}

/// Takes one request and `tokens` from the caller's buckets: the user's, and
/// the key's when the key has a tier of its own. Admins are exempt.
async fn rate_limit(req: &Req, p: &Principal, tokens: u64) -> Result<Option<Grant>, ApiError> {
    let state = &req.state;
    if !state.rate_limits || p.role == Role::Admin {
        return Ok(None);
    }
    let mut buckets = Vec::with_capacity(2);
    if let (Some(key), Some(tier)) = (&p.key_id, &p.key_tier) {
        buckets.push(Bucket {
            subject: Subject::Key(key.clone()),
            limits: state.tiers.resolve(Some(tier)).1,
        });
    }
    buckets.push(Bucket {
        subject: Subject::User(p.user_id),
        limits: state.tiers.resolve(p.tier.as_deref()).1,
    });
    match state.limiter.admit(buckets, tokens).await? {
        Ok(grant) => {
            let _ = req.rate.set(grant.snapshot);
            Ok(Some(grant))
        }
        Err(refusal) => {
            let _ = req.rate.set(refusal.snapshot);
            state
                .metrics
                .rate_limited(refusal.subject.kind(), refusal.dimension.as_str());
            let code = if refusal.retry_after.is_some() {
                "rate_limit_exceeded"
            } else {
                "tokens_exceed_limit"
            };
            let mut e = ApiError::new(
                http::StatusCode::TOO_MANY_REQUESTS,
                code,
                refusal.to_string(),
            );
            e.retry_after = refusal.retry_after;
            Err(e)
        }
    }
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

/// Refuses (403 `model_not_allowed`) a request for a model, or a fallback,
/// outside the API key's allow-list — before anything is held or called.
/// Models are compared by their full `provider/model` id.
pub(super) fn key_limits(
    req: &Req,
    p: &Principal,
    model: &str,
    fallbacks: &[String],
) -> Result<(), ApiError> {
    if p.models.is_none() {
        return Ok(());
    }
    let ids: Vec<String> = std::iter::once(model)
        .chain(fallbacks.iter().map(String::as_str))
        .map(|m| {
            req.state
                .client
                .model(m)
                .map_or_else(|_| m.to_owned(), |info| info.full_id())
        })
        .collect();
    p.allow_models(ids.iter().map(String::as_str))
}

/// The provider of a requested model, as a metric label: a configured
/// provider's id, or `other` (a caller's string never becomes a label).
pub(super) fn provider_label<'a>(client: &'a Client, model: &str) -> &'a str {
    let wanted = model.split_once('/').map_or("", |(p, _)| p);
    client
        .providers()
        .into_iter()
        .find(|p| *p == wanted)
        .unwrap_or("other")
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
pub(super) struct Ask {
    /// The credit to hold.
    pub quote: Quote,
    /// The requested model.
    pub model: String,
    /// Its fallbacks.
    pub fallbacks: Vec<String>,
    /// Prompt tokens by the counted-token rule.
    pub counted_prompt: u64,
    /// Tokens to take from the rate allowance: the counted prompt plus any
    /// output bound the request set.
    pub tokens: u64,
}

/// Reserve, call, settle: the one metered path for every non-streamed
/// endpoint.
///
/// The provider call and its settlement run in a task of their own,
/// tracked for graceful shutdown: a client that hangs up does not cancel
/// them, because the provider bills the call whether or not anyone reads
/// the answer. Such a call is charged in full and its row says
/// `client_disconnected`.
async fn metered<T, F>(req: &Req, p: &Principal, ask: Ask, call: F) -> Result<Outcome<T>, ApiError>
where
    T: Metered + Send + 'static,
    F: std::future::Future<Output = indoxrouter::Result<T>> + Send + 'static,
{
    let hold = admit(req, p, ask.quote, ask.tokens).await?;
    let left = Arc::new(AtomicBool::new(false));
    let task = {
        let (req, p, left) = (req.clone(), p.clone(), Arc::clone(&left));
        req.state
            .streams
            .clone()
            .spawn(async move { call_and_settle(&req, &p, hold, ask, call, &left).await })
    };
    let mut watch = ClientGone(Some(left));
    let out = task.await.map_err(|e| {
        tracing::error!(request_id = %req.request_id, error = %e, "the metered call stopped unexpectedly");
        ApiError::internal()
    });
    watch.0 = None;
    out?
}

/// Marks the call as abandoned when the handler is dropped before it has
/// the answer: hyper drops it when the client disconnects.
struct ClientGone(Option<Arc<AtomicBool>>);

impl Drop for ClientGone {
    fn drop(&mut self) {
        if let Some(flag) = self.0.take() {
            flag.store(true, Ordering::Release);
        }
    }
}

async fn call_and_settle<T: Metered>(
    req: &Req,
    p: &Principal,
    hold: Hold,
    ask: Ask,
    call: impl std::future::Future<Output = indoxrouter::Result<T>>,
    client_gone: &AtomicBool,
) -> Result<Outcome<T>, ApiError> {
    let started = std::time::Instant::now();
    let result = tokio::select! {
        biased;
        result = call => result,
        () = req.state.interrupt.cancelled() => {
            return Err(interrupted(req, p, hold, &ask, T::ENDPOINT).await);
        }
    };
    let metrics = &req.state.metrics;
    let resp = match result {
        Ok(r) => {
            metrics.upstream(r.provider(), started.elapsed());
            r
        }
        Err(e) => {
            let provider = provider_label(&req.state.client, &ask.model);
            metrics.upstream(provider, started.elapsed());
            let e = ApiError::from(e);
            metrics.upstream_error(provider, e.code);
            record_failure(req, p, hold, T::ENDPOINT, false, &ask.model).await;
            return Err(e);
        }
    };
    let (cost, unpriced) = match resp.delivered_bytes() {
        Some(delivered) => charge(
            &req.state.client,
            &candidates(&ask.model, &ask.fallbacks),
            resp.provider(),
            resp.cost(),
            || Usage::new(ask.counted_prompt, billing::counted_tokens(delivered)),
        ),
        None => resp.cost().map_or((Usd::ZERO, true), |c| (c.total, false)),
    };
    let usage = resp.usage();
    let status = if client_gone.load(Ordering::Acquire) {
        UsageStatus::ClientDisconnected
    } else {
        UsageStatus::Completed
    };
    let cost = settle(
        req,
        p,
        hold,
        Served {
            endpoint: T::ENDPOINT,
            stream: false,
            provider: resp.provider(),
            model: resp.model(),
            usage: &usage,
            images: resp.images(),
            cost,
            unpriced,
            status,
        },
    )
    .await?;
    Ok(Outcome {
        resp,
        cost,
        unpriced,
    })
}

/// A call still running when shutdown's grace period ran out: dropped,
/// and charged by the counted rule for its prompt, which the provider has
/// been processing.
async fn interrupted(
    req: &Req,
    p: &Principal,
    hold: Hold,
    ask: &Ask,
    endpoint: &'static str,
) -> ApiError {
    let (provider, model) = ask.model.split_once('/').unwrap_or(("", &ask.model));
    let usage = Usage::new(ask.counted_prompt, 0);
    let (cost, unpriced) = charge(
        &req.state.client,
        &candidates(&ask.model, &ask.fallbacks),
        provider,
        None,
        || usage,
    );
    let served = Served {
        endpoint,
        stream: false,
        provider,
        model,
        usage: &usage,
        images: 0,
        cost,
        unpriced,
        status: UsageStatus::Interrupted,
    };
    if let Err(e) = settle(req, p, hold, served).await {
        tracing::warn!(request_id = %req.request_id, error = %e.message, "settling an interrupted call");
    }
    ApiError::new(
        http::StatusCode::SERVICE_UNAVAILABLE,
        "server_shutting_down",
        "the server is shutting down; the call was interrupted",
    )
}

fn counted_texts<'a>(texts: impl IntoIterator<Item = &'a str>) -> u64 {
    texts
        .into_iter()
        .map(|s| billing::counted_tokens(len64(s.len())))
        .fold(0, u64::saturating_add)
}

/// The rate-limit token estimate of a chat: its counted prompt plus the
/// output bound it set, for every choice.
pub(super) fn chat_rate_tokens(chat: &ChatRequest, counted_prompt: u64) -> u64 {
    let n = u64::from(chat.n.unwrap_or(1).max(1));
    counted_prompt.saturating_add(chat.max_output_tokens().unwrap_or(0).saturating_mul(n))
}

/// A non-streamed chat.
pub async fn chat(
    req: &Req,
    p: &Principal,
    mut chat: ChatRequest,
) -> Result<Outcome<ChatResponse>, ApiError> {
    key_limits(req, p, &chat.model, &chat.fallbacks)?;
    if let Some(cap) = p.max_tokens_per_request {
        billing::cap_chat_output(&mut chat, cap);
    }
    let counted_prompt = billing::counted_chat_usage(&chat.messages, 0).prompt_tokens;
    // The rate estimate uses the caller's own output limit, before the
    // quote makes it explicit.
    let tokens = chat_rate_tokens(&chat, counted_prompt);
    let quote = req.state.policy.chat(&req.state.client, &mut chat)?;
    let ask = Ask {
        quote,
        model: chat.model.clone(),
        fallbacks: chat.fallbacks.clone(),
        counted_prompt,
        tokens,
    };
    let client = req.state.client.clone();
    metered(req, p, ask, async move { client.chat(chat).await }).await
}

/// A text completion.
pub async fn completion(
    req: &Req,
    p: &Principal,
    mut c: CompletionRequest,
) -> Result<Outcome<CompletionResponse>, ApiError> {
    key_limits(req, p, &c.model, &c.fallbacks)?;
    if let Some(cap) = p.max_tokens_per_request {
        let want = c.max_output_tokens().map_or(cap, |r| r.min(cap));
        c.max_tokens = Some(u32::try_from(want).unwrap_or(u32::MAX));
        c.extra.remove("max_completion_tokens");
    }
    let quote = req.state.policy.completion(&req.state.client, &c)?;
    let counted_prompt = counted_texts(c.prompt.as_vec());
    let calls = len64(c.prompt.as_vec().len()).saturating_mul(u64::from(c.n.unwrap_or(1).max(1)));
    let ask = Ask {
        quote,
        model: c.model.clone(),
        fallbacks: c.fallbacks.clone(),
        counted_prompt,
        tokens: counted_prompt
            .saturating_add(c.max_output_tokens().unwrap_or(0).saturating_mul(calls)),
    };
    let client = req.state.client.clone();
    metered(req, p, ask, async move { client.completions(c).await }).await
}

/// Embeddings.
pub async fn embeddings(
    req: &Req,
    p: &Principal,
    e: EmbeddingRequest,
) -> Result<Outcome<EmbeddingResponse>, ApiError> {
    key_limits(req, p, &e.model, &e.fallbacks)?;
    let quote = req.state.policy.embeddings(&req.state.client, &e)?;
    let counted_prompt = counted_texts(e.input.as_vec());
    let ask = Ask {
        quote,
        model: e.model.clone(),
        fallbacks: e.fallbacks.clone(),
        counted_prompt,
        tokens: counted_prompt,
    };
    let client = req.state.client.clone();
    metered(req, p, ask, async move { client.embeddings(e).await }).await
}

/// Image generation.
pub async fn images(
    req: &Req,
    p: &Principal,
    i: ImageRequest,
) -> Result<Outcome<ImageResponse>, ApiError> {
    key_limits(req, p, &i.model, &i.fallbacks)?;
    let quote = req.state.policy.images(&req.state.client, &i)?;
    let ask = Ask {
        quote,
        model: i.model.clone(),
        fallbacks: i.fallbacks.clone(),
        counted_prompt: 0,
        tokens: billing::counted_tokens(len64(i.prompt.len())),
    };
    let client = req.state.client.clone();
    metered(req, p, ask, async move { client.images(i).await }).await
}
