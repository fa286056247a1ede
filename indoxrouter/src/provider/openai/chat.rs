//! Chat request bodies and responses.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Quirks, StreamUsage, to_json, tool_ids::mistral_tool_call_id};
use crate::error::{Error, Result};
use crate::provider::ProviderConfig;
use crate::types::{ChatRequest, ChatResponse, Message, ResponseFormat, Stop, Tool, ToolChoice};

/// The body we send: borrowed from the request, so building it copies nothing
/// but the serialized bytes.
#[derive(Serialize)]
struct Body<'a> {
    model: &'a str,
    messages: Cow<'a, [Message]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<&'a Stop>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    random_seed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    n: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    presence_penalty: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frequency_penalty: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<&'a [Tool]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Cow<'a, ToolChoice>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parallel_tool_calls: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_format: Option<&'a ResponseFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_effort: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<Value>,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

/// Serializes `req` for `model` in this dialect.
pub(super) fn body(q: &Quirks, model: &str, req: &ChatRequest, stream: bool) -> Result<Vec<u8>> {
    if req.messages.is_empty() {
        return Err(Error::InvalidRequest {
            provider: None,
            message: "`messages` must contain at least one message".into(),
            param: Some("messages".into()),
        });
    }
    let messages = if q.alnum9_tool_ids {
        rewrite_tool_ids(&req.messages)
    } else {
        Cow::Borrowed(req.messages.as_slice())
    };
    let (max_tokens, max_completion_tokens) = if q.max_completion_tokens {
        (None, req.max_tokens)
    } else {
        (req.max_tokens, None)
    };
    let (seed, random_seed) = if q.seed_field == "random_seed" {
        (None, req.seed)
    } else {
        (req.seed, None)
    };
    let tool_choice = req
        .tool_choice
        .as_ref()
        .map(|c| match (c, q.alnum9_tool_ids) {
            // Mistral spells `required` as `any`.
            (ToolChoice::Required, true) => Cow::Owned(ToolChoice::Other(Value::from("any"))),
            _ => Cow::Borrowed(c),
        });
    let stream_options = (stream
        && q.stream_usage == StreamUsage::IncludeUsageOption
        && !req.extra.contains_key("stream_options"))
    .then(|| serde_json::json!({"include_usage": true}));
    let body = Body {
        model,
        messages,
        temperature: req.temperature,
        top_p: req.top_p,
        max_tokens,
        max_completion_tokens,
        stop: req.stop.as_ref(),
        seed,
        random_seed,
        n: req.n,
        presence_penalty: req.presence_penalty,
        frequency_penalty: req.frequency_penalty,
        tools: req.tools.as_deref(),
        tool_choice,
        parallel_tool_calls: req.parallel_tool_calls,
        response_format: req.response_format.as_ref(),
        reasoning_effort: req.reasoning_effort.as_deref(),
        user: req.user.as_deref(),
        stream,
        stream_options,
        extra: &req.extra,
    };
    to_json(&body)
}

fn rewrite_tool_ids(messages: &[Message]) -> Cow<'_, [Message]> {
    let needs = messages.iter().any(|m| {
        m.tool_call_id
            .as_deref()
            .is_some_and(|id| mistral_tool_call_id(id) != id)
            || m.tool_calls
                .iter()
                .flatten()
                .any(|c| mistral_tool_call_id(&c.id) != c.id)
    });
    if !needs {
        return Cow::Borrowed(messages);
    }
    let mut owned = messages.to_vec();
    for m in &mut owned {
        if let Some(id) = &mut m.tool_call_id {
            *id = mistral_tool_call_id(id);
        }
        for c in m.tool_calls.iter_mut().flatten() {
            c.id = mistral_tool_call_id(&c.id);
        }
    }
    Cow::Owned(owned)
}

/// Parses a chat completion body.
pub(super) fn parse(cfg: &ProviderConfig, body: &[u8]) -> Result<ChatResponse> {
    let mut resp: ChatResponse =
        serde_json::from_slice(body).map_err(|e| Error::decode(&cfg.id, e))?;
    if resp.choices.is_empty() && resp.extra.contains_key("error") {
        return Err(super::error::from_value(
            cfg,
            200,
            resp.extra.get("error"),
            None,
        ));
    }
    resp.provider.clone_from(&cfg.id);
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::openai::{MISTRAL, OPENAI};
    use crate::types::{FinishReason, Role, ToolCall};

    fn cfg() -> ProviderConfig {
        ProviderConfig {
            id: "openai".into(),
            kind: crate::provider::AdapterKind::OpenAi,
            base_url: "https://api.openai.com/v1".into(),
            api_key: None,
        }
    }

    fn json(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn openai_body_injects_include_usage_and_max_completion_tokens() {
        let req = ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("hi")])
            .max_tokens(5)
            .seed(7)
            .fallbacks(["mistral/mistral-small-latest"]);
        let v = json(&body(&OPENAI.quirks, "gpt-4o-mini", &req, true).unwrap());
        assert_eq!(
            v,
            serde_json::json!({
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "hi"}],
                "max_completion_tokens": 5,
                "seed": 7,
                "stream": true,
                "stream_options": {"include_usage": true}
            })
        );
    }

    #[test]
    fn mistral_body_uses_random_seed_any_and_rewrites_ids() {
        let req = ChatRequest {
            seed: Some(3),
            tool_choice: Some(ToolChoice::Required),
            max_tokens: Some(9),
            ..ChatRequest::new(
                "mistral/mistral-small-latest",
                vec![
                    Message::user("weather?"),
                    Message::assistant_tool_calls(vec![ToolCall::function(
                        "call_abc",
                        "get_weather",
                        "{}",
                    )]),
                    Message::tool("call_abc", "sunny"),
                ],
            )
        };
        let v = json(&body(&MISTRAL.quirks, "mistral-small-latest", &req, true).unwrap());
        assert_eq!(v["random_seed"], 3);
        assert!(v.get("seed").is_none());
        assert_eq!(v["tool_choice"], "any");
        assert_eq!(v["max_tokens"], 9);
        assert!(v.get("stream_options").is_none());
        let call_id = v["messages"][1]["tool_calls"][0]["id"].as_str().unwrap();
        assert_eq!(call_id.len(), 9);
        assert_eq!(v["messages"][2]["tool_call_id"], call_id);
    }

    #[test]
    fn empty_messages_is_invalid() {
        let req = ChatRequest::new("openai/gpt-4o-mini", vec![]);
        let e = body(&OPENAI.quirks, "gpt-4o-mini", &req, false).unwrap_err();
        assert_eq!(e.code(), "invalid_request");
    }

    /// The example response from OpenAI's API reference (chat object).
    #[test]
    fn parses_reference_response() {
        let body = br#"{
          "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
          "object": "chat.completion",
          "created": 1741570283,
          "model": "gpt-4o-2024-08-06",
          "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": "The image shows a wooden boardwalk.", "refusal": null, "annotations": []},
            "logprobs": null,
            "finish_reason": "stop"
          }],
          "usage": {
            "prompt_tokens": 1117, "completion_tokens": 46, "total_tokens": 1163,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
          },
          "service_tier": "default",
          "system_fingerprint": "fp_fc9f1d7035"
        }"#;
        let r = parse(&cfg(), body).unwrap();
        assert_eq!(r.text(), Some("The image shows a wooden boardwalk."));
        assert_eq!(r.usage.prompt_tokens, 1117);
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::Stop));
        assert_eq!(r.choices[0].message.role, Role::Assistant);
        assert!(r.choices[0].message.extra.contains_key("annotations"));
        assert_eq!(r.provider, "openai");
    }

    #[test]
    fn tolerates_drift() {
        let body = br#"{"id":"x","created":1,"model":"m","choices":[{"index":0,"message":{"role":"critic","content":"hi"},"finish_reason":""}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2},"service_tier":"brand_new","new_field":{"a":1}}"#;
        let r = parse(&cfg(), body).unwrap();
        assert_eq!(r.object, "chat.completion");
        assert_eq!(
            r.choices[0].finish_reason,
            Some(FinishReason::Other(String::new()))
        );
        assert_eq!(r.choices[0].message.role, Role::Other("critic".into()));
        assert_eq!(r.extra["new_field"]["a"], 1);
    }

    #[test]
    fn tool_call_response() {
        let body = br#"{"id":"chatcmpl-abc123","object":"chat.completion","created":1699896916,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_abc123","type":"function","function":{"name":"get_current_weather","arguments":"{\n\"location\": \"Boston, MA\"\n}"}}]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99}}"#;
        let r = parse(&cfg(), body).unwrap();
        assert_eq!(r.tool_calls()[0].function.name, "get_current_weather");
        assert_eq!(r.choices[0].finish_reason, Some(FinishReason::ToolCalls));
    }

    #[test]
    fn vision_parts_serialize_in_openai_shape() {
        let req = ChatRequest::new(
            "gpt-4o",
            vec![Message::user_parts(vec![
                crate::types::ContentPart::text("What is this?"),
                crate::types::ContentPart::image_url("https://example.com/a.png"),
            ])],
        )
        .response_format(ResponseFormat::JsonObject);
        let v = json(&body(&OPENAI.quirks, "gpt-4o", &req, false).unwrap());
        assert_eq!(
            v["messages"][0]["content"],
            serde_json::json!([
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
            ])
        );
        assert_eq!(
            v["response_format"],
            serde_json::json!({"type": "json_object"})
        );
        assert!(v.get("stream").is_none());
    }
}
