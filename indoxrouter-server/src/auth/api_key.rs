//! API keys: `ixr-` followed by 43 base64url characters (32 random bytes).
//!
//! Only the SHA-256 of a key is stored. A fast hash is right here, unlike for
//! passwords: a key carries 256 bits of entropy, so there is nothing for a
//! slow hash to protect against, and every request verifies one.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::store::KeyHash;

/// What every key starts with, so keys are recognisable (and secret scanners
/// can find leaked ones).
pub const PREFIX: &str = "ixr-";

/// Characters of a key after [`PREFIX`]: 32 bytes in unpadded base64.
const BODY_LEN: usize = 43;

/// Characters of the key kept as its display prefix: enough to tell keys
/// apart, far too few to help guess one.
const DISPLAY_LEN: usize = PREFIX.len() + 8;

/// A freshly generated key. `Debug` hides the key itself.
pub struct GeneratedKey {
    /// The full key: show it to the user once, never store it.
    pub key: String,
    /// What is stored and looked up.
    pub hash: KeyHash,
    /// The key's first characters, for listings.
    pub prefix: String,
}

impl fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("prefix", &self.prefix)
            .field("key", &"***")
            .finish_non_exhaustive()
    }
}

/// A new random key with its hash and display prefix.
pub fn generate() -> GeneratedKey {
    // rand's thread RNG is a CSPRNG seeded from the OS.
    let bytes: [u8; 32] = rand::random();
    let key = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&key);
    let prefix = key.get(..DISPLAY_LEN).unwrap_or(PREFIX).to_owned();
    GeneratedKey { key, hash, prefix }
}

/// A new public key id (`key_` + 16 random base64url characters), the handle
/// used to list and revoke a key.
pub fn new_key_id() -> String {
    let bytes: [u8; 12] = rand::random();
    format!("key_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of `key`.
pub fn hash(key: &str) -> KeyHash {
    Sha256::digest(key.as_bytes()).into()
}

/// Whether `token` has the shape of one of our keys (as opposed to a JWT), so
/// a bearer token can be routed to the right check without a lookup.
pub fn looks_like_key(token: &str) -> bool {
    token.strip_prefix(PREFIX).is_some_and(|body| {
        body.len() == BODY_LEN
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let k = generate();
        assert!(k.key.starts_with("ixr-"));
        assert_eq!(k.key.len(), 4 + 43);
        assert!(looks_like_key(&k.key));
        assert_eq!(k.hash, hash(&k.key));
        assert_eq!(k.prefix.len(), 12);
        assert!(k.key.starts_with(&k.prefix));
    }

    #[test]
    fn keys_and_ids_are_unique() {
        let a = generate();
        let b = generate();
        assert_ne!(a.key, b.key);
        assert_ne!(a.hash, b.hash);
        assert_ne!(new_key_id(), new_key_id());
        assert!(new_key_id().starts_with("key_"));
    }

    #[test]
    fn hash_is_sha256() {
        // SHA-256("abc"), FIPS 180-2 test vector.
        let h = hash("abc");
        assert_eq!(h[..4], [0xba, 0x78, 0x16, 0xbf]);
        assert_eq!(h[28..], [0xf2, 0x00, 0x15, 0xad]);
    }

    #[test]
    fn looks_like_key_rejects_other_tokens() {
        assert!(!looks_like_key(""));
        assert!(!looks_like_key("ixr-"));
        assert!(!looks_like_key("eyJhbGciOiJIUzI1NiJ9.e30.sig"));
        assert!(!looks_like_key(&format!("ixr-{}", "a".repeat(42))));
        assert!(!looks_like_key(&format!("ixr-{}", "a".repeat(44))));
        assert!(!looks_like_key(&format!("ixr-{}", "+".repeat(43))));
        assert!(!looks_like_key(&format!("sk-{}", "a".repeat(44))));
    }

    #[test]
    fn debug_hides_the_key() {
        let k = generate();
        let shown = format!("{k:?}");
        assert!(!shown.contains(&k.key));
        assert!(shown.contains(&k.prefix));
    }
}
