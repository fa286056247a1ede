//! Mistral accepts only tool-call ids matching `[a-zA-Z0-9]{9}` and answers
//! 400 otherwise, so ids minted by other providers (`call_…`, `toolu_…`) are
//! rewritten. The mapping is a hash, so a call and the tool result that
//! answers it always get the same new id, with no state to carry.

const ALPHABET: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Whether Mistral accepts `id` as a tool-call id.
pub fn is_mistral_tool_call_id(id: &str) -> bool {
    id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Maps any id to a 9-character alphanumeric id; valid ids are kept.
pub fn mistral_tool_call_id(id: &str) -> String {
    if is_mistral_tool_call_id(id) {
        return id.to_owned();
    }
    // FNV-1a: stable across runs and platforms, unlike std's RandomState.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut out = String::with_capacity(9);
    for _ in 0..9 {
        out.push(char::from(ALPHABET[(h % 62) as usize]));
        h /= 62;
        if h == 0 {
            h = 0x9e37_79b9_7f4a_7c15;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_foreign_ids_stably() {
        let a = mistral_tool_call_id("call_abc123XYZ");
        assert_eq!(a.len(), 9);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(a, mistral_tool_call_id("call_abc123XYZ"));
        assert_ne!(a, mistral_tool_call_id("call_abc123XYW"));
    }

    #[test]
    fn keeps_valid_ids() {
        assert_eq!(mistral_tool_call_id("Ab3dE6gH9"), "Ab3dE6gH9");
    }
}
