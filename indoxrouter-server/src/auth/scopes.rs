//! What an API key may do: its scopes, and which models it may call.
//!
//! An access token (a password login) may do everything its user may. A
//! key carries scopes; a key made before scopes existed has them all, a key
//! created without any has only `inference`. Each route needs at most one
//! scope, decided here from its method and path so no handler can forget.

use serde::{Deserialize, Serialize};

/// One permission of an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// Chat, completions, embeddings, images, and the model list.
    #[serde(rename = "inference")]
    Inference,
    /// The caller's profile, balance and usage reports.
    #[serde(rename = "usage:read")]
    UsageRead,
    /// Creating, listing and revoking keys; changing the password.
    #[serde(rename = "keys:manage")]
    KeysManage,
    /// The administrator routes (for an administrator's key).
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 4] = [
        Scope::Inference,
        Scope::UsageRead,
        Scope::KeysManage,
        Scope::Admin,
    ];

    /// The name used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Inference => "inference",
            Scope::UsageRead => "usage:read",
            Scope::KeysManage => "keys:manage",
            Scope::Admin => "admin",
        }
    }
}

/// The scope a request to `path` needs from an API key; `None` when any
/// credential will do (or the route is public).
pub fn required(path: &str) -> Option<Scope> {
    const INFERENCE: [&str; 4] = [
        "/api/v1/chat/completions",
        "/api/v1/completions",
        "/api/v1/embeddings",
        "/api/v1/images/generations",
    ];
    if path.starts_with("/api/v1/admin/") {
        Some(Scope::Admin)
    } else if path.starts_with("/api/v1/keys") || path == "/api/v1/users/me/password" {
        Some(Scope::KeysManage)
    } else if path == "/api/v1/users/me" || path.starts_with("/api/v1/users/me/") {
        Some(Scope::UsageRead)
    } else if path.starts_with("/v1/") || INFERENCE.contains(&path) {
        Some(Scope::Inference)
    } else {
        None
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of
/// characters (`openai/*`, `anthropic/claude-*`, `*-mini`).
pub fn glob(pattern: &str, text: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == text;
    };
    let Some(mut remaining) = text.strip_prefix(first) else {
        return false;
    };
    let mut pieces: Vec<&str> = rest.split('*').collect();
    let last = pieces.pop().unwrap_or_default();
    for piece in pieces {
        match remaining.find(piece) {
            Some(at) => remaining = &remaining[at + piece.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

/// Whether `model` (`provider/model`) is on the allow-list.
pub fn model_allowed(patterns: &[String], model: &str) -> bool {
    patterns.iter().any(|p| glob(p, model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_the_scope_of_what_they_do() {
        assert_eq!(required("/v1/chat/completions"), Some(Scope::Inference));
        assert_eq!(required("/api/v1/embeddings"), Some(Scope::Inference));
        assert_eq!(required("/api/v1/users/me"), Some(Scope::UsageRead));
        assert_eq!(
            required("/api/v1/users/me/usage/export"),
            Some(Scope::UsageRead)
        );
        assert_eq!(
            required("/api/v1/users/me/password"),
            Some(Scope::KeysManage)
        );
        assert_eq!(required("/api/v1/keys/key_1"), Some(Scope::KeysManage));
        assert_eq!(required("/api/v1/admin/users"), Some(Scope::Admin));
        assert_eq!(required("/api/v1/models/openai"), None);
        assert_eq!(required("/health"), None);
    }

    #[test]
    fn globs() {
        assert!(glob("openai/*", "openai/gpt-4o-mini"));
        assert!(glob("anthropic/claude-*", "anthropic/claude-haiku-4-5"));
        assert!(!glob("anthropic/claude-*", "anthropic/other"));
        assert!(glob("*-mini", "openai/gpt-4o-mini"));
        assert!(glob("openai/gpt-*-mini", "openai/gpt-4o-mini"));
        assert!(!glob("openai/gpt-*-mini", "openai/gpt-4o"));
        assert!(glob("openai/gpt-4o", "openai/gpt-4o"));
        assert!(!glob("openai/gpt-4o", "openai/gpt-4o-mini"));
        assert!(glob("*", "anything/at-all"));
        // A narrower pattern is "allowed" by a wider one, as text.
        assert!(glob("openai/*", "openai/gpt-*"));
        assert!(!glob("openai/gpt-*", "openai/*"));
    }
}
