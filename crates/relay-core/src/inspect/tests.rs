//! Inspection and rewrite tests: the real Claude Code fixture, every error,
//! and random documents.

use proptest::prelude::*;
use serde_json::Value;

use super::{InspectError, RequestSummary, inspect_request, rewrite_model};
use crate::ApiError;

fn fixture() -> Option<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/claude-code-request.json"
    );
    match std::fs::read(path) {
        Ok(body) => Some(body),
        // ../shared sits beside the repository on every machine that runs the suite.
        Err(err) => {
            panic!("fixture {path} not readable ({err}): ../shared must sit beside the repository")
        }
    }
}

fn inspect(body: &str) -> Result<RequestSummary, InspectError> {
    inspect_request(body.as_bytes())
}

fn assert_only_model_changed(
    original: &[u8],
    rewritten: &[u8],
    summary: &RequestSummary,
    literal: &str,
) {
    let span = &summary.model_span;
    assert_eq!(&rewritten[..span.start], &original[..span.start]);
    assert_eq!(
        &rewritten[span.start..span.start + literal.len()],
        literal.as_bytes()
    );
    assert_eq!(
        &rewritten[span.start + literal.len()..],
        &original[span.end..]
    );
}

#[test]
fn fixture_summary() {
    let Some(body) = fixture() else { return };
    let summary = inspect_request(&body).unwrap();
    assert_eq!(summary.model, "claude-sonnet-4-5");
    assert_eq!(&body[summary.model_span.clone()], b"\"claude-sonnet-4-5\"");
    assert!(summary.stream);
    assert!(summary.has_thinking);
    let user_id = summary.metadata_user_id.unwrap();
    assert!(user_id.contains("session_id"), "{user_id}");
}

#[test]
fn fixture_rewrite_changes_only_the_model() {
    let Some(body) = fixture() else { return };
    let summary = inspect_request(&body).unwrap();
    let new_model = "claude-opus-4-1-20250805";
    let rewritten = rewrite_model(&body, &summary, new_model);
    assert_only_model_changed(&body, &rewritten, &summary, "\"claude-opus-4-1-20250805\"");

    let mut before: Value = serde_json::from_slice(&body).unwrap();
    let after: Value = serde_json::from_slice(&rewritten).unwrap();
    before["model"] = new_model.into();
    assert_eq!(before, after);

    let again = inspect_request(&rewritten).unwrap();
    assert_eq!(again.model, new_model);
    assert_eq!(again.stream, summary.stream);
    assert_eq!(again.metadata_user_id, summary.metadata_user_id);
}

#[test]
fn minimal_body_defaults() {
    let summary = inspect(r#"{"model":"m","messages":[]}"#).unwrap();
    assert_eq!(summary.model, "m");
    assert_eq!(summary.model_span, 9..12);
    assert!(!summary.stream);
    assert_eq!(summary.metadata_user_id, None);
    assert!(!summary.has_thinking);
}

#[test]
fn errors_and_their_anthropic_messages() {
    let cases = [
        (
            "{\"model\": }",
            "The request body is not valid JSON: expected value at line 1 column 11",
        ),
        (
            "",
            "The request body is not valid JSON: EOF while parsing a value at line 1 column 0",
        ),
        (
            "{\"model\":\"m\"} x",
            "The request body is not valid JSON: trailing characters at line 1 column 15",
        ),
        (
            "[1, {\"model\": \"m\"}]",
            "The request body must be a JSON object",
        ),
        ("\"model\"", "The request body must be a JSON object"),
        ("{\"messages\": []}", "model: Field required"),
        ("{\"model\": 5}", "model: Input should be a valid string"),
        ("{\"model\": null}", "model: Input should be a valid string"),
        (
            "{\"model\": \"\"}",
            "model: String should have at least 1 character",
        ),
        (
            "{\"model\": \"m\", \"stream\": \"yes\"}",
            "stream: Input should be a valid boolean",
        ),
        (
            "{\"model\": \"m\", \"stream\": 1}",
            "stream: Input should be a valid boolean",
        ),
    ];
    for (body, message) in cases {
        let err = inspect(body).unwrap_err();
        assert_eq!(err.to_string(), message, "{body}");
        let api = ApiError::from(err);
        assert_eq!(api.status.as_u16(), 400);
        assert_eq!(api.error_type.as_str(), "invalid_request_error");
        assert_eq!(api.message, message);
    }
}

#[test]
fn broken_structure_anywhere_is_caught_even_in_skipped_values() {
    for body in [
        r#"{"model":"m","messages":[{"a":1}"#,
        r#"{"model":"m","messages":[{"a":1]]}"#,
        r#"{"model":"m","messages":[{"a":"1}]}"#,
        r#"{"model":"m","x":{"a":[1}}}"#,
        r#"{"model":"m","x":[\"a"]}"#,
        r#"{"model":"m","x":"unterminated}"#,
        r#"{"model":"m","x":tru}"#,
    ] {
        let err = inspect(body).unwrap_err();
        assert!(matches!(err, InspectError::NotJson(_)), "{body}: {err:?}");
    }
}

#[test]
fn escaped_keys_are_recognised() {
    let summary = inspect(r#"{"mod\u0065l": "m", "str\u0065am": true}"#).unwrap();
    assert_eq!(summary.model, "m");
    assert!(summary.stream);
}

#[test]
fn an_escaped_model_is_decoded_and_its_span_covers_the_escapes() {
    let body = r#"{"model":"claude\u002dx"}"#;
    let summary = inspect(body).unwrap();
    assert_eq!(summary.model, "claude-x");
    assert_eq!(&body[summary.model_span.clone()], r#""claude\u002dx""#);
    let rewritten = rewrite_model(body.as_bytes(), &summary, "a\"b");
    assert_eq!(rewritten, r#"{"model":"a\"b"}"#);
}

#[test]
fn whitespace_around_everything_is_kept() {
    let body = " \n{ \t\"model\" \r\n:\n  \"m\"  ,\"stream\" : false } \n";
    let summary = inspect(body).unwrap();
    assert_eq!(&body[summary.model_span.clone()], "\"m\"");
    let rewritten = rewrite_model(body.as_bytes(), &summary, "other");
    assert_eq!(
        rewritten,
        " \n{ \t\"model\" \r\n:\n  \"other\"  ,\"stream\" : false } \n"
    );
}

#[test]
fn nested_model_keys_are_not_the_model() {
    let body = r#"{"messages":[{"model":"nested","content":{"model":"deeper"}}],"metadata":{"model":"x"},"model":"top","tools":[{"model":1}]}"#;
    let summary = inspect(body).unwrap();
    assert_eq!(summary.model, "top");
    let err = inspect(r#"{"messages":[{"model":"nested"}]}"#).unwrap_err();
    assert_eq!(err, InspectError::MissingModel);
}

#[test]
fn the_last_duplicate_key_wins() {
    let body = r#"{"model":"first","stream":true,"model":"second","stream":false}"#;
    let summary = inspect(body).unwrap();
    assert_eq!(summary.model, "second");
    assert_eq!(&body[summary.model_span.clone()], "\"second\"");
    assert!(!summary.stream);
}

#[test]
fn stream_metadata_and_thinking_shapes() {
    assert!(!inspect(r#"{"model":"m","stream":null}"#).unwrap().stream);
    let with_user = inspect(r#"{"model":"m","metadata":{"user_id":"u\n1"}}"#).unwrap();
    assert_eq!(with_user.metadata_user_id.as_deref(), Some("u\n1"));
    for metadata in [
        r#"{"user_id":5}"#,
        r#"{"user_id":null}"#,
        "null",
        "[]",
        r#""u""#,
    ] {
        let body = format!(r#"{{"model":"m","metadata":{metadata}}}"#);
        assert_eq!(inspect(&body).unwrap().metadata_user_id, None, "{metadata}");
    }
    for (thinking, expected) in [
        (r#"{"type":"enabled","budget_tokens":1024}"#, true),
        (r#"{"type":"adaptive"}"#, true),
        ("{}", true),
        (r#"{"type":"disabled"}"#, false),
        ("null", false),
    ] {
        let body = format!(r#"{{"model":"m","thinking":{thinking}}}"#);
        assert_eq!(inspect(&body).unwrap().has_thinking, expected, "{thinking}");
    }
}

#[test]
fn a_span_that_does_not_fit_leaves_the_body_alone() {
    let summary = inspect(r#"{"model":"m"}"#).unwrap();
    let other = b"{}";
    assert_eq!(rewrite_model(other, &summary, "x"), &other[..]);
}

/// JSON values that may contain `model` keys at any depth.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec(
                (prop_oneof![Just("model".to_owned()), "\\PC{0,6}"], inner),
                0..4
            )
            .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// A JSON string literal for `text`, sometimes with every character escaped.
fn string_literal(text: &str, escape_all: bool) -> String {
    if !escape_all {
        return serde_json::to_string(text).unwrap();
    }
    let mut out = String::from("\"");
    for unit in text.encode_utf16() {
        out.push_str(&format!("\\u{unit:04x}"));
    }
    out.push('"');
    out
}

fn whitespace() -> impl Strategy<Value = String> {
    "[ \t\r\n]{0,3}"
}

proptest! {
    #[test]
    fn model_found_and_rewrite_preserves_every_other_byte(
        others in prop::collection::vec(("\\PC{0,8}", json_value(), any::<bool>()), 0..6),
        model in "\\PC{1,12}",
        escape_model in any::<bool>(),
        position in any::<prop::sample::Index>(),
        spaces in prop::collection::vec(whitespace(), 32),
        new_model in "\\PC{0,12}",
    ) {
        let mut entries: Vec<(String, String)> = others
            .iter()
            .filter(|(key, _, _)| key != "model")
            .map(|(key, value, pretty)| {
                let value = if *pretty {
                    serde_json::to_string_pretty(value).unwrap()
                } else {
                    serde_json::to_string(value).unwrap()
                };
                (serde_json::to_string(key).unwrap(), value)
            })
            .collect();
        let model_literal = string_literal(&model, escape_model);
        let at = position.index(entries.len() + 1);
        entries.insert(at, ("\"model\"".to_owned(), model_literal.clone()));

        let mut space = spaces.iter().cycle();
        let mut body = space.next().unwrap().clone();
        body.push('{');
        for (i, (key, value)) in entries.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            for part in [space.next().unwrap(), key, space.next().unwrap(), ":", space.next().unwrap(), value, space.next().unwrap()] {
                body.push_str(part);
            }
        }
        body.push('}');
        body.push_str(space.next().unwrap());

        let summary = inspect_request(body.as_bytes()).unwrap();
        prop_assert_eq!(&summary.model, &model);
        prop_assert_eq!(&body[summary.model_span.clone()], model_literal.as_str());

        let rewritten = rewrite_model(body.as_bytes(), &summary, &new_model);
        let new_literal = serde_json::to_string(&new_model).unwrap();
        assert_only_model_changed(body.as_bytes(), &rewritten, &summary, &new_literal);

        let mut expected: Value = serde_json::from_str(&body).unwrap();
        expected["model"] = Value::from(new_model.as_str());
        prop_assert_eq!(serde_json::from_slice::<Value>(&rewritten).unwrap(), expected);
    }
}

#[test]
fn max_tokens_and_messages_span_are_found() {
    let body = br#"{"model":"m","max_tokens":1024,"messages":[{"role":"user","content":"hi"}]}"#;
    let summary = inspect_request(body).unwrap();
    assert_eq!(summary.max_tokens, Some(1024));
    let span = summary.messages_span.clone().unwrap();
    assert_eq!(&body[span], br#"[{"role":"user","content":"hi"}]"#);
    let without = inspect_request(br#"{"model":"m","max_tokens":-3}"#).unwrap();
    assert_eq!(without.max_tokens, None);
    assert_eq!(without.messages_span, None);
}
