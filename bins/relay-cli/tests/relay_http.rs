//! The relay's non-streaming behaviour through the real binary: endpoints,
//! byte-exact forwarding, headers, credentials, and every error it produces.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use relay_test_support::{MockReply, MockUpstream, TestClient, unused_local_addr};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_models_providers_and_404() {
    let (relay, _mock) = relay_and_mock().await;
    let client = TestClient::new();

    let health = client.get(format!("{}/health", relay.url())).await.unwrap();
    assert_eq!(health.status, 200);
    assert_eq!(health.json().unwrap(), serde_json::json!({"status": "ok"}));

    let models = client
        .get(format!("{}/v1/models", relay.url()))
        .await
        .unwrap();
    assert_eq!(models.status, 200);
    let models = models.json().unwrap();
    assert_eq!(models["data"][0]["type"], "model");
    assert_eq!(models["data"][0]["id"], "claude-sonnet-4-5");
    assert_eq!(models["data"][0]["display_name"], "Claude Sonnet 4.5");
    assert!(
        models["data"][0]["created_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert_eq!(models["data"][1]["id"], "claude-haiku-4-5");
    assert_eq!(models["has_more"], false);
    assert_eq!(models["first_id"], "claude-sonnet-4-5");
    assert_eq!(models["last_id"], "claude-haiku-4-5");

    let page = client
        .get(format!("{}/v1/models?limit=1", relay.url()))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    assert_eq!(page["has_more"], true);

    let providers = client
        .get(format!("{}/v1/providers", relay.url()))
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(providers["object"], "list");
    assert_eq!(providers["data"][0]["name"], "primary");
    assert_eq!(providers["data"][0]["type"], "anthropic");
    assert_eq!(providers["data"][0]["active"], true);
    assert_eq!(providers["data"][0]["models"][0], "claude-sonnet-4-5");

    let missing = client
        .get(format!("{}/v2/nothing", relay.url()))
        .await
        .unwrap();
    assert_eq!(missing.status, 404);
    assert_anthropic_error(&missing.body, "not_found_error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_the_claude_code_fixture_byte_for_byte() {
    let fixture_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures");
    let Ok(body) = std::fs::read(format!("{fixture_dir}/claude-code-request.json")) else {
        panic!("fixture missing: ../shared/fixtures must sit beside the repository");
    };
    let recorded: serde_json::Value = serde_json::from_slice(
        &std::fs::read(format!("{fixture_dir}/claude-code-request.headers.json")).unwrap(),
    )
    .unwrap();
    let mut headers: Vec<(String, String)> = recorded["headers"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "connection" | "content-length" | "host"))
        .map(|(name, value)| (name.clone(), value.as_str().unwrap().to_owned()))
        .collect();
    headers.push(("x-api-key".into(), "client-key-should-be-replaced".into()));
    let header_refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();

    let (relay, mock) = relay_and_mock().await;
    let path = recorded["path"].as_str().unwrap();
    let response = TestClient::new()
        .request(
            "POST",
            format!("{}{path}", relay.url()),
            &header_refs,
            body.clone(),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());

    let upstream = &mock.requests()[0];
    assert_eq!(upstream.path_and_query, "/v1/messages?beta=true");
    assert_eq!(
        upstream.body.as_ref(),
        body.as_slice(),
        "the body must arrive byte for byte"
    );
    for name in [
        "anthropic-version",
        "anthropic-beta",
        "x-claude-code-session-id",
        "user-agent",
        "x-app",
    ] {
        assert_eq!(
            upstream.header(name),
            recorded["headers"][name].as_str(),
            "{name}"
        );
    }
    assert_eq!(
        upstream.header("x-api-key"),
        Some(UPSTREAM_KEY),
        "the provider's key replaces the client's"
    );
    assert_eq!(upstream.header("accept-encoding"), None);
    assert_no_secret_logged(&relay, &[UPSTREAM_KEY, "client-key-should-be-replaced"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_mapping_rewrites_only_the_model_value() {
    let mock = MockUpstream::start().await.unwrap();
    let zai = Provider::new("zai", "zai")
        .base_url(&format!("{}/api/anthropic", mock.url()))
        .models(&["claude-sonnet-4-5"])
        .model_mapping(&[("claude-sonnet-4-5", "glm-4.6")])
        .key(UPSTREAM_KEY);
    let relay = start_relay_with(&RelayConfig::new().provider(zai)).await;
    let body = r#"{"model" :  "claude-sonnet-4-5","max_tokens":5, "messages":[{"role":"user","content":"model: claude-sonnet-4-5"}]}"#;
    let response = TestClient::new()
        .request(
            "POST",
            format!("{}/v1/messages", relay.url()),
            &[("content-type", "application/json")],
            body,
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    let upstream = &mock.requests()[0];
    assert_eq!(upstream.path_and_query, "/api/anthropic/v1/messages");
    assert_eq!(
        std::str::from_utf8(&upstream.body).unwrap(),
        body.replacen("\"claude-sonnet-4-5\"", "\"glm-4.6\"", 1),
        "only the model value changes; spacing, order and message text are untouched"
    );
    assert_eq!(
        upstream.header("authorization"),
        Some(format!("Bearer {UPSTREAM_KEY}").as_str())
    );
    assert_eq!(upstream.header("x-api-key"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transparent_mode_passes_client_credentials_but_never_the_relay_key() {
    let mock = MockUpstream::start().await.unwrap();
    let config = RelayConfig::new()
        .server(
            "auth",
            json!({ "api_key": RELAY_KEY, "allow_bearer": true }),
        )
        .provider(Provider::anthropic("anthropic", &mock.url()));
    let relay = start_relay_with(&config).await;
    let client = TestClient::new();
    let url = format!("{}/v1/messages", relay.url());

    // A subscription user: the bearer token is the client's own, and passes through.
    let response = client
        .post_json(
            &url,
            &[("authorization", "Bearer sk-ant-oat-client")],
            &message_body(false),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        mock.requests()[0].header("authorization"),
        Some("Bearer sk-ant-oat-client")
    );

    // The relay's own key authenticates the client and is then removed.
    let response = client
        .post_json(&url, &[("x-api-key", RELAY_KEY)], &message_body(false))
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(mock.requests()[1].header("x-api-key"), None);

    let refused = client
        .post_json(&url, &[("x-api-key", "wrong")], &message_body(false))
        .await
        .unwrap();
    assert_eq!(refused.status, 401);
    assert_anthropic_error(&refused.body, "authentication_error");
    let refused = client
        .post_json(&url, &[], &message_body(false))
        .await
        .unwrap();
    assert_eq!(refused.status, 401);
    assert_eq!(
        mock.request_count(),
        2,
        "refused requests never reach the upstream"
    );
    // Health stays open for supervisors.
    assert_eq!(
        client
            .get(format!("{}/health", relay.url()))
            .await
            .unwrap()
            .status,
        200
    );
    assert_no_secret_logged(&relay, &[RELAY_KEY, "sk-ant-oat-client"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_errors_pass_through_unchanged() {
    let (relay, mock) = relay_and_mock().await;
    let error_body = serde_json::json!({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}});
    mock.enqueue(
        MockReply::json(429, error_body.clone())
            .header("retry-after", "17")
            .header("anthropic-ratelimit-requests-remaining", "0")
            .header("request-id", "req_upstream_1"),
    );
    let response = post_message(&relay, &[], false).await;
    assert_eq!(response.status, 429);
    assert_eq!(response.json().unwrap(), error_body);
    assert_eq!(response.header("retry-after"), Some("17"));
    assert_eq!(
        response.header("anthropic-ratelimit-requests-remaining"),
        Some("0")
    );
    assert_eq!(response.header("request-id"), Some("req_upstream_1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_anthropic_errors_and_the_relay_keeps_serving() {
    let (relay, mock) = relay_and_mock().await;
    let client = TestClient::new();
    let url = format!("{}/v1/messages", relay.url());
    let json = [("content-type", "application/json")];

    let not_json = client
        .request("POST", &url, &json, "{\"model\": ")
        .await
        .unwrap();
    assert_eq!(not_json.status, 400);
    assert_anthropic_error(&not_json.body, "invalid_request_error");

    let no_model = client
        .request("POST", &url, &json, r#"{"messages":[]}"#)
        .await
        .unwrap();
    assert_eq!(no_model.status, 400);
    assert_anthropic_error(&no_model.body, "invalid_request_error");
    assert!(no_model.text().contains("model"), "{}", no_model.text());

    let not_string = client
        .request("POST", &url, &json, r#"{"model": 5}"#)
        .await
        .unwrap();
    assert_eq!(not_string.status, 400);

    let wrong_method = client.get(&url).await.unwrap();
    assert_eq!(wrong_method.status, 404);
    assert_anthropic_error(&wrong_method.body, "not_found_error");

    assert_eq!(mock.request_count(), 0);
    let ok = client
        .post_json(&url, &[], &message_body(false))
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_get_413() {
    let mock = MockUpstream::start().await.unwrap();
    let config = RelayConfig::new()
        .server("max_body_bytes", 1000)
        .provider(Provider::primary(&mock.url()))
        .logging("level", "debug");
    let relay = start_relay_with(&config).await;
    let big = format!(
        r#"{{"model":"claude-sonnet-4-5","pad":"{}"}}"#,
        "x".repeat(2000)
    );
    let response = TestClient::new()
        .request(
            "POST",
            format!("{}/v1/messages", relay.url()),
            &[("content-type", "application/json")],
            big,
        )
        .await
        .unwrap();
    assert_eq!(response.status, 413);
    assert_anthropic_error(&response.body, "request_too_large");
    assert_eq!(mock.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_upstream_is_502_and_slow_upstream_is_504() {
    let dead = unused_local_addr().unwrap();
    let relay = start_relay_with(&RelayConfig::one_provider(&format!("http://{dead}"))).await;
    let response = post_message(&relay, &[], false).await;
    assert_eq!(response.status, 502);
    assert_anthropic_error(&response.body, "api_error");

    let mock = MockUpstream::start().await.unwrap();
    mock.set_default(MockReply::stall());
    let relay =
        start_relay_with(&RelayConfig::one_provider(&mock.url()).server("timeout_ms", 300)).await;
    let response = post_message(&relay, &[], false).await;
    assert_eq!(response.status, 504);
    assert_anthropic_error(&response.body, "timeout_error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrent_refuses_with_503_and_frees_the_slot() {
    let mock = MockUpstream::start().await.unwrap();
    let relay =
        start_relay_with(&RelayConfig::one_provider(&mock.url()).server("max_concurrent", 1)).await;
    mock.enqueue(MockReply::stream("one two three").event_delay(Duration::from_millis(300)));
    let client = TestClient::new();
    let url = format!("{}/v1/messages", relay.url());
    let held = client
        .stream(
            "POST",
            &url,
            &[("content-type", "application/json")],
            message_body(true).to_string(),
        )
        .await
        .unwrap();

    let refused = client
        .post_json(&url, &[], &message_body(false))
        .await
        .unwrap();
    assert_eq!(refused.status, 503);
    assert_anthropic_error(&refused.body, "api_error");

    held.collect_events().await.unwrap();
    let accepted = client
        .post_json(&url, &[], &message_body(false))
        .await
        .unwrap();
    assert_eq!(
        accepted.status, 200,
        "the slot is released when the stream ends"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_while_the_relay_is_at_max_concurrent() {
    let mock = MockUpstream::start().await.unwrap();
    let relay =
        start_relay_with(&RelayConfig::one_provider(&mock.url()).server("max_concurrent", 1)).await;
    mock.enqueue(MockReply::stream("one two three").event_delay(Duration::from_millis(300)));
    let client = TestClient::new();
    let url = format!("{}/v1/messages", relay.url());
    let held = client
        .stream(
            "POST",
            &url,
            &[("content-type", "application/json")],
            message_body(true).to_string(),
        )
        .await
        .unwrap();
    let refused = client
        .post_json(&url, &[], &message_body(false))
        .await
        .unwrap();
    assert_eq!(refused.status, 503, "the relay is full");

    // A supervisor's probe must not read a busy relay as a dead one.
    for _ in 0..3 {
        let health = client.get(format!("{}/health", relay.url())).await.unwrap();
        assert_eq!(health.status, 200, "{}", health.text());
    }
    let metrics = client
        .get(format!("{}/metrics", relay.url()))
        .await
        .unwrap();
    assert_eq!(metrics.status, 200, "operators see a full relay too");
    held.collect_events().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_or_generated_and_count_tokens_is_relayed() {
    let (relay, mock) = relay_and_mock().await;
    let client = TestClient::new();
    let echoed = post_message(&relay, &[("x-request-id", "my-trace-42")], false).await;
    assert_eq!(echoed.header("x-request-id"), Some("my-trace-42"));
    let generated = client.get(format!("{}/health", relay.url())).await.unwrap();
    assert_eq!(generated.header("x-request-id").map(str::len), Some(36));

    let counted = client
        .post_json(
            format!("{}/v1/messages/count_tokens", relay.url()),
            &[],
            &serde_json::json!({"model":"claude-sonnet-4-5","messages":[]}),
        )
        .await
        .unwrap();
    assert_eq!(counted.status, 200, "{}", counted.text());
    assert!(counted.json().unwrap()["input_tokens"].is_u64());
    assert_eq!(
        mock.requests().last().unwrap().path_and_query,
        "/v1/messages/count_tokens"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_clients_are_served() {
    let (relay, _mock) = relay_and_mock().await;
    let response = TestClient::http2()
        .post_json(
            format!("{}/v1/messages", relay.url()),
            &[],
            &message_body(false),
        )
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.json().unwrap()["type"], "message");
}

/// The upstream's response headers reach the client unchanged except the
/// hop-by-hop ones (RFC 9110 §7.6.1), which belong to the upstream's
/// connection; a stream also loses its length and gains anti-buffering.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hop_by_hop_response_headers_stay_with_the_upstream_connection() {
    let (relay, mock) = relay_and_mock().await;
    let hop_by_hop = |reply: MockReply| {
        reply
            .header("keep-alive", "timeout=5")
            .header("proxy-connection", "keep-alive")
            .header("trailer", "x-checksum")
            .header("x-upstream-extra", "kept")
            .header("cache-control", "private")
    };
    mock.enqueue(hop_by_hop(MockReply::message("hi")));
    let json = post_message(&relay, &[], false).await;
    assert_eq!(json.status, 200);
    for name in ["keep-alive", "proxy-connection", "trailer"] {
        assert_eq!(json.header(name), None, "{name} was forwarded");
    }
    assert_eq!(json.header("x-upstream-extra"), Some("kept"));
    assert_eq!(json.header("cache-control"), Some("private"));
    assert_eq!(
        json.header("content-length").map(str::to_owned),
        Some(json.body.len().to_string())
    );
    assert_eq!(json.header("x-cc-relay-keys-total"), Some("1"));

    mock.enqueue(hop_by_hop(MockReply::stream("hi")));
    let stream = post_message(&relay, &[], true).await;
    assert_eq!(stream.status, 200);
    for name in [
        "keep-alive",
        "proxy-connection",
        "trailer",
        "content-length",
    ] {
        assert_eq!(stream.header(name), None, "{name} was forwarded");
    }
    assert_eq!(stream.header("x-upstream-extra"), Some("kept"));
    assert_eq!(
        stream.header("cache-control"),
        Some("no-cache, no-transform")
    );
    assert_eq!(stream.header("x-accel-buffering"), Some("no"));
}
