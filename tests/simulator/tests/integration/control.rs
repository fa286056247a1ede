//! Auth, the request log, and the `/__sim` control routes.

use indoxrouter_simulator::{SimConfig, Simulator};
use serde_json::{Value, json};

use crate::common::{client, post, sim};

#[tokio::test]
async fn configured_key_is_enforced_and_masked() {
    let sim = Simulator::start_with(SimConfig {
        api_key: Some("sk-right-key-0001".into()),
        port: 0,
    })
    .await
    .unwrap();
    let url = format!("{}/chat/completions", sim.openai_base());
    let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]});

    let wrong = client()
        .post(&url)
        .bearer_auth("sk-wrong-key-123456789")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let error: Value = wrong.json().await.unwrap();
    assert_eq!(error["error"]["code"], "invalid_api_key");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Incorrect API key provided: sk-wrong"));
    assert!(!message.contains("sk-wrong-key-123456789"));

    let missing = client().post(&url).json(&body).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let error: Value = missing.json().await.unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("You didn't provide an API key")
    );

    let right = client()
        .post(&url)
        .bearer_auth("sk-right-key-0001")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);

    let mistral = client()
        .post(format!("{}/v1/chat/completions", sim.mistral_base()))
        .bearer_auth("nope")
        .json(&json!({"model": "mistral-small-latest", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(mistral.status(), 401);
}

#[tokio::test]
async fn missing_authorization_is_401_even_without_a_configured_key() {
    let sim = sim().await;
    let response = client()
        .post(format!("{}/chat/completions", sim.openai_base()))
        .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn request_log_and_counter() {
    let sim = sim().await;
    let url = format!("{}/embeddings?trace=1", sim.openai_base());
    let (status, _, _) = post(
        &url,
        &json!({"model": "text-embedding-3-small", "input": "x"}),
    )
    .await;
    assert_eq!(status, 200);
    client()
        .get(format!("{}/__sim/count", sim.root_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(sim.request_count(), 1);
    let log = sim.requests();
    assert_eq!(log[0].method, "POST");
    assert_eq!(log[0].path, "/openai/v1/embeddings?trace=1");
    assert_eq!(log[0].provider, "openai");
    assert_eq!(log[0].body["input"], "x");
    let auth = &log[0].headers["authorization"];
    assert!(auth.starts_with("Bearer sk-test-") && auth.contains('*'));
    assert!(!auth.contains("0123456789"));

    let count: Value = client()
        .get(format!("{}/__sim/count", sim.root_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(count, json!({"count": 1}));
    let requests: Value = client()
        .get(format!("{}/__sim/requests", sim.root_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(requests[0]["provider"], "openai");

    sim.reset();
    assert_eq!(sim.request_count(), 0);
}

#[tokio::test]
async fn control_routes_queue_faults_and_reset() {
    let sim = sim().await;
    let faults = format!("{}/__sim/faults", sim.root_url());
    let response = client()
        .post(&faults)
        .json(
            &json!({"provider": "openai", "fault": {"type": "status", "status": 500}, "times": 2}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = client()
        .post(&faults)
        .json(&json!({"provider": "mistral", "fault": "status=429;retry_after=1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(sim.pending_faults(), 3);
    let bad = client()
        .post(&faults)
        .json(&json!({"fault": {"type": "explode"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    let (status, _, _) = post(
        &format!("{}/chat/completions", sim.openai_base()),
        &json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert_eq!(status, 500);

    let reset = client()
        .post(format!("{}/__sim/reset", sim.root_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert_eq!(sim.pending_faults(), 0);
    assert_eq!(sim.request_count(), 0);
}

#[tokio::test]
async fn urls_and_unknown_paths() {
    let sim = sim().await;
    let root = sim.root_url();
    assert_eq!(root, format!("http://127.0.0.1:{}", sim.addr().port()));
    assert_eq!(sim.openai_base(), format!("{root}/openai/v1"));
    assert_eq!(sim.mistral_base(), format!("{root}/mistral"));
    let response = client()
        .get(format!("{root}/elsewhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = client()
        .get(format!("{root}/mistral/v1/nothing"))
        .bearer_auth("k")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"detail": "Not Found"})
    );
    assert_eq!(sim.request_count(), 1);
}
