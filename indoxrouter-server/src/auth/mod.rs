//! Authentication: argon2id passwords, HS256 JWTs and API keys.
//!
//! Everything slow (password hashing) runs off the async executor, and no
//! error or `Debug` output here ever contains a secret, a key or a token.

pub mod api_key;
pub mod jwt;
pub mod password;
pub mod scopes;
pub mod throttle;

/// Why authentication failed. Messages are fixed strings: never the token,
/// key, password or secret involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Malformed, tampered, wrongly signed or otherwise unacceptable token.
    #[error("invalid token")]
    InvalidToken,
    /// A well-formed, correctly signed token past its expiry.
    #[error("token expired")]
    Expired,
    /// Too many password checks are waiting; try again shortly.
    #[error("too many logins in progress")]
    Busy,
    /// Something on our side failed (hashing, encoding, a lost worker task).
    #[error("internal authentication error: {0}")]
    Internal(&'static str),
}
