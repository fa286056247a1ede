//! The [`Client`]: resolves `provider/model`, calls the adapter, sends with
//! retries and fallbacks, and prices the answer.

mod builder;
mod config;
mod hosted;
mod stream;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

pub use builder::ClientBuilder;
pub use hosted::{Balance, UsagePage, UsageRecord};
pub use stream::{ChatStream, ChunkAccumulator};

use futures_util::StreamExt as _;

/// Prompts of one batched completion sent at once.
const COMPLETION_CONCURRENCY: usize = 8;

use crate::catalog::{Catalog, Lookup, Mode, ModelInfo};
use crate::cost::CostBreakdown;
use crate::error::{Error, Result};
use crate::provider::{Adapter, CompletionRoute, ModelLimits, ProviderConfig};
use crate::transport::Transport;
use crate::types::{
    ChatRequest, ChatResponse, CompletionChoice, CompletionRequest, CompletionResponse,
    EmbeddingRequest, EmbeddingResponse, ImageRequest, ImageResponse, Message, Usage,
};

/// A unified client for every configured provider. Cheap to clone; share one.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    providers: HashMap<String, Provider>,
    catalog: CatalogRef,
    /// Hosted mode: the IndoxRouter server's root URL. Every model is then
    /// served by the one hosted provider.
    hosted: Option<String>,
}

/// The built-in catalog is shared, not copied, unless the client changes it.
enum CatalogRef {
    Builtin(&'static Catalog),
    Custom(Box<Catalog>),
}

impl std::ops::Deref for CatalogRef {
    type Target = Catalog;
    fn deref(&self) -> &Catalog {
        match self {
            CatalogRef::Builtin(c) => c,
            CatalogRef::Custom(c) => c,
        }
    }
}

struct Provider {
    config: ProviderConfig,
    adapter: &'static dyn Adapter,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<&str> = self.inner.providers.keys().map(String::as_str).collect();
        ids.sort_unstable();
        f.debug_struct("Client").field("providers", &ids).finish()
    }
}

/// A resolved model: which provider, its own id for the model, and catalog data.
struct Target<'a> {
    provider: &'a Provider,
    model: &'a str,
    info: Option<&'a ModelInfo>,
}

impl Target<'_> {
    fn cfg(&self) -> &ProviderConfig {
        &self.provider.config
    }

    fn limits(&self) -> ModelLimits {
        ModelLimits {
            max_output_tokens: self.info.and_then(|i| i.max_output_tokens),
        }
    }

    /// The cost of `usage` under service tier `tier`; `None` when the model
    /// is unpriced or the provider reported no usage (unknown is not free).
    fn price_tokens(&self, tier: Option<&str>, usage: &Usage) -> Option<CostBreakdown> {
        if usage.is_empty() {
            return None;
        }
        self.info
            .and_then(|i| i.pricing.token_cost_in_tier(tier, usage))
    }
}

impl Client {
    /// A builder that reads keys and base URLs from the environment.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment only.
    pub fn from_env() -> Result<Client> {
        Self::builder().build()
    }

    /// Ids of the providers this client can call.
    pub fn providers(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.inner.providers.keys().map(String::as_str).collect();
        ids.sort_unstable();
        ids
    }

    /// The catalog in use.
    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    /// Every catalog model.
    pub fn models(&self) -> Vec<&ModelInfo> {
        self.inner.catalog.models().collect()
    }

    /// Catalog data for `provider/model` or a bare id.
    pub fn model(&self, id: &str) -> Result<&ModelInfo> {
        let (provider, model) = self.split(id)?;
        self.inner
            .catalog
            .get(provider, model)
            .ok_or_else(|| self.model_not_found(id))
    }

    /// Exact cost of `usage` on `model`; `Ok(None)` when the model is unpriced.
    pub fn cost(&self, model: &str, usage: &Usage) -> Result<Option<CostBreakdown>> {
        Ok(self.model(model)?.pricing.token_cost(usage))
    }

    /// Exact cost of `n` images of `size`/`quality`; `Ok(None)` when unpriced.
    pub fn image_cost(
        &self,
        model: &str,
        n: u32,
        size: Option<&str>,
        quality: Option<&str>,
    ) -> Result<Option<CostBreakdown>> {
        Ok(self.model(model)?.pricing.image_cost(n, size, quality))
    }

    /// Sends a chat request and waits for the whole answer.
    pub async fn chat(&self, req: ChatRequest) -> Result<ChatResponse> {
        self.with_fallbacks(&req.model, &req.fallbacks, |model| {
            self.chat_once(model, &req)
        })
        .await
    }

    /// Starts a streamed chat. Fallbacks apply until the stream has started;
    /// dropping the returned stream cancels the upstream request.
    pub async fn chat_stream(&self, req: ChatRequest) -> Result<ChatStream> {
        self.with_fallbacks(&req.model, &req.fallbacks, |model| {
            self.chat_stream_once(model, &req)
        })
        .await
    }

    /// A text completion: the provider's `/completions` for instruct models,
    /// otherwise a chat call answered in the completions shape.
    pub async fn completions(&self, req: CompletionRequest) -> Result<CompletionResponse> {
        self.with_fallbacks(&req.model, &req.fallbacks, |model| {
            self.completion_once(model, &req)
        })
        .await
    }

    /// Embeds text.
    pub async fn embeddings(&self, req: EmbeddingRequest) -> Result<EmbeddingResponse> {
        self.with_fallbacks(&req.model, &req.fallbacks, |model| {
            self.embeddings_once(model, &req)
        })
        .await
    }

    /// Generates images.
    pub async fn images(&self, req: ImageRequest) -> Result<ImageResponse> {
        self.with_fallbacks(&req.model, &req.fallbacks, |model| {
            self.images_once(model, &req)
        })
        .await
    }

    async fn with_fallbacks<'a, T, F, Fut>(
        &self,
        first: &'a str,
        rest: &'a [String],
        mut call: F,
    ) -> Result<T>
    where
        F: FnMut(&'a str) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut result = call(first).await;
        for next in rest {
            match &result {
                Err(e) if falls_back(e) => result = call(next).await,
                _ => break,
            }
        }
        result
    }

    /// Resolves `model`, builds the request, sends it with retries, and
    /// parses the body. Errors from any step get the client's context.
    async fn call<'a, T>(
        &'a self,
        model: &'a str,
        build: impl FnOnce(&Target<'a>) -> Result<crate::provider::HttpRequest>,
        parse: impl FnOnce(&Target<'a>, &[u8]) -> Result<T>,
    ) -> Result<(Target<'a>, T)> {
        let t = self.target(model)?;
        let http = build(&t)?;
        let parsed = async {
            let body = self
                .inner
                .transport
                .send(t.provider.adapter, t.cfg(), &http)
                .await?;
            parse(&t, &body)
        }
        .await
        .map_err(|e| self.upstream_error(e, model))?;
        Ok((t, parsed))
    }

    async fn chat_once(&self, model: &str, req: &ChatRequest) -> Result<ChatResponse> {
        let (t, mut resp) = self
            .call(
                model,
                |t| {
                    t.provider.adapter.chat_request_with_limits(
                        t.cfg(),
                        t.model,
                        t.limits(),
                        &within_model_limit(req, t.limits().max_output_tokens),
                        false,
                    )
                },
                |t, body| t.provider.adapter.parse_chat(t.cfg(), body),
            )
            .await?;
        // Priced at the tier the provider says served the call (OpenAI
        // reports it on every answer), not the one asked for: a provider may
        // serve a priority request at the standard tier, and adapters that
        // do not forward `service_tier` are always served at the standard one.
        let tier = resp.service_tier.as_deref();
        // Hosted mode: the server's charge, which the adapter read.
        resp.cost = t.price_tokens(tier, &resp.usage).or(resp.cost);
        Ok(resp)
    }

    async fn chat_stream_once(&self, model: &str, req: &ChatRequest) -> Result<ChatStream> {
        let t = self.target(model)?;
        let req = within_model_limit(req, t.limits().max_output_tokens);
        let http = t.provider.adapter.chat_request_with_limits(
            t.cfg(),
            t.model,
            t.limits(),
            &req,
            true,
        )?;
        let resp = self
            .inner
            .transport
            .open_stream(t.provider.adapter, t.cfg(), &http)
            .await
            .map_err(|e| self.upstream_error(e, model))?;
        Ok(ChatStream::new(
            resp,
            t.provider.adapter.stream_parser(t.cfg()),
            t.cfg().id.clone(),
            t.info.map(|i| i.pricing.clone()),
            self.inner.transport.stream_idle_timeout,
        ))
    }

    async fn completion_once(
        &self,
        model: &str,
        req: &CompletionRequest,
    ) -> Result<CompletionResponse> {
        let t = self.target(model)?;
        let native = match t.info {
            Some(info) => info.supports(Mode::Completion) && !info.supports(Mode::Chat),
            None => t.model.contains("instruct"),
        };
        let route = t
            .provider
            .adapter
            .completion_request(t.cfg(), t.model, req, native)?;
        let CompletionRoute::Native(http) = route else {
            return self.completion_via_chat(model, req).await;
        };
        let (t, mut resp) = self
            .call(
                model,
                |_| Ok(http),
                |t, body| t.provider.adapter.parse_completion(t.cfg(), body),
            )
            .await?;
        // Hosted mode: the server's charge, which the adapter read.
        resp.cost = t.price_tokens(None, &resp.usage).or(resp.cost);
        Ok(resp)
    }

    /// Each prompt becomes one user turn; prompts run concurrently and their
    /// choices are numbered as `/completions` numbers them (prompt-major).
    async fn completion_via_chat(
        &self,
        model: &str,
        req: &CompletionRequest,
    ) -> Result<CompletionResponse> {
        let prompts = req.prompt.as_vec();
        if prompts.is_empty() {
            return Err(Error::InvalidRequest {
                provider: None,
                message: "`prompt` must contain at least one prompt".into(),
                param: Some("prompt".into()),
            });
        }
        // Collected first: a lazy `Map` adaptor held across the await below
        // would make this future `Send` only for one specific lifetime, which
        // servers spawning it (indoxrouter-server) cannot use.
        let calls: Vec<_> = prompts
            .iter()
            .map(|p| {
                let chat = ChatRequest {
                    model: model.to_owned(),
                    messages: vec![Message::user(*p)],
                    temperature: req.temperature,
                    top_p: req.top_p,
                    max_tokens: req.max_tokens,
                    stop: req.stop.clone(),
                    seed: req.seed,
                    n: req.n,
                    user: req.user.clone(),
                    extra: req.extra.clone(),
                    ..Default::default()
                };
                async move { self.chat_once(model, &chat).await }
            })
            .collect();
        // A few prompts at a time: a batch of thousands must not open
        // thousands of connections at once. `buffered` keeps prompt order.
        let results: Vec<Result<ChatResponse>> = futures_util::stream::iter(calls)
            .buffered(COMPLETION_CONCURRENCY)
            .collect()
            .await;
        // Prompts that were answered were billed by the provider, so one
        // failure must not discard the others: the answer keeps every
        // success and lists the failures in `failed_prompts`. Only when
        // every prompt failed is the call an error.
        let mut answers = Vec::with_capacity(results.len());
        let mut failed = Vec::new();
        let mut first_error = None;
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(answer) => answers.push((i, answer)),
                Err(e) => {
                    failed.push(serde_json::json!({
                        "index": i,
                        "code": e.code(),
                        "message": e.to_string(),
                    }));
                    first_error.get_or_insert(e);
                }
            }
        }
        if answers.is_empty() {
            if let Some(e) = first_error {
                return Err(e);
            }
        }
        let n = req.n.unwrap_or(1).max(1);
        let mut out = CompletionResponse {
            id: String::new(),
            object: "text_completion".into(),
            created: 0,
            model: String::new(),
            choices: Vec::new(),
            usage: Usage::default(),
            provider: String::new(),
            cost: None,
            extra: Default::default(),
        };
        let mut cost: Option<CostBreakdown> = Some(CostBreakdown::default());
        if !failed.is_empty() {
            out.extra
                .insert("failed_prompts".into(), serde_json::Value::Array(failed));
        }
        for (k, (i, answer)) in answers.into_iter().enumerate() {
            if k == 0 {
                out.id = answer.id.replacen("chatcmpl", "cmpl", 1);
                out.created = answer.created;
                out.model.clone_from(&answer.model);
                out.provider.clone_from(&answer.provider);
            }
            out.usage.add(&answer.usage);
            cost = match (cost, answer.cost) {
                (Some(acc), Some(c)) => Some(acc.combine(&c)),
                _ => None,
            };
            for choice in answer.choices {
                out.choices.push(CompletionChoice {
                    text: choice.message.text().unwrap_or_default(),
                    index: u32::try_from(i)
                        .unwrap_or(u32::MAX)
                        .saturating_mul(n)
                        .saturating_add(choice.index),
                    finish_reason: choice.finish_reason,
                    logprobs: choice.logprobs,
                });
            }
        }
        out.cost = cost;
        Ok(out)
    }

    async fn embeddings_once(
        &self,
        model: &str,
        req: &EmbeddingRequest,
    ) -> Result<EmbeddingResponse> {
        let (t, mut resp) = self
            .call(
                model,
                |t| t.provider.adapter.embeddings_request(t.cfg(), t.model, req),
                |t, body| t.provider.adapter.parse_embeddings(t.cfg(), body),
            )
            .await?;
        if resp.model.is_empty() {
            resp.model = t.model.to_owned();
        }
        // Hosted mode: the server's charge, which the adapter read.
        resp.cost = t.price_tokens(None, &resp.usage).or(resp.cost);
        Ok(resp)
    }

    async fn images_once(&self, model: &str, req: &ImageRequest) -> Result<ImageResponse> {
        let (t, mut resp) = self
            .call(
                model,
                |t| t.provider.adapter.image_request(t.cfg(), t.model, req),
                |t, body| t.provider.adapter.parse_images(t.cfg(), body),
            )
            .await?;
        resp.model = t.model.to_owned();
        let server_cost = resp.cost.take();
        resp.cost = t.info.and_then(|info| {
            // Token-priced models (gpt-image) report usage; the rest are per image.
            let by_tokens = resp
                .usage
                .as_ref()
                .filter(|u| !u.is_empty())
                .and_then(|u| info.pricing.token_cost(u));
            by_tokens.or_else(|| {
                let n = u32::try_from(resp.data.len()).unwrap_or(u32::MAX);
                info.pricing
                    .image_cost(n, req.size.as_deref(), req.quality.as_deref())
            })
        });
        // Hosted mode: the server's charge, which the adapter read.
        resp.cost = resp.cost.or(server_cost);
        Ok(resp)
    }

    /// Splits `provider/model` (or resolves a bare id) into catalog provider
    /// and model ids. The provider part is matched case-insensitively and
    /// `gemini` means `google`.
    fn split<'a>(&'a self, id: &'a str) -> Result<(&'a str, &'a str)> {
        if let Some((p, m)) = id.split_once('/')
            && let Some(p) = self.provider_id(p)
        {
            return Ok((p, m));
        }
        match self.inner.catalog.lookup(id) {
            Lookup::Found(info) => Ok((info.provider.as_str(), info.id.as_str())),
            Lookup::Ambiguous(choices) => Err(Error::InvalidRequest {
                provider: None,
                message: format!(
                    "model `{id}` is offered by several providers; name one of: {}",
                    choices.join(", ")
                ),
                param: Some("model".into()),
            }),
            Lookup::NotFound { suggestions } => Err(Error::ModelNotFound {
                model: id.to_owned(),
                suggestions,
            }),
        }
    }

    /// The canonical id of a provider this client or the catalog knows.
    fn provider_id<'a>(&'a self, name: &str) -> Option<&'a str> {
        let name = crate::catalog::canonical_provider(name);
        if let Some((id, _)) = self.inner.providers.get_key_value(name) {
            return Some(id);
        }
        if let Some(k) = config::KNOWN
            .iter()
            .find(|k| k.id.eq_ignore_ascii_case(name))
        {
            return Some(k.id);
        }
        if let Some(p) = self.inner.catalog.provider(name) {
            return Some(&p.id);
        }
        // Rare path: mixed case, e.g. `OpenAI/gpt-4o`.
        let lower = name.to_ascii_lowercase();
        let lower = crate::catalog::canonical_provider(&lower);
        self.inner
            .providers
            .get_key_value(lower)
            .map(|(id, _)| id.as_str())
            .or_else(|| self.inner.catalog.provider(lower).map(|p| p.id.as_str()))
    }

    fn target<'a>(&'a self, id: &'a str) -> Result<Target<'a>> {
        if self.inner.hosted.is_some()
            && let Some(provider) = self.inner.providers.get(crate::provider::hosted::HOSTED_ID)
        {
            // The server resolves ids (and prices) itself.
            return Ok(Target {
                provider,
                model: id,
                info: None,
            });
        }
        let (provider_id, model) = self.split(id)?;
        if model.is_empty() {
            return Err(Error::InvalidRequest {
                provider: None,
                message: format!("`{id}` names no model; use `provider/model`"),
                param: Some("model".into()),
            });
        }
        let Some(provider) = self.inner.providers.get(provider_id) else {
            return Err(match config::known(provider_id) {
                Some(k) if k.kind.is_none() => Error::Unsupported {
                    provider: provider_id.to_owned(),
                    capability: "requests (its adapter is not in this release yet)".into(),
                },
                Some(k) => Error::NotConfigured {
                    provider: provider_id.to_owned(),
                    env_var: k.key_env.unwrap_or(k.base_env).to_owned(),
                },
                None => Error::NotConfigured {
                    provider: provider_id.to_owned(),
                    env_var: "INDOXROUTER_PROVIDERS (name=base_url)".into(),
                },
            });
        };
        Ok(Target {
            provider,
            model,
            info: self.inner.catalog.get(provider_id, model),
        })
    }

    fn model_not_found(&self, id: &str) -> Error {
        let mut suggestions = self.inner.catalog.suggestions(id);
        // The provider may not serve a model the catalog knows (retired, no access).
        suggestions.retain(|s| s != id);
        Error::ModelNotFound {
            model: id.to_owned(),
            suggestions,
        }
    }

    /// Fills in what only the client knows about an upstream `model_not_found`.
    fn upstream_error(&self, e: Error, model: &str) -> Error {
        match e {
            Error::ModelNotFound { model: m, .. } if m.is_empty() => self.model_not_found(model),
            other => other,
        }
    }
}

/// Whether the next fallback model should be tried after `e`. A malformed
/// request would fail the same way everywhere, so it is returned at once.
fn falls_back(e: &Error) -> bool {
    !matches!(e, Error::InvalidRequest { provider: None, .. })
}

/// `req` with its output limit lowered to the model's catalog maximum where
/// it asks for more. A fallback whose maximum is below the first
/// candidate's must not be sent a limit it cannot honour: providers refuse
/// it, and a gateway's hold for that candidate assumes its own maximum.
fn within_model_limit(req: &ChatRequest, max: Option<u64>) -> std::borrow::Cow<'_, ChatRequest> {
    use std::borrow::Cow;
    let Some(max) = max else {
        return Cow::Borrowed(req);
    };
    let over_tokens = req.max_tokens.is_some_and(|m| u64::from(m) > max);
    let over_completion = req
        .extra
        .get("max_completion_tokens")
        .and_then(serde_json::Value::as_u64)
        .is_some_and(|m| m > max);
    if !over_tokens && !over_completion {
        return Cow::Borrowed(req);
    }
    let cap = u32::try_from(max).unwrap_or(u32::MAX);
    let mut lowered = req.clone();
    if over_tokens {
        lowered.max_tokens = Some(cap);
    }
    if over_completion {
        lowered
            .extra
            .insert("max_completion_tokens".into(), serde_json::Value::from(cap));
    }
    Cow::Owned(lowered)
}
