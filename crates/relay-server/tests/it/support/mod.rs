//! Helpers shared by the in-process server tests: the relay
//! ([`TestRelay`]) in front of mock upstreams on loopback.
#![allow(dead_code)]

pub mod logs;
mod relay;

pub use relay::TestRelay;
pub use relay_test_support::config::{Provider, RELAY_KEY, RelayConfig, UPSTREAM_KEY};
use relay_test_support::{MockUpstream, TestResponse, TestStream};

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

pub use relay_test_support::requests::{assert_anthropic_error, message_body, mocks};

/// A mock upstream and a relay in front of it.
pub async fn relay_and_mock() -> (TestRelay, MockUpstream) {
    let mock = MockUpstream::start().await.expect("mock starts");
    let relay = start_relay_with(&RelayConfig::one_provider(&mock.url())).await;
    (relay, mock)
}

/// Sends [`message_body`]`(stream)` through the relay and reads the whole
/// answer.
pub async fn post_message(
    relay: &TestRelay,
    headers: &[(&str, &str)],
    stream: bool,
) -> TestResponse {
    relay_test_support::requests::post_message(&relay.url(), headers, stream).await
}

/// The relay's `GET /v1/providers`, as JSON.
pub async fn list_providers(relay: &TestRelay) -> serde_json::Value {
    relay_test_support::requests::list_providers(&relay.url()).await
}

/// Opens a streaming Messages request through the relay; returns once the
/// response headers arrived.
pub async fn open_stream(relay: &TestRelay) -> TestStream {
    relay_test_support::requests::open_stream(&relay.url()).await
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
