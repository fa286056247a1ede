//! The one tokio runtime every client of the process shares, and blocking on
//! it from Python without holding the GIL.

use std::future::Future;
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::errors::to_py_err;

/// How often a blocking call wakes up to let Python handle Ctrl-C. Python
/// only runs signal handlers when someone calls back into it, and a call
/// blocked in Rust would otherwise ignore Ctrl-C until the provider answers.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// pyo3-async-runtimes' runtime, so sync and async calls share one
/// connection pool: a reqwest client must not be used from two runtimes.
pub(crate) fn runtime() -> &'static Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Runs `fut` to completion with the GIL released, raising the core's error
/// as a Python exception. A pending signal handler that raises (Ctrl-C's
/// `KeyboardInterrupt`) drops the future, which cancels the request.
pub(crate) fn block_on<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = indoxrouter::Result<T>> + Send,
    T: Send,
{
    let outcome = py.detach(|| {
        runtime().block_on(async {
            tokio::pin!(fut);
            let start = tokio::time::Instant::now() + SIGNAL_POLL;
            let mut tick = tokio::time::interval_at(start, SIGNAL_POLL);
            loop {
                tokio::select! {
                    biased;
                    result = &mut fut => return result.map_err(Interrupt::Core),
                    _ = tick.tick() => {
                        if let Err(e) = Python::attach(|py| py.check_signals()) {
                            return Err(Interrupt::Python(e));
                        }
                    }
                }
            }
        })
    });
    outcome.map_err(|e| match e {
        Interrupt::Core(e) => to_py_err(py, &e),
        Interrupt::Python(e) => e,
    })
}

enum Interrupt {
    Core(indoxrouter::Error),
    Python(PyErr),
}
