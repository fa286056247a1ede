//! Chat, tools, vision, JSON mode and completions against the simulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use indoxrouter::Usd;
use indoxrouter::types::{
    ChatRequest, CompletionRequest, ContentPart, FinishReason, Message, ResponseFormat, Tool,
    ToolChoice,
};
use serde_json::json;

/// gpt-4o-mini: $0.15 / 1M input, $0.60 / 1M output = 150_000 and 600_000 pico-dollars per token.
fn gpt_4o_mini_cost(prompt: u64, completion: u64) -> Usd {
    Usd::from_pico(i128::from(prompt) * 150_000 + i128::from(completion) * 600_000)
}

#[tokio::test]
async fn openai_chat_reply_usage_and_exact_cost() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .chat(ChatRequest::new(
            "openai/gpt-4o-mini",
            vec![Message::system("Be brief."), Message::user("Hello there")],
        ))
        .await
        .unwrap();
    let text = resp.text().unwrap();
    assert!(text.contains("Hello there"), "{text}");
    assert_eq!(resp.provider, "openai");
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::Stop));
    let u = resp.usage;
    assert!(u.prompt_tokens > 0 && u.completion_tokens > 0);
    assert_eq!(u.total_tokens, u.prompt_tokens + u.completion_tokens);
    let cost = resp.cost.expect("gpt-4o-mini is priced");
    assert_eq!(
        cost.total,
        gpt_4o_mini_cost(u.prompt_tokens, u.completion_tokens)
    );
    assert_eq!(sim.request_count(), 1);
}

#[tokio::test]
async fn bare_model_id_resolves_through_catalog() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .chat(ChatRequest::new("gpt-4o-mini", vec![Message::user("hi")]))
        .await
        .unwrap();
    assert_eq!(resp.provider, "openai");
    assert!(
        sim.requests()[0]
            .path
            .starts_with("/openai/v1/chat/completions")
    );
}

#[tokio::test]
async fn options_reach_the_wire() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let mut req = ChatRequest::new(
        "openai/gpt-4o-mini",
        vec![Message::user("one two three four five six")],
    )
    .temperature(0.5)
    .max_tokens(3)
    .seed(42);
    req.top_p = Some(0.9);
    req.n = Some(2);
    req.stop = Some(indoxrouter::types::Stop::Many(vec!["zzz".into()]));
    req.extra
        .insert("logit_bias".into(), json!({"50256": -100}));
    let resp = client.chat(req).await.unwrap();
    assert_eq!(resp.choices.len(), 2);
    assert_eq!(resp.choices[0].finish_reason, Some(FinishReason::Length));
    let body = &sim.requests()[0].body;
    assert_eq!(body["max_completion_tokens"], 3);
    assert_eq!(body["seed"], 42);
    assert_eq!(body["n"], 2);
    assert_eq!(body["stop"], json!(["zzz"]));
    assert_eq!(body["logit_bias"], json!({"50256": -100}));
    assert!(body.get("fallbacks").is_none());
}

fn weather_tool() -> Tool {
    Tool::function(
        "get_weather",
        "Current weather for a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

#[tokio::test]
async fn tool_calls_round_trip_on_openai_and_mistral() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    for model in ["openai/gpt-4o-mini", "mistral/mistral-small-latest"] {
        let first = client
            .chat(
                ChatRequest::new(model, vec![Message::user("Weather in Paris?")])
                    .tools(vec![weather_tool()])
                    .tool_choice(ToolChoice::Required),
            )
            .await
            .unwrap();
        assert_eq!(
            first.choices[0].finish_reason,
            Some(FinishReason::ToolCalls),
            "{model}"
        );
        let call = first.tool_calls()[0].clone();
        assert_eq!(call.function.name, "get_weather");
        let args: serde_json::Value = serde_json::from_str(&call.function.arguments).unwrap();
        assert!(args.get("city").is_some(), "{args}");

        // Feed back an id from another provider: Mistral needs it rewritten.
        let mut foreign = call.clone();
        foreign.id = "call_from_another_provider_123".into();
        let second = client
            .chat(
                ChatRequest::new(
                    model,
                    vec![
                        Message::user("Weather in Paris?"),
                        Message::assistant_tool_calls(vec![foreign.clone()]),
                        Message::tool(foreign.id.clone(), "18C and sunny"),
                    ],
                )
                .tools(vec![weather_tool()]),
            )
            .await
            .unwrap();
        assert!(second.text().unwrap().contains("18C and sunny"), "{model}");
    }
    let mistral: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.provider == "mistral")
        .collect();
    assert_eq!(mistral[0].body["tool_choice"], json!("any"));
    let mistral_req = &mistral[1];
    let id = mistral_req.body["messages"][1]["tool_calls"][0]["id"]
        .as_str()
        .unwrap();
    assert_eq!(id.len(), 9);
    assert_eq!(mistral_req.body["messages"][2]["tool_call_id"], id);
}

#[tokio::test]
async fn mistral_uses_random_seed() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .chat(ChatRequest::new("mistral/mistral-small-latest", vec![Message::user("hi")]).seed(7))
        .await
        .unwrap();
    assert_eq!(resp.provider, "mistral");
    assert!(resp.cost.is_some());
    let body = &sim.requests()[0].body;
    assert_eq!(body["random_seed"], 7);
    assert!(body.get("seed").is_none());
}

#[tokio::test]
async fn json_mode_and_vision() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .chat(
            ChatRequest::new("openai/gpt-4o", vec![Message::user("Give me JSON")])
                .response_format(ResponseFormat::JsonObject),
        )
        .await
        .unwrap();
    let parsed: serde_json::Value = serde_json::from_str(resp.text().unwrap()).unwrap();
    assert!(parsed.is_object());

    let resp = client
        .chat(ChatRequest::new(
            "openai/gpt-4o",
            vec![Message::user_parts(vec![
                ContentPart::text("What is in this image?"),
                ContentPart::image_url("data:image/png;base64,iVBORw0KGgo="),
            ])],
        ))
        .await
        .unwrap();
    assert!(resp.text().unwrap().contains('1'), "{:?}", resp.text());
    let body = &sim.requests()[1].body;
    assert_eq!(body["messages"][0]["content"][1]["type"], "image_url");
}

#[tokio::test]
async fn completions_native_for_instruct_and_via_chat_otherwise() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let native = client
        .completions(CompletionRequest::new(
            "openai/gpt-3.5-turbo-instruct",
            "Say this is a test",
        ))
        .await
        .unwrap();
    assert!(!native.text().unwrap().is_empty());
    assert_eq!(native.object, "text_completion");
    assert!(native.cost.is_some());
    assert_eq!(sim.requests()[0].path, "/openai/v1/completions");

    let via_chat = client
        .completions(CompletionRequest::new(
            "openai/gpt-4o-mini",
            "Say this is a test",
        ))
        .await
        .unwrap();
    assert!(via_chat.text().unwrap().contains("Say this is a test"));
    assert_eq!(sim.requests()[1].path, "/openai/v1/chat/completions");
    let u = via_chat.usage;
    assert_eq!(
        via_chat.cost.unwrap().total,
        gpt_4o_mini_cost(u.prompt_tokens, u.completion_tokens)
    );
}

#[tokio::test]
async fn compatible_provider_is_unpriced_not_free() {
    let sim = common::sim().await;
    let client = common::builder(&sim)
        .openai_compatible("local", sim.openai_base(), Some(common::KEY.into()))
        .build()
        .unwrap();
    let resp = client
        .chat(ChatRequest::new(
            "local/gpt-4o-mini",
            vec![Message::user("hi")],
        ))
        .await
        .unwrap();
    assert_eq!(resp.provider, "local");
    assert!(resp.usage.total_tokens > 0);
    assert!(
        resp.cost.is_none(),
        "an unpriced model must not report a cost"
    );
    // The generic dialect sends max_tokens, which every compatible server knows.
    let _ = client
        .chat(ChatRequest::new("local/gpt-4o-mini", vec![Message::user("hi")]).max_tokens(2))
        .await
        .unwrap();
    assert_eq!(sim.requests()[1].body["max_tokens"], 2);
}

#[tokio::test]
async fn provider_prefix_is_case_insensitive_and_gemini_is_google() {
    let sim = common::sim().await;
    let client = common::client(&sim);
    let resp = client
        .chat(ChatRequest::new(
            "OpenAI/gpt-4o-mini",
            vec![Message::user("hi")],
        ))
        .await
        .unwrap();
    assert_eq!(resp.provider, "openai");
    assert!(resp.cost.is_some());
    assert_eq!(
        client.model("gemini/gemini-2.5-pro").unwrap().provider,
        "google"
    );
}

#[tokio::test]
async fn runtime_catalog_file_prices_a_compatible_model() {
    let sim = common::sim().await;
    let path =
        std::env::temp_dir().join(format!("indoxrouter-catalog-{}.json", std::process::id()));
    std::fs::write(
        &path,
        r#"{"provider": "local", "models": [{"id": "gpt-4o-mini", "name": "Local mini", "modes": ["chat"],
            "pricing": {"input": "1", "output": "2"}}]}"#,
    )
    .unwrap();
    let client = common::builder(&sim)
        .openai_compatible("local", sim.openai_base(), Some(common::KEY.into()))
        .catalog_file(&path)
        .build()
        .unwrap();
    std::fs::remove_file(&path).ok();
    let resp = client
        .chat(ChatRequest::new(
            "local/gpt-4o-mini",
            vec![Message::user("hi")],
        ))
        .await
        .unwrap();
    // $1 / 1M input = 1_000_000 pico per token, $2 / 1M output = 2_000_000.
    let u = resp.usage;
    assert_eq!(
        resp.cost.unwrap().total,
        Usd::from_pico(
            i128::from(u.prompt_tokens) * 1_000_000 + i128::from(u.completion_tokens) * 2_000_000
        )
    );
}

#[tokio::test]
async fn cached_and_reasoning_tokens_are_billed_at_their_prices() {
    let sim = common::sim().await;
    let client = common::client(&sim);

    // 1,200 words: the simulator reports cache hits in 128-token steps above 1,024.
    let long = vec!["word"; 1200].join(" ");
    let resp = client
        .chat(ChatRequest::new("openai/gpt-4o-mini", vec![Message::user(long)]).max_tokens(5))
        .await
        .unwrap();
    let u = resp.usage;
    let cached = u.cached_tokens();
    assert_eq!(u.prompt_tokens, 1207);
    assert_eq!(cached, 1024);
    // gpt-4o-mini: $0.15 input, $0.075 cached input, $0.60 output per 1M.
    let expected = i128::from(u.prompt_tokens - cached) * 150_000
        + i128::from(cached) * 75_000
        + i128::from(u.completion_tokens) * 600_000;
    let cost = resp.cost.unwrap();
    assert_eq!(cost.total, Usd::from_pico(expected));
    assert_eq!(
        cost.cached_input,
        Usd::from_pico(i128::from(cached) * 75_000)
    );

    // gpt-5 reasons: reasoning tokens sit inside completion_tokens, billed at the output price.
    let resp = client
        .chat(ChatRequest::new(
            "openai/gpt-5",
            vec![Message::user("think about it")],
        ))
        .await
        .unwrap();
    let u = resp.usage;
    assert!(u.reasoning_tokens() > 0);
    assert_eq!(u.reasoning_tokens() * 3, u.completion_tokens * 2);
    // gpt-5: $1.25 input, $10 output per 1M.
    let cost = resp.cost.unwrap();
    assert_eq!(
        cost.total,
        Usd::from_pico(
            i128::from(u.prompt_tokens) * 1_250_000 + i128::from(u.completion_tokens) * 10_000_000
        )
    );
    assert_eq!(
        cost.reasoning,
        Usd::from_pico(i128::from(u.reasoning_tokens()) * 10_000_000)
    );
}
