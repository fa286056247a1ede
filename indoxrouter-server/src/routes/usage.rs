//! Usage and spend reports: filtered listings, summaries and exports, for
//! the caller (`/users/me/usage…`) and for administrators (`/admin/usage…`,
//! `/admin/users/{username}/usage`).
//!
//! Every filter maps onto a store index (see `store::redb_store`), so a page
//! costs the same on a small or a huge ledger; summaries read per-day
//! rollups; exports stream page by page and never hold the ledger in memory.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use tokio::sync::mpsc;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::{Reply as _, Response};

use super::{Req, ctx, finish, json_value};
use crate::error::{ApiError, Surface};
use crate::principal::Principal;
use crate::state::AppState;
use crate::store::{
    SummaryQuery, UsageGroupBy, UsageGroupKey, UsageQuery, UsageRow, UsageTotals, UserId,
};
use crate::time::DAY_MS;

/// Largest page of usage rows.
const MAX_PAGE: usize = 1000;
/// Default page size.
const DEFAULT_PAGE: usize = 100;
/// Rows per store read while exporting: the most the store returns at once.
const EXPORT_PAGE: usize = 1000;
/// Exported chunks buffered ahead of a slow client; with full pages this
/// bounds an export's memory to a few pages.
const EXPORT_CHUNKS: usize = 4;
/// Longest accepted filter value (key ids, provider and model names).
const MAX_FILTER_CHARS: usize = 256;

/// A usage row on the wire: money as decimal strings.
#[derive(Serialize)]
pub(crate) struct UsageView<'a> {
    #[serde(flatten)]
    row: &'a UsageRow,
    created_at: String,
}

impl<'a> UsageView<'a> {
    pub(crate) fn of(row: &'a UsageRow) -> Self {
        UsageView {
            row,
            created_at: crate::time::rfc3339_millis(row.created_at_ms),
        }
    }
}

/// Whose rows a route reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The caller's own.
    Me,
    /// Any user's, optionally narrowed with `?user=`.
    Admin,
    /// One user named in the path (admin only).
    AdminUser,
}

/// What a request asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    List,
    Summary,
    Export,
}

impl Kind {
    /// The query parameters this kind accepts, besides `user` for admins.
    fn params(self) -> &'static [&'static str] {
        match self {
            Kind::List => &[
                "limit", "cursor", "key_id", "provider", "model", "from", "to",
            ],
            Kind::Summary => &["group_by", "from", "to"],
            Kind::Export => &["format", "key_id", "provider", "model", "from", "to"],
        }
    }
}

pub(super) fn routes(state: Arc<AppState>) -> BoxedFilter<(Response,)> {
    let query = || warp::query::<HashMap<String, String>>();
    let handler = |scope: Scope, kind: Kind| {
        move |username: Option<String>, req: Req, q: HashMap<String, String>| async move {
            let r = handle(&req, scope, kind, username, &q).await;
            finish(r, Surface::Classic, &req)
        }
    };
    // Each path carries its own `warp::get()`, where tests/openapi.rs's scan
    // of the filters can see it.
    let me = |kind: Kind, path: BoxedFilter<()>| {
        path.map(|| None::<String>)
            .and(ctx(state.clone()))
            .and(query())
            .then(handler(Scope::Me, kind))
            .boxed()
    };
    let admin = |kind: Kind, path: BoxedFilter<()>| {
        path.map(|| None::<String>)
            .and(ctx(state.clone()))
            .and(query())
            .then(handler(Scope::Admin, kind))
            .boxed()
    };
    let admin_user = warp::path!("admin" / "users" / String / "usage")
        .and(warp::get())
        .map(Some)
        .and(ctx(state.clone()))
        .and(query())
        .then(handler(Scope::AdminUser, Kind::List))
        .boxed();

    me(
        Kind::List,
        warp::path!("users" / "me" / "usage")
            .and(warp::get())
            .boxed(),
    )
    .or(me(
        Kind::Summary,
        warp::path!("users" / "me" / "usage" / "summary")
            .and(warp::get())
            .boxed(),
    ))
    .unify()
    .or(me(
        Kind::Export,
        warp::path!("users" / "me" / "usage" / "export")
            .and(warp::get())
            .boxed(),
    ))
    .unify()
    .or(admin(
        Kind::List,
        warp::path!("admin" / "usage").and(warp::get()).boxed(),
    ))
    .unify()
    .or(admin(
        Kind::Summary,
        warp::path!("admin" / "usage" / "summary")
            .and(warp::get())
            .boxed(),
    ))
    .unify()
    .or(admin(
        Kind::Export,
        warp::path!("admin" / "usage" / "export")
            .and(warp::get())
            .boxed(),
    ))
    .unify()
    .or(admin_user)
    .unify()
    .boxed()
}

async fn handle(
    req: &Req,
    scope: Scope,
    kind: Kind,
    path_user: Option<String>,
    q: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let p = req.principal()?;
    if scope != Scope::Me {
        p.require_admin()?;
    }
    check_params(scope, kind, q)?;
    let user = resolve_user(req, scope, &p, path_user.as_deref(), q)?;
    match kind {
        Kind::List => list(req, user, q).await,
        Kind::Summary => summary(req, scope, user, q).await,
        Kind::Export => export(req, user, q).await,
    }
}

/// Refuses unknown parameters, so a typo (`?modle=`) is an error rather
/// than a silently unfiltered report.
fn check_params(scope: Scope, kind: Kind, q: &HashMap<String, String>) -> Result<(), ApiError> {
    for name in q.keys() {
        let known =
            kind.params().contains(&name.as_str()) || (scope == Scope::Admin && name == "user");
        if !known {
            let mut allowed: Vec<&str> = kind.params().to_vec();
            if scope == Scope::Admin {
                allowed.push("user");
            }
            return Err(ApiError::bad_request(format!(
                "unknown query parameter `{name}`; this route accepts {}",
                allowed.join(", ")
            ))
            .param(name.clone()));
        }
    }
    Ok(())
}

/// The user whose rows are read: the caller, the path's, `?user=`, or all.
fn resolve_user(
    req: &Req,
    scope: Scope,
    p: &Principal,
    path_user: Option<&str>,
    q: &HashMap<String, String>,
) -> Result<Option<UserId>, ApiError> {
    let name = match scope {
        Scope::Me => return Ok(Some(p.user_id)),
        Scope::AdminUser => path_user,
        Scope::Admin => q.get("user").map(String::as_str),
    };
    let Some(name) = name else {
        return Ok(None);
    };
    let user = req.state.accounts.user_by_name(name).ok_or_else(|| {
        let e = ApiError::new(
            StatusCode::NOT_FOUND,
            "user_not_found",
            format!("no user `{name}`"),
        );
        if scope == Scope::Admin {
            e.param("user")
        } else {
            e
        }
    })?;
    Ok(Some(user.id))
}

/// The row filters common to listings and exports.
fn filters(
    req: &Req,
    user: Option<UserId>,
    q: &HashMap<String, String>,
) -> Result<UsageQuery, ApiError> {
    let text = |name: &str| -> Result<Option<String>, ApiError> {
        match q.get(name) {
            None => Ok(None),
            Some(v) if v.is_empty() || v.chars().count() > MAX_FILTER_CHARS => Err(
                ApiError::bad_request(format!("`{name}` must be 1–{MAX_FILTER_CHARS} characters"))
                    .param(name),
            ),
            Some(v) => Ok(Some(v.clone())),
        }
    };
    let key_id = text("key_id")?;
    let mut provider = text("provider")?;
    let mut model = text("model")?;
    // Rows store provider and model apart; the API names models
    // `provider/model`, as requests do. A bare model id needs `provider`.
    if let Some(m) = model.take() {
        model = Some(match &provider {
            Some(p) => m
                .strip_prefix(p.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
                .map_or(m.clone(), str::to_owned),
            None => {
                let (p, rest) = m
                    .split_once('/')
                    .filter(|(p, rest)| !p.is_empty() && !rest.is_empty())
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "`model` must be `provider/model` (e.g. `openai/gpt-4o-mini`), or pass `provider` too",
                        )
                        .param("model")
                    })?;
                provider = Some(p.to_owned());
                rest.to_owned()
            }
        });
    }
    // A user's own key listing: say so when the key is not theirs (or does
    // not exist) instead of answering an empty page.
    if let (Some(user), Some(key)) = (user, &key_id)
        && !req
            .state
            .accounts
            .list_keys(user)
            .iter()
            .any(|k| &k.id == key)
    {
        return Err(
            ApiError::new(StatusCode::NOT_FOUND, "key_not_found", "no such API key")
                .param("key_id"),
        );
    }
    let (from_ms, to_ms) = time_range(q)?;
    Ok(UsageQuery {
        user,
        key_id,
        provider,
        model,
        from_ms,
        to_ms,
        limit: DEFAULT_PAGE,
        cursor: None,
    })
}

/// `from` (inclusive) and `to` (exclusive), as Unix milliseconds.
fn time_range(q: &HashMap<String, String>) -> Result<(Option<u64>, Option<u64>), ApiError> {
    let bound = |name: &str| -> Result<Option<u64>, ApiError> {
        q.get(name)
            .map(|v| {
                crate::time::parse_time(v).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "`{name}` must be an RFC 3339 time (2026-11-27T10:57:19Z), a date (2026-11-27) or Unix milliseconds"
                    ))
                    .param(name)
                })
            })
            .transpose()
    };
    let (from, to) = (bound("from")?, bound("to")?);
    if let (Some(f), Some(t)) = (from, to)
        && f >= t
    {
        return Err(ApiError::unprocessable("`from` must be before `to`").param("from"));
    }
    Ok((from, to))
}

async fn list(
    req: &Req,
    user: Option<UserId>,
    q: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let limit = match q.get("limit") {
        None => DEFAULT_PAGE,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("`limit` must be between 1 and {MAX_PAGE}"))
                    .param("limit")
            })?,
    };
    let mut query = filters(req, user, q)?;
    query.limit = limit;
    query.cursor = q.get("cursor").cloned();
    let page = req.state.ledger.usage_query(query).await?;
    let rows: Vec<UsageView<'_>> = page.rows.iter().map(UsageView::of).collect();
    Ok(json_value(
        StatusCode::OK,
        &serde_json::json!({ "data": rows, "next_cursor": page.next_cursor }),
    ))
}

#[derive(Serialize)]
struct TotalsView {
    requests: u64,
    prompt_tokens: u64,
    completion_tokens: u64,
    total_tokens: u64,
    /// USD, exact decimal string.
    cost: String,
}

impl From<UsageTotals> for TotalsView {
    fn from(t: UsageTotals) -> Self {
        TotalsView {
            requests: t.requests,
            prompt_tokens: t.prompt_tokens,
            completion_tokens: t.completion_tokens,
            total_tokens: t.prompt_tokens.saturating_add(t.completion_tokens),
            cost: t.cost.to_string(),
        }
    }
}

async fn summary(
    req: &Req,
    scope: Scope,
    user: Option<UserId>,
    q: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let group_by = match q.get("group_by").map(String::as_str) {
        None | Some("day") => UsageGroupBy::Day,
        Some("model") => UsageGroupBy::Model,
        Some("provider") => UsageGroupBy::Provider,
        Some("key") => UsageGroupBy::Key,
        Some("user") if scope == Scope::Admin => UsageGroupBy::User,
        Some(_) => {
            let allowed = if scope == Scope::Admin {
                "day, model, provider, key or user"
            } else {
                "day, model, provider or key"
            };
            return Err(
                ApiError::bad_request(format!("`group_by` must be {allowed}")).param("group_by"),
            );
        }
    };
    let (from, to) = time_range(q)?;
    // Summaries are answered from per-day rollups, so the range must be in
    // whole UTC days: refusing beats silently widening it.
    for (name, v) in [("from", from), ("to", to)] {
        if v.is_some_and(|ms| ms % DAY_MS != 0) {
            return Err(ApiError::bad_request(format!(
                "`{name}` must be a UTC day boundary (a date such as 2026-11-27, or midnight UTC): summaries are kept per day"
            ))
            .param(name));
        }
    }
    let summary = req
        .state
        .ledger
        .usage_summary(SummaryQuery {
            user,
            group_by,
            from_day: from.map(|ms| ms / DAY_MS),
            to_day: to.map(|ms| ms / DAY_MS),
        })
        .await?;
    let data: Vec<serde_json::Value> = summary
        .groups
        .into_iter()
        .map(|(key, totals)| {
            let mut v =
                serde_json::to_value(TotalsView::from(totals)).unwrap_or(serde_json::Value::Null);
            let fields = group_fields(req, &key);
            if let serde_json::Value::Object(map) = &mut v {
                for (name, value) in fields {
                    map.insert(name.to_owned(), value);
                }
            }
            v
        })
        .collect();
    let group_name = match group_by {
        UsageGroupBy::Day => "day",
        UsageGroupBy::Model => "model",
        UsageGroupBy::Provider => "provider",
        UsageGroupBy::Key => "key",
        UsageGroupBy::User => "user",
    };
    Ok(json_value(
        StatusCode::OK,
        &serde_json::json!({
            "group_by": group_name,
            "from": from.map(crate::time::rfc3339_millis),
            "to": to.map(crate::time::rfc3339_millis),
            "data": data,
            "total": TotalsView::from(summary.total),
        }),
    ))
}

/// The fields naming one group: always `group` (a display label, `null`
/// for requests made without a key), plus the parts it is made of.
fn group_fields(req: &Req, key: &UsageGroupKey) -> Vec<(&'static str, serde_json::Value)> {
    use serde_json::Value;
    match key {
        UsageGroupKey::Day(day) => {
            let date = crate::time::rfc3339_millis(day.saturating_mul(DAY_MS));
            vec![("group", Value::from(date.get(..10).unwrap_or(&date)))]
        }
        UsageGroupKey::Model { provider, model } => vec![
            ("group", Value::from(format!("{provider}/{model}"))),
            ("provider", Value::from(provider.as_str())),
            ("model", Value::from(model.as_str())),
        ],
        UsageGroupKey::Provider(provider) => vec![("group", Value::from(provider.as_str()))],
        UsageGroupKey::Key(key) => vec![
            ("group", key.as_deref().map_or(Value::Null, Value::from)),
            ("key_id", key.as_deref().map_or(Value::Null, Value::from)),
        ],
        UsageGroupKey::User(id) => {
            let name = req.state.accounts.user_by_id(*id).map(|u| u.username);
            vec![
                ("group", name.clone().map_or(Value::Null, Value::from)),
                ("user_id", Value::from(*id)),
                ("username", name.map_or(Value::Null, Value::from)),
            ]
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Jsonl,
}

/// Streams every matching row as CSV or JSON lines. The first page is read
/// before answering, so a bad filter or cursor still gets a proper error
/// status; later pages are read as the client consumes the body.
async fn export(
    req: &Req,
    user: Option<UserId>,
    q: &HashMap<String, String>,
) -> Result<Response, ApiError> {
    let format = match q.get("format").map(String::as_str) {
        None | Some("csv") => Format::Csv,
        Some("jsonl") => Format::Jsonl,
        Some(_) => {
            return Err(ApiError::bad_request("`format` must be csv or jsonl").param("format"));
        }
    };
    let mut query = filters(req, user, q)?;
    query.limit = EXPORT_PAGE;
    let ledger = req.state.ledger.clone();
    let first = ledger.usage_query(query.clone()).await?;

    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(EXPORT_CHUNKS);
    let state = req.state.clone();
    // Tracked, so shutdown waits for (and bounds) exports like streams.
    req.state.streams.spawn(async move {
        let mut names = Names::new(state.clone());
        let mut chunk = Vec::with_capacity(64 * 1024);
        if format == Format::Csv {
            chunk.extend_from_slice(CSV_HEADER.as_bytes());
        }
        let mut page = first;
        loop {
            for row in &page.rows {
                match format {
                    Format::Csv => csv_row(&mut chunk, row, names.get(row.user_id)),
                    Format::Jsonl => {
                        // Serializing a row of plain fields cannot fail; skip it if it ever did.
                        if serde_json::to_writer(&mut chunk, &UsageView::of(row)).is_ok() {
                            chunk.push(b'\n');
                        }
                    }
                }
            }
            if !chunk.is_empty()
                && tx
                    .send(Ok(Bytes::from(std::mem::take(&mut chunk))))
                    .await
                    .is_err()
            {
                return; // The client went away.
            }
            let Some(cursor) = page.next_cursor.take() else {
                return;
            };
            query.cursor = Some(cursor);
            page = match ledger.usage_query(query.clone()).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "usage export failed mid-stream");
                    // Aborts the chunked body, so the client sees a truncated
                    // transfer instead of a silently short file.
                    let _ = tx
                        .send(Err(std::io::Error::other("usage export failed")))
                        .await;
                    return;
                }
            };
        }
    });

    let (content_type, ext) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        Format::Jsonl => ("application/x-ndjson", "jsonl"),
    };
    // Usernames are limited to [A-Za-z0-9-_.@], so quoting them is safe.
    let who = match user {
        Some(id) => req
            .state
            .accounts
            .user_by_id(id)
            .map_or_else(|| format!("user-{id}"), |u| u.username),
        None => "all".to_owned(),
    };
    let date = crate::time::rfc3339_millis(crate::time::unix_millis());
    let date = date.get(..10).unwrap_or("export");
    let disposition = format!("attachment; filename=\"usage-{who}-{date}.{ext}\"");
    let mut resp = warp::reply::stream(ExportRx(rx)).into_response();
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(http::header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// Usernames for export rows, looked up once per user.
struct Names {
    state: Arc<AppState>,
    cache: HashMap<UserId, String>,
}

impl Names {
    fn new(state: Arc<AppState>) -> Self {
        Names {
            state,
            cache: HashMap::new(),
        }
    }

    fn get(&mut self, id: UserId) -> &str {
        let state = &self.state;
        self.cache.entry(id).or_insert_with(|| {
            state
                .accounts
                .user_by_id(id)
                .map(|u| u.username)
                .unwrap_or_default()
        })
    }
}

/// The body of an export (`Sync`, as warp requires).
struct ExportRx(mpsc::Receiver<Result<Bytes, std::io::Error>>);

impl futures_util::Stream for ExportRx {
    type Item = Result<Bytes, std::io::Error>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx)
    }
}

/// The CSV columns, in order.
const CSV_HEADER: &str = "request_id,created_at,created_at_ms,user_id,username,key_id,endpoint,provider,model,stream,status,prompt_tokens,completion_tokens,cached_tokens,cache_write_tokens,reasoning_tokens,images,cost,overrun,unpriced,latency_ms\r\n";

/// One RFC 4180 record (CRLF line end), written by the `csv` crate. Text
/// cells are defused against spreadsheet formula injection ([`defuse`]).
fn csv_row(out: &mut Vec<u8>, row: &UsageRow, username: &str) {
    let status = serde_json::to_value(row.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let fields: [std::borrow::Cow<'_, str>; 21] = [
        defuse(&row.request_id),
        crate::time::rfc3339_millis(row.created_at_ms).into(),
        row.created_at_ms.to_string().into(),
        row.user_id.to_string().into(),
        defuse(username),
        defuse(row.key_id.as_deref().unwrap_or("")),
        defuse(&row.endpoint),
        defuse(&row.provider),
        defuse(&row.model),
        (if row.stream { "true" } else { "false" }).into(),
        defuse(&status),
        row.prompt_tokens.to_string().into(),
        row.completion_tokens.to_string().into(),
        row.cached_tokens.to_string().into(),
        row.cache_write_tokens.to_string().into(),
        row.reasoning_tokens.to_string().into(),
        row.images.to_string().into(),
        row.cost.to_string().into(),
        row.overrun.to_string().into(),
        (if row.unpriced { "true" } else { "false" }).into(),
        row.latency_ms.to_string().into(),
    ];
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .buffer_capacity(512)
        .from_writer(out);
    // Writing to a Vec cannot fail; a failure would only drop this row.
    let _ = w.write_record(fields.iter().map(|f| f.as_bytes()));
    let _ = w.flush();
}

/// A text cell a spreadsheet would run as a formula (it starts with `=`,
/// `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, which
/// spreadsheets show as text. Model names and key names can come from
/// callers.
fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_quote_by_rfc_4180_and_defuse_formulas() {
        let row = UsageRow {
            request_id: "req_1".into(),
            user_id: 7,
            key_id: Some("key, \"quoted\"".into()),
            endpoint: "chat".into(),
            provider: "openai".into(),
            model: "=HYPERLINK(\"http://x\")".into(),
            stream: false,
            prompt_tokens: 1,
            completion_tokens: 2,
            cached_tokens: 0,
            cache_write_tokens: 0,
            reasoning_tokens: 0,
            images: 0,
            cost: indoxrouter::Usd::ZERO,
            overrun: indoxrouter::Usd::ZERO,
            unpriced: true,
            latency_ms: 3,
            status: crate::store::UsageStatus::Completed,
            created_at_ms: 0,
        };
        let mut out = Vec::new();
        csv_row(&mut out, &row, "@alice");
        let line = String::from_utf8(out).unwrap();
        assert!(line.ends_with("\r\n"), "{line:?}");
        assert!(line.contains(",'@alice,"), "{line}");
        assert!(line.contains(",\"key, \"\"quoted\"\"\","), "{line}");
        assert!(
            line.contains(",\"'=HYPERLINK(\"\"http://x\"\")\","),
            "{line}"
        );
        assert_eq!(defuse("gpt-4o"), "gpt-4o");
        assert_eq!(defuse("-1+1"), "'-1+1");
    }
}
