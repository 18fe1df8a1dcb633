//! Claude Code behaves the same on every backend (issue #12), through the
//! real binary against loopback mocks: the client's model restored, `*`
//! patterns in model mappings, `/v1/models`, beta and field policies on
//! Vertex and Bedrock, `count_tokens` estimated without hurting routing,
//! and SSE keepalives; with the official Python SDK and the Claude Code CLI
//! as clients.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use relay_test_support::{MockReply, MockUpstream, RelayProcess, TestClient};
use serde_json::{Value, json};

const VERTEX_TOKEN: &str = "ya29.vertex-access-token-0005";
const TEST_KEY: &str = include_str!("../../../crates/relay-providers/testdata/test_rsa_pkcs8.pem");
const CLAUDE_CODE_BETAS: &str = "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,thinking-token-count-2026-05-13,advanced-tool-use-2025-11-20";

/// A Z.AI-style provider that maps Claude ids to GLM ones, exact and by pattern.
fn zai(upstream: &str) -> Provider {
    Provider::new("zai", "zai")
        .base_url(upstream)
        .key(UPSTREAM_KEY)
        .models(&["claude-sonnet-4-5"])
        .model_mapping(&[
            ("claude-sonnet-4-5", "glm-4.6"),
            ("claude-3-5-haiku-latest", "glm-4.5-air"),
            ("claude-*haiku-*", "glm-4.5-air"),
            ("claude-opus-*", "glm-4.6-opus"),
            ("claude-*", "glm-4.5"),
        ])
}

fn config(provider: Provider) -> RelayConfig {
    RelayConfig::new()
        .server("timeout_ms", 10000)
        .server("auth", json!({ "api_key": RELAY_KEY }))
        .provider(provider)
        .health("health_check", json!({ "enabled": false }))
        .logging("level", "debug")
}

async fn run_python(script: &str, args: &[&str]) -> Value {
    let output = tokio::process::Command::new(relay_test_support::tools::python())
        .arg(format!("{}/tests/sdk/{script}", env!("CARGO_MANIFEST_DIR")))
        .args(args)
        .output()
        .await
        .expect("the test Python runs");
    assert!(
        output.status.success(),
        "the SDK client failed (scripts/test installs its packages):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn post(
    relay: &RelayProcess,
    path: &str,
    headers: &[(&str, &str)],
    body: &Value,
) -> relay_test_support::TestResponse {
    let mut all = vec![("x-api-key", RELAY_KEY)];
    all.extend_from_slice(headers);
    TestClient::new()
        .post_json(format!("{}{path}", relay.url()), &all, body)
        .await
        .expect("the relay answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_sees_the_model_it_asked_for_and_patterns_map_new_ids() {
    let mock = MockUpstream::start().await.unwrap();
    mock.set_default(MockReply::auto());
    let relay = start_relay_with(&config(zai(&mock.url()))).await;

    let asked = [
        ("claude-sonnet-4-5", "glm-4.6"),
        ("claude-haiku-4-5-20251001", "glm-4.5-air"),
        ("claude-opus-4-8", "glm-4.6-opus"),
        ("claude-sonnet-4-6", "glm-4.5"),
    ];
    let mut args = vec![relay.url(), RELAY_KEY.to_owned()];
    args.extend(asked.iter().map(|(client, _)| (*client).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let seen = run_python("fidelity_sdk_client.py", &args).await;

    for (client, upstream) in asked {
        let got = &seen["models"][client];
        assert_eq!(got["message_model"], client, "{got}");
        assert_eq!(got["message_start_model"], client, "{got}");
        assert_eq!(got["final_model"], client, "{got}");
        assert!(got["count_tokens"].as_u64().unwrap() > 0, "{got}");
        // The upstream got the mapped id each time (message, stream, count).
        let received: Vec<String> = mock
            .requests()
            .iter()
            .filter_map(|r| r.json().ok())
            .filter_map(|b| b["model"].as_str().map(str::to_owned))
            .collect();
        assert!(
            received.iter().any(|m| m == upstream),
            "{upstream} not in {received:?}"
        );
        assert!(
            !received.iter().any(|m| m == client),
            "{client} reached the upstream"
        );
    }
    // Listed: `models` plus the mapping's exact keys, once each, no patterns.
    assert_eq!(
        seen["listed"],
        json!(["claude-sonnet-4-5", "claude-3-5-haiku-latest"])
    );

    // Only the model's bytes change: the rest of a JSON body is the upstream's.
    mock.enqueue(MockReply::json(
        200,
        json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "glm-4.6",
               "content": [{"type": "text", "text": "\"model\": \"glm-4.6\""}],
               "stop_reason": "end_turn", "usage": {"input_tokens": 3, "output_tokens": 4}}),
    ));
    let response = post(&relay, "/v1/messages", &[], &message_body(false)).await;
    let body: Value = response.json().unwrap();
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["content"][0]["text"], "\"model\": \"glm-4.6\"");
    assert_no_secret_logged(&relay, &[RELAY_KEY, UPSTREAM_KEY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_is_byte_exact_but_for_the_model() {
    let mock = MockUpstream::start().await.unwrap();
    let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"glm-4.6\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\n";
    let rest = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n: upstream comment\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"glm-4.6 says hi\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":3}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    mock.enqueue(
        MockReply::sse_raw([start.to_owned(), rest.to_owned()])
            .header("content-type", "text/event-stream"),
    );
    let relay = start_relay_with(&config(zai(&mock.url())).server("sse_keepalive_ms", 0)).await;
    let response = post(&relay, "/v1/messages", &[], &message_body(true)).await;
    let expected = format!("{}{rest}", start.replace("glm-4.6", "claude-sonnet-4-5"));
    assert_eq!(response.text(), expected);
    assert_eq!(mock.requests()[0].json().unwrap()["model"], "glm-4.6");
}

/// A Vertex provider behind a mock token endpoint.
async fn vertex_provider(
    vertex: &MockUpstream,
    tokens: &MockUpstream,
    dir: &std::path::Path,
) -> Provider {
    tokens.set_default(MockReply::json(
        200,
        json!({"access_token": VERTEX_TOKEN, "expires_in": 3599, "token_type": "Bearer"}),
    ));
    let credentials = dir.join("service-account.json");
    let account = json!({"type": "service_account", "project_id": "relay-test",
        "private_key_id": "kid-1", "private_key": TEST_KEY,
        "client_email": "relay@relay-test.iam.gserviceaccount.com",
        "token_uri": format!("{}/token", tokens.url())});
    std::fs::write(&credentials, account.to_string()).unwrap();
    Provider::new("vertex", "vertex")
        .base_url(&vertex.url())
        .set("gcp_project_id", "relay-test")
        .set("gcp_region", "us-east5")
        .set("gcp_credentials_file", credentials.display().to_string())
        .models(&["claude-sonnet-4-5"])
        .model_mapping(&[("claude-sonnet-4-*", "claude-sonnet-4-5@20250929")])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vertex_and_bedrock_receive_only_the_betas_and_fields_they_accept() {
    let (vertex, tokens, bedrock) = (
        MockUpstream::start().await.unwrap(),
        MockUpstream::start().await.unwrap(),
        MockUpstream::start().await.unwrap(),
    );
    for _ in 0..3 {
        vertex.enqueue(MockReply::message("Hello from Vertex"));
    }
    vertex.enqueue(MockReply::stream("Hello streamed Vertex"));
    vertex.enqueue(MockReply::json(200, json!({"input_tokens": 7})));
    bedrock.set_default(MockReply::message("Hello from Bedrock"));
    let dir = tempfile::tempdir().unwrap();
    let provider = vertex_provider(&vertex, &tokens, dir.path()).await;
    let relay = start_relay_with(&config(provider)).await;
    let mut body = message_body(false);
    body["context_management"] =
        json!({"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]});

    // Claude Code's betas without the context-management one: the field goes too.
    let without = "claude-code-20250219,interleaved-thinking-2025-05-14";
    let response = post(
        &relay,
        "/v1/messages",
        &[("anthropic-beta", without)],
        &body,
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text());
    // With it (Vertex accepts that beta), the field stays.
    post(
        &relay,
        "/v1/messages",
        &[("anthropic-beta", CLAUDE_CODE_BETAS)],
        &body,
    )
    .await;
    let requests = vertex.requests();
    assert_eq!(
        requests[0].header("anthropic-beta"),
        Some("interleaved-thinking-2025-05-14")
    );
    assert!(
        requests[0]
            .json()
            .unwrap()
            .get("context_management")
            .is_none()
    );
    assert_eq!(
        requests[1].header("anthropic-beta"),
        Some("interleaved-thinking-2025-05-14,context-management-2025-06-27")
    );
    assert!(
        requests[1]
            .json()
            .unwrap()
            .get("context_management")
            .is_some()
    );
    // The SDK still works through it.
    let seen = run_python(
        "fidelity_sdk_client.py",
        &[&relay.url(), RELAY_KEY, "claude-sonnet-4-5"],
    )
    .await;
    assert_eq!(
        seen["models"]["claude-sonnet-4-5"]["message_model"],
        "claude-sonnet-4-5"
    );
    drop(relay);

    // Bedrock: the body's own `anthropic_beta` is filtered the same way.
    let provider = Provider::new("bedrock", "bedrock")
        .base_url(&bedrock.url())
        .set("aws_region", "us-west-2")
        .key("bedrock-api-key-0009")
        .model_mapping(&[("claude-*", "us.anthropic.claude-sonnet-4-5-20250929-v1:0")]);
    let relay = start_relay_with(&config(provider)).await;
    body["anthropic_beta"] = json!(["claude-code-20250219", "interleaved-thinking-2025-05-14"]);
    let response = post(&relay, "/v1/messages", &[], &body).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json().unwrap()["model"], "claude-sonnet-4-5");
    let sent = bedrock.requests()[0].json().unwrap();
    assert_eq!(
        sent["anthropic_beta"],
        json!(["interleaved-thinking-2025-05-14"])
    );
    assert!(sent.get("context_management").is_none(), "{sent}");
    assert!(
        bedrock.requests()[0]
            .path_and_query
            .contains("us.anthropic.claude-sonnet-4-5")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_tokens_is_estimated_where_the_upstream_has_no_endpoint() {
    let mock = MockUpstream::start().await.unwrap();
    mock.set_default(MockReply::error(404, "not_found_error", "Not Found"));
    let provider = zai(&mock.url()).set("keys", json!([{ "key": UPSTREAM_KEY, "rpm_limit": 2 }]));
    // No client auth, so /v1/providers answers without a key.
    let relay = start_relay_with(
        &RelayConfig::new()
            .server("timeout_ms", 10000)
            .provider(provider)
            .health("health_check", json!({ "enabled": false })),
    )
    .await;
    let body = message_body(false);
    for _ in 0..20 {
        let response = post(&relay, "/v1/messages/count_tokens", &[], &body).await;
        assert_eq!(response.status, 200, "{}", response.text());
        assert_eq!(response.header("x-cc-relay-estimate"), Some("true"));
        assert!(response.json().unwrap()["input_tokens"].as_u64().unwrap() > 0);
    }
    assert_eq!(mock.request_count(), 20);
    let providers = list_providers(&relay).await;
    assert_eq!(providers["data"][0]["circuit"], "closed", "{providers}");
    // Neither a cooldown nor the key's 2 requests a minute were spent.
    for _ in 0..2 {
        mock.enqueue(MockReply::message("still here"));
        let response = post(&relay, "/v1/messages", &[], &body).await;
        assert_eq!(response.status, 200, "{}", response.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_tokens_on_a_provider_without_the_endpoint_is_estimated() {
    let bedrock = MockUpstream::start().await.unwrap();
    let provider = Provider::new("bedrock", "bedrock")
        .base_url(&bedrock.url())
        .set("aws_region", "us-west-2")
        .key("bedrock-api-key-0009");
    let relay = start_relay_with(&config(provider)).await;
    let response = post(
        &relay,
        "/v1/messages/count_tokens",
        &[],
        &message_body(false),
    )
    .await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("x-cc-relay-estimate"), Some("true"));
    assert_eq!(bedrock.request_count(), 0);
}

/// Upstream: `message_start`, 3 s of silence, the rest.
fn pausing_stream() -> MockReply {
    let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}}\n\n";
    let rest = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"after a pause\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":3}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    MockReply::sse_raw([start.to_owned(), rest.to_owned()])
        .header("content-type", "text/event-stream")
        .event_delay(Duration::from_millis(3000))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_silences_get_keepalive_comments_that_never_reset_the_idle_timeout() {
    let mock = MockUpstream::start().await.unwrap();
    mock.enqueue(pausing_stream());
    mock.enqueue(pausing_stream());
    let base = RelayConfig::new()
        .server("timeout_ms", 10000)
        .server("sse_keepalive_ms", 1000)
        .provider(Provider::primary(&mock.url()))
        .logging("level", "debug");
    let relay = start_relay_with(&base).await;
    let text = open_stream(&relay).await.collect_body().await.unwrap();
    let text = String::from_utf8(text.to_vec()).unwrap();
    assert!(text.matches(": keepalive\n\n").count() >= 2, "{text}");
    assert!(
        text.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
        "{text}"
    );
    assert!(!text.contains("event: error"), "{text}");
    drop(relay);

    // An idle timeout shorter than the silence still fires, keepalives or not.
    let relay = start_relay_with(&base.server("stream_idle_timeout_ms", 2000)).await;
    let text = open_stream(&relay).await.collect_body().await.unwrap();
    let text = String::from_utf8(text.to_vec()).unwrap();
    assert!(text.contains(": keepalive\n\n"), "{text}");
    assert!(text.contains("event: error"), "{text}");
    assert!(!text.contains("message_stop"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_code_works_through_the_relay_on_a_mapped_backend() {
    let claude = relay_test_support::tools::claude_code();
    let mock = MockUpstream::start().await.unwrap();
    mock.set_default(MockReply::auto());
    let relay = start_relay_with(&config(zai(&mock.url())).server("sse_keepalive_ms", 1000)).await;
    let home = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new(claude);
    command
        .args([
            "-p",
            "Say hello",
            "--max-turns",
            "1",
            "--output-format",
            "json",
        ])
        .current_dir(home.path())
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("ANTHROPIC_BASE_URL", relay.url())
        .env("ANTHROPIC_API_KEY", RELAY_KEY)
        // Offline: no telemetry, error reports, update checks or other calls home.
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("claude -p finishes")
        .expect("claude runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "claude -p failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(result["is_error"], false, "{result}");
    // Every model Claude Code asked for reached the mock as a GLM id.
    let requests = mock.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        if let Ok(body) = request.json()
            && let Some(model) = body["model"].as_str()
        {
            assert!(
                model.starts_with("glm-"),
                "{model} reached the upstream unmapped"
            );
        }
    }
}
