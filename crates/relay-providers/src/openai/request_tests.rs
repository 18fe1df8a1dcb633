use relay_config::{MaxTokensField, OpenAiConfig, ReasoningRequest};
use serde_json::{Value, json};

use super::*;

fn translate(request: Value, options: &OpenAiConfig) -> Result<Value, Refusal> {
    let Value::Object(map) = request else {
        panic!("not an object")
    };
    chat_request(&map, "gpt-test", options).map(Value::Object)
}

fn ok(request: Value) -> Value {
    translate(request, &OpenAiConfig::default()).unwrap()
}

#[test]
fn a_tool_using_conversation_becomes_chat_messages_in_order() {
    let chat = ok(json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "stream": true,
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 5,
        "stop_sequences": ["</done>"],
        "metadata": {"user_id": "user_abc_session_123"},
        "system": [
            {"type": "text", "text": "You are Claude Code."},
            {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}
        ],
        "messages": [
            {"role": "user", "content": "List files"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "text", "text": "Running two tools."},
                {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {"command": "ls"}},
                {"type": "tool_use", "id": "toolu_02", "name": "Read", "input": {"file_path": "a"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "a\nb"},
                {"type": "tool_result", "tool_use_id": "toolu_02", "is_error": true,
                 "content": [{"type": "text", "text": "no such file"}]},
                {"type": "text", "text": "Go on."}
            ]}
        ],
        "tools": [{"name": "Bash", "description": "Runs a command",
                   "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true}
    }));
    assert_eq!(
        chat,
        json!({
            "model": "gpt-test",
            "max_tokens": 1024,
            "stream": true,
            "stream_options": {"include_usage": true},
            "temperature": 0.2,
            "top_p": 0.9,
            "stop": ["</done>"],
            "user": "user_abc_session_123",
            "messages": [
                {"role": "system", "content": "You are Claude Code.\n\nBe brief."},
                {"role": "user", "content": "List files"},
                {"role": "assistant", "content": "Running two tools.", "tool_calls": [
                    {"id": "toolu_01", "type": "function", "function": {"name": "Bash", "arguments": "{\"command\":\"ls\"}"}},
                    {"id": "toolu_02", "type": "function", "function": {"name": "Read", "arguments": "{\"file_path\":\"a\"}"}}
                ]},
                {"role": "tool", "tool_call_id": "toolu_01", "content": "a\nb"},
                {"role": "tool", "tool_call_id": "toolu_02", "content": "Error: no such file"},
                {"role": "user", "content": "Go on."}
            ],
            "tools": [{"type": "function", "function": {"name": "Bash", "description": "Runs a command",
                       "parameters": {"type": "object", "properties": {"command": {"type": "string"}}}}}],
            "tool_choice": "required",
            "parallel_tool_calls": false
        })
    );
}

#[test]
fn images_travel_as_image_url_parts_including_those_a_tool_returned() {
    let chat = ok(json!({
        "messages": [{"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": [
                {"type": "text", "text": "screenshot:"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}}
            ]},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            {"type": "text", "text": "What is this?"}
        ]}]
    }));
    assert_eq!(
        chat["messages"],
        json!([
            {"role": "tool", "tool_call_id": "t1", "content": "screenshot:"},
            {"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                {"type": "text", "text": "What is this?"}
            ]}
        ])
    );
}

#[test]
fn tool_choice_maps_every_kind() {
    for (choice, want) in [
        (json!({"type": "auto"}), json!("auto")),
        (json!({"type": "any"}), json!("required")),
        (json!({"type": "none"}), json!("none")),
        (
            json!({"type": "tool", "name": "Bash"}),
            json!({"type": "function", "function": {"name": "Bash"}}),
        ),
    ] {
        let chat = ok(json!({
            "messages": [],
            "tools": [{"name": "Bash", "input_schema": {"type": "object"}}],
            "tool_choice": choice
        }));
        assert_eq!(chat["tool_choice"], want);
        assert!(chat.get("parallel_tool_calls").is_none());
    }
}

#[test]
fn dialect_options_change_the_field_names_and_ask_for_reasoning() {
    let options = OpenAiConfig {
        max_tokens_field: MaxTokensField::MaxCompletionTokens,
        reasoning: ReasoningRequest::Effort,
        stream_usage: false,
        short_tool_ids: true,
        ..OpenAiConfig::default()
    };
    let request = |budget: u64| {
        json!({
            "max_tokens": 32000, "stream": true,
            "thinking": {"type": "enabled", "budget_tokens": budget},
            "messages": [
                {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_01ABC", "name": "f", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01ABC", "content": "ok"}]}
            ]
        })
    };
    let chat = translate(request(4000), &options).unwrap();
    assert_eq!(chat["max_completion_tokens"], 32000);
    assert!(chat.get("max_tokens").is_none());
    assert!(chat.get("stream_options").is_none());
    assert_eq!(chat["reasoning_effort"], "low");
    // Both sides of the call get the same 9-character id.
    let call_id = chat["messages"][0]["tool_calls"][0]["id"].as_str().unwrap();
    assert_eq!(call_id.len(), 9);
    assert_eq!(chat["messages"][1]["tool_call_id"], call_id);
    assert_eq!(
        translate(request(10000), &options).unwrap()["reasoning_effort"],
        "medium"
    );
    assert_eq!(
        translate(request(31999), &options).unwrap()["reasoning_effort"],
        "high"
    );
    // Off by default: thinking alone asks nothing of the backend.
    assert!(ok(request(31999)).get("reasoning_effort").is_none());
}

#[test]
fn what_cannot_be_expressed_is_refused_by_name() {
    for (request, needle) in [
        (
            json!({"messages": [], "tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
            "tools[0]: `web_search_20250305`",
        ),
        (
            json!({"messages": [{"role": "user", "content": [
                {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBER"}}
            ]}]}),
            "messages[0].content[0]: `document` blocks",
        ),
        (
            json!({"messages": [], "mcp_servers": [{"type": "url", "url": "https://x", "name": "x"}]}),
            "`mcp_servers`",
        ),
        (
            json!({"messages": [{"role": "assistant", "content": [{"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}]}]}),
            "`server_tool_use` blocks",
        ),
        (
            json!({"messages": [{"role": "system", "content": "x"}]}),
            "messages[0].role",
        ),
    ] {
        let Refusal(message) = translate(request, &OpenAiConfig::default()).unwrap_err();
        assert!(message.contains(needle), "{message} should name {needle}");
    }
}

#[test]
fn plain_text_documents_and_empty_system_pass() {
    let chat = ok(json!({
        "system": "",
        "messages": [{"role": "user", "content": [
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "notes"}},
            {"type": "text", "text": "Summarise."}
        ]}]
    }));
    assert_eq!(
        chat["messages"],
        json!([{"role": "user", "content": "notes\n\nSummarise."}])
    );
}

#[test]
fn an_assistant_turn_of_only_tool_calls_has_null_content() {
    let chat = ok(json!({"messages": [{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "f", "input": {"a": [1, 2]}}
    ]}]}));
    assert_eq!(chat["messages"][0]["content"], Value::Null);
    assert_eq!(
        chat["messages"][0]["tool_calls"][0]["function"]["arguments"],
        "{\"a\":[1,2]}"
    );
}
