//! Exact request costs from catalog prices and reported usage.
//!
//! Token prices are held as integer pico-dollars per token. The catalog writes
//! them as decimal USD per 1M tokens; `"0.15"` per 1M is 150 000 pico-dollars
//! per token. A price that is not a whole number of pico-dollars per token is
//! rejected when the catalog is loaded, so every cost below is exact: a token
//! count times an integer price, summed in `i128`.

use serde::{Deserialize, Serialize, Serializer};

use crate::money::{ParseUsdError, Usd};
use crate::types::Usage;

/// Catalog token prices are quoted per this many tokens.
pub const TOKENS_PER_QUOTE: u64 = 1_000_000;

/// Image size assumed when a request gives none or `"auto"`.
pub const DEFAULT_IMAGE_SIZE: &str = "1024x1024";

/// Why a per-1M-token price string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PriceError {
    /// Not a plain decimal number.
    #[error(transparent)]
    Parse(#[from] ParseUsdError),
    /// Prices cannot be negative.
    #[error("price is negative")]
    Negative,
    /// Divided by 10^6 the price is not a whole number of pico-dollars per token.
    #[error(
        "price per 1M tokens must have at most 6 decimal places (whole pico-dollars per token)"
    )]
    NotWholePico,
    /// Larger than any plausible price (more than u64::MAX pico-dollars per token).
    #[error("price is out of range")]
    TooLarge,
}

/// Parses a catalog price in USD per 1M tokens into pico-dollars per token.
///
/// `"0.15"` → `150_000`. Exact or an error: never rounded.
pub fn parse_price_per_million(s: &str) -> Result<u64, PriceError> {
    let per_million = Usd::parse(s)?;
    if per_million.is_negative() {
        return Err(PriceError::Negative);
    }
    let pico = per_million.pico();
    let quote = i128::from(TOKENS_PER_QUOTE);
    if pico % quote != 0 {
        return Err(PriceError::NotWholePico);
    }
    u64::try_from(pico / quote).map_err(|_| PriceError::TooLarge)
}

/// Formats pico-dollars per token as the catalog's USD-per-1M-tokens string.
pub fn format_price_per_million(pico_per_token: u64) -> String {
    Usd::from_pico(i128::from(pico_per_token) * i128::from(TOKENS_PER_QUOTE)).to_string()
}

/// Per-token prices of one pricing tier, in pico-dollars (10^-12 USD) per token.
///
/// Optional prices fall back as documented on [`Pricing::token_cost`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TokenPrices {
    /// Uncached text input tokens.
    pub input: u64,
    /// Visible output tokens.
    pub output: u64,
    /// Input tokens read from the prompt cache (falls back to `input`).
    pub cached_input: Option<u64>,
    /// Input tokens written to the prompt cache (falls back to `input`).
    pub cache_creation: Option<u64>,
    /// Reasoning output tokens (falls back to `output`).
    pub reasoning: Option<u64>,
    /// Image input tokens (falls back to `input`).
    pub image_input: Option<u64>,
    /// Image output tokens (falls back to `output`).
    pub image_output: Option<u64>,
    /// Audio input tokens (falls back to `input`).
    pub audio_input: Option<u64>,
    /// Audio output tokens (falls back to `output`).
    pub audio_output: Option<u64>,
}

impl TokenPrices {
    /// The highest price any input-side token can be billed at.
    fn max_input(&self) -> u64 {
        [
            self.cached_input,
            self.cache_creation,
            self.image_input,
            self.audio_input,
        ]
        .into_iter()
        .flatten()
        .fold(self.input, u64::max)
    }

    /// The highest price any output-side token can be billed at.
    fn max_output(&self) -> u64 {
        [self.reasoning, self.image_output, self.audio_output]
            .into_iter()
            .flatten()
            .fold(self.output, u64::max)
    }
}

/// A price for one generated image of a given quality and size.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImagePrice {
    /// `"standard"`, `"hd"`, `"low"`, `"medium"`, `"high"`, …; `None` when the
    /// price does not depend on quality.
    #[serde(default)]
    pub quality: Option<String>,
    /// `"1024x1024"`, …; `None` when the price does not depend on size.
    #[serde(default)]
    pub size: Option<String>,
    /// USD per generated image.
    pub price: Usd,
}

/// Everything needed to price a request to one model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pricing {
    /// Token prices below every tier threshold; `None` when the model has no
    /// token prices (it is then unpriced for token billing, never free).
    pub base: Option<TokenPrices>,
    /// `(above_tokens, prices)`: used when prompt tokens are strictly above
    /// `above_tokens`. Each entry is complete (missing tier prices were filled
    /// from `base` when the catalog was loaded).
    pub tiers: Vec<(u64, TokenPrices)>,
    /// Per-image prices.
    pub images: Vec<ImagePrice>,
    /// Prices under a `service_tier` option, by tier name (`priority`,
    /// `flex`): each with its own base and long-context tiers, no images.
    pub service_tiers: Vec<(String, Pricing)>,
}

/// `service_tier` values that mean the standard price: what a request may
/// ask for (`auto`, `default`) and what providers report back (`default`,
/// Anthropic's `standard`).
pub const STANDARD_SERVICE_TIERS: [&str; 3] = ["auto", "default", "standard"];

/// The cost of one request, split by what was billed.
///
/// Serializes amounts as exact decimal strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CostBreakdown {
    /// Uncached text input tokens.
    pub input: Usd,
    /// Input tokens read from the prompt cache.
    pub cached_input: Usd,
    /// Input tokens written to the prompt cache.
    pub cache_creation: Usd,
    /// Visible output tokens.
    pub output: Usd,
    /// Reasoning tokens.
    pub reasoning: Usd,
    /// Image input tokens.
    pub image_input: Usd,
    /// Image output tokens.
    pub image_output: Usd,
    /// Audio input tokens.
    #[serde(default)]
    pub audio_input: Usd,
    /// Audio output tokens.
    #[serde(default)]
    pub audio_output: Usd,
    /// Generated images priced per image.
    pub images: Usd,
    /// Sum of all the above.
    pub total: Usd,
}

impl CostBreakdown {
    /// Field-wise sum of two breakdowns (e.g. the calls behind one
    /// multi-choice request), saturating like [`Usd`]'s `+`.
    pub fn combine(&self, other: &CostBreakdown) -> CostBreakdown {
        CostBreakdown {
            input: self.input + other.input,
            cached_input: self.cached_input + other.cached_input,
            cache_creation: self.cache_creation + other.cache_creation,
            output: self.output + other.output,
            reasoning: self.reasoning + other.reasoning,
            image_input: self.image_input + other.image_input,
            image_output: self.image_output + other.image_output,
            audio_input: self.audio_input + other.audio_input,
            audio_output: self.audio_output + other.audio_output,
            images: self.images + other.images,
            total: self.total + other.total,
        }
    }
}

/// `tokens × price`, exact; saturates at `Usd::MAX`, which u64 token counts
/// times u64 prices can only reach in theory.
fn charge(tokens: u64, pico_per_token: u64) -> Usd {
    u128::from(tokens)
        .checked_mul(u128::from(pico_per_token))
        .and_then(|p| i128::try_from(p).ok())
        .map_or(Usd::MAX, Usd::from_pico)
}

impl Pricing {
    /// True if the model has token prices.
    pub fn has_token_prices(&self) -> bool {
        self.base.is_some()
    }

    /// The prices under service tier `name`: these for none or a standard
    /// one ([`STANDARD_SERVICE_TIERS`]), the tier's own when the catalog has
    /// them, `None` for a tier it does not price.
    pub fn service_tier(&self, name: Option<&str>) -> Option<&Pricing> {
        match name {
            None => Some(self),
            Some(n) if STANDARD_SERVICE_TIERS.contains(&n) => Some(self),
            Some(n) => self
                .service_tiers
                .iter()
                .find(|(tier, _)| tier == n)
                .map(|(_, p)| p),
        }
    }

    /// [`token_cost`](Self::token_cost) at the prices of the service tier
    /// that served the request. A tier the catalog does not price is billed
    /// at the standard price: gateways refuse to *ask* for such a tier, so
    /// it can only come from the provider account's own default.
    pub fn token_cost_in_tier(&self, tier: Option<&str>, usage: &Usage) -> Option<CostBreakdown> {
        self.service_tier(tier).unwrap_or(self).token_cost(usage)
    }

    /// The prices that apply to a request with `prompt_tokens` input tokens:
    /// the tier with the highest threshold strictly below `prompt_tokens`, else
    /// the base prices.
    pub fn prices_for(&self, prompt_tokens: u64) -> Option<&TokenPrices> {
        let base = self.base.as_ref()?;
        Some(
            self.tiers
                .iter()
                .filter(|(above, _)| prompt_tokens > *above)
                .max_by_key(|(above, _)| *above)
                .map_or(base, |(_, p)| p),
        )
    }

    /// Cost of a token-billed request. `None` if the model has no token prices
    /// (unpriced — never treat as free).
    ///
    /// `prompt_tokens` includes cached, cache-creation, image and audio input
    /// tokens; `completion_tokens` includes reasoning, image and audio output
    /// tokens. Each part is billed at its own price: cached reads at
    /// `cached_input`, cache writes at `cache_creation`, image/audio input at
    /// `image_input`/`audio_input` (all falling back to `input`); reasoning,
    /// image and audio output at `reasoning`/`image_output`/`audio_output`
    /// (falling back to `output`). The remaining prompt and completion tokens
    /// (saturating at zero if the details exceed the totals) are billed at
    /// `input` and `output`. Tier prices apply to every part when
    /// `prompt_tokens` is above the tier's threshold.
    pub fn token_cost(&self, usage: &Usage) -> Option<CostBreakdown> {
        let p = self.prices_for(usage.prompt_tokens)?;

        let cached = usage.cached_tokens();
        let creation = usage.cache_creation_tokens();
        let image_in = usage.image_input_tokens();
        let audio_in = usage.prompt_tokens_details.map_or(0, |d| d.audio_tokens);
        let text_in = usage
            .prompt_tokens
            .saturating_sub(cached)
            .saturating_sub(creation)
            .saturating_sub(image_in)
            .saturating_sub(audio_in);

        let reasoning = usage.reasoning_tokens();
        let image_out = usage.image_output_tokens();
        let audio_out = usage
            .completion_tokens_details
            .map_or(0, |d| d.audio_tokens);
        let text_out = usage
            .completion_tokens
            .saturating_sub(reasoning)
            .saturating_sub(image_out)
            .saturating_sub(audio_out);

        let mut c = CostBreakdown {
            input: charge(text_in, p.input),
            cached_input: charge(cached, p.cached_input.unwrap_or(p.input)),
            cache_creation: charge(creation, p.cache_creation.unwrap_or(p.input)),
            output: charge(text_out, p.output),
            reasoning: charge(reasoning, p.reasoning.unwrap_or(p.output)),
            image_input: charge(image_in, p.image_input.unwrap_or(p.input)),
            image_output: charge(image_out, p.image_output.unwrap_or(p.output)),
            audio_input: charge(audio_in, p.audio_input.unwrap_or(p.input)),
            audio_output: charge(audio_out, p.audio_output.unwrap_or(p.output)),
            images: Usd::ZERO,
            total: Usd::ZERO,
        };
        c.total = [
            c.input,
            c.cached_input,
            c.cache_creation,
            c.output,
            c.reasoning,
            c.image_input,
            c.image_output,
            c.audio_input,
            c.audio_output,
        ]
        .into_iter()
        .sum();
        Some(c)
    }

    /// An upper bound on the token cost of a request with at most
    /// `prompt_tokens` input and `max_completion_tokens` output tokens, whatever
    /// their split (cached, reasoning, …) and whichever tier applies. For
    /// reserving credit before a call. `None` if the model has no token prices.
    pub fn token_cost_upper_bound(
        &self,
        prompt_tokens: u64,
        max_completion_tokens: u64,
    ) -> Option<Usd> {
        let base = self.base.as_ref()?;
        std::iter::once(base)
            .chain(self.tiers.iter().map(|(_, p)| p))
            .map(|p| {
                charge(prompt_tokens, p.max_input()) + charge(max_completion_tokens, p.max_output())
            })
            .max()
    }

    /// The default quality for this model's image prices: `"medium"` when the
    /// table has medium entries (gpt-image family), else `"standard"` (DALL·E).
    pub fn default_image_quality(&self) -> &'static str {
        if self
            .images
            .iter()
            .any(|e| e.quality.as_deref() == Some("medium"))
        {
            "medium"
        } else {
            "standard"
        }
    }

    /// The per-image price for a size and quality, if the table has one.
    ///
    /// Size `None` or `"auto"` means [`DEFAULT_IMAGE_SIZE`]; `"1024-x-1024"` is
    /// read as `"1024x1024"`. Matching, first hit wins:
    /// 1. an entry with exactly this quality and size;
    /// 2. if quality is `None`, `"auto"` or `"standard"`: the
    ///    [default quality](Self::default_image_quality) at this size, then an
    ///    entry at this size without a quality;
    /// 3. an entry with neither quality nor size (priced per image regardless,
    ///    e.g. Imagen).
    ///
    /// A quality the table does not list (e.g. `"hd"` for a model without hd
    /// prices) does not fall back to a cheaper one: the result is `None`.
    pub fn image_price(&self, size: Option<&str>, quality: Option<&str>) -> Option<Usd> {
        let size = normalize_size(size);
        let quality = quality.map(str::trim).filter(|q| !q.is_empty());
        let same_quality = |entry: Option<&str>, wanted: Option<&str>| match (entry, wanted) {
            (None, None) => true,
            (Some(e), Some(w)) => e.eq_ignore_ascii_case(w),
            _ => false,
        };
        let find = |q: Option<&str>| {
            self.images.iter().find(|e| {
                same_quality(e.quality.as_deref(), q)
                    && e.size.as_deref().is_some_and(|s| size_eq(s, &size))
            })
        };
        let defaultish = quality
            .is_none_or(|q| q.eq_ignore_ascii_case("auto") || q.eq_ignore_ascii_case("standard"));
        let hit = quality
            .filter(|q| !q.eq_ignore_ascii_case("auto"))
            .and_then(|q| find(Some(q)))
            .or_else(|| {
                if defaultish {
                    find(Some(self.default_image_quality())).or_else(|| find(None))
                } else {
                    None
                }
            })
            .or_else(|| {
                self.images
                    .iter()
                    .find(|e| e.quality.is_none() && e.size.is_none())
            });
        hit.map(|e| e.price)
    }

    /// Cost of `n` generated images at a size and quality; `None` if no price
    /// matches (see [`image_price`](Self::image_price) for the matching rules).
    pub fn image_cost(
        &self,
        n: u32,
        size: Option<&str>,
        quality: Option<&str>,
    ) -> Option<CostBreakdown> {
        let price = self.image_price(size, quality)?;
        let images = price.checked_mul(u64::from(n)).unwrap_or(Usd::MAX);
        Some(CostBreakdown {
            images,
            total: images,
            ..CostBreakdown::default()
        })
    }
}

/// Canonical `WxH` form of a requested size (`None`/`"auto"` → default).
fn normalize_size(size: Option<&str>) -> String {
    match size.map(str::trim) {
        None | Some("") => DEFAULT_IMAGE_SIZE.to_owned(),
        Some(s) if s.eq_ignore_ascii_case("auto") => DEFAULT_IMAGE_SIZE.to_owned(),
        Some(s) => s.to_ascii_lowercase().replace("-x-", "x"),
    }
}

fn size_eq(entry: &str, wanted: &str) -> bool {
    entry.eq_ignore_ascii_case(wanted) || entry.replace("-x-", "x").eq_ignore_ascii_case(wanted)
}

/// The catalog's JSON shape of token prices: decimal strings in USD per 1M tokens.
#[derive(Serialize)]
struct TokenPricesRepr {
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cached_input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_creation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audio_input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    audio_output: Option<String>,
}

impl TokenPricesRepr {
    fn new(p: &TokenPrices) -> Self {
        let f = |v: Option<u64>| v.map(format_price_per_million);
        TokenPricesRepr {
            input: f(Some(p.input)),
            output: f(Some(p.output)),
            cached_input: f(p.cached_input),
            cache_creation: f(p.cache_creation),
            reasoning: f(p.reasoning),
            image_input: f(p.image_input),
            image_output: f(p.image_output),
            audio_input: f(p.audio_input),
            audio_output: f(p.audio_output),
        }
    }
}

#[derive(Serialize)]
struct TierRepr {
    above_tokens: u64,
    #[serde(flatten)]
    prices: TokenPricesRepr,
}

#[derive(Serialize)]
struct PricingRepr<'a> {
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    base: Option<TokenPricesRepr>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tiers: Vec<TierRepr>,
    #[serde(skip_serializing_if = "<[ImagePrice]>::is_empty")]
    images: &'a [ImagePrice],
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    service_tiers: std::collections::BTreeMap<&'a str, PricingRepr<'a>>,
}

impl<'a> PricingRepr<'a> {
    fn new(p: &'a Pricing) -> Self {
        PricingRepr {
            base: p.base.as_ref().map(TokenPricesRepr::new),
            tiers: p
                .tiers
                .iter()
                .map(|(above, p)| TierRepr {
                    above_tokens: *above,
                    prices: TokenPricesRepr::new(p),
                })
                .collect(),
            images: &p.images,
            service_tiers: p
                .service_tiers
                .iter()
                .map(|(name, p)| (name.as_str(), PricingRepr::new(p)))
                .collect(),
        }
    }
}

impl Serialize for Pricing {
    /// Serializes in the catalog's schema (USD per 1M tokens as decimal
    /// strings), so a serialized model can be fed back to the catalog.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        PricingRepr::new(self).serialize(serializer)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::types::{CompletionTokensDetails, PromptTokensDetails};
    use proptest::prelude::*;

    fn usd(s: &str) -> Usd {
        Usd::parse(s).unwrap()
    }

    fn per_m(s: &str) -> u64 {
        parse_price_per_million(s).unwrap()
    }

    fn prices(input: &str, output: &str) -> TokenPrices {
        TokenPrices {
            input: per_m(input),
            output: per_m(output),
            ..TokenPrices::default()
        }
    }

    fn usage(prompt: u64, completion: u64) -> Usage {
        Usage::new(prompt, completion)
    }

    fn with_details(mut u: Usage, p: PromptTokensDetails, c: CompletionTokensDetails) -> Usage {
        u.prompt_tokens_details = Some(p);
        u.completion_tokens_details = Some(c);
        u
    }

    #[test]
    fn price_strings_convert_exactly() {
        assert_eq!(per_m("0.15"), 150_000);
        assert_eq!(per_m("0.6"), 600_000);
        assert_eq!(per_m("0"), 0);
        assert_eq!(per_m("0.000001"), 1);
        assert_eq!(per_m("15"), 15_000_000);
        assert_eq!(
            parse_price_per_million("0.0000001"),
            Err(PriceError::NotWholePico)
        );
        assert_eq!(parse_price_per_million("-1"), Err(PriceError::Negative));
        assert!(matches!(
            parse_price_per_million("1e-6"),
            Err(PriceError::Parse(_))
        ));
        assert_eq!(format_price_per_million(150_000), "0.15");
        assert_eq!(format_price_per_million(1), "0.000001");
        assert_eq!(format_price_per_million(0), "0");
    }

    #[test]
    fn gpt_4o_mini_mandatory_example() {
        let pricing = Pricing {
            base: Some(TokenPrices {
                cached_input: Some(per_m("0.075")),
                ..prices("0.15", "0.6")
            }),
            ..Pricing::default()
        };
        let c = pricing.token_cost(&usage(23, 18)).unwrap();
        // 23 × 0.15e-6 + 18 × 0.6e-6 = 0.00000345 + 0.0000108
        assert_eq!(c.input, usd("0.00000345"));
        assert_eq!(c.output, usd("0.0000108"));
        assert_eq!(c.total, usd("0.00001425"));
        assert_eq!(c.total.to_string(), "0.00001425");
    }

    #[test]
    fn unpriced_model_has_no_token_cost() {
        let pricing = Pricing::default();
        assert_eq!(pricing.token_cost(&usage(10, 10)), None);
        assert_eq!(pricing.token_cost_upper_bound(10, 10), None);
        assert_eq!(pricing.image_cost(1, None, None), None);
    }

    #[test]
    fn cached_reads_and_fallback() {
        let u = with_details(
            usage(1000, 100),
            PromptTokensDetails {
                cached_tokens: 400,
                ..Default::default()
            },
            CompletionTokensDetails::default(),
        );
        // gpt-4o: input 2.5, cached 1.25, output 10 per 1M.
        let p = Pricing {
            base: Some(TokenPrices {
                cached_input: Some(per_m("1.25")),
                ..prices("2.5", "10")
            }),
            ..Pricing::default()
        };
        let c = p.token_cost(&u).unwrap();
        assert_eq!(c.input, usd("0.0015")); // 600 × 2.5e-6
        assert_eq!(c.cached_input, usd("0.0005")); // 400 × 1.25e-6
        assert_eq!(c.output, usd("0.001"));
        assert_eq!(c.total, usd("0.003"));
        // Without a cached price, cached tokens cost the input price.
        let p = Pricing {
            base: Some(prices("2.5", "10")),
            ..Pricing::default()
        };
        assert_eq!(p.token_cost(&u).unwrap().cached_input, usd("0.001"));
    }

    #[test]
    fn anthropic_cache_creation() {
        // claude-sonnet-4-5: input 3, output 15, cache read 0.3, cache write 3.75.
        let p = Pricing {
            base: Some(TokenPrices {
                cached_input: Some(per_m("0.3")),
                cache_creation: Some(per_m("3.75")),
                ..prices("3", "15")
            }),
            ..Pricing::default()
        };
        // Anthropic: input 100, cache write 2000, cache read 5000 → prompt 7100.
        let u = with_details(
            usage(7100, 500),
            PromptTokensDetails {
                cached_tokens: 5000,
                cache_creation_tokens: 2000,
                ..Default::default()
            },
            CompletionTokensDetails::default(),
        );
        let c = p.token_cost(&u).unwrap();
        assert_eq!(c.input, usd("0.0003"));
        assert_eq!(c.cache_creation, usd("0.0075"));
        assert_eq!(c.cached_input, usd("0.0015"));
        assert_eq!(c.output, usd("0.0075"));
        assert_eq!(c.total, usd("0.0168"));
    }

    #[test]
    fn reasoning_tokens() {
        let u = with_details(
            usage(100, 1000),
            PromptTokensDetails::default(),
            CompletionTokensDetails {
                reasoning_tokens: 800,
                ..Default::default()
            },
        );
        // Separate reasoning price (e.g. a hypothetical 2.0 vs output 0.6).
        let p = Pricing {
            base: Some(TokenPrices {
                reasoning: Some(per_m("2")),
                ..prices("0.3", "0.6")
            }),
            ..Pricing::default()
        };
        let c = p.token_cost(&u).unwrap();
        assert_eq!(c.output, usd("0.00012")); // 200 × 0.6e-6
        assert_eq!(c.reasoning, usd("0.0016")); // 800 × 2e-6
        assert_eq!(c.total, usd("0.00175")); // + 100 × 0.3e-6
        // Without one, reasoning is output-priced and the total is unchanged by the split.
        let p = Pricing {
            base: Some(prices("0.3", "0.6")),
            ..Pricing::default()
        };
        let c = p.token_cost(&u).unwrap();
        assert_eq!(c.reasoning, usd("0.00048"));
        assert_eq!(c.total, p.token_cost(&usage(100, 1000)).unwrap().total);
    }

    #[test]
    fn gemini_2_5_pro_tier_above_200k() {
        let p = Pricing {
            base: Some(TokenPrices {
                cached_input: Some(per_m("0.125")),
                ..prices("1.25", "10")
            }),
            tiers: vec![(
                200_000,
                TokenPrices {
                    cached_input: Some(per_m("0.25")),
                    ..prices("2.5", "15")
                },
            )],
            images: vec![],
            service_tiers: vec![],
        };
        // Exactly at the threshold: base prices.
        let c = p.token_cost(&usage(200_000, 1000)).unwrap();
        assert_eq!(c.total, usd("0.26")); // 0.25 + 0.01
        // One above: tier prices for every part.
        let c = p.token_cost(&usage(200_001, 1000)).unwrap();
        assert_eq!(c.input, usd("0.5000025"));
        assert_eq!(c.output, usd("0.015"));
        assert_eq!(c.total, usd("0.5150025"));
    }

    #[test]
    fn highest_matching_tier_wins_regardless_of_order() {
        let p = Pricing {
            base: Some(prices("1", "1")),
            tiers: vec![(300, prices("3", "3")), (100, prices("2", "2"))],
            images: vec![],
            service_tiers: vec![],
        };
        assert_eq!(p.prices_for(100).unwrap().input, per_m("1"));
        assert_eq!(p.prices_for(101).unwrap().input, per_m("2"));
        assert_eq!(p.prices_for(301).unwrap().input, per_m("3"));
    }

    #[test]
    fn embedding_cost() {
        // text-embedding-3-small: 0.02 per 1M input tokens.
        let p = Pricing {
            base: Some(prices("0.02", "0")),
            ..Pricing::default()
        };
        let c = p.token_cost(&usage(1234, 0)).unwrap();
        assert_eq!(c.total, usd("0.00002468"));
    }

    #[test]
    fn gpt_image_1_token_cost() {
        // gpt-image-1: text in 5, image in 10, image out 40 per 1M.
        let p = Pricing {
            base: Some(TokenPrices {
                input: per_m("5"),
                output: per_m("40"),
                image_input: Some(per_m("10")),
                image_output: Some(per_m("40")),
                cached_input: Some(per_m("1.25")),
                ..TokenPrices::default()
            }),
            ..Pricing::default()
        };
        let u = with_details(
            usage(50 + 323, 4160),
            PromptTokensDetails {
                image_tokens: 323,
                ..Default::default()
            },
            CompletionTokensDetails {
                image_tokens: 4160,
                ..Default::default()
            },
        );
        let c = p.token_cost(&u).unwrap();
        assert_eq!(c.input, usd("0.00025"));
        assert_eq!(c.image_input, usd("0.00323"));
        assert_eq!(c.image_output, usd("0.1664"));
        assert_eq!(c.output, Usd::ZERO);
        assert_eq!(c.total, usd("0.16988"));
    }

    #[test]
    fn audio_tokens_use_audio_prices() {
        // gpt-audio: text 2.5/10, audio 32/64 per 1M.
        let p = Pricing {
            base: Some(TokenPrices {
                audio_input: Some(per_m("32")),
                audio_output: Some(per_m("64")),
                ..prices("2.5", "10")
            }),
            ..Pricing::default()
        };
        let u = with_details(
            usage(1000, 500),
            PromptTokensDetails {
                audio_tokens: 600,
                ..Default::default()
            },
            CompletionTokensDetails {
                audio_tokens: 400,
                ..Default::default()
            },
        );
        let c = p.token_cost(&u).unwrap();
        assert_eq!(c.input, usd("0.001"));
        assert_eq!(c.audio_input, usd("0.0192"));
        assert_eq!(c.output, usd("0.001"));
        assert_eq!(c.audio_output, usd("0.0256"));
        assert_eq!(c.total, usd("0.0468"));
    }

    fn dalle3() -> Pricing {
        let e = |q: &str, s: &str, p: &str| ImagePrice {
            quality: Some(q.into()),
            size: Some(s.into()),
            price: usd(p),
        };
        Pricing {
            images: vec![
                e("standard", "1024x1024", "0.04"),
                e("standard", "1024x1792", "0.08"),
                e("hd", "1024x1024", "0.08"),
                e("hd", "1024x1792", "0.12"),
            ],
            ..Pricing::default()
        }
    }

    #[test]
    fn dall_e_3_image_prices() {
        let p = dalle3();
        let c = p.image_cost(1, Some("1024x1792"), Some("hd")).unwrap();
        assert_eq!(c.images, usd("0.12"));
        assert_eq!(c.total, usd("0.12"));
        assert_eq!(p.image_cost(3, None, None).unwrap().total, usd("0.12"));
        assert_eq!(
            p.image_cost(1, Some("auto"), Some("auto")).unwrap().total,
            usd("0.04")
        );
        assert_eq!(
            p.image_cost(1, Some("1024x1792"), Some("STANDARD"))
                .unwrap()
                .total,
            usd("0.08")
        );
        assert_eq!(
            p.image_cost(1, Some("1024-x-1792"), None).unwrap().total,
            usd("0.08")
        );
        assert_eq!(p.image_cost(1, Some("512x512"), None), None);
        assert_eq!(p.image_cost(1, None, Some("ultra")), None);
        assert_eq!(p.token_cost(&usage(1, 1)), None);
    }

    #[test]
    fn gpt_image_auto_quality_is_medium() {
        let e = |q: Option<&str>, p: &str| ImagePrice {
            quality: q.map(Into::into),
            size: Some("1024x1024".into()),
            price: usd(p),
        };
        let p = Pricing {
            images: vec![
                e(Some("low"), "0.011"),
                e(Some("medium"), "0.042"),
                e(Some("high"), "0.167"),
            ],
            ..Pricing::default()
        };
        assert_eq!(p.default_image_quality(), "medium");
        assert_eq!(p.image_price(None, None), Some(usd("0.042")));
        assert_eq!(p.image_price(None, Some("auto")), Some(usd("0.042")));
        assert_eq!(p.image_price(None, Some("standard")), Some(usd("0.042")));
        assert_eq!(p.image_price(None, Some("high")), Some(usd("0.167")));
        assert_eq!(p.image_price(None, Some("hd")), None);
        // A quality-less entry serves defaultish requests at that size.
        let p = Pricing {
            images: vec![e(None, "0.02")],
            ..Pricing::default()
        };
        assert_eq!(
            p.image_price(Some("1024x1024"), Some("standard")),
            Some(usd("0.02"))
        );
        assert_eq!(p.image_price(Some("1024x1024"), Some("hd")), None);
    }

    #[test]
    fn imagen_per_image_price() {
        let p = Pricing {
            images: vec![ImagePrice {
                quality: None,
                size: None,
                price: usd("0.04"),
            }],
            ..Pricing::default()
        };
        assert_eq!(p.image_cost(4, None, None).unwrap().total, usd("0.16"));
        assert_eq!(
            p.image_cost(1, Some("1536x1024"), Some("hd"))
                .unwrap()
                .total,
            usd("0.04")
        );
        assert_eq!(p.image_cost(0, None, None).unwrap().total, Usd::ZERO);
    }

    #[test]
    fn upper_bound_covers_every_split() {
        let p = Pricing {
            base: Some(TokenPrices {
                cache_creation: Some(per_m("3.75")),
                reasoning: Some(per_m("20")),
                ..prices("3", "15")
            }),
            tiers: vec![(1000, prices("6", "22.5"))],
            images: vec![],
            service_tiers: vec![],
        };
        let bound = p.token_cost_upper_bound(2000, 100).unwrap();
        // max(2000×3.75 + 100×20, 2000×6 + 100×22.5) per 1M
        assert_eq!(bound, usd("0.01425"));
        let all_creation = with_details(
            usage(500, 100),
            PromptTokensDetails {
                cache_creation_tokens: 500,
                ..Default::default()
            },
            CompletionTokensDetails {
                reasoning_tokens: 100,
                ..Default::default()
            },
        );
        assert!(
            p.token_cost(&all_creation).unwrap().total
                <= p.token_cost_upper_bound(500, 100).unwrap()
        );
    }

    #[test]
    fn breakdowns_combine_field_wise() {
        let p = Pricing {
            base: Some(prices("1", "2")),
            ..Pricing::default()
        };
        let a = p.token_cost(&usage(10, 20)).unwrap();
        let b = p.token_cost(&usage(5, 1)).unwrap();
        let ab = a.combine(&b);
        assert_eq!(ab.input, usd("0.000015"));
        assert_eq!(ab.output, usd("0.000042"));
        assert_eq!(ab.total, usd("0.000057"));
        assert_eq!(ab, b.combine(&a));
    }

    #[test]
    fn breakdown_serializes_amounts_as_strings() {
        let c = CostBreakdown {
            input: usd("0.00000345"),
            total: usd("0.00000345"),
            ..CostBreakdown::default()
        };
        let v = serde_json::to_value(c).unwrap();
        assert_eq!(v["input"], "0.00000345");
        assert_eq!(v["total"], "0.00000345");
        assert_eq!(v["output"], "0");
        let back: CostBreakdown = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn pricing_serializes_to_catalog_schema() {
        let p = Pricing {
            base: Some(TokenPrices {
                cached_input: Some(per_m("0.075")),
                ..prices("0.15", "0.6")
            }),
            tiers: vec![(200_000, prices("0.3", "1.2"))],
            images: dalle3().images[..1].to_vec(),
            service_tiers: vec![],
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "input": "0.15", "output": "0.6", "cached_input": "0.075",
                "tiers": [{"above_tokens": 200000, "input": "0.3", "output": "1.2"}],
                "images": [{"quality": "standard", "size": "1024x1024", "price": "0.04"}]
            })
        );
    }

    fn arb_prices() -> impl Strategy<Value = TokenPrices> {
        let p = || 0u64..100_000_000;
        let o = || proptest::option::of(0u64..100_000_000);
        (p(), p(), o(), o(), o(), o(), o(), o(), o()).prop_map(
            |(i, out, ci, cc, r, ii, io, ai, ao)| TokenPrices {
                input: i,
                output: out,
                cached_input: ci,
                cache_creation: cc,
                reasoning: r,
                image_input: ii,
                image_output: io,
                audio_input: ai,
                audio_output: ao,
            },
        )
    }

    /// Pricing whose tier prices are never below the base prices, as in every
    /// real price list (otherwise crossing a threshold could lower the cost).
    fn arb_pricing() -> impl Strategy<Value = Pricing> {
        (
            arb_prices(),
            proptest::option::of((0u64..100_000, 0u64..50_000_000)),
        )
            .prop_map(|(base, tier)| {
                let up = |v: u64, d: u64| v + d;
                let tiers = tier
                    .map(|(above, d)| {
                        vec![(
                            above,
                            TokenPrices {
                                input: up(base.input, d),
                                output: up(base.output, d),
                                cached_input: Some(up(base.cached_input.unwrap_or(base.input), d)),
                                cache_creation: Some(up(
                                    base.cache_creation.unwrap_or(base.input),
                                    d,
                                )),
                                reasoning: Some(up(base.reasoning.unwrap_or(base.output), d)),
                                image_input: Some(up(base.image_input.unwrap_or(base.input), d)),
                                image_output: Some(up(base.image_output.unwrap_or(base.output), d)),
                                audio_input: Some(up(base.audio_input.unwrap_or(base.input), d)),
                                audio_output: Some(up(base.audio_output.unwrap_or(base.output), d)),
                            },
                        )]
                    })
                    .unwrap_or_default();
                Pricing {
                    base: Some(base),
                    tiers,
                    images: vec![],
                    service_tiers: vec![],
                }
            })
    }

    /// Usage from its parts, with totals consistent with the details.
    #[derive(Debug, Clone, Copy)]
    struct Parts([u64; 9]);

    impl Parts {
        fn usage(&self) -> Usage {
            let [
                text_in,
                cached,
                creation,
                image_in,
                audio_in,
                text_out,
                reasoning,
                image_out,
                audio_out,
            ] = self.0;
            let prompt = text_in + cached + creation + image_in + audio_in;
            let completion = text_out + reasoning + image_out + audio_out;
            with_details(
                usage(prompt, completion),
                PromptTokensDetails {
                    cached_tokens: cached,
                    cache_creation_tokens: creation,
                    audio_tokens: audio_in,
                    image_tokens: image_in,
                },
                CompletionTokensDetails {
                    reasoning_tokens: reasoning,
                    audio_tokens: audio_out,
                    image_tokens: image_out,
                },
            )
        }
    }

    fn arb_parts() -> impl Strategy<Value = Parts> {
        proptest::array::uniform9(0u64..1_000_000).prop_map(Parts)
    }

    proptest! {
        #[test]
        fn cost_is_monotonic_in_each_token_count(p in arb_pricing(), parts in arb_parts(), which in 0usize..9, extra in 1u64..500_000) {
            let before = p.token_cost(&parts.usage()).unwrap();
            let mut more = parts;
            more.0[which] += extra;
            let after = p.token_cost(&more.usage()).unwrap();
            prop_assert!(after.total >= before.total, "{:?} -> {:?}", before, after);
        }

        #[test]
        fn cost_is_additive_over_split_output(p in arb_pricing(), prompt in 0u64..400_000, a in 0u64..1_000_000, b in 0u64..1_000_000) {
            let cost = |c: u64| p.token_cost(&usage(prompt, c)).unwrap();
            let (ca, cb, cab, c0) = (cost(a), cost(b), cost(a + b), cost(0));
            prop_assert_eq!(cab.output, ca.output + cb.output);
            prop_assert_eq!(cab.total + c0.total, ca.total + cb.total);
        }

        #[test]
        fn total_is_sum_of_parts(p in arb_pricing(), parts in arb_parts()) {
            let c = p.token_cost(&parts.usage()).unwrap();
            let sum = c.input + c.cached_input + c.cache_creation + c.output + c.reasoning
                + c.image_input + c.image_output + c.audio_input + c.audio_output + c.images;
            prop_assert_eq!(c.total, sum);
            prop_assert!(!c.total.is_negative());
        }

        #[test]
        fn upper_bound_is_an_upper_bound(p in arb_pricing(), parts in arb_parts()) {
            let u = parts.usage();
            let bound = p.token_cost_upper_bound(u.prompt_tokens, u.completion_tokens).unwrap();
            prop_assert!(p.token_cost(&u).unwrap().total <= bound);
        }

        #[test]
        fn price_string_round_trip(pico in 0u64..u64::MAX / 2) {
            prop_assert_eq!(parse_price_per_million(&format_price_per_million(pico)).unwrap(), pico);
        }
    }
}
