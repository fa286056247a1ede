//! A small Server-Sent Events decoder.
//!
//! Written by hand rather than taken from `eventsource-stream` so that an
//! event whose data is one line (every provider's case) is handed over as a
//! slice of the receive buffer, with no copy. Handles `\n`, `\r\n` and `\r`
//! line ends, comments, multi-line data, and events split anywhere across
//! network chunks (including inside a UTF-8 sequence, since it works on bytes).

use bytes::{Buf, Bytes, BytesMut};

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` name, if any.
    pub event: Option<String>,
    /// The `data:` payload (lines joined with `\n`).
    pub data: Bytes,
}

/// Incremental decoder: push bytes in, pull events out.
#[derive(Debug, Default)]
pub struct SseDecoder {
    buf: BytesMut,
    /// Bytes of `buf` already scanned for a line end.
    scanned: usize,
    event: Option<String>,
    data: Option<Bytes>,
    /// Set when the previous chunk ended in `\r`, so a leading `\n` is part of that line end.
    skip_lf: bool,
}

impl SseDecoder {
    /// A fresh decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete event, if one is buffered.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        loop {
            if self.skip_lf && !self.buf.is_empty() {
                if self.buf[0] == b'\n' {
                    self.buf.advance(1);
                }
                self.skip_lf = false;
            }
            let Some(off) = self.buf[self.scanned..]
                .iter()
                .position(|&b| b == b'\n' || b == b'\r')
            else {
                self.scanned = self.buf.len();
                return None;
            };
            let pos = self.scanned + off;
            let is_cr = self.buf[pos] == b'\r';
            let mut line = self.buf.split_to(pos + 1).freeze();
            line.truncate(pos);
            self.scanned = 0;
            if is_cr {
                if self.buf.is_empty() {
                    self.skip_lf = true;
                } else if self.buf[0] == b'\n' {
                    self.buf.advance(1);
                }
            }
            if line.is_empty() {
                if let Some(data) = self.data.take() {
                    return Some(SseEvent {
                        event: self.event.take(),
                        data,
                    });
                }
                self.event = None;
                continue;
            }
            self.field(line);
        }
    }

    fn field(&mut self, line: Bytes) {
        if line[0] == b':' {
            return;
        }
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let mut value = line.slice(i + 1..);
                if value.first() == Some(&b' ') {
                    value.advance(1);
                }
                (line.slice(..i), value)
            }
            None => (line.clone(), Bytes::new()),
        };
        match &name[..] {
            b"data" => {
                self.data = Some(match self.data.take() {
                    None => value,
                    Some(prev) => {
                        let mut joined = BytesMut::with_capacity(prev.len() + 1 + value.len());
                        joined.extend_from_slice(&prev);
                        joined.extend_from_slice(b"\n");
                        joined.extend_from_slice(&value);
                        joined.freeze()
                    }
                });
            }
            b"event" => self.event = Some(String::from_utf8_lossy(&value).into_owned()),
            _ => {}
        }
    }

    /// True when bytes of an unfinished event are buffered (used to tell a
    /// clean end of stream from a cut one).
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty() || self.data.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(input: &[u8]) -> Vec<SseEvent> {
        let mut d = SseDecoder::new();
        d.push(input);
        std::iter::from_fn(|| d.next_event()).collect()
    }

    #[test]
    fn basic_named_and_multiline() {
        let evs = all(b": comment\nevent: message_start\ndata: {\"a\":1}\n\ndata: x\ndata: y\r\n\r\ndata: [DONE]\n\n");
        assert_eq!(evs.len(), 3);
        assert_eq!(evs[0].event.as_deref(), Some("message_start"));
        assert_eq!(&evs[0].data[..], b"{\"a\":1}");
        assert_eq!(&evs[1].data[..], b"x\ny");
        assert_eq!(evs[1].event, None);
        assert_eq!(&evs[2].data[..], b"[DONE]");
    }

    #[test]
    fn unterminated_event_is_not_dispatched() {
        assert!(all(b"data: partial\n").is_empty());
        let mut d = SseDecoder::new();
        d.push(b"data: partial");
        assert!(d.next_event().is_none());
        assert!(d.has_partial());
    }

    #[test]
    fn cr_only_line_ends() {
        let evs = all(b"data: a\r\rdata: b\r\r");
        assert_eq!(evs.len(), 2);
        assert_eq!(&evs[1].data[..], b"b");
    }

    proptest! {
        /// However the stream is split into network chunks, the events are the same.
        #[test]
        fn chunking_does_not_matter(splits in proptest::collection::vec(0usize..200, 0..20)) {
            let input = "event: e\r\ndata: {\"t\":\"héllo wörld\"}\r\n\r\n: ping\n\ndata: a\ndata: b\n\ndata: [DONE]\n\n".as_bytes();
            let expected = all(input);
            let mut cuts: Vec<usize> = splits.into_iter().map(|s| s % input.len()).collect();
            cuts.sort_unstable();
            let mut d = SseDecoder::new();
            let mut got = Vec::new();
            let mut last = 0;
            for c in cuts.into_iter().chain([input.len()]) {
                d.push(&input[last..c]);
                last = c;
                while let Some(e) = d.next_event() { got.push(e); }
            }
            prop_assert_eq!(got, expected);
        }
    }
}
