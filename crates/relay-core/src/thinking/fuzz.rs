//! The fuzzing entry point for the thinking-block rewrite, shared by the
//! proptest suite below (run by CI) and the `cargo fuzz` target in the
//! repository's `fuzz/` (run by hand).

use std::ops::Range;

use serde_json::Value;

use super::{SignatureId, drop_foreign_thinking};
use crate::inspect_request;

/// Which signatures the case's backend can verify: a pseudo-random half,
/// chosen by `keep_bits`.
fn keeps(keep_bits: u64) -> impl Fn(SignatureId) -> bool {
    move |id| (id.0 ^ keep_bits).count_ones().is_multiple_of(2)
}

/// Runs the rewrite on `body` (any bytes) with an arbitrary `span` (which
/// must never panic), then with the real `messages` span, and checks:
///
/// - nothing outside the `messages` array changes, and the body still
///   inspects the same;
/// - no assistant message keeps a thinking block the backend cannot verify,
///   and kept ones come first; `dropped` counts what went;
/// - every other message is unchanged, and none is added or removed;
/// - a second run finds nothing to do.
///
/// Returns which invariant broke.
pub fn thinking_case(body: &[u8], span: Range<usize>, keep_bits: u64) -> Result<(), String> {
    let keep = keeps(keep_bits);
    let _ = drop_foreign_thinking(body, span, &keep);
    let Ok(summary) = inspect_request(body) else {
        return Ok(());
    };
    let Some(messages) = summary.messages_span.clone() else {
        return Ok(());
    };
    let Some(rewrite) = drop_foreign_thinking(body, messages.clone(), &keep) else {
        return check_nothing_to_do(&body[messages], &keep);
    };
    let out = &rewrite.body[..];
    let tail = body.len() - messages.end;
    if out.get(..messages.start) != body.get(..messages.start)
        || out.get(out.len().saturating_sub(tail)..) != body.get(messages.end..)
    {
        return Err("bytes outside `messages` changed".to_owned());
    }
    let again = inspect_request(out).map_err(|e| format!("the rewrite broke the body: {e}"))?;
    if (&again.model, again.stream, again.max_tokens)
        != (&summary.model, summary.stream, summary.max_tokens)
    {
        return Err(format!("{summary:?} became {again:?}"));
    }
    let Some(new_messages) = again.messages_span.clone() else {
        return Err("the rewrite lost `messages`".to_owned());
    };

    // The shape checks need both arrays as values (not possible past
    // serde_json's nesting limit, which the rewrite itself does not have).
    let parse = |text: &[u8]| serde_json::from_slice::<Vec<Value>>(text).ok();
    if let (Some(before), Some(after)) = (parse(&body[messages]), parse(&out[new_messages.clone()]))
    {
        check_messages(&before, &after, rewrite.dropped, &keep)?;
    }
    if drop_foreign_thinking(out, new_messages, &keep).is_some() {
        return Err("a second run changed the body again".to_owned());
    }
    Ok(())
}

/// When the rewrite left a well-shaped conversation alone, it had no
/// unverifiable block and every kept one already came first.
fn check_nothing_to_do(messages: &[u8], keep: &impl Fn(SignatureId) -> bool) -> Result<(), String> {
    let Ok(messages) = serde_json::from_slice::<Vec<Value>>(messages) else {
        return Ok(());
    };
    let text_or_null = |v: Option<&Value>| v.is_none_or(|v| v.is_null() || v.is_string());
    let block_shaped = |b: &Value| {
        b.is_object()
            && ["type", "signature", "data"]
                .iter()
                .all(|k| text_or_null(b.get(k)))
    };
    for message in &messages {
        if !message.is_object() {
            return Ok(());
        }
        let blocks = match message.get("content").and_then(Value::as_array) {
            Some(blocks) if message.get("role").and_then(Value::as_str) == Some("assistant") => {
                blocks
            }
            _ => continue,
        };
        if !blocks.iter().all(block_shaped) {
            return Ok(());
        }
    }
    for message in &messages {
        let blocks = match message.get("content").and_then(Value::as_array) {
            Some(blocks) if message.get("role").and_then(Value::as_str) == Some("assistant") => {
                blocks
            }
            _ => continue,
        };
        let thinking = blocks.iter().take_while(|b| payload(b).is_some()).count();
        let misplaced = blocks[thinking..].iter().any(|b| payload(b).is_some());
        let unverifiable = blocks
            .iter()
            .filter_map(payload)
            .any(|p| !keep(SignatureId::of(p)));
        if misplaced || unverifiable {
            return Err(format!("the rewrite left {message} unchanged"));
        }
    }
    Ok(())
}

/// The payload a thinking block is verified by, if `block` is one.
fn payload(block: &Value) -> Option<&str> {
    match block.get("type")?.as_str()? {
        "thinking" => Some(block.get("signature").and_then(Value::as_str).unwrap_or("")),
        "redacted_thinking" => Some(block.get("data").and_then(Value::as_str).unwrap_or("")),
        _ => None,
    }
}

fn check_messages(
    before: &[Value],
    after: &[Value],
    dropped: usize,
    keep: &impl Fn(SignatureId) -> bool,
) -> Result<(), String> {
    if before.len() != after.len() {
        return Err("messages were added or removed".to_owned());
    }
    let mut rejected = 0;
    for (old, new) in before.iter().zip(after) {
        let assistant_blocks = (old.get("role").and_then(Value::as_str) == Some("assistant"))
            .then(|| old.get("content").and_then(Value::as_array))
            .flatten();
        let Some(old_blocks) = assistant_blocks else {
            if old != new {
                return Err(format!(
                    "a message that is not the assistant's changed: {old}"
                ));
            }
            continue;
        };
        rejected += old_blocks
            .iter()
            .filter_map(payload)
            .filter(|p| !keep(SignatureId::of(p)))
            .count();
        let Some(new_blocks) = new.get("content").and_then(Value::as_array) else {
            return Err("an assistant message lost its content array".to_owned());
        };
        let thinking = new_blocks
            .iter()
            .take_while(|b| payload(b).is_some())
            .count();
        if new_blocks[thinking..].iter().any(|b| payload(b).is_some()) {
            return Err(format!("thinking after other content: {new}"));
        }
        if new_blocks
            .iter()
            .filter_map(payload)
            .any(|p| !keep(SignatureId::of(p)))
        {
            return Err(format!("an unverifiable block was kept: {new}"));
        }
    }
    if rejected != dropped {
        return Err(format!(
            "{rejected} blocks were unverifiable, {dropped} dropped"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// A few signatures, so that a conversation repeats them.
    fn signature() -> impl Strategy<Value = String> {
        prop_oneof![(0..6u8).prop_map(|i| format!("SIG_{i}")), "\\PC{0,8}"]
    }

    fn block() -> impl Strategy<Value = Value> {
        prop_oneof![
            3 => (signature(), "\\PC{0,6}").prop_map(|(s, t)| json!({"type": "thinking", "thinking": t, "signature": s})),
            1 => Just(json!({"type": "thinking", "thinking": "no signature"})),
            2 => signature().prop_map(|d| json!({"type": "redacted_thinking", "data": d})),
            3 => "\\PC{0,8}".prop_map(|t| json!({"type": "text", "text": t})),
            1 => Just(json!({"type": "tool_use", "id": "t1", "name": "ls", "input": {"signature": "SIG_1"}})),
            1 => prop_oneof![Just(json!(5)), Just(Value::Null), Just(json!({"type": 5})), Just(json!({}))],
        ]
    }

    fn message() -> impl Strategy<Value = Value> {
        let role = prop_oneof![
            4 => Just(json!("assistant")),
            2 => Just(json!("user")),
            1 => Just(Value::Null),
            1 => Just(json!(7)),
        ];
        let content = prop_oneof![
            4 => prop::collection::vec(block(), 0..5).prop_map(Value::from),
            1 => "\\PC{0,8}".prop_map(Value::from),
            1 => Just(Value::Null),
        ];
        (role, content, any::<bool>()).prop_map(|(role, content, extra)| {
            let mut message = json!({"role": role, "content": content});
            if extra {
                message["cache_control"] = json!({"type": "ephemeral"});
            }
            message
        })
    }

    /// A body around a generated conversation, compact or pretty, with the
    /// assistant's role sometimes spelt with an escape.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::vec(message(), 0..6),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(messages, pretty, escape_role)| {
                let body =
                    json!({"model": "m", "max_tokens": 8, "messages": messages, "stream": true});
                let text = if pretty {
                    serde_json::to_string_pretty(&body)
                } else {
                    serde_json::to_string(&body)
                };
                let text = text.unwrap_or_default();
                let text = if escape_role {
                    text.replace("\"assistant\"", "\"assist\\u0061nt\"")
                } else {
                    text
                };
                text.into_bytes()
            })
    }

    #[test]
    fn an_escaped_assistant_role_is_still_the_assistant() {
        // A fuzzing finding: the role was compared without decoding it.
        let body = br#"{"model":"m","messages":[{"role":"assist\u0061nt","content":[{"type":"thinking","thinking":"","signature":"SIG_0"},{"type":"text","text":"hi"}]}]}"#;
        let span = inspect_request(body).unwrap().messages_span.unwrap();
        let rewrite = drop_foreign_thinking(body, span.clone(), |_| false).unwrap();
        assert_eq!(rewrite.dropped, 1);
        for keep_bits in [0, 1, u64::MAX] {
            assert_eq!(thinking_case(body, span.clone(), keep_bits), Ok(()));
        }
    }

    fn check(body: &[u8], span: Range<usize>, keep_bits: u64) -> Result<(), TestCaseError> {
        thinking_case(body, span, keep_bits).map_err(TestCaseError::fail)
    }

    proptest! {
        #![proptest_config(ProptestConfig { max_shrink_iters: 4096, ..ProptestConfig::default() })]

        #[test]
        fn generated_conversations(body in body(), keep_bits in any::<u64>()) {
            check(&body, 0..body.len(), keep_bits)?;
        }

        #[test]
        fn mutated_conversations(
            body in body(),
            at in any::<prop::sample::Index>(),
            insert in prop::collection::vec(any::<u8>(), 0..3),
            cut in any::<bool>(),
            keep_bits in any::<u64>(),
        ) {
            let mut body = body;
            let at = at.index(body.len() + 1);
            if cut {
                body.truncate(at);
            }
            body.splice(at.min(body.len())..at.min(body.len()), insert);
            check(&body, at.saturating_sub(5)..at + 5, keep_bits)?;
        }

        #[test]
        fn arbitrary_bytes_and_spans(
            body in prop::collection::vec(any::<u8>(), 0..128),
            start in 0..140usize,
            len in 0..140usize,
            keep_bits in any::<u64>(),
        ) {
            check(&body, start..start.saturating_add(len), keep_bits)?;
            #[allow(clippy::reversed_empty_ranges)]
            check(&body, start..start.saturating_sub(len), keep_bits)?;
        }
    }
}
