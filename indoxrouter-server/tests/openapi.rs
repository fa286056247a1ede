//! `/openapi.json` against the code: the route table, the warp filters and
//! real responses (see `src/openapi.rs` for why this is how drift is caught).
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::collections::{BTreeSet, HashSet};

use indoxrouter_server::openapi;
use indoxrouter_server::routes::catalog::{Access, Method, Op, ROUTES, Route};
use serde_json::{Value, json};

/// `(method, path)` of every operation in the document.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.insert((method.to_uppercase(), path.clone()));
        }
    }
    out
}

#[test]
fn document_has_exactly_the_route_table() {
    let doc = openapi::document();
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(documented(&doc), table);
    let mut ids = HashSet::new();
    for r in ROUTES {
        let op = &doc["paths"][r.path][r.method.openapi_key()];
        let id = op["operationId"].as_str().unwrap();
        assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
        assert_eq!(id, r.operation_id());
        // Public operations opt out of the document-wide security requirement.
        assert_eq!(
            op.get("security") == Some(&json!([])),
            r.access == Access::Public,
            "{id}"
        );
        // Every path parameter in the template is declared, and nothing else.
        let declared: BTreeSet<&str> = op["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        let in_template: BTreeSet<&str> = r
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        assert_eq!(declared, in_template, "{id}");
    }
    // Every `$ref` resolves.
    fn refs(v: &Value, doc: &Value) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get("$ref") {
                    let ptr = r.strip_prefix('#').unwrap();
                    assert!(doc.pointer(ptr).is_some(), "dangling {r}");
                }
                o.values().for_each(|v| refs(v, doc));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, doc)),
            _ => {}
        }
    }
    refs(&doc, &doc);
}

/// Every `.rs` file under `src/`, as `(name relative to src/, text)`: route
/// filters belong in `src/routes/`, but one written elsewhere is found too.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut files = Vec::new();
    walk(src, &mut files);
    files
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(src).unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

/// Every `warp::path!` in `src/`, as `(method, segments)` with
/// `{}` for a parameter; the method is read from the filter chain that
/// follows (or `post_route`, which is POST).
fn filters_in_source() -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (file, text) in sources() {
        let mut rest = text.as_str();
        let mut before_len = 0;
        while let Some(i) = rest.find("warp::path!(") {
            let start = before_len + i;
            let args_start = start + "warp::path!(".len();
            let close = text[args_start..].find(')').unwrap();
            let args = &text[args_start..args_start + close];
            before_len = args_start + close;
            rest = &text[before_len..];
            if args.contains("..") {
                continue; // a prefix (`api/v1`, `v1`), not a route
            }
            let segments: Vec<String> = args
                .split('/')
                .map(|s| {
                    let s = s.trim();
                    match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                        Some(lit) => lit.to_owned(),
                        None => "{}".to_owned(),
                    }
                })
                .collect();
            let context = &text[start.saturating_sub(120)..start];
            let after = &text[before_len..(before_len + 300).min(text.len())];
            let method = if context.contains("post_route(") {
                "POST".to_owned()
            } else {
                let found = ["get", "post", "put", "patch", "delete"]
                    .iter()
                    .filter_map(|m| after.find(&format!("warp::{m}()")).map(|at| (at, *m)))
                    .min();
                found.map(|(_, m)| m.to_uppercase()).unwrap_or_default()
            };
            out.push((file.clone(), method, segments.join("/")));
        }
    }
    out
}

fn normalized(template: &str) -> String {
    template
        .split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every `warp::path("segment")` (a single segment, usually followed by a
/// `tail()`), as `(file, segment)`.
fn single_segments_in_source() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (file, text) in sources() {
        for (i, _) in text.match_indices("warp::path(\"") {
            let rest = &text[i + "warp::path(\"".len()..];
            out.push((file.clone(), rest[..rest.find('"').unwrap()].to_owned()));
        }
    }
    out
}

#[test]
fn every_warp_filter_is_in_the_route_table() {
    for (file, segment) in single_segments_in_source() {
        assert!(
            ROUTES
                .iter()
                .any(|r| r.path.split('/').any(|s| s == segment)),
            "{file}: `warp::path(\"{segment}\")` routes paths no ROUTES entry has"
        );
    }
    let filters = filters_in_source();
    assert!(
        filters.len() > 15,
        "the scan found too few filters: {filters:?}"
    );
    for (file, method, segments) in filters {
        assert!(
            !method.is_empty(),
            "{file}: no method found for warp::path!({segments})"
        );
        let found = ROUTES.iter().any(|r| {
            r.method.as_str() == method && normalized(r.path).ends_with(&format!("/{segments}"))
        });
        assert!(
            found,
            "{file}: `{method} .../{segments}` is routed but not in routes/catalog.rs ROUTES"
        );
    }
}

/// OpenAPI 3.0 → JSON Schema 2020-12: `nullable: true` becomes a `null` type.
fn to_json_schema(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.values_mut().for_each(to_json_schema);
            if o.remove("nullable") == Some(Value::Bool(true)) {
                match o.get("type").cloned() {
                    Some(Value::String(t)) => {
                        o.insert("type".into(), json!([t, "null"]));
                        if let Some(Value::Array(e)) = o.get_mut("enum") {
                            if !e.contains(&Value::Null) {
                                e.push(Value::Null);
                            }
                        }
                    }
                    _ => {
                        let inner = std::mem::take(o);
                        o.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(to_json_schema),
        _ => {}
    }
}

struct Checker {
    doc: Value,
    schema_root: Value,
}

fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

impl Checker {
    fn new() -> Self {
        let doc = openapi::document();
        let mut schema_root = doc.clone();
        to_json_schema(&mut schema_root);
        Checker { doc, schema_root }
    }

    /// Validates `body` against the schema at `pointer` (into the document).
    fn validate(&self, pointer: &str, body: &Value, what: &str) {
        let mut root = self.schema_root.clone();
        // A URI fragment: `{` and `}` (path templates) must be percent-encoded.
        let fragment = pointer.replace('{', "%7B").replace('}', "%7D");
        root["$ref"] = Value::String(format!("#{fragment}"));
        let v = jsonschema::validator_for(&root).expect("schema compiles");
        let errors: Vec<String> = v
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: response does not match {pointer}:\n{}\nbody: {body:#}",
            errors.join("\n")
        );
    }

    /// Checks a response: documented status, documented media type, body
    /// valid against its schema. Returns the parsed JSON body, if JSON.
    async fn check(&self, route: &Route, resp: reqwest::Response) -> (u16, Option<Value>) {
        let what = format!("{} {}", route.method.as_str(), route.path);
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let bytes = resp.bytes().await.unwrap();
        let op_ptr = format!(
            "/paths/{}/{}",
            escape(route.path),
            route.method.openapi_key()
        );
        let resp_ptr = format!("{op_ptr}/responses/{status}");
        assert!(
            self.doc.pointer(&resp_ptr).is_some(),
            "{what}: status {status} is not documented; body: {}",
            String::from_utf8_lossy(&bytes)
        );
        let media = ctype.split(';').next().unwrap().trim().to_owned();
        let media_ptr = format!("{resp_ptr}/content/{}", escape(&media));
        assert!(
            self.doc.pointer(&media_ptr).is_some(),
            "{what}: {status} with content type {ctype} is not documented"
        );
        if media != "application/json" {
            return (status, None);
        }
        let body: Value = serde_json::from_slice(&bytes).expect("JSON body");
        self.validate(&format!("{media_ptr}/schema"), &body, &what);
        (status, Some(body))
    }
}

/// Everything the samples need.
struct World {
    h: common::Harness,
    key: String,
    admin: String,
    spare_key_id: String,
}

fn route_of(op: Op) -> &'static Route {
    ROUTES.iter().find(|r| r.op == op).unwrap()
}

/// A request that should succeed, for each operation. Exhaustive, so a new
/// operation needs a sample here.
fn sample(op: Op, w: &World) -> (String, Option<Body>) {
    let chat = json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20});
    let (path, body) = match op {
        Op::Health => ("/health".to_owned(), None),
        Op::HealthReady => ("/health/ready".to_owned(), None),
        Op::OpenApiDocument => ("/openapi.json".to_owned(), None),
        Op::SwaggerUi => ("/docs".to_owned(), None),
        Op::Redoc => ("/redoc".to_owned(), None),
        Op::DocsAsset => ("/docs/assets/swagger-ui.css".to_owned(), None),
        Op::AuthToken => (
            "/api/v1/auth/token".to_owned(),
            Some(Body::Form("username=alice&password=password-123")),
        ),
        Op::AuthLogin => (
            "/api/v1/auth/login".to_owned(),
            Some(Body::Json(
                json!({"username": "alice", "password": "password-123"}),
            )),
        ),
        // The same password again: the samples after this one still log in.
        Op::ChangePassword => (
            "/api/v1/users/me/password".to_owned(),
            Some(Body::Json(
                json!({"current_password": "password-123", "new_password": "password-123"}),
            )),
        ),
        Op::GetMe => ("/api/v1/users/me".to_owned(), None),
        Op::GetMyUsage => ("/api/v1/users/me/usage?limit=2".to_owned(), None),
        Op::CreateKey => (
            "/api/v1/keys".to_owned(),
            Some(Body::Json(json!({"name": "docs", "expires_in_days": 30}))),
        ),
        Op::ListKeys => ("/api/v1/keys".to_owned(), None),
        Op::RevokeKey => (format!("/api/v1/keys/{}", w.spare_key_id), None),
        Op::AdminCreateUser => (
            "/api/v1/admin/users".to_owned(),
            Some(Body::Json(
                json!({"username": "bob", "password": "password-456", "role": "user", "credits": "1.25"}),
            )),
        ),
        Op::AdminListUsers => ("/api/v1/admin/users".to_owned(), None),
        Op::AdminAddCredits => (
            "/api/v1/admin/users/alice/credits".to_owned(),
            Some(Body::Json(json!({"amount": "0.5", "reason": "test"}))),
        ),
        Op::AdminUserUsage => ("/api/v1/admin/users/alice/usage".to_owned(), None),
        Op::GetMyUsageSummary => (
            "/api/v1/users/me/usage/summary?group_by=model".to_owned(),
            None,
        ),
        Op::ExportMyUsage => (
            "/api/v1/users/me/usage/export?format=jsonl".to_owned(),
            None,
        ),
        Op::AdminUsage => ("/api/v1/admin/usage?user=alice&limit=5".to_owned(), None),
        Op::AdminUsageSummary => ("/api/v1/admin/usage/summary?group_by=user".to_owned(), None),
        Op::AdminUsageExport => ("/api/v1/admin/usage/export?format=csv".to_owned(), None),
        Op::AdminUpdateUser => (
            "/api/v1/admin/users/alice".to_owned(),
            Some(Body::Json(json!({"tier": "enterprise"}))),
        ),
        Op::AdminDeleteUser => ("/api/v1/admin/users/carl".to_owned(), None),
        Op::AdminListUserKeys => ("/api/v1/admin/users/alice/keys".to_owned(), None),
        Op::AdminRevokeKey => (format!("/api/v1/admin/keys/{}", w.spare_key_id), None),
        Op::Metrics => ("/metrics".to_owned(), None),
        Op::ClassicListProviders => ("/api/v1/models/".to_owned(), None),
        Op::ClassicGetProvider => ("/api/v1/models/openai".to_owned(), None),
        Op::ClassicGetModel => ("/api/v1/models/openai/gpt-4o-mini".to_owned(), None),
        Op::ClassicChat => (
            "/api/v1/chat/completions".to_owned(),
            Some(Body::Json(
                json!({"provider": "openai", "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20}),
            )),
        ),
        Op::ClassicCompletion => (
            "/api/v1/completions".to_owned(),
            Some(Body::Json(
                json!({"model": "openai/gpt-4o-mini", "prompt": "once upon", "max_tokens": 20}),
            )),
        ),
        Op::ClassicEmbeddings => (
            "/api/v1/embeddings".to_owned(),
            Some(Body::Json(json!({"text": "hello"}))),
        ),
        Op::ClassicImages => (
            "/api/v1/images/generations".to_owned(),
            Some(Body::Json(
                json!({"model": "openai/dall-e-2", "prompt": "a cat", "size": "256x256"}),
            )),
        ),
        Op::OpenAiListModels => ("/v1/models".to_owned(), None),
        Op::OpenAiGetModel => ("/v1/models/openai/gpt-4o-mini".to_owned(), None),
        Op::OpenAiChat => ("/v1/chat/completions".to_owned(), Some(Body::Json(chat))),
        Op::OpenAiCompletion => (
            "/v1/completions".to_owned(),
            Some(Body::Json(
                json!({"model": "openai/gpt-4o-mini", "prompt": "once upon", "max_tokens": 20}),
            )),
        ),
        Op::OpenAiEmbeddings => (
            "/v1/embeddings".to_owned(),
            Some(Body::Json(
                json!({"model": "openai/text-embedding-3-small", "input": ["a", "b"]}),
            )),
        ),
        Op::OpenAiImages => (
            "/v1/images/generations".to_owned(),
            Some(Body::Json(
                json!({"model": "openai/dall-e-2", "prompt": "a cat", "size": "256x256"}),
            )),
        ),
    };
    (path, body)
}

enum Body {
    Json(Value),
    Form(&'static str),
}

fn to_method(m: Method) -> reqwest::Method {
    reqwest::Method::from_bytes(m.as_str().as_bytes()).unwrap()
}

async fn send(
    w: &World,
    method: Method,
    path: &str,
    body: Option<&Body>,
    token: Option<&str>,
) -> reqwest::Response {
    let mut rb =
        w.h.http
            .request(to_method(method), format!("{}{path}", w.h.url));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    rb = match body {
        Some(Body::Json(v)) => rb.json(v),
        Some(Body::Form(f)) => rb
            .header("content-type", "application/x-www-form-urlencoded")
            .body(*f),
        None => rb,
    };
    rb.send().await.unwrap()
}

fn is_router_miss(status: u16, body: Option<&Value>) -> bool {
    let msg = |b: &Value| {
        b["message"]
            .as_str()
            .or(b["error"]["message"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    status == 405 || (status == 404 && body.is_some_and(|b| msg(b) == "no such route"))
}

async fn world() -> World {
    let h = common::start().await;
    let key = h.user_with_key("alice", "5").await;
    // For the delete sample.
    h.user_with_key("carl", "0").await;
    let admin = h.admin().await;
    let token = h.login("alice", "password-123").await;
    let r = h
        .post("/api/v1/keys", &token, json!({"name": "spare"}))
        .await;
    let spare: Value = r.json().await.unwrap();
    World {
        h,
        key,
        admin,
        spare_key_id: spare["id"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn every_operation_is_routed_and_answers_as_documented() {
    let w = world().await;
    let checker = Checker::new();
    // One metered call first, so usage pages have a row to validate.
    let (path, body) = sample(Op::OpenAiChat, &w);
    let r = send(&w, Method::Post, &path, body.as_ref(), Some(&w.key)).await;
    assert_eq!(r.status(), 200);

    for route in ROUTES {
        let (path, body) = sample(route.op, &w);
        let token = match route.access {
            Access::Public => None,
            Access::User => Some(w.key.as_str()),
            Access::Admin => Some(w.admin.as_str()),
        };
        let what = format!("{} {path}", route.method.as_str());
        let r = send(&w, route.method, &path, body.as_ref(), token).await;
        let (status, parsed) = checker.check(route, r).await;
        assert!(
            !is_router_miss(status, parsed.as_ref()),
            "{what}: not routed"
        );
        assert!(
            (200..300).contains(&status),
            "{what}: the sample request failed with {status}: {parsed:?}"
        );

        // The guarded ones refuse a missing credential, in their documented shape.
        if route.access != Access::Public {
            let r = send(&w, route.method, &path, body.as_ref(), None).await;
            let (status, _) = checker.check(route, r).await;
            assert_eq!(status, 401, "{what} without a credential");
        }
        if route.access == Access::Admin {
            let r = send(&w, route.method, &path, body.as_ref(), Some(&w.key)).await;
            let (status, _) = checker.check(route, r).await;
            assert_eq!(status, 403, "{what} as a user");
        }
    }
}

#[tokio::test]
async fn error_shapes_and_streams_match_the_document() {
    let w = world().await;
    let checker = Checker::new();

    // Malformed JSON, wrong types, unknown model and too little credit, on both surfaces.
    for (op, bad) in [
        (Op::OpenAiChat, Body::Form("{not json")),
        (Op::ClassicChat, Body::Form("{not json")),
        (
            Op::OpenAiChat,
            Body::Json(json!({"model": 5, "messages": []})),
        ),
        (
            Op::ClassicChat,
            Body::Json(json!({"model": 5, "messages": []})),
        ),
        (
            Op::OpenAiChat,
            Body::Json(
                json!({"model": "openai/no-such-model-xyz", "messages": [{"role": "user", "content": "hi"}]}),
            ),
        ),
        (
            Op::ClassicEmbeddings,
            Body::Json(json!({"model": "openai/no-such-model-xyz", "input": "x"})),
        ),
        (
            Op::OpenAiChat,
            Body::Json(
                json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4_000_000_000_u32, "n": 10_000}),
            ),
        ),
        (
            Op::AdminCreateUser,
            Body::Json(json!({"username": "alice", "password": "password-123"})),
        ),
        // serde's derived structs also take an array of their fields; a body
        // must be an object (schemathesis found `[null, null]` creating a key).
        (Op::CreateKey, Body::Json(json!([null, null]))),
        (Op::AuthLogin, Body::Json(json!(["alice", "password-123"]))),
        (
            Op::AdminCreateUser,
            Body::Json(json!({"username": "carol", "password": "password-123", "credits": 5})),
        ),
    ] {
        let route = route_of(op);
        let (path, _) = sample(op, &w);
        let token = if route.access == Access::Admin {
            &w.admin
        } else {
            &w.key
        };
        let r = send(&w, route.method, &path, Some(&bad), Some(token)).await;
        let (status, body) = checker.check(route, r).await;
        assert!((400..500).contains(&status), "{path}: {status} {body:?}");
    }
    for (op, path) in [
        (Op::RevokeKey, "/api/v1/keys/key_nope"),
        (Op::ClassicGetModel, "/api/v1/models/openai/no-such-model"),
        (Op::ClassicGetProvider, "/api/v1/models/nope"),
        (Op::OpenAiGetModel, "/v1/models/openai/no-such-model"),
        (Op::GetMyUsage, "/api/v1/users/me/usage?limit=0"),
        (Op::DocsAsset, "/docs/assets/nope.js"),
    ] {
        let route = route_of(op);
        let r = send(&w, route.method, path, None, Some(&w.key)).await;
        let (status, _) = checker.check(route, r).await;
        assert!((400..500).contains(&status), "{path}: {status}");
    }

    // A streamed chat: documented media type, and every event a valid chunk.
    for op in [Op::OpenAiChat, Op::ClassicChat] {
        let route = route_of(op);
        let (path, _) = sample(op, &w);
        let body = Body::Json(
            json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 20, "stream": true, "stream_options": {"include_usage": true}}),
        );
        let r = send(&w, route.method, &path, Some(&body), Some(&w.key)).await;
        assert_eq!(r.status(), 200);
        let ctype = r.headers()["content-type"].to_str().unwrap().to_owned();
        let ptr = format!(
            "/paths/{}/post/responses/200/content/text~1event-stream",
            escape(route.path)
        );
        assert!(checker.doc.pointer(&ptr).is_some(), "{ctype}");
        assert!(ctype.starts_with("text/event-stream"));
        let text = r.text().await.unwrap();
        let mut chunks = 0;
        for event in text.split("\n\n").filter(|e| !e.is_empty()) {
            let data = event.strip_prefix("data: ").unwrap();
            if data == "[DONE]" {
                continue;
            }
            let v: Value = serde_json::from_str(data).unwrap();
            checker.validate("/components/schemas/ChatCompletionChunk", &v, "chunk");
            chunks += 1;
        }
        assert!(chunks > 1 && text.ends_with("data: [DONE]\n\n"), "{text}");
    }

    // base64 embeddings are documented too.
    let route = route_of(Op::OpenAiEmbeddings);
    let body = Body::Json(
        json!({"model": "openai/text-embedding-3-small", "input": "a", "encoding_format": "base64"}),
    );
    let r = send(&w, Method::Post, route.path, Some(&body), Some(&w.key)).await;
    let (status, _) = checker.check(route, r).await;
    assert_eq!(status, 200);

    // A wrong method gets 405 with the path's methods in `Allow` (RFC 9110).
    let r =
        w.h.http
            .put(format!("{}/api/v1/keys", w.h.url))
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST, GET");

    // An unknown route answers the router's 404 (what the routing test rules out).
    let r = w.h.get_public("/api/v1/nope").await;
    assert_eq!(r.status(), 404);
    let v: Value = r.json().await.unwrap();
    assert!(is_router_miss(404, Some(&v)));
}

#[tokio::test]
async fn docs_pages_and_assets_are_served_locally() {
    let w = world().await;
    let doc: Value = w.h.get_public("/openapi.json").await.json().await.unwrap();
    assert_eq!(doc, openapi::document());
    for page in ["/docs", "/redoc"] {
        let r = w.h.get_public(page).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
        assert!(
            r.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'self'")
        );
        let html = r.text().await.unwrap();
        let mut assets = 0;
        for (i, _) in html
            .match_indices("src=\"")
            .chain(html.match_indices("href=\""))
        {
            let rest = &html[i..];
            let url = rest[rest.find('"').unwrap() + 1..]
                .split('"')
                .next()
                .unwrap();
            assert!(url.starts_with("docs/assets/"), "{page} links {url}");
            let r = w.h.get_public(&format!("/{url}")).await;
            assert_eq!(r.status(), 200, "{url}");
            assert!(
                r.headers()["cache-control"]
                    .to_str()
                    .unwrap()
                    .contains("immutable")
            );
            assets += 1;
        }
        assert!(assets >= 3, "{page}");
    }
    let r = w.h.get_public("/docs/assets/swagger-ui-bundle.js").await;
    assert_eq!(
        r.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
}
