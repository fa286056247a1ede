//! Which providers exist, where they live, and how the environment configures them.

use crate::provider::AdapterKind;

/// A provider the client knows by name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KnownProvider {
    /// Id used in `provider/model`.
    pub id: &'static str,
    /// Wire format, or `None` when this build has no adapter for it yet.
    pub kind: Option<AdapterKind>,
    /// Variable holding the key (`None`: the provider needs no key).
    pub key_env: Option<&'static str>,
    /// A second accepted key variable.
    pub alt_key_env: Option<&'static str>,
    /// Variable overriding the base URL.
    pub base_env: &'static str,
    /// Default base URL, as the adapter wants it (OpenAI dialects include `/v1`).
    pub default_base: &'static str,
    /// Suffix the adapter needs after a host-root base URL from the environment.
    pub base_suffix: &'static str,
}

/// First-party providers and well-known OpenAI-compatible services.
///
/// Keyed presets turn on when their key variable is set; keyless local
/// servers (Ollama, LM Studio) are always addressable at their usual port.
pub(crate) const KNOWN: &[KnownProvider] = &[
    KnownProvider {
        id: "openai",
        kind: Some(AdapterKind::OpenAi),
        key_env: Some("OPENAI_API_KEY"),
        alt_key_env: None,
        base_env: "OPENAI_BASE_URL",
        default_base: "https://api.openai.com/v1",
        base_suffix: "",
    },
    KnownProvider {
        id: "mistral",
        kind: Some(AdapterKind::Mistral),
        key_env: Some("MISTRAL_API_KEY"),
        alt_key_env: None,
        base_env: "MISTRAL_BASE_URL",
        default_base: "https://api.mistral.ai/v1",
        base_suffix: "/v1",
    },
    KnownProvider {
        id: "anthropic",
        kind: Some(AdapterKind::Anthropic),
        key_env: Some("ANTHROPIC_API_KEY"),
        alt_key_env: None,
        base_env: "ANTHROPIC_BASE_URL",
        default_base: "https://api.anthropic.com",
        base_suffix: "",
    },
    KnownProvider {
        id: "google",
        kind: Some(AdapterKind::Google),
        key_env: Some("GEMINI_API_KEY"),
        alt_key_env: Some("GOOGLE_API_KEY"),
        base_env: "GEMINI_BASE_URL",
        default_base: "https://generativelanguage.googleapis.com",
        base_suffix: "",
    },
    KnownProvider {
        id: "cohere",
        kind: Some(AdapterKind::Cohere),
        key_env: Some("COHERE_API_KEY"),
        alt_key_env: Some("CO_API_KEY"),
        base_env: "COHERE_BASE_URL",
        default_base: "https://api.cohere.com",
        base_suffix: "",
    },
    KnownProvider {
        id: "deepseek",
        kind: Some(AdapterKind::OpenAiCompatible),
        key_env: Some("DEEPSEEK_API_KEY"),
        alt_key_env: None,
        base_env: "DEEPSEEK_BASE_URL",
        default_base: "https://api.deepseek.com/v1",
        base_suffix: "",
    },
    KnownProvider {
        id: "groq",
        kind: Some(AdapterKind::OpenAiCompatible),
        key_env: Some("GROQ_API_KEY"),
        alt_key_env: None,
        base_env: "GROQ_BASE_URL",
        default_base: "https://api.groq.com/openai/v1",
        base_suffix: "",
    },
    KnownProvider {
        id: "together",
        kind: Some(AdapterKind::OpenAiCompatible),
        key_env: Some("TOGETHER_API_KEY"),
        alt_key_env: None,
        base_env: "TOGETHER_BASE_URL",
        default_base: "https://api.together.xyz/v1",
        base_suffix: "",
    },
    KnownProvider {
        id: "fireworks",
        kind: Some(AdapterKind::OpenAiCompatible),
        key_env: Some("FIREWORKS_API_KEY"),
        alt_key_env: None,
        base_env: "FIREWORKS_BASE_URL",
        default_base: "https://api.fireworks.ai/inference/v1",
        base_suffix: "",
    },
    KnownProvider {
        id: "openrouter",
        kind: Some(AdapterKind::OpenAiCompatible),
        key_env: Some("OPENROUTER_API_KEY"),
        alt_key_env: None,
        base_env: "OPENROUTER_BASE_URL",
        default_base: "https://openrouter.ai/api/v1",
        base_suffix: "",
    },
    KnownProvider {
        id: "ollama",
        kind: Some(AdapterKind::OpenAiCompatible),
        key_env: None,
        alt_key_env: None,
        base_env: "OLLAMA_BASE_URL",
        default_base: "http://127.0.0.1:11434/v1",
        base_suffix: "",
    },
    KnownProvider {
        id: "lmstudio",
        kind: Some(AdapterKind::OpenAiCompatible),
        key_env: None,
        alt_key_env: None,
        base_env: "LMSTUDIO_BASE_URL",
        default_base: "http://127.0.0.1:1234/v1",
        base_suffix: "",
    },
];

/// Looks up a known provider; `gemini` is Google's other name.
pub(crate) fn known(id: &str) -> Option<&'static KnownProvider> {
    let id = crate::catalog::canonical_provider(id);
    KNOWN.iter().find(|k| k.id == id)
}

/// Appends `suffix` to a host-root base unless it is already there.
pub(crate) fn with_suffix(base: &str, suffix: &str) -> String {
    let base = base.trim_end_matches('/');
    if suffix.is_empty() || base.ends_with(suffix) {
        base.to_owned()
    } else {
        format!("{base}{suffix}")
    }
}

/// Parses `INDOXROUTER_PROVIDERS`: `name=https://host/v1,other=http://…`.
pub(crate) fn parse_compatible_list(value: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, url) = item
            .split_once('=')
            .ok_or_else(|| format!("`{item}` is not `name=base_url`"))?;
        let name = name.trim();
        let url = url.trim();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "provider name `{name}` must be letters, digits, - or _"
            ));
        }
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "base URL for `{name}` must start with http:// or https://"
            ));
        }
        out.push((name.to_ascii_lowercase(), url.to_owned()));
    }
    Ok(out)
}

/// `{NAME}_API_KEY` for a custom provider name.
pub(crate) fn key_env_for(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c == '-' {
                '_'
            } else {
                c.to_ascii_uppercase()
            }
        })
        .collect();
    s.push_str("_API_KEY");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatible_list() {
        assert_eq!(
            parse_compatible_list("vllm=http://127.0.0.1:8000/v1, my-llm=https://x/v1").unwrap(),
            vec![
                ("vllm".to_owned(), "http://127.0.0.1:8000/v1".to_owned()),
                ("my-llm".to_owned(), "https://x/v1".to_owned())
            ]
        );
        assert!(parse_compatible_list("novalue").is_err());
        assert!(parse_compatible_list("a=ftp://x").is_err());
        assert_eq!(key_env_for("my-llm"), "MY_LLM_API_KEY");
    }

    #[test]
    fn suffix() {
        assert_eq!(
            with_suffix("http://h/mistral/", "/v1"),
            "http://h/mistral/v1"
        );
        assert_eq!(with_suffix("http://h/v1", "/v1"), "http://h/v1");
        assert_eq!(known("gemini").map(|k| k.id), Some("google"));
    }
}
