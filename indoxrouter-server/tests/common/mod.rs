//! Shared setup: a simulator upstream and a server on an ephemeral port.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use indoxrouter::{Client, RetryPolicy};
use indoxrouter_server::serve::{self, Running};
use indoxrouter_server::{AppState, Config};
use indoxrouter_simulator::{SimConfig, Simulator};
use serde_json::{Value, json};

pub const SIM_KEY: &str = "sk-sim-test-0123456789abcdef";
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

pub struct Harness {
    pub sim: Simulator,
    pub server: Option<Running>,
    pub state: Arc<AppState>,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
    pub url: String,
}

pub fn client_for(sim: &Simulator) -> Client {
    sim_client(sim, &["openai", "mistral"])
}

/// A client for all five providers of `sim`.
pub fn client_for_all(sim: &Simulator) -> Client {
    sim_client(sim, &["openai", "mistral", "anthropic", "google", "cohere"])
}

fn sim_client(sim: &Simulator, providers: &[&str]) -> Client {
    let mut b = Client::builder()
        .no_env()
        .timeout(Duration::from_secs(10))
        .retry_policy(RetryPolicy::none());
    for &p in providers {
        let base = match p {
            "openai" => sim.openai_base(),
            "mistral" => sim.mistral_base(),
            "anthropic" => sim.anthropic_base(),
            "google" => sim.google_base(),
            _ => sim.cohere_base(),
        };
        b = b.api_key(p, SIM_KEY).base_url(p, base);
    }
    b.build().expect("client builds")
}

pub async fn start() -> Harness {
    start_with(|_| {}).await
}

pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Harness {
    start_with_client(tweak, client_for).await
}

/// A server whose core client is made by `client` from the simulator.
pub async fn start_with_client(
    tweak: impl FnOnce(&mut Config),
    client: fn(&Simulator) -> Client,
) -> Harness {
    let sim = Simulator::start_with(SimConfig {
        api_key: Some(SIM_KEY.to_owned()),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(dir.path(), ADMIN_PASSWORD);
    tweak(&mut config);
    let (state, _) = AppState::open(&config, client(&sim)).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = serve::start(state.clone(), listener).unwrap();
    let url = server.url();
    Harness {
        sim,
        server: Some(server),
        state,
        dir,
        http: reqwest::Client::new(),
        url,
    }
}

impl Harness {
    pub async fn post(&self, path: &str, token: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A streamed chat of `text` on `/v1`, its response not yet read.
    pub async fn post_stream(&self, token: &str, text: &str) -> reqwest::Response {
        let mut body = chat_body(text);
        body["stream"] = serde_json::json!(true);
        self.post("/v1/chat/completions", token, body).await
    }

    /// The status of a small chat on `/v1` made with `credential`.
    pub async fn chat_status(&self, credential: &str, text: &str) -> u16 {
        self.post("/v1/chat/completions", credential, chat_body(text))
            .await
            .status()
            .as_u16()
    }

    /// A GET without credentials.
    pub async fn get_public(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// A login attempt's raw answer (for refusals; see [`Harness::login`]).
    pub async fn try_login(&self, username: &str, password: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/auth/login", self.url))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let r = self
            .http
            .post(format!("{}/api/v1/auth/login", self.url))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "login as {username}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["token_type"], "bearer");
        v["access_token"].as_str().unwrap().to_owned()
    }

    pub async fn admin(&self) -> String {
        self.login("admin", ADMIN_PASSWORD).await
    }

    /// Creates a user with `credits` (USD string) and returns an API key for it.
    pub async fn user_with_key(&self, username: &str, credits: &str) -> String {
        let admin = self.admin().await;
        let r = self
            .post(
                "/api/v1/admin/users",
                &admin,
                json!({"username": username, "password": "password-123", "credits": credits}),
            )
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        let token = self.login(username, "password-123").await;
        let r = self
            .post(
                "/api/v1/keys",
                &token,
                json!({"name": "test", "scopes": ["inference", "usage:read", "keys:manage"]}),
            )
            .await;
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        v["key"].as_str().unwrap().to_owned()
    }

    pub async fn balance(&self, token: &str) -> String {
        let v: Value = self
            .get("/api/v1/users/me", token)
            .await
            .json()
            .await
            .unwrap();
        v["balance"].as_str().unwrap().to_owned()
    }

    pub async fn usage(&self, token: &str) -> Vec<Value> {
        let v: Value = self
            .get("/api/v1/users/me/usage", token)
            .await
            .json()
            .await
            .unwrap();
        v["data"].as_array().unwrap().clone()
    }

    pub async fn shutdown(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}

pub fn usd(s: &str) -> indoxrouter::Usd {
    indoxrouter::Usd::parse(s).unwrap()
}

pub fn chat_body(text: &str) -> Value {
    json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": text}], "max_tokens": 50})
}
