//! The `indoxrouter-server` binary: configuration from the environment and
//! `.env`, logs, signals.

use std::process::ExitCode;

use indoxrouter_server::config::Environment;

// The request path allocates many short-lived buffers (bodies, JSON, headers);
// mimalloc's thread-local free lists beat glibc malloc's arenas there.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;
use indoxrouter_server::{AppState, Config, serve};

#[tokio::main]
async fn main() -> ExitCode {
    // `.env` in the working directory, as the original IndoxRouter did (`cp development.env .env`).
    // Variables already set in the environment win.
    let dotenv = dotenvy::dotenv();
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("indoxrouter-server: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(code) = indoxrouter_server::admin_cli::run(&args, &config).await {
        return code;
    }
    // Held until exit: dropping it flushes the log writer.
    let _log_guard = init_logs(config.log_json);
    if let Ok(path) = dotenv {
        tracing::info!(path = %path.display(), "loaded environment file");
    }

    let client = match indoxrouter::Client::from_env() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "configuring providers");
            return ExitCode::from(2);
        }
    };
    if client.providers().is_empty() {
        tracing::warn!(
            "no provider is configured: set OPENAI_API_KEY (or another provider's key) to serve models"
        );
    } else {
        tracing::info!(providers = ?client.providers(), "providers configured");
    }
    let (state, boot) = match AppState::open(&config, client).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "starting");
            return ExitCode::from(1);
        }
    };
    if let Some(file) = &boot.admin_password_file {
        // Only the path: the password itself never reaches a log.
        tracing::warn!(
            username = %config.admin_username,
            file = %file.display(),
            "created the admin account with a generated password, written to this file \
             (readable by this user only); log in and change it (POST /api/v1/users/me/password) \
             and the file is removed"
        );
    }
    if config.environment == Environment::Development && config.jwt_secret.is_none() {
        tracing::info!("development mode: using the JWT secret kept in the data directory");
    }

    let listener = match tokio::net::TcpListener::bind((config.host, config.port)).await {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(error = %e, host = %config.host, port = config.port, "binding");
            return ExitCode::from(1);
        }
    };
    let address = listener.local_addr().map_or_else(
        |_| format!("{}:{}", config.host, config.port),
        |a| a.to_string(),
    );
    tracing::info!(address = %format!("http://{address}"), "indoxrouter-server listening");
    serve::serve(state, listener, shutdown_signal()).await;
    ExitCode::SUCCESS
}

/// Logs to standard output through a writer thread, so a request never waits
/// on the terminal or a log pipe (it blocks only if 128k lines are pending).
fn init_logs(json: bool) -> tracing_appender::non_blocking::WorkerGuard {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("INDOXROUTER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_target(false);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    guard
}

/// SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("signal received");
}
