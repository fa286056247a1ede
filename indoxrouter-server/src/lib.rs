//! `indoxrouter-server`: a self-hosted IndoxRouter.
//!
//! Accounts with JWT and API-key auth, an exact credit ledger in an embedded
//! redb database, the classic `/api/v1` routes and an OpenAI-compatible `/v1`,
//! all over the [`indoxrouter`] core. The binary (`src/main.rs`) reads its
//! configuration from the environment; tests and embedders build the same
//! app in-process:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use indoxrouter_server::{AppState, Config, serve};
//! let config = Config::from_env()?;
//! let client = indoxrouter::Client::from_env()?;
//! let (state, _boot) = AppState::open(&config, client).await?;
//! let listener = tokio::net::TcpListener::bind((config.host, config.port)).await?;
//! let running = serve::start(state, listener)?;
//! println!("listening on {}", running.url());
//! running.shutdown().await;
//! # Ok(()) }
//! ```

pub mod admin_cli;
pub mod auth;
pub mod billing;
pub mod config;
pub mod counting;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod principal;
pub mod provider_errors;
pub mod ratelimit;
pub mod routes;
pub mod serve;
pub mod state;
pub mod store;
pub mod time;

pub use config::Config;
pub use error::ApiError;
pub use state::{AppState, Bootstrap};
