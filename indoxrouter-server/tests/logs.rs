//! The real binary at the most verbose log level: no provider key, API key,
//! access token, password, password hash or JWT secret appears in its output.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)]

mod common;

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::SIM_KEY;
use indoxrouter_simulator::{SimConfig, Simulator};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_logs_even_at_trace_level() {
    let sim = Simulator::start_with(SimConfig {
        api_key: Some(SIM_KEY.to_owned()),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let admin_pw = "log-test-admin-password-9f8e7d";
    let mut child = Command::new(env!("CARGO_BIN_EXE_indoxrouter-server"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("INDOXROUTER_PORT", port.to_string())
        .env("INDOXROUTER_DATA_DIR", dir.path())
        .env("INDOXROUTER_ADMIN_PASSWORD", admin_pw)
        .env("INDOXROUTER_LOG", "trace")
        .env("INDOXROUTER_LOG_FORMAT", "json")
        .env("OPENAI_API_KEY", SIM_KEY)
        .env("OPENAI_BASE_URL", sim.openai_base())
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{url}/health")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    let login = |user: &str, pw: &str| {
        http.post(format!("{url}/api/v1/auth/login"))
            .json(&json!({"username": user, "password": pw}))
            .send()
    };
    let token: Value = login("admin", admin_pw)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let _ = login("admin", "a-wrong-password-for-the-log")
        .await
        .unwrap();
    http.post(format!("{url}/api/v1/admin/users"))
        .bearer_auth(&token)
        .json(&json!({"username": "logged", "password": "user-password-5c4b3a", "credits": "1"}))
        .send()
        .await
        .unwrap();
    let key: Value = http
        .post(format!("{url}/api/v1/keys"))
        .bearer_auth(&token)
        .json(&json!({"scopes": ["inference", "usage:read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = key["key"].as_str().unwrap().to_owned();
    let admin_credits = http
        .post(format!("{url}/api/v1/admin/users/admin/credits"))
        .bearer_auth(&token)
        .json(&json!({"amount": "1", "reason": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(admin_credits.status(), 200);
    let chat =
        json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]});
    let r = http
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(&key)
        .header("x-request-id", "logcheck-req-42")
        .json(&chat)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-request-id"], "logcheck-req-42");
    // The caller's request id is the usage row's.
    let usage: Value = http
        .get(format!("{url}/api/v1/users/me/usage"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(usage["data"][0]["request_id"], "logcheck-req-42");
    // Routes outside the handlers' context get one too.
    let health = http.get(format!("{url}/health")).send().await.unwrap();
    let generated = health.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(generated.starts_with("req_"), "{generated}");
    let mut stream = chat.clone();
    stream["stream"] = json!(true);
    let _ = http
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(&key)
        .json(&stream)
        .send()
        .await
        .unwrap()
        .text()
        .await;
    // Failures log too: an upstream 401 and a rejected credential.
    sim.push_fault(
        "openai",
        indoxrouter_simulator::Fault::Status {
            status: 401,
            retry_after: None,
            body: None,
        },
    );
    let _ = http
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(&key)
        .json(&chat)
        .send()
        .await;
    let _ = http
        .get(format!("{url}/api/v1/users/me"))
        .bearer_auth(format!("{key}x"))
        .send()
        .await;

    let secret = std::fs::read_to_string(dir.path().join("jwt-secret")).unwrap();
    let hash_marker = "$argon2id$";
    // SIGTERM: a graceful exit flushes the log writer.
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child.wait().unwrap();
    assert!(
        out.len() > 1000,
        "trace logging produced almost nothing:\n{out}"
    );
    // JSON lines, with an access line per request carrying its id.
    let lines: Vec<Value> = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let access = |id: &str| {
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "request" && l["fields"]["request_id"] == id)
    };
    assert!(
        access("logcheck-req-42"),
        "no access log line for the request id"
    );
    assert!(access(&generated));
    assert!(lines.iter().any(|l| l["fields"]["route"] == "/v1/chat/completions"
        && l["fields"]["status"] == 200));
    for (what, needle) in [
        ("provider key", SIM_KEY),
        ("API key", key.as_str()),
        ("access token", token.as_str()),
        ("admin password", admin_pw),
        ("wrong password", "a-wrong-password-for-the-log"),
        ("user password", "user-password-5c4b3a"),
        ("JWT secret", secret.trim()),
        ("password hash", hash_marker),
    ] {
        assert!(
            !out.contains(needle),
            "the {what} appears in the server's output"
        );
    }
}
