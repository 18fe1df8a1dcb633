//! Hostile clients in process, mostly over raw TCP so that
//! nothing in a client library tidies the input up: malformed bodies, bodies
//! cut short or over the limit, slow-loris clients and path traversal.
//! (Header floods, invalid header bytes, pipelining and request smuggling:
//! `hostile_protocol.rs`.)
//!
//! Where the relay itself answers, the answer is an Anthropic-format 4xx.
//! Where hyper refuses a request before the relay sees it (a request head it
//! cannot parse or that is too large), the answer is hyper's bare status line
//! with an empty body, and the connection is closed. Either way nothing
//! reaches the upstream, and the next request is served.

use std::time::Duration;

use tokio::time::Instant;

use crate::support::*;
use relay_test_support::TestClient;
use relay_test_support::raw_http::{self, exchange, parse_responses, raw_post};

const JSON: [(&str, &str); 1] = [("content-type", "application/json")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_get_400_and_never_reach_the_upstream() {
    let (relay, mock) = relay_with(&[]).await;
    let url = format!("{}/v1/messages", relay.url());
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bodies: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        br#"{"model":"claude-sonnet-4-5","messages":[{"role":"user","con"#.to_vec(),
        b"{\"model\":\"claude-\xff\xfe\"}".to_vec(),
        b"\xef\xbb\xbf{\"model\":\"claude-sonnet-4-5\"}".to_vec(),
        br#"{"model":"claude-sonnet-4-5"} trailing"#.to_vec(),
        br#"[{"model":"claude-sonnet-4-5"}]"#.to_vec(),
        br#""just a string""#.to_vec(),
        br#"{"model":null}"#.to_vec(),
        br#"{"model":""}"#.to_vec(),
        br#"{"model":["claude-sonnet-4-5"]}"#.to_vec(),
        br#"{"model":"claude-sonnet-4-5","stream":"yes"}"#.to_vec(),
        br#"{"model":"claude-sonnet-4-5","max_tokens":NaN}"#.to_vec(),
        format!(r#"{{"model":{deep}}}"#).into_bytes(),
    ];
    let client = TestClient::new();
    for body in bodies {
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        let response = client.request("POST", &url, &JSON, body).await.unwrap();
        assert_eq!(response.status, 400, "{shown}: {}", response.text());
        assert_anthropic_error(&response.body, "invalid_request_error");
    }
    assert_eq!(mock.request_count(), 0);
    // Deep nesting is valid JSON: the relay reads it without recursing and
    // relays it unchanged; the upstream decides what it accepts.
    for field in ["x", "messages", "metadata", "thinking"] {
        let body = format!(r#"{{"model":"claude-sonnet-4-5","{field}":{deep}}}"#);
        let response = client
            .request("POST", &url, &JSON, body.clone())
            .await
            .unwrap();
        assert_eq!(response.status, 200, "{field}");
        assert!(mock.requests().last().unwrap().body == body.as_bytes());
    }
    assert_still_serving(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_cut_short_by_the_client_is_refused() {
    let (relay, mock) = relay_with(&[]).await;
    let head = "POST /v1/messages HTTP/1.1\r\nHost: relay\r\nContent-Length: 100\r\n\r\n";
    // Half the body, then the client closes its side.
    let raw = exchange(
        relay.addr(),
        &[head.as_bytes(), b"{\"model\":"].concat(),
        true,
    )
    .await;
    match parse_responses(&raw.bytes).first() {
        Some(response) => {
            assert_eq!(response.status, 400);
            assert_anthropic_error(&response.body, "invalid_request_error");
        }
        None => assert!(raw.closed, "neither an answer nor a closed connection"),
    }
    assert_eq!(mock.request_count(), 0);
    assert_still_serving(&relay).await;
}

#[tokio::test(start_paused = true)]
async fn a_body_sent_too_slowly_is_cut_off() {
    let (relay, _mock) = relay_with(&[("header_read_timeout_ms", 500)]).await;
    let head =
        "POST /v1/messages HTTP/1.1\r\nHost: relay\r\nContent-Length: 100\r\n\r\n{\"model\":";
    let started = Instant::now();
    let raw =
        raw_http::exchange_holding_open(relay.addr(), head.as_bytes(), Duration::from_secs(5))
            .await;
    let responses = parse_responses(&raw.bytes);
    assert_eq!(
        responses.first().map(|r| r.status),
        Some(408),
        "the relay waited {:?} for the rest of the body",
        started.elapsed()
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "cut off after {:?}",
        started.elapsed()
    );
    assert!(raw.closed, "the connection is closed after a 408");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_refused_without_being_read() {
    let (relay, mock) = relay_with(&[("max_body_bytes", 1000)]).await;
    // Declared too large: refused at once, with no body sent at all and no
    // `100 Continue` first.
    for expect in ["", "Expect: 100-continue\r\n"] {
        let head = format!(
            "POST /v1/messages HTTP/1.1\r\nHost: relay\r\n{expect}Content-Length: 10000000000\r\n\r\n"
        );
        let raw =
            raw_http::exchange_holding_open(relay.addr(), head.as_bytes(), Duration::from_secs(5))
                .await;
        let responses = parse_responses(&raw.bytes);
        assert_eq!(
            responses.len(),
            1,
            "{}",
            String::from_utf8_lossy(&raw.bytes)
        );
        assert_eq!(responses[0].status, 413);
        assert_anthropic_error(&responses[0].body, "request_too_large");
        // The body was not read, so the connection cannot be reused: say so.
        assert_eq!(responses[0].header("connection"), Some("close"));
        assert!(raw.closed);
    }
    // Chunked, with no length to check and a body that never ends: refused
    // as soon as the limit is crossed.
    let mut request =
        b"POST /v1/messages HTTP/1.1\r\nHost: relay\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..8 {
        request.extend_from_slice(format!("100\r\n{}\r\n", "x".repeat(256)).as_bytes());
    }
    let raw = raw_http::exchange_holding_open(relay.addr(), &request, Duration::from_secs(5)).await;
    let responses = parse_responses(&raw.bytes);
    assert_eq!(responses.first().map(|r| r.status), Some(413));
    assert_eq!(mock.request_count(), 0);
    // A keep-alive client is not left holding a connection the relay closed.
    let client = TestClient::new();
    let url = format!("{}/v1/messages", relay.url());
    for body in ["x".repeat(200_000), message_body(false).to_string()] {
        let expected = if body.len() > 1000 { 413 } else { 200 };
        let response = client.request("POST", &url, &JSON, body).await.unwrap();
        assert_eq!(response.status, expected);
    }
}

#[tokio::test(start_paused = true)]
async fn slow_loris_clients_are_cut_off_at_the_header_read_timeout() {
    let (relay, _mock) = relay_with(&[("header_read_timeout_ms", 500)]).await;
    let addr = relay.addr();
    let started = Instant::now();
    let silent = raw_http::closed_within(addr, Vec::new(), Duration::from_secs(5));
    let trickle = raw_http::closed_within(
        addr,
        b"GET /health HTTP/1.1\r\nHost: relay\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaa"
            .iter()
            .map(|b| vec![*b])
            .collect(),
        Duration::from_secs(5),
    );
    let half_preface = raw_http::closed_within(
        addr,
        vec![b"PRI * HTTP/2.0\r\n".to_vec()],
        Duration::from_secs(5),
    );
    // A whole h2 preface, then nothing: no answer to the relay's pings.
    let preface = raw_http::closed_within(
        addr,
        vec![b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec()],
        Duration::from_secs(5),
    );
    let (silent, trickle, half_preface, preface) =
        tokio::join!(silent, trickle, half_preface, preface);
    for (name, closed_after) in [
        ("silent", silent),
        ("trickling", trickle),
        ("half an h2 preface", half_preface),
        ("an h2 preface then silence", preface),
    ] {
        let closed_after = closed_after.unwrap_or_else(|| panic!("{name}: never closed"));
        assert!(
            closed_after >= Duration::from_millis(400),
            "{name}: closed after {closed_after:?}, before the timeout"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // An idle keep-alive connection is closed after the same time.
    let idle = raw_http::exchange_holding_open(
        addr,
        b"GET /health HTTP/1.1\r\nHost: relay\r\n\r\n",
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        parse_responses(&idle.bytes).first().map(|r| r.status),
        Some(200)
    );
    assert!(idle.closed, "the idle connection was kept open");
    assert_still_serving(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_traversal_finds_no_route_and_never_leaves_the_upstream_path() {
    let (relay, mock) = relay_with(&[]).await;
    for (method, path) in [
        ("GET", "/../../etc/passwd"),
        ("GET", "/v1/../health"),
        ("GET", "/%2e%2e/%2e%2e/etc/passwd"),
        ("GET", "/v1/models/../../../etc/passwd"),
        ("POST", "/v1/messages/../../etc/passwd"),
        ("POST", "/v1/messages/..%2f..%2fadmin"),
        ("POST", "//v1/messages"),
        ("POST", "/v1/messages%00"),
        ("POST", "/V1/MESSAGES"),
    ] {
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: relay\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}"
        );
        let raw = exchange(relay.addr(), request.as_bytes(), false).await;
        let responses = parse_responses(&raw.bytes);
        assert_eq!(responses.len(), 1, "{path}");
        assert_eq!(responses[0].status, 404, "{method} {path}");
        assert_anthropic_error(&responses[0].body, "not_found_error");
    }
    assert_eq!(mock.request_count(), 0, "nothing was forwarded");
    // A query string is forwarded as it is, under the provider's base path.
    let body = message_body(false).to_string();
    let request = raw_post(&body)
        .replacen(
            "/v1/messages",
            "/v1/messages?x=../../../etc/passwd&y=%2e%2e",
            1,
        )
        .replacen("Host: relay\r\n", "Host: relay\r\nConnection: close\r\n", 1);
    let raw = exchange(relay.addr(), request.as_bytes(), false).await;
    assert_eq!(parse_responses(&raw.bytes)[0].status, 200);
    assert_eq!(
        mock.requests()[0].path_and_query,
        "/v1/messages?x=../../../etc/passwd&y=%2e%2e"
    );
}
