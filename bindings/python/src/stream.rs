//! `NativeStream`: a streamed chat, read chunk by chunk from a blocking
//! iterator or an async one. Dropping or closing it drops the core stream,
//! which closes the connection and so cancels the upstream request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::StreamExt as _;
use indoxrouter::ChatStream;
use indoxrouter::types::ChatChunk;
use pyo3::prelude::*;
use tokio::sync::{Mutex, Notify};

use crate::convert::result;
use crate::errors::to_py_err;
use crate::runtime::{awaitable, block_on, runtime};

/// A streamed chat. `next()` blocks (GIL released) and `anext()` is an
/// awaitable; both give a chunk dict, or `None` at the end.
#[pyclass(frozen, module = "indoxrouter._native")]
pub(crate) struct NativeStream {
    shared: Arc<Shared>,
}

/// Shared with in-flight `next` calls, which may outlive the Python object
/// by a moment (an awaitable still running when the iterator is dropped).
struct Shared {
    stream: Mutex<Option<ChatStream>>,
    closed: AtomicBool,
    /// Wakes a `next` waiting on the provider when the stream is closed, so
    /// closing never waits for the provider's next byte.
    close: Notify,
}

impl NativeStream {
    pub(crate) fn new(stream: ChatStream) -> Self {
        NativeStream {
            shared: Arc::new(Shared {
                stream: Mutex::new(Some(stream)),
                closed: AtomicBool::new(false),
                close: Notify::new(),
            }),
        }
    }
}

impl Shared {
    async fn next(&self) -> indoxrouter::Result<Option<ChatChunk>> {
        let mut guard = self.stream.lock().await;
        if self.closed.load(Ordering::Acquire) {
            *guard = None;
            return Ok(None);
        }
        let Some(stream) = guard.as_mut() else {
            return Ok(None);
        };
        let item = tokio::select! {
            item = stream.next() => item,
            () = self.close.notified() => None,
        };
        match item {
            Some(Ok(chunk)) if !self.closed.load(Ordering::Acquire) => Ok(Some(chunk)),
            Some(Err(e)) => {
                *guard = None;
                Err(e)
            }
            // The end, or closed meanwhile: release the connection now.
            _ => {
                *guard = None;
                Ok(None)
            }
        }
    }

    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        // A stored permit also covers a `next` that has not started waiting yet.
        self.close.notify_one();
        if let Ok(mut guard) = self.stream.try_lock() {
            let _rt = runtime().enter();
            *guard = None;
        }
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Dropping the body may touch the runtime's timer and I/O driver.
        let _rt = runtime().enter();
        self.stream.get_mut().take();
    }
}

#[pymethods]
impl NativeStream {
    /// The next chunk as a dict, or `None` at the end. Blocks without the GIL.
    fn next(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        let shared = Arc::clone(&self.shared);
        match block_on(py, async move { shared.next().await })? {
            Some(chunk) => Ok(Some(result(py, &chunk)?)),
            None => Ok(None),
        }
    }

    /// An awaitable of the next chunk as a dict, or `None` at the end.
    fn anext<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let shared = Arc::clone(&self.shared);
        awaitable(
            py,
            async move { shared.next().await },
            |py, item| match item {
                Ok(Some(chunk)) => result(py, &chunk),
                Ok(None) => Ok(py.None()),
                Err(e) => Err(to_py_err(py, &e)),
            },
        )
    }

    /// Stops reading and closes the connection, cancelling the upstream
    /// request. Idempotent.
    fn close(&self) {
        self.shared.close();
    }

    /// Whether the stream was closed or has ended.
    #[getter]
    fn closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
            || self.shared.stream.try_lock().is_ok_and(|g| g.is_none())
    }
}
