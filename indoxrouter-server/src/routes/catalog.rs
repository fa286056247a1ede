//! The route table: every HTTP route the server answers, in one list.
//!
//! The warp filters in the sibling modules do the routing; this table says
//! what exists, and everything that describes the API is built from it:
//! [`crate::openapi`] turns each entry into an operation of `/openapi.json`
//! (an exhaustive `match` on [`Op`], so a new variant does not compile until
//! it is documented), and `tests/openapi.rs` keeps the table and the router
//! honest in both directions:
//!
//! - every entry is requested over HTTP and must not get the router's own
//!   `no such route` 404 or a 405 (a handler's 404 such as `model_not_found`
//!   is fine), and its response must validate against the document;
//! - every `warp::path!` in `src/` must match an entry's path, so
//!   a filter added without an entry fails the build's tests.
//!
//! **Adding a route:** add a variant to [`Op`], a line to [`ROUTES`], and the
//! variant's arm in `crate::openapi::operation` (the compiler points there);
//! then `cargo test -p indoxrouter-server --test openapi` tells you whatever
//! else is missing (typically a sample request in `tests/openapi.rs`).

/// HTTP methods the server routes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
}

impl Method {
    /// Upper-case name, as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Lower-case name, as OpenAPI's path item keys.
    pub fn openapi_key(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
            Method::Put => "put",
            Method::Patch => "patch",
            Method::Delete => "delete",
        }
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No credential needed.
    Public,
    /// Any user's API key or access token.
    User,
    /// An administrator's API key or access token.
    Admin,
}

/// One operation: the stable identifier the document and tests key on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `GET /health`: liveness.
    Health,
    /// `GET /health/ready`: readiness.
    HealthReady,
    /// `POST /api/v1/auth/token`: access token from a form.
    AuthToken,
    /// `POST /api/v1/auth/login`: access token from JSON.
    AuthLogin,
    /// `GET /api/v1/users/me`: the caller and their balance.
    GetMe,
    /// `POST /api/v1/users/me/password`: change one's own password.
    ChangePassword,
    /// `GET /api/v1/users/me/usage`: the caller's usage rows.
    GetMyUsage,
    /// `POST /api/v1/keys`: a new API key.
    CreateKey,
    /// `GET /api/v1/keys`: the caller's keys.
    ListKeys,
    /// `DELETE /api/v1/keys/{id}`: revoke a key.
    RevokeKey,
    /// `POST /api/v1/admin/users`: a new user.
    AdminCreateUser,
    /// `GET /api/v1/admin/users`: every user.
    AdminListUsers,
    /// `POST /api/v1/admin/users/{username}/credits`: a ledger entry.
    AdminAddCredits,
    /// `GET /api/v1/admin/users/{username}/usage`: a user's usage rows.
    AdminUserUsage,
    /// `GET /api/v1/users/me/usage/summary`: the caller's totals by group.
    GetMyUsageSummary,
    /// `GET /api/v1/users/me/usage/export`: the caller's rows as CSV or JSON lines.
    ExportMyUsage,
    /// `GET /api/v1/admin/usage`: every user's usage.
    AdminUsage,
    /// `GET /api/v1/admin/usage/summary`: totals by group, any user.
    AdminUsageSummary,
    /// `GET /api/v1/admin/usage/export`: any user's rows as CSV or JSON lines.
    AdminUsageExport,
    /// `PATCH /api/v1/admin/users/{username}`: change a user's tier, disable
    /// or enable them, reset their password.
    AdminUpdateUser,
    /// `DELETE /api/v1/admin/users/{username}`: delete a user.
    AdminDeleteUser,
    /// `GET /api/v1/admin/users/{username}/keys`: a user's keys.
    AdminListUserKeys,
    /// `DELETE /api/v1/admin/keys/{id}`: revoke anyone's key.
    AdminRevokeKey,
    /// `GET /metrics`: Prometheus metrics.
    Metrics,
    /// `GET /api/v1/models/`: the catalog.
    ClassicListProviders,
    /// `GET /api/v1/models/{provider}`: one provider.
    ClassicGetProvider,
    /// `GET /api/v1/models/{provider}/{model}`: one model.
    ClassicGetModel,
    /// `POST /api/v1/chat/completions`: chat, classic envelope.
    ClassicChat,
    /// `POST /api/v1/completions`: text completion, classic envelope.
    ClassicCompletion,
    /// `POST /api/v1/embeddings`: embeddings, classic envelope.
    ClassicEmbeddings,
    /// `POST /api/v1/images/generations`: images, classic envelope.
    ClassicImages,
    /// `GET /v1/models`: OpenAI's model list.
    OpenAiListModels,
    /// `GET /v1/models/{provider}/{model}`: OpenAI's model object.
    OpenAiGetModel,
    /// `POST /v1/chat/completions`: OpenAI chat (JSON or SSE).
    OpenAiChat,
    /// `POST /v1/completions`: OpenAI text completion.
    OpenAiCompletion,
    /// `POST /v1/embeddings`: OpenAI embeddings.
    OpenAiEmbeddings,
    /// `POST /v1/images/generations`: OpenAI image generation.
    OpenAiImages,
    /// `GET /openapi.json`: this API's description.
    OpenApiDocument,
    /// `GET /docs`: Swagger UI.
    SwaggerUi,
    /// `GET /redoc`: ReDoc.
    Redoc,
    /// `GET /docs/assets/{file}`: the documentation pages' files.
    DocsAsset,
}

/// A route: method, path template (`{name}` for a path parameter), the
/// operation it serves and who may call it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// HTTP method.
    pub method: Method,
    /// Path template, e.g. `/api/v1/keys/{id}`.
    pub path: &'static str,
    /// The operation; its `operationId` is [`Route::operation_id`].
    pub op: Op,
    /// Credential required.
    pub access: Access,
}

impl Route {
    /// The OpenAPI `operationId`: the variant's name in lower camel case.
    pub fn operation_id(&self) -> String {
        let name = format!("{:?}", self.op);
        let mut chars = name.chars();
        match chars.next() {
            Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
            None => name,
        }
    }

    /// Whether a concrete request path matches this route's template: a
    /// `{…}` segment matches exactly one non-empty segment.
    pub fn matches(&self, path: &str) -> bool {
        let mut want = self.path.split('/');
        let mut got = path.split('/');
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                    if g.is_empty() {
                        return false;
                    }
                }
                (Some(w), Some(g)) if w == g => {}
                _ => return false,
            }
        }
    }
}

const fn route(method: Method, path: &'static str, op: Op, access: Access) -> Route {
    Route {
        method,
        path,
        op,
        access,
    }
}

use Access::{Admin, Public, User};
use Method::{Delete, Get, Patch, Post};

/// Every route the server answers. Add new routes here (see the module doc).
pub const ROUTES: &[Route] = &[
    // Health (routes/health.rs).
    route(Get, "/health", Op::Health, Public),
    route(Get, "/health/ready", Op::HealthReady, Public),
    // Prometheus (routes/metrics.rs); INDOXROUTER_METRICS_TOKEN may guard it.
    route(Get, "/metrics", Op::Metrics, Public),
    // The API description itself (routes/docs.rs).
    route(Get, "/openapi.json", Op::OpenApiDocument, Public),
    route(Get, "/docs", Op::SwaggerUi, Public),
    route(Get, "/redoc", Op::Redoc, Public),
    route(Get, "/docs/assets/{file}", Op::DocsAsset, Public),
    // Classic auth (routes/auth.rs).
    route(Post, "/api/v1/auth/token", Op::AuthToken, Public),
    route(Post, "/api/v1/auth/login", Op::AuthLogin, Public),
    // The caller's account (routes/account.rs).
    route(Get, "/api/v1/users/me", Op::GetMe, User),
    // Changing one's own password (routes/password.rs).
    route(Post, "/api/v1/users/me/password", Op::ChangePassword, User),
    route(Get, "/api/v1/users/me/usage", Op::GetMyUsage, User),
    // Usage reports (routes/usage.rs).
    route(
        Get,
        "/api/v1/users/me/usage/summary",
        Op::GetMyUsageSummary,
        User,
    ),
    route(
        Get,
        "/api/v1/users/me/usage/export",
        Op::ExportMyUsage,
        User,
    ),
    route(Get, "/api/v1/admin/usage", Op::AdminUsage, Admin),
    route(
        Get,
        "/api/v1/admin/usage/summary",
        Op::AdminUsageSummary,
        Admin,
    ),
    route(
        Get,
        "/api/v1/admin/usage/export",
        Op::AdminUsageExport,
        Admin,
    ),
    route(Post, "/api/v1/keys", Op::CreateKey, User),
    route(Get, "/api/v1/keys", Op::ListKeys, User),
    route(Delete, "/api/v1/keys/{id}", Op::RevokeKey, User),
    // Administration (routes/admin.rs).
    route(Post, "/api/v1/admin/users", Op::AdminCreateUser, Admin),
    route(Get, "/api/v1/admin/users", Op::AdminListUsers, Admin),
    route(
        Post,
        "/api/v1/admin/users/{username}/credits",
        Op::AdminAddCredits,
        Admin,
    ),
    route(
        Patch,
        "/api/v1/admin/users/{username}",
        Op::AdminUpdateUser,
        Admin,
    ),
    // Deleting users, and other users' keys (routes/admin_keys.rs).
    route(
        Delete,
        "/api/v1/admin/users/{username}",
        Op::AdminDeleteUser,
        Admin,
    ),
    route(
        Get,
        "/api/v1/admin/users/{username}/keys",
        Op::AdminListUserKeys,
        Admin,
    ),
    route(Delete, "/api/v1/admin/keys/{id}", Op::AdminRevokeKey, Admin),
    route(
        Get,
        "/api/v1/admin/users/{username}/usage",
        Op::AdminUserUsage,
        Admin,
    ),
    // The classic API's model catalog (routes/models.rs).
    route(Get, "/api/v1/models/", Op::ClassicListProviders, Public),
    route(
        Get,
        "/api/v1/models/{provider}",
        Op::ClassicGetProvider,
        Public,
    ),
    route(
        Get,
        "/api/v1/models/{provider}/{model}",
        Op::ClassicGetModel,
        Public,
    ),
    // The classic API's inference routes (routes/classic.rs).
    route(Post, "/api/v1/chat/completions", Op::ClassicChat, User),
    route(Post, "/api/v1/completions", Op::ClassicCompletion, User),
    route(Post, "/api/v1/embeddings", Op::ClassicEmbeddings, User),
    route(Post, "/api/v1/images/generations", Op::ClassicImages, User),
    // OpenAI-compatible (routes/models.rs, routes/openai.rs).
    route(Get, "/v1/models", Op::OpenAiListModels, User),
    route(
        Get,
        "/v1/models/{provider}/{model}",
        Op::OpenAiGetModel,
        User,
    ),
    route(Post, "/v1/chat/completions", Op::OpenAiChat, User),
    route(Post, "/v1/completions", Op::OpenAiCompletion, User),
    route(Post, "/v1/embeddings", Op::OpenAiEmbeddings, User),
    route(Post, "/v1/images/generations", Op::OpenAiImages, User),
];

/// The route serving `method` on a concrete `path`, if any (for labelling
/// requests, e.g. in metrics, by template rather than by raw path).
pub fn lookup(method: Method, path: &str) -> Option<&'static Route> {
    ROUTES
        .iter()
        .find(|r| r.method == method && r.matches(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_and_routes_are_unique() {
        let mut ops = std::collections::HashSet::new();
        let mut keys = std::collections::HashSet::new();
        for r in ROUTES {
            assert!(ops.insert(r.op), "{:?} listed twice", r.op);
            assert!(
                keys.insert((r.method, r.path)),
                "{} {} twice",
                r.method.as_str(),
                r.path
            );
        }
    }

    #[test]
    fn templates_match_concrete_paths() {
        let r = lookup(Method::Delete, "/api/v1/keys/key_123").unwrap();
        assert_eq!(r.op, Op::RevokeKey);
        assert_eq!(r.operation_id(), "revokeKey");
        assert!(lookup(Method::Get, "/api/v1/keys/").is_none());
        assert_eq!(
            lookup(Method::Get, "/v1/models/openai/gpt-4o-mini").map(|r| r.op),
            Some(Op::OpenAiGetModel)
        );
        assert!(lookup(Method::Get, "/nope").is_none());
    }
}
