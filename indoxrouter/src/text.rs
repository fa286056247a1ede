//! Small string helpers shared by error reporting and the catalog.

/// The longest prefix of `s` that is at most `max` bytes and ends on a char boundary.
pub(crate) fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    #[test]
    fn clip_respects_char_boundaries() {
        let s = "é".repeat(200);
        let c = super::clip(&s, 101);
        assert_eq!(c.len(), 100);
        assert!(s.starts_with(c));
        assert_eq!(super::clip("short", 10), "short");
    }
}
