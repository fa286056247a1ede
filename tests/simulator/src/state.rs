//! What the simulator remembers between requests: queued faults and the
//! request log.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::SimConfig;
use crate::faults::Fault;

/// One provider request as the simulator received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Request path including any query string, e.g. `/openai/v1/chat/completions`.
    pub path: String,
    /// Which provider handled it: `openai`, `mistral`, `anthropic`, `google` or `cohere`.
    pub provider: String,
    /// Headers by lowercase name; credential values are masked.
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON, or `Null` if it was empty or not JSON.
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    faults: VecDeque<(String, Fault)>,
    log: Vec<RecordedRequest>,
}

pub(crate) struct State {
    pub config: SimConfig,
    /// `http://127.0.0.1:PORT`, for URLs the simulator hands out.
    pub root: String,
    inner: Mutex<Inner>,
    /// Numbers requests for ids; never reset, so ids stay unique.
    seq: AtomicU64,
    /// Provider response bodies not yet dropped (see `sse::tracked`).
    open_bodies: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl State {
    pub(crate) fn new(config: SimConfig, root: String) -> State {
        State {
            config,
            root,
            inner: Mutex::new(Inner::default()),
            seq: AtomicU64::new(0),
            open_bodies: Default::default(),
        }
    }

    /// A poisoned lock only means a panic elsewhere mid-update; the log and
    /// queue are still usable, and a test harness shouldn't cascade failures.
    /// The gauge of open response bodies.
    pub(crate) fn open_bodies(&self) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
        std::sync::Arc::clone(&self.open_bodies)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn record(&self, request: RecordedRequest) {
        self.lock().log.push(request);
    }

    pub(crate) fn push_fault(&self, provider: &str, fault: Fault) {
        self.lock()
            .faults
            .push_back((provider.trim().to_ascii_lowercase(), fault));
    }

    /// Removes and returns the oldest fault aimed at `provider` or at `*`.
    pub(crate) fn take_fault(&self, provider: &str) -> Option<Fault> {
        let mut inner = self.lock();
        let at = inner
            .faults
            .iter()
            .position(|(target, _)| target == provider || target == "*")?;
        inner.faults.remove(at).map(|(_, fault)| fault)
    }

    pub(crate) fn pending_faults(&self) -> usize {
        self.lock().faults.len()
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().log.clone()
    }

    pub(crate) fn request_count(&self) -> usize {
        self.lock().log.len()
    }

    pub(crate) fn reset(&self) {
        let mut inner = self.lock();
        inner.faults.clear();
        inner.log.clear();
    }
}
