//! No secret in any log line or response: the relay runs at `debug` level
//! with request-body and response-header logging on (`--debug`), and every
//! path is taken once: success and streaming, failover on a refused
//! connection, an upstream 401/429/500, a stream cut mid-way, the relay's own
//! refusals (401, 400, 404, 413), count_tokens, the read-only endpoints, h2c,
//! and reloads, including one of a file that is invalid around its keys.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use relay_test_support::{
    MockReply, MockUpstream, RelayOptions, RelayProcess, Signal, TestClient, TestResponse,
    unused_local_addr,
};

const RELAY_API_KEY: &str = "relay-client-SECRET-1111";
const RELAY_BEARER: &str = "relay-bearer-SECRET-2222";
const DEAD_KEY: &str = "sk-dead-SECRET-3333";
const PRIMARY_KEYS: [&str; 2] = ["sk-primary-SECRET-4444", "sk-primary-SECRET-5555"];
const ZAI_KEY_FROM_ENV: &str = "sk-zai-env-SECRET-6666";
const WRONG_KEY: &str = "wrong-guess-SECRET-7777";
const COOKIE: &str = "cookie-SECRET-8888";
const RELOADED_KEY: &str = "sk-reloaded-SECRET-9999";
const INVALID_FILE_KEYS: [&str; 3] = [
    "sk-in-an-invalid-file-SECRET-aaaa",
    "sk-unknown-key-beside-it-SECRET-bbbb",
    "sk-a-very-long-secret-in-the-wrong-place-SECRET-cccc",
];

fn config(dead: &str, primary: &str, zai: &str, primary_keys: &[&str]) -> String {
    let keys: Vec<String> = primary_keys
        .iter()
        .map(|k| format!("{{ key: \"{k}\" }}"))
        .collect();
    format!(
        r#"
server:
  timeout_ms: 5000
  max_body_bytes: 100000
  auth:
    api_key: "{RELAY_API_KEY}"
    allow_bearer: true
    bearer_secret: "{RELAY_BEARER}"
routing:
  strategy: failover
  debug: true
providers:
  - name: dead
    enabled: true
    type: anthropic
    base_url: "{dead}"
    priority: 3
    keys: [{{ key: "{DEAD_KEY}" }}]
  - name: primary
    enabled: true
    type: anthropic
    base_url: "{primary}"
    priority: 2
    keys: [{}]
  - name: zai
    enabled: true
    type: zai
    base_url: "{zai}/api/anthropic"
    priority: 1
    models: [claude-sonnet-4-5]
    keys: [{{ key: "${{ZAI_KEY}}" }}]
logging:
  level: debug
  debug_options: {{ log_request_body: true, log_response_headers: true, max_body_log_size: 100000 }}
"#,
        keys.join(", ")
    )
}

fn all_secrets() -> Vec<&'static str> {
    let mut secrets = vec![
        RELAY_API_KEY,
        RELAY_BEARER,
        DEAD_KEY,
        ZAI_KEY_FROM_ENV,
        WRONG_KEY,
        COOKIE,
        RELOADED_KEY,
    ];
    secrets.extend(PRIMARY_KEYS);
    secrets.extend(INVALID_FILE_KEYS);
    secrets
}

fn assert_clean(response: &TestResponse, what: &str) {
    let mut shown = response.text();
    for (name, value) in &response.headers {
        shown.push_str(&format!(
            "\n{name}: {}",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    for secret in all_secrets() {
        assert!(
            !shown.contains(secret),
            "{what}: the response shows a secret"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_a_log_line_or_a_response_on_any_path() {
    let (primary, zai) = (
        MockUpstream::start().await.unwrap(),
        MockUpstream::start().await.unwrap(),
    );
    let dead = format!("http://{}", unused_local_addr().unwrap());
    let relay = RelayProcess::start(RelayOptions {
        binary: env!("CARGO_BIN_EXE_cc-relay").into(),
        config_yaml: Some(config(&dead, &primary.url(), &zai.url(), &PRIMARY_KEYS)),
        args: vec!["--debug".into()],
        env: vec![("ZAI_KEY".into(), ZAI_KEY_FROM_ENV.into())],
        ..RelayOptions::default()
    })
    .await
    .unwrap();
    let client = TestClient::new();
    let url = |path: &str| format!("{}{path}", relay.url());
    let api_key = [("x-api-key", RELAY_API_KEY)];
    let bearer = format!("Bearer {RELAY_BEARER}");
    let everything = [
        ("x-api-key", RELAY_API_KEY),
        ("authorization", bearer.as_str()),
        ("cookie", COOKIE),
        ("content-type", "application/json"),
    ];
    let body = message_body(false).to_string();
    let stream_body = message_body(true).to_string();
    let mut responses: Vec<(&str, TestResponse)> = Vec::new();
    let messages = url("/v1/messages");

    // Success after failing over from the refused provider; streaming with a bearer token.
    let r = client
        .request("POST", &messages, &everything, body.clone())
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    responses.push(("success", r));
    let r = client
        .request(
            "POST",
            &messages,
            &[("authorization", &bearer)],
            stream_body.clone(),
        )
        .await
        .unwrap();
    assert_eq!(r.events().last().unwrap().0, "message_stop");
    responses.push(("stream", r));
    // An upstream 401 (the next key takes over), a 500 (the next provider), a 429.
    primary.enqueue(MockReply::error(
        401,
        "authentication_error",
        "invalid x-api-key",
    ));
    responses.push((
        "upstream 401",
        client
            .request("POST", &messages, &api_key, body.clone())
            .await
            .unwrap(),
    ));
    primary.enqueue(MockReply::error(500, "api_error", "boom"));
    responses.push((
        "upstream 500",
        client
            .request("POST", &messages, &api_key, body.clone())
            .await
            .unwrap(),
    ));
    primary.enqueue(MockReply::error(429, "rate_limit_error", "slow").header("retry-after", "60"));
    responses.push((
        "upstream 429",
        client
            .request("POST", &messages, &api_key, body.clone())
            .await
            .unwrap(),
    ));
    // A stream cut mid-way ends with an error event (both primary keys now rest).
    zai.enqueue(MockReply::stream("cut short").cut_after(2));
    let r = client
        .request("POST", &messages, &api_key, stream_body.clone())
        .await
        .unwrap();
    assert_eq!(r.events().last().unwrap().0, "error");
    responses.push(("cut stream", r));
    // The relay's own refusals.
    for (what, headers, request_body) in [
        ("wrong key", vec![("x-api-key", WRONG_KEY)], body.clone()),
        (
            "wrong bearer",
            vec![("authorization", "Bearer wrong-guess-SECRET-7777")],
            body.clone(),
        ),
        ("no credentials", vec![], body.clone()),
        ("invalid JSON", api_key.to_vec(), "{\"model\": ".to_owned()),
        (
            "too large",
            api_key.to_vec(),
            format!("{{\"model\":\"m\",\"x\":\"{}\"}}", "x".repeat(200_000)),
        ),
    ] {
        let r = client
            .request("POST", &messages, &headers, request_body)
            .await
            .unwrap();
        assert!((400..500).contains(&r.status), "{what}: {}", r.status);
        responses.push((what, r));
    }
    responses.push((
        "404",
        client
            .request("GET", url("/nowhere"), &api_key, "")
            .await
            .unwrap(),
    ));
    let count = serde_json::json!({"model": "claude-sonnet-4-5", "messages": []}).to_string();
    responses.push((
        "count_tokens",
        client
            .request("POST", url("/v1/messages/count_tokens"), &api_key, count)
            .await
            .unwrap(),
    ));
    for path in ["/v1/models", "/v1/providers", "/health"] {
        responses.push((
            path,
            client
                .request("GET", url(path), &api_key, "")
                .await
                .unwrap(),
        ));
    }
    let r = TestClient::http2()
        .request("POST", &messages, &everything, body.clone())
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    responses.push(("h2c", r));

    // A reload with a new key, then one of a file invalid around its keys:
    // a wrong type, an unknown key beside a key, and a long secret where
    // a number belongs. The last good configuration keeps serving.
    let path = relay.config_path().unwrap().to_owned();
    let reloaded = config(&dead, &primary.url(), &zai.url(), &[RELOADED_KEY]);
    relay.rewrite_config(&reloaded).unwrap();
    relay.signal(Signal::Hup).unwrap();
    relay
        .wait_for_log("reloaded", Duration::from_secs(10))
        .await
        .unwrap();
    responses.push((
        "after reload",
        client
            .request("POST", &messages, &api_key, body.clone())
            .await
            .unwrap(),
    ));
    let [in_list, unknown_beside, long_misplaced] = INVALID_FILE_KEYS;
    let invalid = reloaded
        .replace(
            &format!("keys: [{{ key: \"{RELOADED_KEY}\" }}]"),
            &format!(
                "keys: [{{ key: [\"{in_list}\"] }}, {{ key: \"k\", kee: \"{unknown_beside}\" }}]"
            ),
        )
        .replace(
            "timeout_ms: 5000",
            &format!("timeout_ms: \"{long_misplaced}\""),
        );
    std::fs::write(&path, invalid).unwrap();
    relay.signal(Signal::Hup).unwrap();
    relay
        .wait_for_log("timeout_ms", Duration::from_secs(10))
        .await
        .unwrap();
    let r = client
        .request("POST", &messages, &api_key, body)
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    responses.push(("after a failed reload", r));

    for (what, response) in &responses {
        assert_clean(response, what);
    }
    let logs = relay.logs();
    assert!(
        logs.iter().any(|l| l.contains("request body")),
        "body logging was on"
    );
    assert!(
        logs.len() > 50,
        "debug logging was on: {} lines",
        logs.len()
    );
    assert_no_secret_logged(&relay, &all_secrets());
    // The upstreams saw only their own keys, never the relay's credentials.
    for request in primary.requests().iter().chain(zai.requests().iter()) {
        let headers = format!("{:?}", request.headers);
        for secret in [RELAY_API_KEY, RELAY_BEARER, COOKIE] {
            assert!(!headers.contains(secret));
        }
    }
}
