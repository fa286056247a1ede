//! Configuration from environment-style variables, as the official SDKs name them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use indoxrouter::{Client, ErrorKind};

use common::hi;

#[tokio::test]
async fn sdk_variable_names_configure_openai_and_mistral() {
    let sim = common::sim().await;
    let client = Client::builder()
        .env_vars([
            ("OPENAI_API_KEY", format!("{}\n", common::KEY)), // trailing newline from a file
            ("OPENAI_BASE_URL", sim.openai_base()),
            ("MISTRAL_API_KEY", common::KEY.to_owned()),
            // Mistral's SDK takes the host root; `/v1` is ours to add.
            ("MISTRAL_BASE_URL", sim.mistral_base()),
        ])
        .build()
        .unwrap();
    assert_eq!(
        client.providers(),
        ["lmstudio", "mistral", "ollama", "openai"]
    );
    assert!(client.chat(hi("openai/gpt-4o-mini")).await.is_ok());
    assert!(
        client
            .chat(hi("mistral/mistral-small-latest"))
            .await
            .is_ok()
    );
    assert_eq!(sim.requests()[1].path, "/mistral/v1/chat/completions");
}

#[tokio::test]
async fn explicit_settings_override_the_environment() {
    let sim = common::sim().await;
    let client = Client::builder()
        .env_vars([
            ("OPENAI_API_KEY", "sk-from-env-wrong"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),
        ])
        .api_key("openai", common::KEY)
        .base_url("openai", sim.openai_base())
        .build()
        .unwrap();
    assert!(client.chat(hi("openai/gpt-4o-mini")).await.is_ok());
}

#[tokio::test]
async fn compatible_providers_from_one_variable() {
    let sim = common::sim().await;
    let client = Client::builder()
        .env_vars([
            (
                "INDOXROUTER_PROVIDERS".to_owned(),
                format!("vllm={}, other=http://127.0.0.1:9/v1", sim.openai_base()),
            ),
            ("VLLM_API_KEY".to_owned(), common::KEY.to_owned()),
        ])
        .build()
        .unwrap();
    let resp = client.chat(hi("vllm/gpt-4o-mini")).await.unwrap();
    assert_eq!(resp.provider, "vllm");
    assert!(resp.cost.is_none(), "no catalog entry: unpriced");
    // The simulator demands the key, so success means VLLM_API_KEY was sent.
    assert!(sim.requests()[0].headers["authorization"].starts_with("Bearer sk-sim"));

    let err = Client::builder()
        .env_vars([("INDOXROUTER_PROVIDERS", "broken")])
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert!(err.to_string().contains("INDOXROUTER_PROVIDERS"));
}

#[tokio::test]
async fn keyed_presets_turn_on_with_their_key() {
    let client = Client::builder()
        .env_vars([("DEEPSEEK_API_KEY", "sk-deepseek-test")])
        .build()
        .unwrap();
    assert!(client.providers().contains(&"deepseek"));
    assert!(!client.providers().contains(&"groq"));
    let err = client
        .chat(hi("groq/llama-3.3-70b-versatile"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConfigured);
    assert!(err.to_string().contains("GROQ_API_KEY"));
    let err = client
        .chat(hi("anthropic/claude-sonnet-4-5"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConfigured);
    assert!(err.to_string().contains("ANTHROPIC_API_KEY"), "{err}");
    let err = client
        .chat(hi("cohere/command-a-03-2025"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotConfigured);
    assert!(err.to_string().contains("COHERE_API_KEY"), "{err}");
}

#[tokio::test]
async fn anthropic_from_its_sdk_variables() {
    let sim = common::sim().await;
    let client = Client::builder()
        .env_vars([
            ("ANTHROPIC_API_KEY", common::KEY.to_owned()),
            // Anthropic's SDK takes the host root; `/v1/messages` is ours to add.
            ("ANTHROPIC_BASE_URL", sim.anthropic_base()),
        ])
        .build()
        .unwrap();
    assert!(client.providers().contains(&"anthropic"));
    assert!(client.chat(hi("anthropic/claude-haiku-4-5")).await.is_ok());
    assert_eq!(sim.requests()[0].path, "/anthropic/v1/messages");
}

#[test]
fn no_secret_in_any_debug_output() {
    let secret = "sk-live-VERY-SECRET-0001";
    let builder = Client::builder()
        .env_vars([("OPENAI_API_KEY", secret)])
        .api_key("mistral", secret)
        .openai_compatible("local", "http://127.0.0.1:1/v1", Some(secret.to_owned()));
    let text = format!("{builder:?}");
    assert!(!text.contains("VERY-SECRET"), "{text}");
    let client = builder.build().unwrap();
    assert!(!format!("{client:?}").contains("VERY-SECRET"));

    let cfg = indoxrouter::provider::ProviderConfig {
        id: "openai".into(),
        kind: indoxrouter::provider::AdapterKind::OpenAi,
        base_url: "http://127.0.0.1:1/v1".into(),
        api_key: Some(indoxrouter::provider::ApiKey::new(secret)),
    };
    assert!(!format!("{cfg:?}").contains("VERY-SECRET"));
    let http = indoxrouter::provider::adapter(cfg.kind)
        .chat_request(&cfg, "gpt-4o-mini", &hi("openai/gpt-4o-mini"), false)
        .unwrap();
    let debug = format!("{http:?}");
    assert!(!debug.contains("VERY-SECRET"), "{debug}");
    assert!(debug.contains("Sensitive"));
    // …while the real header carries it.
    assert_eq!(
        http.headers[http::header::AUTHORIZATION].to_str().unwrap(),
        format!("Bearer {secret}")
    );
}

#[tokio::test]
async fn gemini_from_either_key_variable() {
    let sim = common::sim().await;
    for key_var in ["GEMINI_API_KEY", "GOOGLE_API_KEY"] {
        let client = Client::builder()
            .env_vars([
                (key_var, common::KEY.to_owned()),
                ("GEMINI_BASE_URL", sim.google_base()),
            ])
            .build()
            .unwrap();
        assert!(client.providers().contains(&"google"), "{key_var}");
        // `gemini/` is Google's other name.
        assert!(client.chat(hi("gemini/gemini-2.5-flash")).await.is_ok());
    }
    assert_eq!(
        sim.requests()[0].path,
        "/google/v1beta/models/gemini-2.5-flash:generateContent"
    );
}

#[tokio::test]
async fn cohere_from_either_key_variable() {
    let sim = common::sim().await;
    for key_var in ["COHERE_API_KEY", "CO_API_KEY"] {
        let client = Client::builder()
            .env_vars([
                (key_var, common::KEY.to_owned()),
                ("COHERE_BASE_URL", sim.cohere_base()),
            ])
            .build()
            .unwrap();
        assert!(client.providers().contains(&"cohere"), "{key_var}");
        assert!(client.chat(hi("cohere/command-a-03-2025")).await.is_ok());
    }
    assert_eq!(sim.requests()[0].path, "/cohere/v2/chat");
}
