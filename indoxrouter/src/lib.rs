//! # IndoxRouter
//!
//! One typed client for OpenAI, Mistral, any OpenAI-compatible endpoint
//! (Ollama, vLLM, DeepSeek, Groq…) — with Anthropic, Gemini and Cohere on the
//! same API — and exact costs from a built-in price catalog.
//!
//! ```no_run
//! use indoxrouter::{Client, types::{ChatRequest, Message}};
//!
//! # async fn run() -> indoxrouter::Result<()> {
//! let client = Client::builder().build()?; // keys from OPENAI_API_KEY, MISTRAL_API_KEY, …
//! let resp = client
//!     .chat(ChatRequest::new("openai/gpt-4o-mini", vec![Message::user("Hello!")]))
//!     .await?;
//! println!("{}", resp.text().unwrap_or_default());
//! if let Some(cost) = &resp.cost {
//!     println!("cost: ${}", cost.total);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Layers, from the outside in: [`Client`] (resolution, retries, fallbacks,
//! pricing) → [`provider`] adapters (pure translation, no I/O) →
//! [`transport`] (HTTP, SSE). Money is exact: [`money::Usd`] counts
//! pico-dollars in an integer and [`cost`] never touches a float.

pub mod catalog;
mod client;
pub mod cost;
mod error;
pub mod money;
pub mod provider;
mod text;
pub mod transport;
pub mod types;

pub use catalog::{Catalog, ModelInfo};
pub use client::{
    Balance, ChatStream, ChunkAccumulator, Client, ClientBuilder, UsagePage, UsageRecord,
};
pub use cost::CostBreakdown;
pub use error::{Error, ErrorKind, Result};
pub use money::Usd;
pub use transport::RetryPolicy;
