//! `NativeStream`: a chat stream pulled one chunk per `next()` Promise.
//!
//! The JS layer wraps it in an async generator, so `for await` works, `break`
//! calls `close()`, and an `AbortSignal` cancels a pending `next()`.

use std::sync::{Arc, Mutex};

use futures_util::StreamExt as _;
use indoxrouter::types::ChatRequest;
use indoxrouter::{ChatStream, Client};
use napi::bindgen_prelude::PromiseRaw;
use napi::{Env, Result};
use napi_derive::napi;
use serde_json::Value;
use tokio::sync::watch;

use crate::client::cancellable;
use crate::convert::result;
use crate::error::invalid;

struct State {
    client: Client,
    /// The request, until the first `next()` sends it.
    pending: Mutex<Option<ChatRequest>>,
    /// The live stream; `None` before it starts and after it ends. Dropping
    /// it closes the upstream connection.
    stream: tokio::sync::Mutex<Option<ChatStream>>,
    cancel: Arc<watch::Sender<bool>>,
}

/// A streamed chat response.
#[napi]
pub struct NativeStream {
    state: Arc<State>,
}

impl NativeStream {
    pub(crate) fn new(client: Client, req: ChatRequest, cancel: Arc<watch::Sender<bool>>) -> Self {
        NativeStream {
            state: Arc::new(State {
                client,
                pending: Mutex::new(Some(req)),
                stream: tokio::sync::Mutex::new(None),
                cancel,
            }),
        }
    }
}

#[napi]
impl NativeStream {
    /// The next chunk, or `null` once the stream has ended.
    #[napi(ts_return_type = "Promise<any | null>")]
    pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Option<Value>>> {
        let state = Arc::clone(&self.state);
        env.spawn_future(async move {
            let mut rx = state.cancel.subscribe();
            let mut guard = state.stream.lock().await;
            if guard.is_none() {
                let req = state
                    .pending
                    .lock()
                    .map_err(|_| invalid("internal: stream state poisoned"))?
                    .take();
                let Some(req) = req else {
                    return Ok(None);
                };
                let started = cancellable(Some(&mut rx), state.client.chat_stream(req)).await?;
                *guard = Some(started);
            }
            let Some(stream) = guard.as_mut() else {
                return Ok(None);
            };
            let next = cancellable(Some(&mut rx), async { stream.next().await.transpose() }).await;
            match next {
                Ok(Some(chunk)) => Ok(Some(result(&chunk)?)),
                Ok(None) => {
                    *guard = None;
                    Ok(None)
                }
                Err(e) => {
                    *guard = None;
                    Err(e)
                }
            }
        })
    }

    /// Stops the stream: drops the upstream connection now, or as soon as a
    /// pending `next()` notices. Idempotent.
    #[napi]
    pub fn close(&self) {
        self.state.cancel.send_replace(true);
        if let Ok(mut pending) = self.state.pending.lock() {
            pending.take();
        }
        if let Ok(mut stream) = self.state.stream.try_lock() {
            stream.take();
        }
    }
}
