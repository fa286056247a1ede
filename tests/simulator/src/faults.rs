//! Fault injection: what can go wrong, and the two textual ways to ask for it
//! (the `x-simulator-fault` header syntax and the `/__sim/faults` JSON).

use std::str::FromStr;
use std::time::Duration;

use serde_json::Value;

/// Request header that injects a fault into that one request.
pub const FAULT_HEADER: &str = "x-simulator-fault";

/// Something to go wrong with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status instead of handling the request.
    Status {
        /// HTTP status code; a 1xx or out-of-range code is answered as 500.
        status: u16,
        /// Seconds to send in a `Retry-After` header.
        retry_after: Option<u64>,
        /// Response body; `None` uses the provider's real error body for the status.
        body: Option<String>,
    },
    /// A 200 whose JSON body is cut in half; for streams, a `data:` line that
    /// isn't JSON right after the first event.
    MalformedJson,
    /// Wait this long before sending response headers.
    SlowFirstByte(Duration),
    /// Streams: send this many SSE events, then nothing until the client hangs
    /// up. Non-streaming responses send headers and then nothing.
    Stall {
        /// Events sent before going quiet.
        after_chunks: usize,
    },
    /// Streams: send this many SSE events, then drop the connection without
    /// `[DONE]` or usage. Non-streaming responses send half the body first.
    CutStream {
        /// Events sent before the connection is dropped.
        after_chunks: usize,
    },
    /// Streams: send every event after the first this long after the one
    /// before (a slow provider). Non-streaming responses are unaffected.
    Drip(Duration),
    /// Answer normally but report this many times the usage the answer
    /// really took (prompt and completion alike): a provider that
    /// over-reports, for testing that a charge never exceeds its hold.
    OverReport {
        /// The multiplier (at least 1).
        factor: u64,
    },
    /// Streams: every event but the last — the end marker (`[DONE]`,
    /// Anthropic's `message_stop`; for Gemini and Cohere the final event,
    /// which carries the usage) — then the connection is cut.
    /// Non-streaming responses are unaffected.
    CutBeforeEnd,
    /// Answer normally but report the most output the request permits: its
    /// whole output limit (`max_tokens` × `n`), hidden reasoning and
    /// thinking tokens inside it. For testing that quotes bound charges.
    MaxUsage,
    /// Streams: send this many SSE events, then the provider's in-stream
    /// error event, and end the body (the status stays 200). Non-streaming
    /// responses are unaffected.
    StreamError {
        /// Events sent before the error event.
        after_chunks: usize,
    },
}

/// What a fault does to a response that is otherwise produced normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    None,
    Malformed,
    Stall(usize),
    Cut(usize),
    /// Drop the last event, then cut.
    CutBeforeEnd,
    StreamError(usize),
    Drip(Duration),
}

impl Fault {
    /// A status fault with the provider's real body and no `Retry-After`.
    pub fn status(status: u16) -> Fault {
        Fault::Status {
            status,
            retry_after: None,
            body: None,
        }
    }

    /// A 429 with the provider's rate-limit body and `Retry-After: retry_after_secs`.
    pub fn rate_limited(retry_after_secs: u64) -> Fault {
        Fault::Status {
            status: 429,
            retry_after: Some(retry_after_secs),
            body: None,
        }
    }

    /// OpenAI's 429 `insufficient_quota` variant, which must not be retried.
    /// The body is OpenAI-shaped whichever provider consumes the fault.
    pub fn openai_insufficient_quota() -> Fault {
        Fault::Status {
            status: 429,
            retry_after: None,
            body: Some(crate::openai::insufficient_quota_body()),
        }
    }

    /// Parses the `x-simulator-fault` header syntax; see the crate docs.
    pub fn parse(spec: &str) -> Result<Fault, String> {
        let mut kind: Option<Fault> = None;
        let mut retry_after = None;
        let mut body = None;
        let mut quota = false;
        let mut rest = spec.trim();
        while !rest.is_empty() {
            // `body=` swallows everything after it, semicolons included.
            if let Some(text) = rest.strip_prefix("body=") {
                body = Some(text.to_owned());
                break;
            }
            let (item, tail) = rest.split_once(';').unwrap_or((rest, ""));
            rest = tail.trim_start();
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            let (key, value) = item.split_once('=').unwrap_or((item, ""));
            let next = match key.trim().to_ascii_lowercase().as_str() {
                "status" => Some(Fault::status(parse_status(value)?)),
                "malformed" => Some(Fault::MalformedJson),
                "max_usage" => Some(Fault::MaxUsage),
                "cut_before_end" => Some(Fault::CutBeforeEnd),
                "slow" => Some(Fault::SlowFirstByte(parse_duration(value)?)),
                "stall" => Some(Fault::Stall {
                    after_chunks: parse_count(key, value)?,
                }),
                "cut" => Some(Fault::CutStream {
                    after_chunks: parse_count(key, value)?,
                }),
                "drip" => Some(Fault::Drip(parse_duration(value)?)),
                "overreport" => Some(Fault::OverReport {
                    factor: parse_number(key, value)?.max(1),
                }),
                "error" => Some(Fault::StreamError {
                    after_chunks: parse_count(key, value)?,
                }),
                "retry_after" | "retry-after" => {
                    retry_after = Some(parse_number(key, value)?);
                    None
                }
                "quota" => {
                    quota = true;
                    None
                }
                other => return Err(format!("unknown fault item '{other}'")),
            };
            if let Some(next) = next {
                if kind.is_some() {
                    return Err("only one fault per request".to_owned());
                }
                kind = Some(next);
            }
        }
        let quota_body = quota.then(crate::openai::insufficient_quota_body);
        match kind {
            Some(Fault::Status { status, .. }) => Ok(Fault::Status {
                status,
                retry_after,
                body: body.or(quota_body),
            }),
            Some(_) if retry_after.is_some() || body.is_some() || quota => {
                Err("retry_after, quota and body only go with status".to_owned())
            }
            Some(fault) => Ok(fault),
            None if quota => Ok(Fault::Status {
                status: 429,
                retry_after,
                body: quota_body,
            }),
            None => Err("no fault given".to_owned()),
        }
    }

    pub(crate) fn effect(&self) -> Effect {
        match self {
            Fault::MalformedJson => Effect::Malformed,
            Fault::Stall { after_chunks } => Effect::Stall(*after_chunks),
            Fault::CutStream { after_chunks } => Effect::Cut(*after_chunks),
            Fault::StreamError { after_chunks } => Effect::StreamError(*after_chunks),
            Fault::Drip(every) => Effect::Drip(*every),
            Fault::Status { .. }
            | Fault::SlowFirstByte(_)
            | Fault::OverReport { .. }
            | Fault::MaxUsage => Effect::None,
            Fault::CutBeforeEnd => Effect::CutBeforeEnd,
        }
    }
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(spec: &str) -> Result<Fault, String> {
        Fault::parse(spec)
    }
}

fn parse_number(key: &str, value: &str) -> Result<u64, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("{key} needs a whole number, got '{value}'"))
}

fn parse_count(key: &str, value: &str) -> Result<usize, String> {
    let n = parse_number(key, value)?;
    usize::try_from(n).map_err(|_| format!("{key} is too large"))
}

fn parse_status(value: &str) -> Result<u16, String> {
    match value.trim().parse::<u16>() {
        Ok(status) if (200..=599).contains(&status) => Ok(status),
        _ => Err(format!(
            "status needs a code from 200 to 599, got '{value}'"
        )),
    }
}

/// `500ms`, `2s`, `1.5s`, or a bare number of milliseconds.
fn parse_duration(value: &str) -> Result<Duration, String> {
    let value = value.trim();
    let (number, millis_per_unit) = if let Some(ms) = value.strip_suffix("ms") {
        (ms, 1.0)
    } else if let Some(s) = value.strip_suffix('s') {
        (s, 1000.0)
    } else {
        (value, 1.0)
    };
    match number.trim().parse::<f64>() {
        // A day is far beyond any sensible test, and keeps the conversion exact.
        Ok(n) if n.is_finite() && n >= 0.0 && n * millis_per_unit <= 86_400_000.0 => {
            Ok(Duration::from_secs_f64(n * millis_per_unit / 1000.0))
        }
        _ => Err(format!(
            "slow needs a duration like 500ms or 2s, got '{value}'"
        )),
    }
}

/// Parses the `fault` member of a `POST /__sim/faults` body: either a string
/// in header syntax or an object such as `{"type":"status","status":429}`.
pub(crate) fn from_json(value: &Value) -> Result<Fault, String> {
    if let Some(spec) = value.as_str() {
        return Fault::parse(spec);
    }
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .ok_or("fault needs a string 'type'")?;
    let count = |field: &str| -> Result<usize, String> {
        let n = value
            .get(field)
            .and_then(Value::as_u64)
            .ok_or(format!("'{kind}' fault needs a whole number '{field}'"))?;
        usize::try_from(n).map_err(|_| format!("'{field}' is too large"))
    };
    match kind {
        "status" => {
            let status = value
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok())
                .ok_or("status fault needs a numeric 'status'")?;
            parse_status(&status.to_string())?;
            let body = match value.get("body") {
                None | Some(Value::Null) => None,
                Some(Value::String(text)) => Some(text.clone()),
                Some(other) => Some(other.to_string()),
            };
            Ok(Fault::Status {
                status,
                retry_after: value.get("retry_after").and_then(Value::as_u64),
                body,
            })
        }
        "malformed" | "malformed_json" => Ok(Fault::MalformedJson),
        "max_usage" => Ok(Fault::MaxUsage),
        "cut_before_end" => Ok(Fault::CutBeforeEnd),
        "slow" | "slow_first_byte" => {
            let ms = value
                .get("ms")
                .and_then(Value::as_u64)
                .ok_or("slow fault needs a whole number 'ms'")?;
            Ok(Fault::SlowFirstByte(Duration::from_millis(ms)))
        }
        "stall" => Ok(Fault::Stall {
            after_chunks: count("after_chunks")?,
        }),
        "drip" => Ok(Fault::Drip(Duration::from_millis(
            value
                .get("ms")
                .and_then(Value::as_u64)
                .ok_or("drip fault needs a whole number 'ms'")?,
        ))),
        "overreport" => Ok(Fault::OverReport {
            factor: value
                .get("factor")
                .and_then(Value::as_u64)
                .ok_or("overreport fault needs a whole number 'factor'")?
                .max(1),
        }),
        "cut" | "cut_stream" => Ok(Fault::CutStream {
            after_chunks: count("after_chunks")?,
        }),
        "error" | "stream_error" => Ok(Fault::StreamError {
            after_chunks: count("after_chunks")?,
        }),
        other => Err(format!("unknown fault type '{other}'")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_header_syntax() {
        assert_eq!(
            Fault::parse("status=429;retry_after=2").unwrap(),
            Fault::Status {
                status: 429,
                retry_after: Some(2),
                body: None
            }
        );
        assert_eq!(Fault::parse("malformed").unwrap(), Fault::MalformedJson);
        assert_eq!(
            Fault::parse("slow=500ms").unwrap(),
            Fault::SlowFirstByte(Duration::from_millis(500))
        );
        assert_eq!(
            Fault::parse("slow=2s").unwrap(),
            Fault::SlowFirstByte(Duration::from_secs(2))
        );
        assert_eq!(
            Fault::parse("stall=2").unwrap(),
            Fault::Stall { after_chunks: 2 }
        );
        assert_eq!(
            Fault::parse(" cut=3 ").unwrap(),
            Fault::CutStream { after_chunks: 3 }
        );
        assert_eq!(
            Fault::parse("error=2").unwrap(),
            Fault::StreamError { after_chunks: 2 }
        );
        assert_eq!(
            Fault::parse("drip=50ms").unwrap(),
            Fault::Drip(Duration::from_millis(50))
        );
        assert_eq!(
            Fault::parse("overreport=1000").unwrap(),
            Fault::OverReport { factor: 1000 }
        );
        assert_eq!(
            Fault::parse("status=500;body={\"a\":1;\"b\":2}").unwrap(),
            Fault::Status {
                status: 500,
                retry_after: None,
                body: Some("{\"a\":1;\"b\":2}".into())
            }
        );
        let quota = Fault::parse("status=429;quota").unwrap();
        assert!(
            matches!(quota, Fault::Status { status: 429, body: Some(b), .. } if b.contains("insufficient_quota"))
        );
    }

    #[test]
    fn rejects_bad_header_syntax() {
        for bad in [
            "",
            "status=abc",
            "status=99",
            "stall=-1",
            "slow=fast",
            "status=500;cut=1",
            "cut=1;retry_after=2",
            "explode",
        ] {
            assert!(Fault::parse(bad).is_err(), "{bad} should not parse");
        }
    }

    #[test]
    fn parses_json() {
        assert_eq!(
            from_json(&json!({"type": "status", "status": 503, "retry_after": 1})).unwrap(),
            Fault::Status {
                status: 503,
                retry_after: Some(1),
                body: None
            }
        );
        assert_eq!(
            from_json(&json!({"type": "cut", "after_chunks": 4})).unwrap(),
            Fault::CutStream { after_chunks: 4 }
        );
        assert_eq!(
            from_json(&json!("stall=1")).unwrap(),
            Fault::Stall { after_chunks: 1 }
        );
        assert_eq!(
            from_json(&json!({"type": "stream_error", "after_chunks": 1})).unwrap(),
            Fault::StreamError { after_chunks: 1 }
        );
        assert!(from_json(&json!({"type": "stall"})).is_err());
        assert!(from_json(&json!(42)).is_err());
    }
}
