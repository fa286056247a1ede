//! Every fault kind, queued and per-request.

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use indoxrouter_simulator::{Fault, Simulator};
use serde_json::{Value, json};

use crate::common::{client, events, post, post_with, read_until_end, sim};

fn chat(model: &str, stream: bool) -> Value {
    json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "hi"}]})
}

fn openai_chat_url(sim: &Simulator) -> String {
    format!("{}/chat/completions", sim.openai_base())
}

fn stream_request(sim: &Simulator) -> reqwest::RequestBuilder {
    client()
        .post(openai_chat_url(sim))
        .bearer_auth("sk-test")
        .json(&chat("gpt-4o", true))
}

#[tokio::test]
async fn status_faults_use_real_bodies_and_retry_after() {
    let sim = sim().await;
    sim.push_fault("openai", Fault::rate_limited(2));
    let (status, headers, text) = post(&openai_chat_url(&sim), &chat("gpt-4o", false)).await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "2");
    assert_eq!(headers["x-ratelimit-remaining-requests"], "0");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["error"]["type"], "requests");
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("gpt-4o")
    );

    // Consumed: the next request succeeds.
    let (status, _, _) = post(&openai_chat_url(&sim), &chat("gpt-4o", false)).await;
    assert_eq!(status, 200);

    sim.push_fault("openai", Fault::openai_insufficient_quota());
    let (status, _, text) = post(&openai_chat_url(&sim), &chat("gpt-4o", false)).await;
    assert_eq!(status, 429);
    assert!(text.contains("insufficient_quota"));

    sim.push_fault("openai", Fault::status(500));
    let (status, _, text) = post(&openai_chat_url(&sim), &chat("gpt-4o", false)).await;
    assert_eq!(status, 500);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["error"]["type"],
        "server_error"
    );

    sim.push_fault(
        "openai",
        Fault::Status {
            status: 503,
            retry_after: None,
            body: Some("{\"custom\":true}".into()),
        },
    );
    let (status, _, text) = post(&openai_chat_url(&sim), &chat("gpt-4o", false)).await;
    assert_eq!((status, text.as_str()), (503, "{\"custom\":true}"));

    sim.push_fault("mistral", Fault::status(429));
    let (status, _, text) = post(
        &format!("{}/v1/chat/completions", sim.mistral_base()),
        &chat("mistral-small-latest", false),
    )
    .await;
    assert_eq!(status, 429);
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap()["type"],
        "rate_limited"
    );
}

#[tokio::test]
async fn faults_are_fifo_and_targeted() {
    let sim = sim().await;
    sim.push_fault("mistral", Fault::status(500));
    sim.push_fault("*", Fault::status(502));
    sim.push_fault("openai", Fault::status(503));
    assert_eq!(sim.pending_faults(), 3);
    let url = openai_chat_url(&sim);
    let (first, _, _) = post(&url, &chat("gpt-4o", false)).await;
    let (second, _, _) = post(&url, &chat("gpt-4o", false)).await;
    let (third, _, _) = post(&url, &chat("gpt-4o", false)).await;
    assert_eq!((first, second, third), (502, 503, 200));
    assert_eq!(sim.pending_faults(), 1);
    sim.reset();
    assert_eq!(sim.pending_faults(), 0);
}

#[tokio::test]
async fn header_faults_apply_to_one_request_and_leave_the_queue() {
    let sim = sim().await;
    sim.push_fault("openai", Fault::status(500));
    let url = openai_chat_url(&sim);
    let (status, headers, _) = post_with(
        &url,
        &chat("gpt-4o", false),
        &[("x-simulator-fault", "status=429;retry_after=7")],
    )
    .await;
    assert_eq!(
        (status, headers["retry-after"].to_str().unwrap()),
        (429, "7")
    );
    assert_eq!(sim.pending_faults(), 1);

    let (status, _, text) = post_with(
        &url,
        &chat("gpt-4o", false),
        &[("x-simulator-fault", "bogus")],
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("x-simulator-fault"));
}

#[tokio::test]
async fn malformed_json_non_streaming_and_streaming() {
    let sim = sim().await;
    sim.push_fault("openai", Fault::MalformedJson);
    let (status, _, text) = post(&openai_chat_url(&sim), &chat("gpt-4o", false)).await;
    assert_eq!(status, 200);
    assert!(text.starts_with('{'));
    assert!(serde_json::from_str::<Value>(&text).is_err());

    let (status, _, text) = post_with(
        &openai_chat_url(&sim),
        &chat("gpt-4o", true),
        &[("x-simulator-fault", "malformed")],
    )
    .await;
    assert_eq!(status, 200);
    let events = events(&text);
    assert!(serde_json::from_str::<Value>(&events[0]).is_ok());
    assert!(serde_json::from_str::<Value>(&events[1]).is_err());
    assert_eq!(events.last().unwrap(), "[DONE]");
}

#[tokio::test]
async fn slow_first_byte_delays_headers() {
    let sim = sim().await;
    sim.push_fault("openai", Fault::SlowFirstByte(Duration::from_millis(300)));
    let started = Instant::now();
    let (status, _, _) = post(&openai_chat_url(&sim), &chat("gpt-4o", false)).await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));

    let started = Instant::now();
    let (status, _, _) = post_with(
        &openai_chat_url(&sim),
        &chat("gpt-4o", false),
        &[("x-simulator-fault", "slow=200ms")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn stall_sends_some_events_then_nothing() {
    let sim = sim().await;
    sim.push_fault("openai", Fault::Stall { after_chunks: 2 });
    let response = stream_request(&sim).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream();
    let mut received = String::new();
    while events(&received).len() < 2 {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        received.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert_eq!(events(&received).len(), 2);
    let next = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    assert!(next.is_err(), "the stream should stay silent");

    // Dropping the client's stream must not wedge the server.
    drop(stream);
    let (status, _, _) = post(&openai_chat_url(&sim), &chat("gpt-4o", false)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn events_arrive_as_separate_writes() {
    let sim = sim().await;
    let response = stream_request(&sim).send().await.unwrap();
    let mut stream = response.bytes_stream();
    let mut reads = 0;
    while let Some(chunk) = stream.next().await {
        chunk.unwrap();
        reads += 1;
    }
    // 8 chunks + [DONE]; coalescing would show up as far fewer reads.
    assert!(reads >= 5, "only {reads} reads");
}

#[tokio::test]
async fn cut_stream_drops_the_connection_without_done() {
    let sim = sim().await;
    sim.push_fault("openai", Fault::CutStream { after_chunks: 3 });
    let response = stream_request(&sim).send().await.unwrap();
    let (received, failed) = read_until_end(response).await;
    assert!(failed, "the body should end in an error");
    let events = events(&received);
    assert_eq!(events.len(), 3);
    assert!(!received.contains("[DONE]"));

    // Non-streaming: half a body, then the cut.
    let response = client()
        .post(openai_chat_url(&sim))
        .bearer_auth("k")
        .header("x-simulator-fault", "cut=0")
        .json(&chat("gpt-4o", false))
        .send()
        .await
        .unwrap();
    assert!(response.text().await.is_err());
}

#[tokio::test]
async fn stalled_non_streaming_body_times_out_on_the_client() {
    let sim = sim().await;
    let response = client()
        .post(openai_chat_url(&sim))
        .bearer_auth("k")
        .header("x-simulator-fault", "stall=0")
        .json(&chat("gpt-4o", false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = tokio::time::timeout(Duration::from_millis(300), response.text()).await;
    assert!(body.is_err());
}

#[tokio::test]
async fn dropping_the_simulator_closes_stalled_connections() {
    let sim = sim().await;
    sim.push_fault("openai", Fault::Stall { after_chunks: 1 });
    let response = stream_request(&sim).send().await.unwrap();
    drop(sim);
    let (_, failed) = tokio::time::timeout(Duration::from_secs(5), read_until_end(response))
        .await
        .expect("the stream should end once the simulator is gone");
    assert!(failed);
}

#[tokio::test]
async fn odd_status_codes_do_not_break_the_server() {
    let sim = sim().await;
    for status in [100, 204, 1000, 0] {
        sim.push_fault("openai", Fault::status(status));
        let response = client()
            .post(openai_chat_url(&sim))
            .bearer_auth("k")
            .json(&chat("gpt-4o", false))
            .send()
            .await
            .unwrap();
        let expected = if status == 204 { 204 } else { 500 };
        assert_eq!(response.status().as_u16(), expected, "status {status}");
    }
    let (status, _, _) = post(&openai_chat_url(&sim), &chat("gpt-4o", false)).await;
    assert_eq!(status, 200);
}
