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

#[test]
fn escaped_markers_are_not_missed() {
    for body in [
        r#"{"content":[{"type":"thinking","thinking":"x","sign\u0061ture":"S"}]}"#,
        r#"{"content":[{"type":"redacted_thinkin\u0067","data":"D"}]}"#,
        r#"{"content":[{"type":"redacted\u005Fthinking","data":"D"}]}"#,
    ] {
        assert!(!response_signatures(body.as_bytes()).is_empty(), "{body}");
        assert!(may_carry_signatures(body.as_bytes()), "{body}");
        // The request-side scan stays at two passes and misses these.
        assert!(!may_carry_thinking(body.as_bytes()), "{body}");
    }
    // Escapes of anything but `_` and letters do not count.
    assert!(!may_carry_signatures(
        br#"{"content":[{"type":"text","text":"\u00e9\n\u0022"}]}"#
    ));
}

mod escapes {
    use proptest::prelude::*;

    use super::super::{
        SignatureId, drop_foreign_thinking, may_carry_signatures, response_signatures,
    };
    use crate::inspect_request;

    /// `text` as a JSON string literal; the characters `escape` picks are
    /// written as `\u` escapes, in upper or lower case.
    fn literal(text: &str, escape: &[bool], upper: bool) -> String {
        let mut out = String::from("\"");
        for (i, c) in text.chars().enumerate() {
            if escape.get(i).copied().unwrap_or(false) || c < ' ' {
                for unit in c.encode_utf16(&mut [0; 2]) {
                    out.push_str(&if upper {
                        format!("\\u{unit:04X}")
                    } else {
                        format!("\\u{unit:04x}")
                    });
                }
            } else if c == '"' || c == '\\' {
                out.push('\\');
                out.push(c);
            } else {
                out.push(c);
            }
        }
        out.push('"');
        out
    }

    fn written(text: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
        (
            text,
            prop::collection::vec(prop::bool::weighted(0.1), 24),
            any::<bool>(),
        )
            .prop_map(|(text, escape, upper)| literal(&text, &escape, upper))
    }

    /// A content block: a type, and some of the keys blocks have.
    fn block() -> impl Strategy<Value = String> {
        let kind = prop::sample::select(vec!["thinking", "redacted_thinking", "text", "tool_use"]);
        let key = prop::sample::select(vec!["signature", "data", "thinking", "text"]);
        (
            written(kind.prop_map(str::to_owned)),
            prop::collection::vec(
                (written(key.prop_map(str::to_owned)), written("\\PC{0,6}")),
                0..4,
            ),
        )
            .prop_map(|(kind, fields)| {
                let mut members = vec![format!("\"type\":{kind}")];
                members.extend(
                    fields
                        .into_iter()
                        .map(|(key, value)| format!("{key}:{value}")),
                );
                format!("{{{}}}", members.join(","))
            })
    }

    fn blocks() -> impl Strategy<Value = String> {
        prop::collection::vec(block(), 0..4).prop_map(|blocks| blocks.join(","))
    }

    proptest! {
        #[test]
        fn the_response_pre_check_never_misses_a_signature(content in blocks()) {
            let body = format!(r#"{{"id":"msg_1","content":[{content}],"model":"m"}}"#);
            if !response_signatures(body.as_bytes()).is_empty() {
                prop_assert!(may_carry_signatures(body.as_bytes()), "{}", body);
            }
        }

        /// The same scan would do for requests, were its cost worth it there.
        #[test]
        fn the_conservative_scan_never_misses_a_dropped_block(turns in prop::collection::vec(blocks(), 1..3)) {
            let messages: Vec<String> = turns
                .iter()
                .map(|content| format!(r#"{{"role":"assistant","content":[{content}]}}"#))
                .collect();
            let body = format!(r#"{{"model":"m","messages":[{}]}}"#, messages.join(","));
            let span = inspect_request(body.as_bytes()).unwrap().messages_span.unwrap();
            // Every signed block is foreign; unsigned ones are kept.
            let unsigned = SignatureId::of("");
            let rewrite = drop_foreign_thinking(body.as_bytes(), span, |id| id == unsigned);
            if rewrite.is_some_and(|rewrite| rewrite.dropped > 0) {
                prop_assert!(may_carry_signatures(body.as_bytes()), "{}", body);
            }
        }
    }
}
