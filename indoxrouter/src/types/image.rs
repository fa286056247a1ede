//! Image generation.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::usage::Usage;
use crate::cost::CostBreakdown;

/// An image-generation request, in OpenAI's shape.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ImageRequest {
    /// `provider/model`, e.g. `openai/dall-e-3`.
    pub model: String,
    /// What to draw.
    pub prompt: String,
    /// Number of images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    /// `1024x1024`, `1024x1792`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
    /// `standard`/`hd` (DALL·E 3) or `low`/`medium`/`high`/`auto` (gpt-image).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<String>,
    /// `vivid` or `natural` (DALL·E 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    /// `url` or `b64_json` (DALL·E; gpt-image always returns base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_format: Option<String>,
    /// End-user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Models to try, in order, if this one fails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<String>,
    /// Provider-specific fields, sent upstream verbatim.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ImageRequest {
    /// A request for one image.
    pub fn new(model: impl Into<String>, prompt: impl Into<String>) -> Self {
        ImageRequest {
            model: model.into(),
            prompt: prompt.into(),
            ..Default::default()
        }
    }

    /// Sets the size.
    pub fn size(mut self, size: impl Into<String>) -> Self {
        self.size = Some(size.into());
        self
    }

    /// Sets the quality.
    pub fn quality(mut self, quality: impl Into<String>) -> Self {
        self.quality = Some(quality.into());
        self
    }

    /// Sets the response format (`url` or `b64_json`).
    pub fn response_format(mut self, format: impl Into<String>) -> Self {
        self.response_format = Some(format.into());
        self
    }
}

/// Generated images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageResponse {
    /// Unix seconds.
    #[serde(default)]
    pub created: u64,
    /// The images.
    pub data: Vec<ImageData>,
    /// Token usage, for token-priced image models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Model that answered (set by the client).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    /// Which configured provider answered.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provider: String,
    /// Exact cost when priced; `None` means unpriced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CostBreakdown>,
}

/// One image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageData {
    /// A temporary URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Base64 image bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub b64_json: Option<String>,
    /// The prompt the provider actually used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_prompt: Option<String>,
}

super::extra::deserialize_with_extra!(ImageRequest, "an image request", extra, {
    model: String = "model" => required,
    prompt: String = "prompt" => required,
    n: Option<u32> = "n" => default,
    size: Option<String> = "size" => default,
    quality: Option<String> = "quality" => default,
    style: Option<String> = "style" => default,
    response_format: Option<String> = "response_format" => default,
    user: Option<String> = "user" => default,
    fallbacks: Vec<String> = "fallbacks" => default,
});
