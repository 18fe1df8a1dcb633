//! The structural scan on the shapes of JSON it must accept and refuse, and
//! what it leaves unchecked.

use serde_json::json;

use super::classify::BLOCK;
use super::{InspectError, fast, inspect_request, reference};

fn inspect(body: &str) -> Result<super::RequestSummary, InspectError> {
    inspect_request(body.as_bytes())
}

/// `body` accepted by the scan itself, not by the fallback to serde_json.
fn scanned(body: &str) -> super::RequestSummary {
    fast(body.as_bytes()).unwrap_or_else(|| panic!("the scan refused {body}"))
}

#[test]
fn escaped_quotes_and_backslashes_in_skipped_strings() {
    for text in [
        r#"a\"b"#,
        r#"\\"#,
        r#"\\\""#,
        r#"\"\\\"\\"#,
        r#"]}\"[{"#,
        r#"\u0022\u005c"#,
    ] {
        // Every offset, so that escapes straddle block boundaries.
        for pad in 0..(2 * BLOCK) {
            let filler = "x".repeat(pad);
            let body = format!(
                r#"{{"messages":[{{"a":"{filler}{text}","b":["{text}{filler}"]}}],"model":"m"}}"#
            );
            let summary = scanned(&body);
            assert_eq!(summary.model, "m", "{body}");
            assert_eq!(reference(body.as_bytes()), Ok(summary), "{body}");
        }
    }
}

#[test]
fn brackets_inside_strings_are_text() {
    let body = r#"{"x":["]}","{[","\"]\\"],"y":{"}":"]"},"model":"m","z":"[[[{{{"}"#;
    assert_eq!(scanned(body).model, "m");
    assert_eq!(scanned(body).messages_span, None);
}

#[test]
fn long_strings_are_skipped_whole() {
    for len in [31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 100_000] {
        for text in ["a", "\\n", "\\\\", "\\\"", "]"] {
            let long = text.repeat(len);
            let body = format!(r#"{{"messages":[{{"text":"{long}"}},"{long}"],"model":"m"}}"#);
            assert_eq!(scanned(&body).model, "m", "{len} {text}");
            let span = scanned(&body).messages_span.unwrap();
            assert_eq!(body.as_bytes()[span.end - 1], b']');
            let broken = format!(r#"{{"messages":[{{"text":"{long}}}],"model":"m"}}"#);
            assert!(fast(broken.as_bytes()).is_none(), "{len} {text}");
        }
    }
}

#[test]
fn deep_nesting_is_matched_by_kind_without_a_limit() {
    let depth = 200_000;
    let open: String = (0..depth)
        .map(|i| if i % 3 == 0 { '{' } else { '[' })
        .collect();
    let mut nested = String::new();
    for (i, bracket) in open.chars().enumerate() {
        nested.push(bracket);
        if bracket == '{' {
            nested.push_str(if i % 2 == 0 { r#""k":"# } else { r#""}":"# });
        }
    }
    let close: String = open
        .chars()
        .rev()
        .map(|b| if b == '{' { '}' } else { ']' })
        .collect();
    let body = format!(r#"{{"model":"m","messages":{nested}0{close}}}"#);
    assert_eq!(scanned(&body).model, "m");
    // One bracket of the wrong kind, anywhere, is refused.
    for at in [0, 1, 63, 64, 65, depth / 2, depth - 1] {
        let mut wrong: Vec<char> = close.chars().collect();
        wrong[at] = if wrong[at] == '}' { ']' } else { '}' };
        let wrong: String = wrong.into_iter().collect();
        let body = format!(r#"{{"model":"m","messages":{nested}0{wrong}}}"#);
        assert!(fast(body.as_bytes()).is_none(), "{at}");
    }
}

#[test]
fn scalars_at_the_top_level_and_nested() {
    let body = r#"{"a":0,"b":-0.5e+3,"c":1E-7,"d":true,"e":false,"f":null,"g":[1,-2.5,true,false,null,{"h":0}],"model":"m","max_tokens":32000,"stream":false}"#;
    let summary = scanned(body);
    assert_eq!(summary.max_tokens, Some(32000));
    assert!(!summary.stream);
    for bad in [
        "01", "-", "1.", "1e", ".5", "+1", "tru", "nul", "True", "NaN", "\"a\"x",
    ] {
        let body = format!(r#"{{"model":"m","x":{bad}}}"#);
        let err = inspect(&body).unwrap_err();
        assert!(matches!(err, InspectError::NotJson(_)), "{bad}: {err:?}");
    }
    for (max_tokens, expected) in [("0", Some(0)), ("1e3", None), ("1.0", None), ("-1", None)] {
        let body = format!(r#"{{"model":"m","max_tokens":{max_tokens}}}"#);
        assert_eq!(scanned(&body).max_tokens, expected, "{max_tokens}");
    }
}

#[test]
fn whitespace_variants() {
    for body in [
        "{\"model\":\"m\",\"x\":[1,{\"a\":2}]}",
        " \t\r\n{ \t\r\n\"model\" \t\r\n: \t\r\n\"m\" \t\r\n, \"x\" : [ 1 , { \"a\" : 2 } ] \t\r\n} \t\r\n",
        "{\n  \"model\": \"m\",\n  \"x\": [\n    1,\n    {\n      \"a\": 2\n    }\n  ]\n}\n",
    ] {
        assert_eq!(scanned(body).model, "m", "{body:?}");
    }
    // Only JSON's four whitespace characters are whitespace.
    for body in [
        "\u{c}{\"model\":\"m\"}",
        "{\"model\":\"m\"}\u{a0}",
        "{\"model\":\u{b}\"m\"}",
    ] {
        assert!(
            matches!(inspect(body), Err(InspectError::NotJson(_))),
            "{body:?}"
        );
    }
}

#[test]
fn the_top_level_grammar_is_strict() {
    assert_eq!(inspect("{}"), Err(InspectError::MissingModel));
    assert_eq!(inspect(" { } "), Err(InspectError::MissingModel));
    for body in [
        "{",
        "{}}",
        "{},",
        "{} {}",
        "{,}",
        r#"{"model":"m",}"#,
        r#"{"model" "m"}"#,
        r#"{"model":"m" "x":1}"#,
        r#"{"model":"m",,"x":1}"#,
        r#"{model:"m"}"#,
        r#"{"model":"m"]"#,
        r#"{"model":"m"}]"#,
        "{\"model\":\"m\"}\0",
        r#"{"mod\qel":"m"}"#,
    ] {
        let err = inspect(body).unwrap_err();
        assert!(matches!(err, InspectError::NotJson(_)), "{body:?}: {err:?}");
    }
}

#[test]
fn a_byte_order_mark_is_refused_as_before() {
    let err = inspect_request(b"\xef\xbb\xbf{\"model\":\"m\"}").unwrap_err();
    assert_eq!(
        err.to_string(),
        "The request body is not valid JSON: expected value at line 1 column 1"
    );
}

#[test]
fn every_truncation_is_refused() {
    let body = serde_json::to_vec_pretty(&json!({
        "model": "m",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "x\"]}".repeat(40)}]}],
        "system": "s\\".repeat(50),
        "max_tokens": 1024,
        "stream": true,
    }))
    .unwrap();
    assert!(fast(&body).is_some());
    for end in 0..body.len() {
        assert!(inspect_request(&body[..end]).is_err(), "{end}");
    }
}

/// What the scan leaves unchecked inside skipped values is relayed; the
/// values the relay decodes are checked in full.
#[test]
fn text_inside_skipped_values_is_left_to_the_upstream() {
    for skipped in [
        r#"[{"a":tru}]"#,
        r#"["\q"]"#,
        r#"[1 2]"#,
        r#"{"a" "b"}"#,
        r#"[,]"#,
        "[\"\u{1}\"]",
        r#""\x""#,
    ] {
        for field in ["messages", "system"] {
            let body = format!(r#"{{"model":"m","{field}":{skipped}}}"#);
            assert!(inspect(&body).is_ok(), "{body}");
            assert!(reference(body.as_bytes()).is_err(), "{body}");
        }
    }
    let body = b"{\"model\":\"m\",\"messages\":[\"\xff\xfe\"]}";
    assert!(inspect_request(body).is_ok());
    for decoded in ["model", "metadata", "thinking", "max_tokens", "stream"] {
        for value in ["\"\\q\"", "{\"a\":\"\\q\"}", "[tru]", "\"\u{1}\""] {
            let model = if decoded == "model" {
                ""
            } else {
                r#""model":"m","#
            };
            let body = format!(r#"{{{model}"{decoded}":{value}}}"#);
            assert_eq!(inspect(&body), reference(body.as_bytes()), "{body}");
            assert!(inspect(&body).is_err(), "{body}");
        }
        let model = if decoded == "model" {
            ""
        } else {
            r#""model":"m","#
        };
        let body = [
            format!(r#"{{{model}"{decoded}":{{"user_id":""#).as_bytes(),
            b"\xff\"}}",
        ]
        .concat();
        assert!(
            matches!(inspect_request(&body), Err(InspectError::NotJson(_))),
            "{decoded}"
        );
    }
}

#[test]
fn values_serde_json_cannot_hold_are_read_as_before() {
    let huge = r#"{"model":"m","metadata":1e400,"thinking":{"type":"disabled","n":1e400}}"#;
    let summary = scanned(huge);
    assert_eq!(summary.metadata_user_id, None);
    let user = r#"{"model":"m","metadata":{"user_id":"\ud800"},"thinking":{"type":"\ud800"}}"#;
    let summary = scanned(user);
    assert_eq!(summary.metadata_user_id, None);
    assert!(summary.has_thinking);
    let last = r#"{"model":"m","metadata":{"user_id":"a","user_id":5},"thinking":{"type":"disabled","type":"enabled"}}"#;
    let summary = scanned(last);
    assert_eq!(summary.metadata_user_id, None);
    assert!(summary.has_thinking);
}
