//! The core's errors as the Python exception classes of
//! `indoxrouter._errors`, which carry `.code`, `.status`, `.provider` and,
//! for rate limits, `.retry_after`.

use indoxrouter::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyModule};

static ERRORS: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The exception class name for a core error.
fn class_name(e: &Error) -> &'static str {
    match e.kind() {
        ErrorKind::Authentication => "AuthenticationError",
        ErrorKind::Permission => "PermissionDeniedError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::ModelNotFound => "ModelNotFoundError",
        ErrorKind::InvalidRequest => "InvalidParametersError",
        ErrorKind::RateLimited => "RateLimitError",
        ErrorKind::InsufficientQuota => "InsufficientCreditsError",
        // No HTTP status means no response at all: the network failed.
        ErrorKind::ProviderUnavailable => match e {
            Error::ProviderUnavailable { status: None, .. } => "NetworkError",
            _ => "ProviderError",
        },
        ErrorKind::Timeout => "TimeoutError",
        ErrorKind::StreamInterrupted => "StreamInterruptedError",
        ErrorKind::Decode => "ResponseDecodeError",
        ErrorKind::Unsupported => "UnsupportedError",
        ErrorKind::NotConfigured => "ProviderNotFoundError",
        // ErrorKind is non-exhaustive: a kind added to the core later is
        // still an IndoxRouterError with its own code.
        _ => "IndoxRouterError",
    }
}

/// Converts a core error into the matching Python exception.
pub(crate) fn to_py_err(py: Python<'_>, e: &Error) -> PyErr {
    match build(py, e) {
        Ok(err) => err,
        // Only if `indoxrouter._errors` itself is broken; say what failed.
        Err(import_error) => import_error,
    }
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let errors = errors_module(py)?;
    let class = errors.getattr(class_name(e))?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("code", e.code())?;
    kwargs.set_item("status", e.http_status())?;
    kwargs.set_item("provider", e.provider())?;
    kwargs.set_item("retry_after", e.retry_after().map(|d| d.as_secs_f64()))?;
    match e {
        Error::ModelNotFound { suggestions, .. } => kwargs.set_item("suggestions", suggestions)?,
        Error::InvalidRequest { param, .. } => kwargs.set_item("param", param)?,
        Error::ProviderUnavailable { status, .. } => {
            kwargs.set_item("upstream_status", status)?;
        }
        _ => {}
    }
    let instance = class.call((e.to_string(),), Some(&kwargs))?;
    Ok(PyErr::from_value(instance))
}

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    ERRORS
        .get_or_try_init(py, || {
            PyModule::import(py, "indoxrouter._errors").map(Bound::unbind)
        })
        .map(|m| m.bind(py))
}

/// A client-side error that is not the core's: a bad argument from Python.
pub(crate) fn invalid(py: Python<'_>, message: impl Into<String>) -> PyErr {
    to_py_err(py, &Error::invalid(message))
}
