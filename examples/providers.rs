//! The same chat, stream and tool call against all five first-party
//! providers, printing each reply with its usage and exact cost.
//!
//! It starts the bundled provider simulator, which speaks each provider's
//! real wire format, so it runs with no network and no key:
//!
//!     cargo run --example providers

use futures_util::StreamExt;
use indoxrouter::Client;
use indoxrouter::types::{ChatRequest, Message, Tool, ToolChoice};
use indoxrouter_simulator::Simulator;
use serde_json::json;

const MODELS: &[&str] = &[
    "openai/gpt-4o-mini",
    "anthropic/claude-haiku-4-5",
    "gemini/gemini-2.5-flash",
    "cohere/command-a-03-2025",
    "mistral/mistral-small-latest",
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sim = Simulator::start().await?;
    let mut builder = Client::builder().no_env();
    for (provider, base) in [
        ("openai", sim.openai_base()),
        ("anthropic", sim.anthropic_base()),
        ("google", sim.google_base()),
        ("cohere", sim.cohere_base()),
        ("mistral", sim.mistral_base()),
    ] {
        builder = builder
            .api_key(provider, "sk-simulator-key")
            .base_url(provider, base);
    }
    let client = builder.build()?;
    println!("(using the provider simulator at {})", sim.root_url());

    let weather = Tool::function(
        "get_weather",
        "Current weather for a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    );
    for model in MODELS {
        println!("\n== {model}");
        let request = ChatRequest::new(
            *model,
            vec![
                Message::system("You are terse."),
                Message::user("Say hello to IndoxRouter"),
            ],
        );
        let resp = client.chat(request.clone()).await?;
        println!("reply:  {}", resp.text().unwrap_or_default());
        println!(
            "usage:  {} prompt + {} completion = {} tokens",
            resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens
        );
        match &resp.cost {
            Some(cost) => println!("cost:   ${}", cost.total),
            None => println!("cost:   unpriced"),
        }

        let mut streamed = String::new();
        let mut stream_cost = None;
        let mut stream = client.chat_stream(request).await?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            for choice in &chunk.choices {
                streamed.push_str(choice.delta.content.as_deref().unwrap_or_default());
            }
            if chunk.cost.is_some() {
                stream_cost = chunk.cost;
            }
        }
        println!(
            "stream: {streamed} (${})",
            stream_cost
                .map(|c| c.total.to_string())
                .unwrap_or_else(|| "unpriced".into())
        );

        let call = client
            .chat(
                ChatRequest::new(*model, vec![Message::user("Weather in Paris?")])
                    .tools(vec![weather.clone()])
                    .tool_choice(ToolChoice::Required),
            )
            .await?;
        match call.tool_calls().first() {
            Some(c) => println!("tool:   {}({})", c.function.name, c.function.arguments),
            None => println!("tool:   no call"),
        }
    }
    Ok(())
}
