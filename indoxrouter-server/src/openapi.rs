//! The OpenAPI 3.0.3 document served at `/openapi.json`.
//!
//! **Why 3.0.3:** Swagger UI 5, ReDoc 2 and schemathesis all handle 3.0 fully,
//! while 3.1 support is still partial in ReDoc 2; `nullable` is the only 3.0
//! idiom we need, and the tests translate it to JSON Schema when validating.
//!
//! **How it cannot drift:** the paths come from the route table
//! ([`crate::routes::catalog::ROUTES`]), one operation per entry, described by
//! `operation`, an exhaustive `match` on [`Op`] (a new variant does not
//! compile until it is documented). The schemas are written by hand here
//! rather than derived (the wire types are serde structs with custom
//! `Serialize` impls, flattened extras and borrowed fields, most of them in
//! the core crate, where a `schemars` derive would be a dependency of every
//! embedder); instead `tests/openapi.rs` serializes real responses from a
//! server running on the provider simulator — one request per operation, the
//! error shapes of both surfaces included — and validates each against the
//! operation's schema in this document with a JSON Schema validator, and
//! fails if any table entry or `warp::path!` filter is missing from the
//! other. `scripts/docs_check.sh` then fuzzes the running server against the
//! document with schemathesis.

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::routes::catalog::{Access, Op, ROUTES, Route};

/// `/openapi.json` as served: built once, then shared.
pub fn document_bytes() -> &'static [u8] {
    static DOC: OnceLock<Vec<u8>> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_vec(&document()).unwrap_or_default())
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let item = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(
                route.method.openapi_key().to_owned(),
                operation_object(route),
            );
        }
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "IndoxRouter",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A self-hosted AI gateway. `/v1` is OpenAI-compatible (point an OpenAI SDK's `base_url` at it); `/api/v1` keeps the classic API's request fields and response envelope and adds accounts, API keys and administration.\n\nAuthenticate with `Authorization: Bearer <credential>`: an API key (`ixr-…`, from `POST /api/v1/keys`) or an access token (JWT, from `POST /api/v1/auth/login`). Money is always a USD decimal string, exact.",
            "license": {"name": "MIT"}
        },
        "tags": [
            {"name": "health", "description": "Liveness and readiness."},
            {"name": "auth", "description": "Access tokens (JWT)."},
            {"name": "account", "description": "The caller's profile, balance, usage and API keys."},
            {"name": "admin", "description": "Users and credits (role `admin`)."},
            {"name": "models", "description": "The model catalog: capabilities, limits, prices."},
            {"name": "inference", "description": "The classic API's inference routes, in its response envelope."},
            {"name": "openai", "description": "OpenAI-compatible inference and models."},
            {"name": "docs", "description": "This description of the API."}
        ],
        "security": [{"apiKey": []}, {"accessToken": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "ixr-…",
                    "description": "An IndoxRouter API key (`ixr-` and 43 more characters), created with `POST /api/v1/keys`."
                },
                "accessToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token (HS256 JWT) from `POST /api/v1/auth/token` or `/api/v1/auth/login`."
                }
            },
            "headers": {
                "RequestId": {
                    "description": "The caller's `x-request-id` when usable (1–128 of `A-Z a-z 0-9 - _ . :`), else a generated `req_…`.",
                    "schema": {"type": "string"}
                },
                "Cost": {
                    "description": "The charge for this request, a USD decimal string.",
                    "schema": usd()
                },
                "RetryAfter": {
                    "description": "Seconds to wait before retrying.",
                    "schema": {"type": "integer", "minimum": 0}
                },
                "RateLimitLimit": {
                    "description": "The per-minute limit (requests or tokens) of the tighter bucket (key or user); absent for admins.",
                    "schema": {"type": "integer", "minimum": 0}
                },
                "RateLimitRemaining": {
                    "description": "What is left of it now.",
                    "schema": {"type": "integer", "minimum": 0}
                },
                "RateLimitReset": {
                    "description": "Seconds until the allowance is whole again.",
                    "schema": {"type": "integer", "minimum": 0}
                },
                "WwwAuthenticate": {
                    "description": "`Bearer`.",
                    "schema": {"type": "string"}
                }
            },
            "schemas": schemas()
        }
    })
}

/// The `X-RateLimit-*` headers of a rate-limited answer.
fn rate_limit_headers(headers: &mut Map<String, Value>) {
    for dim in ["requests", "tokens"] {
        for (what, component) in [
            ("limit", "RateLimitLimit"),
            ("remaining", "RateLimitRemaining"),
            ("reset", "RateLimitReset"),
        ] {
            headers.insert(
                format!("x-ratelimit-{what}-{dim}"),
                json!({"$ref": format!("#/components/headers/{component}")}),
            );
        }
    }
}

/// A `$ref` to a component schema.
fn sref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// A USD amount: a decimal string with up to 12 fraction digits.
fn usd() -> Value {
    json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,12})?$", "example": "0.00001425"})
}

fn nullable(mut schema: Value) -> Value {
    if let Value::Object(o) = &mut schema {
        o.insert("nullable".into(), Value::Bool(true));
    }
    schema
}

fn uint() -> Value {
    json!({"type": "integer", "minimum": 0})
}

fn uint32() -> Value {
    json!({"type": "integer", "minimum": 0, "maximum": 4_294_967_295_u64})
}

/// A success answer: status, description, and a schema per media type.
type Success = (u16, &'static str, Vec<(&'static str, Value)>);

/// What one operation documents beyond the route table.
struct Spec {
    tag: &'static str,
    summary: &'static str,
    description: &'static str,
    parameters: Vec<Value>,
    body: Option<Value>,
    /// Success answers.
    ok: Vec<Success>,
    /// Error statuses this operation can answer with.
    errors: &'static [u16],
    /// Headers on the success answer.
    cost_header: bool,
}

impl Spec {
    fn new(tag: &'static str, summary: &'static str) -> Self {
        Spec {
            tag,
            summary,
            description: "",
            parameters: Vec::new(),
            body: None,
            ok: Vec::new(),
            errors: &[],
            cost_header: false,
        }
    }
    fn describe(mut self, d: &'static str) -> Self {
        self.description = d;
        self
    }
    fn json(self, status: u16, desc: &'static str, schema: Value) -> Self {
        self.media(status, desc, &[("application/json", schema)])
    }
    /// A success answer in other media types (`text/csv`, `text/plain`, …),
    /// one schema each.
    fn media(mut self, status: u16, desc: &'static str, media: &[(&'static str, Value)]) -> Self {
        self.ok.push((status, desc, media.to_vec()));
        self
    }
    fn body(self, schema: Value, required: bool) -> Self {
        self.body_as("application/json", schema, required)
    }
    fn body_as(mut self, media: &str, schema: Value, required: bool) -> Self {
        let mut content = Map::new();
        content.insert(media.to_owned(), json!({ "schema": schema }));
        self.body = Some(json!({"required": required, "content": content}));
        self
    }
    fn errors(mut self, e: &'static [u16]) -> Self {
        self.errors = e;
        self
    }
    fn param(mut self, p: Value) -> Self {
        self.parameters.push(p);
        self
    }
    fn metered(mut self) -> Self {
        self.cost_header = true;
        self
    }
}

fn path_param(name: &str, desc: &str, example: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": desc,
           "schema": {"type": "string", "minLength": 1}, "example": example})
}

fn usage_query() -> [Value; 2] {
    [
        json!({"name": "limit", "in": "query", "required": false,
               "description": "Rows per page, 1–1000 (default 100).",
               "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}),
        json!({"name": "cursor", "in": "query", "required": false,
               "description": "`next_cursor` from the previous page.",
               "schema": {"type": "string"}}),
    ]
}

/// The usage filters shared by listings and exports.
fn usage_filters() -> Vec<Value> {
    let time = "RFC 3339 (`2026-11-27T10:00:00Z`), a date (`2026-11-27`, midnight UTC) or Unix milliseconds.";
    vec![
        json!({"name": "key_id", "in": "query", "required": false,
               "description": "Only requests made with this API key (`key_…`).",
               "schema": {"type": "string"}}),
        json!({"name": "provider", "in": "query", "required": false,
               "description": "Only this provider's requests, e.g. `openai`.",
               "schema": {"type": "string"}}),
        json!({"name": "model", "in": "query", "required": false,
               "description": "Only this model: `provider/model`, or the bare model id together with `provider`.",
               "schema": {"type": "string"}}),
        json!({"name": "from", "in": "query", "required": false,
               "description": format!("Start, inclusive: {time}"),
               "schema": {"type": "string"}}),
        json!({"name": "to", "in": "query", "required": false,
               "description": format!("End, exclusive: {time}"),
               "schema": {"type": "string"}}),
    ]
}

/// `user=` on admin reports.
fn user_filter() -> Value {
    json!({"name": "user", "in": "query", "required": false,
           "description": "Only this user (username).", "schema": {"type": "string"}})
}

/// The summary's parameters; `admin` adds `user` and grouping by user.
fn summary_params(spec: Spec, admin: bool) -> Spec {
    let mut groups = vec!["day", "model", "provider", "key"];
    if admin {
        groups.push("user");
    }
    let day =
        "A UTC day boundary: a date (`2026-11-27`) or midnight UTC; summaries are kept per day.";
    let spec = spec
        .param(json!({"name": "group_by", "in": "query", "required": false,
                      "description": "What each group is.",
                      "schema": {"type": "string", "enum": groups, "default": "day"}}))
        .param(json!({"name": "from", "in": "query", "required": false,
                      "description": format!("First day, inclusive. {day}"), "schema": {"type": "string"}}))
        .param(json!({"name": "to", "in": "query", "required": false,
                      "description": format!("End day, exclusive. {day}"), "schema": {"type": "string"}}));
    if admin {
        spec.param(user_filter())
    } else {
        spec
    }
}

/// The export's parameters and its two media types.
fn export_params(mut spec: Spec, admin: bool) -> Spec {
    spec = spec.param(json!({"name": "format", "in": "query", "required": false,
                             "schema": {"type": "string", "enum": ["csv", "jsonl"], "default": "csv"}}));
    for p in usage_filters() {
        spec = spec.param(p);
    }
    if admin {
        spec = spec.param(user_filter());
    }
    spec.media(200, "Every matching row, newest first, streamed; `Content-Disposition` names a file.", &[
        ("text/csv", json!({"type": "string", "description": "RFC 4180, a header line then one line per row (the columns of `UsageRow`)."})),
        ("application/x-ndjson", json!({"type": "string", "description": "One `UsageRow` JSON object per line."})),
    ])
    .errors(&[400, 404, 422, 503])
}

/// Error statuses shared by kinds of operation.
/// The login routes: a body, and throttling (429) and a busy hashing queue (503).
const LOGIN: &[u16] = &[400, 401, 411, 413, 422, 429, 503];
const INFERENCE: &[u16] = &[400, 401, 402, 403, 404, 411, 413, 422, 429, 502, 503, 504];
const ADMIN_POST: &[u16] = &[400, 401, 403, 404, 409, 411, 413, 422, 503];

fn error_description(status: u16) -> &'static str {
    match status {
        400 => {
            "Malformed JSON (`invalid_json`) or a request the provider or the server rejects (`invalid_request`)."
        }
        401 => "Credential missing or invalid (`unauthorized`).",
        402 => {
            "The request's upper-bound cost exceeds the available balance (`insufficient_credits`), or the API key's budget cannot cover it (`key_budget_exceeded`); the provider was not called."
        }
        403 => {
            "Not an administrator (`forbidden`), a disabled account (`account_disabled`), an API key without the route's scope (`insufficient_scope`) or calling a model outside its list (`model_not_allowed`), a key asking for more than its creator (`key_exceeds_creator`), or a catalog model without prices (`model_not_priced`)."
        }
        404 => {
            "Not found: `not_found`, `model_not_found`, `provider_not_found` or `key_not_found`."
        }
        405 => "Method not allowed.",
        409 => {
            "The username is taken (`user_exists`), the user already holds the most active keys allowed (`too_many_keys`), or an administrator tried to delete themself (`cannot_delete_self`)."
        }
        411 => "A body without `Content-Length` (`length_required`).",
        413 => "The body is larger than the server accepts (`payload_too_large`).",
        422 => {
            "Well-formed JSON with wrong fields or types (`invalid_parameters`), or a tier the server does not define (`unknown_tier`)."
        }
        429 => {
            "A rate limit of the caller (`rate_limit_exceeded`, with `Retry-After`; `tokens_exceed_limit` for a request larger than the whole per-minute allowance), the provider rate-limited the server (`provider_rate_limited`, `Retry-After` passed on), or too many failed logins (`too_many_login_attempts`, with `Retry-After`)."
        }
        502 => {
            "The provider failed: `provider_unavailable`, `provider_authentication`, `provider_permission`, `provider_quota`, `stream_interrupted`, `decode`."
        }
        503 => {
            "No credentials for that provider (`provider_not_configured`), shutting down (`unavailable`, `server_shutting_down`), or too many logins in progress (`busy`, with `Retry-After`)."
        }
        504 => "The provider did not answer in time (`timeout`).",
        _ => "Error.",
    }
}

fn operation_object(route: &Route) -> Value {
    let spec = operation(route.op);
    let classic_shape = !route.path.starts_with("/v1/");
    let error_schema = if classic_shape {
        sref("ClassicError")
    } else {
        sref("OpenAiError")
    };
    let mut responses = Map::new();
    for (status, desc, media) in &spec.ok {
        let mut content = Map::new();
        for (mt, schema) in media {
            content.insert((*mt).to_owned(), json!({ "schema": schema }));
        }
        let mut headers = Map::new();
        headers.insert(
            "x-request-id".into(),
            json!({"$ref": "#/components/headers/RequestId"}),
        );
        if spec.cost_header {
            headers.insert(
                "x-indoxrouter-cost".into(),
                json!({"$ref": "#/components/headers/Cost"}),
            );
            rate_limit_headers(&mut headers);
        }
        responses.insert(
            status.to_string(),
            json!({"description": desc, "headers": headers, "content": content}),
        );
    }
    let mut errors: Vec<u16> = spec.errors.to_vec();
    // Every guarded route can refuse the credential, a disabled account,
    // a key's scope or the role.
    match route.access {
        Access::Public => {}
        Access::User | Access::Admin => errors.extend([401, 403]),
    }
    errors.sort_unstable();
    errors.dedup();
    for status in errors {
        let mut headers = Map::new();
        headers.insert(
            "x-request-id".into(),
            json!({"$ref": "#/components/headers/RequestId"}),
        );
        if matches!(status, 429 | 502 | 503) {
            headers.insert(
                "Retry-After".into(),
                json!({"$ref": "#/components/headers/RetryAfter"}),
            );
        }
        if spec.cost_header && status == 429 {
            rate_limit_headers(&mut headers);
        }
        if status == 401 {
            headers.insert(
                "WWW-Authenticate".into(),
                json!({"$ref": "#/components/headers/WwwAuthenticate"}),
            );
        }
        responses.insert(
            status.to_string(),
            json!({
                "description": error_description(status),
                "headers": headers,
                "content": {"application/json": {"schema": error_schema}}
            }),
        );
    }
    let mut op = Map::new();
    op.insert("operationId".into(), Value::String(route.operation_id()));
    op.insert("tags".into(), json!([spec.tag]));
    op.insert("summary".into(), Value::String(spec.summary.to_owned()));
    if !spec.description.is_empty() {
        op.insert(
            "description".into(),
            Value::String(spec.description.to_owned()),
        );
    }
    if !spec.parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(spec.parameters));
    }
    if let Some(body) = spec.body {
        op.insert("requestBody".into(), body);
    }
    op.insert("responses".into(), Value::Object(responses));
    if route.access == Access::Public {
        // Public: overrides the document-wide requirement.
        op.insert("security".into(), json!([]));
    }
    if route.access == Access::Admin {
        // Informational: the role the credential's user must have.
        op.insert(
            "x-indoxrouter-role".into(),
            Value::String("admin".to_owned()),
        );
    }
    Value::Object(op)
}

/// Each operation's documentation. Exhaustive: a new [`Op`] must be added
/// here. A typical new entry: `Spec::new(tag, summary)`, then `.param(…)`,
/// `.body(sref("…"), true)`, `.json(200, …)` (or `.media(…)` for CSV, text,
/// JSON lines), `.errors(&[…])`; its schemas go in [`schemas`]. 401 and 403
/// are added from the route's [`Access`].
fn operation(op: Op) -> Spec {
    match op {
        Op::Health => Spec::new("health", "Liveness")
            .describe("`200` while the process serves requests.")
            .json(200, "Alive.", sref("Health")),
        Op::HealthReady => Spec::new("health", "Readiness")
            .describe("`200` while accepting requests with at least one provider configured, else `503` (same body).")
            .json(200, "Ready.", sref("Readiness"))
            .json(503, "Not ready (shutting down, or no provider configured).", sref("Readiness")),
        Op::OpenApiDocument => Spec::new("docs", "This OpenAPI document")
            .json(200, "The OpenAPI 3.0.3 document.", json!({"type": "object"})),
        Op::SwaggerUi => html_page("Swagger UI for this document"),
        Op::Redoc => html_page("ReDoc for this document"),
        Op::DocsAsset => Spec::new("docs", "A script, style sheet, icon or licence of the documentation pages")
            .describe("Embedded in the binary; cached as immutable (the pages link them with a content hash).")
            .param(path_param("file", "The file's name.", "swagger-ui.css"))
            .media(200, "The file.", &[
                ("text/javascript", json!({"type": "string"})),
                ("text/css", json!({"type": "string"})),
                ("text/plain", json!({"type": "string"})),
                ("image/png", json!({"type": "string", "format": "binary"})),
            ])
            .errors(&[404]),
        Op::AuthToken => Spec::new("auth", "Access token (OAuth2 password form)")
            .describe("The OAuth2 password flow, as in the classic API. Wrong username and wrong password are indistinguishable.")
            .body_as("application/x-www-form-urlencoded", sref("LoginForm"), true)
            .json(200, "An access token.", sref("Token"))
            .errors(LOGIN),
        Op::AuthLogin => Spec::new("auth", "Access token (JSON)")
            .describe("Wrong username and wrong password are indistinguishable. Failed logins are throttled per username and per client address: past the limit, `429 too_many_login_attempts` with `Retry-After`, before any password is checked.")
            .body(sref("Login"), true)
            .json(200, "An access token.", sref("Token"))
            .errors(LOGIN),
        Op::ChangePassword => Spec::new("account", "Change your password")
            .describe("Checks `current_password` like a login (throttled; a wrong one counts as a failed login), sets `new_password` (8 characters or more) and ends every access token issued before; the answer is a fresh one. API keys keep working: revoke them separately.")
            .body(sref("ChangePassword"), true)
            .json(200, "A fresh access token.", sref("Token"))
            .errors(LOGIN),
        Op::GetMe => Spec::new("account", "The caller's profile and balance")
            .json(200, "The caller.", sref("Me"))
            .errors(&[401]),
        Op::GetMyUsage => {
            let [limit, cursor] = usage_query();
            let mut spec = Spec::new("account", "The caller's usage, newest first")
                .param(limit)
                .param(cursor);
            for p in usage_filters() {
                spec = spec.param(p);
            }
            spec.json(200, "One page of usage rows.", sref("UsagePage"))
                .errors(&[400, 401, 404, 422, 503])
        }
        Op::GetMyUsageSummary => summary_params(
            Spec::new("account", "The caller's usage totals by day, model, provider or key"),
            false,
        )
        .json(200, "Totals per group and overall, costs exact.", sref("UsageSummary"))
        .errors(&[400, 422, 503]),
        Op::ExportMyUsage => export_params(
            Spec::new("account", "Export the caller's usage as CSV or JSON lines"),
            false,
        ),
        Op::AdminUsage => {
            let [limit, cursor] = usage_query();
            let mut spec = Spec::new("admin", "Every user's usage, newest first")
                .param(limit)
                .param(cursor)
                .param(user_filter());
            for p in usage_filters() {
                spec = spec.param(p);
            }
            spec.json(200, "One page of usage rows.", sref("UsagePage"))
                .errors(&[400, 404, 422, 503])
        }
        Op::AdminUsageSummary => summary_params(
            Spec::new("admin", "Usage totals by day, model, provider, key or user"),
            true,
        )
        .json(200, "Totals per group and overall, costs exact.", sref("UsageSummary"))
        .errors(&[400, 404, 422, 503]),
        Op::AdminUsageExport => export_params(
            Spec::new("admin", "Export usage as CSV or JSON lines"),
            true,
        ),
        Op::CreateKey => Spec::new("account", "Create an API key")
            .describe("The answer is the only time the key itself is shown. The body is optional: without `scopes` the key may only call inference. A key created with another key can never have more than that key — broader scopes, a model outside its list, a larger output cap, a later expiry or a looser tier is `403 key_exceeds_creator` naming the field; limits it does not set are inherited. A user holds at most 100 active keys (`409 too_many_keys`).")
            .body(sref("NewKey"), false)
            .json(201, "The new key, with `key`.", sref("CreatedKey"))
            .errors(&[400, 401, 409, 411, 413, 422, 503]),
        Op::ListKeys => Spec::new("account", "The caller's API keys, newest first")
            .json(200, "The keys (never the keys themselves).", sref("KeyList"))
            .errors(&[401]),
        Op::RevokeKey => Spec::new("account", "Revoke one of the caller's API keys")
            .param(path_param("id", "The key's `id` (`key_…`).", "key_0123456789abcdef01234567"))
            .json(200, "The revoked key.", sref("ApiKey"))
            .errors(&[401, 404, 503]),
        Op::AdminCreateUser => Spec::new("admin", "Create a user")
            .describe("`credits` is a USD decimal string; a JSON number is refused (`422`) because it would pass through a binary float. The opening credit is a ledger entry.")
            .body(sref("CreateUser"), true)
            .json(201, "The new user.", sref("User"))
            .errors(ADMIN_POST),
        Op::AdminUpdateUser => Spec::new("admin", "Change a user's tier, disable or enable them, or reset their password")
            .describe("`{\"tier\": \"premium\"}` assigns a tier, `{\"tier\": null}` restores the server default; `{\"disabled\": true}` refuses the user's tokens and keys at once on every route (`403 account_disabled`) until `false`; `{\"password\": \"…\"}` sets a new password and ends the user's access tokens. Absent fields are left as they are.")
            .param(path_param("username", "The user's name.", "alice"))
            .body(sref("UpdateUser"), true)
            .json(200, "The user.", sref("User"))
            .errors(&[400, 401, 403, 404, 411, 413, 422, 503]),
        Op::Metrics => Spec::new("health", "Prometheus metrics")
            .describe("OpenMetrics text. Open unless `INDOXROUTER_METRICS_TOKEN` is set; then it needs `Authorization: Bearer <that token>`.")
            .media(200, "The metrics.", &[(
                "application/openmetrics-text",
                json!({"type": "string"}),
            )])
            .errors(&[401]),
        Op::AdminDeleteUser => Spec::new("admin", "Delete a user")
            .describe("Disables the user for good, revokes every key and ends every access token. Usage rows stay in the reports; the username stays taken, so it cannot be reused by accident. An administrator cannot delete themself (`409 cannot_delete_self`).")
            .param(path_param("username", "The user's name.", "alice"))
            .json(200, "Deleted.", json!({"type": "object", "required": ["username", "deleted"], "properties": {"username": {"type": "string"}, "deleted": {"type": "boolean"}}}))
            .errors(&[401, 403, 404, 409, 503]),
        Op::AdminListUserKeys => Spec::new("admin", "A user's API keys")
            .param(path_param("username", "The user's name.", "alice"))
            .json(200, "The keys (never the keys themselves).", sref("KeyList"))
            .errors(&[401, 403, 404]),
        Op::AdminRevokeKey => Spec::new("admin", "Revoke any user's API key")
            .param(path_param("id", "The key's id (`key_…`).", "key_0123456789abcdef01234567"))
            .json(200, "The revoked key.", sref("ApiKey"))
            .errors(&[401, 403, 404, 503]),
        Op::AdminListUsers => Spec::new("admin", "List users")
            .json(200, "Every user.", sref("UserList")),
        Op::AdminAddCredits => Spec::new("admin", "Add (or remove) credit")
            .describe("One ledger entry per call; a negative amount removes credit.")
            .param(path_param("username", "The user's name.", "alice"))
            .body(sref("AddCredits"), true)
            .json(200, "The entry and the new balance.", sref("CreditResult"))
            .errors(ADMIN_POST),
        Op::AdminUserUsage => {
            let [limit, cursor] = usage_query();
            let mut spec = Spec::new("admin", "A user's usage, newest first")
                .param(path_param("username", "The user's name.", "alice"))
                .param(limit)
                .param(cursor);
            for p in usage_filters() {
                spec = spec.param(p);
            }
            spec.json(200, "One page of usage rows.", sref("UsagePage"))
                .errors(&[400, 404, 422, 503])
        }
        Op::ClassicListProviders => Spec::new("models", "Every provider in the catalog, with its models")
            .json(200, "The catalog.", json!({"type": "array", "items": sref("Provider")})),
        Op::ClassicGetProvider => Spec::new("models", "One provider, with its models")
            .param(path_param("provider", "Provider id, e.g. `openai` (`gemini` is an alias of `google`).", "openai"))
            .json(200, "The provider.", sref("Provider"))
            .errors(&[404]),
        Op::ClassicGetModel => Spec::new("models", "One model: capabilities, limits, prices")
            .param(path_param("provider", "Provider id.", "openai"))
            .param(path_param("model", "Model id within the provider.", "gpt-4o-mini"))
            .json(200, "The model.", sref("ModelInfo"))
            .errors(&[404]),
        Op::ClassicChat => Spec::new("inference", "Chat completion (classic envelope)")
            .describe("The OpenAI request fields, plus `provider` + `model` (or `model` as `provider/model`; default `openai/gpt-4o-mini`) and `additional_params`. `stream: true` streams Server-Sent Events exactly as `/v1/chat/completions` does.")
            .body(sref("ClassicChatRequest"), true)
            .stream_or_json("The reply in the classic API's envelope (`data` is the text), or an SSE stream.", sref("ClassicChatResponse"))
            .errors(INFERENCE)
            .metered(),
        Op::ClassicCompletion => Spec::new("inference", "Text completion (classic envelope)")
            .body(sref("ClassicCompletionRequest"), true)
            .json(200, "The completion in the classic API's envelope (`data` is the text).", sref("ClassicTextResponse"))
            .errors(INFERENCE)
            .metered(),
        Op::ClassicEmbeddings => Spec::new("inference", "Embeddings (classic envelope)")
            .describe("`text` is a synonym of `input`. Default model `openai/text-embedding-3-small`.")
            .body(sref("ClassicEmbeddingRequest"), true)
            .json(200, "The vectors in the classic API's envelope.", sref("ClassicEmbeddingResponse"))
            .errors(INFERENCE)
            .metered(),
        Op::ClassicImages => Spec::new("inference", "Image generation (classic envelope)")
            .describe("Default model `openai/dall-e-3`.")
            .body(sref("ClassicImageRequest"), true)
            .json(200, "The images in the classic API's envelope.", sref("ClassicImageResponse"))
            .errors(INFERENCE)
            .metered(),
        Op::OpenAiListModels => Spec::new("openai", "List models")
            .describe("Models of the providers this server is configured for, ids as `provider/model`.")
            .json(200, "The models.", sref("OpenAiModelList"))
            .errors(&[401]),
        Op::OpenAiGetModel => Spec::new("openai", "Retrieve a model")
            .param(path_param("provider", "Provider id.", "openai"))
            .param(path_param("model", "Model id within the provider.", "gpt-4o-mini"))
            .json(200, "The model.", sref("OpenAiModel"))
            .errors(&[401, 403, 404]),
        Op::OpenAiChat => Spec::new("openai", "Chat completion")
            .describe("OpenAI's request and response, plus `provider`, `usage.cost` and `fallbacks`. `stream: true` answers Server-Sent Events: `data: <ChatCompletionChunk>` events, `: keep-alive` comments while the provider is silent, then `data: [DONE]` once the charge is durable (or a last `data: {\"error\": …}` if the provider broke off).")
            .body(sref("ChatCompletionRequest"), true)
            .stream_or_json("The completion, or an SSE stream of `ChatCompletionChunk`s.", sref("ChatCompletion"))
            .errors(INFERENCE)
            .metered(),
        Op::OpenAiCompletion => Spec::new("openai", "Text completion")
            .describe("Streaming is not supported here (`400`); stream a chat instead.")
            .body(sref("CompletionRequest"), true)
            .json(200, "The completion.", sref("Completion"))
            .errors(INFERENCE)
            .metered(),
        Op::OpenAiEmbeddings => Spec::new("openai", "Embeddings")
            .describe("`encoding_format: base64` returns little-endian float32 vectors in base64, as OpenAI does.")
            .body(sref("EmbeddingRequest"), true)
            .json(200, "The vectors.", sref("EmbeddingList"))
            .errors(INFERENCE)
            .metered(),
        Op::OpenAiImages => Spec::new("openai", "Image generation")
            .body(sref("ImageRequest"), true)
            .json(200, "The images.", sref("ImagesResponse"))
            .errors(INFERENCE)
            .metered(),
    }
}

impl Spec {
    /// A 200 that is JSON, or an SSE stream when the request set `stream`.
    fn stream_or_json(mut self, desc: &'static str, schema: Value) -> Self {
        self.ok.push((
            200,
            desc,
            vec![
                ("application/json", schema),
                (
                    "text/event-stream",
                    json!({
                        "type": "string",
                        "description": "Server-Sent Events: `data: ` + a JSON `ChatCompletionChunk` per event, ending with `data: [DONE]`.",
                        "x-event-schema": sref("ChatCompletionChunk")
                    }),
                ),
            ],
        ));
        self
    }
}

fn html_page(summary: &'static str) -> Spec {
    Spec::new("docs", summary).media(
        200,
        "An HTML page; its scripts and styles are served by this server.",
        &[("text/html", json!({"type": "string"}))],
    )
}

/// Every component schema.
fn schemas() -> Value {
    let mut s = Map::new();
    let mut put = |name: &str, v: Value| {
        s.insert(name.to_owned(), v);
    };
    put("Usd", usd());
    put(
        "OpenAiError",
        json!({
            "type": "object",
            "description": "OpenAI's error shape (on `/v1`).",
            "required": ["error"],
            "properties": {"error": {
                "type": "object",
                "required": ["message", "type", "param", "code"],
                "properties": {
                    "message": {"type": "string"},
                    "type": {"type": "string", "enum": ["invalid_request_error", "authentication_error", "insufficient_quota", "permission_error", "not_found_error", "rate_limit_error", "api_error"]},
                    "param": {"type": "string", "nullable": true},
                    "code": {"type": "string", "example": "insufficient_credits"}
                }
            }}
        }),
    );
    put(
        "ClassicError",
        json!({
            "type": "object",
            "description": "The classic API's error shape (on `/api/v1` and elsewhere); `detail` repeats `message` for FastAPI-style clients.",
            "required": ["success", "message", "detail", "code"],
            "properties": {
                "success": {"type": "boolean", "enum": [false]},
                "message": {"type": "string"},
                "detail": {"type": "string"},
                "code": {"type": "string", "example": "insufficient_credits"},
                "param": {"type": "string"},
                "request_id": {"type": "string"}
            }
        }),
    );
    put(
        "Health",
        json!({
            "type": "object", "required": ["status"],
            "properties": {"status": {"type": "string", "enum": ["ok"]}}
        }),
    );
    put(
        "Readiness",
        json!({
            "type": "object", "required": ["status", "accepting", "providers"],
            "properties": {
                "status": {"type": "string", "enum": ["ready", "not_ready"]},
                "accepting": {"type": "boolean"},
                "providers": {"type": "array", "items": {"type": "string"}}
            }
        }),
    );
    put(
        "Login",
        json!({
            "type": "object", "required": ["username", "password"],
            "properties": {"username": {"type": "string"}, "password": {"type": "string", "format": "password"}}
        }),
    );
    put(
        "LoginForm",
        json!({
            "type": "object", "required": ["username", "password"],
            "properties": {"username": {"type": "string"}, "password": {"type": "string", "format": "password"}}
        }),
    );
    put(
        "Token",
        json!({
            "type": "object", "required": ["access_token", "token_type", "expires_in"],
            "properties": {
                "access_token": {"type": "string"},
                "token_type": {"type": "string", "enum": ["bearer"]},
                "expires_in": {"type": "integer", "minimum": 0, "description": "Seconds."}
            }
        }),
    );
    put("Role", json!({"type": "string", "enum": ["user", "admin"]}));
    put(
        "Me",
        json!({
            "type": "object",
            "required": ["id", "username", "role", "created_at", "balance", "available"],
            "properties": {
                "id": uint(),
                "username": {"type": "string"},
                "role": sref("Role"),
                "created_at": {"type": "integer", "description": "Unix seconds."},
                "balance": {"allOf": [sref("Usd")], "description": "Settled balance."},
                "available": {"allOf": [sref("Usd")], "description": "Balance minus credit held by requests in flight."},
                "tier": {"type": "string", "nullable": true, "description": "Rate-limit tier; `null` for admins (exempt) or with limits off."},
                "rate_limits": {
                    "type": "object", "nullable": true,
                    "required": ["requests_per_minute", "tokens_per_minute"],
                    "properties": {"requests_per_minute": uint(), "tokens_per_minute": uint()}
                }
            }
        }),
    );
    put(
        "UsageRow",
        json!({
            "type": "object",
            "required": ["request_id", "user_id", "key_id", "endpoint", "provider", "model", "stream",
                         "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens",
                         "reasoning_tokens", "images", "cost", "overrun", "unpriced", "latency_ms", "status",
                         "created_at_ms", "created_at"],
            "properties": {
                "request_id": {"type": "string"},
                "user_id": uint(),
                "key_id": {"type": "string", "nullable": true},
                "endpoint": {"type": "string", "enum": ["chat", "completions", "embeddings", "images"]},
                "provider": {"type": "string"},
                "model": {"type": "string"},
                "stream": {"type": "boolean"},
                "prompt_tokens": uint(),
                "completion_tokens": uint(),
                "cached_tokens": uint(),
                "cache_write_tokens": uint(),
                "reasoning_tokens": uint(),
                "images": uint(),
                "cost": sref("Usd"),
                "overrun": {"allOf": [sref("Usd")], "description": "Cost of reported usage beyond the request's hold: served, not charged (normally 0)."},
                "unpriced": {"type": "boolean"},
                "latency_ms": uint(),
                "status": {"type": "string", "enum": ["completed", "client_disconnected", "interrupted", "upstream_error", "failed"]},
                "created_at_ms": uint(),
                "created_at": {"type": "string", "format": "date-time"}
            }
        }),
    );
    put(
        "UsagePage",
        json!({
            "type": "object", "required": ["data", "next_cursor"],
            "properties": {
                "data": {"type": "array", "items": sref("UsageRow")},
                "next_cursor": {"type": "string", "nullable": true, "description": "Pass back as `cursor`; `null` on the last page."}
            }
        }),
    );
    let totals = json!({
        "requests": uint(),
        "prompt_tokens": uint(),
        "completion_tokens": uint(),
        "total_tokens": uint(),
        "cost": sref("Usd")
    });
    let totals_required = json!([
        "requests",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cost"
    ]);
    put(
        "UsageTotals",
        json!({"type": "object", "required": totals_required, "properties": totals}),
    );
    let mut group_props = totals.clone();
    if let Value::Object(o) = &mut group_props {
        o.insert("group".into(), json!({"type": "string", "nullable": true, "description": "The group's label: a date, `provider/model`, a provider, a key id (`null`: requests made without a key) or a username."}));
        o.insert("provider".into(), json!({"type": "string"}));
        o.insert("model".into(), json!({"type": "string"}));
        o.insert("key_id".into(), json!({"type": "string", "nullable": true}));
        o.insert("user_id".into(), uint());
        o.insert(
            "username".into(),
            json!({"type": "string", "nullable": true}),
        );
    }
    let mut group_required = totals_required.clone();
    if let Value::Array(a) = &mut group_required {
        a.push(Value::String("group".into()));
    }
    put(
        "UsageGroup",
        json!({"type": "object", "required": group_required, "properties": group_props}),
    );
    put(
        "UsageSummary",
        json!({
            "type": "object", "required": ["group_by", "from", "to", "data", "total"],
            "properties": {
                "group_by": {"type": "string", "enum": ["day", "model", "provider", "key", "user"]},
                "from": {"type": "string", "format": "date-time", "nullable": true},
                "to": {"type": "string", "format": "date-time", "nullable": true},
                "data": {"type": "array", "items": sref("UsageGroup")},
                "total": sref("UsageTotals")
            }
        }),
    );
    put(
        "NewKey",
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "name": {"type": "string", "maxLength": 100, "nullable": true},
                "expires_in_days": nullable(uint32()),
                "tier": {"type": "string", "nullable": true, "description": "A rate-limit tier for this key alone, on top of its user's."},
                "scopes": {"type": "array", "nullable": true, "items": sref("Scope"), "description": "What the key may do; `[\"inference\"]` when absent."},
                "models": {"type": "array", "nullable": true, "items": {"type": "string", "minLength": 1, "maxLength": 200}, "minItems": 1, "maxItems": 50, "description": "Model patterns the key may call (`openai/*`, `anthropic/claude-*`); any when absent."},
                "max_tokens_per_request": {"type": "integer", "minimum": 1, "nullable": true, "description": "The most output tokens one request may ask for; a larger request is capped."},
                "max_budget": {"type": "string", "nullable": true, "pattern": "^[0-9]+(\\.[0-9]{1,12})?$", "example": "10.50", "description": "The most the key (and keys minted from it) may spend, USD decimal string; enforced with the balance, so parallel requests cannot overshoot it (`402 key_budget_exceeded`)."},
                "budget_duration": {"type": "string", "nullable": true, "pattern": "^[0-9]+[smhd]$", "example": "30d", "description": "How often the budget resets, counted from the key's creation; a lifetime budget when absent."}
            }
        }),
    );
    put(
        "Scope",
        json!({"type": "string", "enum": ["inference", "usage:read", "keys:manage", "admin"],
            "description": "`inference`: chat, completions, embeddings, images, the model list. `usage:read`: profile, balance and usage reports. `keys:manage`: keys and the password. `admin`: the administrator routes (an administrator's key)."}),
    );
    let key_props = json!({
        "id": {"type": "string", "example": "key_0123456789abcdef01234567"},
        "name": {"type": "string", "nullable": true},
        "prefix": {"type": "string", "example": "ixr-Ab12Cd34"},
        "created_at": {"type": "integer", "description": "Unix seconds."},
        "expires_at": {"type": "integer", "nullable": true},
        "revoked_at": {"type": "integer", "nullable": true},
        "active": {"type": "boolean"},
        "tier": {"type": "string", "nullable": true, "description": "The key's own rate-limit tier."},
        "scopes": {"type": "array", "nullable": true, "items": sref("Scope"), "description": "`null` for a key made before scopes existed, which may do everything its user may."},
        "models": {"type": "array", "nullable": true, "items": {"type": "string"}, "description": "Model patterns the key may call; `null`: any."},
        "max_tokens_per_request": {"type": "integer", "nullable": true},
        "spend": {"type": "string", "example": "0.004215", "description": "USD spent by the key and keys minted from it: in the current period for a periodic budget, otherwise ever."},
        "max_budget": {"type": "string", "nullable": true},
        "budget_duration": {"type": "string", "nullable": true},
        "budget_resets_at": {"type": "integer", "nullable": true, "description": "When a periodic budget next resets, Unix seconds."}
    });
    let key_required = json!([
        "id",
        "name",
        "prefix",
        "created_at",
        "expires_at",
        "revoked_at",
        "active"
    ]);
    put(
        "ApiKey",
        json!({"type": "object", "required": key_required, "properties": key_props}),
    );
    let mut created_props = key_props.clone();
    if let Value::Object(o) = &mut created_props {
        o.insert("key".into(), json!({"type": "string", "description": "The key itself, shown only here.", "pattern": "^ixr-"}));
    }
    let mut created_required = key_required.clone();
    if let Value::Array(a) = &mut created_required {
        a.push(Value::String("key".into()));
    }
    put(
        "CreatedKey",
        json!({"type": "object", "required": created_required, "properties": created_props}),
    );
    put(
        "KeyList",
        json!({
            "type": "object", "required": ["data"],
            "properties": {"data": {"type": "array", "items": sref("ApiKey")}}
        }),
    );
    put(
        "CreateUser",
        json!({
            "type": "object", "additionalProperties": false,
            "required": ["username", "password"],
            "properties": {
                "username": {"type": "string", "pattern": "^[A-Za-z0-9._@-]{1,64}$"},
                "password": {"type": "string", "minLength": 8, "format": "password"},
                "role": {"allOf": [sref("Role")], "nullable": true, "default": "user"},
                "credits": {"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,12})?$", "nullable": true, "description": "Opening credit, a USD decimal string.", "example": "10.00"},
                "tier": {"type": "string", "nullable": true, "description": "Rate-limit tier; the server default if absent."}
            }
        }),
    );
    put(
        "User",
        json!({
            "type": "object", "required": ["id", "username", "role", "created_at", "balance"],
            "properties": {
                "id": uint(),
                "username": {"type": "string"},
                "role": sref("Role"),
                "created_at": {"type": "integer", "description": "Unix seconds."},
                "balance": sref("Usd"),
                "tier": {"type": "string", "nullable": true, "description": "The assigned rate-limit tier; `null` means the server default."},
                "disabled": {"type": "boolean", "description": "Tokens and keys are refused (`403 account_disabled`)."},
                "deleted": {"type": "boolean", "description": "Deleted by an administrator (also disabled)."}
            }
        }),
    );
    put(
        "UpdateUser",
        json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "tier": {"type": "string", "nullable": true, "description": "A tier name, or `null` for the server default."},
                "disabled": {"type": "boolean", "description": "Disable (`true`) or enable (`false`) the user."},
                "password": {"type": "string", "format": "password", "minLength": 8, "description": "A new password; ends the user's access tokens."}
            }
        }),
    );
    put(
        "ChangePassword",
        json!({
            "type": "object", "additionalProperties": false, "required": ["current_password", "new_password"],
            "properties": {
                "current_password": {"type": "string", "format": "password"},
                "new_password": {"type": "string", "format": "password", "minLength": 8}
            }
        }),
    );
    put(
        "UserList",
        json!({
            "type": "object", "required": ["data"],
            "properties": {"data": {"type": "array", "items": sref("User")}}
        }),
    );
    put(
        "AddCredits",
        json!({
            "type": "object", "additionalProperties": false,
            "required": ["amount", "reason"],
            "properties": {
                "amount": {"allOf": [sref("Usd")], "description": "Signed, non-zero.", "example": "-2.50"},
                "reason": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": "\\S"}
            }
        }),
    );
    put(
        "CreditResult",
        json!({
            "type": "object", "required": ["username", "amount", "balance"],
            "properties": {"username": {"type": "string"}, "amount": sref("Usd"), "balance": sref("Usd")}
        }),
    );
    model_schemas(&mut put);
    inference_schemas(&mut put);
    Value::Object(s)
}

fn model_schemas(put: &mut impl FnMut(&str, Value)) {
    let price = json!({"type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?$", "description": "USD per 1M tokens, exact."});
    let token_prices = json!({
        "input": price, "output": price, "cached_input": price, "cache_creation": price,
        "reasoning": price, "image_input": price, "image_output": price,
        "audio_input": price, "audio_output": price
    });
    let mut tier_props = token_prices.clone();
    if let Value::Object(o) = &mut tier_props {
        o.insert("above_tokens".into(), uint());
    }
    let mut pricing_props = token_prices;
    if let Value::Object(o) = &mut pricing_props {
        o.insert(
            "tiers".into(),
            json!({"type": "array", "description": "Prices when prompt tokens are strictly above `above_tokens`.",
                   "items": {"type": "object", "required": ["above_tokens"], "properties": tier_props}}),
        );
        o.insert(
            "images".into(),
            json!({"type": "array", "description": "Per-image prices.", "items": {
                "type": "object", "required": ["price"],
                "properties": {
                    "quality": {"type": "string", "nullable": true},
                    "size": {"type": "string", "nullable": true},
                    "price": sref("Usd")
                }
            }}),
        );
    }
    put(
        "ModelInfo",
        json!({
            "type": "object",
            "required": ["provider", "id", "name", "description", "modes", "capabilities", "pricing"],
            "properties": {
                "provider": {"type": "string"},
                "id": {"type": "string"},
                "name": {"type": "string"},
                "description": {"type": "string"},
                "modes": {"type": "array", "items": {"type": "string", "enum": ["chat", "completion", "embedding", "image"]}},
                "capabilities": {
                    "type": "object",
                    "required": ["tools", "vision", "json", "streaming", "reasoning", "prompt_caching"],
                    "properties": {
                        "tools": {"type": "boolean"}, "vision": {"type": "boolean"},
                        "json": {"type": "boolean"}, "streaming": {"type": "boolean"},
                        "reasoning": {"type": "boolean"}, "prompt_caching": {"type": "boolean"}
                    }
                },
                "context_window": uint(),
                "max_output_tokens": uint(),
                "output_vector_size": uint(),
                "pricing": {"type": "object", "properties": pricing_props},
                "deprecation_date": {"type": "string"},
                "source": {"type": "string"}
            }
        }),
    );
    put(
        "Provider",
        json!({
            "type": "object",
            "required": ["id", "name", "description", "website", "configured", "models"],
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "description": {"type": "string"},
                "website": {"type": "string", "nullable": true},
                "configured": {"type": "boolean", "description": "Whether this server holds credentials for it."},
                "models": {"type": "array", "items": sref("ModelInfo")}
            }
        }),
    );
    put(
        "OpenAiModel",
        json!({
            "type": "object", "required": ["id", "object", "created", "owned_by"],
            "properties": {
                "id": {"type": "string", "example": "openai/gpt-4o-mini"},
                "object": {"type": "string", "enum": ["model"]},
                "created": uint(),
                "owned_by": {"type": "string"}
            }
        }),
    );
    put(
        "OpenAiModelList",
        json!({
            "type": "object", "required": ["object", "data"],
            "properties": {
                "object": {"type": "string", "enum": ["list"]},
                "data": {"type": "array", "items": sref("OpenAiModel")}
            }
        }),
    );
}

/// Properties every inference request shares: `model`, `fallbacks`, `user`.
fn common_request(model_example: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "model".into(),
        json!({"type": "string", "description": "`provider/model`; a bare catalog id resolves when unambiguous.", "example": model_example}),
    );
    m.insert(
        "fallbacks".into(),
        json!({"type": "array", "items": {"type": "string"}, "description": "`provider/model` ids tried in order when the model fails; credit is reserved for the most expensive."}),
    );
    m.insert("user".into(), nullable(json!({"type": "string"})));
    m
}

fn object(required: &[&str], props: Map<String, Value>, description: &str) -> Value {
    let mut o = json!({"type": "object", "properties": props});
    if !required.is_empty() {
        o["required"] = json!(required);
    }
    if !description.is_empty() {
        o["description"] = Value::String(description.to_owned());
    }
    o
}

fn extend(mut base: Map<String, Value>, more: Value) -> Map<String, Value> {
    if let Value::Object(more) = more {
        base.extend(more);
    }
    base
}

/// The classic API's extra request fields.
fn classic_fields(mut props: Map<String, Value>) -> Map<String, Value> {
    props.insert(
        "provider".into(),
        json!({"type": "string", "nullable": true, "description": "With a bare `model`: the provider, e.g. `openai`."}),
    );
    props.insert(
        "additional_params".into(),
        json!({"type": "object", "description": "Merged into the request; explicit fields win."}),
    );
    props
}

fn inference_schemas(put: &mut impl FnMut(&str, Value)) {
    let num = || nullable(json!({"type": "number"}));
    let stop = json!({"nullable": true, "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]});
    put(
        "Message",
        json!({
            "type": "object", "required": ["role"],
            "properties": {
                "role": {"type": "string", "description": "`system`, `developer`, `user`, `assistant` or `tool`.", "example": "user"},
                "content": {
                    "nullable": true,
                    "description": "Text, or content parts (`{\"type\": \"text\", \"text\"}`, `{\"type\": \"image_url\", \"image_url\": {\"url\"}}`; other parts are passed on).",
                    "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object"}}]
                },
                "name": {"type": "string"},
                "tool_calls": {"type": "array", "items": sref("ToolCall")},
                "tool_call_id": {"type": "string"},
                "reasoning_content": {"type": "string"},
                "refusal": {"type": "string"}
            }
        }),
    );
    put(
        "ToolCall",
        json!({
            "type": "object", "required": ["id", "type", "function"],
            "properties": {
                "id": {"type": "string"},
                "type": {"type": "string", "example": "function"},
                "function": {"type": "object", "required": ["name", "arguments"], "properties": {
                    "name": {"type": "string"}, "arguments": {"type": "string", "description": "JSON text."}
                }}
            }
        }),
    );
    let chat_props = extend(
        common_request("openai/gpt-4o-mini"),
        json!({
            "messages": {"type": "array", "items": sref("Message")},
            "temperature": num(),
            "top_p": num(),
            "max_tokens": nullable(uint32()),
            "max_completion_tokens": nullable(uint()),
            "stop": stop,
            "seed": nullable(json!({"type": "integer"})),
            "n": nullable(uint32()),
            "presence_penalty": num(),
            "frequency_penalty": num(),
            "tools": {"type": "array", "nullable": true, "items": {"type": "object", "required": ["function"], "properties": {
                "type": {"type": "string", "default": "function"},
                "function": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string"}, "description": {"type": "string"},
                    "parameters": {"type": "object"}, "strict": {"type": "boolean"}
                }}
            }}},
            "tool_choice": {"nullable": true, "description": "`none`, `auto`, `required`, or `{\"type\": \"function\", \"function\": {\"name\"}}`."},
            "parallel_tool_calls": nullable(json!({"type": "boolean"})),
            "response_format": {"nullable": true, "description": "`{\"type\": \"text\"}`, `{\"type\": \"json_object\"}` or `{\"type\": \"json_schema\", \"json_schema\": {\"name\", \"schema\", \"strict\"}}`."},
            "reasoning_effort": nullable(json!({"type": "string"})),
            "stream": nullable(json!({"type": "boolean", "default": false})),
            "stream_options": {"type": "object", "nullable": true, "properties": {"include_usage": {"type": "boolean"}}}
        }),
    );
    put(
        "ChatCompletionRequest",
        object(
            &["model", "messages"],
            chat_props.clone(),
            "OpenAI's chat request; fields not listed are passed to the provider.",
        ),
    );
    put(
        "ClassicChatRequest",
        object(
            &["messages"],
            classic_fields(chat_props),
            "The OpenAI fields plus the classic API's `provider` and `additional_params`.",
        ),
    );
    let prompt =
        json!({"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]});
    let completion_props = extend(
        common_request("openai/gpt-3.5-turbo-instruct"),
        json!({
            "prompt": prompt,
            "max_tokens": nullable(uint32()),
            "temperature": num(),
            "top_p": num(),
            "n": nullable(uint32()),
            "stop": stop,
            "seed": nullable(json!({"type": "integer"})),
            "stream": {"type": "boolean", "nullable": true, "enum": [false, null], "description": "Streaming text completions is not supported."}
        }),
    );
    put(
        "CompletionRequest",
        object(&["model", "prompt"], completion_props.clone(), ""),
    );
    put(
        "ClassicCompletionRequest",
        object(&["prompt"], classic_fields(completion_props), ""),
    );
    let embedding_props = extend(
        common_request("openai/text-embedding-3-small"),
        json!({
            "input": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            "dimensions": nullable(uint32()),
            "input_type": nullable(json!({"type": "string"})),
            "encoding_format": {"type": "string", "nullable": true, "enum": ["float", "base64", null]}
        }),
    );
    put(
        "EmbeddingRequest",
        object(&["model", "input"], embedding_props.clone(), ""),
    );
    let mut classic_embedding = classic_fields(embedding_props);
    classic_embedding.insert(
        "text".into(),
        json!({"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}], "description": "Synonym of `input`."}),
    );
    put(
        "ClassicEmbeddingRequest",
        object(
            &[],
            classic_embedding,
            "`input` (or its synonym `text`) is required.",
        ),
    );
    let image_props = extend(
        common_request("openai/dall-e-3"),
        json!({
            "prompt": {"type": "string"},
            "n": nullable(uint32()),
            "size": nullable(json!({"type": "string", "example": "1024x1024"})),
            "quality": nullable(json!({"type": "string"})),
            "style": nullable(json!({"type": "string"})),
            "response_format": nullable(json!({"type": "string", "description": "`url` or `b64_json`."}))
        }),
    );
    put(
        "ImageRequest",
        object(&["model", "prompt"], image_props.clone(), ""),
    );
    put(
        "ClassicImageRequest",
        object(&["prompt"], classic_fields(image_props), ""),
    );

    // Responses.
    put(
        "Usage",
        json!({
            "type": "object",
            "required": ["prompt_tokens", "completion_tokens", "total_tokens", "cost"],
            "properties": {
                "prompt_tokens": uint(),
                "completion_tokens": uint(),
                "total_tokens": uint(),
                "prompt_tokens_details": {"type": "object", "properties": {
                    "cached_tokens": uint(), "cache_creation_tokens": uint(),
                    "audio_tokens": uint(), "image_tokens": uint()
                }},
                "completion_tokens_details": {"type": "object", "properties": {
                    "reasoning_tokens": uint(), "audio_tokens": uint(), "image_tokens": uint()
                }},
                "cost": {"allOf": [sref("Usd")], "description": "The charge for this request."}
            }
        }),
    );
    let finish = json!({"type": "string", "nullable": true, "example": "stop"});
    put(
        "ChatCompletion",
        json!({
            "type": "object",
            "required": ["id", "object", "created", "model", "choices", "usage", "provider"],
            "properties": {
                "id": {"type": "string"},
                "object": {"type": "string", "example": "chat.completion"},
                "created": uint(),
                "model": {"type": "string", "description": "`provider/<model the provider reported>`."},
                "choices": {"type": "array", "items": {
                    "type": "object", "required": ["index", "message", "finish_reason"],
                    "properties": {
                        "index": uint(),
                        "message": sref("Message"),
                        "finish_reason": finish,
                        "logprobs": {"nullable": true}
                    }
                }},
                "usage": sref("Usage"),
                "system_fingerprint": {"type": "string"},
                "service_tier": {"type": "string"},
                "provider": {"type": "string"}
            }
        }),
    );
    put(
        "ChatCompletionChunk",
        json!({
            "type": "object",
            "required": ["id", "object", "created", "model", "choices"],
            "properties": {
                "id": {"type": "string"},
                "object": {"type": "string", "example": "chat.completion.chunk"},
                "created": uint(),
                "model": {"type": "string"},
                "choices": {"type": "array", "items": {
                    "type": "object", "required": ["index", "delta", "finish_reason"],
                    "properties": {
                        "index": uint(),
                        "delta": {"type": "object", "properties": {
                            "role": {"type": "string"},
                            "content": {"type": "string"},
                            "reasoning_content": {"type": "string"},
                            "refusal": {"type": "string"},
                            "tool_calls": {"type": "array", "items": {"type": "object", "required": ["index"], "properties": {
                                "index": uint(), "id": {"type": "string"}, "type": {"type": "string"},
                                "function": {"type": "object", "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}}}
                            }}}
                        }},
                        "finish_reason": finish,
                        "logprobs": {"nullable": true}
                    }
                }},
                "usage": sref("Usage"),
                "system_fingerprint": {"type": "string"},
                "service_tier": {"type": "string"}
            }
        }),
    );
    put(
        "Completion",
        json!({
            "type": "object",
            "required": ["id", "object", "created", "model", "choices", "usage", "provider"],
            "properties": {
                "id": {"type": "string"},
                "object": {"type": "string", "example": "text_completion"},
                "created": uint(),
                "model": {"type": "string"},
                "choices": {"type": "array", "items": {
                    "type": "object", "required": ["text", "index", "finish_reason", "logprobs"],
                    "properties": {"text": {"type": "string"}, "index": uint(), "finish_reason": finish, "logprobs": {"nullable": true}}
                }},
                "usage": sref("Usage"),
                "provider": {"type": "string"},
                "failed_prompts": {
                    "type": "array",
                    "description": "Present when some prompts of a batch failed: they are left out of `choices` and not charged; the others are.",
                    "items": {"type": "object", "required": ["index", "code", "message"],
                        "properties": {"index": uint(), "code": {"type": "string"}, "message": {"type": "string"}}}
                }
            }
        }),
    );
    put(
        "EmbeddingList",
        json!({
            "type": "object",
            "required": ["object", "data", "model", "usage", "provider"],
            "properties": {
                "object": {"type": "string", "enum": ["list"]},
                "data": {"type": "array", "items": {
                    "type": "object", "required": ["object", "index", "embedding"],
                    "properties": {
                        "object": {"type": "string", "example": "embedding"},
                        "index": uint(),
                        "embedding": {"oneOf": [
                            {"type": "array", "items": {"type": "number"}},
                            {"type": "string", "description": "`encoding_format: base64`: little-endian float32."}
                        ]}
                    }
                }},
                "model": {"type": "string"},
                "usage": sref("Usage"),
                "provider": {"type": "string"}
            }
        }),
    );
    put(
        "Image",
        json!({
            "type": "object",
            "properties": {"url": {"type": "string"}, "b64_json": {"type": "string"}, "revised_prompt": {"type": "string"}}
        }),
    );
    put(
        "ImagesResponse",
        json!({
            "type": "object",
            "required": ["created", "data", "model", "usage"],
            "properties": {
                "created": uint(),
                "data": {"type": "array", "items": sref("Image")},
                "model": {"type": "string"},
                "provider": {"type": "string"},
                "usage": sref("ImageUsage")
            }
        }),
    );
    put(
        "ImageUsage",
        json!({
            "type": "object",
            "description": "The token fields are present only when the provider reported tokens; `cost` always is.",
            "required": ["cost"],
            "properties": {
                "prompt_tokens": uint(),
                "completion_tokens": uint(),
                "total_tokens": uint(),
                "prompt_tokens_details": {"type": "object"},
                "completion_tokens_details": {"type": "object"},
                "cost": sref("Usd")
            }
        }),
    );

    // The classic API's envelope, one schema per kind of `data`.
    put(
        "ClassicUsage",
        json!({
            "type": "object",
            "required": ["tokens_prompt", "tokens_completion", "tokens_total", "cost", "latency", "timestamp"],
            "properties": {
                "tokens_prompt": uint(), "tokens_completion": uint(), "tokens_total": uint(),
                "cost": sref("Usd"),
                "latency": {"type": "number", "description": "Seconds, end to end."},
                "timestamp": {"type": "string", "format": "date-time"}
            }
        }),
    );
    let envelope = |data: Value, extra: Value| -> Value {
        let mut props = json!({
            "request_id": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "duration_ms": uint(),
            "provider": {"type": "string"},
            "model": {"type": "string", "description": "`provider/model`."},
            "success": {"type": "boolean", "enum": [true]},
            "message": {"type": "string"},
            "data": data,
            "finish_reason": {"type": "string"},
            "usage": sref("ClassicUsage"),
            "unpriced": {"type": "boolean", "description": "Present (true) when the model was served unpriced at zero cost."}
        });
        if let (Value::Object(p), Value::Object(e)) = (&mut props, extra) {
            p.extend(e);
        }
        json!({
            "type": "object",
            "required": ["request_id", "created_at", "duration_ms", "provider", "model", "success", "message", "data", "usage"],
            "properties": props
        })
    };
    put(
        "ClassicChatResponse",
        envelope(
            json!({"type": "string", "description": "The reply text."}),
            json!({"tool_calls": {"type": "array", "items": sref("ToolCall")}}),
        ),
    );
    put(
        "ClassicTextResponse",
        envelope(
            json!({"type": "string", "description": "The completion text."}),
            json!({}),
        ),
    );
    put(
        "ClassicEmbeddingResponse",
        envelope(
            json!({"type": "array", "items": {"type": "array", "items": {"type": "number"}}}),
            json!({"dimensions": uint()}),
        ),
    );
    put(
        "ClassicImageResponse",
        envelope(json!({"type": "array", "items": sref("Image")}), json!({})),
    );
}
