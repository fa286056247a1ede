//! Soak driver (run by `scripts/soak.sh`, which starts the server and the
//! simulator): a steady mixed load for a fixed time — plain chats, streams
//! read to the end, streams the client abandons after the first event, and
//! every 20th request (a stream) preceded by a simulator fault (an
//! upstream 500, retried; a stream cut mid-way; an in-stream error). Every 10 s it samples the
//! server's resident memory and open descriptors from /proc. At the end it
//! checks that every answer was a clean one and prints the samples.
//!
//! Usage: `soak <server url> <api key> <simulator url> <server pid> <seconds> <requests/s>`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use serde_json::json;
use tokio::sync::Mutex;

fn proc_sample(pid: u32) -> (u64, usize) {
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count);
    (rss, fds)
}

#[derive(Clone, Copy)]
enum Kind {
    Plain,
    Stream,
    Abandon,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, key, sim, pid, seconds, rate] = args.as_slice() else {
        eprintln!(
            "usage: soak <server url> <api key> <simulator url> <server pid> <seconds> <rps>"
        );
        std::process::exit(2);
    };
    let pid: u32 = pid.parse().unwrap();
    let seconds: u64 = seconds.parse().unwrap();
    let rate: u64 = rate.parse().unwrap();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .unwrap();
    let outcomes: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut samples = vec![(0u64, proc_sample(pid))];
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate.max(1)));
    let mut next_sample = Duration::from_secs(10);
    let mut tasks = tokio::task::JoinSet::new();
    let faults = ["status=500", "cut=3", "error=3"];
    while started.elapsed() < Duration::from_secs(seconds) {
        tick.tick().await;
        let n = sent.fetch_add(1, Ordering::Relaxed);
        // Faults go before a streamed request (n % 10 == 7): the next
        // request to the provider takes them, and a stream cannot be
        // retried once it has started.
        if n % 20 == 7 {
            let fault = faults[(n / 20) as usize % faults.len()];
            let _ = http
                .post(format!("{sim}/__sim/faults"))
                .json(&json!({"provider": "openai", "fault": fault, "times": 1}))
                .send()
                .await;
        }
        let kind = match n % 10 {
            0..=5 => Kind::Plain,
            6..=8 => Kind::Stream,
            _ => Kind::Abandon,
        };
        let (http, url, key, outcomes) = (http.clone(), url.clone(), key.clone(), outcomes.clone());
        tasks.spawn(async move {
            let stream = !matches!(kind, Kind::Plain);
            let body = json!({"model": "openai/gpt-4o-mini", "stream": stream, "max_tokens": 30,
                "messages": [{"role": "user", "content": format!("soak request {n}")}]});
            let outcome = match http
                .post(format!("{url}/v1/chat/completions"))
                .bearer_auth(&key)
                .json(&body)
                .send()
                .await
            {
                Err(e) => format!("transport error: {e}"),
                Ok(r) => {
                    let status = r.status().as_u16();
                    match kind {
                        Kind::Abandon => {
                            let mut body = r.bytes_stream();
                            let _ = body.next().await;
                            format!("{status} abandoned")
                        }
                        _ => match r.text().await {
                            Ok(text) if stream && status == 200 => {
                                let end = text.trim_end().rsplit("data: ").next().unwrap_or("");
                                if end == "[DONE]" {
                                    "200 stream done".into()
                                } else if end.contains("\"error\"") {
                                    "200 stream error event".into()
                                } else {
                                    "200 stream unclean end".into()
                                }
                            }
                            Ok(_) => format!("{status}"),
                            Err(e) => format!("{status} body error: {e}"),
                        },
                    }
                }
            };
            *outcomes.lock().await.entry(outcome).or_default() += 1;
        });
        while tasks.try_join_next().is_some() {}
        if started.elapsed() >= next_sample {
            samples.push((next_sample.as_secs(), proc_sample(pid)));
            next_sample += Duration::from_secs(10);
        }
    }
    while tasks.join_next().await.is_some() {}
    samples.push((started.elapsed().as_secs(), proc_sample(pid)));

    println!("| t (s) | RSS (MiB) | open fds |\n|---|---|---|");
    for (t, (rss, fds)) in &samples {
        println!("| {t} | {:.1} | {fds} |", *rss as f64 / 1024.0);
    }
    let outcomes = outcomes.lock().await;
    println!("\n| outcome | requests |\n|---|---|");
    for (o, n) in outcomes.iter() {
        println!("| {o} | {n} |");
    }
    let clean = |o: &str| {
        ["200", "502"].iter().any(|s| o.starts_with(s))
            && !o.contains("unclean")
            && !o.contains("body error")
    };
    let unclean: u64 = outcomes
        .iter()
        .filter(|(o, _)| !clean(o))
        .map(|(_, n)| n)
        .sum();
    // After warm-up (the first minute), memory within ±10 % of its median.
    let warm: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| *t >= 60)
        .map(|(_, (rss, _))| *rss)
        .collect();
    let mut sorted = warm.clone();
    sorted.sort_unstable();
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0);
    let flat = warm
        .iter()
        .all(|r| r.abs_diff(median) * 10 <= median.max(1));
    let fds: Vec<usize> = samples.iter().skip(1).map(|(_, (_, f))| *f).collect();
    let fd_spread = fds.iter().max().unwrap_or(&0) - fds.iter().min().unwrap_or(&0);
    println!(
        "\nsent {} requests at {rate}/s for {seconds} s; unclean answers: {unclean}; \
         RSS after warm-up within ±10 % of {:.1} MiB: {flat}; fd spread {fd_spread}",
        sent.load(Ordering::Relaxed),
        median as f64 / 1024.0
    );
    if unclean > 0 || (!warm.is_empty() && !flat) {
        std::process::exit(1);
    }
}
