//! `indoxrouter-server admin reset-password <username>`: gives a user a new,
//! generated password from the command line, for an operator locked out of
//! the API. It opens the database directly, so the server must be stopped
//! (the database refuses a second opener). The password is printed once to
//! the terminal; every access token the user held ends.

use std::process::ExitCode;

use crate::auth::password::hash_password;
use crate::config::Config;
use crate::state::random_token;
use crate::store::redb_store::RedbStore;
use crate::store::{Accounts as _, Ledger as _, UserUpdate};

/// Runs `args` (after the program name) when they are an admin command;
/// `None` when they are not one, so the server starts.
pub async fn run(args: &[String], config: &Config) -> Option<ExitCode> {
    match args {
        [admin, cmd, username] if admin == "admin" && cmd == "reset-password" => {
            Some(reset_password(config, username).await)
        }
        [admin, ..] if admin == "admin" => {
            eprintln!("usage: indoxrouter-server admin reset-password <username>");
            Some(ExitCode::from(2))
        }
        _ => None,
    }
}

async fn reset_password(config: &Config, username: &str) -> ExitCode {
    let path = config.data_dir.join("indoxrouter.redb");
    let store = match RedbStore::open(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "indoxrouter-server: cannot open {}: {e} (stop the server first)",
                path.display()
            );
            return ExitCode::from(1);
        }
    };
    let Some(user) = store.user_by_name(username) else {
        eprintln!("indoxrouter-server: no user `{username}`");
        return ExitCode::from(1);
    };
    let password = random_token(18);
    let hash = match hash_password(password.clone()).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("indoxrouter-server: {e}");
            return ExitCode::from(1);
        }
    };
    let update = UserUpdate {
        password_hash: Some(hash),
        ..UserUpdate::default()
    };
    if let Err(e) = store.update_user(user.id, update).await {
        eprintln!("indoxrouter-server: {e}");
        return ExitCode::from(1);
    }
    let flushed = store.flush().await;
    let closed = store.shutdown();
    if let Err(e) = flushed.and(closed) {
        eprintln!("indoxrouter-server: {e}");
        return ExitCode::from(1);
    }
    // An old generated password is no longer true.
    let _ = std::fs::remove_file(crate::state::bootstrap_password_file(&config.data_dir));
    println!("New password for `{username}`: {password}\nIt is shown only now.");
    ExitCode::SUCCESS
}
