//! Helpers shared by the integration tests: start the real `cc-relay` binary
//! against mock upstreams on loopback.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// Not every test binary uses all of them.
#[allow(unused_imports)]
pub use relay_test_support::config::{Provider, RELAY_KEY, RelayConfig, UPSTREAM_KEY};
use relay_test_support::{MockUpstream, RelayOptions, RelayProcess, TestResponse, TestStream};

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

#[allow(
    unused_imports,
    reason = "each test binary uses its own share of these"
)]
pub use relay_test_support::requests::{assert_anthropic_error, message_body, mocks};

/// A mock upstream and a relay in front of it.
pub async fn relay_and_mock() -> (RelayProcess, MockUpstream) {
    let mock = MockUpstream::start().await.expect("mock starts");
    let relay = start_relay_with(&RelayConfig::one_provider(&mock.url())).await;
    (relay, mock)
}

/// Sends [`message_body`]`(stream)` through the relay and reads the whole
/// answer.
pub async fn post_message(
    relay: &RelayProcess,
    headers: &[(&str, &str)],
    stream: bool,
) -> TestResponse {
    relay_test_support::requests::post_message(&relay.url(), headers, stream).await
}

/// The relay's `GET /v1/providers`, as JSON.
pub async fn list_providers(relay: &RelayProcess) -> serde_json::Value {
    relay_test_support::requests::list_providers(&relay.url()).await
}

/// Opens a streaming Messages request through the relay; returns once the
/// response headers arrived.
pub async fn open_stream(relay: &RelayProcess) -> TestStream {
    relay_test_support::requests::open_stream(&relay.url()).await
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
