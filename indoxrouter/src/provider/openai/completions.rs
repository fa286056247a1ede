//! Legacy `/completions` for instruct models.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Quirks, to_json};
use crate::error::Result;
use crate::provider::ProviderConfig;
use crate::types::{CompletionRequest, CompletionResponse, Prompt, Stop};

#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    prompt: &'a Prompt,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<&'a Stop>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

pub(super) fn body(_q: &Quirks, model: &str, req: &CompletionRequest) -> Result<Vec<u8>> {
    to_json(&Body {
        model,
        prompt: &req.prompt,
        max_tokens: req.max_tokens,
        temperature: req.temperature,
        top_p: req.top_p,
        n: req.n,
        stop: req.stop.as_ref(),
        seed: req.seed,
        user: req.user.as_deref(),
        extra: &req.extra,
    })
}

pub(super) fn parse(cfg: &ProviderConfig, body: &[u8]) -> Result<CompletionResponse> {
    let mut resp: CompletionResponse = crate::provider::decode_json(&cfg.id, body)?;
    resp.provider.clone_from(&cfg.id);
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{AdapterKind, openai::OPENAI};

    #[test]
    fn round_trip_reference_example() {
        let req = CompletionRequest::new("openai/gpt-3.5-turbo-instruct", "Say this is a test")
            .max_tokens(7);
        let v: Value =
            serde_json::from_slice(&body(&OPENAI.quirks, "gpt-3.5-turbo-instruct", &req).unwrap())
                .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"model": "gpt-3.5-turbo-instruct", "prompt": "Say this is a test", "max_tokens": 7})
        );
        let cfg = ProviderConfig {
            id: "openai".into(),
            kind: AdapterKind::OpenAi,
            base_url: String::new(),
            api_key: None,
        };
        let r = parse(&cfg, br#"{"id":"cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7","object":"text_completion","created":1589478378,"model":"gpt-3.5-turbo-instruct","system_fingerprint":"fp_44709d6fcb","choices":[{"text":"\n\nThis is indeed a test","index":0,"logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12}}"#).unwrap();
        assert_eq!(r.text(), Some("\n\nThis is indeed a test"));
        assert_eq!(r.usage.total_tokens, 12);
    }
}
