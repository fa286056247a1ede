//! Python bindings for IndoxRouter (`import indoxrouter`).
//!
//! Deliberately thin: this crate converts Python values to the core's request
//! types, the core's results to plain Python values, and the core's errors to
//! Python exceptions. Everything else — resolution, retries, fallbacks,
//! pricing — is the `indoxrouter` crate's. The typed result classes and the
//! `Client`/`AsyncClient` facades live in `python/indoxrouter/`.

mod client;
mod convert;
mod errors;
mod exit;
mod runtime;
mod stream;

use pyo3::prelude::*;

/// The native module, `indoxrouter._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::NativeClient>()?;
    m.add_class::<stream::NativeStream>()?;
    exit::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
