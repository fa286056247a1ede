//! The real binary's first start: the generated admin password goes to a
//! 0600 file in the data directory, never to the log; changing the password
//! removes the file; `admin reset-password` works with the server stopped.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

fn server(dir: &std::path::Path, port: u16) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_indoxrouter-server"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("INDOXROUTER_HOST", "127.0.0.1")
        .env("INDOXROUTER_PORT", port.to_string())
        .env("INDOXROUTER_DATA_DIR", dir)
        .env("INDOXROUTER_LOG", "info")
        .current_dir(dir);
    c
}

async fn login(http: &reqwest::Client, url: &str, password: &str) -> reqwest::Response {
    http.post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": password}))
        .send()
        .await
        .unwrap()
}

async fn wait_up(http: &reqwest::Client, url: &str) {
    for _ in 0..400 {
        if http.get(format!("{url}/health")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("server did not start");
}

fn stop(mut child: std::process::Child) -> String {
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let _ = child.wait();
    let mut out = String::new();
    use std::io::Read as _;
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    out
}

#[tokio::test]
async fn the_generated_admin_password_is_in_a_private_file_and_never_logged() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let child = server(dir.path(), port)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_up(&http, &url).await;

    let file = dir.path().join("admin-password");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let password = std::fs::read_to_string(&file).unwrap().trim().to_owned();
    assert!(password.len() >= 20);
    let r = login(&http, &url, &password).await;
    assert_eq!(r.status(), 200);
    let token = r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    // Changing it removes the file.
    let r = http
        .post(format!("{url}/api/v1/users/me/password"))
        .bearer_auth(&token)
        .json(&json!({"current_password": password, "new_password": "chosen-by-the-operator"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        !file.exists(),
        "the generated password's file is still there"
    );
    let log = stop(child);
    assert!(
        log.contains("admin-password"),
        "the log names the file: {log}"
    );
    assert!(!log.contains(&password), "the password reached the log");

    // Locked out: reset from the command line while the server is stopped.
    let out = server(dir.path(), port)
        .args(["admin", "reset-password", "admin"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let fresh = stdout
        .split_whitespace()
        .nth(4)
        .expect("the new password")
        .to_owned();
    let child = server(dir.path(), port)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_up(&http, &url).await;
    assert_eq!(
        login(&http, &url, "chosen-by-the-operator").await.status(),
        401
    );
    assert_eq!(login(&http, &url, &fresh).await.status(), 200);
    stop(child);

    // An unknown user is an error, and nothing changes.
    let out = server(dir.path(), port)
        .args(["admin", "reset-password", "nobody"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}
