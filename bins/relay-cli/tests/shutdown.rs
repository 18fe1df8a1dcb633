//! Graceful shutdown through the real binary: SIGTERM (or SIGINT) stops
//! accepting connections, lets in-flight streams finish up to the drain
//! bound, then exits cleanly; also with 100 streams open at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod gated_upstream;

use std::time::Duration;

use common::*;
use gated_upstream::{GatedUpstream, text_of};
use relay_test_support::{MockReply, MockUpstream, Signal, TestClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_open_streams_finish_and_refuses_new_connections() {
    let (relay, mock) = relay_and_mock().await;
    mock.set_default(
        MockReply::stream("one two three four five").event_delay(Duration::from_millis(100)),
    );
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(open_stream(&relay).await);
    }

    relay.signal(Signal::Term).unwrap();
    relay
        .wait_for_log("shutting down", Duration::from_secs(5))
        .await
        .unwrap();

    let refused = TestClient::new()
        .with_timeout(Duration::from_secs(2))
        .get(format!("{}/health", relay.url()))
        .await;
    assert!(
        refused.is_err(),
        "new connections are refused once draining: {:?}",
        refused.map(|r| r.status)
    );

    for stream in streams {
        let events = stream
            .collect_events()
            .await
            .expect("in-flight streams finish");
        assert_eq!(
            events.last().map(|e| e.0.as_str()),
            Some("message_stop"),
            "{events:?}"
        );
    }
    let status = relay.wait_exit(Duration::from_secs(10)).await.unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(
        relay
            .logs()
            .iter()
            .any(|l| l.contains("all connections drained"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_is_bounded_by_shutdown_timeout() {
    let mock = MockUpstream::start().await.unwrap();
    mock.set_default(MockReply::stream("never ends").stall_after(1));
    let config = RelayConfig::one_provider(&mock.url()).server("shutdown_timeout_ms", 300);
    let relay = start_relay_with(&config).await;
    let stream = open_stream(&relay).await;
    relay.signal(Signal::Int).unwrap();
    let status = relay
        .wait_exit(Duration::from_secs(5))
        .await
        .expect("exits despite a stalled stream");
    assert!(status.success());
    assert!(
        relay
            .logs()
            .iter()
            .any(|l| l.contains("drain timeout reached"))
    );
    drop(stream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_lets_a_hundred_open_streams_finish() {
    const STREAMS: usize = 100;
    let upstream = GatedUpstream::start(false).await;
    let config = RelayConfig::new()
        .server("timeout_ms", 30000)
        .server("shutdown_timeout_ms", 20000)
        .provider(upstream.provider())
        .logging("level", "info");
    let relay = start_relay_with(&config).await;
    let url = format!("{}/v1/messages", relay.url());
    let mut streams = Vec::new();
    for id in 0..STREAMS {
        let id_text = id.to_string();
        let headers = [
            ("content-type", "application/json"),
            ("x-load-id", id_text.as_str()),
        ];
        let stream = TestClient::new()
            .stream("POST", &url, &headers, message_body(true).to_string())
            .await
            .unwrap();
        streams.push((id, stream));
    }
    // All 100 are open end to end, each past its first event.
    upstream
        .wait_for_started(STREAMS, Duration::from_secs(20))
        .await;

    relay.signal(Signal::Term).unwrap();
    relay
        .wait_for_log("shutting down", Duration::from_secs(5))
        .await
        .unwrap();
    let refused = TestClient::new()
        .with_timeout(Duration::from_secs(2))
        .get(format!("{}/health", relay.url()))
        .await;
    assert!(
        refused.is_err(),
        "new connections are refused while draining"
    );
    assert!(
        relay.wait_exit(Duration::from_millis(300)).await.is_err(),
        "the relay waits for its open streams"
    );

    upstream.open_gate();
    let mut tasks = tokio::task::JoinSet::new();
    for (id, stream) in streams {
        tasks.spawn(async move {
            let body = stream.collect_body().await.expect("the stream finishes");
            let events = relay_test_support::parse_sse(&body);
            assert_eq!(
                events.last().map(|e| e.0.as_str()),
                Some("message_stop"),
                "stream {id}"
            );
            assert_eq!(text_of(&events), format!("stream {id}"));
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.unwrap();
    }
    let status = relay.wait_exit(Duration::from_secs(10)).await.unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(
        relay
            .logs()
            .iter()
            .any(|l| l.contains("all connections drained"))
    );
}
