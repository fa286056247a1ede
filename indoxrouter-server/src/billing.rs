//! What a request may cost before it runs, and what it did cost after.
//!
//! Before a provider call the server reserves a **proven upper bound** on
//! the charge, and the ledger never charges more than it reserved (see
//! `UsageRow::cap_to`). For a chat the bound is built so that an honest
//! provider report cannot exceed it:
//!
//! - **Output**: the request's own limit (`max_tokens` or
//!   `max_completion_tokens`, the smaller if both), else the model's maximum
//!   output, never above that maximum — and the server *sends* that limit
//!   to the provider explicitly ([`PricePolicy::chat`] rewrites the
//!   request), so the provider cannot generate past what was held, for every
//!   choice (`n`). Reasoning and thinking tokens are inside that limit for
//!   OpenAI (`max_completion_tokens`), Anthropic (`budget_tokens` must be
//!   below `max_tokens`), Mistral and Cohere; Gemini's thinking budget is
//!   not reliably inside `maxOutputTokens`, so reasoning-capable Gemini
//!   models add [`GEMINI_MAX_THINKING_TOKENS`].
//! - **Input**: every byte that becomes prompt — message text, names, tool
//!   calls, unknown message fields, tool definitions, schemas and every
//!   forwarded `extra` field — bounds tokens one byte each (a BPE token covers
//!   at least one byte), plus [`MESSAGE_OVERHEAD_TOKENS`] per message,
//!   [`REQUEST_OVERHEAD_TOKENS`], and [`TOOL_PROMPT_TOKENS`] when tools are
//!   sent (Anthropic's documented tool-use system prompt is a few hundred).
//!   Images count by the provider's own ceiling per image
//!   ([`image_tokens`]); a part the byte rule cannot bound (files, audio,
//!   video, URLs, unknown part types) makes the bound the model's context
//!   window, and no prompt bound exceeds the context window.
//! - **Service tiers** (`service_tier: "priority"` or `"flex"`) are held at
//!   the higher of the standard and the tier's price bound, and charged at
//!   the price of the tier the provider reports it served. A tier a
//!   candidate model has no price for — or no long-context price where the
//!   standard price has one — is refused with 400 naming `service_tier`.
//! - **Other options that change the price** and that the catalog does not
//!   price (`web_search_options`, a `cache_control` with a one-hour `ttl`)
//!   are refused with 400 naming the field, never billed at the standard
//!   price.
//!
//! After the call the charge is the core's exact cost of the provider's
//! reported usage. When a provider reports no usage (a stream cut off or
//! abandoned before its usage event, or an endpoint that never reports it),
//! tokens are counted: streams by [`crate::counting`] (a real tokenizer, and
//! the provider's own early counts), non-streamed answers by ⌈bytes / 4⌉ of
//! the prompt text plus [`MESSAGE_OVERHEAD_TOKENS`] per message and of the
//! text delivered (the bytes rule also estimates tokens for rate limits).

use indoxrouter::cost::STANDARD_SERVICE_TIERS;
use indoxrouter::types::{
    ChatRequest, CompletionRequest, Content, ContentPart, EmbeddingInput, EmbeddingRequest,
    ImageRequest, Message, Usage,
};
use indoxrouter::{Client, ModelInfo, Usd};

use crate::error::ApiError;

/// Tokens of framing per message (role markers, separators). OpenAI's
/// documented count is 3 or 4.
pub const MESSAGE_OVERHEAD_TOKENS: u64 = 8;
/// Tokens of framing per request (OpenAI primes every reply with 3).
pub const REQUEST_OVERHEAD_TOKENS: u64 = 16;
/// Tokens a provider adds on its side when tools are sent. Anthropic
/// documents a tool-use system prompt of 264–530 tokens depending on the
/// model and `tool_choice`; the others add less.
pub const TOOL_PROMPT_TOKENS: u64 = 1_000;
/// The largest thinking budget a Gemini model accepts (2.5 Pro: 32,768;
/// Flash: 24,576), added to the output bound of reasoning-capable Gemini
/// models.
pub const GEMINI_MAX_THINKING_TOKENS: u64 = 32_768;
/// Prompt bound for a request the byte rule cannot bound, on a model whose
/// context window the catalog does not give: the largest context any
/// catalogued model has (2M tokens).
pub const UNKNOWN_CONTEXT_TOKENS: u64 = 2_000_000;
/// Request fields that add charges the catalog does not price (per-query
/// search fees): refused rather than billed at the standard price.
const UNPRICED_OPTIONS: [&str; 1] = ["web_search_options"];
/// Output reserved when neither the request nor the catalog bounds it.
pub const DEFAULT_MAX_OUTPUT: u64 = 4_096;
/// Output tokens reserved per image for token-priced image models.
pub const IMAGE_OUTPUT_TOKENS: u64 = 10_000;

/// The credit to hold for a request, and whether its model is unpriced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    /// Upper bound on the charge.
    pub amount: Usd,
    /// The model has no price and the server allows it at zero cost.
    pub unpriced: bool,
}

/// Whether a model without prices may be used (at zero cost).
#[derive(Debug, Clone, Copy)]
pub struct PricePolicy {
    /// `INDOXROUTER_ALLOW_UNPRICED`.
    pub allow_unpriced: bool,
}

impl PricePolicy {
    /// The quote for the most expensive of `models` (the model and its
    /// fallbacks), each priced by `bound`.
    fn quote<'a>(
        self,
        client: &'a Client,
        models: impl Iterator<Item = &'a str>,
        bound: impl Fn(&ModelInfo) -> Option<Usd>,
    ) -> Result<Quote, ApiError> {
        let mut quote = Quote {
            amount: Usd::ZERO,
            unpriced: false,
        };
        for id in models {
            let priced = match client.model(id) {
                Ok(info) => bound(info),
                // Not in the catalog: the provider may still serve it (Ollama,
                // vLLM), but nothing prices it. Refused as not found (with
                // suggestions) unless unpriced models are allowed.
                Err(indoxrouter::Error::ModelNotFound { suggestions, .. }) => {
                    if !self.allow_unpriced {
                        let hint = if suggestions.is_empty() {
                            String::new()
                        } else {
                            format!(" (did you mean {}?)", suggestions.join(", "))
                        };
                        return Err(ApiError::new(
                            http::StatusCode::NOT_FOUND,
                            "model_not_found",
                            format!(
                                "model `{id}` is not in this server's catalog{hint}; an operator can add it \
                                 with its price, or set INDOXROUTER_ALLOW_UNPRICED=true to serve \
                                 uncatalogued models at no charge"
                            ),
                        )
                        .param("model"));
                    }
                    None
                }
                Err(e) => return Err(e.into()),
            };
            match priced {
                Some(amount) => quote.amount = quote.amount.max(amount),
                None if self.allow_unpriced => quote.unpriced = true,
                None => {
                    return Err(ApiError::new(
                        http::StatusCode::FORBIDDEN,
                        "model_not_priced",
                        format!(
                            "model `{id}` has no price in this server's catalog, so it cannot be billed; \
                             an operator can add its price or set INDOXROUTER_ALLOW_UNPRICED=true"
                        ),
                    )
                    .param("model"));
                }
            }
        }
        Ok(quote)
    }

    /// Quote for a chat request. First makes the request's output limit
    /// explicit — the smaller of `max_tokens` and `max_completion_tokens`,
    /// else the model's maximum output, never above it — so the provider is
    /// told exactly what was held; refuses options the catalog cannot price.
    pub fn chat(self, client: &Client, req: &mut ChatRequest) -> Result<Quote, ApiError> {
        refuse_unpriced_options(req)?;
        let tier = service_tier(&req.extra)?.map(str::to_owned);
        let tier = tier.as_deref();
        if let Some(tier) = tier {
            for id in models(&req.model, &req.fallbacks) {
                if let Ok(info) = client.model(id) {
                    tier_priced(info, tier)?;
                }
            }
        }
        let primary = client.model(&req.model).ok();
        let limit = output_limit(req, primary)?;
        req.max_tokens = Some(u32::try_from(limit).unwrap_or(u32::MAX));
        let prompt = PromptBound::of(req);
        // Predicted output (OpenAI `prediction`) is billed as completion tokens.
        let predicted = req.extra.get("prediction").map_or(0, json_len);
        let n = u64::from(req.n.unwrap_or(1).max(1));
        self.quote(client, models(&req.model, &req.fallbacks), |info| {
            let mut out = limit.min(info.max_output_tokens.unwrap_or(u64::MAX));
            if info.provider == "google" && info.capabilities.reasoning {
                out = out.saturating_add(GEMINI_MAX_THINKING_TOKENS);
            }
            let out = out.saturating_mul(n).saturating_add(predicted);
            let prompt = prompt.for_model(info);
            let standard = info.pricing.token_cost_upper_bound(prompt, out)?;
            // The provider may serve a tier request at the standard price
            // (priority capacity unavailable): hold the larger of the two.
            let tiered = tier
                .and_then(|t| info.pricing.service_tier(Some(t)))
                .and_then(|p| p.token_cost_upper_bound(prompt, out));
            Some(tiered.map_or(standard, |t| t.max(standard)))
        })
    }

    /// Quote for a text completion (each prompt may become its own call).
    pub fn completion(self, client: &Client, req: &CompletionRequest) -> Result<Quote, ApiError> {
        if let Some(tier) = service_tier(&req.extra)? {
            return Err(ApiError::bad_request(format!(
                "`service_tier` \"{tier}\" is not priced for text completions; omit it or use \"auto\" or \"default\""
            ))
            .param("service_tier"));
        }
        let prompts = req.prompt.as_vec();
        let prompt: u64 = prompts
            .iter()
            .map(|p| bytes(p).saturating_add(MESSAGE_OVERHEAD_TOKENS))
            .fold(0, u64::saturating_add);
        let requested = req.max_output_tokens();
        let calls = u64::try_from(prompts.len())
            .unwrap_or(u64::MAX)
            .saturating_mul(u64::from(req.n.unwrap_or(1).max(1)));
        self.quote(client, models(&req.model, &req.fallbacks), |info| {
            let out = max_output(requested, info).saturating_mul(calls);
            info.pricing.token_cost_upper_bound(prompt, out)
        })
    }

    /// Quote for embeddings.
    pub fn embeddings(self, client: &Client, req: &EmbeddingRequest) -> Result<Quote, ApiError> {
        let tokens = match &req.input {
            EmbeddingInput::One(s) => bytes(s),
            EmbeddingInput::Many(v) => v.iter().map(|s| bytes(s)).fold(0, u64::saturating_add),
        };
        self.quote(client, models(&req.model, &req.fallbacks), |info| {
            info.pricing.token_cost_upper_bound(tokens, 0)
        })
    }

    /// Quote for image generation.
    pub fn images(self, client: &Client, req: &ImageRequest) -> Result<Quote, ApiError> {
        let n = req.n.unwrap_or(1).max(1);
        let prompt = bytes(&req.prompt);
        self.quote(client, models(&req.model, &req.fallbacks), |info| {
            let per_image = info
                .pricing
                .image_cost(n, req.size.as_deref(), req.quality.as_deref())
                .map(|c| c.total);
            let by_tokens = info
                .pricing
                .token_cost_upper_bound(prompt, IMAGE_OUTPUT_TOKENS.saturating_mul(u64::from(n)));
            match (per_image, by_tokens) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            }
        })
    }
}

fn models<'a>(first: &'a str, rest: &'a [String]) -> impl Iterator<Item = &'a str> {
    std::iter::once(first).chain(rest.iter().map(String::as_str))
}

fn bytes(s: &str) -> u64 {
    u64::try_from(s.len()).unwrap_or(u64::MAX)
}

/// The output bound: the request's, never above the model's own maximum.
fn max_output(requested: Option<u64>, info: &ModelInfo) -> u64 {
    match (requested, info.max_output_tokens) {
        (Some(r), Some(m)) => r.min(m),
        (Some(r), None) => r,
        (None, Some(m)) => m,
        (None, None) => DEFAULT_MAX_OUTPUT,
    }
}

/// The output limit a chat request is sent with: the smaller of the limits
/// it sets, else the model's maximum output (or [`DEFAULT_MAX_OUTPUT`]),
/// never above that maximum. `max_completion_tokens` is folded into
/// `max_tokens` (the core sends it under the name each provider wants).
fn output_limit(req: &mut ChatRequest, model: Option<&ModelInfo>) -> Result<u64, ApiError> {
    let completion = match req.extra.remove("max_completion_tokens") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(v.as_u64().filter(|&n| n > 0).ok_or_else(|| {
            ApiError::bad_request("`max_completion_tokens` must be a positive integer")
                .param("max_completion_tokens")
        })?),
    };
    if req.max_tokens == Some(0) {
        return Err(
            ApiError::bad_request("`max_tokens` must be a positive integer").param("max_tokens"),
        );
    }
    let requested = match (req.max_tokens.map(u64::from), completion) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let ceiling = model.and_then(|m| m.max_output_tokens);
    Ok(match (requested, ceiling) {
        (Some(r), Some(c)) => r.min(c),
        (Some(r), None) => r,
        (None, Some(c)) => c,
        (None, None) => DEFAULT_MAX_OUTPUT,
    })
}

/// Caps a chat's output limit at an API key's `max_tokens_per_request`:
/// the smaller of what the request asks (either field) and the cap, the
/// cap itself when it asks for none.
pub fn cap_chat_output(req: &mut ChatRequest, cap: u64) {
    let completion = req
        .extra
        .get("max_completion_tokens")
        .and_then(serde_json::Value::as_u64);
    let asked = match (req.max_tokens.map(u64::from), completion) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let want = asked.map_or(cap, |a| a.min(cap));
    req.max_tokens = Some(u32::try_from(want).unwrap_or(u32::MAX));
    req.extra.remove("max_completion_tokens");
}

/// The non-standard `service_tier` a request asks for (`priority`,
/// `flex`); `None` for none, `auto` or `default`.
fn service_tier(
    extra: &serde_json::Map<String, serde_json::Value>,
) -> Result<Option<&str>, ApiError> {
    match extra.get("service_tier") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(t)) if STANDARD_SERVICE_TIERS.contains(&t.as_str()) => {
            Ok(None)
        }
        Some(serde_json::Value::String(t)) => Ok(Some(t)),
        Some(_) => {
            Err(ApiError::bad_request("`service_tier` must be a string").param("service_tier"))
        }
    }
}

/// 400 unless `info` prices service tier `tier` completely: its own
/// prices, and its own long-context prices wherever the standard price
/// changes with the prompt's length.
fn tier_priced(info: &ModelInfo, tier: &str) -> Result<(), ApiError> {
    let refuse = |why: &str| {
        Err(ApiError::bad_request(format!(
            "`service_tier` \"{tier}\" is billed at its own price, and this server has no \
             {why} for `{}`; omit it or use \"auto\" or \"default\"",
            info.full_id()
        ))
        .param("service_tier"))
    };
    let Some(prices) = info.pricing.service_tier(Some(tier)) else {
        return refuse("such price");
    };
    let covered = info
        .pricing
        .tiers
        .iter()
        .all(|(above, _)| prices.tiers.iter().any(|(a, _)| a == above));
    if !covered {
        return refuse("long-context price at that tier");
    }
    Ok(())
}

/// Refuses fields that change the price in ways the catalog does not model.
fn refuse_unpriced_options(req: &ChatRequest) -> Result<(), ApiError> {
    // Anthropic's one-hour cache writes cost more than the five-minute
    // writes the catalog prices; wherever a `cache_control` asks for one.
    let parts = req.messages.iter().flat_map(|m| match &m.content {
        Some(Content::Parts(parts)) => parts.as_slice(),
        _ => &[],
    });
    let one_hour = req
        .messages
        .iter()
        .any(|m| m.extra.values().any(long_cache))
        || req.extra.values().any(long_cache)
        || parts
            .filter_map(|p| match p {
                ContentPart::Other(v) => Some(v),
                _ => None,
            })
            .any(long_cache);
    if one_hour {
        return Err(ApiError::bad_request(
            "`cache_control` with a `ttl` other than \"5m\" is billed at a price this server \
             does not charge; omit the ttl",
        )
        .param("cache_control"));
    }
    for field in UNPRICED_OPTIONS {
        if req.extra.contains_key(field) {
            return Err(ApiError::bad_request(format!(
                "`{field}` adds provider charges this server does not price; omit it"
            ))
            .param(field));
        }
    }
    Ok(())
}

/// Whether `v` holds a `cache_control` whose `ttl` is not the standard
/// five minutes, at any depth.
fn long_cache(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| {
            let ttl = v.get("ttl").and_then(serde_json::Value::as_str);
            (k == "cache_control" && ttl.is_some_and(|t| t != "5m")) || long_cache(v)
        }),
        serde_json::Value::Array(items) => items.iter().any(long_cache),
        _ => false,
    }
}

/// The quote's prompt bound for `req`'s own model (an uncatalogued model's
/// context window is taken as [`UNKNOWN_CONTEXT_TOKENS`]).
pub fn prompt_bound(client: &Client, req: &ChatRequest) -> u64 {
    let bound = PromptBound::of(req);
    match client.model(&req.model) {
        Ok(info) => bound.for_model(info),
        Err(_) if bound.unbounded || bound.images > 0 => UNKNOWN_CONTEXT_TOKENS,
        Err(_) => bound.counted,
    }
}

/// Upper bound on a chat prompt's tokens, before the per-model parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PromptBound {
    /// Tokens bounded by bytes and fixed overheads.
    counted: u64,
    /// Images in the prompt.
    images: u64,
    /// A part no byte count bounds: the context window is the bound.
    unbounded: bool,
}

impl PromptBound {
    fn of(req: &ChatRequest) -> Self {
        let mut b = PromptBound {
            counted: REQUEST_OVERHEAD_TOKENS,
            images: 0,
            unbounded: false,
        };
        for m in &req.messages {
            b.add_message(m);
        }
        // Tool definitions, schemas and every forwarded field are sent to
        // the model as prompt text (legacy `functions` included).
        if let Some(tools) = &req.tools {
            b.counted = b.counted.saturating_add(json_len(tools));
        }
        if let Some(format) = &req.response_format {
            b.counted = b.counted.saturating_add(json_len(format));
        }
        b.counted = b.counted.saturating_add(map_len(&req.extra));
        if req.tools.as_ref().is_some_and(|t| !t.is_empty()) || req.extra.contains_key("functions")
        {
            b.counted = b.counted.saturating_add(TOOL_PROMPT_TOKENS);
        }
        b
    }

    fn add_message(&mut self, m: &Message) {
        let mut n = MESSAGE_OVERHEAD_TOKENS;
        match &m.content {
            Some(Content::Text(t)) => n = n.saturating_add(bytes(t)),
            Some(Content::Parts(parts)) => {
                for part in parts {
                    match part {
                        ContentPart::Text { text, .. } => n = n.saturating_add(bytes(text)),
                        ContentPart::ImageUrl { .. } => self.images = self.images.saturating_add(1),
                        ContentPart::Other(_) => self.unbounded = true,
                    }
                }
            }
            None => {}
        }
        for call in m.tool_calls.iter().flatten() {
            n = n.saturating_add(json_len(call));
        }
        for text in [&m.name, &m.tool_call_id, &m.reasoning_content, &m.refusal]
            .into_iter()
            .flatten()
        {
            n = n.saturating_add(bytes(text));
        }
        // Message-level fields the core does not model (a legacy
        // `function_call`, say) are forwarded, so they count.
        n = n.saturating_add(map_len(&m.extra));
        self.counted = self.counted.saturating_add(n);
    }

    /// The bound on `info`: never above its context window, which is the
    /// bound outright when a part cannot be bounded by its bytes.
    fn for_model(self, info: &ModelInfo) -> u64 {
        let context = info.context_window.unwrap_or(UNKNOWN_CONTEXT_TOKENS);
        if self.unbounded {
            return context;
        }
        let images = match image_tokens(&info.provider) {
            Some(per_image) => self.images.saturating_mul(per_image),
            None if self.images > 0 => context,
            None => 0,
        };
        self.counted.saturating_add(images).min(context)
    }
}

/// The most tokens one image in a prompt can cost on `provider`, by the
/// provider's published formula; `None` where no formula bounds it (the
/// context window is then the bound).
///
/// - OpenAI: an image is fitted in 2048×2048, then its short side scaled
///   to 768, and priced per 512-pixel tile: at most 8 tiles. The costliest
///   published per-model rate is gpt-4o-mini's 2,833 + 5,667 per tile.
/// - Anthropic: images are scaled to at most about 1.15 megapixels (long
///   edge 1,568), priced at width × height / 750 tokens.
/// - Gemini tiles large images into 768-pixel tiles without a published
///   cap; Mistral and Cohere publish no per-image ceiling.
pub fn image_tokens(provider: &str) -> Option<u64> {
    match provider {
        "openai" => Some(2_833 + 5_667 * 8),
        "anthropic" => Some(1_568 * 1_568 / 750 + 1),
        _ => None,
    }
}

/// Length of a map of forwarded fields as JSON; nothing when empty.
fn map_len(m: &serde_json::Map<String, serde_json::Value>) -> u64 {
    if m.is_empty() { 0 } else { json_len(m) }
}

/// Length of `v` as JSON, counted without building the string.
fn json_len<T: serde::Serialize + ?Sized>(v: &T) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self
                .0
                .saturating_add(u64::try_from(buf.len()).unwrap_or(u64::MAX));
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    // Serializing request types into a counter cannot fail; a failure would
    // only make the bound smaller, never panic.
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

/// Tokens counted by the fallback rule: ⌈bytes / 4⌉.
pub fn counted_tokens(text_bytes: u64) -> u64 {
    text_bytes.div_ceil(4)
}

/// The usage the fallback rule assigns to a chat whose provider reported none.
pub fn counted_chat_usage(messages: &[Message], delivered_bytes: u64) -> Usage {
    let prompt = messages
        .iter()
        .map(|m| {
            let text: u64 = match &m.content {
                Some(Content::Text(t)) => bytes(t),
                Some(Content::Parts(parts)) => parts
                    .iter()
                    .map(|p| match p {
                        ContentPart::Text { text, .. } => bytes(text),
                        _ => 0,
                    })
                    .fold(0, u64::saturating_add),
                None => 0,
            };
            counted_tokens(text).saturating_add(MESSAGE_OVERHEAD_TOKENS)
        })
        .fold(0, u64::saturating_add);
    Usage::new(prompt, counted_tokens(delivered_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use indoxrouter::types::Message;

    fn client() -> Client {
        Client::builder().no_env().build().unwrap()
    }

    const POLICY: PricePolicy = PricePolicy {
        allow_unpriced: false,
    };

    fn quote(c: &Client, req: &mut ChatRequest) -> Quote {
        POLICY.chat(c, req).unwrap()
    }

    #[test]
    fn chat_quote_bounds_prompt_by_bytes_and_output_by_max_tokens() {
        let c = client();
        let mut req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hello world")])
            .max_tokens(100);
        let q = quote(&c, &mut req);
        let info = c.model("openai/gpt-4o-mini").unwrap();
        let expected = info
            .pricing
            .token_cost_upper_bound(11 + MESSAGE_OVERHEAD_TOKENS + REQUEST_OVERHEAD_TOKENS, 100)
            .unwrap();
        assert_eq!(q.amount, expected);
        assert!(!q.unpriced);
        assert_eq!(req.max_tokens, Some(100));
    }

    #[test]
    fn the_output_limit_is_made_explicit_and_never_above_the_model_maximum() {
        let c = client();
        let max = c
            .model("openai/gpt-4o-mini")
            .unwrap()
            .max_output_tokens
            .unwrap();
        // None given: the model's maximum is sent.
        let mut req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")]);
        quote(&c, &mut req);
        assert_eq!(req.max_tokens.map(u64::from), Some(max));
        // Above the maximum: clamped, and the clamped value is what is sent.
        let mut req =
            ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")]).max_tokens(u32::MAX);
        quote(&c, &mut req);
        assert_eq!(req.max_tokens.map(u64::from), Some(max));
        // Both fields: the smaller is held and sent, the other removed.
        let mut req =
            ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")]).max_tokens(10);
        req.extra
            .insert("max_completion_tokens".into(), serde_json::json!(5000));
        let small = quote(&c, &mut req);
        assert_eq!(req.max_tokens, Some(10));
        assert!(!req.extra.contains_key("max_completion_tokens"));
        let mut req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")]);
        req.extra
            .insert("max_completion_tokens".into(), serde_json::json!(7));
        quote(&c, &mut req);
        assert_eq!(req.max_tokens, Some(7));
        let mut big =
            ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")]).max_tokens(5000);
        assert!(quote(&c, &mut big).amount > small.amount);
        // A limit that is not a positive integer is refused, naming the field.
        let mut req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")]);
        req.extra
            .insert("max_completion_tokens".into(), serde_json::json!("lots"));
        let err = POLICY.chat(&c, &mut req).unwrap_err();
        assert_eq!(
            (err.status.as_u16(), err.param.as_deref()),
            (400, Some("max_completion_tokens"))
        );
    }

    #[test]
    fn parts_the_bytes_cannot_bound_hold_the_context_window() {
        let c = client();
        let info = c.model("google/gemini-2.5-flash-lite").unwrap();
        let video = Message {
            content: Some(Content::Parts(vec![
                ContentPart::text("summarize"),
                ContentPart::Other(serde_json::json!({"type": "file", "file": {"file_id": "f"}})),
            ])),
            ..Message::user("")
        };
        let mut req = ChatRequest::new("google/gemini-2.5-flash-lite", vec![video]).max_tokens(1);
        let q = quote(&c, &mut req);
        // A reasoning-capable Gemini model also holds its thinking budget.
        assert!(info.capabilities.reasoning);
        let expected = info
            .pricing
            .token_cost_upper_bound(info.context_window.unwrap(), 1 + GEMINI_MAX_THINKING_TOKENS)
            .unwrap();
        assert_eq!(q.amount, expected);
    }

    #[test]
    fn images_hold_the_provider_ceiling_and_forwarded_fields_count() {
        let c = client();
        let image = |model: &str| {
            let m = Message {
                content: Some(Content::Parts(vec![ContentPart::image_url(
                    "https://x/y.png",
                )])),
                ..Message::user("")
            };
            ChatRequest::new(model, vec![m]).max_tokens(1)
        };
        let info = c.model("anthropic/claude-haiku-4-5").unwrap();
        let q = quote(&c, &mut image("anthropic/claude-haiku-4-5"));
        let prompt =
            image_tokens("anthropic").unwrap() + MESSAGE_OVERHEAD_TOKENS + REQUEST_OVERHEAD_TOKENS;
        assert_eq!(
            q.amount,
            info.pricing.token_cost_upper_bound(prompt, 1).unwrap()
        );

        let plain = quote(
            &c,
            &mut ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")]).max_tokens(1),
        );
        let mut legacy =
            ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")]).max_tokens(1);
        legacy.extra.insert(
            "functions".into(),
            serde_json::json!([{"name": "f", "parameters": {"type": "object"}}]),
        );
        assert!(quote(&c, &mut legacy).amount > plain.amount);
    }

    #[test]
    fn price_changing_options_are_refused_by_name() {
        let c = client();
        for (field, value) in [
            // gpt-4o-mini has a priority price but no flex one.
            ("service_tier", serde_json::json!("flex")),
            ("service_tier", serde_json::json!("scale")),
            ("service_tier", serde_json::json!(7)),
            ("web_search_options", serde_json::json!({})),
        ] {
            let mut req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")]);
            req.extra.insert(field.into(), value);
            let err = POLICY.chat(&c, &mut req).unwrap_err();
            assert_eq!(
                (err.status.as_u16(), err.param.as_deref()),
                (400, Some(field))
            );
        }
        let mut req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")]);
        req.extra
            .insert("service_tier".into(), serde_json::json!("auto"));
        assert!(POLICY.chat(&c, &mut req).is_ok());
        // A one-hour cache write, at any depth of a part the core keeps verbatim.
        let cached = |ttl: &str| Message {
            content: Some(Content::Parts(vec![ContentPart::Other(serde_json::json!(
                {"type": "document", "source": {"type": "text", "data": "x"},
                 "cache_control": {"type": "ephemeral", "ttl": ttl}}
            ))])),
            ..Message::user("")
        };
        let mut req = ChatRequest::new("anthropic/claude-haiku-4-5", vec![cached("1h")]);
        let err = POLICY.chat(&c, &mut req).unwrap_err();
        assert_eq!(err.param.as_deref(), Some("cache_control"));
        let mut req = ChatRequest::new("anthropic/claude-haiku-4-5", vec![cached("5m")]);
        assert!(POLICY.chat(&c, &mut req).is_ok());
    }

    #[test]
    fn fallbacks_reserve_the_most_expensive_candidate() {
        let c = client();
        let cheap =
            ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")]).max_tokens(10);
        let both = cheap.clone().fallbacks(["openai/gpt-4o"]);
        assert!(quote(&c, &mut both.clone()).amount > quote(&c, &mut cheap.clone()).amount);
    }

    #[test]
    fn unpriced_models_are_refused_unless_allowed() {
        let c = client();
        let req = ChatRequest::new("ollama/llama3", vec![Message::user("hi")]);
        let err = POLICY.chat(&c, &mut req.clone()).unwrap_err();
        assert_eq!(err.code, "model_not_found");
        assert_eq!(err.status, http::StatusCode::NOT_FOUND);
        let q = PricePolicy {
            allow_unpriced: true,
        }
        .chat(&c, &mut req.clone())
        .unwrap();
        assert!(q.unpriced);
        assert_eq!(q.amount, Usd::ZERO);
    }

    #[test]
    fn counted_usage_rule() {
        let u = counted_chat_usage(&[Message::user("12345")], 9);
        assert_eq!(u.prompt_tokens, 2 + MESSAGE_OVERHEAD_TOKENS);
        assert_eq!(u.completion_tokens, 3);
    }
}
