//! The upstream fault matrix in process, each fault for a
//! streaming and a non-streaming request: refused connections, connections
//! reset before or in the middle of the response headers, 429/529/500 with and
//! without `retry-after`, stalls before the headers, bodies that stall, odd or
//! oversized SSE, oversized bodies. Each fault has one defined outcome for the
//! client (failover, an Anthropic error status, an `error` event or an
//! aborted body) and the relay keeps serving afterwards.
//!
//! Covered elsewhere and not repeated here: a stream cut after
//! `message_start` and a stream going quiet (`relay_streaming.rs`), a started
//! stream never retried and key rotation on 429 (`routing.rs`), a lone
//! unreachable or stalled upstream for non-streaming requests (`relay_http.rs`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::support::*;
use bytes::Bytes;
use relay_test_support::raw_http::{Misbehaviour, raw_upstream};
use relay_test_support::{MockReply, MockUpstream, TestClient, TestResponse, unused_local_addr};
use serde_json::json;

const JSON: [(&str, &str); 1] = [("content-type", "application/json")];
/// Response-header timeout of the relays below: long enough for a loaded CI
/// machine, short enough to keep the stall cases quick.
const HEADER_TIMEOUT_MS: u64 = 1500;
const IDLE_TIMEOUT_MS: u64 = 300;

/// A keyless provider: a 429 then concerns the provider, not a key, so a
/// lone provider's errors are passed through instead of resting a key.
fn provider(name: &str, url: &str, priority: u32) -> Provider {
    Provider::anthropic(name, url)
        .models(&["claude-sonnet-4-5"])
        .priority(priority)
}

/// Failover over `providers`, with short timeouts and a breaker that never opens.
async fn relay_for(providers: impl IntoIterator<Item = Provider>) -> TestRelay {
    let config = RelayConfig::new()
        .server("timeout_ms", HEADER_TIMEOUT_MS)
        .server("stream_idle_timeout_ms", IDLE_TIMEOUT_MS)
        .routing("strategy", "failover")
        .routing("debug", true)
        .health("circuit_breaker", json!({ "failure_threshold": 1000 }));
    start_relay_with(&config.providers(providers)).await
}

/// `primary` and `secondary`, and two relays: `failover` from the primary
/// (priority 2) to the secondary, and `alone` with the primary only.
async fn failover_and_alone() -> ([MockUpstream; 2], TestRelay, TestRelay) {
    let [primary, secondary] = mocks().await;
    let failover = relay_for([
        provider("primary", &primary.url(), 2),
        provider("secondary", &secondary.url(), 1),
    ])
    .await;
    let alone = relay_for([provider("primary", &primary.url(), 1)]).await;
    ([primary, secondary], failover, alone)
}

async fn send(relay: &TestRelay, stream: bool) -> TestResponse {
    TestClient::new()
        .request(
            "POST",
            format!("{}/v1/messages", relay.url()),
            &JSON,
            message_body(stream).to_string(),
        )
        .await
        .unwrap()
}

/// A complete, successful answer of the kind asked for.
fn assert_served(response: &TestResponse, stream: bool, by: &str) {
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("x-cc-relay-provider"), Some(by));
    if stream {
        let events = response.events();
        assert_eq!(events.first().map(|e| e.0.as_str()), Some("message_start"));
        assert_eq!(events.last().map(|e| e.0.as_str()), Some("message_stop"));
    } else {
        assert_eq!(response.json().unwrap()["type"], "message");
    }
}

/// The relay's own error: a JSON body even for a streaming request, since
/// nothing had been sent when it gave up.
fn assert_relay_error(response: &TestResponse, status: u16, error_type: &str) {
    assert_eq!(response.status, status, "{}", response.text());
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_anthropic_error(&response.body, error_type);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_connections_fail_over_else_502() {
    let dead = format!("http://{}", unused_local_addr().unwrap());
    let live = MockUpstream::start().await.unwrap();
    let failover = relay_for([provider("dead", &dead, 2), provider("live", &live.url(), 1)]).await;
    let alone = relay_for([provider("dead", &dead, 1)]).await;
    for stream in [false, true] {
        assert_served(&send(&failover, stream).await, stream, "live");
        assert_relay_error(&send(&alone, stream).await, 502, "api_error");
    }
    assert_eq!(live.request_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_reset_before_or_during_the_headers_fail_over_else_502() {
    let behaviour = Arc::new(Mutex::new(Misbehaviour::Close));
    let raw = format!("http://{}", raw_upstream(Arc::clone(&behaviour)).await);
    let live = MockUpstream::start().await.unwrap();
    let failover = relay_for([provider("raw", &raw, 2), provider("live", &live.url(), 1)]).await;
    let alone = relay_for([provider("raw", &raw, 1)]).await;
    for misbehaviour in [
        Misbehaviour::Close,
        Misbehaviour::CloseMidHeaders,
        Misbehaviour::NotHttp,
    ] {
        *behaviour.lock().unwrap() = misbehaviour;
        for stream in [false, true] {
            let response = send(&failover, stream).await;
            assert_served(&response, stream, "live");
            let response = send(&alone, stream).await;
            assert_relay_error(&response, 502, "api_error");
        }
    }
    assert_eq!(live.request_count(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overload_and_server_errors_fail_over_else_pass_through_unchanged() {
    let ([primary, _secondary], failover, alone) = failover_and_alone().await;
    let cases = [
        (429, "rate_limit_error", Some("7")),
        (429, "rate_limit_error", None),
        (529, "overloaded_error", Some("3")),
        (529, "overloaded_error", None),
        (500, "api_error", Some("1")),
        (500, "api_error", None),
    ];
    for (status, error_type, retry_after) in cases {
        for stream in [false, true] {
            let reply = || {
                let reply = MockReply::error(status, error_type, "upstream says no");
                match retry_after {
                    Some(seconds) => reply.header("retry-after", seconds),
                    None => reply,
                }
            };
            let case = format!("{status} retry-after {retry_after:?} stream {stream}");

            primary.enqueue(reply());
            let response = send(&failover, stream).await;
            assert_eq!(response.status, 200, "{case}: {}", response.text());
            assert_served(&response, stream, "secondary");

            primary.enqueue(reply());
            let response = send(&alone, stream).await;
            assert_eq!(response.status, status, "{case}: {}", response.text());
            assert_eq!(
                response.json().unwrap(),
                json!({"type": "error", "error": {"type": error_type, "message": "upstream says no"}}),
                "{case}"
            );
            assert_eq!(response.header("retry-after"), retry_after, "{case}");
        }
    }
    // Nothing rests or opens: both relays serve normally afterwards.
    assert_served(&send(&failover, true).await, true, "primary");
    assert_served(&send(&alone, false).await, false, "primary");
}

#[tokio::test(start_paused = true)]
async fn an_upstream_stalled_before_its_headers_times_out_into_failover_else_504() {
    let ([primary, _secondary], failover, alone) = failover_and_alone().await;
    for stream in [false, true] {
        primary.enqueue(MockReply::stall());
        let started = Instant::now();
        let response = send(&failover, stream).await;
        assert_served(&response, stream, "secondary");
        assert!(started.elapsed() >= Duration::from_millis(HEADER_TIMEOUT_MS));

        primary.enqueue(MockReply::stall());
        let response = send(&alone, stream).await;
        assert_relay_error(&response, 504, "timeout_error");
    }
    // The stalled requests were cancelled: the relay hung up on the upstream.
    primary
        .wait_for_disconnects(4, Duration::from_secs(5))
        .await
        .unwrap();
    assert_served(&send(&alone, true).await, true, "primary");
}

#[tokio::test(start_paused = true)]
async fn a_json_body_that_stalls_is_aborted_after_the_idle_timeout() {
    let mock = MockUpstream::start().await.unwrap();
    let relay = relay_for([provider("primary", &mock.url(), 1)]).await;
    mock.enqueue(
        MockReply::sse_raw(vec![Bytes::from_static(b"{\"type\":\"message\",")])
            .header("content-type", "application/json")
            .stall_after(1),
    );
    let started = Instant::now();
    let result = TestClient::new()
        .request(
            "POST",
            format!("{}/v1/messages", relay.url()),
            &JSON,
            message_body(false).to_string(),
        )
        .await;
    assert!(
        result.is_err(),
        "a truncated JSON body must not look complete: {:?}",
        result.map(|r| r.text())
    );
    // The idle timeout, not the (longer) response-header timeout, ended it.
    assert!(
        started.elapsed() < Duration::from_millis(HEADER_TIMEOUT_MS),
        "{:?}",
        started.elapsed()
    );
    assert_served(&send(&relay, false).await, false, "primary");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_sse_is_relayed_byte_for_byte() {
    let mock = MockUpstream::start().await.unwrap();
    let relay = relay_for([provider("primary", &mock.url(), 1)]).await;
    let long_line = format!("data: {}\n\n", "y".repeat(1024 * 1024));
    let streams: Vec<Vec<Bytes>> = vec![
        // Garbage and half-valid lines, each stream relayed as it came.
        vec![
            Bytes::from_static(b"garbage line without a colon\n\n"),
            Bytes::from_static(b"\x00\x01\xfe\xff binary\n\ndata: {not json\n\n"),
            Bytes::from_static(b"event:\n\n: only a comment\n\nretry: soon\nid: \x00\n\n"),
            Bytes::from(long_line),
            Bytes::from_static(b"data: a tail without its blank line"),
        ],
        // No blank line at all: one unfinished event, relayed when the body ends.
        vec![
            Bytes::from_static(b"event: message_start\ndata: {}\n"),
            Bytes::from_static(b"data: more\nevent: x\n"),
        ],
        // Not even text.
        vec![Bytes::from(
            (0..=255u8).cycle().take(4096).collect::<Vec<u8>>(),
        )],
    ];
    for chunks in streams {
        let expected: Vec<u8> = chunks.concat();
        mock.enqueue(MockReply::sse_raw(chunks).event_delay(Duration::from_millis(5)));
        let response = send(&relay, true).await;
        assert_eq!(response.status, 200);
        assert_eq!(response.body.len(), expected.len());
        assert!(
            response.body.as_ref() == expected.as_slice(),
            "bytes differ"
        );
    }
    // The same over h2c, for an odd stream cut off mid-way: an error event ends it.
    mock.enqueue(
        MockReply::sse_raw(vec![
            Bytes::from_static(b"data: first\n\n"),
            Bytes::from_static(b"data: never"),
        ])
        .cut_after(1),
    );
    let response = TestClient::http2()
        .request(
            "POST",
            format!("{}/v1/messages", relay.url()),
            &JSON,
            message_body(true).to_string(),
        )
        .await
        .unwrap();
    let events = response.events();
    assert_eq!(events.first().map(|e| e.1.as_str()), Some("first"));
    assert_eq!(
        events.last().map(|e| e.0.as_str()),
        Some("error"),
        "{events:?}"
    );
    assert_served(&send(&relay, true).await, true, "primary");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_upstream_bodies_have_defined_outcomes() {
    let ([primary, _secondary], failover, alone) = failover_and_alone().await;

    // An SSE event over the 16 MiB cap: the events before it, then an error event.
    let first = "event: message_start\ndata: {\"type\":\"message_start\"}\n\n";
    let endless = Bytes::from(vec![b'x'; 17 * 1024 * 1024]);
    primary.enqueue(MockReply::sse_raw(vec![
        Bytes::from_static(first.as_bytes()),
        endless,
    ]));
    let response = send(&alone, true).await;
    assert_eq!(response.status, 200);
    assert!(response.body.starts_with(first.as_bytes()));
    assert!(
        response.body.len() < 64 * 1024,
        "the oversized event is not relayed"
    );
    let events = response.events();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[1].0, "error");
    assert!(events[1].1.contains("larger than"), "{}", events[1].1);

    // An error body over the 1 MiB the relay reads: failover, else 502.
    let huge_error = || MockReply::bytes(500, "application/json", vec![b' '; 2 * 1024 * 1024]);
    for stream in [false, true] {
        primary.enqueue(huge_error());
        assert_served(&send(&failover, stream).await, stream, "secondary");
        primary.enqueue(huge_error());
        assert_relay_error(&send(&alone, stream).await, 502, "api_error");
    }

    // A successful non-SSE body has no cap: it is streamed, never held.
    let big = Bytes::from(
        (0..24 * 1024 * 1024)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>(),
    );
    primary.enqueue(MockReply::bytes(200, "application/json", big.clone()));
    let response = send(&alone, false).await;
    assert_eq!(response.status, 200);
    assert!(response.body == big, "the body arrives intact");
    assert_served(&send(&alone, true).await, true, "primary");
}
