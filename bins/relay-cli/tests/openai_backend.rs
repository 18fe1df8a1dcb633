//! A `type: openai` provider through the real binary, against the mock
//! upstream speaking OpenAI Chat Completions: the official Anthropic Python
//! SDK's stream accumulator and non-streaming call reproduce text, thinking
//! and tool_use with parsed input; refusals and upstream errors reach the
//! client as Anthropic errors; a cut upstream stream ends with an `error`
//! event; and a Claude Code CLI session runs a tool the backend asked for.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use relay_test_support::{ChatReply, MockReply, MockUpstream, TestClient, check_anthropic_stream};
use serde_json::{Value, json};

fn openai_provider(mock: &MockUpstream) -> Provider {
    Provider::new("gpt", "openai")
        .base_url(&format!("{}/v1", mock.url()))
        .models(&["claude-sonnet-4-5", "claude-haiku-4-5"])
        .model_mapping(&[
            ("claude-sonnet-4-5", "gpt-test"),
            ("claude-haiku-4-5", "gpt-test-mini"),
        ])
        .key(UPSTREAM_KEY)
        .set(
            "openai",
            json!({"reasoning": "effort", "headers": {"X-Title": "cc-relay-test"}}),
        )
}

fn tool_reply() -> ChatReply {
    ChatReply::new("gpt-test")
        .reasoning("reasoning_content", "The user wants main.rs read.")
        .text("Reading it now.")
        .tool_call(
            "call_Jx8dP2mQ7rLkZ4vN1sT6wYbA",
            "Read",
            &json!({"file_path": "src/main.rs"}),
        )
        .tool_call(
            "call_Qw3eR5tY7uI9oP1aS2dF4gHj",
            "Grep",
            &json!({"pattern": "fn main"}),
        )
        .usage(1200, 80, 1024)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_accumulates_text_thinking_and_tool_use_from_a_chat_backend() {
    let mock = MockUpstream::start().await.unwrap();
    mock.enqueue(tool_reply().stream().event_delay(Duration::from_millis(2)));
    mock.enqueue(tool_reply().json());
    let config = RelayConfig::new()
        .provider(openai_provider(&mock))
        .server("auth", json!({ "api_key": RELAY_KEY }));
    let relay = start_relay_with(&config).await;

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sdk/openai_backend_client.py"
    );
    let output = tokio::process::Command::new(relay_test_support::tools::python())
        .arg(script)
        .arg(relay.url())
        .arg(RELAY_KEY)
        .output()
        .await
        .expect("the test Python runs");
    assert!(
        output.status.success(),
        "the SDK client failed (scripts/test installs its packages):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_slice(&output.stdout).unwrap();

    let expected_content = json!([
        {"type": "thinking", "thinking": "The user wants main.rs read.", "signature": ""},
        {"type": "text", "text": "Reading it now."},
        {"type": "tool_use", "id": "call_Jx8dP2mQ7rLkZ4vN1sT6wYbA", "name": "Read",
         "input": {"file_path": "src/main.rs"}},
        {"type": "tool_use", "id": "call_Qw3eR5tY7uI9oP1aS2dF4gHj", "name": "Grep",
         "input": {"pattern": "fn main"}},
    ]);
    for call in ["stream", "create"] {
        let message = &seen[call];
        assert_eq!(message["content"], expected_content, "{call}: {message}");
        assert_eq!(message["stop_reason"], "tool_use", "{call}");
        assert_eq!(message["usage"]["input_tokens"], 176, "{call}");
        assert_eq!(message["usage"]["cache_read_input_tokens"], 1024, "{call}");
        assert_eq!(message["usage"]["output_tokens"], 80, "{call}");
    }
    let events: Vec<&str> = seen["stream_events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(events.first(), Some(&"message_start"), "{events:?}");
    assert!(
        events.contains(&"thinking") && events.contains(&"input_json"),
        "{events:?}"
    );
    assert_eq!(events.last(), Some(&"message_stop"), "{events:?}");

    assert_eq!(seen["refused"]["status"], 400);
    assert_eq!(seen["refused"]["type"], "invalid_request_error");
    assert!(
        seen["refused"]["message"]
            .as_str()
            .unwrap()
            .contains("web_search_20250305")
    );

    // The backend got Chat Completions, with its own key and header, and no Anthropic ones.
    let requests = mock.requests();
    assert_eq!(
        requests.len(),
        2,
        "the refused request never reached the backend"
    );
    for request in &requests {
        assert_eq!(request.path_and_query, "/v1/chat/completions");
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {UPSTREAM_KEY}").as_str())
        );
        assert_eq!(request.header("x-title"), Some("cc-relay-test"));
        assert_eq!(request.header("x-api-key"), None);
        assert_eq!(request.header("anthropic-version"), None);
        let body = request.json().unwrap();
        assert_eq!(body["model"], "gpt-test");
        assert_eq!(body["max_tokens"], 1024);
        assert_eq!(body["reasoning_effort"], "low");
        assert_eq!(body["tools"][0]["function"]["name"], "Read");
    }
    assert_eq!(
        requests[0].json().unwrap()["stream_options"],
        json!({"include_usage": true})
    );
    assert_no_secret_logged(&relay, &[RELAY_KEY, UPSTREAM_KEY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_errors_and_cut_streams_reach_the_client_in_anthropic_form() {
    let mock = MockUpstream::start().await.unwrap();
    mock.enqueue(MockReply::json(
        400,
        json!({"error": {
        "message": "This model's maximum context length is 128000 tokens.",
        "type": "invalid_request_error", "code": "context_length_exceeded"}}),
    ));
    let cut = ChatReply::new("gpt-test").text("Half a sentence that never ends");
    mock.enqueue(MockReply::sse_raw(cut.chunks().into_iter().take(3)));
    // Last: the key then cools down for the retry-after, as for any provider.
    mock.enqueue(
        MockReply::json(429, json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}))
            .header("retry-after", "7"),
    );
    let relay = start_relay_with(&RelayConfig::new().provider(openai_provider(&mock))).await;
    let client = TestClient::new();
    let url = format!("{}/v1/messages", relay.url());

    let response = client
        .post_json(&url, &[], &message_body(false))
        .await
        .unwrap();
    assert_eq!(response.status, 400);
    let body: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("prompt is too long"),
        "{body}"
    );

    let stream = client
        .stream("POST", &url, &[], message_body(true).to_string())
        .await
        .unwrap();
    let events = stream.collect_events().await.unwrap();
    let events: Vec<(String, String)> = events
        .into_iter()
        .map(|(name, data, _)| (name, data))
        .collect();
    let outcome = check_anthropic_stream(&events).unwrap_or_else(|e| panic!("{e}: {events:#?}"));
    assert!(
        outcome.error.is_some(),
        "a cut stream must end with an error event: {events:#?}"
    );

    let response = client
        .post_json(&url, &[], &message_body(false))
        .await
        .unwrap();
    assert_eq!(response.status, 429);
    assert_eq!(response.header("retry-after"), Some("7"));
    assert_anthropic_error(&response.body, "rate_limit_error");
    assert_eq!(mock.request_count(), 3);
}

/// Claude Code, pointed at the relay, asks a Chat backend; the backend
/// calls Claude Code's `Read` tool, Claude Code runs it and sends the
/// result back, and the backend's answer quoting it ends the session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claude_code_session_runs_the_tool_a_chat_backend_asked_for() {
    let cli = relay_test_support::tools::claude_code();
    let work = tempfile::tempdir().unwrap();
    let note = work.path().join("note.txt");
    std::fs::write(&note, "the secret word is heliotrope-42\n").unwrap();
    let mock = MockUpstream::start().await.unwrap();
    mock.set_default(MockReply::chat_auto(Some((
        "Read",
        json!({"file_path": note.to_string_lossy()}),
    ))));
    let relay = start_relay_with(&RelayConfig::new().provider(openai_provider(&mock))).await;

    let home = work.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let run = tokio::process::Command::new(&cli)
        .current_dir(work.path())
        .args(["-p", "What does note.txt say?", "--output-format", "json"])
        .args(["--model", "claude-sonnet-4-5", "--allowedTools", "Read"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("CLAUDE_CONFIG_DIR", home.join(".claude"))
        .env("ANTHROPIC_BASE_URL", relay.url())
        .env("ANTHROPIC_API_KEY", "sk-ant-test-client-key")
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_ERROR_REPORTING", "1")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(180), run)
        .await
        .expect("Claude Code finishes within 3 minutes")
        .expect("Claude Code runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "claude failed:\n{stdout}\n{stderr}\nrelay:\n{}",
        relay.logs().join("\n")
    );
    let result: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(result["is_error"], false, "{result}");
    let text = result["result"].as_str().unwrap_or_default();
    assert!(
        text.contains("The tool said:") && text.contains("heliotrope-42"),
        "{result}"
    );

    // The backend saw the tool result as a `tool` message answering its own call.
    let requests = mock.requests();
    let answered = requests.iter().filter_map(|r| r.json().ok()).any(|body| {
        body["messages"].as_array().is_some_and(|messages| {
            messages.iter().any(|m| {
                m["role"] == "tool"
                    && m["tool_call_id"] == "call_mock0123456789abcdefgh"
                    && m["content"]
                        .as_str()
                        .is_some_and(|c| c.contains("heliotrope-42"))
            })
        })
    });
    assert!(
        answered,
        "no request carried the tool result: {requests:#?}"
    );
}
