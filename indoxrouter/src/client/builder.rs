//! `Client::builder()`: environment first, explicit settings override.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::config::{self, KNOWN, key_env_for, with_suffix};
use super::{CatalogRef, Client, Inner, Provider};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::provider::{AdapterKind, ApiKey, ProviderConfig, adapter};
use crate::transport::{RetryPolicy, Transport};

#[derive(Debug, Default, Clone)]
struct Override {
    key: Option<ApiKey>,
    base_url: Option<String>,
}

/// Where environment-style settings (`OPENAI_API_KEY`, …) come from.
enum EnvSource {
    Process,
    Nothing,
    Vars(HashMap<String, String>),
}

impl std::fmt::Debug for EnvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnvSource::Process => f.write_str("Process"),
            EnvSource::Nothing => f.write_str("Nothing"),
            // Names only: the values are keys.
            EnvSource::Vars(vars) => {
                let mut names: Vec<&str> = vars.keys().map(String::as_str).collect();
                names.sort_unstable();
                f.debug_tuple("Vars").field(&names).finish()
            }
        }
    }
}

impl EnvSource {
    fn get(&self, name: &str) -> Option<String> {
        let raw = match self {
            EnvSource::Process => std::env::var(name).ok(),
            EnvSource::Nothing => None,
            EnvSource::Vars(vars) => vars.get(name).cloned(),
        };
        // A stray newline from `$(cat key.txt)` would make every request fail.
        raw.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
    }
}

/// Configures a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    env: EnvSource,
    overrides: HashMap<String, Override>,
    compatible: Vec<(String, String, Option<ApiKey>)>,
    timeout: Duration,
    connect_timeout: Duration,
    stream_idle_timeout: Option<Duration>,
    retry: RetryPolicy,
    catalog: Option<Catalog>,
    catalog_files: Vec<PathBuf>,
    hosted: Option<(String, ApiKey)>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            env: EnvSource::Process,
            overrides: HashMap::new(),
            compatible: Vec::new(),
            timeout: Duration::from_secs(600),
            connect_timeout: Duration::from_secs(10),
            stream_idle_timeout: None,
            retry: RetryPolicy::default(),
            catalog: None,
            catalog_files: Vec::new(),
            hosted: None,
        }
    }
}

impl ClientBuilder {
    /// Ignores the environment: only explicit settings count.
    pub fn no_env(mut self) -> Self {
        self.env = EnvSource::Nothing;
        self
    }

    /// Reads the environment-style settings (`OPENAI_API_KEY`,
    /// `INDOXROUTER_PROVIDERS`, …) from these variables instead of the process
    /// environment — for settings kept elsewhere, and for tests.
    pub fn env_vars<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.env = EnvSource::Vars(
            vars.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        self
    }

    /// Sets the key for a provider (`openai`, `mistral`, a compatible provider's name…).
    pub fn api_key(mut self, provider: &str, key: impl Into<String>) -> Self {
        self.overrides.entry(canonical(provider)).or_default().key = Some(ApiKey::new(key));
        self
    }

    /// Sets the base URL for a provider. OpenAI-dialect bases include `/v1`;
    /// Mistral, Anthropic, Gemini and Cohere take the host root, as their SDKs do.
    pub fn base_url(mut self, provider: &str, url: impl Into<String>) -> Self {
        self.overrides
            .entry(canonical(provider))
            .or_default()
            .base_url = Some(url.into());
        self
    }

    /// Adds an OpenAI-compatible provider (Ollama, vLLM, llama.cpp, DeepSeek, Groq…)
    /// addressed as `name/model`. `base_url` includes `/v1`.
    pub fn openai_compatible(
        mut self,
        name: &str,
        base_url: impl Into<String>,
        api_key: Option<String>,
    ) -> Self {
        self.compatible
            .push((canonical(name), base_url.into(), api_key.map(ApiKey::new)));
        self
    }

    /// Time allowed for one attempt of a non-streaming call (connect, send and
    /// read the whole body), and for a stream to start. Each retry gets the
    /// full timeout again, as in the official OpenAI SDKs. Default 600 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time allowed to establish a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Longest silence allowed between stream chunks (defaults to `timeout`).
    pub fn stream_idle_timeout(mut self, timeout: Duration) -> Self {
        self.stream_idle_timeout = Some(timeout);
        self
    }

    /// Retry policy.
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Uses this catalog instead of the built-in one.
    pub fn catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = Some(catalog);
        self
    }

    /// Merges a catalog file (same schema as `providers/*.json`) over the
    /// catalog: adds models or overrides prices without a rebuild.
    pub fn catalog_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.catalog_files.push(path.into());
        self
    }

    /// Hosted mode: send every request to the IndoxRouter server at
    /// `base_url` (its root, e.g. `http://localhost:8000`) with an API key
    /// (`ixr-…`) or an access token. Models are named `provider/model` as in
    /// direct mode; the server holds the provider keys, prices each call and
    /// reports the charge in `cost`. Provider settings on this builder are
    /// ignored.
    pub fn hosted(mut self, base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        let url = base_url.into();
        let root = url.trim_end_matches('/');
        let root = root.strip_suffix("/v1").unwrap_or(root).to_owned();
        self.hosted = Some((root, ApiKey::new(api_key)));
        self
    }

    /// Hosted mode with a username and password: logs in (`POST
    /// /api/v1/auth/login`) and uses the access token it gets. The token
    /// lasts as long as the server's token lifetime (an hour by default);
    /// long-running processes should use an API key with [`Self::hosted`].
    pub async fn hosted_login(
        self,
        base_url: impl Into<String>,
        username: &str,
        password: &str,
    ) -> Result<Client> {
        let url = base_url.into();
        let root = url.trim_end_matches('/');
        let root = root.strip_suffix("/v1").unwrap_or(root).to_owned();
        let probe = self.hosted(root.clone(), "").build()?;
        let token = probe.login(&root, username, password).await?;
        let mut client = probe;
        let inner = Arc::get_mut(&mut client.inner).ok_or_else(|| {
            Error::invalid("internal: the login client was shared before login finished")
        })?;
        if let Some(p) = inner.providers.get_mut(crate::provider::hosted::HOSTED_ID) {
            p.config.api_key = Some(ApiKey::new(token));
        }
        Ok(client)
    }

    /// Builds the client. Fails only on invalid configuration.
    pub fn build(self) -> Result<Client> {
        let env = |name: &str| self.env.get(name);

        let mut providers: HashMap<String, Provider> = HashMap::new();
        let hosted_root = self.hosted.as_ref().map(|(root, _)| root.clone());
        if let Some((root, key)) = self.hosted {
            let config = ProviderConfig {
                id: crate::provider::hosted::HOSTED_ID.to_owned(),
                kind: AdapterKind::OpenAiCompatible,
                base_url: format!("{root}/v1"),
                api_key: Some(key).filter(|k| !k.expose().is_empty()),
            };
            providers.insert(
                config.id.clone(),
                Provider {
                    adapter: &crate::provider::hosted::HOSTED,
                    config,
                },
            );
        }
        for known in KNOWN.iter().filter(|_| hosted_root.is_none()) {
            let Some(kind) = known.kind else { continue };
            let ov = self.overrides.get(known.id).cloned().unwrap_or_default();
            let key = ov.key.or_else(|| {
                known
                    .key_env
                    .and_then(env)
                    .or_else(|| known.alt_key_env.and_then(env))
                    .map(ApiKey::new)
            });
            let needs_key = known.key_env.is_some();
            if needs_key && key.is_none() {
                continue;
            }
            let base_url = match ov.base_url.or_else(|| env(known.base_env)) {
                Some(b) => with_suffix(&b, known.base_suffix),
                None => known.default_base.to_owned(),
            };
            providers.insert(
                known.id.to_owned(),
                Provider::new(ProviderConfig {
                    id: known.id.to_owned(),
                    kind,
                    base_url,
                    api_key: key,
                }),
            );
        }

        let mut compatible = Vec::new();
        if let Some(list) = env("INDOXROUTER_PROVIDERS") {
            let parsed = config::parse_compatible_list(&list)
                .map_err(|m| Error::invalid(format!("INDOXROUTER_PROVIDERS: {m}")))?;
            for (name, url) in parsed {
                let key = env(&key_env_for(&name)).map(ApiKey::new);
                compatible.push((name, url, key));
            }
        }
        compatible.extend(self.compatible);
        if hosted_root.is_some() {
            compatible.clear();
        }
        for (name, url, key) in compatible {
            if matches!(config::known(&name), Some(k) if k.kind != Some(AdapterKind::OpenAiCompatible))
            {
                return Err(Error::invalid(format!(
                    "`{name}` is a built-in provider; use base_url() to point it elsewhere"
                )));
            }
            let ov = self.overrides.get(&name).cloned().unwrap_or_default();
            providers.insert(
                name.clone(),
                Provider::new(ProviderConfig {
                    id: name,
                    kind: AdapterKind::OpenAiCompatible,
                    base_url: ov.base_url.unwrap_or(url),
                    api_key: ov.key.or(key),
                }),
            );
        }

        let mut files = self.catalog_files;
        if let Some(path) = env("INDOXROUTER_CATALOG_FILE") {
            files.push(PathBuf::from(path));
        }
        let catalog = if self.catalog.is_none() && files.is_empty() {
            CatalogRef::Builtin(Catalog::builtin())
        } else {
            let mut catalog = self.catalog.unwrap_or_else(|| Catalog::builtin().clone());
            for path in files {
                catalog
                    .merge_file(&path)
                    .map_err(|e| Error::invalid(format!("catalog file {}: {e}", path.display())))?;
            }
            CatalogRef::Custom(Box::new(catalog))
        };

        let transport = Transport::new(
            self.connect_timeout,
            self.timeout,
            self.stream_idle_timeout.unwrap_or(self.timeout),
            self.retry,
        )?;
        Ok(Client {
            inner: Arc::new(Inner {
                transport,
                providers,
                catalog,
                hosted: hosted_root,
            }),
        })
    }
}

fn canonical(provider: &str) -> String {
    let p = provider.trim().to_ascii_lowercase();
    if p == "gemini" {
        "google".to_owned()
    } else {
        p
    }
}

impl Provider {
    fn new(config: ProviderConfig) -> Self {
        Provider {
            adapter: adapter(config.kind),
            config,
        }
    }
}
