//! Token usage, in OpenAI's shape, with the extra counters other providers bill separately.

use serde::{Deserialize, Serialize};

/// Token counts for one request.
///
/// `prompt_tokens` counts every input token, including cached reads and cache
/// writes; `completion_tokens` counts every output token, including reasoning.
/// The details say how much of each total is billed at a different price.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// All input tokens (uncached + cached reads + cache writes).
    #[serde(default)]
    pub prompt_tokens: u64,
    /// All output tokens (visible + reasoning).
    #[serde(default)]
    pub completion_tokens: u64,
    /// `prompt_tokens + completion_tokens`.
    #[serde(default)]
    pub total_tokens: u64,
    /// Parts of `prompt_tokens` priced differently.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// Parts of `completion_tokens` priced or reported separately.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
}

/// Breakdown of the prompt tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    /// Tokens read from the provider's prompt cache.
    #[serde(default)]
    pub cached_tokens: u64,
    /// Tokens written to the prompt cache (Anthropic bills these above the input price).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_creation_tokens: u64,
    /// Audio input tokens.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub audio_tokens: u64,
    /// Image input tokens, where the provider reports them (image generation/edits).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub image_tokens: u64,
}

/// Breakdown of the completion tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    /// Hidden reasoning tokens (already included in `completion_tokens`).
    #[serde(default)]
    pub reasoning_tokens: u64,
    /// Audio output tokens.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub audio_tokens: u64,
    /// Image output tokens (image generation priced per token, e.g. gpt-image-1).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub image_tokens: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Usage {
    /// Usage with only prompt and completion totals.
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Usage {
            prompt_tokens,
            completion_tokens,
            total_tokens: prompt_tokens.saturating_add(completion_tokens),
            prompt_tokens_details: None,
            completion_tokens_details: None,
        }
    }

    /// Tokens read from the prompt cache.
    pub fn cached_tokens(&self) -> u64 {
        self.prompt_tokens_details.map_or(0, |d| d.cached_tokens)
    }

    /// Tokens written to the prompt cache.
    pub fn cache_creation_tokens(&self) -> u64 {
        self.prompt_tokens_details
            .map_or(0, |d| d.cache_creation_tokens)
    }

    /// Hidden reasoning tokens.
    pub fn reasoning_tokens(&self) -> u64 {
        self.completion_tokens_details
            .map_or(0, |d| d.reasoning_tokens)
    }

    /// Image input tokens.
    pub fn image_input_tokens(&self) -> u64 {
        self.prompt_tokens_details.map_or(0, |d| d.image_tokens)
    }

    /// Image output tokens.
    pub fn image_output_tokens(&self) -> u64 {
        self.completion_tokens_details.map_or(0, |d| d.image_tokens)
    }

    /// True when the provider reported no usage at all (every count zero):
    /// such a response is unpriced, not free.
    pub fn is_empty(&self) -> bool {
        self.prompt_tokens == 0 && self.completion_tokens == 0 && self.total_tokens == 0
    }

    /// Adds another usage to this one (used when summing several calls).
    pub fn add(&mut self, other: &Usage) {
        self.prompt_tokens = self.prompt_tokens.saturating_add(other.prompt_tokens);
        self.completion_tokens = self
            .completion_tokens
            .saturating_add(other.completion_tokens);
        self.total_tokens = self.total_tokens.saturating_add(other.total_tokens);
        if let Some(o) = other.prompt_tokens_details {
            let d = self
                .prompt_tokens_details
                .get_or_insert_with(Default::default);
            d.cached_tokens = d.cached_tokens.saturating_add(o.cached_tokens);
            d.cache_creation_tokens = d
                .cache_creation_tokens
                .saturating_add(o.cache_creation_tokens);
            d.audio_tokens = d.audio_tokens.saturating_add(o.audio_tokens);
            d.image_tokens = d.image_tokens.saturating_add(o.image_tokens);
        }
        if let Some(o) = other.completion_tokens_details {
            let d = self
                .completion_tokens_details
                .get_or_insert_with(Default::default);
            d.reasoning_tokens = d.reasoning_tokens.saturating_add(o.reasoning_tokens);
            d.audio_tokens = d.audio_tokens.saturating_add(o.audio_tokens);
            d.image_tokens = d.image_tokens.saturating_add(o.image_tokens);
        }
    }
}
