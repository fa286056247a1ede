//! "Did you mean …?" suggestions for model ids that are not in the catalog.
//! Only runs on the miss path, so it may allocate and scan every model.

use super::ModelInfo;

/// Queries longer than this are compared by their first `MAX_QUERY` bytes, so
/// a huge input cannot make the quadratic edit distance expensive.
const MAX_QUERY: usize = 128;

/// Up to `limit` full ids (`provider/model`) closest to `query`, best first.
///
/// A candidate's score is the smaller edit distance of the whole query to its
/// full id and of the query's model part (after the first `/`) to its bare id;
/// a bare id that starts with the model part (3+ characters) scores 1, so
/// `"claude-sonnet"` suggests the Claude Sonnet models. Candidates scoring
/// above a third of the query length (at least 2) are dropped: unrelated ids
/// are no help.
pub(super) fn suggestions<'a>(
    models: impl Iterator<Item = &'a ModelInfo>,
    query: &str,
    limit: usize,
) -> Vec<String> {
    let query = clip(query).to_ascii_lowercase();
    let model_part = query.split_once('/').map_or(query.as_str(), |(_, m)| m);
    let threshold = (model_part.len().max(query.len()) / 3).max(2);

    let mut scored: Vec<(usize, usize, String)> = models
        .filter_map(|m| {
            let id = m.id.to_ascii_lowercase();
            let full = format!("{}/{}", m.provider, m.id);
            let distance = levenshtein(query.as_bytes(), full.to_ascii_lowercase().as_bytes())
                .min(levenshtein(model_part.as_bytes(), id.as_bytes()));
            let prefix = model_part.len() >= 3 && id.starts_with(model_part);
            let score = if prefix { distance.min(1) } else { distance };
            (score <= threshold).then_some((score, distance, full))
        })
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.2 == b.2);
    scored
        .into_iter()
        .take(limit)
        .map(|(_, _, full)| full)
        .collect()
}

fn clip(s: &str) -> &str {
    crate::text::clip(s, MAX_QUERY)
}

/// Byte-wise Levenshtein distance (ids are ASCII in practice).
fn levenshtein(a: &[u8], b: &[u8]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur[j + 1] = substitute.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance() {
        assert_eq!(levenshtein(b"", b""), 0);
        assert_eq!(levenshtein(b"abc", b""), 3);
        assert_eq!(levenshtein(b"kitten", b"sitting"), 3);
        assert_eq!(levenshtein(b"gpt-4o-mni", b"gpt-4o-mini"), 1);
    }

    #[test]
    fn clip_respects_char_boundaries() {
        let s = "é".repeat(200);
        let c = clip(&s);
        assert!(c.len() <= MAX_QUERY);
        assert!(s.starts_with(c));
    }
}
