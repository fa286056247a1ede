//! The on-disk JSON shape of `providers/*.json` and its conversion to
//! [`ModelInfo`]. See `providers/README.md` for the documented schema.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Capabilities, CatalogError, Mode, ModelInfo};
use crate::cost::{ImagePrice, Pricing, TokenPrices, parse_price_per_million};

/// One provider file. Everything but `provider` is optional so that an
/// override file can list only the models it adds or changes.
#[derive(Debug, Deserialize)]
pub(super) struct ProviderFile {
    pub provider: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    /// Kept as raw objects: an entry for an existing model is overlaid on it
    /// key by key before being converted.
    #[serde(default)]
    pub models: Vec<Map<String, Value>>,
}

/// One model entry. Unknown keys are ignored (a serialized [`ModelInfo`]
/// carries `provider`, for example); pricing keys are strict because a typo
/// there would silently misprice requests.
#[derive(Debug, Deserialize)]
pub(super) struct ModelEntry {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub modes: Vec<Mode>,
    #[serde(default)]
    pub capabilities: Capabilities,
    #[serde(default)]
    pub context_window: Option<u64>,
    #[serde(default)]
    pub max_output_tokens: Option<u64>,
    #[serde(default)]
    pub output_vector_size: Option<u64>,
    #[serde(default)]
    pub pricing: Option<PricingEntry>,
    #[serde(default)]
    pub deprecation_date: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

/// Token prices as decimal strings in USD per 1M tokens.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PriceFields {
    #[serde(default)]
    input: Option<String>,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    cached_input: Option<String>,
    #[serde(default)]
    cache_creation: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
    #[serde(default)]
    image_input: Option<String>,
    #[serde(default)]
    image_output: Option<String>,
    #[serde(default)]
    audio_input: Option<String>,
    #[serde(default)]
    audio_output: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PricingEntry {
    #[serde(flatten)]
    prices: PriceFields,
    #[serde(default)]
    tiers: Vec<TierEntry>,
    #[serde(default)]
    images: Vec<ImagePrice>,
    #[serde(default)]
    service_tiers: std::collections::BTreeMap<String, ServiceTierEntry>,
}

/// Prices under a provider's `service_tier` option (`priority`, `flex`):
/// complete input and output prices, and their own long-context tiers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceTierEntry {
    #[serde(flatten)]
    prices: PriceFields,
    #[serde(default)]
    tiers: Vec<TierEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierEntry {
    above_tokens: u64,
    #[serde(flatten)]
    prices: PriceFields,
}

/// Parsed (pico-dollars per token) but not yet completed price fields.
#[derive(Debug, Default)]
struct Parsed {
    input: Option<u64>,
    output: Option<u64>,
    cached_input: Option<u64>,
    cache_creation: Option<u64>,
    reasoning: Option<u64>,
    image_input: Option<u64>,
    image_output: Option<u64>,
    audio_input: Option<u64>,
    audio_output: Option<u64>,
}

impl Parsed {
    /// Complete prices from these fields with `input` and `output` settled.
    fn prices(&self, input: u64, output: u64) -> TokenPrices {
        TokenPrices {
            input,
            output,
            cached_input: self.cached_input,
            cache_creation: self.cache_creation,
            reasoning: self.reasoning,
            image_input: self.image_input,
            image_output: self.image_output,
            audio_input: self.audio_input,
            audio_output: self.audio_output,
        }
    }
}

impl PriceFields {
    fn parse(&self, model: &str, prefix: &str) -> Result<Parsed, CatalogError> {
        let one = |field: &str, v: &Option<String>| -> Result<Option<u64>, CatalogError> {
            v.as_deref()
                .map(|s| {
                    parse_price_per_million(s).map_err(|source| CatalogError::InvalidPrice {
                        model: model.to_owned(),
                        field: format!("{prefix}{field}"),
                        value: truncate(s),
                        source,
                    })
                })
                .transpose()
        };
        Ok(Parsed {
            input: one("input", &self.input)?,
            output: one("output", &self.output)?,
            cached_input: one("cached_input", &self.cached_input)?,
            cache_creation: one("cache_creation", &self.cache_creation)?,
            reasoning: one("reasoning", &self.reasoning)?,
            image_input: one("image_input", &self.image_input)?,
            image_output: one("image_output", &self.image_output)?,
            audio_input: one("audio_input", &self.audio_input)?,
            audio_output: one("audio_output", &self.audio_output)?,
        })
    }
}

/// Error values are user input of any size; keep messages short.
fn truncate(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

fn invalid(model: &str, reason: impl Into<String>) -> CatalogError {
    CatalogError::InvalidModel {
        model: model.to_owned(),
        reason: reason.into(),
    }
}

impl PricingEntry {
    /// Converts to exact integer prices.
    ///
    /// Base token prices exist when `input` or `output` is given. A missing
    /// `output` falls back to `image_output` (models whose only output is
    /// images, e.g. gpt-image-1), and is zero for models without a chat or
    /// completion mode (embeddings produce no output tokens); a chat or
    /// completion model must state it. Tier fields missing from a tier are
    /// taken from the base prices.
    fn to_pricing(&self, model: &str, modes: &[Mode]) -> Result<Pricing, CatalogError> {
        let p = self.prices.parse(model, "")?;
        let base = match (p.input, p.output) {
            (None, None) => {
                if !self.tiers.is_empty() {
                    return Err(invalid(
                        model,
                        "pricing tiers need base input/output prices",
                    ));
                }
                if [
                    p.cached_input,
                    p.cache_creation,
                    p.reasoning,
                    p.image_input,
                    p.image_output,
                ]
                .iter()
                .chain([&p.audio_input, &p.audio_output])
                .any(Option::is_some)
                {
                    return Err(invalid(model, "token prices given without an input price"));
                }
                None
            }
            (None, Some(_)) => {
                return Err(invalid(model, "output price given without an input price"));
            }
            (Some(input), output) => {
                let text_output = modes
                    .iter()
                    .any(|m| matches!(m, Mode::Chat | Mode::Completion));
                let output = match (output, p.image_output) {
                    (Some(o), _) => o,
                    (None, Some(io)) => io,
                    (None, None) if !text_output => 0,
                    (None, None) => {
                        return Err(invalid(
                            model,
                            "a chat or completion model needs an output price",
                        ));
                    }
                };
                Some(p.prices(input, output))
            }
        };

        let tiers = match &base {
            Some(b) => context_tiers(model, "", b, &self.tiers)?,
            None => Vec::new(),
        };
        let mut service_tiers = Vec::with_capacity(self.service_tiers.len());
        if !self.service_tiers.is_empty() && base.is_none() {
            return Err(invalid(model, "service tier prices need base prices"));
        }
        for (name, entry) in &self.service_tiers {
            let prefix = format!("service_tiers.{name}.");
            let p = entry.prices.parse(model, &prefix)?;
            let (Some(input), Some(output)) = (p.input, p.output) else {
                return Err(invalid(
                    model,
                    format!("service tier `{name}` needs input and output prices"),
                ));
            };
            // Parts the tier does not price separately are billed at its
            // own input/output price (`token_cost`'s fallback), never at
            // the cheaper standard price of that part.
            let prices = p.prices(input, output);
            let tiers = context_tiers(model, &prefix, &prices, &entry.tiers)?;
            service_tiers.push((
                name.clone(),
                Pricing {
                    base: Some(prices),
                    tiers,
                    ..Pricing::default()
                },
            ));
        }

        for img in &self.images {
            if img.price.is_negative() {
                return Err(CatalogError::InvalidPrice {
                    model: model.to_owned(),
                    field: "images.price".to_owned(),
                    value: img.price.to_string(),
                    source: crate::cost::PriceError::Negative,
                });
            }
        }
        Ok(Pricing {
            base,
            tiers,
            images: self.images.clone(),
            service_tiers,
        })
    }
}

/// Long-context tiers over `base`, each completed from it, by threshold.
fn context_tiers(
    model: &str,
    prefix: &str,
    b: &TokenPrices,
    entries: &[TierEntry],
) -> Result<Vec<(u64, TokenPrices)>, CatalogError> {
    let mut tiers = Vec::with_capacity(entries.len());
    for tier in entries {
        let field = format!("{prefix}tiers[above_tokens={}].", tier.above_tokens);
        let t = tier.prices.parse(model, &field)?;
        tiers.push((
            tier.above_tokens,
            TokenPrices {
                input: t.input.unwrap_or(b.input),
                output: t.output.unwrap_or(b.output),
                cached_input: t.cached_input.or(b.cached_input),
                cache_creation: t.cache_creation.or(b.cache_creation),
                reasoning: t.reasoning.or(b.reasoning),
                image_input: t.image_input.or(b.image_input),
                image_output: t.image_output.or(b.image_output),
                audio_input: t.audio_input.or(b.audio_input),
                audio_output: t.audio_output.or(b.audio_output),
            },
        ));
    }
    tiers.sort_by_key(|(above, _)| *above);
    if tiers.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(invalid(
            model,
            "two pricing tiers with the same above_tokens",
        ));
    }
    Ok(tiers)
}

impl ModelEntry {
    /// Validates and converts an entry of `provider`'s file.
    pub(super) fn into_model(self, provider: &str) -> Result<ModelInfo, CatalogError> {
        let full = format!("{provider}/{}", self.id);
        if self.id.is_empty() {
            return Err(invalid(&full, "empty model id"));
        }
        if self.modes.is_empty() {
            return Err(invalid(&full, "a model needs at least one mode"));
        }
        let pricing = match &self.pricing {
            Some(p) => p.to_pricing(&full, &self.modes)?,
            None => Pricing::default(),
        };
        let mut modes = self.modes;
        modes.dedup();
        Ok(ModelInfo {
            provider: provider.to_owned(),
            name: self.name.unwrap_or_else(|| self.id.clone()),
            id: self.id,
            description: self.description.unwrap_or_default(),
            modes,
            capabilities: self.capabilities,
            context_window: self.context_window,
            max_output_tokens: self.max_output_tokens,
            output_vector_size: self.output_vector_size,
            pricing,
            deprecation_date: self.deprecation_date,
            source: self.source,
        })
    }
}
