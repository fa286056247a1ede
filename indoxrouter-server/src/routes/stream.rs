//! Streamed chat: an SSE relay in OpenAI's chunk format, billed when the
//! stream ends, however it ends.
//!
//! Billing rule (also in docs/guides/credit-system.md):
//! - the provider reported usage → its exact cost, as for the same
//!   non-streamed request (the usage chunk is forwarded with `usage.cost` when
//!   the caller asked for `stream_options.include_usage`);
//! - the client went away → the relay keeps reading the provider, relaying
//!   nothing, for up to `INDOXROUTER_DRAIN_SECONDS` until its usage report
//!   arrives, and bills that;
//! - still no usage (the provider broke off, the drain bound passed, or a
//!   shutdown's grace period ran out) → the counted-token rule of
//!   [`crate::counting`] on the prompt and the text generated so far; a
//!   client that left before the first token still pays for its prompt;
//! - the provider failed before producing anything → no charge.
//!
//! Every charge is capped at the request's hold. The charge is durable
//! before `data: [DONE]` is sent.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::StreamExt as _;
use http::HeaderValue;
use indoxrouter::types::{ChatRequest, Usage};
use indoxrouter::{ChatStream, CostBreakdown};
use tokio::sync::mpsc;
use warp::Reply as _;
use warp::reply::Response;

use super::Req;
use super::inference::{self, Hold, Served};
use super::openai::{ChunkWire, full_model};
use crate::billing;
use crate::counting::{self, Delivered, PromptText};
use crate::error::{ApiError, Surface};
use crate::principal::Principal;
use crate::store::UsageStatus;

/// Chunks buffered between the relay task and the socket: enough to absorb
/// bursts, small enough that a slow reader slows the upstream read.
const CHANNEL_CHUNKS: usize = 32;

/// Starts a streamed chat and returns the SSE response; the relay runs in a
/// task tracked for graceful shutdown.
pub(super) async fn chat(
    req: Req,
    p: Principal,
    mut chat: ChatRequest,
    include_usage: bool,
) -> Result<Response, ApiError> {
    let state = req.state.clone();
    inference::key_limits(&req, &p, &chat.model, &chat.fallbacks)?;
    if let Some(cap) = p.max_tokens_per_request {
        billing::cap_chat_output(&mut chat, cap);
    }
    let counted_prompt = billing::counted_chat_usage(&chat.messages, 0).prompt_tokens;
    // The caller's own output limit, before the quote makes it explicit.
    let tokens = inference::chat_rate_tokens(&chat, counted_prompt);
    let quote = state.policy.chat(&state.client, &mut chat)?;
    let hold = inference::admit(&req, &p, quote, tokens).await?;
    let prompt = PromptText::of(&chat, || billing::prompt_bound(&state.client, &chat));
    let requested_tier = chat
        .extra
        .get("service_tier")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned);
    let candidates: Vec<String> = std::iter::once(chat.model.clone())
        .chain(chat.fallbacks.iter().cloned())
        .collect();
    let started = std::time::Instant::now();
    let upstream = match state.client.chat_stream(chat).await {
        Ok(s) => s,
        Err(e) => {
            let provider = inference::provider_label(&state.client, &candidates[0]);
            state.metrics.upstream(provider, started.elapsed());
            let e = ApiError::from(e);
            state.metrics.upstream_error(provider, e.code);
            inference::record_failure(&req, &p, hold, "chat", true, &candidates[0]).await;
            return Err(e);
        }
    };
    let (tx, rx) = mpsc::channel::<Bytes>(CHANNEL_CHUNKS);
    let relay = Relay {
        req: req.clone(),
        principal: p,
        hold,
        candidates,
        prompt,
        requested_tier,
        include_usage,
        started,
    };
    state.metrics.streams_active(1);
    state.streams.spawn(relay.run(upstream, tx));

    let mut resp = warp::reply::stream(Rx(rx)).into_response();
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    // Tells nginx-style proxies not to buffer the stream.
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(resp)
}

/// The receiving end as a body stream (`Sync`, as warp requires).
struct Rx(mpsc::Receiver<Bytes>);

impl futures_util::Stream for Rx {
    type Item = Result<Bytes, Infallible>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|b| b.map(Ok))
    }
}

struct Relay {
    req: Req,
    principal: Principal,
    hold: Hold,
    candidates: Vec<String>,
    /// What the prompt sent, for the counted rule.
    prompt: PromptText,
    /// The `service_tier` the request asked for.
    requested_tier: Option<String>,
    include_usage: bool,
    /// When the provider call began.
    started: std::time::Instant,
}

impl Relay {
    async fn run(mut self, mut upstream: ChatStream, tx: mpsc::Sender<Bytes>) {
        let provider = upstream.provider().to_owned();
        let mut model = String::new();
        let mut wire_model = String::new();
        let mut delivered = Delivered::default();
        let mut usage: Option<Usage> = None;
        let mut cost: Option<CostBreakdown> = None;
        let mut status = UsageStatus::Completed;
        // The service tier the provider says it serves this stream at.
        let mut tier: Option<String> = None;

        let quiet = self.req.state.sse_keepalive;
        let keepalive = tokio::time::sleep(quiet);
        tokio::pin!(keepalive);
        loop {
            let next = tokio::select! {
                biased;
                () = tx.closed() => {
                    status = UsageStatus::ClientDisconnected;
                    break;
                }
                () = self.req.state.interrupt.cancelled() => {
                    status = UsageStatus::Interrupted;
                    break;
                }
                next = upstream.next() => next,
                () = &mut keepalive => {
                    // An SSE comment: clients skip it, idle-timeout proxies see traffic.
                    keepalive.as_mut().reset(tokio::time::Instant::now() + quiet);
                    if let Err(stop) = send(&self.req.state.interrupt, &tx, Bytes::from_static(b": keep-alive\n\n")).await {
                        status = stop;
                        break;
                    }
                    continue;
                }
            };
            keepalive
                .as_mut()
                .reset(tokio::time::Instant::now() + quiet);
            let mut chunk = match next {
                None => break,
                Some(Ok(chunk)) => chunk,
                Some(Err(e)) => {
                    status = UsageStatus::UpstreamError;
                    let err = ApiError::from(e);
                    self.req.state.metrics.upstream_error(&provider, err.code);
                    tracing::warn!(request_id = %self.req.request_id, code = err.code, "upstream stream failed");
                    let mut event = b"data: ".to_vec();
                    event.extend_from_slice(&err.body(Surface::OpenAi, None));
                    event.extend_from_slice(b"\n\n");
                    let _ = send(&self.req.state.interrupt, &tx, Bytes::from(event)).await;
                    break;
                }
            };
            delivered.push(&chunk);
            if chunk.service_tier.is_some() {
                tier.clone_from(&chunk.service_tier);
            }
            if !chunk.model.is_empty() && chunk.model != model {
                model.clone_from(&chunk.model);
                wire_model = full_model(&provider, &model);
            }
            if let Some(u) = chunk.usage {
                usage = Some(u);
                cost = chunk.cost;
                if !self.include_usage {
                    if chunk.choices.is_empty() {
                        continue;
                    }
                    chunk.usage = None;
                }
            }
            let wire = ChunkWire::new(&chunk, &wire_model, cost.map(|c| self.hold.cap(c.total)));
            let mut event = Vec::with_capacity(256);
            event.extend_from_slice(b"data: ");
            if serde_json::to_writer(&mut event, &wire).is_err() {
                continue;
            }
            event.extend_from_slice(b"\n\n");
            if let Err(stop) = send(&self.req.state.interrupt, &tx, Bytes::from(event)).await {
                status = stop;
                break;
            }
        }
        if status == UsageStatus::ClientDisconnected && usage.is_none() {
            if let Some((u, c)) = self.drain(&mut upstream, &mut delivered).await {
                usage = Some(u);
                cost = c;
            }
        }
        let early = upstream.partial_usage();
        // Dropping the upstream stream closes its connection: the provider
        // stops generating (and billing).
        drop(upstream);
        let metrics = &self.req.state.metrics;
        metrics.upstream(&provider, self.started.elapsed());
        metrics.streams_active(-1);
        match status {
            UsageStatus::ClientDisconnected => metrics.stream_disconnect("client"),
            UsageStatus::UpstreamError => metrics.stream_disconnect("upstream"),
            UsageStatus::Interrupted => metrics.stream_disconnect("interrupted"),
            UsageStatus::Completed | UsageStatus::Failed => {}
        }

        let candidates: Vec<String> = self.candidates.clone();
        let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
        let nothing_delivered = delivered.is_empty();
        let (charge, unpriced, usage) = match usage {
            Some(u) => {
                let (c, unpriced) = inference::charge(
                    &self.req.state.client,
                    &candidates,
                    &provider,
                    cost.as_ref(),
                    || u,
                );
                (c, unpriced, u)
            }
            // The provider failed before producing anything: nothing to bill.
            // A client that left early still had its prompt processed, so it
            // is billed by the counted rule below, as is a stream whose
            // provider announced its input count before failing.
            None if nothing_delivered
                && early.is_none()
                && !matches!(
                    status,
                    UsageStatus::ClientDisconnected | UsageStatus::Interrupted
                ) =>
            {
                (indoxrouter::Usd::ZERO, false, Usage::default())
            }
            None => {
                let served = if model.is_empty() {
                    candidates[0]
                        .split_once('/')
                        .map_or(candidates[0], |(_, m)| m)
                } else {
                    model.as_str()
                };
                // Tokenizing a long prompt takes milliseconds of CPU: off the
                // async workers, so a client that provokes it starves no one.
                // Should counting itself fail, bytes bound the tokens.
                let fallback = Usage::new(self.prompt.byte_tokens(), delivered.bytes());
                let prompt = std::mem::take(&mut self.prompt);
                let delivered = std::mem::take(&mut delivered);
                let (p, m) = (provider.clone(), served.to_owned());
                let counted = tokio::task::spawn_blocking(move || {
                    counting::counted_usage(&prompt, &delivered, early, &p, &m)
                })
                .await
                .unwrap_or(fallback);
                // Priced as the model that served (a fallback may have), at
                // the tier it was served in, or else the one asked for.
                let tier = tier.as_deref().or(self.requested_tier.as_deref());
                let client = &self.req.state.client;
                let info = client
                    .model(&format!("{provider}/{served}"))
                    .ok()
                    .or_else(|| {
                        candidates
                            .iter()
                            .filter_map(|id| client.model(id).ok())
                            .find(|m| m.provider == provider)
                    });
                match info.and_then(|m| m.pricing.token_cost_in_tier(tier, &counted)) {
                    Some(c) => (c.total, false, counted),
                    None => (indoxrouter::Usd::ZERO, true, counted),
                }
            }
        };
        if status == UsageStatus::UpstreamError && nothing_delivered && early.is_none() {
            status = UsageStatus::Failed;
        }
        let model_for_row = if model.is_empty() {
            candidates[0]
                .split_once('/')
                .map_or(candidates[0], |(_, m)| m)
                .to_owned()
        } else {
            model
        };
        let settled = inference::settle(
            &self.req,
            &self.principal,
            self.hold,
            Served {
                endpoint: "chat",
                stream: true,
                provider: &provider,
                model: &model_for_row,
                usage: &usage,
                images: 0,
                cost: charge,
                unpriced,
                status,
            },
        )
        .await;
        match settled {
            Ok(_) if status == UsageStatus::Completed => {
                let _ = send(
                    &self.req.state.interrupt,
                    &tx,
                    Bytes::from_static(b"data: [DONE]\n\n"),
                )
                .await;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(request_id = %self.req.request_id, error = %e.message, "settling a stream");
                let mut event = b"data: ".to_vec();
                event.extend_from_slice(&e.body(Surface::OpenAi, None));
                event.extend_from_slice(b"\n\n");
                let _ = send(&self.req.state.interrupt, &tx, Bytes::from(event)).await;
            }
        }
    }
}

/// Sends one event, waiting while the client reads slowly — but not past a
/// shutdown's interrupt: a client that stops reading without disconnecting
/// must not hold the relay (and so shutdown) forever. Fails with the status
/// the stream ends with.
async fn send(
    interrupt: &tokio_util::sync::CancellationToken,
    tx: &mpsc::Sender<Bytes>,
    event: Bytes,
) -> Result<(), UsageStatus> {
    tokio::select! {
        biased;
        sent = tx.send(event) => sent.map_err(|_| UsageStatus::ClientDisconnected),
        () = interrupt.cancelled() => Err(UsageStatus::Interrupted),
    }
}

impl Relay {
    /// Keeps reading a stream whose client has gone, relaying nothing, until
    /// the provider's usage report arrives, the stream ends, the drain bound
    /// (`INDOXROUTER_DRAIN_SECONDS`) passes or shutdown interrupts it. The
    /// provider bills the call whether or not anyone reads it, so its own
    /// count is the one to charge. Returns the usage report and its cost if
    /// it came in time; what was generated meanwhile is added to `delivered`.
    async fn drain(
        &self,
        upstream: &mut ChatStream,
        delivered: &mut Delivered,
    ) -> Option<(Usage, Option<CostBreakdown>)> {
        let deadline = tokio::time::sleep(self.req.state.drain);
        tokio::pin!(deadline);
        loop {
            let next = tokio::select! {
                biased;
                () = self.req.state.interrupt.cancelled() => break,
                () = &mut deadline => break,
                next = upstream.next() => next,
            };
            let Some(Ok(chunk)) = next else { break };
            delivered.push(&chunk);
            if let Some(u) = chunk.usage {
                return Some((u, chunk.cost));
            }
        }
        None
    }
}
