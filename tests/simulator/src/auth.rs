//! Reading and hiding credentials.

use std::collections::BTreeMap;

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// Headers whose values are secrets in some provider's API.
const SECRET_HEADERS: &[&str] = &["authorization", "x-api-key", "api-key", "x-goog-api-key"];

/// The key from `Authorization: Bearer <key>`, if there is a non-empty one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, key) = value.split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then(|| key.to_owned())
}

/// Masks a key the way OpenAI does in its 401 message: a few leading and
/// trailing characters survive, the rest become `*`. Short keys are hidden
/// entirely, so a key is never echoed in full.
pub(crate) fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    let (head, tail) = match chars.len() {
        n if n > 16 => (8, 4),
        n if n > 8 => (3, 3),
        _ => (0, 0),
    };
    let hidden = chars.len() - head - tail;
    let mut masked: String = chars.iter().take(head).collect();
    masked.push_str(&"*".repeat(hidden));
    masked.extend(chars.iter().skip(head + hidden));
    masked
}

/// Headers as a name → value map, with credentials masked.
pub(crate) fn redacted_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in headers {
        let name = name.as_str().to_ascii_lowercase();
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let value = if SECRET_HEADERS.contains(&name.as_str()) {
            redact(&value)
        } else {
            value
        };
        out.entry(name)
            .and_modify(|existing: &mut String| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    out
}

fn redact(value: &str) -> String {
    match value.split_once(' ') {
        Some((scheme, key)) => format!("{scheme} {}", mask_key(key.trim())),
        None => mask_key(value),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use http::HeaderValue;

    use super::*;

    #[test]
    fn masks_keys() {
        assert_eq!(
            mask_key("sk-abcdefgh1234567890wxyz"),
            "sk-abcde*************wxyz"
        );
        assert_eq!(mask_key("sk-test-key"), "sk-*****key");
        assert_eq!(mask_key("short"), "*****");
    }

    #[test]
    fn reads_bearer() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer  k1 "));
        assert_eq!(bearer(&headers).as_deref(), Some("k1"));
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Basic k1"));
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&headers), None);
    }

    #[test]
    fn redacts_secrets() {
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Bearer sk-test-key"),
        );
        headers.insert("x-other", HeaderValue::from_static("visible"));
        let map = redacted_headers(&headers);
        assert_eq!(map["authorization"], "Bearer sk-*****key");
        assert_eq!(map["x-other"], "visible");
    }
}
