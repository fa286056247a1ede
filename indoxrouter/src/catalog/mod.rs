//! The model catalog: every provider and model IndoxRouter knows, with limits,
//! capabilities and exact prices.
//!
//! The built-in catalog is `providers/*.json`, embedded at build time and
//! parsed once ([`Catalog::builtin`]). A copy can be extended or corrected at
//! runtime with files in the same schema ([`Catalog::merge_file`]). Lookups by
//! `provider/model` or by a bare model id are hash lookups that do not
//! allocate when they hit.

mod resolve;
mod schema;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::cost::{PriceError, Pricing};
use schema::{ModelEntry, ProviderFile};

/// The embedded provider files, as `(provider id, JSON)`.
const BUILTIN_FILES: [(&str, &str); 5] = [
    ("openai", include_str!("../../catalog/openai.json")),
    ("anthropic", include_str!("../../catalog/anthropic.json")),
    ("google", include_str!("../../catalog/google.json")),
    ("cohere", include_str!("../../catalog/cohere.json")),
    ("mistral", include_str!("../../catalog/mistral.json")),
];

/// How many suggestions a failed [`Catalog::lookup`] returns at most.
const MAX_SUGGESTIONS: usize = 5;

/// Maps provider aliases to catalog provider ids (`gemini` → `google`, as in
/// LiteLLM's `gemini/` prefix).
pub fn canonical_provider(id: &str) -> &str {
    match id {
        "gemini" => "google",
        other => other,
    }
}

/// A provider: who serves the models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInfo {
    /// Catalog id: `openai`, `anthropic`, `google`, `cohere`, `mistral`, …
    pub id: String,
    /// Display name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Home page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
}

/// What kind of API call a model serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Chat completions.
    Chat,
    /// Legacy text completions.
    Completion,
    /// Embeddings.
    Embedding,
    /// Image generation.
    Image,
}

impl Mode {
    /// The catalog's name for the mode (`"chat"`, `"completion"`, `"embedding"`, `"image"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Chat => "chat",
            Mode::Completion => "completion",
            Mode::Embedding => "embedding",
            Mode::Image => "image",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a model supports beyond plain text in and out. Unknown = `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Capabilities {
    /// Tool (function) calling.
    pub tools: bool,
    /// Image input.
    pub vision: bool,
    /// Structured output (JSON schema).
    pub json: bool,
    /// Streaming responses.
    pub streaming: bool,
    /// Reasoning ("thinking") tokens.
    pub reasoning: bool,
    /// Prompt caching.
    pub prompt_caching: bool,
}

/// One model of one provider.
///
/// Serializes in the catalog file schema (plus `provider`), with prices as
/// USD-per-1M-token strings, so the output can be merged back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    /// Provider id (`openai`, …).
    pub provider: String,
    /// Model id as the provider's API expects it (may contain `/`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// The API calls the model serves; never empty.
    pub modes: Vec<Mode>,
    /// Supported features.
    pub capabilities: Capabilities,
    /// Maximum input tokens, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// Maximum output tokens, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// Embedding dimensions, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_vector_size: Option<u64>,
    /// Prices.
    pub pricing: Pricing,
    /// Date (`YYYY-MM-DD`) the provider deprecates or retires the model, if announced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprecation_date: Option<String>,
    /// Where the prices and limits come from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl ModelInfo {
    /// `provider/id`.
    pub fn full_id(&self) -> String {
        format!("{}/{}", self.provider, self.id)
    }

    /// True if the model serves `mode` calls.
    pub fn supports(&self, mode: Mode) -> bool {
        self.modes.contains(&mode)
    }
}

/// The result of resolving a user-supplied model name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'a> {
    /// Exactly one model matches.
    Found(&'a ModelInfo),
    /// A bare id served by several providers; the full ids to choose from.
    Ambiguous(Vec<String>),
    /// No model matches; up to 5 similar full ids.
    NotFound {
        /// Closest full ids, best first; may be empty.
        suggestions: Vec<String>,
    },
}

impl<'a> Lookup<'a> {
    /// The model, if exactly one matched.
    pub fn found(&self) -> Option<&'a ModelInfo> {
        match self {
            Lookup::Found(m) => Some(m),
            _ => None,
        }
    }
}

/// Why a catalog file could not be loaded or merged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The text is not valid JSON or not a provider file.
    #[error("invalid catalog JSON{}: {source}", file_suffix(file))]
    Json {
        /// The file, when known.
        file: Option<String>,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// A price is not a non-negative decimal with whole pico-dollars per token.
    #[error("invalid price for {model} field {field} ({value:?}): {source}")]
    InvalidPrice {
        /// `provider/id`.
        model: String,
        /// Pricing field, e.g. `cached_input` or `tiers[above_tokens=200000].input`.
        field: String,
        /// The offending value (truncated).
        value: String,
        /// What is wrong with it.
        source: PriceError,
    },
    /// A model entry is missing something or contradicts itself.
    #[error("invalid model {model}: {reason}")]
    InvalidModel {
        /// `provider/id` (as far as known).
        model: String,
        /// What is wrong.
        reason: String,
    },
    /// The file could not be read.
    #[error("cannot read catalog file {}: {source}", path.display())]
    Io {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

fn file_suffix(file: &Option<String>) -> String {
    file.as_ref()
        .map(|f| format!(" in {f}"))
        .unwrap_or_default()
}

/// Providers and models, indexed for constant-time lookup.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Sorted by id.
    providers: Vec<ProviderInfo>,
    /// Sorted by (provider, id).
    models: Vec<ModelInfo>,
    /// provider id → model id → index into `models`. Two levels so that both
    /// `get(provider, model)` and `lookup("provider/model")` hit without
    /// building a key string.
    by_provider: HashMap<String, HashMap<String, usize>>,
    /// bare model id → indexes of every model with that id.
    bare: HashMap<String, Vec<usize>>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Catalog::default()
    }

    /// The built-in catalog (`providers/*.json` embedded at build time),
    /// parsed on first use.
    ///
    /// An embedded file that fails to parse is a bug caught by this module's
    /// tests; should it happen anyway, that provider is present with no models
    /// instead of the process panicking.
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: OnceLock<Catalog> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            let mut catalog = Catalog::new();
            for (provider, json) in BUILTIN_FILES {
                if catalog.merge_named(json, Some(provider)).is_err() {
                    catalog.ensure_provider(provider);
                    catalog.reindex();
                }
            }
            catalog
        })
    }

    /// A catalog built from provider files (same schema as `providers/*.json`),
    /// merged in order.
    pub fn from_json(files: &[&str]) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::new();
        for json in files {
            catalog.merge_json(json)?;
        }
        Ok(catalog)
    }

    /// Merges one provider file into this catalog.
    ///
    /// The file needs only `provider` and `models`; `name`, `description` and
    /// `website`, when present, update the provider (a new provider without a
    /// name is named by its id). A model entry whose id already exists under
    /// this provider is overlaid on the existing model key by key: keys present
    /// in the entry (including `null`) replace the old values, absent keys keep
    /// them, and `pricing` is replaced as a whole. New models need at least `id`
    /// and `modes`. The merge is all-or-nothing: on error the catalog is unchanged.
    pub fn merge_json(&mut self, json: &str) -> Result<(), CatalogError> {
        self.merge_named(json, None)
    }

    /// Reads a provider file and merges it (see [`merge_json`](Self::merge_json)).
    pub fn merge_file(&mut self, path: &Path) -> Result<(), CatalogError> {
        let json = std::fs::read_to_string(path).map_err(|source| CatalogError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.merge_named(&json, Some(&path.display().to_string()))
    }

    fn merge_named(&mut self, json: &str, file: Option<&str>) -> Result<(), CatalogError> {
        let parsed: ProviderFile =
            serde_json::from_str(json).map_err(|source| CatalogError::Json {
                file: file.map(str::to_owned),
                source,
            })?;
        let provider = canonical_provider(parsed.provider.trim()).to_owned();
        if provider.is_empty() || provider.contains('/') {
            return Err(CatalogError::InvalidModel {
                model: parsed.provider,
                reason: "provider id must be non-empty and contain no '/'".to_owned(),
            });
        }

        // Stage every model first so a bad entry leaves the catalog untouched.
        let mut staged: Vec<ModelInfo> = Vec::with_capacity(parsed.models.len());
        let mut staged_index: HashMap<String, usize> = HashMap::new();
        for entry in parsed.models {
            let id = entry.get("id").and_then(|v| v.as_str()).map(str::to_owned);
            let base = match &id {
                Some(id) => match staged_index.get(id) {
                    Some(&i) => Some(&staged[i]),
                    None => self.get(&provider, id),
                },
                None => None,
            };
            let merged = match base {
                Some(old) => overlay(old, entry),
                None => serde_json::Value::Object(entry),
            };
            let model = serde_json::from_value::<ModelEntry>(merged)
                .map_err(|e| CatalogError::InvalidModel {
                    model: format!("{provider}/{}", id.as_deref().unwrap_or("<missing id>")),
                    reason: e.to_string(),
                })?
                .into_model(&provider)?;
            match staged_index.get(&model.id) {
                Some(&i) => staged[i] = model,
                None => {
                    staged_index.insert(model.id.clone(), staged.len());
                    staged.push(model);
                }
            }
        }

        let info = self.ensure_provider(&provider);
        if let Some(name) = parsed.name {
            info.name = name;
        }
        if let Some(description) = parsed.description {
            info.description = description;
        }
        if parsed.website.is_some() {
            info.website = parsed.website;
        }
        for model in staged {
            match self
                .by_provider
                .get(&provider)
                .and_then(|m| m.get(&model.id))
            {
                Some(&i) => self.models[i] = model,
                None => self.models.push(model),
            }
        }
        self.reindex();
        Ok(())
    }

    /// The provider entry, created (named by its id) if missing. Call
    /// `reindex` afterwards.
    fn ensure_provider(&mut self, id: &str) -> &mut ProviderInfo {
        let pos = match self.providers.iter().position(|p| p.id == id) {
            Some(pos) => pos,
            None => {
                self.providers.push(ProviderInfo {
                    id: id.to_owned(),
                    name: id.to_owned(),
                    description: String::new(),
                    website: None,
                });
                self.providers.len() - 1
            }
        };
        &mut self.providers[pos]
    }

    /// Restores the sort orders and rebuilds the indexes after a change.
    fn reindex(&mut self) {
        self.providers.sort_by(|a, b| a.id.cmp(&b.id));
        self.models.sort_by(|a, b| {
            (a.provider.as_str(), a.id.as_str()).cmp(&(b.provider.as_str(), b.id.as_str()))
        });
        self.by_provider.clear();
        self.bare.clear();
        for p in &self.providers {
            self.by_provider.insert(p.id.clone(), HashMap::new());
        }
        for (i, m) in self.models.iter().enumerate() {
            self.by_provider
                .entry(m.provider.clone())
                .or_default()
                .insert(m.id.clone(), i);
            self.bare.entry(m.id.clone()).or_default().push(i);
        }
    }

    /// A provider by id; accepts the alias `gemini` for `google`.
    pub fn provider(&self, id: &str) -> Option<&ProviderInfo> {
        let id = canonical_provider(id);
        self.providers
            .binary_search_by(|p| p.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.providers[i])
    }

    /// All providers, sorted by id.
    pub fn providers(&self) -> impl Iterator<Item = &ProviderInfo> {
        self.providers.iter()
    }

    /// All models, sorted by provider then id.
    pub fn models(&self) -> impl Iterator<Item = &ModelInfo> {
        self.models.iter()
    }

    /// Number of models.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// True if the catalog has no models.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The models of one provider (alias `gemini` accepted), sorted by id;
    /// empty for an unknown provider.
    pub fn provider_models(&self, provider: &str) -> impl Iterator<Item = &ModelInfo> {
        let provider = canonical_provider(provider);
        // Models are sorted by provider, so the provider's models are one run.
        let start = self
            .models
            .partition_point(|m| m.provider.as_str() < provider);
        let end = self
            .models
            .partition_point(|m| m.provider.as_str() <= provider);
        self.models[start..end].iter()
    }

    /// A model by provider (alias `gemini` accepted) and model id.
    pub fn get(&self, provider: &str, model: &str) -> Option<&ModelInfo> {
        let i = *self
            .by_provider
            .get(canonical_provider(provider))?
            .get(model)?;
        self.models.get(i)
    }

    /// Resolves a user-supplied model name.
    ///
    /// `provider/model` (split at the first `/`, provider alias `gemini`
    /// accepted) finds that model; a bare id finds the model if one provider
    /// has it, or reports the candidates if several do. A string whose part
    /// before the first `/` is not a provider is tried as a bare id, since
    /// model ids may contain `/`. Misses carry suggestions.
    pub fn lookup(&self, id: &str) -> Lookup<'_> {
        if let Some((provider, model)) = id.split_once('/') {
            if let Some(m) = self.get(provider, model) {
                return Lookup::Found(m);
            }
        }
        match self.bare.get(id).map(Vec::as_slice) {
            Some([i]) => Lookup::Found(&self.models[*i]),
            Some(several) if !several.is_empty() => {
                Lookup::Ambiguous(several.iter().map(|&i| self.models[i].full_id()).collect())
            }
            _ => Lookup::NotFound {
                suggestions: self.suggestions(id),
            },
        }
    }

    /// Up to 5 full ids similar to `id` (edit distance, or sharing a prefix),
    /// best first.
    pub fn suggestions(&self, id: &str) -> Vec<String> {
        resolve::suggestions(self.models.iter(), id, MAX_SUGGESTIONS)
    }
}

/// `old` serialized in the file schema with `entry`'s keys laid over it.
fn overlay(
    old: &ModelInfo,
    entry: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Value {
    let mut base = match serde_json::to_value(old) {
        Ok(serde_json::Value::Object(map)) => map,
        // ModelInfo always serializes to an object; keep the entry alone otherwise.
        _ => serde_json::Map::new(),
    };
    base.remove("provider");
    base.extend(entry);
    serde_json::Value::Object(base)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::money::Usd;
    use crate::types::{CompletionTokensDetails, PromptTokensDetails, Usage};

    fn usd(s: &str) -> Usd {
        Usd::parse(s).unwrap()
    }

    fn builtin() -> &'static Catalog {
        Catalog::builtin()
    }

    fn model(full: &str) -> &'static ModelInfo {
        match builtin().lookup(full) {
            Lookup::Found(m) => m,
            other => panic!("{full}: {other:?}"),
        }
    }

    #[test]
    fn every_embedded_file_parses() {
        for (provider, json) in BUILTIN_FILES {
            let c = Catalog::from_json(&[json]).unwrap_or_else(|e| panic!("{provider}: {e}"));
            assert!(c.provider(provider).is_some(), "{provider}");
            assert!(c.len() > 5, "{provider} has only {} models", c.len());
        }
        let ids: Vec<_> = builtin().providers().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["anthropic", "cohere", "google", "mistral", "openai"]);
        for p in builtin().providers() {
            assert!(
                !p.name.is_empty() && !p.description.is_empty() && p.website.is_some(),
                "{p:?}"
            );
        }
    }

    #[test]
    fn every_model_is_well_formed() {
        for m in builtin().models() {
            assert!(!m.modes.is_empty(), "{}", m.full_id());
            assert!(
                !m.name.is_empty() && !m.description.is_empty(),
                "{}",
                m.full_id()
            );
            let priced = m.pricing.base.is_some() || !m.pricing.images.is_empty();
            assert!(priced, "{} has no prices", m.full_id());
            if m.supports(Mode::Chat) || m.supports(Mode::Completion) || m.supports(Mode::Embedding)
            {
                assert!(
                    m.pricing.base.is_some(),
                    "{} lacks token prices",
                    m.full_id()
                );
            }
            if m.supports(Mode::Chat) {
                assert!(m.capabilities.streaming, "{}", m.full_id());
            }
            // Every catalog price list charges more above a tier threshold.
            if let Some(base) = m.pricing.base {
                for (_, t) in &m.pricing.tiers {
                    assert!(
                        t.input >= base.input && t.output >= base.output,
                        "{}",
                        m.full_id()
                    );
                }
            }
            assert_eq!(builtin().get(&m.provider, &m.id), Some(m));
        }
    }

    #[test]
    fn model_counts() {
        let count = |p| builtin().provider_models(p).count();
        assert_eq!(count("openai"), 106);
        assert_eq!(count("anthropic"), 22);
        assert_eq!(count("google"), 48);
        assert_eq!(count("gemini"), 48);
        assert_eq!(count("cohere"), 14);
        assert_eq!(count("mistral"), 53);
        assert_eq!(count("nobody"), 0);
        assert_eq!(builtin().len(), 243);
    }

    #[test]
    fn models_are_sorted() {
        let keys: Vec<_> = builtin()
            .models()
            .map(|m| (m.provider.clone(), m.id.clone()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        let openai: Vec<_> = builtin()
            .provider_models("openai")
            .map(|m| m.id.as_str())
            .collect();
        assert!(openai.windows(2).all(|w| w[0] < w[1]));
        assert!(
            builtin()
                .provider_models("openai")
                .all(|m| m.provider == "openai")
        );
    }

    #[test]
    fn resolves_full_and_bare_ids() {
        let m = model("openai/gpt-4o-mini");
        assert_eq!(m.full_id(), "openai/gpt-4o-mini");
        assert_eq!(m.name, "GPT-4o mini");
        assert!(std::ptr::eq(model("gpt-4o-mini"), m));
        assert!(m.supports(Mode::Chat) && !m.supports(Mode::Embedding));
        assert_eq!(m.context_window, Some(128_000));

        let g = model("google/gemini-2.5-pro");
        assert!(std::ptr::eq(model("gemini/gemini-2.5-pro"), g));
        assert!(std::ptr::eq(model("gemini-2.5-pro"), g));
        assert!(std::ptr::eq(
            builtin().get("gemini", "gemini-2.5-pro").unwrap(),
            g
        ));
        assert_eq!(builtin().provider("gemini").unwrap().id, "google");
        assert!(builtin().provider("nobody").is_none());
    }

    #[test]
    fn typo_gets_suggestions() {
        match builtin().lookup("gpt-4o-mni") {
            Lookup::NotFound { suggestions } => {
                assert_eq!(
                    suggestions.first().map(String::as_str),
                    Some("openai/gpt-4o-mini")
                );
                assert!(suggestions.len() <= 5);
            }
            other => panic!("{other:?}"),
        }
        match builtin().lookup("anthropic/claude-sonet-4-5") {
            Lookup::NotFound { suggestions } => {
                assert_eq!(suggestions[0], "anthropic/claude-sonnet-4-5")
            }
            other => panic!("{other:?}"),
        }
        // Wrong provider, right model.
        match builtin().lookup("mistral/gpt-4o") {
            Lookup::NotFound { suggestions } => assert_eq!(suggestions[0], "openai/gpt-4o"),
            other => panic!("{other:?}"),
        }
        // A prefix finds the family.
        let s = builtin().suggestions("claude-sonnet");
        assert!(
            !s.is_empty() && s.iter().all(|id| id.starts_with("anthropic/claude-sonnet")),
            "{s:?}"
        );
        assert!(builtin().suggestions("zzzzzzzzzzzzzzzzzzzz").is_empty());
        assert!(builtin().suggestions(&"x".repeat(100_000)).is_empty());
    }

    #[test]
    fn ambiguous_bare_id() {
        let mut c = Catalog::from_json(&[BUILTIN_FILES[0].1]).unwrap();
        c.merge_json(
            r#"{"provider": "azure", "models": [{"id": "gpt-4o-mini", "modes": ["chat"]}]}"#,
        )
        .unwrap();
        assert_eq!(
            c.lookup("gpt-4o-mini"),
            Lookup::Ambiguous(vec![
                "azure/gpt-4o-mini".into(),
                "openai/gpt-4o-mini".into()
            ])
        );
        assert_eq!(
            c.lookup("azure/gpt-4o-mini").found().unwrap().provider,
            "azure"
        );
        assert_eq!(c.provider("azure").unwrap().name, "azure");
    }

    #[test]
    fn model_ids_with_slashes() {
        let c = Catalog::from_json(&[
            r#"{"provider": "hosted", "models": [{"id": "meta/llama-3", "modes": ["chat"]}]}"#,
        ])
        .unwrap();
        assert_eq!(
            c.lookup("hosted/meta/llama-3").found().unwrap().id,
            "meta/llama-3"
        );
        assert_eq!(c.lookup("meta/llama-3").found().unwrap().provider, "hosted");
        assert_eq!(
            c.get("hosted", "meta/llama-3").unwrap().full_id(),
            "hosted/meta/llama-3"
        );
    }

    #[test]
    fn runtime_merge_overrides_price_and_adds_model() {
        let mut c = builtin().clone();
        let before = c.get("openai", "gpt-4o-mini").unwrap().clone();
        c.merge_json(
            r#"{"provider": "openai", "models": [
                {"id": "gpt-4o-mini", "pricing": {"input": "0.2", "output": "0.8"}},
                {"id": "my-finetune", "name": "My fine-tune", "modes": ["chat"],
                 "capabilities": {"streaming": true},
                 "pricing": {"input": "0.3", "output": "1.2"}}
            ]}"#,
        )
        .unwrap();
        let after = c.get("openai", "gpt-4o-mini").unwrap();
        assert_eq!(after.pricing.base.unwrap().input, 200_000);
        assert_eq!(
            after.pricing.base.unwrap().cached_input,
            None,
            "pricing is replaced as a whole"
        );
        // Other fields survive the overlay.
        assert_eq!(after.name, before.name);
        assert_eq!(after.capabilities, before.capabilities);
        assert_eq!(after.context_window, before.context_window);
        let cost = after.pricing.token_cost(&Usage::new(23, 18)).unwrap();
        assert_eq!(cost.total, usd("0.0000190"));

        let added = c.lookup("my-finetune").found().unwrap();
        assert_eq!(added.provider, "openai");
        assert!(added.capabilities.streaming && !added.capabilities.tools);
        assert_eq!(c.len(), builtin().len() + 1);
        // The built-in catalog is untouched.
        assert_eq!(builtin().get("openai", "gpt-4o-mini").unwrap(), &before);

        // Explicit null clears a field.
        c.merge_json(
            r#"{"provider": "openai", "models": [{"id": "gpt-4o-mini", "context_window": null}]}"#,
        )
        .unwrap();
        assert_eq!(c.get("openai", "gpt-4o-mini").unwrap().context_window, None);
    }

    #[test]
    fn merge_file_and_provider_fields() {
        let dir = std::env::temp_dir().join(format!("indoxrouter-catalog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("extra.json");
        std::fs::write(
            &path,
            r#"{"provider": "gemini", "website": "https://example.com",
                "models": [{"id": "gemini-2.5-pro", "deprecation_date": "2030-01-01"}]}"#,
        )
        .unwrap();
        let mut c = builtin().clone();
        c.merge_file(&path).unwrap();
        let m = c.get("google", "gemini-2.5-pro").unwrap();
        assert_eq!(m.deprecation_date.as_deref(), Some("2030-01-01"));
        assert_eq!(
            m.pricing,
            builtin().get("google", "gemini-2.5-pro").unwrap().pricing
        );
        assert_eq!(
            c.provider("google").unwrap().website.as_deref(),
            Some("https://example.com")
        );
        assert_eq!(c.provider("google").unwrap().name, "Google Gemini");
        std::fs::remove_dir_all(&dir).unwrap();

        let err = c.merge_file(&dir.join("missing.json")).unwrap_err();
        assert!(matches!(err, CatalogError::Io { .. }), "{err}");
    }

    #[test]
    fn bad_files_are_rejected_atomically() {
        let mut c = builtin().clone();
        let cases = [
            (r#"{"models": []}"#, "Json"),
            (r#"not json"#, "Json"),
            (
                r#"{"provider": "openai", "models": [{"id": "x", "modes": ["chat"], "pricing": {"input": "0.0000001", "output": "1"}}]}"#,
                "InvalidPrice",
            ),
            (
                r#"{"provider": "openai", "models": [{"id": "x", "modes": ["chat"], "pricing": {"input": "1e-6", "output": "1"}}]}"#,
                "InvalidPrice",
            ),
            (
                r#"{"provider": "openai", "models": [{"id": "x", "modes": ["chat"], "pricing": {"input": 0.15, "output": "1"}}]}"#,
                "InvalidModel",
            ),
            (
                r#"{"provider": "openai", "models": [{"id": "x", "modes": ["chat"], "pricing": {"imput": "1", "output": "1"}}]}"#,
                "InvalidModel",
            ),
            (
                r#"{"provider": "openai", "models": [{"id": "x", "modes": []}]}"#,
                "InvalidModel",
            ),
            (
                r#"{"provider": "openai", "models": [{"id": "x"}]}"#,
                "InvalidModel",
            ),
            (
                r#"{"provider": "openai", "models": [{"id": "x", "modes": ["video"]}]}"#,
                "InvalidModel",
            ),
            (
                r#"{"provider": "openai", "models": [{"id": "x", "modes": ["chat"], "pricing": {"input": "1"}}]}"#,
                "InvalidModel",
            ),
            (
                r#"{"provider": "openai", "models": [{"id": "gpt-4o-mini", "pricing": {"input": "0.1", "output": "0.1"}},
                    {"id": "gpt-4o", "pricing": {"input": "-1", "output": "1"}}]}"#,
                "InvalidPrice",
            ),
        ];
        for (json, kind) in cases {
            let err = c.merge_json(json).unwrap_err();
            let got = match err {
                CatalogError::Json { .. } => "Json",
                CatalogError::InvalidPrice { .. } => "InvalidPrice",
                CatalogError::InvalidModel { .. } => "InvalidModel",
                CatalogError::Io { .. } => "Io",
            };
            assert_eq!(got, kind, "{json}: {err}");
        }
        assert_eq!(c.len(), builtin().len());
        assert_eq!(
            c.get("openai", "gpt-4o-mini"),
            builtin().get("openai", "gpt-4o-mini")
        );
    }

    #[test]
    fn pricing_typos_are_errors() {
        let mut c = Catalog::new();
        for pricing in [
            r#"{"input": "1", "output": "1", "cached_imput": "1"}"#,
            r#"{"input": "1", "output": "1", "tiers": [{"above_tokens": 10, "inptu": "2"}]}"#,
            r#"{"input": "1", "output": "1", "images": [{"size": "1x1", "price": "1", "qualty": "hd"}]}"#,
        ] {
            let json = format!(
                r#"{{"provider": "p", "models": [{{"id": "m", "modes": ["chat"], "pricing": {pricing}}}]}}"#
            );
            let err = c.merge_json(&json).unwrap_err();
            assert!(
                err.to_string().contains("unknown field"),
                "{pricing}: {err}"
            );
        }
        assert!(c.is_empty());
    }

    #[test]
    fn service_tier_prices_load_and_bill_at_their_own_price() {
        let m = builtin().get("openai", "gpt-4o-mini").unwrap();
        let usage = Usage::new(1_000_000, 1_000_000);
        let cost = |tier| m.pricing.token_cost_in_tier(tier, &usage).unwrap().total;
        assert_eq!(cost(None), Usd::parse("0.75").unwrap());
        assert_eq!(cost(Some("default")), cost(None));
        assert_eq!(cost(Some("priority")), Usd::parse("1.25").unwrap());
        // A tier the catalog does not price is billed at the standard price.
        assert_eq!(cost(Some("flex")), cost(None));
        assert!(m.pricing.service_tier(Some("flex")).is_none());

        let mut c = Catalog::new();
        for (pricing, why) in [
            (
                r#"{"input": "1", "output": "1", "service_tiers": {"priority": {"input": "2"}}}"#,
                "input and output",
            ),
            (
                r#"{"service_tiers": {"priority": {"input": "2", "output": "2"}}}"#,
                "base prices",
            ),
            (
                r#"{"input": "1", "output": "1", "service_tiers": {"flex": {"input": "1", "output": "1", "cahced_input": "1"}}}"#,
                "unknown field",
            ),
        ] {
            let json = format!(
                r#"{{"provider": "p", "models": [{{"id": "m", "modes": ["chat"], "pricing": {pricing}}}]}}"#
            );
            let err = c.merge_json(&json).unwrap_err();
            assert!(err.to_string().contains(why), "{pricing}: {err}");
        }
    }

    #[test]
    fn serialized_model_merges_back_unchanged() {
        for m in builtin().models() {
            let json = serde_json::json!({"provider": m.provider, "models": [m]}).to_string();
            let c = Catalog::from_json(&[&json]).unwrap_or_else(|e| panic!("{}: {e}", m.full_id()));
            assert_eq!(c.get(&m.provider, &m.id), Some(m));
        }
    }

    // Hand-computed costs against the embedded prices, one per provider and mode.

    #[test]
    fn cost_gpt_4o_mini_mandatory() {
        let c = model("openai/gpt-4o-mini")
            .pricing
            .token_cost(&Usage::new(23, 18))
            .unwrap();
        assert_eq!(c.total, usd("0.00001425"));
    }

    #[test]
    fn cost_openai_cached_and_reasoning() {
        // gpt-5: input 1.25, cached 0.125, output 10 per 1M.
        let mut u = Usage::new(10_000, 2_000);
        u.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: 8_000,
            ..Default::default()
        });
        u.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: 1_500,
            ..Default::default()
        });
        let c = model("gpt-5").pricing.token_cost(&u).unwrap();
        assert_eq!(c.input, usd("0.0025"));
        assert_eq!(c.cached_input, usd("0.001"));
        assert_eq!(c.output, usd("0.005"));
        assert_eq!(c.reasoning, usd("0.015"));
        assert_eq!(c.total, usd("0.0235"));
    }

    #[test]
    fn cost_anthropic_cache_creation() {
        // claude-sonnet-4-5: 3 / 15, read 0.3, write 3.75 per 1M.
        let mut u = Usage::new(100 + 10_000 + 50_000, 1_000);
        u.prompt_tokens_details = Some(PromptTokensDetails {
            cached_tokens: 50_000,
            cache_creation_tokens: 10_000,
            ..Default::default()
        });
        let c = model("anthropic/claude-sonnet-4-5")
            .pricing
            .token_cost(&u)
            .unwrap();
        assert_eq!(c.input, usd("0.0003"));
        assert_eq!(c.cache_creation, usd("0.0375"));
        assert_eq!(c.cached_input, usd("0.015"));
        assert_eq!(c.output, usd("0.015"));
        assert_eq!(c.total, usd("0.0678"));
    }

    #[test]
    fn cost_gemini_tier_above_200k() {
        let p = &model("gemini/gemini-2.5-pro").pricing;
        // Base: 1.25 / 10 per 1M.
        assert_eq!(
            p.token_cost(&Usage::new(200_000, 1_000)).unwrap().total,
            usd("0.26")
        );
        // Tier: 2.5 / 15 per 1M.
        assert_eq!(
            p.token_cost(&Usage::new(250_000, 1_000)).unwrap().total,
            usd("0.64")
        );
        // Gemini reasoning ("thoughts") tokens are output-priced.
        let mut u = Usage::new(1_000, 3_000);
        u.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: 2_000,
            ..Default::default()
        });
        let c = p.token_cost(&u).unwrap();
        assert_eq!(c.reasoning, usd("0.02"));
        assert_eq!(c.total, usd("0.03125"));
    }

    #[test]
    fn cost_cohere_and_mistral_chat() {
        // command-r-plus-08-2024: 2.5 / 10 per 1M.
        let c = model("cohere/command-r-plus-08-2024")
            .pricing
            .token_cost(&Usage::new(1_000, 500))
            .unwrap();
        assert_eq!(c.total, usd("0.0075"));
        // mistral-large-latest: 0.5 / 1.5 per 1M.
        let c = model("mistral/mistral-large-latest")
            .pricing
            .token_cost(&Usage::new(1_000, 500))
            .unwrap();
        assert_eq!(c.total, usd("0.00125"));
    }

    #[test]
    fn cost_embeddings() {
        // text-embedding-3-small: 0.02 per 1M.
        let c = model("text-embedding-3-small")
            .pricing
            .token_cost(&Usage::new(1_000_000, 0))
            .unwrap();
        assert_eq!(c.total, usd("0.02"));
        // mistral-embed has no output price in the source: embeddings bill input only.
        let c = model("mistral/mistral-embed")
            .pricing
            .token_cost(&Usage::new(500, 0))
            .unwrap();
        assert_eq!(c.total, usd("0.00005"));
        // embed-v4.0: 0.12 per 1M text tokens, 0.47 per 1M image tokens.
        let mut u = Usage::new(1_000, 0);
        u.prompt_tokens_details = Some(PromptTokensDetails {
            image_tokens: 1_000,
            ..Default::default()
        });
        let c = model("cohere/embed-v4.0").pricing.token_cost(&u).unwrap();
        assert_eq!(c.image_input, usd("0.00047"));
        assert_eq!(c.total, usd("0.00047"));
        // gemini-embedding-001: 0.15 per 1M.
        let c = model("gemini-embedding-001")
            .pricing
            .token_cost(&Usage::new(2_000, 0))
            .unwrap();
        assert_eq!(c.total, usd("0.0003"));
    }

    #[test]
    fn cost_completion_model() {
        // gpt-3.5-turbo-instruct: 1.5 / 2 per 1M.
        let m = model("gpt-3.5-turbo-instruct");
        assert!(m.supports(Mode::Completion));
        assert_eq!(
            m.pricing
                .token_cost(&Usage::new(1_000, 1_000))
                .unwrap()
                .total,
            usd("0.0035")
        );
    }

    #[test]
    fn cost_gpt_image_1() {
        // gpt-image-1: text in 5, image in 10, image out 40 per 1M; no text output.
        let p = &model("openai/gpt-image-1").pricing;
        let mut u = Usage::new(20 + 500, 1_056);
        u.prompt_tokens_details = Some(PromptTokensDetails {
            image_tokens: 500,
            ..Default::default()
        });
        u.completion_tokens_details = Some(CompletionTokensDetails {
            image_tokens: 1_056,
            ..Default::default()
        });
        let c = p.token_cost(&u).unwrap();
        assert_eq!(c.input, usd("0.0001"));
        assert_eq!(c.image_input, usd("0.005"));
        assert_eq!(c.image_output, usd("0.04224"));
        assert_eq!(c.total, usd("0.04734"));
        // Output tokens not broken down are image tokens for this model.
        assert_eq!(
            p.token_cost(&Usage::new(0, 1_056)).unwrap().total,
            usd("0.04224")
        );
        // Its per-image table: medium 1024x1024 is the default.
        assert_eq!(p.image_cost(1, None, None).unwrap().total, usd("0.042"));
        assert_eq!(
            p.image_cost(2, Some("1536x1024"), Some("high"))
                .unwrap()
                .total,
            usd("0.5")
        );
    }

    #[test]
    fn cost_dall_e() {
        let p = &model("openai/dall-e-3").pricing;
        assert_eq!(
            p.image_cost(1, Some("1024x1792"), Some("hd"))
                .unwrap()
                .total,
            usd("0.12")
        );
        assert_eq!(p.image_cost(1, None, None).unwrap().total, usd("0.04"));
        assert_eq!(
            p.image_cost(1, Some("1792x1024"), Some("standard"))
                .unwrap()
                .total,
            usd("0.08")
        );
        assert_eq!(
            p.token_cost(&Usage::new(10, 0)),
            None,
            "no token prices: unpriced, not free"
        );
        let p = &model("dall-e-2").pricing;
        assert_eq!(
            p.image_cost(1, Some("256x256"), None).unwrap().total,
            usd("0.016")
        );
        assert_eq!(
            p.image_cost(1, Some("512x512"), Some("standard"))
                .unwrap()
                .total,
            usd("0.018")
        );
        assert_eq!(p.image_cost(5, None, None).unwrap().total, usd("0.1"));
        assert_eq!(p.image_cost(1, None, Some("hd")), None);
    }

    #[test]
    fn cost_imagen_per_image() {
        let p = &model("gemini/imagen-3.0-generate-001").pricing;
        assert_eq!(
            p.image_cost(4, Some("1024x1024"), None).unwrap().total,
            usd("0.16")
        );
        assert_eq!(p.token_cost(&Usage::new(10, 0)), None);
        let p = &model("google/imagen-3.0-fast-generate-001").pricing;
        assert_eq!(p.image_cost(1, None, None).unwrap().total, usd("0.02"));
    }

    #[test]
    fn deprecation_dates_are_kept() {
        assert_eq!(
            model("openai/gpt-4-0613").deprecation_date.as_deref(),
            Some("2026-10-23")
        );
        assert_eq!(model("openai/gpt-4o-mini").deprecation_date, None);
    }
}
