//! Prometheus metrics, served at `/metrics` in the OpenMetrics text format.
//!
//! Labels are bounded: routes are the templates a path matched (never the raw
//! path, which would carry usernames and key ids), methods and statuses are
//! the standard ones, providers and models are those that answered.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use indoxrouter::Usd;

/// `route`, `method`, `status` of an answered request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProviderLabels {
    provider: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    provider: String,
    model: String,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    provider: String,
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitLabels {
    subject: &'static str,
    limit: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    provider: String,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Request latencies: 1 ms to ~65 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 17))
}

/// Every series the server exports.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Histograms<RouteLabels>,
    upstream_duration: Histograms<ProviderLabels>,
    tokens: Family<TokenLabels, Counter>,
    cost: Family<ModelLabels, Counter<f64, AtomicU64>>,
    overrun: Family<ModelLabels, Counter<f64, AtomicU64>>,
    rate_limited: Family<LimitLabels, Counter>,
    credit_refusals: Counter,
    connections_refused: Counter,
    upstream_errors: Family<ErrorLabels, Counter>,
    stream_disconnects: Family<ReasonLabels, Counter>,
    streams_active: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every series.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "indoxrouter_http_requests",
            "HTTP requests answered, by route template, method and status",
            http_requests.clone(),
        );
        let http_duration: Histograms<RouteLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "indoxrouter_http_request_duration_seconds",
            "Time from request to response headers (for streams: to the first byte), by route",
            http_duration.clone(),
        );
        let upstream_duration: Histograms<ProviderLabels> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "indoxrouter_upstream_duration_seconds",
            "Time spent in provider calls (streams: until the stream ended), by provider",
            upstream_duration.clone(),
        );
        let tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "indoxrouter_tokens",
            "Tokens billed, by provider, model and kind (prompt or completion)",
            tokens.clone(),
        );
        let cost = Family::<ModelLabels, Counter<f64, AtomicU64>>::default();
        registry.register(
            "indoxrouter_cost_usd",
            "USD charged, by provider and model (the ledger holds the exact amounts)",
            cost.clone(),
        );
        let overrun = Family::<ModelLabels, Counter<f64, AtomicU64>>::default();
        registry.register(
            "indoxrouter_unbilled_overrun_usd",
            "USD of reported provider usage beyond the request's hold, served but not charged \
             (each case is a usage row with a non-zero `overrun` and a warning in the log)",
            overrun.clone(),
        );
        let rate_limited = Family::<LimitLabels, Counter>::default();
        registry.register(
            "indoxrouter_rate_limited",
            "Requests refused by a rate limit, by subject (user or key) and limit (requests or tokens)",
            rate_limited.clone(),
        );
        let credit_refusals = Counter::default();
        registry.register(
            "indoxrouter_credit_refusals",
            "Requests refused because the balance could not cover them",
            credit_refusals.clone(),
        );
        let connections_refused = Counter::default();
        registry.register(
            "indoxrouter_connections_refused",
            "Connections closed on accept because INDOXROUTER_MAX_CONNECTIONS were already open",
            connections_refused.clone(),
        );
        let upstream_errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "indoxrouter_upstream_errors",
            "Failed provider calls, by provider and error code",
            upstream_errors.clone(),
        );
        let stream_disconnects = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "indoxrouter_stream_disconnects",
            "Streams that ended early, by reason (client, upstream, interrupted)",
            stream_disconnects.clone(),
        );
        let streams_active = Gauge::default();
        registry.register(
            "indoxrouter_streams_active",
            "Streams being relayed now",
            streams_active.clone(),
        );
        Metrics {
            registry,
            http_requests,
            http_duration,
            upstream_duration,
            tokens,
            cost,
            overrun,
            rate_limited,
            credit_refusals,
            connections_refused,
            upstream_errors,
            stream_disconnects,
            streams_active,
        }
    }

    /// One answered HTTP request.
    pub fn http(&self, route: &'static str, method: &http::Method, status: u16, took: Duration) {
        self.http_requests
            .get_or_create(&HttpLabels {
                route,
                method: method_label(method),
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels { route })
            .observe(took.as_secs_f64());
    }

    /// One provider call's duration.
    pub fn upstream(&self, provider: &str, took: Duration) {
        self.upstream_duration
            .get_or_create(&ProviderLabels {
                provider: provider.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    /// A failed provider call.
    pub fn upstream_error(&self, provider: &str, kind: &'static str) {
        self.upstream_errors
            .get_or_create(&ErrorLabels {
                provider: provider.to_owned(),
                kind,
            })
            .inc();
    }

    /// A settled charge.
    pub fn billed(&self, provider: &str, model: &str, prompt: u64, completion: u64, cost: Usd) {
        for (kind, n) in [("prompt", prompt), ("completion", completion)] {
            if n > 0 {
                self.tokens
                    .get_or_create(&TokenLabels {
                        provider: provider.to_owned(),
                        model: model.to_owned(),
                        kind,
                    })
                    .inc_by(n);
            }
        }
        if !cost.is_zero() {
            self.cost
                .get_or_create(&ModelLabels {
                    provider: provider.to_owned(),
                    model: model.to_owned(),
                })
                .inc_by(usd_f64(cost));
        }
    }

    /// Reported usage beyond a request's hold, not charged to its user.
    pub fn unbilled_overrun(&self, provider: &str, model: &str, overrun: Usd) {
        self.overrun
            .get_or_create(&ModelLabels {
                provider: provider.to_owned(),
                model: model.to_owned(),
            })
            .inc_by(usd_f64(overrun));
    }

    /// A rate-limit refusal.
    pub fn rate_limited(&self, subject: &'static str, limit: &'static str) {
        self.rate_limited
            .get_or_create(&LimitLabels { subject, limit })
            .inc();
    }

    /// A credit refusal (402).
    pub fn credit_refused(&self) {
        self.credit_refusals.inc();
    }

    /// A connection closed on accept: too many open.
    pub fn connection_refused(&self) {
        self.connections_refused.inc();
    }

    /// A stream that ended early.
    pub fn stream_disconnect(&self, reason: &'static str) {
        self.stream_disconnects
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// A stream started (`+1`) or ended (`-1`).
    pub fn streams_active(&self, delta: i64) {
        self.streams_active.inc_by(delta);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// Dollars as a float, for a metric only: the ledger keeps exact amounts.
#[allow(clippy::cast_precision_loss)]
fn usd_f64(u: Usd) -> f64 {
    u.pico() as f64 / 1e12
}

fn method_label(m: &http::Method) -> &'static str {
    match *m {
        http::Method::GET => "GET",
        http::Method::POST => "POST",
        http::Method::PATCH => "PATCH",
        http::Method::PUT => "PUT",
        http::Method::DELETE => "DELETE",
        http::Method::HEAD => "HEAD",
        http::Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The route template `path` belongs to (any method), or `unmatched`: a
/// bounded label, where the raw path would carry usernames and key ids.
pub fn route_label(path: &str) -> &'static str {
    crate::routes::catalog::ROUTES
        .iter()
        .find(|r| r.matches(path))
        .map_or("unmatched", |r| r.path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_templates() {
        assert_eq!(route_label("/health"), "/health");
        assert_eq!(
            route_label("/api/v1/models/openai"),
            "/api/v1/models/{provider}"
        );
        assert_eq!(
            route_label("/api/v1/admin/users/bob/credits"),
            "/api/v1/admin/users/{username}/credits"
        );
        assert_eq!(
            route_label("/v1/models/openai/gpt-4o"),
            "/v1/models/{provider}/{model}"
        );
        assert_eq!(route_label("/healthz"), "unmatched");
        assert_eq!(route_label("/api/v1/keys/a/b"), "unmatched");
    }

    #[test]
    fn renders_openmetrics_text() {
        let m = Metrics::new();
        m.http("/health", &http::Method::GET, 200, Duration::from_millis(3));
        m.billed(
            "openai",
            "gpt-4o-mini",
            23,
            18,
            Usd::parse("0.00001425").unwrap(),
        );
        m.rate_limited("key", "requests");
        let text = m.render();
        assert!(
            text.contains(
                r#"indoxrouter_http_requests_total{route="/health",method="GET",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(text.contains(
            r#"indoxrouter_tokens_total{provider="openai",model="gpt-4o-mini",kind="prompt"} 23"#
        ));
        let cost = text
            .lines()
            .find_map(|l| {
                l.strip_prefix(
                    r#"indoxrouter_cost_usd_total{provider="openai",model="gpt-4o-mini"} "#,
                )
            })
            .unwrap();
        assert!(
            (cost.parse::<f64>().unwrap() - 0.000_014_25).abs() < 1e-15,
            "{cost}"
        );
        assert!(
            text.contains(r#"indoxrouter_rate_limited_total{subject="key",limit="requests"} 1"#)
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
