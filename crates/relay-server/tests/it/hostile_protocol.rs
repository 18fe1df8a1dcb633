//! Hostile HTTP in process, over raw TCP so that nothing in a
//! client library tidies it up: header floods, invalid bytes in headers,
//! HTTP/1.1 pipelining and request smuggling.
//!
//! Where the relay itself answers, the answer is an Anthropic-format 4xx.
//! Where hyper refuses a request before the relay sees it (a request head it
//! cannot parse or that is too large), the answer is hyper's bare status line
//! with an empty body, and the connection is closed. Either way nothing
//! reaches the upstream, and the next request is served.

use crate::support::*;
use relay_test_support::raw_http::{exchange, parse_responses, raw_post};
use relay_test_support::{MockUpstream, TestClient};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_floods_get_431_or_a_closed_connection() {
    let (relay, mock) = relay_with(&[]).await;
    // `count` headers in all, `Host` and `Connection` included.
    let with_headers = |count: usize, value_len: usize| {
        let mut head = String::from("GET /health HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n");
        for i in 0..count - 2 {
            head.push_str(&format!("X-H{i}: {}\r\n", "v".repeat(value_len)));
        }
        head.push_str("\r\n");
        head.into_bytes()
    };
    // Within the limits: 100 headers, a 60 KiB head.
    for (count, value_len) in [(100, 1), (3, 60 * 1024)] {
        let raw = exchange(relay.addr(), &with_headers(count, value_len), false).await;
        let status = parse_responses(&raw.bytes).first().map(|r| r.status);
        assert_eq!(status, Some(200), "{count} headers of {value_len} bytes");
    }
    // Over them: 101 and 10,000 headers, a 70 KiB and a 1 MiB header.
    for (count, value_len) in [(101, 1), (10_000, 1), (3, 70 * 1024), (3, 1024 * 1024)] {
        let raw = exchange(relay.addr(), &with_headers(count, value_len), false).await;
        let responses = parse_responses(&raw.bytes);
        if let Some(response) = responses.first() {
            assert_eq!(response.status, 431, "{count} headers of {value_len} bytes");
            assert!(response.body.is_empty(), "hyper's bare answer");
        }
        assert!(
            raw.closed,
            "{count} headers of {value_len} bytes: not closed"
        );
    }
    // h2c: an oversized header list is refused on its stream, not the connection.
    let client = TestClient::http2();
    let huge = "v".repeat(70 * 1024);
    let refused = client
        .request(
            "GET",
            format!("{}/health", relay.url()),
            &[("x-huge", &huge)],
            "",
        )
        .await;
    if let Ok(response) = refused {
        assert_eq!(response.status, 431);
    }
    let ok = client.get(format!("{}/health", relay.url())).await.unwrap();
    assert_eq!(ok.status, 200);
    assert_eq!(mock.request_count(), 0);
    assert_still_serving(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_bytes_in_headers() {
    let mock = MockUpstream::start().await.unwrap();
    let config =
        RelayConfig::one_provider(&mock.url()).server("auth", json!({ "api_key": RELAY_KEY }));
    let relay = start_relay_with(&config).await;
    let request = |extra: &[u8]| {
        [
            b"GET /v1/models HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n".as_slice(),
            extra,
            b"\r\n",
        ]
        .concat()
    };
    let key = format!("x-api-key: {RELAY_KEY}\r\n");
    // Non-UTF-8 bytes in a value are legal HTTP: the request is served, and
    // an unusable request id is replaced by a generated one.
    let raw = exchange(
        relay.addr(),
        &request(
            &[
                key.as_bytes(),
                b"X-Latin1: caf\xe9\r\nX-Request-ID: \xff\xfe\r\n",
            ]
            .concat(),
        ),
        false,
    )
    .await;
    let response = &parse_responses(&raw.bytes)[0];
    assert_eq!(response.status, 200);
    assert_eq!(response.header("x-request-id").map(str::len), Some(36));
    // A credential that is not text is refused like a wrong one.
    let raw = exchange(
        relay.addr(),
        &request(b"x-api-key: \xff\xfe\xfd\r\n"),
        false,
    )
    .await;
    let response = &parse_responses(&raw.bytes)[0];
    assert_eq!(response.status, 401);
    assert_anthropic_error(&response.body, "authentication_error");
    // Bytes no header may hold: hyper's bare 400, and the connection closes.
    for bad in [
        b"X-\xffName: v\r\n".as_slice(),
        b"X-Nul: a\x00b\r\n",
        b"X-Folded: a\r\n  folded\r\n",
        b"Bad Name: v\r\n",
        b"X-No-Colon\r\n",
    ] {
        let raw = exchange(
            relay.addr(),
            &request(&[key.as_bytes(), bad].concat()),
            false,
        )
        .await;
        let responses = parse_responses(&raw.bytes);
        let shown = String::from_utf8_lossy(bad);
        assert_eq!(responses.first().map(|r| r.status), Some(400), "{shown}");
        assert!(raw.closed, "{shown}");
    }
    assert_eq!(mock.request_count(), 0);
    let ok = TestClient::new()
        .get(format!("{}/health", relay.url()))
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_requests_are_answered_in_order() {
    let (relay, mock) = relay_with(&[]).await;
    let body = message_body(false).to_string();
    let pipelined = [
        "GET /health HTTP/1.1\r\nHost: relay\r\n\r\n".to_owned(),
        raw_post(&body),
        "GET /v1/nothing HTTP/1.1\r\nHost: relay\r\n\r\n".to_owned(),
        raw_post("{\"model\": 5}"),
        "GET /health HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n".to_owned(),
    ]
    .concat();
    let raw = exchange(relay.addr(), pipelined.as_bytes(), false).await;
    let statuses: Vec<u16> = parse_responses(&raw.bytes)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [200, 200, 404, 400, 200]);
    assert!(raw.closed);
    assert_eq!(mock.request_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_smuggling_attempts_cannot_desync_the_relay_or_the_upstream() {
    let (relay, mock) = relay_with(&[]).await;
    let body = message_body(false).to_string();
    // Content-Length and Transfer-Encoding together: the chunked framing wins
    // (RFC 9112 §6.1), the connection is closed after the answer, so the
    // bytes after the chunked body are never read as a second request.
    let smuggled = format!(
        "POST /v1/messages HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\nGET /v1/smuggled HTTP/1.1\r\nHost: relay\r\n\r\n",
        body.len()
    );
    let raw = exchange(relay.addr(), smuggled.as_bytes(), false).await;
    let responses = parse_responses(&raw.bytes);
    assert_eq!(
        responses.len(),
        1,
        "{}",
        String::from_utf8_lossy(&raw.bytes)
    );
    assert_eq!(responses[0].status, 200);
    assert!(raw.closed);
    // The upstream got one request, framed by the relay itself.
    let upstream = mock.requests();
    assert_eq!(upstream.len(), 1);
    assert_eq!(upstream[0].body, body.as_bytes());
    assert_eq!(upstream[0].header("transfer-encoding"), None);
    let length = upstream[0].header("content-length");
    assert!(length.is_none() || length == Some(body.len().to_string().as_str()));

    // Framing hyper refuses outright: a bare 400 and a closed connection.
    for head in [
        "Content-Length: 5\r\nContent-Length: 6\r\n",
        "Content-Length: +5\r\n",
        "Content-Length: 5, 6\r\n",
        "Transfer-Encoding: xchunked\r\n",
        "Transfer-Encoding: chunked, identity\r\n",
        "Transfer-Encoding : chunked\r\n",
    ] {
        let request = format!(
            "POST /v1/messages HTTP/1.1\r\nHost: relay\r\n{head}\r\n0\r\n\r\nGET /v1/smuggled HTTP/1.1\r\nHost: relay\r\n\r\n"
        );
        let raw = exchange(relay.addr(), request.as_bytes(), false).await;
        let statuses: Vec<u16> = parse_responses(&raw.bytes)
            .iter()
            .map(|r| r.status)
            .collect();
        assert_eq!(statuses, [400], "{head:?}");
        assert!(raw.closed, "{head:?}");
    }
    // Transfer-Encoding in HTTP/1.0, and a chunk size that overflows.
    let raw = exchange(
        relay.addr(),
        b"POST /v1/messages HTTP/1.0\r\nHost: relay\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        false,
    )
    .await;
    assert_eq!(
        parse_responses(&raw.bytes).first().map(|r| r.status),
        Some(400)
    );
    let raw = exchange(
        relay.addr(),
        b"POST /v1/messages HTTP/1.1\r\nHost: relay\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nx\r\n0\r\n\r\n",
        false,
    )
    .await;
    let answered = parse_responses(&raw.bytes);
    assert!(answered.iter().all(|r| r.status == 400), "{answered:?}");
    assert!(raw.closed);
    assert_eq!(mock.request_count(), 1, "nothing else reached the upstream");
    assert_still_serving(&relay).await;
}
