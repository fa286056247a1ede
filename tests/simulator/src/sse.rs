//! Response bodies: whole, or a sequence of chunks that may end cleanly, stall
//! forever, or break the connection.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::Frame;

/// Every response body the server sends.
pub(crate) type Body = UnsyncBoxBody<Bytes, io::Error>;

/// How a chunked body ends once its chunks are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tail {
    /// End the body normally.
    Done,
    /// Send nothing more, keeping the connection open until the client leaves.
    Stall,
    /// Fail the body, which makes hyper drop the connection mid-response.
    Cut,
}

/// Frames one SSE event carrying `payload` on a single `data:` line.
pub(crate) fn frame(payload: &str) -> Bytes {
    Bytes::from(format!("data: {payload}\n\n"))
}

/// Frames one named SSE event: `event: <name>` then its `data:` line.
pub(crate) fn named_frame(name: &str, payload: &str) -> Bytes {
    Bytes::from(format!("event: {name}\ndata: {payload}\n\n"))
}

/// Frames one SSE event with CRLF line ends, as Google's servers send them.
pub(crate) fn crlf_frame(payload: &str) -> Bytes {
    Bytes::from(format!("data: {payload}\r\n\r\n"))
}

/// A body sent in one piece, with a `Content-Length`.
pub(crate) fn whole(bytes: Bytes) -> Body {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// A body sent chunk by chunk.
///
/// Each chunk is preceded by a yield to the scheduler: hyper flushes its write
/// buffer whenever the body is pending, so every chunk reaches the socket as its
/// own write instead of being coalesced with the next one. That lets clients
/// observe real incremental delivery.
pub(crate) fn chunked(chunks: Vec<Bytes>, tail: Tail, gap: Option<Duration>) -> Body {
    let state = (chunks.into_iter(), false, true);
    let stream =
        futures_util::stream::unfold(state, move |(mut chunks, failed, first)| async move {
            match gap {
                // A slow provider: every event after the first waits `gap`.
                Some(gap) if !first => tokio::time::sleep(gap).await,
                _ => tokio::task::yield_now().await,
            }
            if let Some(chunk) = chunks.next() {
                return Some((Ok(Frame::data(chunk)), (chunks, failed, false)));
            }
            match tail {
                Tail::Done => None,
                Tail::Stall => {
                    std::future::pending::<()>().await;
                    None
                }
                Tail::Cut if !failed => {
                    let error = io::Error::new(io::ErrorKind::ConnectionAborted, "simulated cut");
                    Some((Err(error), (chunks, true, false)))
                }
                Tail::Cut => None,
            }
        });
    StreamBody::new(stream).boxed_unsync()
}

/// Counts provider response bodies still held by the server. A body is
/// dropped when it has been sent or when the client goes away, so a stalled
/// stream stays counted until its client disconnects — which is how tests see
/// that dropping a client-side stream really closed the connection.
struct Tracked {
    inner: Body,
    open: Arc<AtomicUsize>,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// Wraps `body` so `open` counts it until it is dropped.
pub(crate) fn tracked(body: Body, open: Arc<AtomicUsize>) -> Body {
    open.fetch_add(1, Ordering::SeqCst);
    Tracked { inner: body, open }.boxed_unsync()
}
