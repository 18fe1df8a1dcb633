//! Editing a JSON object's top-level members by splicing bytes: the members
//! that change are cut out or replaced, and every other byte (whitespace,
//! key order, number spelling, escapes) stays what the sender wrote.
//!
//! Used for request fields a backend rejects (`strip_fields`), the body's
//! `anthropic_beta` list, and for writing the client's model id back into a
//! response (a JSON body, or the `message_start` event of a stream).

use std::ops::Range;

use bytes::Bytes;
use serde_json::Value;

use super::scan::object_members;

/// `body` without its top-level members named in `names` (every occurrence),
/// or `None` when none is present or `body` is not a JSON object.
///
/// A removed member takes the comma before it with it (after it, for the
/// first member), so the object stays valid and the rest byte-exact.
pub fn remove_top_level_fields(body: &[u8], names: &[&str]) -> Option<Bytes> {
    let members = object_members(body).ok()?;
    let mut cuts: Vec<Range<usize>> = Vec::new();
    let mut kept_before = false;
    for (i, member) in members.iter().enumerate() {
        if !names.contains(&member.key.as_str()) {
            kept_before = true;
            continue;
        }
        let cut = if kept_before {
            // From the end of the previous value: `, "key": value`.
            members[i - 1].value.end..member.value.end
        } else {
            // Nothing kept before: up to the next member's key, or the
            // closing brace when it is the last one.
            let end = members
                .get(i + 1)
                .map_or(member.value.end, |next| next.start);
            member.start..end
        };
        // Consecutive removals after a kept member chain up: the previous
        // removed member's span ends where this cut starts.
        match cuts.last_mut() {
            Some(last) if last.end >= cut.start => last.end = last.end.max(cut.end),
            _ => cuts.push(cut),
        }
    }
    if cuts.is_empty() {
        return None;
    }
    Some(splice(body, &cuts, &[]))
}

/// `body` with the value of its top-level `name` (the last occurrence, as
/// serde_json reads it) replaced by `json`, which must be one encoded JSON
/// value; `None` when `name` is absent or `body` is not a JSON object.
pub fn replace_top_level_value(body: &[u8], name: &str, json: &str) -> Option<Bytes> {
    let members = object_members(body).ok()?;
    let member = members.iter().rev().find(|m| m.key == name)?;
    Some(splice(body, std::slice::from_ref(&member.value), &[json]))
}

/// The raw JSON of the top-level `name` (last occurrence), if `body` is an object that has it.
pub fn top_level_value<'a>(body: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let members = object_members(body).ok()?;
    let member = members.iter().rev().find(|m| m.key == name)?;
    body.get(member.value.clone())
}

/// A non-streamed Messages response with its `model` set to `model`; `None`
/// when it already says so, has no `model`, or is not a JSON object.
pub fn restore_response_model(body: &[u8], model: &str) -> Option<Bytes> {
    let members = object_members(body).ok()?;
    let member = members.iter().rev().find(|m| m.key == "model")?;
    model_splice(body, member.value.clone(), model)
}

/// One complete SSE event (as the splitter cuts it) with
/// `message.model` set to `model` when it is a `message_start` event; `None`
/// when the event is another type, already says `model`, or cannot be read
/// (then it is relayed unchanged).
///
/// Only single-line `data:` payloads are rewritten, which is how every
/// Anthropic-compatible upstream sends `message_start`.
pub fn restore_message_start_model(event: &[u8], model: &str) -> Option<Bytes> {
    // Cheap refusal for the thousands of deltas in a stream.
    memchr::memmem::find(event, b"message_start")?;
    let data = single_data_line(event)?;
    let payload = &event[data.clone()];
    let members = object_members(payload).ok()?;
    let is_start = members
        .iter()
        .rev()
        .find(|m| m.key == "type")
        .is_some_and(|m| {
            serde_json::from_slice::<&str>(&payload[m.value.clone()]).ok() == Some("message_start")
        });
    if !is_start {
        return None;
    }
    let message = members.iter().rev().find(|m| m.key == "message")?;
    let message_bytes = &payload[message.value.clone()];
    let inner = object_members(message_bytes).ok()?;
    let model_member = inner.iter().rev().find(|m| m.key == "model")?;
    let offset = data.start + message.value.start;
    let span = offset + model_member.value.start..offset + model_member.value.end;
    model_splice(event, span, model)
}

/// A run of complete SSE events (as the splitter hands them on) with the
/// `message_start` event among them restored by
/// [`restore_message_start_model`]; `None` when none of them is one or it
/// already says `model`. The other events' bytes are untouched.
pub fn restore_stream_model(events: &[u8], model: &str) -> Option<Bytes> {
    memchr::memmem::find(events, b"message_start")?;
    let mut start = 0;
    for (end, next) in event_ends(events) {
        let event = &events[start..end];
        if memchr::memmem::find(event, b"message_start").is_some() {
            let restored = restore_message_start_model(event, model)?;
            let mut out = Vec::with_capacity(events.len() + model.len());
            out.extend_from_slice(&events[..start]);
            out.extend_from_slice(&restored);
            out.extend_from_slice(&events[end..]);
            return Some(Bytes::from(out));
        }
        start = next;
    }
    None
}

/// (end of event including its blank line, start of the next) for every
/// event in `events`, ended by a blank line (`\n`, `\r\n` or `\r` line ends)
/// or by the end of the input.
fn event_ends(events: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut line_start = 0;
    let mut i = 0;
    while i < events.len() {
        let byte = events[i];
        if byte == b'\n' || byte == b'\r' {
            let mut end = i + 1;
            if byte == b'\r' && events.get(end) == Some(&b'\n') {
                end += 1;
            }
            if i == line_start {
                // An empty line: the event ends here.
                out.push((end, end));
            }
            line_start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    if out.last().map_or(0, |&(end, _)| end) < events.len() {
        out.push((events.len(), events.len()));
    }
    out
}

/// Replaces the string literal at `span` with `model`, unless it already is `model`.
fn model_splice(bytes: &[u8], span: Range<usize>, model: &str) -> Option<Bytes> {
    let current = bytes.get(span.clone())?;
    if serde_json::from_slice::<String>(current).ok().as_deref() == Some(model) {
        return None;
    }
    let literal = Value::from(model).to_string();
    Some(splice(bytes, &[span], &[&literal]))
}

/// The span of the one `data:` line's value in an event; `None` when the
/// event has no `data` line or several.
fn single_data_line(event: &[u8]) -> Option<Range<usize>> {
    let mut found = None;
    let mut start = 0;
    while start < event.len() {
        let end = memchr::memchr2(b'\n', b'\r', &event[start..]).map_or(event.len(), |i| start + i);
        let line = &event[start..end];
        if let Some(rest) = line.strip_prefix(b"data:") {
            if found.is_some() {
                return None;
            }
            let skip = usize::from(rest.first() == Some(&b' '));
            found = Some(start + 5 + skip..end);
        }
        start = end + 1;
    }
    found
}

/// `bytes` with each of `cuts` (sorted, disjoint) replaced by the matching
/// entry of `with` (or nothing).
fn splice(bytes: &[u8], cuts: &[Range<usize>], with: &[&str]) -> Bytes {
    let added: usize = with.iter().map(|s| s.len()).sum();
    let mut out = Vec::with_capacity(bytes.len() + added);
    let mut at = 0;
    for (i, cut) in cuts.iter().enumerate() {
        out.extend_from_slice(&bytes[at..cut.start]);
        if let Some(replacement) = with.get(i) {
            out.extend_from_slice(replacement.as_bytes());
        }
        at = cut.end;
    }
    out.extend_from_slice(&bytes[at..]);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn removed(body: &str, names: &[&str]) -> String {
        let out = remove_top_level_fields(body.as_bytes(), names).unwrap();
        let text = String::from_utf8(out.to_vec()).unwrap();
        serde_json::from_str::<Value>(&text).unwrap();
        text
    }

    #[test]
    fn removing_keeps_every_other_byte() {
        let body = "{ \"model\" : \"m\",\n  \"context_management\": {\"edits\":[1]},\n  \"max_tokens\": 1.0e3 }";
        assert_eq!(
            removed(body, &["context_management"]),
            "{ \"model\" : \"m\",\n  \"max_tokens\": 1.0e3 }"
        );
        assert_eq!(
            removed(body, &["model"]),
            "{ \"context_management\": {\"edits\":[1]},\n  \"max_tokens\": 1.0e3 }"
        );
        assert_eq!(
            removed(body, &["max_tokens"]),
            "{ \"model\" : \"m\",\n  \"context_management\": {\"edits\":[1]} }"
        );
        assert_eq!(
            removed(body, &["model", "context_management", "max_tokens"]),
            "{  }"
        );
        assert_eq!(
            removed(body, &["model", "max_tokens"]),
            "{ \"context_management\": {\"edits\":[1]} }"
        );
        assert_eq!(
            removed(r#"{"a":1,"b":2,"b":3,"c":4}"#, &["b"]),
            r#"{"a":1,"c":4}"#
        );
        assert_eq!(removed(r#"{"b":2,"a":1,"b":3}"#, &["b"]), r#"{"a":1}"#);
        assert_eq!(removed(r#"{"a\u0062":2,"c":4}"#, &["ab"]), r#"{"c":4}"#);
    }

    #[test]
    fn nothing_to_remove_or_not_an_object() {
        assert!(remove_top_level_fields(br#"{"a":1}"#, &["b"]).is_none());
        assert!(remove_top_level_fields(b"[1]", &["a"]).is_none());
        assert!(remove_top_level_fields(b"{\"a\":", &["a"]).is_none());
    }

    #[test]
    fn replacing_a_value() {
        let out = replace_top_level_value(
            br#"{"anthropic_beta": ["a","b"], "x":1}"#,
            "anthropic_beta",
            r#"["a"]"#,
        )
        .unwrap();
        assert_eq!(out, r#"{"anthropic_beta": ["a"], "x":1}"#);
        assert_eq!(top_level_value(br#"{"x": [1] }"#, "x"), Some(&b"[1]"[..]));
    }

    #[test]
    fn the_response_model_is_restored_in_place() {
        let body = br#"{"id":"msg_1","type":"message","model":"glm-4.6","content":[{"type":"text","text":"\"model\":\"x\""}],"usage":{"input_tokens":1}}"#;
        let out = restore_response_model(body, "claude-sonnet-4-5").unwrap();
        assert_eq!(
            out,
            r#"{"id":"msg_1","type":"message","model":"claude-sonnet-4-5","content":[{"type":"text","text":"\"model\":\"x\""}],"usage":{"input_tokens":1}}"#
        );
        assert!(restore_response_model(&out, "claude-sonnet-4-5").is_none());
        assert!(restore_response_model(br#"{"type":"error"}"#, "m").is_none());
        assert!(restore_response_model(b"not json", "m").is_none());
    }

    #[test]
    fn the_message_start_among_several_events_is_restored() {
        let events = b": ping\n\nevent: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"glm\"}}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n";
        let out = restore_stream_model(events, "claude-x").unwrap();
        assert_eq!(
            out,
            &b": ping\n\nevent: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-x\"}}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n"[..]
        );
        assert!(restore_stream_model(&out, "claude-x").is_none());
        assert!(restore_stream_model(b"event: ping\ndata: {}\n\n", "c").is_none());
    }

    #[test]
    fn message_start_is_restored_and_other_events_are_not_touched() {
        let event = b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"glm-4.6\",\"usage\":{}}}\n\n";
        let out = restore_message_start_model(event, "claude-opus-4-8").unwrap();
        assert_eq!(
            out,
            &b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"claude-opus-4-8\",\"usage\":{}}}\n\n"[..]
        );
        let crlf = b"event: message_start\r\ndata:{\"type\":\"message_start\",\"message\":{\"model\":\"g\"}}\r\n\r\n";
        assert_eq!(
            restore_message_start_model(crlf, "c").unwrap(),
            &b"event: message_start\r\ndata:{\"type\":\"message_start\",\"message\":{\"model\":\"c\"}}\r\n\r\n"[..]
        );
        let delta = b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"message_start model\"}}\n\n";
        assert!(restore_message_start_model(delta, "c").is_none());
        assert!(restore_message_start_model(b": ping message_start\n\n", "c").is_none());
        let split = b"event: message_start\ndata: {\"type\":\"message_start\",\ndata: \"message\":{\"model\":\"g\"}}\n\n";
        assert!(restore_message_start_model(split, "c").is_none());
    }
}
