//! `NativeClient`: the core `Client` behind napi, and call cancellation.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use indoxrouter::types::{ChatRequest, CompletionRequest, EmbeddingRequest, ImageRequest, Usage};
use indoxrouter::{Client, ClientBuilder, RetryPolicy};
use napi::bindgen_prelude::PromiseRaw;
use napi::{Env, Result};
use napi_derive::napi;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;

use crate::convert::{request, result};
use crate::error::{aborted, invalid, to_napi};
use crate::stream::NativeStream;

/// An OpenAI-compatible provider (Ollama, vLLM, Groq…), addressed as `name/model`.
#[napi(object)]
pub struct CompatibleProvider {
    /// Base URL including `/v1`.
    pub base_url: String,
    /// Key, when the endpoint needs one.
    pub api_key: Option<String>,
}

/// Client settings. Durations are milliseconds.
#[napi(object)]
pub struct ClientOptions {
    /// Provider id → API key; overrides the environment.
    pub api_keys: Option<HashMap<String, String>>,
    /// Provider id → base URL; overrides the environment.
    pub base_urls: Option<HashMap<String, String>>,
    /// Extra OpenAI-compatible providers by name.
    pub providers: Option<HashMap<String, CompatibleProvider>>,
    /// Environment-style settings (`OPENAI_API_KEY`, …). The JS layer passes
    /// `process.env` unless told otherwise; absent means none.
    pub env: Option<HashMap<String, String>>,
    /// Per-attempt timeout for a call, and for a stream to start.
    pub timeout: Option<f64>,
    /// Connection timeout.
    pub connect_timeout: Option<f64>,
    /// Longest silence allowed between stream chunks.
    pub stream_idle_timeout: Option<f64>,
    /// Retries after the first attempt (default 2).
    pub max_retries: Option<u32>,
    /// Catalog file merged over the built-in catalog.
    pub catalog_file: Option<String>,
    /// Hosted mode: the IndoxRouter server's root URL.
    pub base_url: Option<String>,
    /// Hosted mode: an `ixr-…` API key or an access token.
    pub api_key: Option<String>,
}

fn millis(name: &str, ms: Option<f64>) -> Result<Option<Duration>> {
    match ms {
        None => Ok(None),
        Some(ms) if ms.is_finite() && ms >= 0.0 => Ok(Some(Duration::from_secs_f64(ms / 1000.0))),
        Some(ms) => Err(invalid(format!(
            "`{name}` must be a non-negative number of milliseconds, got {ms}"
        ))),
    }
}

fn builder(options: ClientOptions) -> Result<ClientBuilder> {
    let mut b = match options.env {
        Some(env) => Client::builder().env_vars(env),
        None => Client::builder().no_env(),
    };
    for (provider, key) in options.api_keys.unwrap_or_default() {
        b = b.api_key(&provider, key);
    }
    for (provider, url) in options.base_urls.unwrap_or_default() {
        b = b.base_url(&provider, url);
    }
    for (name, p) in options.providers.unwrap_or_default() {
        b = b.openai_compatible(&name, p.base_url, p.api_key);
    }
    if let Some(t) = millis("timeout", options.timeout)? {
        b = b.timeout(t);
    }
    if let Some(t) = millis("connectTimeout", options.connect_timeout)? {
        b = b.connect_timeout(t);
    }
    if let Some(t) = millis("streamIdleTimeout", options.stream_idle_timeout)? {
        b = b.stream_idle_timeout(t);
    }
    if let Some(n) = options.max_retries {
        b = b.retry_policy(RetryPolicy {
            max_retries: n,
            ..RetryPolicy::default()
        });
    }
    if let Some(path) = options.catalog_file {
        b = b.catalog_file(path);
    }
    match (options.base_url, options.api_key) {
        (Some(url), Some(key)) => b = b.hosted(url, key),
        (None, None) => {}
        (Some(_), None) => return Err(invalid("hosted mode needs `apiKey` with `baseUrl`")),
        (None, Some(_)) => {
            return Err(invalid(
                "`apiKey` is for hosted mode (with `baseUrl`); provider keys go in `apiKeys`",
            ));
        }
    }
    Ok(b)
}

/// Lets JavaScript cancel an in-flight call (an `AbortSignal` calls `cancel`).
#[napi]
pub struct Cancel {
    tx: Arc<watch::Sender<bool>>,
}

#[napi]
impl Cancel {
    /// A token not yet cancelled.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Cancel {
            tx: Arc::new(watch::channel(false).0),
        }
    }

    /// Cancels the call; its Promise rejects with `AbortError` and the
    /// upstream request is dropped.
    #[napi]
    pub fn cancel(&self) {
        self.tx.send_replace(true);
    }
}

/// Runs `fut` until it finishes or `cancel` fires; dropping the future on
/// cancellation drops the upstream connection with it.
pub(crate) async fn cancellable<T>(
    cancel: Option<&mut watch::Receiver<bool>>,
    fut: impl Future<Output = indoxrouter::Result<T>>,
) -> Result<T> {
    match cancel {
        None => fut.await.map_err(to_napi),
        Some(rx) => tokio::select! {
            biased;
            _ = rx.wait_for(|c| *c) => Err(aborted()),
            r = fut => r.map_err(to_napi),
        },
    }
}

/// The core client. The package's `Client` class wraps it.
#[napi]
pub struct NativeClient {
    inner: Client,
}

#[napi]
impl NativeClient {
    /// Builds a client; fails only on invalid settings.
    #[napi(constructor)]
    pub fn new(options: ClientOptions) -> Result<Self> {
        let inner = builder(options)?.build().map_err(to_napi)?;
        Ok(NativeClient { inner })
    }

    /// Ids of the providers this client can call.
    #[napi]
    pub fn providers(&self) -> Vec<String> {
        self.inner
            .providers()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }

    /// Whether this client talks to an IndoxRouter server.
    #[napi]
    pub fn is_hosted(&self) -> bool {
        self.inner.is_hosted()
    }

    /// Chat completion.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn chat<'env>(
        &self,
        env: &'env Env,
        req: Value,
        cancel: Option<&Cancel>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let req: ChatRequest = request(req)?;
        let client = self.inner.clone();
        spawn(env, cancel, async move { client.chat(req).await })
    }

    /// Text completion.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn completion<'env>(
        &self,
        env: &'env Env,
        req: Value,
        cancel: Option<&Cancel>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let req: CompletionRequest = request(req)?;
        let client = self.inner.clone();
        spawn(env, cancel, async move { client.completions(req).await })
    }

    /// Embeddings.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn embeddings<'env>(
        &self,
        env: &'env Env,
        req: Value,
        cancel: Option<&Cancel>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let req: EmbeddingRequest = request(req)?;
        let client = self.inner.clone();
        spawn(env, cancel, async move { client.embeddings(req).await })
    }

    /// Image generation.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn images<'env>(
        &self,
        env: &'env Env,
        req: Value,
        cancel: Option<&Cancel>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let req: ImageRequest = request(req)?;
        let client = self.inner.clone();
        spawn(env, cancel, async move { client.images(req).await })
    }

    /// A streamed chat; nothing is sent until the first `next()`.
    #[napi]
    pub fn chat_stream(&self, req: Value, cancel: Option<&Cancel>) -> Result<NativeStream> {
        let req: ChatRequest = request(req)?;
        let cancel = cancel.map_or_else(|| Arc::new(watch::channel(false).0), |c| c.tx.clone());
        Ok(NativeStream::new(self.inner.clone(), req, cancel))
    }

    /// Hosted mode: the caller's balance.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn balance<'env>(
        &self,
        env: &'env Env,
        cancel: Option<&Cancel>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let client = self.inner.clone();
        spawn(env, cancel, async move { client.balance().await })
    }

    /// Hosted mode: a page of the caller's usage, newest first.
    #[napi(ts_return_type = "Promise<any>")]
    pub fn usage<'env>(
        &self,
        env: &'env Env,
        limit: u32,
        cursor: Option<String>,
        cancel: Option<&Cancel>,
    ) -> Result<PromiseRaw<'env, Value>> {
        let client = self.inner.clone();
        spawn(env, cancel, async move {
            client.usage(limit, cursor.as_deref()).await
        })
    }

    /// Catalog models, optionally of one provider.
    #[napi]
    pub fn models(&self, provider: Option<String>) -> Result<Value> {
        let models: Vec<_> = self
            .inner
            .models()
            .into_iter()
            .filter(|m| provider.as_deref().is_none_or(|p| m.provider == p))
            .collect();
        result(&models)
    }

    /// Catalog data for `provider/model` or a bare id.
    #[napi]
    pub fn model(&self, id: String) -> Result<Value> {
        result(self.inner.model(&id).map_err(to_napi)?)
    }

    /// Exact cost of `usage` on `model`; `null` when the model is unpriced.
    #[napi]
    pub fn cost(&self, model: String, usage: Value) -> Result<Value> {
        let usage: Usage = request(usage)?;
        result(&self.inner.cost(&model, &usage).map_err(to_napi)?)
    }

    /// Exact cost of `n` images; `null` when unpriced.
    #[napi]
    pub fn image_cost(
        &self,
        model: String,
        n: u32,
        size: Option<String>,
        quality: Option<String>,
    ) -> Result<Value> {
        let cost = self
            .inner
            .image_cost(&model, n, size.as_deref(), quality.as_deref())
            .map_err(to_napi)?;
        result(&cost)
    }
}

/// Hosted mode with a username and password: logs in and returns a client
/// holding the access token.
#[napi(ts_return_type = "Promise<NativeClient>")]
pub fn hosted_login<'env>(
    env: &'env Env,
    options: ClientOptions,
    username: String,
    password: String,
) -> Result<PromiseRaw<'env, NativeClient>> {
    let Some(url) = options.base_url.clone() else {
        return Err(invalid("login needs `baseUrl`"));
    };
    let b = builder(ClientOptions {
        base_url: None,
        api_key: None,
        ..options
    })?;
    env.spawn_future(async move {
        let inner = b
            .hosted_login(url, &username, &password)
            .await
            .map_err(to_napi)?;
        Ok(NativeClient { inner })
    })
}

fn spawn<'env, T, F>(
    env: &'env Env,
    cancel: Option<&Cancel>,
    fut: F,
) -> Result<PromiseRaw<'env, Value>>
where
    T: Serialize,
    F: Future<Output = indoxrouter::Result<T>> + Send + 'static,
{
    let mut rx = cancel.map(|c| c.tx.subscribe());
    env.spawn_future(async move {
        let value = cancellable(rx.as_mut(), fut).await?;
        result(&value)
    })
}
