//! What a request may cost before it runs, and what it did cost after.
//!
//! Before a provider call the server reserves an upper bound: prompt tokens
//! bounded by the prompt's UTF-8 byte count (every BPE token covers at least
//! one byte) plus a per-message allowance, and the output bounded by
//! `max_tokens` (or the model's maximum output) for every choice, priced at the
//! most expensive tier. Images in a prompt have no byte bound; they are
//! reserved at [`IMAGE_PART_TOKENS`] each, so a reservation can rarely fall
//! short — the charge is then still the provider-reported cost.
//!
//! After the call the charge is the core's exact cost of the provider's
//! reported usage. When a provider reports no usage (a stream cut off or
//! abandoned before its usage event, or an endpoint that never reports it),
//! tokens are counted by one rule for streamed and non-streamed answers alike:
//! ⌈bytes / 4⌉ of the prompt text plus [`MESSAGE_OVERHEAD_TOKENS`] per message,
//! and ⌈bytes / 4⌉ of the text delivered.

use indoxrouter::types::{
    ChatRequest, CompletionRequest, Content, ContentPart, EmbeddingInput, EmbeddingRequest,
    ImageRequest, Message, Usage,
};
use indoxrouter::{Client, ModelInfo, Usd};

use crate::error::ApiError;

/// Tokens reserved per image in a prompt.
pub const IMAGE_PART_TOKENS: u64 = 6_000;
/// Tokens of framing per message (role markers, separators).
pub const MESSAGE_OVERHEAD_TOKENS: u64 = 8;
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

    /// Quote for a chat request.
    pub fn chat(self, client: &Client, req: &ChatRequest) -> Result<Quote, ApiError> {
        let prompt = chat_prompt_bound(&req.messages, req);
        let requested = req.max_output_tokens();
        let n = u64::from(req.n.unwrap_or(1).max(1));
        self.quote(client, models(&req.model, &req.fallbacks), |info| {
            let out = max_output(requested, info).saturating_mul(n);
            info.pricing.token_cost_upper_bound(prompt, out)
        })
    }

    /// Quote for a text completion (each prompt may become its own call).
    pub fn completion(self, client: &Client, req: &CompletionRequest) -> Result<Quote, ApiError> {
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

/// Upper bound on a chat prompt's tokens.
fn chat_prompt_bound(messages: &[Message], req: &ChatRequest) -> u64 {
    let mut total = messages
        .iter()
        .map(message_bound)
        .fold(0, u64::saturating_add);
    // Tool definitions and schemas are sent to the model as prompt text.
    if let Some(tools) = &req.tools {
        total = total.saturating_add(json_len(tools));
    }
    if let Some(format) = &req.response_format {
        total = total.saturating_add(json_len(format));
    }
    total
}

fn message_bound(m: &Message) -> u64 {
    let mut n = MESSAGE_OVERHEAD_TOKENS;
    match &m.content {
        Some(Content::Text(t)) => n = n.saturating_add(bytes(t)),
        Some(Content::Parts(parts)) => {
            for part in parts {
                n = n.saturating_add(match part {
                    ContentPart::Text { text, .. } => bytes(text),
                    ContentPart::ImageUrl { .. } => IMAGE_PART_TOKENS,
                    ContentPart::Other(v) => json_len(v),
                });
            }
        }
        None => {}
    }
    for call in m.tool_calls.iter().flatten() {
        n = n
            .saturating_add(bytes(&call.function.name))
            .saturating_add(bytes(&call.function.arguments));
    }
    if let Some(name) = &m.name {
        n = n.saturating_add(bytes(name));
    }
    n
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

    #[test]
    fn chat_quote_bounds_prompt_by_bytes_and_output_by_max_tokens() {
        let c = client();
        let req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hello world")])
            .max_tokens(100);
        let q = PricePolicy {
            allow_unpriced: false,
        }
        .chat(&c, &req)
        .unwrap();
        let info = c.model("openai/gpt-4o-mini").unwrap();
        let expected = info
            .pricing
            .token_cost_upper_bound(11 + MESSAGE_OVERHEAD_TOKENS, 100)
            .unwrap();
        assert_eq!(q.amount, expected);
        assert!(!q.unpriced);
        assert!(q.amount > Usd::ZERO);
    }

    #[test]
    fn fallbacks_reserve_the_most_expensive_candidate() {
        let c = client();
        let cheap =
            ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")]).max_tokens(10);
        let both = cheap.clone().fallbacks(["openai/gpt-4o"]);
        let p = PricePolicy {
            allow_unpriced: false,
        };
        assert!(p.chat(&c, &both).unwrap().amount > p.chat(&c, &cheap).unwrap().amount);
    }

    #[test]
    fn unpriced_models_are_refused_unless_allowed() {
        let c = client();
        let req = ChatRequest::new("ollama/llama3", vec![Message::user("hi")]);
        let err = PricePolicy {
            allow_unpriced: false,
        }
        .chat(&c, &req)
        .unwrap_err();
        assert_eq!(err.code, "model_not_found");
        assert_eq!(err.status, http::StatusCode::NOT_FOUND);
        let q = PricePolicy {
            allow_unpriced: true,
        }
        .chat(&c, &req)
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
