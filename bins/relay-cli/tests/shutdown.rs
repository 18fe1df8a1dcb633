//! Graceful shutdown through the real binary: SIGTERM (or SIGINT) stops
//! accepting connections, lets in-flight streams finish up to the drain
//! bound, then exits cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use relay_test_support::{MockReply, MockUpstream, Signal, TestClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_open_streams_finish_and_refuses_new_connections() {
    let (relay, mock) = relay_and_mock().await;
    mock.set_default(
        MockReply::stream("one two three four five").event_delay(Duration::from_millis(100)),
    );
    let url = format!("{}/v1/messages", relay.url());
    let mut streams = Vec::new();
    for _ in 0..3 {
        let stream = TestClient::new()
            .stream(
                "POST",
                &url,
                &[("content-type", "application/json")],
                message_body(true).to_string(),
            )
            .await
            .unwrap();
        streams.push(stream);
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
    let config = one_provider(&mock.url()).replace(
        "timeout_ms: 5000",
        "timeout_ms: 5000\n  shutdown_timeout_ms: 300",
    );
    let relay = start_relay(&config, &[]).await;
    let stream = TestClient::new()
        .stream(
            "POST",
            format!("{}/v1/messages", relay.url()),
            &[("content-type", "application/json")],
            message_body(true).to_string(),
        )
        .await
        .unwrap();
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
