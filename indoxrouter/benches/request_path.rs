//! The client's own work per request, without the network: build the
//! provider request, parse the response, price it; and per stream chunk,
//! decode SSE and parse the chunk.
//!
//!     cargo bench -p indoxrouter --bench request_path
#![allow(missing_docs, clippy::expect_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use indoxrouter::Catalog;
use indoxrouter::provider::{AdapterKind, ApiKey, ProviderConfig, StreamStep, adapter};
use indoxrouter::transport::sse::SseDecoder;
use indoxrouter::types::{ChatRequest, Message};

/// A typical non-streaming response (shape of OpenAI's API reference example).
const RESPONSE: &[u8] = br#"{
  "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
  "object": "chat.completion",
  "created": 1741570283,
  "model": "gpt-4o-mini-2024-07-18",
  "choices": [{
    "index": 0,
    "message": {"role": "assistant", "content": "Hello! IndoxRouter routes your request to the right provider and tells you exactly what it cost.", "refusal": null, "annotations": []},
    "logprobs": null,
    "finish_reason": "stop"
  }],
  "usage": {
    "prompt_tokens": 23, "completion_tokens": 18, "total_tokens": 41,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}
  },
  "service_tier": "default",
  "system_fingerprint": "fp_06737a9306"
}"#;

const CHUNK: &[u8] = b"data: {\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" provider\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n";

fn cfg() -> ProviderConfig {
    ProviderConfig {
        id: "openai".into(),
        kind: AdapterKind::OpenAi,
        base_url: "https://api.openai.com/v1".into(),
        api_key: Some(ApiKey::new("sk-bench-0123456789")),
    }
}

fn request_path(c: &mut Criterion) {
    let cfg = cfg();
    let openai = adapter(AdapterKind::OpenAi);
    let catalog = Catalog::builtin();
    let req = ChatRequest::new(
        "openai/gpt-4o-mini",
        vec![
            Message::system("You are a concise assistant."),
            Message::user("Say hello to IndoxRouter in one sentence."),
        ],
    );
    let model = catalog
        .get("openai", "gpt-4o-mini")
        .expect("catalog has gpt-4o-mini");

    let mut g = c.benchmark_group("chat");
    g.bench_function("build_request", |b| {
        b.iter(|| openai.chat_request(&cfg, "gpt-4o-mini", black_box(&req), false))
    });
    g.bench_function("parse_response+cost", |b| {
        b.iter(|| {
            let resp = openai
                .parse_chat(&cfg, black_box(RESPONSE))
                .expect("parses");
            model.pricing.token_cost(&resp.usage)
        })
    });
    g.bench_function("build+parse+cost", |b| {
        b.iter(|| {
            let http = openai.chat_request(&cfg, "gpt-4o-mini", black_box(&req), false);
            let resp = openai
                .parse_chat(&cfg, black_box(RESPONSE))
                .expect("parses");
            (http, model.pricing.token_cost(&resp.usage))
        })
    });
    g.bench_function("catalog_lookup", |b| {
        b.iter(|| catalog.get(black_box("openai"), black_box("gpt-4o-mini")))
    });
    g.finish();

    let mut g = c.benchmark_group("stream");
    let data = &CHUNK[6..CHUNK.len() - 2];
    g.bench_function("parse_chunk_json_only", |b| {
        b.iter(|| serde_json::from_slice::<indoxrouter::types::ChatChunk>(black_box(data)))
    });
    g.bench_function("parse_chunk_as_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(data)))
    });
    for n in [1usize, 64] {
        let input = CHUNK.repeat(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(
            BenchmarkId::new("sse_decode+parse_chunk", n),
            &input,
            |b, input| {
                b.iter(|| {
                    let mut parser = openai.stream_parser(&cfg);
                    let mut dec = SseDecoder::new();
                    dec.push(black_box(input));
                    let mut count = 0;
                    while let Some(ev) = dec.next_event() {
                        if let Ok(StreamStep::Chunk(c)) = parser.event(&ev) {
                            count += c.choices.len();
                        }
                    }
                    count
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, request_path);
criterion_main!(benches);
