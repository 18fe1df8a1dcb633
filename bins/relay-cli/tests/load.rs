//! Load through the real binary: 1,000 streams held open through the relay
//! at the same moment all complete, each with its own events; and (ignored
//! by default, `bench/soak.sh` runs it) a soak that checks the relay's
//! memory stays flat under minutes of mixed traffic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod gated_upstream;

use std::time::{Duration, Instant};

use common::*;
use gated_upstream::{GatedUpstream, text_of};
use relay_test_support::{RelayProcess, TestClient, parse_sse};
use tokio::task::JoinSet;

const STREAMS: usize = 1000;

/// Each stream holds a socket to the relay and the mock's end of the
/// relay's upstream socket in this process: raise the soft open-files limit
/// (the relay raises its own at startup).
fn raise_open_files_limit(needed: u64) {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_none_or(|soft| soft >= needed) {
        return;
    }
    let hard = limit.maximum.unwrap_or(u64::MAX);
    assert!(
        hard >= needed,
        "this test needs {needed} open files; the hard limit is {hard} (raise `ulimit -Hn`)"
    );
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(needed.max(limit.current.unwrap_or(0))),
            maximum: limit.maximum,
        },
    )
    .unwrap();
}

fn config(upstream: &GatedUpstream) -> RelayConfig {
    RelayConfig::new()
        .server("timeout_ms", 60000)
        .provider(upstream.provider())
        .logging("level", "warn")
}

/// Opens stream `id` and returns once its response headers arrived.
async fn open_stream(client: TestClient, url: String, id: usize) -> relay_test_support::TestStream {
    let id = id.to_string();
    let headers = [
        ("content-type", "application/json"),
        ("x-load-id", id.as_str()),
    ];
    let stream = client
        .stream("POST", &url, &headers, message_body(true).to_string())
        .await
        .unwrap();
    assert_eq!(stream.status, 200);
    stream
}

/// Reads a whole stream and checks it is stream `id`'s, complete.
async fn check_stream(stream: relay_test_support::TestStream, id: usize) {
    let body = stream.collect_body().await.unwrap();
    let events = parse_sse(&body);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"), "stream {id}");
    assert_eq!(
        names.last(),
        Some(&"message_stop"),
        "stream {id}: {names:?}"
    );
    assert_eq!(names.len(), 7, "stream {id}: {names:?}");
    assert_eq!(text_of(&events), format!("stream {id}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_streams_held_at_once_all_complete() {
    raise_open_files_limit(2 * STREAMS as u64 + 256);
    let upstream = GatedUpstream::start(false).await;
    let relay = start_relay_with(&config(&upstream)).await;
    let url = format!("{}/v1/messages", relay.url());
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for id in 0..STREAMS {
        let (client, url) = (
            TestClient::new().with_timeout(Duration::from_secs(60)),
            url.clone(),
        );
        tasks.spawn(async move {
            let stream = open_stream(client, url, id).await;
            check_stream(stream, id).await;
        });
    }
    // Every stream is open end to end, its first event sent, none finished.
    upstream
        .wait_for_started(STREAMS, Duration::from_secs(60))
        .await;
    assert!(upstream.connections() >= STREAMS);
    assert_eq!(upstream.finished(), 0);
    let opened = started.elapsed();
    upstream.open_gate();
    while let Some(result) = tasks.join_next().await {
        result.unwrap();
    }
    assert_eq!(upstream.finished(), STREAMS);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "opened in {opened:?}, all done in {:?}",
        started.elapsed()
    );
    // And the relay is none the worse for it.
    let stream = open_stream(TestClient::new(), url, 7).await;
    check_stream(stream, 7).await;
    let health = TestClient::new()
        .get(format!("{}/health", relay.url()))
        .await
        .unwrap();
    assert_eq!(health.status, 200);
}

/// Resident memory of a process, from `/proc` (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn soak_round(relay: &RelayProcess, round: usize) {
    let url = format!("{}/v1/messages", relay.url());
    let mut tasks = JoinSet::new();
    for i in 0..100 {
        let (client, url) = (TestClient::new(), url.clone());
        let id = round * 1000 + i;
        tasks.spawn(async move {
            if i % 2 == 0 {
                check_stream(open_stream(client, url, id).await, id).await;
            } else {
                let response = client
                    .post_json(&url, &[], &message_body(false))
                    .await
                    .unwrap();
                // The gated upstream only streams: a non-streaming request
                // still gets its bytes through, as SSE.
                assert_eq!(response.status, 200);
            }
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap();
    }
}

/// `SOAK_SECS` (default 180) of rounds of 100 concurrent requests; the
/// relay's resident memory in the last third must stay within 10% + 16 MiB
/// of its peak in the first third (after a warm-up round).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a soak of minutes: run by bench/soak.sh"]
#[allow(clippy::print_stderr)]
async fn soak_memory_stays_flat() {
    raise_open_files_limit(1024);
    let seconds: u64 = std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(180);
    let upstream = GatedUpstream::start(true).await;
    let relay = start_relay_with(&config(&upstream)).await;
    soak_round(&relay, 0).await;
    let started = Instant::now();
    let total = Duration::from_secs(seconds);
    let mut samples: Vec<(Duration, u64)> = Vec::new();
    let mut round = 1;
    while started.elapsed() < total {
        soak_round(&relay, round).await;
        round += 1;
        if let Some(rss) = rss_kib(relay.pid()) {
            samples.push((started.elapsed(), rss));
        }
    }
    let third = total / 3;
    let early = samples
        .iter()
        .filter(|(t, _)| *t < third)
        .map(|s| s.1)
        .max();
    let late: Vec<u64> = samples
        .iter()
        .filter(|(t, _)| *t > total - third)
        .map(|s| s.1)
        .collect();
    eprintln!(
        "soak: {round} rounds ({} requests) in {:?}; RSS KiB first third max {early:?}, last third {:?}",
        round * 100,
        started.elapsed(),
        late
    );
    let (Some(early), Some(&late_max)) = (early, late.iter().max()) else {
        panic!("no memory samples (not Linux?)");
    };
    assert!(
        late_max <= early + early / 10 + 16 * 1024,
        "resident memory grew from {early} KiB to {late_max} KiB"
    );
}
