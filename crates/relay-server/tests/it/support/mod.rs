//! Helpers shared by the in-process server tests: the relay
//! ([`TestRelay`]) in front of mock upstreams on loopback.
#![allow(dead_code)]

pub mod logs;
mod relay;

pub use relay::TestRelay;
pub use relay_test_support::config::{Provider, RELAY_KEY, RelayConfig, UPSTREAM_KEY};
use relay_test_support::{MockUpstream, TestClient, TestResponse, TestStream};

/// A configuration with one `anthropic` provider at `upstream`, with a key
/// ([`RelayConfig::one_provider`]).
pub fn one_provider(upstream: &str) -> String {
    RelayConfig::one_provider(upstream).yaml()
}

/// Starts the relay with a configuration file's text.
pub async fn start_relay(config_yaml: &str) -> TestRelay {
    TestRelay::from_yaml(config_yaml).await
}

/// Starts the relay with `config`.
pub async fn start_relay_with(config: &RelayConfig) -> TestRelay {
    TestRelay::with(config).await
}

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

/// A mock upstream and a relay in front of it.
pub async fn relay_and_mock() -> (TestRelay, MockUpstream) {
    let mock = MockUpstream::start().await.expect("mock starts");
    let relay = start_relay_with(&RelayConfig::one_provider(&mock.url())).await;
    (relay, mock)
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

/// Sends [`message_body`]`(stream)` through the relay and reads the whole
/// answer.
pub async fn post_message(
    relay: &TestRelay,
    headers: &[(&str, &str)],
    stream: bool,
) -> TestResponse {
    TestClient::new()
        .post_json(
            format!("{}/v1/messages", relay.url()),
            headers,
            &message_body(stream),
        )
        .await
        .expect("the relay answers")
}

/// The relay's `GET /v1/providers`, as JSON.
pub async fn list_providers(relay: &TestRelay) -> serde_json::Value {
    TestClient::new()
        .get(format!("{}/v1/providers", relay.url()))
        .await
        .expect("the relay answers")
        .json()
        .expect("a JSON list")
}

/// Opens a streaming Messages request through the relay; returns once the
/// response headers arrived.
pub async fn open_stream(relay: &TestRelay) -> TestStream {
    TestClient::new()
        .stream(
            "POST",
            format!("{}/v1/messages", relay.url()),
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

/// Asserts no secret appears in any log line the relays emitted
/// ([`logs::assert_no_secret_logged`]); `relay` keeps the call sites the
/// binary's tests had.
pub fn assert_no_secret_logged(relay: &TestRelay, secrets: &[&str]) {
    let _ = relay;
    logs::assert_no_secret_logged(secrets);
}

/// A relay in front of a mock ([`RelayConfig::one_provider`]), with the
/// `server` settings added.
pub async fn relay_with(server: &[(&str, u64)]) -> (TestRelay, MockUpstream) {
    let mock = MockUpstream::start().await.expect("mock starts");
    let mut config = RelayConfig::one_provider(&mock.url());
    for (key, value) in server {
        config = config.server(key, *value);
    }
    (start_relay_with(&config).await, mock)
}

/// The relay still answers a normal request on a new connection.
pub async fn assert_still_serving(relay: &TestRelay) {
    let ok = post_message(relay, &[], false).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
}
