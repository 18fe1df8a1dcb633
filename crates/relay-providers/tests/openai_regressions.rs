//! Regression tests for the translated streams other relays got wrong, each
//! named after the issue that reported it (BerriAI/litellm). Every stream is
//! checked by the Anthropic grammar validator, which encodes what Claude
//! Code's state machine rejects.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use relay_config::{OpenAiConfig, ReasoningField};
use relay_providers::{ChatStreamDecoder, ResponseDecoder};
use relay_test_support::{StreamOutcome, check_anthropic_stream, parse_sse};
use serde_json::{Value, json};

/// Translates Chat chunks (each sent as its own network chunk), then `[DONE]`.
fn translate_with(reasoning: ReasoningField, chunks: &[Value]) -> Vec<(String, String)> {
    let mut decoder = ChatStreamDecoder::with_nonce(reasoning, "NONCE".into());
    let mut out = Vec::new();
    for chunk in chunks {
        let bytes = decoder
            .decode(Bytes::from(format!("data: {chunk}\n\n")))
            .unwrap();
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(
        &decoder
            .decode(Bytes::from_static(b"data: [DONE]\n\n"))
            .unwrap(),
    );
    out.extend_from_slice(&decoder.finish().unwrap());
    parse_sse(&out)
}

fn translate(chunks: &[Value]) -> Vec<(String, String)> {
    translate_with(ReasoningField::Auto, chunks)
}

fn valid(events: &[(String, String)]) -> StreamOutcome {
    check_anthropic_stream(events).unwrap_or_else(|e| panic!("{e}\n{events:#?}"))
}

fn chunk(delta: Value, finish: Option<&str>) -> Value {
    json!({"id": "chatcmpl-regression-0001", "model": "m",
           "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
}

fn call(index: u64, id: Option<&str>, name: Option<&str>, arguments: &str) -> Value {
    let mut function = json!({"arguments": arguments});
    if let Some(name) = name {
        function["name"] = json!(name);
    }
    let mut call = json!({"index": index, "type": "function", "function": function});
    if let Some(id) = id {
        call["id"] = json!(id);
    }
    chunk(json!({"tool_calls": [call]}), None)
}

fn names(events: &[(String, String)]) -> Vec<&str> {
    events.iter().map(|(name, _)| name.as_str()).collect()
}

/// LiteLLM #13373 (<https://github.com/BerriAI/litellm/issues/13373>):
/// Claude Code with an OpenAI model fell back to non-streaming with
/// "Content block not found": deltas were sent for a block index that no
/// `content_block_start` had opened. Every shape that switches blocks
/// (text then tools, tools whose name comes after their first argument
/// piece, calls without `index`, text again after a tool) must open each
/// block before its first delta and close it before the next opens.
#[test]
fn litellm_13373_every_delta_belongs_to_a_started_block() {
    let events = translate(&[
        chunk(json!({"role": "assistant", "content": ""}), None),
        chunk(json!({"content": "I'll check."}), None),
        // Arguments before the name (seen from some vLLM tool parsers).
        call(0, Some("call_aaaaaaaaaaaaaaaaaaaaaaaa"), None, "{\"file_"),
        call(0, None, Some("Read"), "path\":\"a\"}"),
        call(1, Some("call_bbbbbbbbbbbbbbbbbbbbbbbb"), Some("Read"), ""),
        call(1, None, None, "{\"file_path\":\"b\"}"),
        chunk(json!({}), Some("tool_calls")),
    ]);
    let outcome = valid(&events);
    let content = &outcome.message["content"];
    assert_eq!(content[0]["text"], "I'll check.");
    assert_eq!(content[1]["input"], json!({"file_path": "a"}));
    assert_eq!(content[2]["input"], json!({"file_path": "b"}));
    assert_eq!(outcome.message["stop_reason"], "tool_use");

    // Calls without `index`, one whole call per delta (Gemini's endpoint).
    let no_index = |id: &str, path: &str| {
        chunk(
            json!({"tool_calls": [{"id": id, "type": "function",
            "function": {"name": "Read", "arguments": format!("{{\"file_path\":\"{path}\"}}")}}]}),
            None,
        )
    };
    let events = translate(&[
        no_index("function-call-11111111111111111", "a"),
        no_index("function-call-22222222222222222", "b"),
        chunk(json!({}), Some("stop")),
    ]);
    let outcome = valid(&events);
    assert_eq!(outcome.message["content"].as_array().unwrap().len(), 2);
}

/// LiteLLM #24176 (<https://github.com/BerriAI/litellm/issues/24176>):
/// Claude Code 2.1.79 could not consume a translated stream whose events
/// did not carry Anthropic's full shapes: `message_start.message.usage`
/// must hold every counter, the input usage when known, and
/// `message_delta` the final usage (including input and cache reads, which
/// Chat servers report only at the end).
#[test]
fn litellm_24176_message_start_and_delta_carry_full_usage() {
    let mut first = chunk(json!({"role": "assistant", "content": "Hi"}), None);
    // vLLM's continuous usage stats: the input is known from the first chunk.
    first["usage"] = json!({"prompt_tokens": 46, "completion_tokens": 1});
    let usage = json!({"id": "chatcmpl-regression-0001", "model": "m", "choices": [],
        "usage": {"prompt_tokens": 46, "completion_tokens": 401, "prompt_tokens_details": {"cached_tokens": 40}}});
    let events = translate(&[first, chunk(json!({}), Some("stop")), usage]);
    let outcome = valid(&events);
    let start: Value = serde_json::from_str(&events[0].1).unwrap();
    let start_usage = &start["message"]["usage"];
    for key in [
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    ] {
        assert!(
            start_usage[key].is_u64(),
            "message_start usage lacks {key}: {start_usage}"
        );
    }
    assert_eq!(start_usage["input_tokens"], 46);
    assert_eq!(start["message"]["stop_reason"], Value::Null);
    let delta: Value = events
        .iter()
        .find(|(name, _)| name == "message_delta")
        .map(|(_, data)| serde_json::from_str(data).unwrap())
        .unwrap();
    assert_eq!(
        delta["usage"],
        json!({"input_tokens": 6, "output_tokens": 401, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 40})
    );
    assert_eq!(outcome.message["usage"]["output_tokens"], 401);
    assert_eq!(names(&events).last(), Some(&"message_stop"));
}

/// LiteLLM #32357 (<https://github.com/BerriAI/litellm/issues/32357>):
/// with reasoning models (`reasoning_content`), `thinking_delta`s were
/// streamed inside a `text` block and `message_start` was sent twice, so
/// the SDK and Claude Code saw empty content. Reasoning must get thinking
/// blocks of its own, however it interleaves with text, exactly one
/// `message_start` must open the stream, and a server that sends both
/// `reasoning_content` and `reasoning` (vLLM) must not have its text doubled.
#[test]
fn litellm_32357_reasoning_gets_thinking_blocks_and_one_message_start() {
    let events = translate(&[
        chunk(
            json!({"role": "assistant", "content": "", "reasoning_content": ""}),
            None,
        ),
        chunk(
            json!({"reasoning_content": "First I think.", "reasoning": "First I think."}),
            None,
        ),
        chunk(json!({"content": "Answer part one."}), None),
        chunk(json!({"reasoning_content": "Then more."}), None),
        chunk(json!({"content": " And two."}), None),
        chunk(json!({}), Some("stop")),
    ]);
    let outcome = valid(&events);
    assert_eq!(
        names(&events)
            .iter()
            .filter(|n| **n == "message_start")
            .count(),
        1
    );
    assert_eq!(
        outcome.message["content"],
        json!([
            {"type": "thinking", "thinking": "First I think.", "signature": ""},
            {"type": "text", "text": "Answer part one."},
            {"type": "thinking", "thinking": "Then more.", "signature": ""},
            {"type": "text", "text": " And two."},
        ])
    );
    // With the field pinned, the other one is ignored.
    let events = translate_with(
        ReasoningField::Reasoning,
        &[
            chunk(
                json!({"reasoning_content": "ignored", "reasoning": "kept"}),
                None,
            ),
            chunk(json!({"content": "ok"}), Some("stop")),
        ],
    );
    assert_eq!(valid(&events).message["content"][0]["thinking"], "kept");
}

/// LiteLLM #23510 (<https://github.com/BerriAI/litellm/issues/23510>):
/// "`tool_use` ids must be unique": translated conversations carried the
/// same tool-use id twice, and the Anthropic API refuses the whole
/// conversation from then on. Backends that number calls (`call_0` in every
/// response, as some Grok and Mistral deployments do), repeat an id within
/// one response, or send none at all must still yield distinct, valid ids,
/// different from one response to the next, which the request side then
/// sends back unchanged so every `tool_result` finds its call.
#[test]
fn litellm_23510_tool_use_ids_are_unique_and_round_trip() {
    let response = |nonce: &str| {
        let mut decoder = ChatStreamDecoder::with_nonce(ReasoningField::Auto, nonce.into());
        let mut out = Vec::new();
        for chunk in [
            call(0, Some("call_0"), Some("Read"), "{}"),
            call(1, Some("call_0"), Some("Read"), "{}"),
            call(2, None, Some("Read"), "{}"),
            chunk(json!({}), Some("tool_calls")),
        ] {
            out.extend_from_slice(
                &decoder
                    .decode(Bytes::from(format!("data: {chunk}\n\n")))
                    .unwrap(),
            );
        }
        out.extend_from_slice(&decoder.finish().unwrap());
        let outcome = valid(&parse_sse(&out));
        outcome.message["content"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let first = response("AAAAAAAAAAAA");
    let second = response("BBBBBBBBBBBB");
    assert_eq!(first.len(), 3);
    let all: std::collections::HashSet<&String> = first.iter().chain(&second).collect();
    assert_eq!(
        all.len(),
        6,
        "ids repeat across or within responses: {first:?} {second:?}"
    );

    // The ids go back upstream as they came, on both sides of each call.
    let history = json!({"model": "m", "max_tokens": 10, "messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": first.iter().map(|id| json!({"type": "tool_use", "id": id, "name": "Read", "input": {}})).collect::<Vec<_>>()},
        {"role": "user", "content": first.iter().map(|id| json!({"type": "tool_result", "tool_use_id": id, "content": "x"})).collect::<Vec<_>>()},
    ]});
    let chat = chat_body(&history, &OpenAiConfig::default());
    let calls: Vec<&str> = chat["messages"][1]["tool_calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let results: Vec<&str> = chat["messages"].as_array().unwrap()[2..]
        .iter()
        .map(|m| m["tool_call_id"].as_str().unwrap())
        .collect();
    assert_eq!(calls, results);
    assert_eq!(calls, first.iter().map(String::as_str).collect::<Vec<_>>());
}

/// LiteLLM #25321: not found in the issue index available to us, so this
/// tests the failure family the named issues share and that LiteLLM #34692
/// (<https://github.com/BerriAI/litellm/issues/34692>) reports for Ollama:
/// a turn with a tool call reported `stop_reason: end_turn` (so Claude Code
/// never ran the tool), behind a spurious whitespace-only text block (which
/// the API later refuses: "text content blocks must contain non-whitespace
/// text").
#[test]
fn tool_turns_reported_as_stop_still_stop_for_tool_use_without_blank_text() {
    let events = translate(&[
        chunk(json!({"role": "assistant", "content": "\n\n"}), None),
        call(
            0,
            Some("8a359e89-5b2c-4b5f-9e0c-0123456789ab"),
            Some("Write"),
            "{\"file_path\": \"t.txt\", \"content\": \"hello\"}",
        ),
        chunk(json!({"content": ""}), Some("stop")),
    ]);
    let outcome = valid(&events);
    assert_eq!(outcome.message["stop_reason"], "tool_use");
    assert_eq!(
        outcome.message["content"].as_array().unwrap().len(),
        1,
        "{}",
        outcome.message
    );
    // Whitespace that leads into real text is kept.
    let events = translate(&[
        chunk(json!({"content": "\n"}), None),
        chunk(json!({"content": "Done."}), Some("stop")),
    ]);
    assert_eq!(valid(&events).message["content"][0]["text"], "\nDone.");
}

/// A stream cut before `finish_reason` must not look complete: the decoder
/// fails, and the relay turns that into an `error` event.
#[test]
fn a_cut_stream_fails_instead_of_ending_cleanly() {
    let mut decoder = ChatStreamDecoder::with_nonce(ReasoningField::Auto, "N".into());
    let out = decoder
        .decode(Bytes::from(format!(
            "data: {}\n\n",
            chunk(json!({"content": "Half"}), None)
        )))
        .unwrap();
    assert!(!out.is_empty());
    let err = decoder.finish().unwrap_err();
    assert!(err.0.contains("no finish_reason"), "{err}");
}

fn chat_body(request: &Value, options: &OpenAiConfig) -> Value {
    use relay_providers::{ClientRequest, Endpoint, OpenAi, Provider};
    let body = Bytes::from(request.to_string());
    let summary = relay_core::inspect_request(&body).unwrap();
    let config = relay_config::ProviderConfig {
        name: "o".into(),
        kind: relay_config::ProviderType::Openai,
        openai: options.clone(),
        ..relay_config::ProviderConfig::default()
    };
    let provider = OpenAi::new(&config).unwrap();
    let headers = http::HeaderMap::new();
    let client = ClientRequest {
        endpoint: Endpoint::Messages,
        path_and_query: "/v1/messages",
        headers: &headers,
        body: &body,
        summary: &summary,
    };
    serde_json::from_slice(&provider.transform_body(&client, "m").unwrap()).unwrap()
}
