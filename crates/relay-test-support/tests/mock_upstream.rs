//! The mock upstream, exercised through the test client.

use std::time::Duration;

use bytes::Bytes;
use relay_test_support::{MockReply, MockUpstream, TestClient, unused_local_addr};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);

fn messages_url(mock: &MockUpstream) -> String {
    format!("{}/v1/messages", mock.url())
}

#[tokio::test]
async fn scripted_json_reply_with_headers_then_default() {
    let mock = MockUpstream::start().await.unwrap();
    mock.enqueue(
        MockReply::json(429, json!({"type": "error"}))
            .header("retry-after", "3")
            .header("request-id", "req_1"),
    );
    let client = TestClient::new();
    let body = json!({"model": "claude-echo", "max_tokens": 5});
    let first = client
        .post_json(messages_url(&mock), &[], &body)
        .await
        .unwrap();
    assert_eq!(first.status, 429);
    assert_eq!(first.header("retry-after"), Some("3"));
    assert_eq!(first.header("request-id"), Some("req_1"));
    assert_eq!(first.json().unwrap(), json!({"type": "error"}));

    // The queue is empty: the default `auto()` answers and echoes the model.
    let second = client
        .post_json(messages_url(&mock), &[], &body)
        .await
        .unwrap();
    assert_eq!(second.status, 200);
    let message = second.json().unwrap();
    assert_eq!(message["type"], "message");
    assert_eq!(message["model"], "claude-echo");
    assert_eq!(message["content"][0]["type"], "text");
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(mock.request_count(), 2);
}

#[tokio::test]
async fn queue_is_fifo_and_default_can_change() {
    let mock = MockUpstream::start().await.unwrap();
    mock.enqueue(MockReply::message("one"));
    mock.enqueue(MockReply::message("two").model("fixed-model"));
    mock.set_default(MockReply::error(529, "overloaded_error", "busy"));
    let client = TestClient::new();
    let body = json!({"model": "m"});
    let a = client
        .post_json(messages_url(&mock), &[], &body)
        .await
        .unwrap();
    let b = client
        .post_json(messages_url(&mock), &[], &body)
        .await
        .unwrap();
    let c = client
        .post_json(messages_url(&mock), &[], &body)
        .await
        .unwrap();
    assert_eq!(a.json().unwrap()["content"][0]["text"], "one");
    assert_eq!(a.json().unwrap()["model"], "m");
    assert_eq!(b.json().unwrap()["model"], "fixed-model");
    assert_eq!(c.status, 529);
    assert_eq!(c.json().unwrap()["error"]["type"], "overloaded_error");
}

#[tokio::test]
async fn auto_count_tokens_and_unknown_paths() {
    let mock = MockUpstream::start().await.unwrap();
    let client = TestClient::new();
    let url = format!("{}/v1/messages/count_tokens", mock.url());
    let r = client
        .post_json(url, &[], &json!({"model": "m", "messages": []}))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.json().unwrap()["input_tokens"].as_u64().unwrap() > 0);
    let r = client
        .get(format!("{}/elsewhere", mock.url()))
        .await
        .unwrap();
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn auto_stream_is_well_formed_and_paced() {
    let mock = MockUpstream::start().await.unwrap();
    mock.set_default(MockReply::auto().event_delay(Duration::from_millis(200)));
    let body = json!({"model": "claude-stream", "stream": true}).to_string();
    let stream = TestClient::new()
        .stream("POST", messages_url(&mock), &[], body)
        .await
        .unwrap();
    assert_eq!(stream.status, 200);
    assert_eq!(stream.headers["content-type"], "text/event-stream");
    let events = stream.collect_events().await.unwrap();
    let names: Vec<&str> = events.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names[..3],
        ["message_start", "content_block_start", "ping"],
        "{names:?}"
    );
    assert_eq!(
        names[names.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    assert!(
        names[3..names.len() - 3]
            .iter()
            .all(|n| *n == "content_block_delta")
    );
    for (name, data, _) in &events {
        let value: serde_json::Value = serde_json::from_str(data).unwrap();
        assert_eq!(value["type"], name.as_str());
    }
    let start: serde_json::Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(start["message"]["model"], "claude-stream");
    assert!(events[1].2.duration_since(events[0].2) >= Duration::from_millis(150));

    let sent = mock.sent_events();
    assert_eq!(sent.len(), events.len());
    assert!(
        sent.iter()
            .enumerate()
            .all(|(i, e)| e.event_index == i && e.request_index == 0)
    );
    assert!(sent[1].sent_at.duration_since(sent[0].sent_at) >= Duration::from_millis(150));
    assert_eq!(mock.disconnects(), 0);
}

#[tokio::test]
async fn custom_and_raw_sse() {
    let mock = MockUpstream::start().await.unwrap();
    mock.enqueue(MockReply::sse(vec![
        ("a", json!({"n": 1})),
        ("b", json!({"n": 2})),
    ]));
    let raw: Vec<Bytes> = vec![
        "event: x\r\n".into(),
        "data: 1\r\n\r\n".into(),
        "garbage".into(),
    ];
    mock.enqueue(MockReply::sse_raw(raw));
    let client = TestClient::new();
    let r = client.request("POST", mock.url(), &[], "").await.unwrap();
    assert_eq!(
        r.events(),
        vec![
            ("a".to_owned(), r#"{"n":1}"#.to_owned()),
            ("b".to_owned(), r#"{"n":2}"#.to_owned())
        ]
    );
    let stream = client.stream("POST", mock.url(), &[], "").await.unwrap();
    let body = stream.collect_body().await.unwrap();
    assert_eq!(body, "event: x\r\ndata: 1\r\n\r\ngarbage");
}

/// Reads a `cut_after(2)` stream: what arrived, the body error, and the
/// mock's disconnect count afterwards.
async fn read_cut(client: TestClient) -> std::io::Result<(String, std::io::Error, bool, usize)> {
    let mock = MockUpstream::start().await?;
    mock.enqueue(MockReply::stream("one two three four five").cut_after(2));
    let mut stream = client
        .stream("POST", messages_url(&mock), &[], "{}")
        .await?;
    let mut received = Vec::new();
    let error = loop {
        match stream.next_chunk().await {
            Some(Ok((chunk, _))) => received.extend_from_slice(&chunk),
            Some(Err(e)) => break e,
            None => return Err(std::io::Error::other("the body ended cleanly")),
        }
    };
    let ended = stream.next_chunk().await.is_none();
    let text = String::from_utf8_lossy(&received).into_owned();
    Ok((text, error, ended, mock.disconnects()))
}

fn assert_cut(text: &str, error: &std::io::Error, ended: bool, disconnects: usize) {
    assert_ne!(error.kind(), std::io::ErrorKind::TimedOut, "{error}");
    assert!(text.starts_with("event: message_start\n"), "{text}");
    assert!(text.contains("event: content_block_start\n"), "{text}");
    assert!(!text.contains("ping"), "{text}");
    assert!(ended);
    // An intentional cut is not a client disconnect.
    assert_eq!(disconnects, 0);
}

#[tokio::test]
async fn cut_after_breaks_the_body_http1() {
    let (text, error, ended, disconnects) = read_cut(TestClient::new()).await.unwrap();
    assert_cut(&text, &error, ended, disconnects);
}

#[tokio::test]
async fn cut_after_breaks_the_body_http2() {
    let (text, error, ended, disconnects) = read_cut(TestClient::http2()).await.unwrap();
    assert_cut(&text, &error, ended, disconnects);
}

#[tokio::test]
async fn stall_after_then_client_abort_counts_a_disconnect() {
    let mock = MockUpstream::start().await.unwrap();
    mock.enqueue(MockReply::stream("never finished").stall_after(1));
    let client = TestClient::new().with_timeout(Duration::from_millis(300));
    let mut stream = client
        .stream("POST", messages_url(&mock), &[], "{}")
        .await
        .unwrap();
    let (first, _) = stream.next_chunk().await.unwrap().unwrap();
    assert!(first.starts_with(b"event: message_start"));
    let stalled = stream.next_chunk().await.unwrap().unwrap_err();
    assert_eq!(stalled.kind(), std::io::ErrorKind::TimedOut);
    assert_eq!(mock.disconnects(), 0);
    stream.abort();
    mock.wait_for_disconnects(1, WAIT).await.unwrap();
    assert_eq!(mock.disconnects(), 1);
}

#[tokio::test]
async fn stalled_headers_then_client_abort_counts_a_disconnect() {
    for client in [TestClient::new(), TestClient::http2()] {
        let mock = MockUpstream::start().await.unwrap();
        mock.enqueue(MockReply::stall());
        let client = client.with_timeout(Duration::from_millis(300));
        let err = client
            .request("POST", mock.url(), &[], "x")
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        mock.wait_for_requests(1, WAIT).await.unwrap();
        mock.wait_for_disconnects(1, WAIT).await.unwrap();
    }
}

#[tokio::test]
async fn headers_delay_and_close() {
    let mock = MockUpstream::start().await.unwrap();
    mock.enqueue(MockReply::message("late").headers_delay(Duration::from_millis(200)));
    mock.enqueue(MockReply::close());
    let client = TestClient::new();
    let started = std::time::Instant::now();
    let r = client
        .request("POST", messages_url(&mock), &[], "{}")
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
    let err = client
        .request("POST", messages_url(&mock), &[], "{}")
        .await
        .unwrap_err();
    assert_ne!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert_eq!(mock.request_count(), 2);
    assert_eq!(mock.disconnects(), 0);
    // The server still answers new connections.
    let r = client
        .request("POST", messages_url(&mock), &[], "{}")
        .await
        .unwrap();
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn requests_are_recorded_exactly() {
    let mock = MockUpstream::start().await.unwrap();
    let body: &[u8] = b"{\"model\":\"m\"}\r\n\x00\xff trailing";
    let url = format!("{}/v1/messages?beta=true&x=%20y", mock.url());
    let headers = [
        ("x-api-key", "sk-test"),
        ("anthropic-version", "2023-06-01"),
    ];
    let client = TestClient::new();
    client
        .request("POST", &url, &headers, Bytes::from_static(body))
        .await
        .unwrap();
    TestClient::http2()
        .get(format!("{}/h2?q", mock.url()))
        .await
        .unwrap();
    mock.wait_for_requests(2, WAIT).await.unwrap();
    let requests = mock.requests();
    let first = &requests[0];
    assert_eq!(first.method, http::Method::POST);
    assert_eq!(first.path_and_query, "/v1/messages?beta=true&x=%20y");
    assert_eq!(first.body, body);
    assert_eq!(first.header("x-api-key"), Some("sk-test"));
    assert_eq!(first.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(first.version, http::Version::HTTP_11);
    assert!(first.json().is_err());
    let second = &requests[1];
    assert_eq!(second.path_and_query, "/h2?q");
    assert_eq!(second.version, http::Version::HTTP_2);
    assert!(second.body.is_empty());
    assert!(second.received_at >= first.received_at);
}

#[tokio::test]
async fn waits_are_bounded() {
    let mock = MockUpstream::start().await.unwrap();
    let err = mock
        .wait_for_requests(1, Duration::from_millis(50))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert!(err.to_string().contains("1 request"), "{err}");
    let err = mock
        .wait_for_disconnects(1, Duration::from_millis(50))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
}

#[tokio::test]
async fn unused_local_addr_refuses_connections() {
    let addr = unused_local_addr().unwrap();
    assert!(addr.ip().is_loopback());
    let err = tokio::net::TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    let err = TestClient::new()
        .get(format!("http://{addr}/"))
        .await
        .unwrap_err();
    assert_ne!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
}

#[tokio::test]
async fn dropping_the_mock_stops_it() {
    let mock = MockUpstream::start().await.unwrap();
    let addr = mock.addr();
    drop(mock);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let err = tokio::net::TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}
