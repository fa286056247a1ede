//! Deterministic identifiers, hashes and timestamps.
//!
//! Ids are derived from a hash of their inputs rather than randomness, so a
//! test that replays the same requests sees the same ids.

use std::time::{SystemTime, UNIX_EPOCH};

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";

/// 64-bit FNV-1a: tiny, stable across platforms and Rust versions (unlike
/// `std`'s `DefaultHasher`, whose output is explicitly unspecified).
pub(crate) fn fnv1a(data: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in data {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Hashes several parts; the separator keeps `["ab", "c"]` and `["a", "bc"]` apart.
pub(crate) fn seed(parts: &[&str]) -> u64 {
    let mut joined = Vec::new();
    for part in parts {
        joined.extend_from_slice(part.as_bytes());
        joined.push(0x1f);
    }
    fnv1a(&joined)
}

/// SplitMix64, a well-distributed generator that needs only a `u64` of state.
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn from_alphabet(seed: u64, len: usize, alphabet: &[u8]) -> String {
    let mut rng = SplitMix64::new(seed);
    let size = alphabet.len() as u64;
    (0..len)
        .map(|_| {
            let pick = usize::try_from(rng.next_u64() % size).unwrap_or(0);
            alphabet.get(pick).map_or('0', |b| char::from(*b))
        })
        .collect()
}

/// `len` characters from `[A-Za-z0-9]`.
pub(crate) fn alnum(seed: u64, len: usize) -> String {
    from_alphabet(seed, len, ALNUM)
}

/// `len` lowercase hex digits.
pub(crate) fn hex(seed: u64, len: usize) -> String {
    from_alphabet(seed, len, HEX)
}

/// Seconds since the Unix epoch, for `created` fields.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_well_formed() {
        assert_eq!(alnum(7, 9), alnum(7, 9));
        assert_ne!(alnum(7, 9), alnum(8, 9));
        let id = alnum(42, 9);
        assert_eq!(id.len(), 9);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(hex(1, 32).chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(seed(&["ab", "c"]), seed(&["a", "bc"]));
    }
}
