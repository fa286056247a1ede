//! A provider's answer before it becomes an HTTP response, so faults can be
//! applied to it uniformly whatever the provider.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, Response, StatusCode};
use serde_json::Value;

use crate::faults::Effect;
use crate::sse::{self, Body, Tail};

/// What OpenAI sends when a stream fails after its 200.
const OPENAI_STREAM_ERROR: &str = r#"{"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}}"#;

/// Stands in for the second SSE event when a stream is made malformed.
const MALFORMED_EVENT: &str = r#"{"id":"sim-malformed","object":"chat.completion.chunk","choices":[{"delta":{"content":"unterminated"#;

#[derive(Debug, Clone)]
pub(crate) enum ReplyBody {
    Json(Value),
    /// Framed SSE events, and the event a `StreamError` fault sends in their place.
    Events {
        frames: Vec<Bytes>,
        error: Bytes,
    },
    Raw {
        content_type: &'static str,
        bytes: Bytes,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: ReplyBody,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: ReplyBody::Json(body),
        }
    }

    /// SSE payloads, each sent as one `data:` event (OpenAI's framing).
    pub(crate) fn events(events: Vec<String>) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: ReplyBody::Events {
                frames: events.iter().map(|e| sse::frame(e)).collect(),
                error: sse::frame(OPENAI_STREAM_ERROR),
            },
        }
    }

    /// Events with `event:` names (Anthropic's framing), and the named
    /// event a `StreamError` fault sends instead of the rest.
    pub(crate) fn named_events(events: Vec<(&'static str, String)>, error: (&str, &str)) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: ReplyBody::Events {
                frames: events
                    .iter()
                    .map(|(name, data)| sse::named_frame(name, data))
                    .collect(),
                error: sse::named_frame(error.0, error.1),
            },
        }
    }

    /// `data:` events ended by `\r\n\r\n`, as Google frames them, and the
    /// `data:` payload a `StreamError` fault sends instead of the rest.
    pub(crate) fn crlf_events(events: Vec<String>, error: &str) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            body: ReplyBody::Events {
                frames: events.iter().map(|e| sse::crlf_frame(e)).collect(),
                error: sse::crlf_frame(error),
            },
        }
    }

    pub(crate) fn raw(status: u16, content_type: &'static str, bytes: impl Into<Bytes>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: ReplyBody::Raw {
                content_type,
                bytes: bytes.into(),
            },
        }
    }

    /// Sets a header, replacing any earlier value of the same name.
    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub(crate) fn into_response(self, effect: Effect) -> Response<Body> {
        let (content_type, body) = match self.body {
            ReplyBody::Json(value) => {
                ("application/json", single(value.to_string().into(), effect))
            }
            ReplyBody::Raw {
                content_type,
                bytes,
            } => (content_type, single(bytes, effect)),
            ReplyBody::Events { frames, error } => (
                "text/event-stream; charset=utf-8",
                stream(frames, error, effect),
            ),
        };
        let mut response = Response::new(body);
        // Informational statuses can't carry a response body, so a fault
        // asking for one (or for a code outside HTTP's range) is answered as 500.
        *response.status_mut() = StatusCode::from_u16(self.status)
            .ok()
            .filter(|status| !status.is_informational())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if content_type.starts_with("text/event-stream") {
            headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        }
        for (name, value) in self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.insert(name, value);
            }
        }
        response
    }
}

/// The first half of a body: never valid JSON, since a strict prefix of a
/// JSON object can't be one.
fn half(bytes: &Bytes) -> Bytes {
    let keep = (bytes.len() / 2).max(1).min(bytes.len().saturating_sub(1));
    bytes.slice(..keep)
}

fn single(bytes: Bytes, effect: Effect) -> Body {
    match effect {
        Effect::None | Effect::StreamError(_) | Effect::Drip(_) | Effect::CutBeforeEnd => {
            sse::whole(bytes)
        }
        Effect::Malformed => sse::whole(half(&bytes)),
        Effect::Stall(_) => sse::chunked(Vec::new(), Tail::Stall, None),
        Effect::Cut(_) => sse::chunked(vec![half(&bytes)], Tail::Cut, None),
    }
}

fn stream(mut frames: Vec<Bytes>, error: Bytes, effect: Effect) -> Body {
    let mut gap = None;
    let tail = match effect {
        Effect::None => Tail::Done,
        Effect::Drip(every) => {
            gap = Some(every);
            Tail::Done
        }
        Effect::Malformed => {
            frames.insert(1.min(frames.len()), sse::frame(MALFORMED_EVENT));
            Tail::Done
        }
        Effect::Stall(after) => {
            frames.truncate(after);
            Tail::Stall
        }
        Effect::Cut(after) => {
            frames.truncate(after);
            Tail::Cut
        }
        Effect::CutBeforeEnd => {
            frames.pop();
            Tail::Cut
        }
        Effect::StreamError(after) => {
            frames.truncate(after);
            frames.push(error);
            Tail::Done
        }
    };
    sse::chunked(frames, tail, gap)
}
