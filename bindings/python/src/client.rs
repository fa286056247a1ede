//! `NativeClient`: one core `Client`, with each call as a blocking method
//! (GIL released) and as an awaitable (`a`-prefixed). `indoxrouter.Client`
//! and `indoxrouter.AsyncClient` wrap it.

use std::collections::HashMap;
use std::time::Duration;

use indoxrouter::types::{ChatRequest, CompletionRequest, EmbeddingRequest, ImageRequest, Usage};
use indoxrouter::{Client, ClientBuilder, RetryPolicy};
use pyo3::prelude::*;

use crate::convert::{money_result, request, result};
use crate::errors::{invalid, to_py_err};
use crate::runtime::{awaitable, block_on};
use crate::stream::NativeStream;

/// One configured core client. Thread-safe: every method takes `&self` and
/// the core client is shared, so many threads and tasks can use one.
#[pyclass(frozen, module = "indoxrouter._native")]
pub(crate) struct NativeClient {
    client: Client,
}

/// Seconds from Python as a `Duration`, refusing negatives and NaN.
fn seconds(py: Python<'_>, name: &str, value: Option<f64>) -> PyResult<Option<Duration>> {
    value
        .map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                invalid(
                    py,
                    format!("`{name}` must be a non-negative number of seconds"),
                )
            })
        })
        .transpose()
}

/// Runs `$call` on a clone of the core client as an awaitable of its result
/// (or error), converted when the result is delivered to the event loop.
macro_rules! awaitable {
    ($py:expr, $client:expr, |$c:ident| $call:expr) => {{
        let $c = $client.clone();
        awaitable($py, async move { $call.await }, |py, out| match out {
            Ok(v) => result(py, &v),
            Err(e) => Err(to_py_err(py, &e)),
        })
    }};
}

#[pymethods]
impl NativeClient {
    /// Builds a client. See `indoxrouter.Client` for the arguments.
    #[new]
    #[pyo3(signature = (
        *, api_keys=None, base_urls=None, providers=None, timeout=None,
        connect_timeout=None, stream_idle_timeout=None, max_retries=None,
        use_env=true, catalog_file=None, base_url=None, api_key=None,
        username=None, password=None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        api_keys: Option<HashMap<String, String>>,
        base_urls: Option<HashMap<String, String>>,
        providers: Option<HashMap<String, String>>,
        timeout: Option<f64>,
        connect_timeout: Option<f64>,
        stream_idle_timeout: Option<f64>,
        max_retries: Option<u32>,
        use_env: bool,
        catalog_file: Option<String>,
        base_url: Option<String>,
        api_key: Option<String>,
        username: Option<String>,
        password: Option<String>,
    ) -> PyResult<Self> {
        let mut b = Client::builder();
        if !use_env {
            b = b.no_env();
        }
        let keys = api_keys.unwrap_or_default();
        for (name, url) in providers.unwrap_or_default() {
            let key = keys.get(&name).cloned();
            b = b.openai_compatible(&name, url, key);
        }
        for (provider, key) in &keys {
            b = b.api_key(provider, key.clone());
        }
        for (provider, url) in base_urls.unwrap_or_default() {
            b = b.base_url(&provider, url);
        }
        if let Some(t) = seconds(py, "timeout", timeout)? {
            b = b.timeout(t);
        }
        if let Some(t) = seconds(py, "connect_timeout", connect_timeout)? {
            b = b.connect_timeout(t);
        }
        if let Some(t) = seconds(py, "stream_idle_timeout", stream_idle_timeout)? {
            b = b.stream_idle_timeout(t);
        }
        if let Some(n) = max_retries {
            b = b.retry_policy(RetryPolicy {
                max_retries: n,
                ..RetryPolicy::default()
            });
        }
        if let Some(path) = catalog_file {
            b = b.catalog_file(path);
        }
        let client = match (base_url, api_key, username, password) {
            (None, None, None, None) => build(py, b)?,
            (Some(url), Some(key), None, None) => build(py, b.hosted(url, key))?,
            (Some(url), None, Some(user), Some(pass)) => {
                block_on(py, b.hosted_login(url, &user, &pass))?
            }
            _ => {
                return Err(invalid(
                    py,
                    "hosted mode needs `base_url` with either `api_key` or `username` and `password`",
                ));
            }
        };
        Ok(NativeClient { client })
    }

    /// Ids of the providers this client can call.
    fn providers(&self) -> Vec<String> {
        self.client
            .providers()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// Whether this client talks to an IndoxRouter server.
    fn is_hosted(&self) -> bool {
        self.client.is_hosted()
    }

    /// Chat completion, blocking.
    fn chat(&self, py: Python<'_>, req: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let req: ChatRequest = request(py, req)?;
        let resp = block_on(py, self.client.chat(req))?;
        result(py, &resp)
    }

    /// Opens a streamed chat, blocking until the response headers arrive.
    fn chat_stream(&self, py: Python<'_>, req: &Bound<'_, PyAny>) -> PyResult<NativeStream> {
        let req: ChatRequest = request(py, req)?;
        let stream = block_on(py, self.client.chat_stream(req))?;
        Ok(NativeStream::new(stream))
    }

    /// Text completion, blocking.
    fn completion(&self, py: Python<'_>, req: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let req: CompletionRequest = request(py, req)?;
        let resp = block_on(py, self.client.completions(req))?;
        result(py, &resp)
    }

    /// Embeddings, blocking.
    fn embeddings(&self, py: Python<'_>, req: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let req: EmbeddingRequest = request(py, req)?;
        let resp = block_on(py, self.client.embeddings(req))?;
        result(py, &resp)
    }

    /// Image generation, blocking.
    fn images(&self, py: Python<'_>, req: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let req: ImageRequest = request(py, req)?;
        let resp = block_on(py, self.client.images(req))?;
        result(py, &resp)
    }

    /// Hosted mode: the caller's balance, blocking.
    fn balance(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let b = block_on(py, self.client.balance())?;
        result(py, &b)
    }

    /// Hosted mode: a page of usage, blocking.
    #[pyo3(signature = (limit, cursor=None))]
    fn usage(&self, py: Python<'_>, limit: u32, cursor: Option<String>) -> PyResult<Py<PyAny>> {
        let page = block_on(py, self.client.usage(limit, cursor.as_deref()))?;
        result(py, &page)
    }

    /// Chat completion, as an awaitable.
    fn achat<'py>(&self, py: Python<'py>, req: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let req: ChatRequest = request(py, req)?;
        awaitable!(py, self.client, |c| c.chat(req))
    }

    /// Opens a streamed chat, as an awaitable resolving to a `NativeStream`.
    fn achat_stream<'py>(
        &self,
        py: Python<'py>,
        req: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req: ChatRequest = request(py, req)?;
        let client = self.client.clone();
        awaitable(
            py,
            async move { client.chat_stream(req).await },
            |py, out| match out {
                Ok(stream) => Ok(Py::new(py, NativeStream::new(stream))?.into_any()),
                Err(e) => Err(to_py_err(py, &e)),
            },
        )
    }

    /// Text completion, as an awaitable.
    fn acompletion<'py>(
        &self,
        py: Python<'py>,
        req: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req: CompletionRequest = request(py, req)?;
        awaitable!(py, self.client, |c| c.completions(req))
    }

    /// Embeddings, as an awaitable.
    fn aembeddings<'py>(
        &self,
        py: Python<'py>,
        req: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req: EmbeddingRequest = request(py, req)?;
        awaitable!(py, self.client, |c| c.embeddings(req))
    }

    /// Image generation, as an awaitable.
    fn aimages<'py>(
        &self,
        py: Python<'py>,
        req: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req: ImageRequest = request(py, req)?;
        awaitable!(py, self.client, |c| c.images(req))
    }

    /// Hosted mode: the caller's balance, as an awaitable.
    fn abalance<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable!(py, self.client, |c| c.balance())
    }

    /// Hosted mode: a page of usage, as an awaitable.
    #[pyo3(signature = (limit, cursor=None))]
    fn ausage<'py>(
        &self,
        py: Python<'py>,
        limit: u32,
        cursor: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        awaitable!(py, self.client, |c| c.usage(limit, cursor.as_deref()))
    }

    /// Catalog models, optionally of one provider (`gemini` means `google`).
    #[pyo3(signature = (provider=None))]
    fn models(&self, py: Python<'_>, provider: Option<&str>) -> PyResult<Py<PyAny>> {
        let wanted = provider.map(|p| match p.to_ascii_lowercase().as_str() {
            "gemini" => "google".to_owned(),
            other => other.to_owned(),
        });
        let models: Vec<_> = self
            .client
            .models()
            .into_iter()
            .filter(|m| wanted.as_deref().is_none_or(|p| m.provider == p))
            .collect();
        result(py, &models)
    }

    /// Catalog data for `provider/model` or a bare id.
    fn model(&self, py: Python<'_>, id: &str) -> PyResult<Py<PyAny>> {
        let info = self.client.model(id).map_err(|e| to_py_err(py, &e))?;
        result(py, info)
    }

    /// Exact cost of `usage` (OpenAI-shaped dict) on `model`; `None` when unpriced.
    fn cost(&self, py: Python<'_>, model: &str, usage: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let usage: Usage = request(py, usage)?;
        let cost = self
            .client
            .cost(model, &usage)
            .map_err(|e| to_py_err(py, &e))?;
        money_result(py, &cost)
    }
}

fn build(py: Python<'_>, b: ClientBuilder) -> PyResult<Client> {
    // The core's HTTP client registers with the runtime it is built in.
    let _guard = crate::runtime::runtime().enter();
    b.build().map_err(|e| to_py_err(py, &e))
}
