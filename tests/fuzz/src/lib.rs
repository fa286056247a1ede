//! Fuzz targets: every parser that reads bytes from a provider or a client.
//!
//! Each target takes arbitrary bytes and must neither panic nor break its
//! stated property. The AFL entry points in `src/bin` call these; the
//! corpus test (`tests/corpus.rs`) replays the committed corpora and every
//! crash found so far through them on each CI run.
//!
//! - [`sse`]: the SSE decoder, with a differential property — splitting
//!   the input anywhere yields the same events as feeding it whole.
//! - [`provider_response`]: each provider's chat, completion, embedding,
//!   image and error parsers.
//! - [`provider_stream`]: each provider's stream-event parser, fed through
//!   the SSE decoder.
//! - [`server_request`]: the server's request decoders through its real
//!   route table — OpenAI and classic bodies, form and JSON login, usage
//!   query strings and cursors, JWTs and API keys in `Authorization` —
//!   which must never answer 500.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use indoxrouter::provider::{AdapterKind, ApiKey, ProviderConfig, StreamStep, adapter};
use indoxrouter::transport::sse::{SseDecoder, SseEvent};

const KINDS: [AdapterKind; 6] = [
    AdapterKind::OpenAi,
    AdapterKind::Mistral,
    AdapterKind::OpenAiCompatible,
    AdapterKind::Anthropic,
    AdapterKind::Google,
    AdapterKind::Cohere,
];

fn cfg(kind: AdapterKind) -> ProviderConfig {
    ProviderConfig {
        id: format!("{kind:?}").to_lowercase(),
        kind,
        base_url: "http://127.0.0.1:9".into(),
        api_key: Some(ApiKey::new("sk-fuzz-0123456789abcdef")),
    }
}

fn events(decoder: &mut SseDecoder) -> Vec<SseEvent> {
    std::iter::from_fn(|| decoder.next_event()).collect()
}

/// The SSE decoder: the first byte says where to split the rest.
pub fn sse(data: &[u8]) {
    let Some((&at, input)) = data.split_first() else {
        return;
    };
    let mut whole = SseDecoder::new();
    whole.push(input);
    let expected = events(&mut whole);

    let at = usize::from(at) * input.len() / 256;
    let (a, b) = input.split_at(at);
    let mut split = SseDecoder::new();
    split.push_bytes(Bytes::copy_from_slice(a));
    let mut got = events(&mut split);
    split.push_bytes(Bytes::copy_from_slice(b));
    got.extend(events(&mut split));
    assert_eq!(got, expected, "splitting at {at} changed the events");
}

/// A provider's parsers: the first byte picks the provider and the parser,
/// the second the HTTP status of an error body.
pub fn provider_response(data: &[u8]) {
    let [pick, status, body @ ..] = data else {
        return;
    };
    let kind = KINDS[usize::from(*pick) % KINDS.len()];
    let cfg = cfg(kind);
    let a = adapter(kind);
    match (pick / 6) % 5 {
        0 => drop(a.parse_chat(&cfg, body)),
        1 => drop(a.parse_completion(&cfg, body)),
        2 => drop(a.parse_embeddings(&cfg, body)),
        3 => drop(a.parse_images(&cfg, body)),
        _ => {
            let status = 400 + u16::from(*status) % 200;
            let e = a.parse_error(&cfg, status, &http::HeaderMap::new(), body);
            // The key never reaches an error message.
            assert!(!e.to_string().contains("sk-fuzz-0123456789abcdef"));
        }
    }
}

/// A provider's stream parser over the events the SSE decoder finds in
/// the rest of the input; the first byte picks the provider.
pub fn provider_stream(data: &[u8]) {
    let Some((&pick, input)) = data.split_first() else {
        return;
    };
    let kind = KINDS[usize::from(pick) % KINDS.len()];
    let cfg = cfg(kind);
    let mut parser = adapter(kind).stream_parser(&cfg);
    let mut decoder = SseDecoder::new();
    decoder.push(input);
    while let Some(event) = decoder.next_event() {
        match parser.event(&event) {
            Ok(StreamStep::Done) | Err(_) => return,
            Ok(StreamStep::Chunk(_) | StreamStep::Skip) => {}
        }
    }
    let _ = parser.end_of_body(&cfg.id);
    let _ = parser.partial_usage();
}

/// One server, built once per process: a temporary redb store, a user with
/// an API key, providers pointed at a closed port (so a request that gets
/// through every check fails fast instead of calling anyone).
struct App {
    runtime: tokio::runtime::Runtime,
    routes: warp::filters::BoxedFilter<(warp::reply::Response,)>,
    key: String,
    token: String,
    _dir: tempfile::TempDir,
}

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (routes, key, token) = runtime.block_on(async {
            let mut config =
                indoxrouter_server::Config::for_tests(dir.path(), "fuzz-admin-password");
            // Every request reaches its decoders, however many come.
            config.rate_limits = false;
            let client = indoxrouter::Client::builder()
                .no_env()
                .retry_policy(indoxrouter::RetryPolicy::none())
                .api_key("openai", "sk-fuzz-0123456789abcdef")
                .base_url("openai", "http://127.0.0.1:9/v1")
                .api_key("anthropic", "sk-fuzz-0123456789abcdef")
                .base_url("anthropic", "http://127.0.0.1:9")
                .build()
                .unwrap();
            let (state, _) = indoxrouter_server::AppState::open(&config, client)
                .await
                .unwrap();
            let routes = indoxrouter_server::routes::routes(Arc::clone(&state));
            let call = |method: &str, path: &str, token: Option<&str>, body: String| {
                let mut r = warp::test::request()
                    .method(method)
                    .path(path)
                    .header("content-type", "application/json")
                    .body(body);
                if let Some(t) = token {
                    r = r.header("authorization", format!("Bearer {t}"));
                }
                r
            };
            let login = |user: &str, pw: &str| {
                call(
                    "POST",
                    "/api/v1/auth/login",
                    None,
                    serde_json::json!({"username": user, "password": pw}).to_string(),
                )
            };
            let admin = login("admin", "fuzz-admin-password").reply(&routes).await;
            let admin: serde_json::Value = serde_json::from_slice(admin.body()).unwrap();
            let admin = admin["access_token"].as_str().unwrap().to_owned();
            let made = call(
                "POST",
                "/api/v1/admin/users",
                Some(&admin),
                r#"{"username":"fuzz","password":"fuzz-password-1","credits":"1000"}"#.into(),
            )
            .reply(&routes)
            .await;
            assert_eq!(made.status(), 201);
            let token = login("fuzz", "fuzz-password-1").reply(&routes).await;
            let token: serde_json::Value = serde_json::from_slice(token.body()).unwrap();
            let token = token["access_token"].as_str().unwrap().to_owned();
            let key = call(
                "POST",
                "/api/v1/keys",
                Some(&token),
                r#"{"scopes":["inference","usage:read","keys:manage"]}"#.into(),
            )
            .reply(&routes)
            .await;
            let key: serde_json::Value = serde_json::from_slice(key.body()).unwrap();
            (routes, key["key"].as_str().unwrap().to_owned(), token)
        });
        App {
            runtime,
            routes,
            key,
            token,
            _dir: dir,
        }
    })
}

/// Routes a fuzzed request may take: `(method, path, body goes in)`.
const ROUTES: [(&str, &str, Part); 12] = [
    ("POST", "/v1/chat/completions", Part::Body),
    ("POST", "/api/v1/chat/completions", Part::Body),
    ("POST", "/v1/completions", Part::Body),
    ("POST", "/v1/embeddings", Part::Body),
    ("POST", "/api/v1/images/generations", Part::Body),
    ("POST", "/api/v1/auth/token", Part::Form),
    ("POST", "/api/v1/auth/login", Part::Body),
    ("GET", "/api/v1/users/me/usage", Part::Query),
    ("GET", "/api/v1/users/me/usage/summary", Part::Query),
    ("POST", "/api/v1/keys", Part::Body),
    ("GET", "/v1/models", Part::Bearer),
    ("GET", "/api/v1/users/me", Part::Bearer),
];

#[derive(Clone, Copy)]
enum Part {
    /// A JSON body, sent with a valid API key.
    Body,
    /// A form body, without credentials.
    Form,
    /// A query string, with a valid access token.
    Query,
    /// The `Authorization` credential itself (a JWT or an API key).
    Bearer,
}

/// A request through the server's real route table: the first byte picks
/// the route, the rest is its body, query string or credential. No answer
/// may be a 500.
pub fn server_request(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (method, path, part) = ROUTES[usize::from(pick) % ROUTES.len()];
    let app = app();
    let text = String::from_utf8_lossy(rest);
    let mut r = warp::test::request()
        .method(method)
        .remote_addr("127.0.0.1:40000".parse().unwrap());
    r = match part {
        Part::Body => r
            .path(path)
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", app.key))
            .body(rest),
        Part::Form => r
            .path(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(rest),
        Part::Query => {
            // Only what a URI's query may carry; anything else a client
            // library would have escaped before it reached us.
            let query: String = text
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?%".contains(*c))
                .collect();
            r.path(&format!("{path}?{query}"))
                .header("authorization", format!("Bearer {}", app.token))
        }
        Part::Bearer => {
            let credential: String = text.chars().filter(|c| c.is_ascii_graphic()).collect();
            r.path(path)
                .header("authorization", format!("Bearer {credential}"))
        }
    };
    let resp = app.runtime.block_on(r.reply(&app.routes));
    assert_ne!(
        resp.status(),
        http::StatusCode::INTERNAL_SERVER_ERROR,
        "{method} {path}: {}",
        String::from_utf8_lossy(resp.body())
    );
}
