//! Helpers shared by the integration tests: start the real `cc-relay` binary
//! against mock upstreams on loopback.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// Not every test binary uses all of them.
#[allow(unused_imports)]
pub use relay_test_support::config::{Provider, RELAY_KEY, RelayConfig, UPSTREAM_KEY};
use relay_test_support::{
    MockUpstream, RelayOptions, RelayProcess, TestClient, TestResponse, TestStream,
};

/// A configuration with one `anthropic` provider at `upstream`, with a key
/// ([`RelayConfig::one_provider`]).
pub fn one_provider(upstream: &str) -> String {
    RelayConfig::one_provider(upstream).yaml()
}

/// Starts the relay binary with `config_yaml` (and extra `serve` args).
pub async fn start_relay(config_yaml: &str, args: &[&str]) -> RelayProcess {
    RelayProcess::start(RelayOptions {
        binary: env!("CARGO_BIN_EXE_cc-relay").into(),
        config_yaml: Some(config_yaml.to_owned()),
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        ..RelayOptions::default()
    })
    .await
    .expect("relay starts")
}

/// Starts the relay binary with `config`.
pub async fn start_relay_with(config: &RelayConfig) -> RelayProcess {
    start_relay(&config.yaml(), &[]).await
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
pub async fn relay_and_mock() -> (RelayProcess, MockUpstream) {
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
    relay: &RelayProcess,
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
pub async fn list_providers(relay: &RelayProcess) -> serde_json::Value {
    TestClient::new()
        .get(format!("{}/v1/providers", relay.url()))
        .await
        .expect("the relay answers")
        .json()
        .expect("a JSON list")
}

/// Opens a streaming Messages request through the relay; returns once the
/// response headers arrived.
pub async fn open_stream(relay: &RelayProcess) -> TestStream {
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

/// Asserts no secret appears anywhere in the relay's output.
pub fn assert_no_secret_logged(relay: &RelayProcess, secrets: &[&str]) {
    for line in relay.logs() {
        for secret in secrets {
            assert!(
                !line.contains(secret),
                "secret leaked into a log line: {line}"
            );
        }
    }
}
