//! The gate that keeps the runtime's threads out of the interpreter once it
//! starts to shut down.
//!
//! The tokio runtime outlives Python: its threads keep running while the
//! interpreter finalizes. A thread that enters the interpreter then — to
//! deliver an awaitable's result, say — is torn down inside CPython:
//! `PyGILState_Release` aborts, or CPython ends the thread with Rust frames on
//! its stack (SIGABRT or SIGSEGV at exit, a few runs in a hundred before this
//! gate). Python runs `atexit` hooks before finalization begins, so the hook
//! registered at import ([`close`]) shuts the gate and waits for the threads
//! already inside to leave; from then on no runtime thread enters.
//!
//! Every entry into the interpreter from a thread Python did not start goes
//! through [`inside`]; the awaitables' results are delivered that way by
//! [`crate::runtime::Tokio`].

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use pyo3::prelude::*;

/// Bit 0: the gate is shut. The rest: twice the number of threads inside.
/// A counter rather than a lock so that entering twice on one thread (a
/// result delivered while a signal check is inside) cannot deadlock.
static STATE: AtomicUsize = AtomicUsize::new(0);
const SHUT: usize = 1;
const ONE: usize = 2;

/// The thread that shut the gate: the one finalizing the interpreter.
static CLOSER: OnceLock<ThreadId> = OnceLock::new();

/// How long [`close`] waits for the threads inside. They only hand a
/// finished result to an event loop, which takes microseconds; the bound
/// keeps an exit from hanging on a Python callback that never returns.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// Runs `f` unless the interpreter is shutting down. `f` may enter the
/// interpreter; `None` means it was not run (and whatever it owns is dropped
/// without entering: pyo3 defers those reference counts).
pub(crate) fn inside<R>(f: impl FnOnce() -> R) -> Option<R> {
    if STATE.fetch_add(ONE, Ordering::AcqRel) & SHUT != 0 {
        STATE.fetch_sub(ONE, Ordering::AcqRel);
        return None;
    }
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            STATE.fetch_sub(ONE, Ordering::AcqRel);
        }
    }
    let _leave = Leave;
    Some(f())
}

/// Called with the GIL released, on a thread about to re-enter Python after
/// a blocking call: once the gate is shut, only the finalizing thread may.
/// Any other thread still running then is a daemon thread, which CPython
/// would end with our frames on its stack as soon as it asked for the GIL;
/// it waits here instead until the process exits, as Python 3.14 makes such
/// threads do.
pub(crate) fn hold_late_threads() {
    if STATE.load(Ordering::Acquire) & SHUT == 0 {
        return;
    }
    if CLOSER.get() == Some(&thread::current().id()) {
        return;
    }
    loop {
        thread::park();
    }
}

/// The `atexit` hook: shuts the gate and waits (GIL released, so they can
/// finish) for the threads inside to leave.
#[pyfunction]
pub(crate) fn close(py: Python<'_>) {
    let _ = CLOSER.set(thread::current().id());
    STATE.fetch_or(SHUT, Ordering::AcqRel);
    py.detach(|| {
        let deadline = Instant::now() + DRAIN_LIMIT;
        while STATE.load(Ordering::Acquire) >= ONE && Instant::now() < deadline {
            thread::sleep(Duration::from_micros(200));
        }
    });
}

/// Registers [`close`] with `atexit`. Hooks run last-registered first, so
/// one registered at import runs after those of the program that imported
/// the package, which may still be using it.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let hook = wrap_pyfunction!(close, m)?;
    m.py().import("atexit")?.call_method1("register", (hook,))?;
    Ok(())
}
