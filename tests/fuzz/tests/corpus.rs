//! Replays every committed input — the seed corpora and each crash found
//! and fixed (`corpus/<target>/`) — through its target. Runs without AFL:
//! `cargo test --manifest-path tests/fuzz/Cargo.toml`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} fails its target", path.display());
        n += 1;
    }
    assert!(n > 0, "{} is empty", dir.display());
}

#[test]
fn sse() {
    replay("sse", indoxrouter_fuzz::sse);
}

#[test]
fn provider_response() {
    replay("provider_response", indoxrouter_fuzz::provider_response);
}

#[test]
fn provider_stream() {
    replay("provider_stream", indoxrouter_fuzz::provider_stream);
}

#[test]
fn server_request() {
    replay("server_request", indoxrouter_fuzz::server_request);
}
