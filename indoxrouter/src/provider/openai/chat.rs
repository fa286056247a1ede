//! Chat request bodies and responses.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value};

use super::tool_ids::{is_mistral_tool_call_id, mistral_tool_call_id};
use super::{Quirks, StreamUsage, to_json};
use crate::error::{Error, Result};
use crate::provider::ProviderConfig;
use crate::types::{
    ChatRequest, ChatResponse, Message, ResponseFormat, Role, Stop, Tool, ToolChoice,
};

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
    stream_options: Option<StreamOptions<'a>>,
    #[serde(flatten)]
    extra: Cow<'a, Map<String, Value>>,
}

/// The caller's `stream_options`, or ours asking for usage.
#[derive(Serialize)]
#[serde(untagged)]
enum StreamOptions<'a> {
    User(&'a Value),
    IncludeUsage(IncludeUsage),
}

/// `{"include_usage": true}`, without building a `Value` per request.
#[derive(Serialize)]
struct IncludeUsage {
    include_usage: bool,
}

/// Keys we always set ourselves; a copy in `extra` (e.g. from a request
/// deserialized off the wire) must not be sent twice or override the mode.
const MANAGED: &[&str] = &["model", "messages", "stream", "stream_options"];

/// OpenAI fields that Mistral's API rejects with 422 `extra_forbidden`.
const MISTRAL_REJECTS: &[&str] = &[
    "max_completion_tokens",
    "user",
    "logit_bias",
    "store",
    "service_tier",
    "seed",
    "metadata",
    "modalities",
];

/// Serializes `req` for `model` in this dialect.
pub(super) fn body(q: &Quirks, model: &str, req: &ChatRequest, stream: bool) -> Result<Vec<u8>> {
    if req.messages.is_empty() {
        return Err(Error::InvalidRequest {
            provider: None,
            message: "`messages` must contain at least one message".into(),
            param: Some("messages".into()),
        });
    }
    let messages = outbound_messages(&req.messages, q.mistral_strict);
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
        .map(|c| match (c, q.mistral_strict) {
            // Mistral spells `required` as `any`.
            (ToolChoice::Required, true) => Cow::Owned(ToolChoice::Other(Value::from("any"))),
            _ => Cow::Borrowed(c),
        });
    let user_stream_options = req.extra.get("stream_options").filter(|_| stream);
    let stream_options = match (stream, q.stream_usage, user_stream_options) {
        (true, StreamUsage::IncludeUsageOption, Some(v)) => Some(StreamOptions::User(v)),
        (true, StreamUsage::IncludeUsageOption, None) => {
            Some(StreamOptions::IncludeUsage(IncludeUsage {
                include_usage: true,
            }))
        }
        _ => None,
    };
    let rejects: &[&str] = if q.mistral_strict {
        MISTRAL_REJECTS
    } else {
        &[]
    };
    let extra = if req
        .extra
        .keys()
        .any(|k| MANAGED.contains(&k.as_str()) || rejects.contains(&k.as_str()))
    {
        Cow::Owned(
            req.extra
                .iter()
                .filter(|(k, _)| !MANAGED.contains(&k.as_str()) && !rejects.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        )
    } else {
        Cow::Borrowed(&req.extra)
    };
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
        user: req.user.as_deref().filter(|_| !q.mistral_strict),
        stream,
        stream_options,
        extra,
    };
    to_json(&body)
}

/// The messages as this dialect accepts them. Borrowed unless something
/// must change, which is rare: `reasoning_content` (a response field that
/// DeepSeek and others reject as input) is dropped everywhere; for Mistral,
/// foreign tool-call ids are rewritten and fields it rejects are dropped.
fn outbound_messages(messages: &[Message], mistral: bool) -> Cow<'_, [Message]> {
    let needs = |m: &Message| {
        m.reasoning_content.is_some()
            || (mistral
                && (m.role == Role::Developer
                    || (m.name.is_some() && m.role != Role::Tool)
                    || m.refusal.is_some()
                    || !m.extra.is_empty()
                    || m.tool_call_id
                        .as_deref()
                        .is_some_and(|id| !is_mistral_tool_call_id(id))
                    || m.tool_calls
                        .iter()
                        .flatten()
                        .any(|c| !is_mistral_tool_call_id(&c.id))))
    };
    if !messages.iter().any(needs) {
        return Cow::Borrowed(messages);
    }
    let mut owned = messages.to_vec();
    for m in &mut owned {
        m.reasoning_content = None;
        if !mistral {
            continue;
        }
        if m.role == Role::Developer {
            m.role = Role::System;
        }
        if m.role != Role::Tool {
            m.name = None;
        }
        m.refusal = None;
        m.extra.clear();
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
    let mut resp: ChatResponse = crate::provider::decode_json(&cfg.id, body)?;
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
    use crate::types::{FinishReason, ToolCall};

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
    fn mistral_drops_fields_it_rejects() {
        let mut dev = Message::new(Role::Developer, "be brief");
        dev.name = Some("ops".into());
        let mut replayed = Message::assistant("earlier answer");
        replayed.refusal = Some("no".into());
        replayed.reasoning_content = Some("thinking".into());
        replayed
            .extra
            .insert("annotations".into(), serde_json::json!([]));
        let mut req = ChatRequest::new("m", vec![dev, replayed, Message::user("hi")]);
        req.user = Some("u1".into());
        req.extra.insert("stream".into(), Value::Bool(true));
        req.extra
            .insert("logit_bias".into(), serde_json::json!({"1": 1}));
        req.extra.insert("safe_prompt".into(), Value::Bool(true));
        let v = json(&body(&MISTRAL.quirks, "mistral-small-latest", &req, false).unwrap());
        assert_eq!(
            v["messages"][0],
            serde_json::json!({"role": "system", "content": "be brief"})
        );
        assert_eq!(
            v["messages"][1],
            serde_json::json!({"role": "assistant", "content": "earlier answer"})
        );
        assert!(v.get("user").is_none());
        assert!(v.get("logit_bias").is_none());
        assert!(
            v.get("stream").is_none(),
            "managed key from extra must not leak: {v}"
        );
        assert_eq!(v["safe_prompt"], true);

        // OpenAI keeps what it accepts, but never gets reasoning_content or a second `stream`.
        let v = json(&body(&OPENAI.quirks, "gpt-4o-mini", &req, true).unwrap());
        assert_eq!(v["messages"][0]["role"], "developer");
        assert_eq!(v["messages"][1]["refusal"], "no");
        assert!(v["messages"][1].get("reasoning_content").is_none());
        assert_eq!(v["user"], "u1");
        assert_eq!(v["stream"], true);
        let text =
            String::from_utf8(body(&OPENAI.quirks, "gpt-4o-mini", &req, true).unwrap()).unwrap();
        assert_eq!(text.matches("\"stream\"").count(), 1, "{text}");
    }

    #[test]
    fn caller_stream_options_are_kept() {
        let mut req = ChatRequest::new("m", vec![Message::user("hi")]);
        req.extra.insert(
            "stream_options".into(),
            serde_json::json!({"include_usage": true, "include_obfuscation": false}),
        );
        let v = json(&body(&OPENAI.quirks, "gpt-4o-mini", &req, true).unwrap());
        assert_eq!(v["stream_options"]["include_obfuscation"], false);
        let v = json(&body(&OPENAI.quirks, "gpt-4o-mini", &req, false).unwrap());
        assert!(v.get("stream_options").is_none());
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
