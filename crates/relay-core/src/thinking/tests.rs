use super::*;
use crate::inspect_request;

fn body_with(messages: &str) -> Vec<u8> {
    format!(r#"{{"model":"m", "max_tokens": 10,"messages": {messages} , "thinking":{{"type":"enabled","budget_tokens":1024}}}}"#)
        .into_bytes()
}

fn rewrite(body: &[u8], foreign: &[&str]) -> Option<ThinkingRewrite> {
    let span = inspect_request(body).unwrap().messages_span.unwrap();
    let foreign: Vec<SignatureId> = foreign.iter().map(|s| SignatureId::of(s)).collect();
    drop_foreign_thinking(body, span, |id| !foreign.contains(&id))
}

const CONVERSATION: &str = r#"[
  {"role":"user","content":"hi"},
  {"role":"assistant","content":[{"type":"thinking","thinking":"hmm","signature":"SIG_A"},{"type":"text","text":"hello"}]},
  {"role":"user","content":[{"type":"text","text":"more"}]},
  {"role":"assistant","content":[{"type":"redacted_thinking","data":"RED_B"},{"type":"tool_use","id":"t1","name":"ls","input":{}}]},
  {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}
]"#;

#[test]
fn nothing_changes_when_every_signature_is_kept() {
    assert_eq!(rewrite(&body_with(CONVERSATION), &[]), None);
}

#[test]
fn foreign_blocks_are_dropped_and_nothing_else_changes() {
    let body = body_with(CONVERSATION);
    let result = rewrite(&body, &["SIG_A", "RED_B"]).unwrap();
    assert_eq!(result.dropped, 2);
    let text = std::str::from_utf8(&result.body).unwrap();
    assert!(!text.contains("SIG_A") && !text.contains("RED_B"));
    // The tool_use and its tool_result both survive: nothing is orphaned.
    assert!(text.contains(r#"{"type":"tool_use","id":"t1","name":"ls","input":{}}"#));
    assert!(text.contains(r#""tool_use_id":"t1""#));
    // Bytes outside the rebuilt content arrays are untouched, whitespace included.
    assert!(text.starts_with(r#"{"model":"m", "max_tokens": 10,"messages": ["#));
    assert!(text.ends_with(r#"] , "thinking":{"type":"enabled","budget_tokens":1024}}"#));
    assert!(text.contains("{\"role\":\"user\",\"content\":\"hi\"},\n  {\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"hello\"}]}"));
    let parsed: serde_json::Value = serde_json::from_slice(&result.body).unwrap();
    assert_eq!(
        parsed["messages"][1]["content"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn only_the_unverifiable_block_goes() {
    let body = body_with(CONVERSATION);
    let result = rewrite(&body, &["RED_B"]).unwrap();
    assert_eq!(result.dropped, 1);
    let parsed: serde_json::Value = serde_json::from_slice(&result.body).unwrap();
    assert_eq!(parsed["messages"][1]["content"][0]["signature"], "SIG_A");
    assert_eq!(parsed["messages"][3]["content"][0]["type"], "tool_use");
}

#[test]
fn kept_thinking_blocks_are_moved_first() {
    let body = body_with(
        r#"[{"role":"assistant","content":[{"type":"text","text":"a"},{"type":"thinking","thinking":"t","signature":"OK"}]}]"#,
    );
    let result = rewrite(&body, &[]).unwrap();
    assert_eq!(result.dropped, 0);
    let parsed: serde_json::Value = serde_json::from_slice(&result.body).unwrap();
    assert_eq!(parsed["messages"][0]["content"][0]["type"], "thinking");
    assert_eq!(parsed["messages"][0]["content"][1]["type"], "text");
}

#[test]
fn an_assistant_turn_left_empty_stays_valid() {
    let body = body_with(
        r#"[{"role":"assistant","content":[{"type":"thinking","thinking":"t","signature":"X"}]}]"#,
    );
    let result = rewrite(&body, &["X"]).unwrap();
    let parsed: serde_json::Value = serde_json::from_slice(&result.body).unwrap();
    assert_eq!(parsed["messages"][0]["content"][0]["type"], "text");
}

#[test]
fn user_messages_and_string_content_are_never_touched() {
    let body = body_with(
        r#"[{"role":"user","content":[{"type":"thinking","thinking":"t","signature":"X"}]},{"role":"assistant","content":"plain"}]"#,
    );
    assert_eq!(rewrite(&body, &["X"]), None);
}

#[test]
fn the_cheap_scan_and_response_signatures() {
    assert!(may_carry_thinking(&body_with(CONVERSATION)));
    assert!(!may_carry_thinking(br#"{"model":"m","messages":[]}"#));
    let response = br#"{"content":[{"type":"thinking","thinking":"x","signature":"S1"},{"type":"redacted_thinking","data":"D1"},{"type":"text","text":"t"}]}"#;
    assert_eq!(
        response_signatures(response),
        vec![SignatureId::of("S1"), SignatureId::of("D1")]
    );
    assert!(response_signatures(b"not json").is_empty());
}
