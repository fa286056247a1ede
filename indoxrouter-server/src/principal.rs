//! Who is calling: a bearer JWT or an API key, resolved to a user.

use crate::auth::api_key;
use crate::auth::scopes::Scope;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Role, UserId};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// Their login name.
    pub username: String,
    /// Their role, as stored now (not as when a token was issued).
    pub role: Role,
    /// The API key used, if the caller used one.
    pub key_id: Option<String>,
    /// The user's rate-limit tier (`None`: the default).
    pub tier: Option<String>,
    /// The key's own rate-limit tier, if it has one.
    pub key_tier: Option<String>,
    /// What the key may do (`None`: an access token or a key from before
    /// scopes, which may do everything the user may).
    pub scopes: Option<Vec<Scope>>,
    /// The key's model patterns (`None`: any model).
    pub models: Option<Vec<String>>,
    /// The key's cap on output tokens per request.
    pub max_tokens_per_request: Option<u64>,
    /// The key's expiry, Unix seconds.
    pub key_expires_at: Option<u64>,
    /// The key's spending limit.
    pub key_budget: Option<crate::store::KeyBudget>,
}

impl Principal {
    /// Whether the caller may do what `scope` covers.
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.as_ref().is_none_or(|s| s.contains(&scope))
    }

    /// 403 `insufficient_scope` unless the caller has `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                http::StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("this API key lacks the `{}` scope", scope.as_str()),
            ))
        }
    }

    /// 403 `model_not_allowed` unless every model in `models` is on the
    /// key's allow-list.
    pub fn allow_models<'a>(
        &self,
        models: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), ApiError> {
        let Some(patterns) = &self.models else {
            return Ok(());
        };
        for m in models {
            if !crate::auth::scopes::model_allowed(patterns, m) {
                return Err(ApiError::new(
                    http::StatusCode::FORBIDDEN,
                    "model_not_allowed",
                    format!("this API key may not call `{m}`"),
                )
                .param("model"));
            }
        }
        Ok(())
    }

    /// `Ok` for admins, 403 otherwise.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("this route is for administrators"))
        }
    }
}

/// Resolves an `Authorization` header value. All failures are 401 with a
/// message that never echoes the credential.
pub fn authenticate(state: &AppState, header: Option<&str>) -> Result<Principal, ApiError> {
    let Some(header) = header else {
        return Err(ApiError::unauthorized(
            "missing credentials: send `Authorization: Bearer <API key or access token>`",
        ));
    };
    let token = header
        .strip_prefix("Bearer ")
        .or_else(|| header.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
        })?;

    if api_key::looks_like_key(token) {
        let now = crate::time::unix_secs();
        let record = state
            .accounts
            .key_by_hash(&api_key::hash(token))
            .filter(|k| k.is_active(now) && creators_active(state, k, now))
            .ok_or_else(|| ApiError::unauthorized("invalid, revoked or expired API key"))?;
        let user = state
            .accounts
            .user_by_id(record.user_id)
            .ok_or_else(|| ApiError::unauthorized("invalid, revoked or expired API key"))?;
        refuse_disabled(&user)?;
        return Ok(Principal {
            user_id: user.id,
            username: user.username,
            role: user.role,
            key_id: Some(record.id),
            tier: user.tier,
            key_tier: record.tier,
            scopes: record.scopes,
            models: record.models,
            max_tokens_per_request: record.max_tokens_per_request,
            key_expires_at: record.expires_at,
            key_budget: record.budget,
        });
    }

    let claims = state
        .jwt
        .verify(token)
        .map_err(|_| ApiError::unauthorized("invalid or expired access token"))?;
    let user = claims
        .sub
        .parse::<UserId>()
        .ok()
        .and_then(|id| state.accounts.user_by_id(id))
        // A token from before a password change or a revocation.
        .filter(|u| u.token_generation == claims.generation)
        .ok_or_else(|| ApiError::unauthorized("invalid or expired access token"))?;
    refuse_disabled(&user)?;
    Ok(Principal {
        user_id: user.id,
        username: user.username,
        role: user.role,
        key_id: None,
        tier: user.tier,
        key_tier: None,
        scopes: None,
        models: None,
        max_tokens_per_request: None,
        key_expires_at: None,
        key_budget: None,
    })
}

/// Whether every key above `key` (the key that minted it, and so on) is
/// still active: revoking a leaked key also ends the keys minted with it.
fn creators_active(state: &AppState, key: &crate::store::ApiKeyRecord, now: u64) -> bool {
    let mut parent = key.parent.clone();
    // Chains are short; the bound guards against a corrupt record.
    for _ in 0..32 {
        let Some(id) = parent else { return true };
        match state.accounts.key_by_id(&id) {
            Some(k) if k.is_active(now) => parent = k.parent,
            _ => return false,
        }
    }
    false
}

/// 403 `account_disabled` for a disabled user's valid credential: said only
/// to someone who holds one, so it reveals nothing to strangers.
pub fn refuse_disabled(user: &crate::store::User) -> Result<(), ApiError> {
    if user.disabled {
        Err(ApiError::new(
            http::StatusCode::FORBIDDEN,
            "account_disabled",
            "this account is disabled; ask an administrator",
        ))
    } else {
        Ok(())
    }
}
