//! What a caller may read of a provider's error.
//!
//! Provider error text is written for the account holder — the operator —
//! and names their organisation and project ids, their quota and billing,
//! and hints at their key. Callers get a message that says what failed and
//! whether retrying can help; the full text goes only to the server log.
//!
//! Errors about the operator's account (credentials, permission, quota,
//! the provider's rate limits, outages) get a fixed message. Errors about
//! the caller's request (a bad parameter, an unknown resource) keep the
//! provider's explanation, which the caller needs to fix it, with account
//! identifiers and e-mail addresses redacted.

use indoxrouter::Error as E;

/// Identifier prefixes providers use for the account holder's objects:
/// OpenAI organisations, projects and users, Stripe-style accounts, keys.
const ACCOUNT_ID_PREFIXES: &[&str] = &[
    "org-", "org_", "proj_", "proj-", "user-", "user_", "acct_", "sk-", "sk_", "key_",
];

/// The message a caller gets for `e`; logs the provider's full text when it
/// differs.
pub fn caller_message(e: &E) -> String {
    let message = match e {
        E::Authentication { provider, .. } => format!(
            "{provider}: the provider refused this server's credentials; the operator has to fix its configuration"
        ),
        E::Permission { provider, .. } => format!(
            "{provider}: the provider denied this server access to the request's model or feature"
        ),
        E::InsufficientQuota { provider, .. } => {
            format!(
                "{provider}: the server's quota at this provider is used up; try later or another provider"
            )
        }
        E::RateLimited {
            provider,
            retry_after,
            ..
        } => match retry_after {
            Some(d) => format!(
                "{provider}: rate limited by the provider; retry after {:.1}s",
                d.as_secs_f64()
            ),
            None => format!("{provider}: rate limited by the provider; retry later"),
        },
        E::ProviderUnavailable {
            provider, status, ..
        } => match status {
            Some(s) => format!("{provider}: the provider failed (HTTP {s}); retry later"),
            None => format!("{provider}: the provider could not be reached; retry later"),
        },
        other => redact_ids(&other.to_string()),
    };
    let full = e.to_string();
    if full != message {
        tracing::warn!(error = %full, "provider error (callers see a redacted message)");
    }
    message
}

/// `text` with every word that looks like an account identifier or an
/// e-mail address replaced by `[redacted]`.
pub fn redact_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.find(is_word).unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(|c: char| !is_word(c)).unwrap_or(rest.len());
        let word = &rest[..end];
        let core = word.trim_end_matches('.');
        if is_account_id(core) {
            out.push_str("[redacted]");
            out.push_str(&word[core.len()..]);
        } else {
            out.push_str(word);
        }
        rest = &rest[end..];
    }
    out
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '@' | '.' | '+' | '*')
}

fn is_account_id(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    // An id's tail is long and has a digit (or a key's `****` mask), which
    // keeps ordinary words like `user-facing` readable.
    let prefixed = ACCOUNT_ID_PREFIXES.iter().any(|p| {
        lower.strip_prefix(p).is_some_and(|tail| {
            tail.len() >= 6 && tail.chars().any(|c| c.is_ascii_digit() || c == '*')
        })
    });
    let email = word
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    prefixed || email
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_identifiers_and_addresses_are_redacted() {
        assert_eq!(
            redact_ids("Rate limit reached in organization org-AbC123xyz on tokens."),
            "Rate limit reached in organization [redacted] on tokens."
        );
        assert_eq!(
            redact_ids("project proj_9f8e7d (owner ops@example.com): key sk-****cdef"),
            "project [redacted] (owner [redacted]): key [redacted]"
        );
        let plain = "`max_tokens` is too large: 999999. This model supports at most 16384.";
        assert_eq!(redact_ids(plain), plain);
        assert_eq!(
            redact_ids("user-facing text, org- and a@b"),
            "user-facing text, org- and a@b"
        );
    }
}
