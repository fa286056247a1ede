//! Server settings from the environment (after `.env` is loaded by the binary).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::ratelimit::Tiers;

/// Development or production: production refuses unsafe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// Generates and persists a JWT secret when none is set.
    Development,
    /// Requires `INDOXROUTER_JWT_SECRET` (of at least [`MIN_SECRET_BYTES`],
    /// as in every mode).
    Production,
}

/// Shortest JWT secret accepted in any mode (256 bits, HS256's key size).
pub const MIN_SECRET_BYTES: usize = 32;

/// The longest access-token lifetime an operator may configure: a day. A
/// token is a bearer credential that cannot be revoked one by one (only all
/// of a user's at once), so it should not outlive a working day; long-lived
/// access is what API keys, with their scopes and revocation, are for.
pub const MAX_JWT_TTL_MINUTES: u64 = 24 * 60;

/// A secret string whose `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Everything the server reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `INDOXROUTER_ENV`: `development` (default) or `production`.
    pub environment: Environment,
    /// `INDOXROUTER_HOST`, default 127.0.0.1.
    pub host: IpAddr,
    /// `INDOXROUTER_PORT`, default 8000.
    pub port: u16,
    /// `INDOXROUTER_DATA_DIR`, default `./data`.
    pub data_dir: PathBuf,
    /// `INDOXROUTER_JWT_SECRET`.
    pub jwt_secret: Option<Secret>,
    /// `INDOXROUTER_JWT_TTL_MINUTES`, default 60, at most
    /// [`MAX_JWT_TTL_MINUTES`].
    pub jwt_ttl: Duration,
    /// `INDOXROUTER_ADMIN_USERNAME`, default `admin`.
    pub admin_username: String,
    /// `INDOXROUTER_ADMIN_PASSWORD`; a random one is generated and printed once if unset.
    pub admin_password: Option<Secret>,
    /// `INDOXROUTER_ADMIN_CREDITS`: the bootstrap admin's opening credit in USD, default 0.
    pub admin_credits: indoxrouter::Usd,
    /// `INDOXROUTER_ALLOW_UNPRICED`: serve models the catalog has no price for, at zero cost.
    pub allow_unpriced: bool,
    /// `INDOXROUTER_MAX_BODY_BYTES`, default 16 MiB (vision prompts carry base64 images).
    pub max_body_bytes: u64,
    /// `INDOXROUTER_MAX_ACCOUNT_BODY_BYTES`, default 64 KiB: the body limit of
    /// the authentication, account, key and admin routes.
    pub max_account_body_bytes: u64,
    /// `INDOXROUTER_BODY_TIMEOUT_SECONDS`, default 30: a request's whole body
    /// must arrive within this long after its headers, or the connection is
    /// closed (slow-body clients cannot hold sockets and memory).
    pub body_timeout: Duration,
    /// `INDOXROUTER_TRUSTED_PROXIES`: comma-separated addresses of reverse
    /// proxies whose `X-Forwarded-For` names the real client; empty by
    /// default (the peer address is the client).
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// `INDOXROUTER_LOGIN_FAILURES_PER_USER` (10), `…_PER_ADDRESS` (100) and
    /// `INDOXROUTER_LOGIN_WINDOW_SECONDS` (900): failed logins allowed per
    /// username and per client address in each window before 429.
    pub login_limits: crate::auth::throttle::LoginLimits,
    /// `INDOXROUTER_MAX_CONNECTIONS`, default 4096: connections served at
    /// once; more are closed as soon as they are accepted, and counted.
    pub max_connections: usize,
    /// `INDOXROUTER_LOG_FORMAT`: `text` (default) or `json`.
    pub log_json: bool,
    /// `INDOXROUTER_SHUTDOWN_GRACE_SECONDS`, default 30: how long shutdown
    /// lets in-flight requests finish before interrupting streams.
    pub shutdown_grace: Duration,
    /// `INDOXROUTER_SSE_KEEPALIVE_SECONDS`, default 15: a comment line sent
    /// on a stream whose provider has been silent this long (reasoning models
    /// think for minutes), so proxies and load balancers keep it open.
    pub sse_keepalive: Duration,
    /// `INDOXROUTER_DRAIN_SECONDS`, default 30: how long a stream whose
    /// client went away keeps reading the provider (without relaying) for
    /// its usage report, so the call is billed by what the provider counted.
    pub drain: Duration,
    /// `INDOXROUTER_RATE_LIMITS`, default true: enforce per-minute limits.
    pub rate_limits: bool,
    /// `INDOXROUTER_TIERS` (`name=rpm:tpm,…`) and `INDOXROUTER_DEFAULT_TIER`.
    pub tiers: Tiers,
    /// `INDOXROUTER_METRICS_TOKEN`: when set, `/metrics` requires it as a
    /// bearer token.
    pub metrics_token: Option<Secret>,
}

/// A setting that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {message}")]
pub struct ConfigError {
    /// The variable at fault.
    pub var: &'static str,
    /// What is wrong (never the value of a secret).
    pub message: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// Reads settings through `var` (tests pass a map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |k: &str| {
            var(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let environment = match get("INDOXROUTER_ENV").as_deref() {
            None | Some("development" | "dev") => Environment::Development,
            Some("production" | "prod") => Environment::Production,
            Some(_) => {
                return Err(ConfigError {
                    var: "INDOXROUTER_ENV",
                    message: "expected `development` or `production`".into(),
                });
            }
        };
        let parse = |k: &'static str, what: &str| -> Result<Option<u64>, ConfigError> {
            get(k)
                .map(|v| {
                    v.parse::<u64>().map_err(|_| ConfigError {
                        var: k,
                        message: format!("expected {what}"),
                    })
                })
                .transpose()
        };
        let host = match get("INDOXROUTER_HOST") {
            None => IpAddr::from([127, 0, 0, 1]),
            Some(h) if h == "localhost" => IpAddr::from([127, 0, 0, 1]),
            Some(h) => h.parse().map_err(|_| ConfigError {
                var: "INDOXROUTER_HOST",
                message: "expected an IP address such as 127.0.0.1 or 0.0.0.0".into(),
            })?,
        };
        let port = match parse("INDOXROUTER_PORT", "a port number")? {
            None => 8000,
            Some(p) => u16::try_from(p).map_err(|_| ConfigError {
                var: "INDOXROUTER_PORT",
                message: "expected a port number".into(),
            })?,
        };
        let jwt_secret = get("INDOXROUTER_JWT_SECRET").map(Secret);
        match &jwt_secret {
            None if environment == Environment::Production => {
                return Err(ConfigError {
                    var: "INDOXROUTER_JWT_SECRET",
                    message: "production requires a JWT secret".into(),
                });
            }
            // A short secret can be brute-forced from one token, whatever
            // the mode: refused in development too.
            Some(s) if s.0.len() < MIN_SECRET_BYTES => {
                return Err(ConfigError {
                    var: "INDOXROUTER_JWT_SECRET",
                    message: format!("the secret must be at least {MIN_SECRET_BYTES} bytes"),
                });
            }
            _ => {}
        }
        let admin_credits = match get("INDOXROUTER_ADMIN_CREDITS") {
            None => indoxrouter::Usd::ZERO,
            Some(v) => indoxrouter::Usd::parse(&v).map_err(|_| ConfigError {
                var: "INDOXROUTER_ADMIN_CREDITS",
                message: "expected a USD amount such as 10 or 2.50".into(),
            })?,
        };
        let flag_or = |k: &'static str, default: bool| -> Result<bool, ConfigError> {
            match get(k).as_deref().map(str::to_ascii_lowercase).as_deref() {
                None => Ok(default),
                Some("0" | "false" | "no" | "off") => Ok(false),
                Some("1" | "true" | "yes" | "on") => Ok(true),
                Some(_) => Err(ConfigError {
                    var: k,
                    message: "expected true or false".into(),
                }),
            }
        };
        Ok(Config {
            environment,
            host,
            port,
            data_dir: get("INDOXROUTER_DATA_DIR")
                .map_or_else(|| PathBuf::from("data"), PathBuf::from),
            jwt_secret,
            jwt_ttl: Duration::from_secs(
                parse("INDOXROUTER_JWT_TTL_MINUTES", "minutes")?
                    .unwrap_or(60)
                    .clamp(1, MAX_JWT_TTL_MINUTES)
                    * 60,
            ),
            admin_username: get("INDOXROUTER_ADMIN_USERNAME").unwrap_or_else(|| "admin".into()),
            admin_password: get("INDOXROUTER_ADMIN_PASSWORD").map(Secret),
            admin_credits,
            allow_unpriced: flag_or("INDOXROUTER_ALLOW_UNPRICED", false)?,
            max_body_bytes: parse("INDOXROUTER_MAX_BODY_BYTES", "a byte count")?
                .unwrap_or(16 * 1024 * 1024),
            max_account_body_bytes: parse("INDOXROUTER_MAX_ACCOUNT_BODY_BYTES", "a byte count")?
                .unwrap_or(64 * 1024),
            body_timeout: Duration::from_secs(
                parse("INDOXROUTER_BODY_TIMEOUT_SECONDS", "seconds")?
                    .unwrap_or(30)
                    .max(1),
            ),
            trusted_proxies: match get("INDOXROUTER_TRUSTED_PROXIES") {
                None => Vec::new(),
                Some(list) => list
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(|a| {
                        a.parse().map_err(|_| ConfigError {
                            var: "INDOXROUTER_TRUSTED_PROXIES",
                            message: format!("`{a}` is not an IP address"),
                        })
                    })
                    .collect::<Result<_, _>>()?,
            },
            login_limits: crate::auth::throttle::LoginLimits {
                per_user: u32::try_from(
                    parse("INDOXROUTER_LOGIN_FAILURES_PER_USER", "a count")?.unwrap_or(10),
                )
                .unwrap_or(u32::MAX),
                per_addr: u32::try_from(
                    parse("INDOXROUTER_LOGIN_FAILURES_PER_ADDRESS", "a count")?.unwrap_or(100),
                )
                .unwrap_or(u32::MAX),
                window: Duration::from_secs(
                    parse("INDOXROUTER_LOGIN_WINDOW_SECONDS", "seconds")?
                        .unwrap_or(900)
                        .max(1),
                ),
            },
            max_connections: usize::try_from(
                parse("INDOXROUTER_MAX_CONNECTIONS", "a connection count")?
                    .unwrap_or(4096)
                    .max(1),
            )
            .unwrap_or(usize::MAX),
            log_json: get("INDOXROUTER_LOG_FORMAT").is_some_and(|v| v.eq_ignore_ascii_case("json")),
            shutdown_grace: Duration::from_secs(
                parse("INDOXROUTER_SHUTDOWN_GRACE_SECONDS", "seconds")?.unwrap_or(30),
            ),
            sse_keepalive: Duration::from_secs(
                parse("INDOXROUTER_SSE_KEEPALIVE_SECONDS", "seconds")?
                    .unwrap_or(15)
                    .max(1),
            ),
            drain: Duration::from_secs(
                parse("INDOXROUTER_DRAIN_SECONDS", "seconds")?.unwrap_or(30),
            ),
            rate_limits: flag_or("INDOXROUTER_RATE_LIMITS", true)?,
            tiers: Tiers::parse(
                get("INDOXROUTER_TIERS").as_deref(),
                get("INDOXROUTER_DEFAULT_TIER").as_deref(),
            )
            .map_err(|e| ConfigError {
                var: if get("INDOXROUTER_TIERS").is_some() {
                    "INDOXROUTER_TIERS"
                } else {
                    "INDOXROUTER_DEFAULT_TIER"
                },
                message: e.to_string(),
            })?,
            metrics_token: get("INDOXROUTER_METRICS_TOKEN").map(Secret),
        })
    }

    /// A development configuration for tests: data under `data_dir`, a
    /// fixed admin password, everything else default.
    pub fn for_tests(data_dir: impl Into<PathBuf>, admin_password: &str) -> Config {
        Config {
            environment: Environment::Development,
            host: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            data_dir: data_dir.into(),
            jwt_secret: Some(Secret::new("test-secret-that-is-long-enough-for-hs256")),
            jwt_ttl: Duration::from_secs(3600),
            admin_username: "admin".into(),
            admin_password: Some(Secret::new(admin_password)),
            admin_credits: indoxrouter::Usd::ZERO,
            allow_unpriced: false,
            max_body_bytes: 16 * 1024 * 1024,
            max_account_body_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(30),
            max_connections: 4096,
            trusted_proxies: Vec::new(),
            login_limits: crate::auth::throttle::LoginLimits::default(),
            log_json: false,
            shutdown_grace: Duration::from_secs(30),
            sse_keepalive: Duration::from_secs(15),
            drain: Duration::from_secs(30),
            rate_limits: true,
            // Roomy enough that tests of other features never meet a limit;
            // rate-limit tests assign tighter tiers explicitly.
            tiers: Tiers::parse(None, Some("enterprise")).unwrap_or_default(),
            metrics_token: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults() {
        let c = from(&[]).unwrap();
        assert_eq!(c.port, 8000);
        assert_eq!(c.host.to_string(), "127.0.0.1");
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.admin_username, "admin");
        assert!(c.admin_password.is_none());
        assert_eq!(c.environment, Environment::Development);
        assert_eq!(c.jwt_ttl, Duration::from_secs(3600));
    }

    #[test]
    fn access_tokens_live_a_day_at_most() {
        let c = from(&[("INDOXROUTER_JWT_TTL_MINUTES", "43200")]).unwrap();
        assert_eq!(c.jwt_ttl, Duration::from_secs(86_400));
    }

    #[test]
    fn production_requires_a_long_secret() {
        let e = from(&[("INDOXROUTER_ENV", "production")]).unwrap_err();
        assert_eq!(e.var, "INDOXROUTER_JWT_SECRET");
        let e = from(&[
            ("INDOXROUTER_ENV", "production"),
            ("INDOXROUTER_JWT_SECRET", "short"),
        ])
        .unwrap_err();
        assert!(!e.to_string().contains("short"), "{e}");
        let long = "x".repeat(MIN_SECRET_BYTES);
        assert!(
            from(&[
                ("INDOXROUTER_ENV", "production"),
                ("INDOXROUTER_JWT_SECRET", &long)
            ])
            .is_ok()
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert_eq!(
            from(&[("INDOXROUTER_PORT", "99999")]).unwrap_err().var,
            "INDOXROUTER_PORT"
        );
        assert_eq!(
            from(&[("INDOXROUTER_HOST", "nope")]).unwrap_err().var,
            "INDOXROUTER_HOST"
        );
        assert_eq!(
            from(&[("INDOXROUTER_ALLOW_UNPRICED", "maybe")])
                .unwrap_err()
                .var,
            "INDOXROUTER_ALLOW_UNPRICED"
        );
        assert_eq!(
            from(&[("INDOXROUTER_TIERS", "free=0:1")]).unwrap_err().var,
            "INDOXROUTER_TIERS"
        );
        assert_eq!(
            from(&[("INDOXROUTER_DEFAULT_TIER", "gold")])
                .unwrap_err()
                .var,
            "INDOXROUTER_DEFAULT_TIER"
        );
        let c = from(&[("INDOXROUTER_RATE_LIMITS", "off")]).unwrap();
        assert!(!c.rate_limits);
    }

    #[test]
    fn secrets_do_not_print() {
        let c = from(&[
            (
                "INDOXROUTER_JWT_SECRET",
                "supersecretvalue-long-enough-for-hs256",
            ),
            ("INDOXROUTER_ADMIN_PASSWORD", "hunter22"),
        ])
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("supersecretvalue") && !dbg.contains("hunter22"),
            "{dbg}"
        );
    }

    #[test]
    fn a_short_jwt_secret_is_refused_in_development_too() {
        let e = from(&[("INDOXROUTER_JWT_SECRET", "short-secret")]).unwrap_err();
        assert_eq!(e.var, "INDOXROUTER_JWT_SECRET");
        assert!(!e.to_string().contains("short-secret"), "{e}");
    }
}
