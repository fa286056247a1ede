//! The counted rule: the usage billed for a streamed call whose provider
//! never reported its own (the stream was cut, or the drain bound passed
//! before the usage event).
//!
//! - **The provider's own early counts win.** Anthropic announces the exact
//!   input tokens in `message_start`; when a stream has that, its prompt is
//!   billed by it.
//! - **Otherwise everything sent is counted**: message text, tool calls,
//!   tool definitions, schemas and every forwarded field, with a real BPE
//!   tokenizer — the model's own for OpenAI models (o200k or cl100k, from
//!   `tiktoken-rs`), and o200k as the stand-in for families that publish
//!   none for their current models (Anthropic, Gemini, Mistral, Cohere) —
//!   plus the per-message and per-request format tokens the quote uses.
//!   Images count at the provider's per-image ceiling; a part no tokenizer
//!   can count (files, audio, video, images where no ceiling is published)
//!   makes the prompt the quote's prompt bound.
//! - **Output** is every delivered token (content, reasoning, tool-call
//!   names and arguments), tokenized the same way, and never less than an
//!   early count the provider sent.
//!
//! Counting happens only when the rule is needed, at the end of such a
//! stream; the request path copies the prompt's text, nothing more.

use indoxrouter::types::{ChatChunk, ChatRequest, Content, ContentPart, Message, Usage};
use tiktoken_rs::CoreBPE;
use tiktoken_rs::tokenizer::{Tokenizer, get_tokenizer};

use crate::billing::{MESSAGE_OVERHEAD_TOKENS, REQUEST_OVERHEAD_TOKENS, TOOL_PROMPT_TOKENS};

/// Delivered text kept for counting; past it, bytes count ⌈n/4⌉. Far above
/// any model's output limit in text.
const MAX_KEPT_BYTES: usize = 4 << 20;
/// Prompt text kept for counting while a stream runs (the rest counts
/// ⌈bytes/4⌉): a 16 MiB prompt must not pin 16 MiB for a stream's life.
const MAX_PROMPT_BYTES: usize = 1 << 20;
/// Text is tokenized in pieces of at most this many bytes: the tokenizer's
/// regex backtracks over whitespace runs, and a run of about a million
/// characters overflows its stack (and the crate panics on that error).
const PIECE_BYTES: usize = 64 << 10;

/// The tokenizer for `provider`'s `model`: its own for OpenAI models, o200k
/// otherwise (and for OpenAI ids `tiktoken-rs` does not know).
fn encoder(provider: &str, model: &str) -> &'static CoreBPE {
    let family = if provider == "openai" {
        get_tokenizer(model)
    } else {
        None
    };
    match family {
        Some(Tokenizer::Cl100kBase) => tiktoken_rs::cl100k_base_singleton(),
        Some(Tokenizer::P50kBase | Tokenizer::P50kEdit) => tiktoken_rs::p50k_base_singleton(),
        Some(Tokenizer::R50kBase | Tokenizer::Gpt2) => tiktoken_rs::r50k_base_singleton(),
        _ => tiktoken_rs::o200k_base_singleton(),
    }
}

/// Tokens in `text`, counted piece by piece (a piece boundary may split
/// one token in two: at most one extra token per 64 KiB). A piece the
/// tokenizer fails on counts one token per byte, an upper bound for any
/// byte-level BPE, so no input can make the count zero.
fn count(bpe: &CoreBPE, text: &str) -> u64 {
    let mut total = 0u64;
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(PIECE_BYTES);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (piece, tail) = rest.split_at(end);
        let tokens = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            bpe.encode_ordinary(piece).len()
        }))
        .unwrap_or(piece.len());
        total = total.saturating_add(u64::try_from(tokens).unwrap_or(u64::MAX));
        rest = tail;
    }
    total
}

/// What a chat prompt sends as text, kept for the counted rule.
#[derive(Debug, Default)]
pub struct PromptText {
    text: String,
    messages: u64,
    images: u64,
    tools: bool,
    /// Prompt bytes past [`MAX_PROMPT_BYTES`], counted ⌈n/4⌉.
    overflow: u64,
    /// A part no tokenizer counts: the prompt is billed at `bound`.
    uncountable: bool,
    /// The quote's prompt bound for the model.
    bound: u64,
}

impl PromptText {
    /// Copies what `req` sends as text; `bound` gives the quote's prompt
    /// bound for the model, asked for only when a part cannot be counted.
    pub fn of(req: &ChatRequest, bound: impl FnOnce() -> u64) -> Self {
        let mut p = PromptText {
            messages: u64::try_from(req.messages.len()).unwrap_or(u64::MAX),
            tools: req.tools.as_ref().is_some_and(|t| !t.is_empty())
                || req.extra.contains_key("functions"),
            ..PromptText::default()
        };
        for m in &req.messages {
            p.add_message(m);
        }
        if let Some(tools) = &req.tools {
            p.add_json(tools);
        }
        if let Some(format) = &req.response_format {
            p.add_json(format);
        }
        if !req.extra.is_empty() {
            p.add_json(&req.extra);
        }
        if p.uncountable || p.images > 0 {
            p.bound = bound();
        }
        if p.uncountable {
            p.text = String::new();
        }
        p
    }

    fn add_message(&mut self, m: &Message) {
        match &m.content {
            Some(Content::Text(t)) => self.add(t),
            Some(Content::Parts(parts)) => {
                for part in parts {
                    match part {
                        ContentPart::Text { text, .. } => self.add(text),
                        ContentPart::ImageUrl { .. } => self.images += 1,
                        ContentPart::Other(_) => self.uncountable = true,
                    }
                }
            }
            None => {}
        }
        for call in m.tool_calls.iter().flatten() {
            self.add_json(call);
        }
        for text in [&m.name, &m.tool_call_id, &m.reasoning_content, &m.refusal]
            .into_iter()
            .flatten()
        {
            self.add(text);
        }
        if !m.extra.is_empty() {
            self.add_json(&m.extra);
        }
    }

    fn add(&mut self, text: &str) {
        if self.uncountable {
            return;
        }
        if self.text.len() + text.len() + 1 > MAX_PROMPT_BYTES {
            let n = u64::try_from(text.len()).unwrap_or(u64::MAX);
            self.overflow = self.overflow.saturating_add(n);
            return;
        }
        // A separator, so words of adjacent fields do not merge.
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(text);
    }

    /// The prompt tokens by bytes alone (one per byte, the overheads, the
    /// bound for what cannot be counted): the fallback should counting
    /// itself ever fail.
    pub fn byte_tokens(&self) -> u64 {
        if self.uncountable || self.images > 0 {
            return self.bound;
        }
        u64::try_from(self.text.len())
            .unwrap_or(u64::MAX)
            .saturating_add(self.overflow)
            .saturating_add(self.messages.saturating_mul(MESSAGE_OVERHEAD_TOKENS))
            .saturating_add(REQUEST_OVERHEAD_TOKENS)
    }

    fn add_json<T: serde::Serialize + ?Sized>(&mut self, v: &T) {
        if let Ok(json) = serde_json::to_string(v) {
            self.add(&json);
        }
    }

    /// The prompt tokens the counted rule bills on `provider`'s `model`.
    pub fn tokens(&self, provider: &str, model: &str) -> u64 {
        let images = match crate::billing::image_tokens(provider) {
            _ if self.uncountable => return self.bound,
            Some(per_image) => self.images.saturating_mul(per_image),
            None if self.images > 0 => return self.bound,
            None => 0,
        };
        count(encoder(provider, model), &self.text)
            .saturating_add(self.overflow.div_ceil(4))
            .saturating_add(self.messages.saturating_mul(MESSAGE_OVERHEAD_TOKENS))
            .saturating_add(REQUEST_OVERHEAD_TOKENS)
            .saturating_add(if self.tools { TOOL_PROMPT_TOKENS } else { 0 })
            .saturating_add(images)
    }
}

/// The text a stream delivered (content, reasoning, tool-call names and
/// arguments), kept for the counted rule.
#[derive(Debug, Default)]
pub struct Delivered {
    text: String,
    /// Bytes past [`MAX_KEPT_BYTES`].
    overflow: u64,
}

impl Delivered {
    /// Adds what `chunk` delivers.
    pub fn push(&mut self, chunk: &ChatChunk) {
        for c in &chunk.choices {
            let d = &c.delta;
            for text in [&d.content, &d.reasoning_content].into_iter().flatten() {
                self.keep(text);
            }
            for f in d
                .tool_calls
                .iter()
                .flatten()
                .filter_map(|t| t.function.as_ref())
            {
                for text in [&f.name, &f.arguments].into_iter().flatten() {
                    self.keep(text);
                }
            }
        }
    }

    fn keep(&mut self, text: &str) {
        if self.text.len() + text.len() <= MAX_KEPT_BYTES {
            self.text.push_str(text);
        } else {
            let n = u64::try_from(text.len()).unwrap_or(u64::MAX);
            self.overflow = self.overflow.saturating_add(n);
        }
    }

    /// Whether anything was delivered.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty() && self.overflow == 0
    }

    /// Bytes delivered (one token per byte bounds the output).
    pub fn bytes(&self) -> u64 {
        u64::try_from(self.text.len())
            .unwrap_or(u64::MAX)
            .saturating_add(self.overflow)
    }

    /// The output tokens the counted rule bills on `provider`'s `model`.
    pub fn tokens(&self, provider: &str, model: &str) -> u64 {
        count(encoder(provider, model), &self.text).saturating_add(self.overflow.div_ceil(4))
    }
}

/// The usage billed for a stream that ended without a usage report.
pub fn counted_usage(
    prompt: &PromptText,
    delivered: &Delivered,
    early: Option<Usage>,
    provider: &str,
    model: &str,
) -> Usage {
    let output = delivered.tokens(provider, model);
    match early {
        Some(mut u) if u.prompt_tokens > 0 => {
            u.completion_tokens = u.completion_tokens.max(output);
            u
        }
        _ => Usage::new(prompt.tokens(provider, model), output),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_tokenizer_counts_what_bytes_over_four_undercounts() {
        // Code is dense in tokens: bytes/4 says 4, the model counts 9.
        let code = "if(x){y[0]=1;}";
        assert_eq!(count(encoder("openai", "gpt-4o-mini"), code), 9);
        assert_eq!(u64::try_from(code.len()).unwrap().div_ceil(4), 4);
        assert_eq!(count(encoder("openai", "gpt-4o-mini"), "hello world"), 2);
        // gpt-4 is a cl100k model; both count plain English alike.
        assert_eq!(count(encoder("openai", "gpt-4"), "hello world"), 2);
    }

    #[test]
    fn a_whitespace_bomb_is_counted_not_panicked_on() {
        // Two million spaces overflow the tokenizer's regex stack when
        // tokenized in one go; in pieces they count, and never as zero.
        let bomb = " ".repeat(2_000_000) + "and then the real prompt";
        let n = count(encoder("openai", "gpt-4o-mini"), &bomb);
        assert!(n > 0);
        let req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user(bomb)]);
        let p = PromptText::of(&req, || 999);
        assert!(p.tokens("openai", "gpt-4o-mini") > 0);
    }

    #[test]
    fn everything_sent_counts_and_early_provider_counts_win() {
        let plain = ChatRequest::new("openai/gpt-4o", vec![Message::user("hello world")]);
        let with_tools = {
            let mut r = plain.clone();
            r.extra.insert(
                "functions".into(),
                serde_json::json!([{"name": "lookup", "parameters": {"type": "object"}}]),
            );
            r
        };
        let a = PromptText::of(&plain, || 999).tokens("openai", "gpt-4o");
        let b = PromptText::of(&with_tools, || 999).tokens("openai", "gpt-4o");
        assert_eq!(a, 2 + MESSAGE_OVERHEAD_TOKENS + REQUEST_OVERHEAD_TOKENS);
        assert!(b > a + TOOL_PROMPT_TOKENS, "{b} vs {a}");

        let video = ChatRequest::new(
            "google/gemini-2.5-flash",
            vec![Message {
                content: Some(Content::Parts(vec![ContentPart::Other(
                    serde_json::json!({"fileData": {"fileUri": "gs://a/b.mp4"}}),
                )])),
                ..Message::user("")
            }],
        );
        assert_eq!(
            PromptText::of(&video, || 1_048_576).tokens("google", "gemini-2.5-flash"),
            1_048_576
        );

        let p = PromptText::of(&plain, || 999);
        let delivered = Delivered::default();
        let early = Usage::new(472, 1);
        assert_eq!(
            counted_usage(&p, &delivered, Some(early), "anthropic", "claude-haiku-4-5"),
            Usage::new(472, 1)
        );
        assert_eq!(
            counted_usage(&p, &delivered, None, "openai", "gpt-4o"),
            Usage::new(a, 0)
        );
    }
}
