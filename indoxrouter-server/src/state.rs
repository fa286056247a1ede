//! The shared application state, and how it is built at start-up.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indoxrouter::Client;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::jwt::JwtKeys;
use crate::auth::password;
use crate::billing::PricePolicy;
use crate::config::{Config, Environment, MIN_SECRET_BYTES, Secret};
use crate::metrics::Metrics;
use crate::ratelimit::gcra::GcraLimiter;
use crate::ratelimit::{RateLimiter, Tiers};
use crate::store::redb_store::RedbStore;
use crate::store::{Accounts, Ledger, NewUser, Role};

/// How long interrupted work (streams, calls whose clients left) may take
/// to settle once shutdown's grace period is over: it only has to write its
/// usage row.
pub const SETTLE_BOUND: std::time::Duration = std::time::Duration::from_secs(3);

/// Everything a request handler needs.
pub struct AppState {
    /// The core client (providers configured from the environment).
    pub client: Client,
    /// Users and keys.
    pub accounts: Arc<dyn Accounts>,
    /// Balances and charges.
    pub ledger: Arc<dyn Ledger>,
    /// Per-minute allowances.
    pub limiter: Arc<dyn RateLimiter>,
    /// Whether limits are enforced (`INDOXROUTER_RATE_LIMITS`).
    pub rate_limits: bool,
    /// The tier table.
    pub tiers: Tiers,
    /// Prometheus series.
    pub metrics: Metrics,
    /// `INDOXROUTER_METRICS_TOKEN`: the bearer token `/metrics` requires, if any.
    pub metrics_token: Option<Secret>,
    /// Access-token signing.
    pub jwt: JwtKeys,
    /// Whether unpriced models are allowed.
    pub policy: PricePolicy,
    /// Largest accepted request body.
    pub max_body_bytes: u64,
    /// Largest accepted body on authentication, account and admin routes.
    pub max_account_body_bytes: u64,
    /// Time allowed for a request's whole body to arrive.
    pub body_timeout: std::time::Duration,
    /// Connections served at once.
    pub max_connections: usize,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Failed-login counters.
    pub login_throttle: crate::auth::throttle::LoginThrottle,
    /// The generated bootstrap password's file, removed once the bootstrap
    /// admin's password changes.
    pub bootstrap_password_file: std::path::PathBuf,
    /// The bootstrap admin's username.
    pub admin_username: String,
    /// How long shutdown lets in-flight requests finish.
    pub shutdown_grace: std::time::Duration,
    /// Silence after which a stream gets a keep-alive comment.
    pub sse_keepalive: std::time::Duration,
    /// How long an abandoned stream keeps reading for its usage report.
    pub drain: std::time::Duration,
    /// Default models for classic requests that name none.
    pub defaults: DefaultModels,
    /// Streams still billing; shutdown waits for them.
    pub streams: TaskTracker,
    /// Fired when the shutdown grace period is over: streams still running
    /// stop, settle what they delivered and end.
    pub interrupt: CancellationToken,
    /// False once shutdown has begun (readiness).
    pub accepting: AtomicBool,
    /// The concrete store, for shutdown.
    store: Arc<RedbStore>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("client", &self.client)
            .field("jwt", &self.jwt)
            .finish_non_exhaustive()
    }
}

/// Models used when a classic request names none.
#[derive(Debug, Clone)]
pub struct DefaultModels {
    /// Chat and completions.
    pub chat: String,
    /// Embeddings.
    pub embeddings: String,
    /// Images.
    pub images: String,
}

impl Default for DefaultModels {
    fn default() -> Self {
        DefaultModels {
            chat: "openai/gpt-4o-mini".into(),
            embeddings: "openai/text-embedding-3-small".into(),
            images: "openai/dall-e-3".into(),
        }
    }
}

/// What start-up did that the operator must see once.
#[derive(Debug, Default)]
pub struct Bootstrap {
    /// Where the generated admin password was written (mode 0600), when one
    /// was generated. Only the path is shown; the password never reaches a
    /// log.
    pub admin_password_file: Option<std::path::PathBuf>,
    /// The admin account was created on this start.
    pub admin_created: bool,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened.
    #[error("opening the database: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The JWT secret file could not be read or written.
    #[error("JWT secret file: {0}")]
    Secret(std::io::Error),
    /// Password hashing failed.
    #[error("creating the admin account: {0}")]
    Admin(String),
}

impl AppState {
    /// Opens the store under `config.data_dir`, settles the JWT secret and
    /// creates the bootstrap admin if absent.
    pub async fn open(
        config: &Config,
        client: Client,
    ) -> Result<(Arc<AppState>, Bootstrap), StartError> {
        std::fs::create_dir_all(&config.data_dir).map_err(StartError::Secret)?;
        let path = config.data_dir.join("indoxrouter.redb");
        let store = tokio::task::spawn_blocking(move || RedbStore::open(&path))
            .await
            .map_err(|e| StartError::Admin(e.to_string()))??;
        let secret = jwt_secret(config)?;
        let jwt = JwtKeys::new(&secret, config.jwt_ttl);

        let mut boot = Bootstrap::default();
        if store.user_by_name(&config.admin_username).is_none() {
            let password = match &config.admin_password {
                Some(p) => p.expose().to_owned(),
                None => {
                    let p = random_token(18);
                    let file = bootstrap_password_file(&config.data_dir);
                    write_private(&file, format!("{p}\n").as_bytes())
                        .map_err(StartError::Secret)?;
                    boot.admin_password_file = Some(file);
                    p
                }
            };
            let hash = password::hash_password(password)
                .await
                .map_err(|e| StartError::Admin(e.to_string()))?;
            store
                .create_user(NewUser {
                    username: config.admin_username.clone(),
                    password_hash: hash,
                    role: Role::Admin,
                    credits: config.admin_credits,
                    tier: None,
                })
                .await?;
            boot.admin_created = true;
        }

        let state = AppState {
            client,
            accounts: store.clone(),
            ledger: store.clone(),
            limiter: Arc::new(GcraLimiter::new()),
            rate_limits: config.rate_limits,
            tiers: config.tiers.clone(),
            metrics: Metrics::new(),
            metrics_token: config.metrics_token.clone(),
            jwt,
            policy: PricePolicy {
                allow_unpriced: config.allow_unpriced,
            },
            max_body_bytes: config.max_body_bytes,
            max_account_body_bytes: config.max_account_body_bytes,
            body_timeout: config.body_timeout,
            max_connections: config.max_connections,
            trusted_proxies: config.trusted_proxies.clone(),
            login_throttle: crate::auth::throttle::LoginThrottle::new(config.login_limits),
            bootstrap_password_file: bootstrap_password_file(&config.data_dir),
            admin_username: config.admin_username.clone(),
            shutdown_grace: config.shutdown_grace,
            sse_keepalive: config.sse_keepalive,
            drain: config.drain,
            defaults: DefaultModels::default(),
            streams: TaskTracker::new(),
            interrupt: CancellationToken::new(),
            accepting: AtomicBool::new(true),
            store,
        };
        Ok((Arc::new(state), boot))
    }

    /// After `username`'s password changed: the generated bootstrap password
    /// file, if it is theirs, is no longer true, so it goes.
    pub fn password_changed(&self, username: &str) {
        if username == self.admin_username {
            match std::fs::remove_file(&self.bootstrap_password_file) {
                Ok(()) => tracing::info!(
                    file = %self.bootstrap_password_file.display(),
                    "the bootstrap admin's password changed: removed the generated password's file"
                ),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(error = %e, "removing the bootstrap password file"),
            }
        }
    }

    /// Waits until `deadline` for metered work (streams, and calls whose
    /// clients left) to settle; past it, interrupts that work and gives it
    /// [`SETTLE_BOUND`] to settle by the interrupted-call rules. Then makes
    /// every write durable and stops the store's writer. So shutdown ends
    /// within the grace period plus two settle bounds (one for connections,
    /// one here) plus the final flush, whatever clients do.
    pub async fn close(&self, deadline: tokio::time::Instant) {
        self.accepting.store(false, Ordering::SeqCst);
        self.streams.close();
        if tokio::time::timeout_at(deadline, self.streams.wait())
            .await
            .is_err()
        {
            self.interrupt.cancel();
            if tokio::time::timeout(SETTLE_BOUND, self.streams.wait())
                .await
                .is_err()
            {
                tracing::error!(
                    tasks = self.streams.len(),
                    "metered calls did not settle after being interrupted; their holds are released"
                );
            }
        }
        if let Err(e) = self.ledger.flush().await {
            tracing::error!(error = %e, "flushing the ledger at shutdown");
        }
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.shutdown()).await;
    }
}

/// The configured secret; in development one generated once and kept in the
/// data directory so tokens survive restarts.
fn jwt_secret(config: &Config) -> Result<Vec<u8>, StartError> {
    if let Some(s) = &config.jwt_secret {
        return Ok(s.expose().as_bytes().to_vec());
    }
    debug_assert_eq!(config.environment, Environment::Development);
    let path = config.data_dir.join("jwt-secret");
    match std::fs::read_to_string(&path) {
        Ok(s) if s.trim().len() >= MIN_SECRET_BYTES => return Ok(s.trim().as_bytes().to_vec()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(StartError::Secret(e)),
    }
    let secret = random_token(48);
    write_private(&path, secret.as_bytes()).map_err(StartError::Secret)?;
    Ok(secret.into_bytes())
}

/// Writes a file readable by its owner only.
/// Where a generated bootstrap admin password is kept until it is changed.
pub fn bootstrap_password_file(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("admin-password")
}

/// Writes `data` to `path`, readable and writable by this user only.
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// `bytes` random bytes, base64url without padding.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}
