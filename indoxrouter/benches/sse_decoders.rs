//! The hand-written SSE decoder (`transport/sse.rs`) beside
//! `eventsource-stream`, the crate the design card names, on the same
//! corpus in one run: 64 OpenAI content-delta events, delivered as one
//! buffer, as TCP-sized 1,460-byte segments, and one event per read.
//!
//!     cargo bench -p indoxrouter --bench sse_decoders
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use eventsource_stream::Eventsource as _;
use futures_util::StreamExt as _;
use indoxrouter::transport::sse::SseDecoder;

const CHUNK: &[u8] = b"data: {\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_06737a9306\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" provider\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n";

const EVENTS: usize = 64;

fn segments(input: &[u8], size: usize) -> Vec<Bytes> {
    input.chunks(size).map(Bytes::copy_from_slice).collect()
}

/// Events decoded by the hand-written decoder; sums data lengths so the
/// work cannot be optimised away.
fn ours(segments: &[Bytes]) -> usize {
    let mut dec = SseDecoder::new();
    let mut total = 0;
    for s in segments {
        dec.push_bytes(s.clone());
        while let Some(ev) = dec.next_event() {
            total += ev.data.len();
        }
    }
    total
}

/// The same with `eventsource-stream` over a ready stream of segments
/// (polled to completion without a runtime: every segment is ready).
fn theirs(segments: &[Bytes]) -> usize {
    let input = futures_util::stream::iter(
        segments
            .iter()
            .cloned()
            .map(Ok::<Bytes, std::convert::Infallible>),
    );
    let mut events = input.eventsource();
    let waker = futures_util::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    let mut total = 0;
    while let std::task::Poll::Ready(Some(ev)) = events.poll_next_unpin(&mut cx) {
        total += ev.map(|e| e.data.len()).unwrap_or(0);
    }
    total
}

fn sse_decoders(c: &mut Criterion) {
    let input = CHUNK.repeat(EVENTS);
    let mut g = c.benchmark_group("sse");
    g.throughput(Throughput::Elements(EVENTS as u64));
    for (name, size) in [
        ("one_buffer", input.len()),
        ("tcp_1460", 1460),
        ("per_event", CHUNK.len()),
    ] {
        let segs = segments(&input, size);
        assert_eq!(
            ours(&segs),
            theirs(&segs),
            "both decoders see the same data"
        );
        g.bench_with_input(BenchmarkId::new("hand_written", name), &segs, |b, segs| {
            b.iter(|| ours(black_box(segs)))
        });
        g.bench_with_input(
            BenchmarkId::new("eventsource_stream", name),
            &segs,
            |b, segs| b.iter(|| theirs(black_box(segs))),
        );
    }
    g.finish();
}

criterion_group!(benches, sse_decoders);
criterion_main!(benches);
