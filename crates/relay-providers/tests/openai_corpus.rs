//! The recorded-shape corpus of Chat Completions streams
//! (`testdata/openai/*.sse`, one per dialect), each translated by
//! `ChatStreamDecoder`, checked against the Anthropic stream grammar, and
//! compared with the message it must add up to (`*.expected.json`); and the
//! property that any re-chunking of the same upstream bytes translates to
//! the same events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use bytes::Bytes;
use proptest::prelude::*;
use relay_config::ReasoningField;
use relay_providers::{ChatStreamDecoder, ResponseDecoder};
use relay_test_support::{check_anthropic_stream, parse_sse};
use serde_json::Value;

fn corpus() -> Vec<(String, Vec<u8>, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/openai");
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("sse") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let expected = dir.join(format!("{name}.expected.json"));
        let expected: Value = serde_json::from_slice(&std::fs::read(&expected).unwrap())
            .unwrap_or_else(|e| panic!("{name}.expected.json: {e}"));
        cases.push((name, std::fs::read(&path).unwrap(), expected));
    }
    cases.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        cases.len() >= 10,
        "the corpus went missing: {}",
        dir.display()
    );
    cases
}

/// Decodes `input` cut at `cuts`; the output bytes, or the decode error
/// (after which the relay appends an `error` event).
fn translate(input: &[u8], cuts: &[usize]) -> (Vec<u8>, Option<String>) {
    let mut decoder = ChatStreamDecoder::with_nonce(ReasoningField::Auto, "NONCE".into());
    let mut out = Vec::new();
    let mut last = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.sort_unstable();
    points.push(input.len());
    for point in points {
        match decoder.decode(Bytes::copy_from_slice(&input[last..point])) {
            Ok(bytes) => out.extend_from_slice(&bytes),
            Err(err) => return (out, Some(err.0)),
        }
        last = point;
    }
    match decoder.finish() {
        Ok(bytes) => {
            out.extend_from_slice(&bytes);
            (out, None)
        }
        Err(err) => (out, Some(err.0)),
    }
}

#[test]
fn every_dialect_translates_to_a_valid_anthropic_stream() {
    for (name, input, expected) in corpus() {
        let (out, error) = translate(&input, &[]);
        let events = parse_sse(&out);
        if let Some(want) = expected.get("decode_error").and_then(Value::as_str) {
            let error = error.unwrap_or_else(|| panic!("{name}: a cut stream must fail"));
            assert!(error.contains(want), "{name}: {error}");
            // What went out before the cut is still well-formed, so far.
            let mut with_error = events.clone();
            with_error.push((
                "error".into(),
                r#"{"type":"error","error":{"type":"api_error","message":"cut"}}"#.into(),
            ));
            check_anthropic_stream(&with_error).unwrap_or_else(|e| panic!("{name}: {e}"));
            continue;
        }
        assert_eq!(error, None, "{name}");
        let outcome = check_anthropic_stream(&events)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", String::from_utf8_lossy(&out)));
        if let Some(want) = expected.get("error_type") {
            let error = outcome
                .error
                .unwrap_or_else(|| panic!("{name}: no error event"));
            assert_eq!(&error["error"]["type"], want, "{name}");
            continue;
        }
        assert_eq!(outcome.error, None, "{name}");
        let message = &outcome.message;
        for key in ["id", "model", "content", "stop_reason", "stop_sequence"] {
            assert_eq!(message[key], expected[key], "{name}: {key}");
        }
        for (key, count) in expected["usage"].as_object().unwrap() {
            assert_eq!(&message["usage"][key], count, "{name}: usage.{key}");
        }
        if let Some(start) = expected.get("start_input_tokens") {
            let first: Value = serde_json::from_str(&events[0].1).unwrap();
            assert_eq!(&first["message"]["usage"]["input_tokens"], start, "{name}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The same upstream bytes, cut anywhere (inside a line, a UTF-8
    /// character, a `\n\n`), translate to exactly the same output.
    #[test]
    fn rechunking_never_changes_the_events(cuts in proptest::collection::vec(any::<usize>(), 0..40)) {
        for (name, input, _) in corpus() {
            let whole = translate(&input, &[]);
            let cut = translate(&input, &cuts);
            prop_assert_eq!(&whole, &cut, "{}", name);
        }
    }
}
