//! `/images/generations`: DALL·E (url or base64, priced per image) and the
//! gpt-image family (always base64, priced by the tokens it reports).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::to_json;
use crate::error::{Error, Result};
use crate::provider::ProviderConfig;
use crate::types::{
    CompletionTokensDetails, ImageData, ImageRequest, ImageResponse, PromptTokensDetails, Usage,
};

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    prompt: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quality: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    style: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

/// gpt-image models reject `response_format` (they always return base64).
pub(crate) fn is_gpt_image(model: &str) -> bool {
    model.starts_with("gpt-image") || model.starts_with("chatgpt-image")
}

pub(super) fn body(model: &str, req: &ImageRequest) -> Result<Vec<u8>> {
    if req.prompt.trim().is_empty() {
        return Err(Error::InvalidRequest {
            provider: None,
            message: "`prompt` must not be empty".into(),
            param: Some("prompt".into()),
        });
    }
    let response_format = if is_gpt_image(model) {
        None
    } else {
        req.response_format.as_deref()
    };
    to_json(&Body {
        model,
        prompt: &req.prompt,
        n: req.n,
        size: req.size.as_deref(),
        quality: req.quality.as_deref(),
        style: req.style.as_deref(),
        response_format,
        user: req.user.as_deref(),
        extra: &req.extra,
    })
}

#[derive(Deserialize)]
struct Wire {
    #[serde(default)]
    created: u64,
    #[serde(default)]
    data: Vec<ImageData>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// The Images API reports `input_tokens`/`output_tokens`, not chat's names.
#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    input_tokens_details: Option<InputDetails>,
}

#[derive(Deserialize)]
struct InputDetails {
    #[serde(default)]
    image_tokens: u64,
}

pub(super) fn parse(cfg: &ProviderConfig, body: &[u8]) -> Result<ImageResponse> {
    let wire: Wire = crate::provider::decode_json(&cfg.id, body)?;
    let usage = wire.usage.map(|u| {
        let image_in = u.input_tokens_details.map_or(0, |d| d.image_tokens);
        Usage {
            prompt_tokens: u.input_tokens,
            completion_tokens: u.output_tokens,
            total_tokens: u.input_tokens.saturating_add(u.output_tokens),
            prompt_tokens_details: Some(PromptTokensDetails {
                image_tokens: image_in,
                ..Default::default()
            }),
            // Every output token of an image model is an image token.
            completion_tokens_details: Some(CompletionTokensDetails {
                image_tokens: u.output_tokens,
                ..Default::default()
            }),
        }
    });
    Ok(ImageResponse {
        created: wire.created,
        data: wire.data,
        usage,
        model: String::new(),
        provider: cfg.id.clone(),
        cost: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::AdapterKind;

    #[test]
    fn gpt_image_drops_response_format() {
        let req = ImageRequest::new("openai/gpt-image-1", "a cat").response_format("url");
        let v: Value = serde_json::from_slice(&body("gpt-image-1", &req).unwrap()).unwrap();
        assert!(v.get("response_format").is_none());
        let v: Value = serde_json::from_slice(&body("dall-e-3", &req).unwrap()).unwrap();
        assert_eq!(v["response_format"], "url");
    }

    #[test]
    fn parses_gpt_image_usage() {
        let cfg = ProviderConfig {
            id: "openai".into(),
            kind: AdapterKind::OpenAi,
            base_url: String::new(),
            api_key: None,
        };
        let r = parse(&cfg, br#"{"created":1713833628,"data":[{"b64_json":"iVBORw0KGgo="}],"usage":{"total_tokens":100,"input_tokens":50,"output_tokens":50,"input_tokens_details":{"text_tokens":10,"image_tokens":40}}}"#).unwrap();
        let u = r.usage.unwrap();
        assert_eq!(u.prompt_tokens, 50);
        assert_eq!(u.image_input_tokens(), 40);
        assert_eq!(u.image_output_tokens(), 50);
    }
}
