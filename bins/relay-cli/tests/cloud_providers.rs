//! Cloud providers end to end: the real binary between the Anthropic Python
//! SDK and mock Bedrock, Vertex AI and Azure AI Foundry servers (plus mock
//! OAuth2 token endpoints) on 127.0.0.1, streaming and not. Each test checks
//! what the SDK saw and what the mock received: URL, body transform,
//! authentication, and that no credential reached the relay's logs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cloud_support;
mod common;

use std::time::Duration;

use cloud_support::*;
use common::*;
use relay_test_support::{MockReply, MockUpstream, RelayOptions, RelayProcess, TestClient};
use serde_json::{Value, json};

const AWS_KEY_ID: &str = "AKIDRELAYTEST0001";
const AWS_SECRET: &str = "bedrock-secret-access-key-0003";
const AWS_TOKEN: &str = "bedrock-session-token-0004";
const BEDROCK_MODEL: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const VERTEX_TOKEN: &str = "ya29.vertex-access-token-0005";
const AZURE_KEY: &str = "azure-resource-key-0006";
const ENTRA_SECRET: &str = "entra-client-secret-0007";
const ENTRA_TOKEN: &str = "entra-access-token-0008";
const TEST_KEY: &str = include_str!("../../../crates/relay-providers/testdata/test_rsa_pkcs8.pem");

/// `provider` behind the relay's key, without health checks.
fn config(provider: Provider) -> RelayConfig {
    RelayConfig::new()
        .server("timeout_ms", 10000)
        .server("auth", json!({ "api_key": RELAY_KEY }))
        .provider(provider)
        .health("health_check", json!({ "enabled": false }))
        .logging("level", "debug")
}

fn body_of(request: &relay_test_support::RecordedRequest) -> Value {
    request.json().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bedrock_through_the_sdk() {
    let mock = MockUpstream::start().await.unwrap();
    mock.enqueue(MockReply::message("Hello from Bedrock"));
    let events = anthropic_events("claude-sonnet-4-5", &["Hello", "streamed", "Bedrock"]);
    mock.enqueue(event_stream_reply(&frames(&events)));
    let mut failing = frames(&events[..3]);
    failing.extend(exception_frame(
        "throttlingException",
        "Too many tokens, please wait.",
    ));
    mock.enqueue(event_stream_reply(&failing));
    mock.enqueue(
        MockReply::json(
            429,
            json!({"message": "Too many requests, please wait before trying again."}),
        )
        .header(
            "x-amzn-errortype",
            "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/",
        ),
    );
    let bedrock = Provider::new("bedrock", "bedrock")
        .base_url(&mock.url())
        .set("aws_region", "us-west-2")
        .set("aws_access_key_id", AWS_KEY_ID)
        .set("aws_secret_access_key", AWS_SECRET)
        .set("aws_session_token", AWS_TOKEN)
        .models(&["claude-sonnet-4-5"])
        .model_mapping(&[("claude-sonnet-4-5", BEDROCK_MODEL)]);
    let relay = start_relay_with(&config(bedrock)).await;
    let seen = run_sdk(
        &relay.url(),
        RELAY_KEY,
        "claude-sonnet-4-5",
        &["stream-error", "error"],
    )
    .await;

    assert_eq!(seen["message_text"], "Hello from Bedrock");
    assert_eq!(seen["stream_text"], "Hello streamed Bedrock");
    let stream_events = names(&seen["stream_events"]);
    assert_eq!(stream_events.first(), Some(&"message_start"));
    assert_eq!(stream_events.last(), Some(&"message_stop"));
    assert_eq!(seen["stream_usage"], json!({"input": 11, "output": 3}));
    assert_eq!(seen["stream_stop_reason"], "end_turn");
    // Bedrock has no count_tokens: the relay answers with its estimate.
    assert!(seen["count_tokens"].as_u64().unwrap() > 0, "{seen}");
    // A mid-stream exception reaches the SDK as an Anthropic error event.
    assert_eq!(seen["stream_error"]["error"]["type"], "rate_limit_error");
    assert!(names(&seen["stream_error"]["events"]).contains(&"message_start"));
    // An error before the stream is translated, status included.
    assert_eq!(seen["error"]["status"], 429);
    assert_eq!(seen["error"]["type"], "rate_limit_error");
    assert_eq!(seen["models"], json!(["claude-sonnet-4-5"]));

    let requests = mock.requests();
    assert_eq!(requests.len(), 4, "count_tokens never reached Bedrock");
    let encoded_model = "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0";
    let paths: Vec<&str> = requests.iter().map(|r| r.path_and_query.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("/model/{encoded_model}/invoke"),
            format!("/model/{encoded_model}/invoke-with-response-stream"),
            format!("/model/{encoded_model}/invoke-with-response-stream"),
            format!("/model/{encoded_model}/invoke"),
        ]
    );
    let messages = json!([{"role": "user", "content": "Say hello"}]);
    assert_eq!(
        body_of(&requests[0]),
        json!({"max_tokens": 64, "messages": messages, "anthropic_version": "bedrock-2023-05-31"})
    );
    assert_eq!(
        body_of(&requests[1]),
        json!({"max_tokens": 64, "messages": messages, "anthropic_version": "bedrock-2023-05-31",
               "anthropic_beta": ["interleaved-thinking-2025-05-14"]})
    );
    for request in &requests {
        let credentials = (AWS_KEY_ID, AWS_SECRET, Some(AWS_TOKEN));
        assert_sigv4_signed(request, &mock.url(), credentials, "us-west-2");
        for absent in ["x-api-key", "anthropic-version", "anthropic-beta"] {
            assert!(request.header(absent).is_none(), "{absent} reached Bedrock");
        }
    }

    let providers = TestClient::new()
        .request(
            "GET",
            format!("{}/v1/providers", relay.url()),
            &[("x-api-key", RELAY_KEY)],
            "",
        )
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(providers["data"][0]["type"], "bedrock");
    assert_eq!(providers["data"][0]["models"], json!(["claude-sonnet-4-5"]));
    assert_no_secret_logged(&relay, &[RELAY_KEY, AWS_KEY_ID, AWS_SECRET, AWS_TOKEN]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vertex_through_the_sdk() {
    let tokens = MockUpstream::start().await.unwrap();
    tokens.set_default(MockReply::json(
        200,
        json!({"access_token": VERTEX_TOKEN, "expires_in": 3599, "token_type": "Bearer"}),
    ));
    let vertex = MockUpstream::start().await.unwrap();
    vertex.enqueue(MockReply::message("Hello from Vertex"));
    vertex.enqueue(MockReply::stream("Hello streamed Vertex"));
    vertex.enqueue(MockReply::json(200, json!({"input_tokens": 7})));
    vertex.enqueue(MockReply::json(
        429,
        json!([{"error": {"code": 429, "message": "Quota exceeded for online prediction requests.", "status": "RESOURCE_EXHAUSTED"}}]),
    ));
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("service-account.json");
    let token_uri = format!("{}/token", tokens.url());
    let account = json!({"type": "service_account", "project_id": "relay-test",
        "private_key_id": "kid-1", "private_key": TEST_KEY,
        "client_email": "relay@relay-test.iam.gserviceaccount.com", "token_uri": token_uri});
    std::fs::write(&credentials, account.to_string()).unwrap();
    let provider = Provider::new("vertex", "vertex")
        .base_url(&vertex.url())
        .set("gcp_project_id", "relay-test")
        .set("gcp_region", "us-east5")
        .set("gcp_credentials_file", credentials.display().to_string())
        .models(&["claude-sonnet-4-5"])
        .model_mapping(&[("claude-sonnet-4-5", "claude-sonnet-4-5@20250929")]);
    let relay = start_relay_with(&config(provider)).await;
    let seen = run_sdk(&relay.url(), RELAY_KEY, "claude-sonnet-4-5", &["error"]).await;

    assert_eq!(seen["message_text"], "Hello from Vertex");
    assert_eq!(seen["stream_text"], "Hello streamed Vertex");
    assert_eq!(names(&seen["stream_events"]).last(), Some(&"message_stop"));
    assert_eq!(seen["count_tokens"], 7);
    assert_eq!(seen["error"]["status"], 429);
    assert_eq!(seen["error"]["type"], "rate_limit_error");
    assert_eq!(seen["models"], json!(["claude-sonnet-4-5"]));

    let requests = vertex.requests();
    let base = "/v1/projects/relay-test/locations/us-east5/publishers/anthropic/models";
    let paths: Vec<&str> = requests.iter().map(|r| r.path_and_query.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("{base}/claude-sonnet-4-5@20250929:rawPredict"),
            format!("{base}/claude-sonnet-4-5@20250929:streamRawPredict"),
            format!("{base}/count-tokens:rawPredict"),
            format!("{base}/claude-sonnet-4-5@20250929:rawPredict"),
        ]
    );
    let messages = json!([{"role": "user", "content": "Say hello"}]);
    assert_eq!(
        body_of(&requests[0]),
        json!({"max_tokens": 64, "messages": messages, "anthropic_version": "vertex-2023-10-16"})
    );
    assert_eq!(body_of(&requests[1])["stream"], true);
    assert!(body_of(&requests[1]).get("model").is_none());
    assert_eq!(
        body_of(&requests[2]),
        json!({"model": "claude-sonnet-4-5@20250929", "messages": messages, "anthropic_version": "vertex-2023-10-16"})
    );
    // Vertex's built-in beta allow-list keeps interleaved thinking and drops
    // Claude Code's own beta, which Vertex answers with a 400.
    assert_eq!(
        requests[1].header("anthropic-beta"),
        Some("interleaved-thinking-2025-05-14")
    );
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {VERTEX_TOKEN}").as_str())
        );
        assert!(request.header("x-api-key").is_none());
    }

    // One token for every request, fetched with a signed service-account assertion.
    let token_requests = tokens.requests();
    assert_eq!(token_requests.len(), 1);
    assert_eq!(token_requests[0].path_and_query, "/token");
    let form = String::from_utf8(token_requests[0].body.to_vec()).unwrap();
    assert!(form.starts_with(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
    ));
    let jwt = form.rsplit('=').next().unwrap();
    let claims = jwt_claims(jwt);
    assert_eq!(claims["iss"], "relay@relay-test.iam.gserviceaccount.com");
    assert_eq!(claims["aud"], token_uri);
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform"
    );
    assert_no_secret_logged(&relay, &[RELAY_KEY, VERTEX_TOKEN, jwt]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_through_the_sdk() {
    let mock = MockUpstream::start().await.unwrap();
    for _ in 0..3 {
        mock.enqueue(MockReply::auto());
    }
    mock.enqueue(MockReply::json(
        404,
        json!({"error": {"code": "DeploymentNotFound", "message": "The API deployment for this resource does not exist."}}),
    ));
    let foundry = Provider::new("foundry", "azure")
        .base_url(&format!("{}/anthropic", mock.url()))
        .models(&["claude-sonnet-4-5"])
        .model_mapping(&[("claude-sonnet-4-5", "sonnet-45-deployment")])
        .key(AZURE_KEY);
    let relay = start_relay_with(&config(foundry)).await;
    let seen = run_sdk(&relay.url(), RELAY_KEY, "claude-sonnet-4-5", &["error"]).await;

    assert!(!seen["message_text"].as_str().unwrap().is_empty());
    assert_eq!(names(&seen["stream_events"]).last(), Some(&"message_stop"));
    assert!(seen["count_tokens"].as_u64().unwrap() > 0);
    assert_eq!(seen["error"]["status"], 404);
    assert_eq!(seen["error"]["type"], "not_found_error");
    assert_eq!(seen["models"], json!(["claude-sonnet-4-5"]));

    let requests = mock.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path_and_query.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/anthropic/v1/messages",
            "/anthropic/v1/messages",
            "/anthropic/v1/messages/count_tokens",
            "/anthropic/v1/messages"
        ]
    );
    for request in &requests {
        assert_eq!(request.header("x-api-key"), Some(AZURE_KEY));
        assert!(request.header("authorization").is_none());
        assert_eq!(body_of(request)["model"], "sonnet-45-deployment");
    }
    assert_no_secret_logged(&relay, &[RELAY_KEY, AZURE_KEY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_entra_id_tokens_are_fetched_once() {
    let tokens = MockUpstream::start().await.unwrap();
    tokens.set_default(MockReply::json(
        200,
        json!({"access_token": ENTRA_TOKEN, "expires_in": 3599, "token_type": "Bearer"}),
    ));
    let mock = MockUpstream::start().await.unwrap();
    let foundry = Provider::new("foundry", "azure")
        .base_url(&format!("{}/anthropic", mock.url()))
        .set("azure_tenant_id", "tenant-42")
        .set("azure_client_id", "client-42")
        .set("azure_client_secret", ENTRA_SECRET)
        .set("azure_authority_host", tokens.url());
    let relay = start_relay_with(&config(foundry)).await;
    let client = TestClient::new();
    for stream in [false, true, false] {
        let response = client
            .post_json(
                format!("{}/v1/messages", relay.url()),
                &[("x-api-key", RELAY_KEY)],
                &message_body(stream),
            )
            .await
            .unwrap();
        assert_eq!(response.status, 200, "{}", response.text());
    }
    for request in mock.requests() {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {ENTRA_TOKEN}").as_str())
        );
    }
    let token_requests = tokens.requests();
    assert_eq!(token_requests.len(), 1);
    assert_eq!(
        token_requests[0].path_and_query,
        "/tenant-42/oauth2/v2.0/token"
    );
    let form = String::from_utf8(token_requests[0].body.to_vec()).unwrap();
    assert!(form.contains("grant_type=client_credentials"), "{form}");
    assert!(
        form.contains("scope=https%3A%2F%2Fcognitiveservices.azure.com%2F.default"),
        "{form}"
    );
    assert_no_secret_logged(&relay, &[RELAY_KEY, ENTRA_SECRET, ENTRA_TOKEN]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_cloud_credentials_fail_the_start_with_what_to_set() {
    let provider = Provider::new("bedrock", "bedrock").set("aws_region", "us-east-1");
    // Empty variables count as unset, whatever the machine running the test has.
    let env = [
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_PROFILE",
    ]
    .map(|name| (name.to_owned(), String::new()));
    let started = RelayProcess::start(RelayOptions {
        binary: env!("CARGO_BIN_EXE_cc-relay").into(),
        config_yaml: Some(config(provider).yaml()),
        env: env.to_vec(),
        startup_timeout: Duration::from_secs(10),
        ..RelayOptions::default()
    })
    .await;
    let Err(err) = started else {
        panic!("the relay must refuse to start")
    };
    let err = err.to_string();
    assert!(err.contains("no AWS credentials found"), "{err}");

    let provider = Provider::new("vertex", "vertex")
        .set("gcp_project_id", "p")
        .set("gcp_region", "us-east5")
        .set("gcp_credentials_file", "/nonexistent/sa.json");
    let started = RelayProcess::start(RelayOptions {
        binary: env!("CARGO_BIN_EXE_cc-relay").into(),
        config_yaml: Some(config(provider).yaml()),
        startup_timeout: Duration::from_secs(10),
        ..RelayOptions::default()
    })
    .await;
    let Err(err) = started else {
        panic!("the relay must refuse to start")
    };
    let err = err.to_string();
    assert!(
        err.contains("cannot read /nonexistent/sa.json (gcp_credentials_file)"),
        "{err}"
    );
}
