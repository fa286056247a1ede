//! SSE events of an OpenAI-dialect chat stream.

use crate::error::{Error, Result};
use crate::provider::{ProviderConfig, StreamParser, StreamStep};
use crate::transport::sse::SseEvent;
use crate::types::ChatChunk;

pub(super) struct OpenAiStream {
    /// Kept for error mapping (provider id, and the key to redact).
    cfg: ProviderConfig,
}

impl OpenAiStream {
    pub(super) fn new(cfg: &ProviderConfig) -> Self {
        OpenAiStream { cfg: cfg.clone() }
    }
}

impl StreamParser for OpenAiStream {
    fn event(&mut self, event: &SseEvent) -> Result<StreamStep> {
        let data = event.data.trim_ascii();
        if data.is_empty() {
            return Ok(StreamStep::Skip);
        }
        if data == b"[DONE]" {
            return Ok(StreamStep::Done);
        }
        if event.event.as_deref() == Some("error") || starts_with_error(data) {
            let v: serde_json::Value =
                serde_json::from_slice(data).map_err(|e| Error::decode(&self.cfg.id, e))?;
            let inner = v.get("error").filter(|e| e.is_object()).unwrap_or(&v);
            let err = super::error::from_value(&self.cfg, 200, Some(inner), None);
            return Err(Error::StreamInterrupted {
                provider: self.cfg.id.clone(),
                message: err.to_string(),
            });
        }
        let mut chunk: ChatChunk = crate::provider::decode_json(&self.cfg.id, data)?;
        chunk.provider.clone_from(&self.cfg.id);
        if chunk.usage.is_none() && !chunk.extra.is_empty() {
            // Groq reports streamed usage under `x_groq.usage`.
            chunk.usage = chunk
                .extra
                .get("x_groq")
                .and_then(|x| x.get("usage"))
                .and_then(|u| serde_json::from_value(u.clone()).ok());
        }
        Ok(StreamStep::Chunk(chunk))
    }
}

fn starts_with_error(data: &[u8]) -> bool {
    // A chunk always starts with `{"id"` or similar; an in-band error object
    // starts with its `error` key. Checking the prefix keeps the hot path to a
    // byte comparison.
    let rest = data.strip_prefix(b"{").unwrap_or(data).trim_ascii_start();
    rest.starts_with(b"\"error\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::AdapterKind;

    fn parser() -> OpenAiStream {
        OpenAiStream::new(&ProviderConfig {
            id: "openai".into(),
            kind: AdapterKind::OpenAi,
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
    fn chunk_usage_and_done() {
        let mut p = parser();
        let c = p
            .event(&ev(r#"{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}"#))
            .unwrap();
        match c {
            StreamStep::Chunk(c) => {
                assert_eq!(c.choices[0].delta.content.as_deref(), Some("Hello"));
                assert!(c.usage.is_none());
            }
            other => panic!("{other:?}"),
        }
        let u = p
            .event(&ev(r#"{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":23,"completion_tokens":18,"total_tokens":41}}"#))
            .unwrap();
        assert!(matches!(u, StreamStep::Chunk(c) if c.usage.unwrap().completion_tokens == 18));
        assert!(matches!(p.event(&ev("[DONE]")).unwrap(), StreamStep::Done));
    }

    #[test]
    fn groq_usage_is_read() {
        let mut p = parser();
        let step = p
            .event(&ev(r#"{"id":"x","object":"chat.completion.chunk","created":1,"model":"llama","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}}"#))
            .unwrap();
        assert!(matches!(step, StreamStep::Chunk(c) if c.usage.unwrap().total_tokens == 12));
    }

    #[test]
    fn in_band_error_is_a_stream_error() {
        let mut p = parser();
        let e = p
            .event(&ev(
                r#"{"error":{"message":"overloaded","type":"server_error"}}"#,
            ))
            .unwrap_err();
        assert_eq!(e.code(), "stream_interrupted");
    }

    #[test]
    fn malformed_chunk_is_decode_error() {
        assert_eq!(
            parser().event(&ev("{not json")).unwrap_err().code(),
            "decode"
        );
    }
}
