//! Password hashing with argon2id (the `argon2` crate's defaults: m = 19 MiB,
//! t = 2, p = 1), stored as PHC strings.
//!
//! Hashing is deliberately slow and memory-hungry, so it runs on tokio's
//! blocking pool, and at most [`MAX_CONCURRENT`] at a time: a login flood
//! would otherwise fan out to hundreds of blocking threads at 19 MiB each.
//! At most [`MAX_WAITING`] logins wait for a turn; past that a login is
//! refused at once (503 `busy`), so a flood cannot build a queue that
//! locks real users out for minutes.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash as PhcHash};
use tokio::sync::Semaphore;

use super::AuthError;
use crate::store::PasswordHash;

/// Password hashes computed at the same time, process-wide.
pub const MAX_CONCURRENT: usize = 2;

/// Password checks allowed to wait for a turn, process-wide.
pub const MAX_WAITING: usize = 32;

static PERMITS: Semaphore = Semaphore::const_new(MAX_CONCURRENT);
static WAITING: AtomicUsize = AtomicUsize::new(0);

/// Hashes `password` with a fresh random salt.
pub async fn hash_password(password: String) -> Result<PasswordHash, AuthError> {
    let _permit = PERMITS
        .acquire()
        .await
        .map_err(|_| AuthError::Internal("password hashing unavailable"))?;
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|_| AuthError::Internal("password hashing task failed"))?
}

/// Whether `password` matches `hash`. With no hash (unknown user) it still
/// runs a full verification against a fixed dummy hash and answers `false`,
/// so response time does not reveal which usernames exist. Fails with
/// [`AuthError::Busy`] when [`MAX_WAITING`] checks are already queued.
pub async fn verify_password(
    password: String,
    hash: Option<PasswordHash>,
) -> Result<bool, AuthError> {
    if WAITING.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
        WAITING.fetch_sub(1, Ordering::AcqRel);
        return Err(AuthError::Busy);
    }
    let permit = PERMITS.acquire().await;
    WAITING.fetch_sub(1, Ordering::AcqRel);
    let Ok(_permit) = permit else {
        return Ok(false);
    };
    Ok(tokio::task::spawn_blocking(move || match hash {
        Some(hash) => verify_blocking(&password, &hash.0),
        None => {
            let _ = verify_blocking(&password, dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false))
}

fn hash_blocking(password: &str) -> Result<PasswordHash, AuthError> {
    // Salt from rand rather than argon2's OsRng re-export, which would need
    // another rand_core version with its getrandom feature.
    let salt: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt).map_err(|_| AuthError::Internal("password salt"))?;
    let phc = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|_| AuthError::Internal("password hashing failed"))?;
    Ok(PasswordHash(phc.to_string()))
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    // A stored hash that does not parse matches nothing.
    let Ok(parsed) = PhcHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Computed once with the same parameters as real hashes, so verifying
/// against it costs the same. If hashing itself were broken no user could
/// have a hash either, so the empty fallback leaks nothing.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let secret: [u8; 16] = rand::random();
        hash_blocking(&format!("{secret:?}"))
            .map(|h| h.0)
            .unwrap_or_default()
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let hash = hash_password("correct horse".into()).await.unwrap();
        assert!(hash.0.starts_with("$argon2id$v=19$"));
        assert!(
            verify_password("correct horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("wrong horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(!verify_password(String::new(), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn salts_differ() {
        let a = hash_password("same".into()).await.unwrap();
        let b = hash_password("same".into()).await.unwrap();
        assert_ne!(a, b);
    }

    #[tokio::test]
    async fn unknown_user_and_garbage_hash_never_match() {
        assert!(!verify_password("anything".into(), None).await.unwrap());
        assert!(
            !verify_password("x".into(), Some(PasswordHash("not a phc".into())))
                .await
                .unwrap()
        );
        assert!(dummy_hash().starts_with("$argon2id$"));
    }

    #[tokio::test]
    async fn debug_hides_the_hash() {
        let hash = hash_password("pw".into()).await.unwrap();
        assert_eq!(format!("{hash:?}"), "PasswordHash(***)");
    }
}
