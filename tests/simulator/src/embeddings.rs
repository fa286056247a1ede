//! Deterministic embedding vectors.
//!
//! A vector is the first `dims` outputs of SplitMix64 seeded with the FNV-1a
//! hash of the input text, mapped to [-1, 1) and scaled to unit length. Because
//! a shorter vector is a prefix of the same stream, renormalised, asking for
//! fewer `dimensions` behaves like OpenAI's truncation of text-embedding-3.

use base64::Engine as _;

use crate::ids::{SplitMix64, fnv1a};

/// A unit-length vector for `text` with `dims` components.
pub(crate) fn vector(text: &str, dims: usize) -> Vec<f32> {
    let mut rng = SplitMix64::new(fnv1a(text.as_bytes()));
    let raw: Vec<f64> = (0..dims)
        .map(|_| {
            // The top 53 bits make an exactly representable fraction in [0, 1).
            let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            unit * 2.0 - 1.0
        })
        .collect();
    let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt();
    let scale = if norm > 0.0 { 1.0 / norm } else { 1.0 };
    raw.iter().map(|x| (x * scale) as f32).collect()
}

/// The vector as base64 of its little-endian `f32`s, as OpenAI sends with
/// `encoding_format: "base64"`.
pub(crate) fn to_base64(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_unit_length_and_deterministic() {
        let v = vector("hello", 1536);
        assert_eq!(v.len(), 1536);
        let norm: f64 = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert_eq!(v, vector("hello", 1536));
        assert_ne!(v, vector("hellp", 1536));
    }

    #[test]
    fn shorter_vector_is_renormalised_prefix() {
        let long = vector("x", 64);
        let short = vector("x", 8);
        let ratio = f64::from(short[0]) / f64::from(long[0]);
        for (s, l) in short.iter().zip(&long) {
            assert!((f64::from(*s) / f64::from(*l) - ratio).abs() < 1e-3);
        }
    }

    #[test]
    fn base64_round_trips() {
        let v = vector("y", 4);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(to_base64(&v))
            .unwrap();
        let back: Vec<f32> = bytes
            .chunks(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        assert_eq!(back, v);
    }
}
