//! Anthropic's named SSE events turned into OpenAI-shaped chunks.
//!
//! A message is announced by `message_start` (id, model, input usage), its
//! content arrives as indexed blocks (`content_block_start`, `_delta`,
//! `_stop`), `message_delta` brings the stop reason and cumulative usage,
//! and `message_stop` ends it. Tool-use blocks become tool-call deltas
//! numbered in order of appearance, as OpenAI numbers them.

use serde::Deserialize;
use serde_json::Value;

use super::chat::{WireBlock, WireUsage, arguments, finish_reason, now};
use crate::error::{Error, Result};
use crate::provider::{ProviderConfig, StreamParser, StreamStep};
use crate::transport::sse::SseEvent;
use crate::types::{
    ChatChunk, ChunkChoice, Delta, FinishReason, FunctionCallDelta, Role, ToolCallDelta,
};

/// What a content block at some index is, once announced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Text,
    Thinking,
    /// A tool call, with its position among the message's tool calls.
    Tool(u32),
    /// Redacted thinking, server tools and types this version doesn't model.
    Ignored,
}

pub(super) struct AnthropicStream {
    /// Kept for error mapping (provider id, and the key to redact).
    cfg: ProviderConfig,
    id: String,
    model: String,
    created: u64,
    usage: WireUsage,
    /// Block index → kind. A message has a handful of blocks, so a linear
    /// scan beats a map.
    blocks: Vec<(u32, BlockKind)>,
    /// Per tool call: whether any argument text was sent for it.
    tool_args_sent: Vec<bool>,
    tools: u32,
}

#[derive(Deserialize)]
struct WireEvent {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    message: Option<WireStart>,
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    content_block: Option<WireBlock>,
    #[serde(default)]
    delta: Option<WireDelta>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<Value>,
}

#[derive(Deserialize)]
struct WireStart {
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    usage: WireUsage,
}

/// Both block deltas (`text_delta`, `input_json_delta`, `thinking_delta`,
/// `signature_delta`) and the message delta (`stop_reason`).
#[derive(Deserialize)]
struct WireDelta {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    partial_json: Option<String>,
    #[serde(default)]
    thinking: Option<String>,
    #[serde(default)]
    stop_reason: Option<String>,
}

impl AnthropicStream {
    pub(super) fn new(cfg: &ProviderConfig) -> Self {
        AnthropicStream {
            cfg: cfg.clone(),
            id: String::new(),
            model: String::new(),
            created: now(),
            usage: WireUsage::default(),
            blocks: Vec::new(),
            tool_args_sent: Vec::new(),
            tools: 0,
        }
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<FinishReason>) -> StreamStep {
        StreamStep::Chunk(ChatChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".into(),
            created: self.created,
            model: self.model.clone(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason,
                logprobs: None,
            }],
            provider: self.cfg.id.clone(),
            ..Default::default()
        })
    }

    fn block(&self, index: Option<u32>) -> BlockKind {
        index
            .and_then(|i| self.blocks.iter().rev().find(|(at, _)| *at == i))
            .map_or(BlockKind::Ignored, |(_, kind)| *kind)
    }

    fn start_block(&mut self, index: Option<u32>, block: Option<WireBlock>) -> StreamStep {
        let Some(block) = block else {
            return StreamStep::Skip;
        };
        let kind = match block.kind.as_str() {
            "text" => BlockKind::Text,
            "thinking" => BlockKind::Thinking,
            "tool_use" => {
                let n = self.tools;
                self.tools = self.tools.saturating_add(1);
                BlockKind::Tool(n)
            }
            _ => BlockKind::Ignored,
        };
        self.blocks.push((index.unwrap_or(u32::MAX), kind));
        match kind {
            BlockKind::Text => match block.text.filter(|t| !t.is_empty()) {
                Some(text) => self.chunk(text_delta(text), None),
                None => StreamStep::Skip,
            },
            BlockKind::Thinking => match block.thinking.filter(|t| !t.is_empty()) {
                Some(thinking) => self.chunk(
                    Delta {
                        reasoning_content: Some(thinking),
                        ..Default::default()
                    },
                    None,
                ),
                None => StreamStep::Skip,
            },
            BlockKind::Tool(n) => {
                // The start carries `input: {}`; the arguments follow as
                // `input_json_delta`s. A non-empty input is sent whole.
                let args = match &block.input {
                    Some(Value::Object(m)) if m.is_empty() => String::new(),
                    None => String::new(),
                    other => arguments(other.as_ref()),
                };
                self.tool_args_sent.push(!args.is_empty());
                self.chunk(tool_delta(n, block.id, block.name, Some(args)), None)
            }
            BlockKind::Ignored => StreamStep::Skip,
        }
    }

    /// A tool call that got no argument text is closed with `{}`, the
    /// arguments the non-streaming response reports for an empty input.
    fn stop_block(&mut self, index: Option<u32>) -> StreamStep {
        match self.block(index) {
            BlockKind::Tool(n) => {
                let sent = usize::try_from(n)
                    .ok()
                    .and_then(|i| self.tool_args_sent.get_mut(i));
                match sent {
                    Some(sent) if !*sent => {
                        *sent = true;
                        self.chunk(tool_delta(n, None, None, Some("{}".into())), None)
                    }
                    _ => StreamStep::Skip,
                }
            }
            _ => StreamStep::Skip,
        }
    }

    fn block_delta(&mut self, index: Option<u32>, delta: Option<WireDelta>) -> StreamStep {
        let Some(delta) = delta else {
            return StreamStep::Skip;
        };
        match (self.block(index), delta.kind.as_deref()) {
            (BlockKind::Text, Some("text_delta")) => match delta.text {
                Some(text) => self.chunk(text_delta(text), None),
                None => StreamStep::Skip,
            },
            (BlockKind::Thinking, Some("thinking_delta")) => match delta.thinking {
                Some(thinking) => self.chunk(
                    Delta {
                        reasoning_content: Some(thinking),
                        ..Default::default()
                    },
                    None,
                ),
                None => StreamStep::Skip,
            },
            (BlockKind::Tool(n), Some("input_json_delta")) => match delta.partial_json {
                Some(json) if !json.is_empty() => {
                    if let Some(sent) = usize::try_from(n)
                        .ok()
                        .and_then(|i| self.tool_args_sent.get_mut(i))
                    {
                        *sent = true;
                    }
                    self.chunk(tool_delta(n, None, None, Some(json)), None)
                }
                _ => StreamStep::Skip,
            },
            // Signatures, citations and deltas of ignored blocks.
            _ => StreamStep::Skip,
        }
    }

    fn message_delta(&mut self, event: WireEvent) -> StreamStep {
        if let Some(u) = &event.usage {
            self.usage.update(u);
        }
        let finish = event
            .delta
            .and_then(|d| d.stop_reason)
            .map(|r| finish_reason(&r));
        let step = self.chunk(Delta::default(), finish);
        match step {
            StreamStep::Chunk(mut c) => {
                c.usage = Some(self.usage.to_usage());
                StreamStep::Chunk(c)
            }
            other => other,
        }
    }

    fn error(&self, v: Option<&Value>) -> Error {
        let err = super::error::from_value(&self.cfg, 200, v, None);
        Error::StreamInterrupted {
            provider: self.cfg.id.clone(),
            message: err.to_string(),
        }
    }
}

fn text_delta(text: String) -> Delta {
    Delta {
        content: Some(text),
        ..Default::default()
    }
}

fn tool_delta(
    index: u32,
    id: Option<String>,
    name: Option<String>,
    arguments: Option<String>,
) -> Delta {
    let first = id.is_some();
    Delta {
        tool_calls: Some(vec![ToolCallDelta {
            index,
            id,
            kind: first.then(|| "function".to_owned()),
            function: Some(FunctionCallDelta { name, arguments }),
        }]),
        ..Default::default()
    }
}

impl StreamParser for AnthropicStream {
    fn partial_usage(&self) -> Option<crate::types::Usage> {
        let usage = self.usage.to_usage();
        (!usage.is_empty()).then_some(usage)
    }

    fn event(&mut self, event: &SseEvent) -> Result<StreamStep> {
        let data = event.data.trim_ascii();
        if data.is_empty() {
            return Ok(StreamStep::Skip);
        }
        let wire: WireEvent = crate::provider::decode_json(&self.cfg.id, data)?;
        let kind = wire
            .kind
            .clone()
            .or_else(|| event.event.clone())
            .unwrap_or_default();
        Ok(match kind.as_str() {
            "message_start" => {
                let Some(start) = wire.message else {
                    return Ok(StreamStep::Skip);
                };
                self.id = start.id;
                self.model = start.model;
                self.usage = start.usage;
                self.chunk(
                    Delta {
                        role: Some(Role::Assistant),
                        ..Default::default()
                    },
                    None,
                )
            }
            "content_block_start" => self.start_block(wire.index, wire.content_block),
            "content_block_delta" => self.block_delta(wire.index, wire.delta),
            "content_block_stop" => self.stop_block(wire.index),
            "message_delta" => self.message_delta(wire),
            "message_stop" => StreamStep::Done,
            "error" => return Err(self.error(wire.error.as_ref())),
            // `ping`, and event types added later.
            _ => StreamStep::Skip,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ChunkAccumulator;
    use crate::provider::AdapterKind;
    use crate::types::Usage;

    fn parser() -> AnthropicStream {
        AnthropicStream::new(&ProviderConfig {
            id: "anthropic".into(),
            kind: AdapterKind::Anthropic,
            base_url: String::new(),
            api_key: None,
        })
    }

    /// Feeds `name: data` events and folds the chunks; `Done` must come last.
    fn fold(events: &[(&str, &str)]) -> (crate::types::ChatResponse, bool) {
        let mut p = parser();
        let mut acc = ChunkAccumulator::new();
        let mut done = false;
        for (name, data) in events {
            assert!(!done, "event after message_stop");
            let ev = SseEvent {
                event: Some((*name).to_owned()),
                data: bytes::Bytes::copy_from_slice(data.as_bytes()),
            };
            match p.event(&ev).unwrap() {
                StreamStep::Chunk(c) => acc.push(&c),
                StreamStep::Skip => {}
                StreamStep::Done => done = true,
            }
        }
        (acc.finish(), done)
    }

    /// The text example stream from Anthropic's streaming reference.
    #[test]
    fn reference_text_stream() {
        let (r, done) = fold(&[
            (
                "message_start",
                r#"{"type":"message_start","message":{"id":"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            ),
            ("ping", r#"{"type": "ping"}"#),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":0}"#,
            ),
            (
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#,
            ),
            ("message_stop", r#"{"type":"message_stop"}"#),
        ]);
        assert!(done);
        assert_eq!(r.text(), Some("Hello!"));
        assert_eq!(r.id, "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY");
        assert_eq!(r.model, "claude-sonnet-4-5-20250929");
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(r.choices[0].message.role, Role::Assistant);
        // Output tokens are cumulative: the last count wins, not the sum.
        assert_eq!(r.usage, Usage::new(25, 15));
    }

    /// The tool-use example stream (thinking, text, then input_json_delta fragments).
    #[test]
    fn reference_tool_and_thinking_stream() {
        let (r, done) = fold(&[
            (
                "message_start",
                r#"{"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2,"cache_creation_input_tokens":100,"cache_read_input_tokens":1000},"content":[],"stop_reason":null}}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"I need the weather."}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":0}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Okay, let's check the weather:"}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":1}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":" \"San Francisco, CA\"}"}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":2}"#,
            ),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"toolu_2","name":"get_time","input":{}}}"#,
            ),
            (
                "content_block_stop",
                r#"{"type":"content_block_stop","index":3}"#,
            ),
            (
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}"#,
            ),
            ("message_stop", r#"{"type":"message_stop"}"#),
        ]);
        assert!(done);
        let m = &r.choices[0].message;
        assert_eq!(m.reasoning_content.as_deref(), Some("I need the weather."));
        assert_eq!(r.text(), Some("Okay, let's check the weather:"));
        let calls = r.tool_calls();
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].id, "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
        assert_eq!(calls[0].function.name, "get_weather");
        assert_eq!(
            calls[0].function.arguments,
            r#"{"location": "San Francisco, CA"}"#
        );
        assert_eq!(calls[1].function.name, "get_time");
        assert_eq!(calls[1].function.arguments, "{}");
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(r.usage.prompt_tokens, 472 + 100 + 1000);
        assert_eq!(r.usage.cached_tokens(), 1000);
        assert_eq!(r.usage.cache_creation_tokens(), 100);
        assert_eq!(r.usage.completion_tokens, 89);
    }

    #[test]
    fn message_delta_may_update_input_usage() {
        let (r, _) = fold(&[
            (
                "message_start",
                r#"{"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":0,"output_tokens":0}}}"#,
            ),
            (
                "message_delta",
                r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"input_tokens":12,"cache_read_input_tokens":3,"output_tokens":4}}"#,
            ),
        ]);
        assert_eq!(r.usage.prompt_tokens, 15);
        assert_eq!(r.usage.completion_tokens, 4);
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Length));
    }

    #[test]
    fn error_event_after_200_is_a_stream_error() {
        let mut p = parser();
        let e = p
            .event(&SseEvent {
                event: Some("error".into()),
                data: bytes::Bytes::from_static(
                    br#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#,
                ),
            })
            .unwrap_err();
        assert_eq!(e.code(), "stream_interrupted");
        assert!(e.to_string().contains("Overloaded"), "{e}");
    }

    #[test]
    fn body_ending_before_message_stop_is_interrupted() {
        let mut p = parser();
        assert_eq!(
            p.end_of_body("anthropic").unwrap_err().code(),
            "stream_interrupted"
        );
    }

    #[test]
    fn unknown_events_and_blocks_are_skipped() {
        let mut p = parser();
        for (name, data) in [
            ("future_event", r#"{"type":"future_event","x":1}"#),
            (
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"server_tool_use","id":"s","name":"web_search","input":{}}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{}"}}"#,
            ),
            (
                "content_block_delta",
                r#"{"type":"content_block_delta","index":9,"delta":{"type":"text_delta","text":"orphan"}}"#,
            ),
        ] {
            let ev = SseEvent {
                event: Some(name.into()),
                data: bytes::Bytes::copy_from_slice(data.as_bytes()),
            };
            assert!(matches!(p.event(&ev).unwrap(), StreamStep::Skip), "{name}");
        }
        let bad = SseEvent {
            event: Some("content_block_delta".into()),
            data: bytes::Bytes::from_static(b"{not json"),
        };
        assert_eq!(p.event(&bad).unwrap_err().code(), "decode");
    }
}
