//! SSE in process: each event is delivered as soon as the
//! upstream sends it, bytes are untouched, failures after the start become an
//! Anthropic `error` event, and a client going away cancels the upstream.

use std::time::Duration;

use crate::support::*;
use bytes::Bytes;
use relay_test_support::{MockReply, MockUpstream, TestClient};

const JSON: [(&str, &str); 1] = [("content-type", "application/json")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_event_reaches_the_client_before_the_next_is_sent() {
    let (relay, mock) = relay_and_mock().await;
    mock.enqueue(MockReply::stream("alpha beta gamma").event_delay(Duration::from_millis(200)));
    let mut stream = open_stream(&relay).await;
    assert_eq!(stream.status, 200);
    assert_eq!(stream.headers["content-type"], "text/event-stream");
    assert_eq!(stream.headers["cache-control"], "no-cache, no-transform");
    assert_eq!(stream.headers["x-accel-buffering"], "no");

    let mut arrivals = Vec::new();
    while let Some(chunk) = stream.next_chunk().await {
        let (bytes, at) = chunk.unwrap();
        arrivals.push((bytes, at));
    }
    let sent = mock.sent_events();
    assert!(
        sent.len() >= 8,
        "the mock stream has message_start .. message_stop: {sent:?}"
    );
    assert_eq!(
        arrivals.len(),
        sent.len(),
        "one client chunk per upstream event: nothing is batched"
    );

    let first_arrival = arrivals[0].1;
    let second_sent = sent[1].sent_at;
    assert!(
        second_sent.duration_since(first_arrival) >= Duration::from_millis(100),
        "the first event arrived {:?} before the second was sent; it must not wait for it",
        second_sent.saturating_duration_since(first_arrival)
    );
    for (index, (_, arrived)) in arrivals.iter().enumerate().skip(1) {
        let sent_at = sent[index].sent_at;
        assert!(*arrived >= sent_at);
        assert!(
            arrived.duration_since(sent_at) < Duration::from_millis(150),
            "event {index} was held back"
        );
    }
    let body: Vec<u8> = arrivals.iter().flat_map(|(b, _)| b.to_vec()).collect();
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("event: ping"), "pings pass through");
    assert!(
        text.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_bytes_are_relayed_exactly_whatever_the_chunking() {
    let (relay, mock) = relay_and_mock().await;
    let chunks: Vec<Bytes> = vec![
        Bytes::from_static(b"event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":3}}}\r\n\r\n"),
        Bytes::from_static(b": a comment line\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\","),
        Bytes::from_static(b"\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"h\xc3"),
        Bytes::from_static(b"\xa9llo\"}}\n\nevent: message_stop\rdata: {\"type\":\"message_stop\"}\r\r"),
    ];
    let expected: Vec<u8> = chunks.iter().flat_map(|c| c.to_vec()).collect();
    mock.enqueue(MockReply::sse_raw(chunks).event_delay(Duration::from_millis(20)));
    let stream = open_stream(&relay).await;
    let body = stream.collect_body().await.unwrap();
    assert_eq!(body.as_ref(), expected.as_slice());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_cut_after_message_start_ends_with_an_error_event() {
    let (relay, mock) = relay_and_mock().await;
    mock.enqueue(MockReply::stream("never finished").cut_after(1));
    let stream = open_stream(&relay).await;
    let events = stream.collect_events().await.unwrap();
    let names: Vec<&str> = events.iter().map(|(name, _, _)| name.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"error"), "{names:?}");
    let error: serde_json::Value = serde_json::from_str(&events.last().unwrap().1).unwrap();
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "api_error");
    assert_eq!(mock.request_count(), 1, "a started stream is never retried");
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_goes_quiet_times_out_with_an_error_event() {
    let mock = MockUpstream::start().await.unwrap();
    let config = RelayConfig::one_provider(&mock.url()).server("stream_idle_timeout_ms", 300);
    let relay = start_relay_with(&config).await;
    mock.enqueue(MockReply::stream("stalls here").stall_after(2));
    let stream = open_stream(&relay).await;
    let events = tokio::time::timeout(Duration::from_secs(5), stream.collect_events())
        .await
        .expect("never hangs")
        .unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(events[2].0, "error");
    assert!(events[2].1.contains("api_error"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_cancels_the_upstream_request() {
    let (relay, mock) = relay_and_mock().await;
    mock.enqueue(MockReply::stream("a b c d e f g h").event_delay(Duration::from_millis(100)));
    let mut stream = open_stream(&relay).await;
    stream.next_chunk().await.unwrap().unwrap();
    stream.abort();
    mock.wait_for_disconnects(1, Duration::from_secs(2))
        .await
        .expect("the relay dropped its upstream connection");
    assert!(
        mock.sent_events().len() < 8,
        "the upstream stopped sending long before the end"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_streaming_bodies_cut_mid_way_are_not_passed_off_as_complete() {
    let (relay, mock) = relay_and_mock().await;
    mock.enqueue(
        MockReply::sse_raw(vec![Bytes::from_static(b"{\"type\":\"message\",")])
            .header("content-type", "application/json")
            .cut_after(1),
    );
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
        "the client must see a broken body, got {:?}",
        result.map(|r| r.text())
    );
    // And the relay keeps serving.
    let ok = post_message(&relay, &[], false).await;
    assert_eq!(ok.status, 200);
}
