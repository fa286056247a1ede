//! The one tokio runtime every client of the process shares: blocking on it
//! from Python without holding the GIL, and awaitables whose results enter
//! the interpreter only through the exit gate ([`crate::exit`]).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3_async_runtimes::TaskLocals;
use pyo3_async_runtimes::generic::{ContextExt, Runtime as GenericRuntime};
use tokio::runtime::Runtime;
use tokio::sync::OnceCell;
use tokio::task::{JoinError, JoinHandle};

use crate::errors::to_py_err;
use crate::exit;

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
        exit::hold_late_threads();
        let outcome = runtime().block_on(async {
            tokio::pin!(fut);
            let start = tokio::time::Instant::now() + SIGNAL_POLL;
            let mut tick = tokio::time::interval_at(start, SIGNAL_POLL);
            loop {
                tokio::select! {
                    biased;
                    result = &mut fut => return result.map_err(Interrupt::Core),
                    _ = tick.tick() => {
                        let checked = exit::inside(|| Python::attach(|py| py.check_signals()));
                        if let Some(Err(e)) = checked {
                            return Err(Interrupt::Python(e));
                        }
                    }
                }
            }
        });
        exit::hold_late_threads();
        outcome
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

/// An awaitable of `fut`'s output, converted to Python by `convert`. The
/// conversion runs where pyo3-async-runtimes hands the result to the event
/// loop, inside the exit gate: the runtime's threads never enter the
/// interpreter on their own.
pub(crate) fn awaitable<'py, F, C>(
    py: Python<'py>,
    fut: F,
    convert: C,
) -> PyResult<Bound<'py, PyAny>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    C: for<'a> FnOnce(Python<'a>, F::Output) -> PyResult<Py<PyAny>> + Send + 'static,
{
    pyo3_async_runtimes::generic::future_into_py::<Tokio, _, _>(py, async move {
        let out = fut.await;
        Ok(Deferred(move |py: Python<'_>| convert(py, out)))
    })
}

/// A value converted to Python only when the interpreter is entered to
/// deliver it.
struct Deferred<C>(C);

impl<'py, C> IntoPyObject<'py> for Deferred<C>
where
    C: for<'a> FnOnce(Python<'a>) -> PyResult<Py<PyAny>>,
{
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (self.0)(py).map(|obj| obj.into_bound(py))
    }
}

/// The shared runtime as pyo3-async-runtimes sees it. The same as its own
/// tokio runtime but for one thing: the blocking closures that deliver
/// results to Python run inside the exit gate.
pub(crate) struct Tokio;

tokio::task_local! {
    static TASK_LOCALS: OnceCell<TaskLocals>;
}

impl GenericRuntime for Tokio {
    type JoinError = JoinError;
    type JoinHandle = JoinHandle<()>;

    fn spawn<F>(fut: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        runtime().spawn(fut)
    }

    fn spawn_blocking<F>(f: F) -> JoinHandle<()>
    where
        F: FnOnce() + Send + 'static,
    {
        runtime().spawn_blocking(move || {
            let _ = exit::inside(f);
        })
    }
}

impl ContextExt for Tokio {
    fn scope<F, R>(locals: TaskLocals, fut: F) -> Pin<Box<dyn Future<Output = R> + Send>>
    where
        F: Future<Output = R> + Send + 'static,
    {
        Box::pin(TASK_LOCALS.scope(OnceCell::new_with(Some(locals)), fut))
    }

    fn get_task_locals() -> Option<TaskLocals> {
        TASK_LOCALS
            .try_with(|cell| cell.get().cloned())
            .unwrap_or_default()
    }
}
