//! The official Anthropic Python SDK as the client, through the real binary:
//! non-streaming, streaming, count_tokens, model listing and a relayed error.
//! `scripts/test` installs the SDK in its virtualenv.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use relay_test_support::{MockReply, MockUpstream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_works_through_the_relay() {
    let mock = MockUpstream::start().await.unwrap();
    // The fourth request (after create, stream and count_tokens) gets an upstream 529.
    mock.enqueue(MockReply::message("Hello from the mock"));
    mock.enqueue(MockReply::stream("Hello streamed world"));
    mock.enqueue(MockReply::auto());
    mock.enqueue(MockReply::error(529, "overloaded_error", "Overloaded"));
    let config = RelayConfig::new()
        .provider(Provider::primary(&mock.url()))
        .server("auth", serde_json::json!({ "api_key": RELAY_KEY }))
        .logging("level", "debug");
    let relay = start_relay_with(&config).await;

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sdk/anthropic_sdk_client.py"
    );
    let output = tokio::process::Command::new(relay_test_support::tools::python())
        .arg(script)
        .arg(relay.url())
        .arg(RELAY_KEY)
        .output()
        .await
        .expect("the test Python runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the SDK client failed (scripts/test installs its packages):\n{stderr}"
    );
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();

    assert_eq!(seen["message_text"], "Hello from the mock");
    assert_eq!(seen["stream_text"], "Hello streamed world");
    let events: Vec<&str> = seen["stream_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        events.contains(&"message_start") && events.contains(&"message_stop"),
        "{events:?}"
    );
    assert!(seen["count_tokens"].as_u64().unwrap() > 0);
    assert_eq!(seen["error"]["status"], 529);
    assert_eq!(seen["error"]["type"], "overloaded_error");
    assert_eq!(
        seen["models"],
        serde_json::json!(["claude-sonnet-4-5", "claude-haiku-4-5"])
    );

    // The SDK sent the relay key; the upstream only ever saw the provider's.
    for request in mock.requests() {
        assert_eq!(request.header("x-api-key"), Some(UPSTREAM_KEY));
    }
    assert_no_secret_logged(&relay, &[RELAY_KEY, UPSTREAM_KEY]);
}
