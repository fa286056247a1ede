//! The simulator's tokenizer.
//!
//! Real tokenizers are model-specific and opaque; tests need numbers they can
//! work out on paper. So a "token" here is a whitespace-separated word, and
//! every other cost is a small fixed constant. The rules are spelled out in the
//! crate documentation.

/// Tokens charged per message on top of its content.
pub const MESSAGE_OVERHEAD: u64 = 4;

/// Tokens charged once per chat request for priming the assistant's reply.
pub const REPLY_PRIMING: u64 = 3;

/// Tokens charged for each image part of a message.
pub const IMAGE_TOKENS: u64 = 85;

/// Tokens charged for each file, audio, video or document part (and a
/// Gemini `fileData` reference): about what real providers count for ten
/// minutes of video, so a gateway that holds such a part at the size of its
/// JSON sees the difference.
pub const MEDIA_TOKENS: u64 = 100_000;

/// Tokens charged per tool definition, before its description and properties.
pub const TOOL_OVERHEAD: u64 = 8;

/// Counts the tokens in `text`: one per whitespace-separated word, and one for
/// text that is non-empty but holds only whitespace.
///
/// ```
/// use indoxrouter_simulator::tokens::count_tokens;
/// assert_eq!(count_tokens("Say hello to the world"), 5);
/// assert_eq!(count_tokens(" "), 1);
/// assert_eq!(count_tokens(""), 0);
/// ```
pub fn count_tokens(text: &str) -> u64 {
    let words = text.split_whitespace().count() as u64;
    if words == 0 && !text.is_empty() {
        1
    } else {
        words
    }
}

/// Keeps the first `max` words of `text`, joined by single spaces.
pub(crate) fn first_words(text: &str, max: u64) -> String {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    text.split_whitespace()
        .take(max)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn counts_words() {
        assert_eq!(count_tokens("a  b\tc\nd"), 4);
        assert_eq!(count_tokens("\n\n"), 1);
        assert_eq!(count_tokens("{\"a\":\"b\"}"), 1);
    }

    #[test]
    fn truncates_to_words() {
        assert_eq!(first_words("one two  three", 2), "one two");
        assert_eq!(first_words("one", 5), "one");
        assert_eq!(first_words("one two", 0), "");
    }
}
