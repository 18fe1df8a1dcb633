//! The requests and checks every relay test repeats, written once for both
//! harnesses (the in-process `relay-server` tests and the binary's): each
//! takes the relay's base URL, so it serves a `RelayProcess` and an
//! in-process relay alike.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers: a failed step fails the test, with what failed"
)]

use crate::{MockUpstream, TestClient, TestResponse, TestStream};

/// `N` mock upstreams: `let [primary, secondary] = mocks().await;`.
pub async fn mocks<const N: usize>() -> [MockUpstream; N] {
    let mut started = Vec::with_capacity(N);
    for _ in 0..N {
        started.push(MockUpstream::start().await.expect("mock starts"));
    }
    let Ok(mocks) = started.try_into() else {
        unreachable!("N mocks were started")
    };
    mocks
}

/// A minimal valid Messages request body.
pub fn message_body(stream: bool) -> serde_json::Value {
    serde_json::json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 64,
        "stream": stream,
        "messages": [{ "role": "user", "content": "hello" }]
    })
}

/// Sends [`message_body`]`(stream)` to the relay at `base_url` and reads the
/// whole answer.
pub async fn post_message(base_url: &str, headers: &[(&str, &str)], stream: bool) -> TestResponse {
    TestClient::new()
        .post_json(
            format!("{base_url}/v1/messages"),
            headers,
            &message_body(stream),
        )
        .await
        .expect("the relay answers")
}

/// The relay's `GET /v1/providers`, as JSON.
pub async fn list_providers(base_url: &str) -> serde_json::Value {
    TestClient::new()
        .get(format!("{base_url}/v1/providers"))
        .await
        .expect("the relay answers")
        .json()
        .expect("a JSON list")
}

/// Opens a streaming Messages request through the relay; returns once the
/// response headers arrived.
pub async fn open_stream(base_url: &str) -> TestStream {
    TestClient::new()
        .stream(
            "POST",
            format!("{base_url}/v1/messages"),
            &[("content-type", "application/json")],
            message_body(true).to_string(),
        )
        .await
        .expect("the stream opens")
}

/// Asserts `body` is an Anthropic error of `error_type`.
pub fn assert_anthropic_error(body: &[u8], error_type: &str) {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "error body is not JSON ({e}): {}",
            String::from_utf8_lossy(body)
        )
    });
    assert_eq!(value["type"], "error", "{value}");
    assert_eq!(value["error"]["type"], error_type, "{value}");
    assert!(
        value["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{value}"
    );
}
