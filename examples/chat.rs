//! Chat through IndoxRouter and print the reply, usage and exact cost.
//!
//! By default this starts the bundled provider simulator on 127.0.0.1 and
//! talks to it, so it runs with no network and no key:
//!
//!     cargo run --example chat
//!
//! With `INDOXROUTER_LIVE=1` it uses your real keys from the environment
//! (`OPENAI_API_KEY`, …) and the model in `INDOXROUTER_MODEL`
//! (default `openai/gpt-4o-mini`).
//!
//! Against the simulator the request uses 23 prompt and 18 completion tokens,
//! which on gpt-4o-mini ($0.15 and $0.60 per 1M) costs exactly $0.00001425.

use futures_util::StreamExt;
use indoxrouter::Client;
use indoxrouter::types::{ChatRequest, Message};
use indoxrouter_simulator::Simulator;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let live = std::env::var("INDOXROUTER_LIVE").is_ok_and(|v| v == "1");
    // Keep the simulator alive for the whole run.
    let (_sim, client) = if live {
        (None, Client::from_env()?)
    } else {
        let sim = Simulator::start().await?;
        let client = Client::builder()
            .no_env()
            .api_key("openai", "sk-simulator")
            .base_url("openai", sim.openai_base())
            .build()?;
        println!("(using the provider simulator at {})", sim.root_url());
        (Some(sim), client)
    };
    let model = std::env::var("INDOXROUTER_MODEL").unwrap_or_else(|_| "openai/gpt-4o-mini".into());

    let request = ChatRequest::new(
        model.as_str(),
        vec![Message::user(
            "Say hello to IndoxRouter in one short friendly sentence that mentions routing, prices and exact costs.",
        )],
    )
    .max_tokens(18);

    let resp = client.chat(request.clone()).await?;
    println!("reply: {}", resp.text().unwrap_or_default());
    println!(
        "usage: {} prompt + {} completion = {} tokens",
        resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens
    );
    match &resp.cost {
        Some(cost) => println!("cost:  ${}", cost.total),
        None => println!("cost:  unpriced ({model} is not in the catalog)"),
    }

    print!("stream:");
    let mut stream = client.chat_stream(request).await?;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        for choice in &chunk.choices {
            if let Some(text) = &choice.delta.content {
                print!("{text}");
            }
        }
        if let Some(cost) = &chunk.cost {
            print!("\nstream cost: ${}", cost.total);
        }
    }
    println!();
    Ok(())
}
