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
    ChatChunk, ChatResponse, Choice, Content, FinishReason, Message, Role, ToolCall, Usage,
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
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
            finished: false,
        }
    }

    /// The provider answering.
    pub fn provider(&self) -> &str {
        &self.provider
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
                        if let (Some(usage), Some(pricing)) = (&chunk.usage, &this.pricing) {
                            chunk.cost = pricing.token_cost(usage);
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
                    this.decoder.push(&bytes);
                    let next = Instant::now() + this.idle;
                    this.deadline.as_mut().reset(next);
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
    tool_calls: Vec<ToolCall>,
    finish_reason: Option<FinishReason>,
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
                let i = tc.index as usize;
                while slot.tool_calls.len() <= i {
                    slot.tool_calls.push(ToolCall::function("", "", ""));
                }
                let call = &mut slot.tool_calls[i];
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
            if c.finish_reason.is_some() {
                slot.finish_reason.clone_from(&c.finish_reason);
            }
        }
        if self.first.is_none() {
            let mut head = chunk.clone();
            head.choices.clear();
            self.first = Some(head);
        }
    }

    /// The folded response.
    pub fn finish(self) -> ChatResponse {
        let head = self.first.unwrap_or_else(|| ChatChunk {
            id: String::new(),
            object: String::new(),
            created: 0,
            model: String::new(),
            choices: Vec::new(),
            usage: None,
            system_fingerprint: None,
            service_tier: None,
            provider: String::new(),
            cost: None,
        });
        let mut choices: Vec<Choice> = self
            .choices
            .into_iter()
            .map(|p| {
                let has_tools = !p.tool_calls.is_empty();
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
                        tool_calls: has_tools.then_some(p.tool_calls),
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
