//! The real binary, killed with SIGKILL mid-traffic and restarted: every
//! acknowledged charge is there, balance == credits − Σ usage rows, and no
//! reservation survives.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{SIM_KEY, usd};
use indoxrouter_simulator::{SimConfig, Simulator};
use serde_json::{Value, json};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(sim: &Simulator, dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_indoxrouter-server"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("INDOXROUTER_HOST", "127.0.0.1")
        .env("INDOXROUTER_PORT", port.to_string())
        .env("INDOXROUTER_DATA_DIR", dir)
        .env("INDOXROUTER_ADMIN_PASSWORD", "crash-test-admin-pw")
        .env("INDOXROUTER_LOG", "warn")
        .env("OPENAI_API_KEY", SIM_KEY)
        .env("OPENAI_BASE_URL", sim.openai_base())
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_up(http: &reqwest::Client, url: &str) {
    for _ in 0..200 {
        if http.get(format!("{url}/health")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("server did not start");
}

async fn json_post(http: &reqwest::Client, url: String, token: &str, body: Value) -> Value {
    let r = http
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_traffic_loses_no_acknowledged_charge() {
    let sim = Simulator::start_with(SimConfig {
        api_key: Some(SIM_KEY.to_owned()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut child = spawn(&sim, dir.path(), port);
    wait_up(&http, &url).await;

    let login = |user: &'static str, pw: &'static str| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let v: Value = http
                .post(format!("{url}/api/v1/auth/login"))
                .json(&json!({"username": user, "password": pw}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["access_token"].as_str().unwrap().to_owned()
        }
    };
    let admin = login("admin", "crash-test-admin-pw").await;
    json_post(
        &http,
        format!("{url}/api/v1/admin/users"),
        &admin,
        json!({"username": "victim", "password": "password-123", "credits": "3"}),
    )
    .await;
    json_post(
        &http,
        format!("{url}/api/v1/admin/users/victim/credits"),
        &admin,
        json!({"amount": "2", "reason": "top-up"}),
    )
    .await;
    let token = login("victim", "password-123").await;
    let key = json_post(
        &http,
        format!("{url}/api/v1/keys"),
        &token,
        json!({"scopes": ["inference", "usage:read"]}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();

    // Traffic from 8 workers; the server is killed while it runs.
    let mut workers = Vec::new();
    for w in 0..8 {
        let http = http.clone();
        let url = url.clone();
        let key = key.clone();
        workers.push(tokio::spawn(async move {
            let mut acked = indoxrouter::Usd::ZERO;
            for i in 0.. {
                let body = json!({"model": "openai/gpt-4o-mini", "max_tokens": 30,
                    "messages": [{"role": "user", "content": format!("worker {w} request {i}")}]});
                let Ok(r) = http
                    .post(format!("{url}/v1/chat/completions"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                else {
                    break;
                };
                let Ok(v) = r.json::<Value>().await else {
                    break;
                };
                match v["usage"]["cost"].as_str() {
                    Some(c) => acked += indoxrouter::Usd::parse(c).unwrap(),
                    None => break,
                }
            }
            acked
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let mut acknowledged = indoxrouter::Usd::ZERO;
    for w in workers {
        acknowledged += w.await.unwrap();
    }
    assert!(
        acknowledged > indoxrouter::Usd::ZERO,
        "no request completed before the kill"
    );

    let mut child = spawn(&sim, dir.path(), port);
    wait_up(&http, &url).await;
    let me: Value = http
        .get(format!("{url}/api/v1/users/me"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let balance = usd(me["balance"].as_str().unwrap());
    assert_eq!(
        me["available"], me["balance"],
        "a reservation survived the restart"
    );

    let mut spent = indoxrouter::Usd::ZERO;
    let mut cursor: Option<String> = None;
    loop {
        let mut u = format!("{url}/api/v1/users/me/usage?limit=1000");
        if let Some(c) = &cursor {
            u.push_str(&format!("&cursor={c}"));
        }
        let page: Value = http
            .get(u)
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for row in page["data"].as_array().unwrap() {
            spent += usd(row["cost"].as_str().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(balance, usd("5") - spent, "balance != credits − Σ usage");
    // Every charge a client saw acknowledged is durable (some settled but
    // unacknowledged ones may be there too).
    assert!(
        spent >= acknowledged,
        "spent {spent} < acknowledged {acknowledged}"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
