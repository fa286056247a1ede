//! Streamed chat: SSE bytes → typed chunks, priced when usage arrives, and a
//! fold back into the `ChatResponse` the non-streaming call returns.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use futures_util::StreamExt as _;
use tokio::time::{Instant, Sleep};

use crate::cost::{CostBreakdown, Pricing};
use crate::error::{Error, Result};
use crate::provider::{StreamParser, StreamStep};
use crate::transport::sse::SseDecoder;
use crate::types::{
    ChatChunk, ChatResponse, Choice, Content, FinishReason, Message, Role, ToolCall, ToolCallDelta,
    Usage,
};

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A stream of [`ChatChunk`]s. Dropping it closes the connection, which
/// cancels the upstream request.
pub struct ChatStream {
    body: ByteStream,
    decoder: SseDecoder,
    parser: Box<dyn StreamParser>,
    provider: String,
    pricing: Option<Pricing>,
    /// The service tier the provider reported on an earlier chunk.
    service_tier: Option<String>,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
    finished: bool,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("provider", &self.provider)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl ChatStream {
    pub(crate) fn new(
        resp: reqwest::Response,
        parser: Box<dyn StreamParser>,
        provider: String,
        pricing: Option<Pricing>,
        idle: Duration,
    ) -> Self {
        ChatStream {
            body: Box::pin(resp.bytes_stream()),
            decoder: SseDecoder::new(),
            parser,
            provider,
            pricing,
            service_tier: None,
            idle,
            deadline: Box::pin(tokio::time::sleep_until(
                Instant::now().checked_add(idle).unwrap_or_else(far_future),
            )),
            finished: false,
        }
    }

    /// The provider answering.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// Usage the provider announced before its final usage event, for
    /// billing a stream that ends without one: Anthropic's exact input
    /// tokens (and the output counted so far) from `message_start`.
    /// `None` for providers that announce nothing early.
    pub fn partial_usage(&self) -> Option<Usage> {
        self.parser.partial_usage()
    }

    /// Reads the whole stream and folds it into a [`ChatResponse`].
    pub async fn collect_response(mut self) -> Result<ChatResponse> {
        let mut acc = ChunkAccumulator::new();
        while let Some(chunk) = self.next().await {
            acc.push(&chunk?);
        }
        Ok(acc.finish())
    }

    fn fail(&mut self, e: Error) -> Poll<Option<Result<ChatChunk>>> {
        self.finished = true;
        Poll::Ready(Some(Err(e)))
    }
}

impl Stream for ChatStream {
    type Item = Result<ChatChunk>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            if let Some(event) = this.decoder.next_event() {
                match this.parser.event(&event) {
                    Ok(StreamStep::Chunk(mut chunk)) => {
                        if chunk.service_tier.is_some() {
                            this.service_tier.clone_from(&chunk.service_tier);
                        }
                        if let (Some(usage), Some(pricing)) = (&chunk.usage, &this.pricing) {
                            let tier = chunk
                                .service_tier
                                .as_deref()
                                .or(this.service_tier.as_deref());
                            chunk.cost = pricing.token_cost_in_tier(tier, usage);
                        }
                        return Poll::Ready(Some(Ok(chunk)));
                    }
                    Ok(StreamStep::Skip) => continue,
                    Ok(StreamStep::Done) => {
                        this.finished = true;
                        return Poll::Ready(None);
                    }
                    Err(e) => return this.fail(e),
                }
            }
            match this.body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(bytes))) => {
                    this.decoder.push_bytes(bytes);
                    let next = Instant::now().checked_add(this.idle);
                    // An idle timeout too large to represent means "never".
                    this.deadline
                        .as_mut()
                        .reset(next.unwrap_or_else(far_future));
                }
                Poll::Ready(Some(Err(e))) => {
                    let e = Error::StreamInterrupted {
                        provider: this.provider.clone(),
                        message: format!("the connection broke: {}", e.without_url()),
                    };
                    return this.fail(e);
                }
                Poll::Ready(None) => {
                    this.finished = true;
                    return match this.parser.end_of_body(&this.provider) {
                        Ok(()) => Poll::Ready(None),
                        Err(e) => Poll::Ready(Some(Err(e))),
                    };
                }
                Poll::Pending => {
                    if this.deadline.as_mut().poll(cx).is_ready() {
                        let e = Error::Timeout {
                            provider: this.provider.clone(),
                            message: format!("no stream data for {:.1}s", this.idle.as_secs_f64()),
                        };
                        return this.fail(e);
                    }
                    return Poll::Pending;
                }
            }
        }
    }
}

/// About thirty years from now: tokio's own stand-in for "no deadline".
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// Folds chunks into the response a non-streaming call would have returned.
#[derive(Debug, Default)]
pub struct ChunkAccumulator {
    first: Option<ChatChunk>,
    choices: Vec<PartialChoice>,
    usage: Option<Usage>,
    cost: Option<CostBreakdown>,
}

#[derive(Debug, Default)]
struct PartialChoice {
    index: u32,
    role: Option<Role>,
    content: Option<String>,
    reasoning: Option<String>,
    refusal: Option<String>,
    /// Calls in arrival order, with the stream index each was announced under.
    tool_calls: Vec<(u32, ToolCall)>,
    finish_reason: Option<FinishReason>,
}

impl PartialChoice {
    /// Applies one tool-call fragment. Fragments continue the call last seen
    /// at their index; a fragment bringing a new id starts a new call even at
    /// a reused index (some providers send every call as index 0). The index
    /// is only a key, never a position, so a huge index costs nothing.
    fn tool_call(&mut self, tc: &ToolCallDelta) {
        let existing = self.tool_calls.iter().rposition(|(i, _)| *i == tc.index);
        let starts_new = match (existing, tc.id.as_deref()) {
            (None, _) => true,
            (Some(at), Some(id)) => {
                !id.is_empty()
                    && !self.tool_calls[at].1.id.is_empty()
                    && self.tool_calls[at].1.id != id
            }
            (Some(_), None) => false,
        };
        let at = if starts_new {
            self.tool_calls
                .push((tc.index, ToolCall::function("", "", "")));
            self.tool_calls.len() - 1
        } else {
            existing.unwrap_or(0)
        };
        let Some((_, call)) = self.tool_calls.get_mut(at) else {
            return;
        };
        if let Some(id) = &tc.id {
            call.id.clone_from(id);
        }
        if let Some(kind) = &tc.kind {
            call.kind.clone_from(kind);
        }
        if let Some(f) = &tc.function {
            if let Some(name) = &f.name {
                call.function.name.push_str(name);
            }
            if let Some(args) = &f.arguments {
                call.function.arguments.push_str(args);
            }
        }
    }
}

impl ChunkAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Usage seen so far (the last chunk that carried it wins: providers
    /// that repeat usage send cumulative counts).
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// Adds one chunk.
    pub fn push(&mut self, chunk: &ChatChunk) {
        if let Some(u) = chunk.usage {
            self.usage = Some(u);
            self.cost.clone_from(&chunk.cost);
        }
        for c in &chunk.choices {
            let slot = match self.choices.iter().position(|p| p.index == c.index) {
                Some(i) => &mut self.choices[i],
                None => {
                    self.choices.push(PartialChoice {
                        index: c.index,
                        ..Default::default()
                    });
                    let last = self.choices.len() - 1;
                    &mut self.choices[last]
                }
            };
            let d = &c.delta;
            if d.role.is_some() {
                slot.role.clone_from(&d.role);
            }
            append(&mut slot.content, d.content.as_deref());
            append(&mut slot.reasoning, d.reasoning_content.as_deref());
            append(&mut slot.refusal, d.refusal.as_deref());
            for tc in d.tool_calls.iter().flatten() {
                slot.tool_call(tc);
            }
            if c.finish_reason.is_some() {
                slot.finish_reason.clone_from(&c.finish_reason);
            }
        }
        if self.first.is_none() {
            self.first = Some(ChatChunk {
                id: chunk.id.clone(),
                created: chunk.created,
                model: chunk.model.clone(),
                system_fingerprint: chunk.system_fingerprint.clone(),
                service_tier: chunk.service_tier.clone(),
                provider: chunk.provider.clone(),
                ..Default::default()
            });
        }
    }

    /// The folded response.
    pub fn finish(self) -> ChatResponse {
        let head = self.first.unwrap_or_default();
        let mut choices: Vec<Choice> = self
            .choices
            .into_iter()
            .map(|p| {
                let has_tools = !p.tool_calls.is_empty();
                let tool_calls: Vec<ToolCall> = p.tool_calls.into_iter().map(|(_, c)| c).collect();
                Choice {
                    index: p.index,
                    message: Message {
                        role: p.role.unwrap_or(Role::Assistant),
                        content: match p.content {
                            Some(text) => Some(Content::Text(text)),
                            None if has_tools => None,
                            None => Some(Content::Text(String::new())),
                        },
                        name: None,
                        tool_calls: has_tools.then_some(tool_calls),
                        tool_call_id: None,
                        reasoning_content: p.reasoning,
                        refusal: p.refusal,
                        extra: Default::default(),
                    },
                    finish_reason: p.finish_reason,
                    logprobs: None,
                }
            })
            .collect();
        choices.sort_by_key(|c| c.index);
        ChatResponse {
            id: head.id,
            object: "chat.completion".into(),
            created: head.created,
            model: head.model,
            choices,
            usage: self.usage.unwrap_or_default(),
            system_fingerprint: head.system_fingerprint,
            service_tier: head.service_tier,
            provider: head.provider,
            cost: self.cost,
            extra: Default::default(),
        }
    }
}

fn append(slot: &mut Option<String>, piece: Option<&str>) {
    if let Some(piece) = piece {
        slot.get_or_insert_with(String::new).push_str(piece);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ChunkChoice, Delta, FunctionCallDelta};

    fn chunk(deltas: Vec<ToolCallDelta>) -> ChatChunk {
        ChatChunk {
            choices: vec![ChunkChoice {
                index: 0,
                delta: Delta {
                    tool_calls: Some(deltas),
                    ..Default::default()
                },
                finish_reason: None,
                logprobs: None,
            }],
            ..Default::default()
        }
    }

    fn frag(index: u32, id: Option<&str>, name: Option<&str>, args: &str) -> ToolCallDelta {
        ToolCallDelta {
            index,
            id: id.map(str::to_owned),
            kind: id.map(|_| "function".to_owned()),
            function: Some(FunctionCallDelta {
                name: name.map(str::to_owned),
                arguments: Some(args.to_owned()),
            }),
        }
    }

    #[test]
    fn folds_fragments_parallel_calls_and_reused_indexes() {
        let mut acc = ChunkAccumulator::new();
        acc.push(&chunk(vec![frag(0, Some("a"), Some("f"), "{\"x\":")]));
        acc.push(&chunk(vec![frag(0, None, None, "1}")]));
        acc.push(&chunk(vec![frag(1, Some("b"), Some("g"), "{}")]));
        // Mistral-style: a second whole call announced at index 0 again.
        acc.push(&chunk(vec![frag(0, Some("c"), Some("h"), "{}")]));
        // A hostile index is a key, not an allocation size.
        acc.push(&chunk(vec![frag(
            4_000_000_000,
            Some("d"),
            Some("k"),
            "{}",
        )]));
        let resp = acc.finish();
        let calls = resp.choices[0].message.tool_calls.clone().unwrap();
        let got: Vec<(&str, &str, &str)> = calls
            .iter()
            .map(|c| {
                (
                    c.id.as_str(),
                    c.function.name.as_str(),
                    c.function.arguments.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("a", "f", "{\"x\":1}"),
                ("b", "g", "{}"),
                ("c", "h", "{}"),
                ("d", "k", "{}")
            ]
        );
        assert_eq!(resp.choices[0].message.content, None);
    }
}
