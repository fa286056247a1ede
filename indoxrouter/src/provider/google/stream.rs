//! `streamGenerateContent?alt=sse`: every event is a whole
//! `GenerateContentResponse` holding the next piece of each candidate, with
//! cumulative `usageMetadata`. There is no end marker; the stream is complete
//! once every candidate has a `finishReason`, and a body that ends before
//! that was cut.

use super::chat::{WireResponse, WireUsage, arguments, call_id, finish_reason, now};
use crate::error::{Error, Result};
use crate::provider::{ProviderConfig, StreamParser, StreamStep};
use crate::transport::sse::SseEvent;
use crate::types::{
    ChatChunk, ChunkChoice, Delta, FinishReason, FunctionCallDelta, Role, ToolCallDelta,
};

/// What the stream knows about one candidate so far.
struct Candidate {
    index: u32,
    calls: u32,
    finished: bool,
}

pub(super) struct GoogleStream {
    /// Kept for error mapping (provider id, and the key to redact).
    cfg: ProviderConfig,
    created: u64,
    candidates: Vec<Candidate>,
    usage: Option<WireUsage>,
    complete: bool,
}

impl GoogleStream {
    pub(super) fn new(cfg: &ProviderConfig) -> Self {
        GoogleStream {
            cfg: cfg.clone(),
            created: now(),
            candidates: Vec::new(),
            usage: None,
            complete: false,
        }
    }

    /// The state for candidate `index`, and whether it is new.
    fn candidate(&mut self, index: u32) -> (&mut Candidate, bool) {
        match self.candidates.iter().position(|c| c.index == index) {
            Some(at) => (&mut self.candidates[at], false),
            None => {
                self.candidates.push(Candidate {
                    index,
                    calls: 0,
                    finished: false,
                });
                let last = self.candidates.len() - 1;
                (&mut self.candidates[last], true)
            }
        }
    }
}

impl StreamParser for GoogleStream {
    fn event(&mut self, event: &SseEvent) -> Result<StreamStep> {
        let data = event.data.trim_ascii();
        if data.is_empty() {
            return Ok(StreamStep::Skip);
        }
        let wire: WireResponse = crate::provider::decode_json(&self.cfg.id, data)?;
        if let Some(e) = &wire.error {
            let err = super::error::from_value(&self.cfg, 200, e, None);
            return Err(Error::StreamInterrupted {
                provider: self.cfg.id.clone(),
                message: err.to_string(),
            });
        }
        if let Some(u) = wire.usage_metadata {
            self.usage = Some(u);
        }
        let response_id = wire.response_id.unwrap_or_default();
        let mut choices = Vec::with_capacity(wire.candidates.len());
        for (i, cand) in wire.candidates.into_iter().enumerate() {
            let index = cand
                .index
                .unwrap_or_else(|| u32::try_from(i).unwrap_or(u32::MAX));
            let (state, new) = self.candidate(index);
            let mut delta = Delta {
                role: new.then_some(Role::Assistant),
                ..Default::default()
            };
            let mut calls = Vec::new();
            for part in cand.content.map(|c| c.parts).unwrap_or_default() {
                if let Some(call) = &part.function_call {
                    let position = state.calls;
                    state.calls = state.calls.saturating_add(1);
                    calls.push(ToolCallDelta {
                        index: position,
                        id: Some(call_id(call, &response_id, index, position)),
                        kind: Some("function".into()),
                        function: Some(FunctionCallDelta {
                            name: Some(call.name.clone()),
                            arguments: Some(arguments(call.args.as_ref())),
                        }),
                    });
                } else if let Some(t) = part.text {
                    let slot = if part.thought == Some(true) {
                        &mut delta.reasoning_content
                    } else {
                        &mut delta.content
                    };
                    slot.get_or_insert_with(String::new).push_str(&t);
                }
            }
            if !calls.is_empty() {
                delta.tool_calls = Some(calls);
            }
            let finish = cand
                .finish_reason
                .as_deref()
                .map(|r| finish_reason(r, state.calls > 0));
            if finish.is_some() {
                state.finished = true;
            }
            choices.push(ChunkChoice {
                index,
                delta,
                finish_reason: finish,
                logprobs: None,
            });
        }
        if choices.is_empty() && wire.prompt_feedback.is_some() {
            // A blocked prompt: no candidates, and nothing more will come.
            choices.push(ChunkChoice {
                index: 0,
                delta: Delta {
                    role: Some(Role::Assistant),
                    ..Default::default()
                },
                finish_reason: Some(FinishReason::ContentFilter),
                logprobs: None,
            });
            self.candidates.push(Candidate {
                index: 0,
                calls: 0,
                finished: true,
            });
        }
        if choices.is_empty() {
            return Ok(StreamStep::Skip);
        }
        let ends = choices.iter().any(|c| c.finish_reason.is_some())
            && self.candidates.iter().all(|c| c.finished);
        // Usage is repeated on every event; it is reported once, on the
        // event that completes the response, so it is priced exactly once.
        let usage = if ends && !self.complete {
            self.complete = true;
            Some(self.usage.unwrap_or_default().to_usage())
        } else {
            None
        };
        Ok(StreamStep::Chunk(ChatChunk {
            id: response_id,
            object: "chat.completion.chunk".into(),
            created: self.created,
            model: wire.model_version.unwrap_or_default(),
            choices,
            usage,
            provider: self.cfg.id.clone(),
            ..Default::default()
        }))
    }

    fn end_of_body(&mut self, provider: &str) -> Result<()> {
        if self.complete {
            Ok(())
        } else {
            Err(Error::StreamInterrupted {
                provider: provider.to_owned(),
                message: "the stream ended before every candidate had a finish reason".into(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ChunkAccumulator;
    use crate::provider::AdapterKind;

    fn parser() -> GoogleStream {
        GoogleStream::new(&ProviderConfig {
            id: "google".into(),
            kind: AdapterKind::Google,
            base_url: String::new(),
            api_key: None,
        })
    }

    fn ev(data: &str) -> SseEvent {
        SseEvent {
            event: None,
            data: bytes::Bytes::copy_from_slice(data.as_bytes()),
        }
    }

    #[test]
    fn text_stream_with_cumulative_usage() {
        let mut p = parser();
        let mut acc = ChunkAccumulator::new();
        let mut priced = 0;
        for data in [
            r#"{"candidates": [{"content": {"parts": [{"text": "Hello"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"totalTokenCount": 9},"modelVersion": "gemini-2.5-flash","responseId": "abc"}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": " there, friend."}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 3,"totalTokenCount": 12},"modelVersion": "gemini-2.5-flash","responseId": "abc"}"#,
            r#"{"candidates": [{"content": {"parts": [{"text": ""}],"role": "model"},"finishReason": "STOP","index": 0}],"usageMetadata": {"promptTokenCount": 9,"candidatesTokenCount": 4,"thoughtsTokenCount": 20,"totalTokenCount": 33},"modelVersion": "gemini-2.5-flash","responseId": "abc"}"#,
        ] {
            match p.event(&ev(data)).unwrap() {
                StreamStep::Chunk(c) => {
                    if c.usage.is_some() {
                        priced += 1;
                    }
                    acc.push(&c);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(priced, 1);
        assert!(p.end_of_body("google").is_ok());
        let r = acc.finish();
        assert_eq!(r.text(), Some("Hello there, friend."));
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(r.usage.prompt_tokens, 9);
        assert_eq!(r.usage.completion_tokens, 24);
        assert_eq!(r.usage.reasoning_tokens(), 20);
        assert_eq!(r.id, "abc");
    }

    #[test]
    fn function_call_chunk() {
        let mut p = parser();
        let step = p
            .event(&ev(r#"{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":20,"candidatesTokenCount":5,"totalTokenCount":25},"responseId":"r1"}"#))
            .unwrap();
        let StreamStep::Chunk(c) = step else {
            panic!("{step:?}")
        };
        let call = &c.choices[0].delta.tool_calls.as_ref().unwrap()[0];
        assert_eq!(
            call.function.as_ref().unwrap().arguments.as_deref(),
            Some(r#"{"city":"Paris"}"#)
        );
        assert!(call.id.as_deref().unwrap().starts_with("call_"));
        assert_eq!(c.choices[0].finish_reason, Some(FinishReason::ToolCalls));
        assert_eq!(c.usage.unwrap().total_tokens, 25);
    }

    #[test]
    fn body_ending_before_a_finish_reason_is_interrupted() {
        let mut p = parser();
        let _ = p
            .event(&ev(
                r#"{"candidates":[{"content":{"parts":[{"text":"Hel"}]},"index":0}]}"#,
            ))
            .unwrap();
        assert_eq!(
            p.end_of_body("google").unwrap_err().code(),
            "stream_interrupted"
        );
    }

    #[test]
    fn error_object_mid_stream() {
        let mut p = parser();
        let e = p
            .event(&ev(r#"{"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}"#))
            .unwrap_err();
        assert_eq!(e.code(), "stream_interrupted");
        assert!(e.to_string().contains("overloaded"), "{e}");
    }
}
