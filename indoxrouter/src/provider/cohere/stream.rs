//! Cohere's v2 stream events, discriminated by their `type`:
//! `message-start`, `content-start|delta|end` (text or thinking),
//! `tool-plan-delta`, `tool-call-start|delta|end`, `citation-start|end`, and
//! `message-end` with the finish reason and usage, which ends the stream.

use serde::Deserialize;
use serde_json::Value;

use super::chat::{WireUsage, finish_reason, now};
use crate::error::{Error, Result};
use crate::provider::{ProviderConfig, StreamParser, StreamStep, scrub};
use crate::transport::sse::SseEvent;
use crate::types::{ChatChunk, ChunkChoice, Delta, FunctionCallDelta, Role, ToolCallDelta};

pub(super) struct CohereStream {
    /// Kept for error mapping (provider id, and the key to redact).
    cfg: ProviderConfig,
    id: String,
    created: u64,
    ended: bool,
}

#[derive(Deserialize)]
struct WireEvent {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    delta: Option<WireDelta>,
}

#[derive(Deserialize, Default)]
struct WireDelta {
    #[serde(default)]
    message: Option<WireDeltaMessage>,
    #[serde(default)]
    finish_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct WireDeltaMessage {
    /// An object in content events (the `content: []` of `message-start`
    /// is not one and is ignored).
    #[serde(default)]
    content: Option<Value>,
    #[serde(default)]
    tool_plan: Option<String>,
    #[serde(default)]
    tool_calls: Option<Value>,
}

impl CohereStream {
    pub(super) fn new(cfg: &ProviderConfig) -> Self {
        CohereStream {
            cfg: cfg.clone(),
            id: String::new(),
            created: now(),
            ended: false,
        }
    }

    fn chunk(&self, delta: Delta) -> ChatChunk {
        ChatChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".into(),
            created: self.created,
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason: None,
                logprobs: None,
            }],
            provider: self.cfg.id.clone(),
            ..Default::default()
        }
    }

    fn step(&self, delta: Delta) -> StreamStep {
        StreamStep::Chunk(self.chunk(delta))
    }

    fn content(&self, message: Option<WireDeltaMessage>) -> StreamStep {
        let Some(Value::Object(content)) = message.and_then(|m| m.content) else {
            return StreamStep::Skip;
        };
        let text = |k: &str| {
            content
                .get(k)
                .and_then(Value::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        match (text("text"), text("thinking")) {
            (Some(t), _) => self.step(Delta {
                content: Some(t),
                ..Default::default()
            }),
            (None, Some(t)) => self.step(Delta {
                reasoning_content: Some(t),
                ..Default::default()
            }),
            (None, None) => StreamStep::Skip,
        }
    }

    fn tool_call(
        &self,
        index: Option<u32>,
        message: Option<WireDeltaMessage>,
        start: bool,
    ) -> StreamStep {
        let Some(call) = message.and_then(|m| m.tool_calls) else {
            return StreamStep::Skip;
        };
        let function = call.get("function");
        let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
        let arguments = text(function.and_then(|f| f.get("arguments")));
        if !start && arguments.as_deref().is_none_or(str::is_empty) {
            return StreamStep::Skip;
        }
        self.step(Delta {
            tool_calls: Some(vec![ToolCallDelta {
                index: index.unwrap_or(0),
                id: if start { text(call.get("id")) } else { None },
                kind: start.then(|| "function".to_owned()),
                function: Some(FunctionCallDelta {
                    name: if start {
                        text(function.and_then(|f| f.get("name")))
                    } else {
                        None
                    },
                    arguments,
                }),
            }]),
            ..Default::default()
        })
    }

    fn message_end(&mut self, delta: WireDelta) -> Result<StreamStep> {
        self.ended = true;
        if let Some(error) = delta.error.filter(|e| !e.is_empty()) {
            return Err(Error::StreamInterrupted {
                provider: self.cfg.id.clone(),
                message: scrub(&self.cfg, &error),
            });
        }
        let mut chunk = self.chunk(Delta::default());
        if let Some(choice) = chunk.choices.first_mut() {
            choice.finish_reason = delta.finish_reason.as_deref().map(finish_reason);
        }
        chunk.usage = Some(delta.usage.unwrap_or_default().to_usage());
        Ok(StreamStep::Chunk(chunk))
    }
}

impl StreamParser for CohereStream {
    fn event(&mut self, event: &SseEvent) -> Result<StreamStep> {
        let data = event.data.trim_ascii();
        if data.is_empty() {
            return Ok(StreamStep::Skip);
        }
        if data == b"[DONE]" {
            return Ok(StreamStep::Done);
        }
        if self.ended {
            // Nothing follows message-end but an optional [DONE].
            return Ok(StreamStep::Skip);
        }
        let wire: WireEvent = crate::provider::decode_json(&self.cfg.id, data)?;
        let kind = wire
            .kind
            .clone()
            .or_else(|| event.event.clone())
            .unwrap_or_default();
        let delta = wire.delta.unwrap_or_default();
        Ok(match kind.as_str() {
            "message-start" => {
                if let Some(id) = wire.id {
                    self.id = id;
                }
                self.step(Delta {
                    role: Some(Role::Assistant),
                    ..Default::default()
                })
            }
            "content-start" | "content-delta" => self.content(delta.message),
            "tool-plan-delta" => match delta.message.and_then(|m| m.tool_plan) {
                Some(plan) if !plan.is_empty() => self.step(Delta {
                    reasoning_content: Some(plan),
                    ..Default::default()
                }),
                _ => StreamStep::Skip,
            },
            "tool-call-start" => self.tool_call(wire.index, delta.message, true),
            "tool-call-delta" => self.tool_call(wire.index, delta.message, false),
            "message-end" => return self.message_end(delta),
            // content-end, tool-call-end, citation-*, debug, and later types.
            _ => StreamStep::Skip,
        })
    }

    fn end_of_body(&mut self, provider: &str) -> Result<()> {
        if self.ended {
            Ok(())
        } else {
            Err(Error::StreamInterrupted {
                provider: provider.to_owned(),
                message: "the connection closed before message-end".into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ChunkAccumulator;
    use crate::provider::AdapterKind;
    use crate::types::{FinishReason, Usage};

    fn fold(events: &[&str]) -> (crate::types::ChatResponse, CohereStream) {
        let mut p = CohereStream::new(&ProviderConfig {
            id: "cohere".into(),
            kind: AdapterKind::Cohere,
            base_url: String::new(),
            api_key: None,
        });
        let mut acc = ChunkAccumulator::new();
        for data in events {
            let ev = SseEvent {
                event: None,
                data: bytes::Bytes::copy_from_slice(data.as_bytes()),
            };
            if let StreamStep::Chunk(c) = p.event(&ev).unwrap() {
                acc.push(&c);
            }
        }
        (acc.finish(), p)
    }

    /// The text stream example from Cohere's v2 streaming reference.
    #[test]
    fn reference_text_stream() {
        let (r, mut p) = fold(&[
            r#"{"id":"29f14a5a-11de-4cae-9800-25e4747408ea","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}"#,
            r#"{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}"#,
            r#"{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"Hello"}}}}"#,
            r#"{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":" world"}}}}"#,
            r#"{"type":"content-end","index":0}"#,
            r#"{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":{"billed_units":{"input_tokens":3,"output_tokens":2},"tokens":{"input_tokens":69,"output_tokens":2}}}}"#,
        ]);
        assert_eq!(r.text(), Some("Hello world"));
        assert_eq!(r.id, "29f14a5a-11de-4cae-9800-25e4747408ea");
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(r.usage, Usage::new(3, 2));
        assert!(p.end_of_body("cohere").is_ok());
    }

    #[test]
    fn tool_plan_and_tool_call_stream() {
        let (r, _) = fold(&[
            r#"{"id":"x","type":"message-start","delta":{"message":{"role":"assistant"}}}"#,
            r#"{"type":"tool-plan-delta","delta":{"message":{"tool_plan":"I will"}}}"#,
            r#"{"type":"tool-plan-delta","delta":{"message":{"tool_plan":" check."}}}"#,
            r#"{"type":"tool-call-start","index":0,"delta":{"message":{"tool_calls":{"id":"get_weather_nsz5zm3w56q3","type":"function","function":{"name":"get_weather","arguments":""}}}}}"#,
            r#"{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"{\n    \""}}}}}"#,
            r#"{"type":"tool-call-delta","index":0,"delta":{"message":{"tool_calls":{"function":{"arguments":"location\": \"Toronto\"}"}}}}}"#,
            r#"{"type":"tool-call-end","index":0}"#,
            r#"{"type":"citation-start","index":0,"delta":{"message":{"citations":{"start":0}}}}"#,
            r#"{"type":"message-end","delta":{"finish_reason":"TOOL_CALL","usage":{"billed_units":{"input_tokens":37,"output_tokens":28}}}}"#,
            "[DONE]",
        ]);
        assert_eq!(
            r.choices[0].message.reasoning_content.as_deref(),
            Some("I will check.")
        );
        let call = &r.tool_calls()[0];
        assert_eq!(call.id, "get_weather_nsz5zm3w56q3");
        assert_eq!(call.function.arguments, "{\n    \"location\": \"Toronto\"}");
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(r.choices[0].message.content, None);
    }

    #[test]
    fn thinking_content_is_reasoning() {
        let (r, _) = fold(&[
            r#"{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"thinking","thinking":""}}}}"#,
            r#"{"type":"content-delta","index":0,"delta":{"message":{"content":{"thinking":"Hmm."}}}}"#,
            r#"{"type":"content-start","index":1,"delta":{"message":{"content":{"type":"text","text":""}}}}"#,
            r#"{"type":"content-delta","index":1,"delta":{"message":{"content":{"text":"Hi"}}}}"#,
            r#"{"type":"message-end","delta":{"finish_reason":"MAX_TOKENS"}}"#,
        ]);
        assert_eq!(
            r.choices[0].message.reasoning_content.as_deref(),
            Some("Hmm.")
        );
        assert_eq!(r.text(), Some("Hi"));
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Length));
    }

    #[test]
    fn errors_and_cut_streams() {
        let mut p = CohereStream::new(&ProviderConfig {
            id: "cohere".into(),
            kind: AdapterKind::Cohere,
            base_url: String::new(),
            api_key: None,
        });
        assert_eq!(
            p.end_of_body("cohere").unwrap_err().code(),
            "stream_interrupted"
        );
        let e = p
            .event(&SseEvent {
                event: None,
                data: bytes::Bytes::from_static(
                    br#"{"type":"message-end","delta":{"finish_reason":"ERROR","error":"internal error"}}"#,
                ),
            })
            .unwrap_err();
        assert_eq!(e.code(), "stream_interrupted");
        assert!(e.to_string().contains("internal error"));
    }
}
