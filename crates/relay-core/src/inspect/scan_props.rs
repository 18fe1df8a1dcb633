//! Properties of the structural scan: its bit-level pieces against
//! byte-at-a-time models, and the whole of it against serde_json's reading
//! on valid and broken bodies.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::classify::{BLOCK, Classes, classify, portable};
use super::skip::{Escapes, prefix_xor, skip_container};
use super::{InspectError, fast, inspect_request, reference};

/// `skip_container` as the documentation states it, a byte at a time.
fn model_skip(body: &[u8], start: usize) -> Option<usize> {
    let mut open = Vec::new();
    let mut in_string = false;
    let mut at = start;
    while let Some(&byte) = body.get(at) {
        at += 1;
        match (in_string, byte) {
            (true, b'\\') => at += 1,
            (true, b'"') | (false, b'"') => in_string = !in_string,
            (true, _) => {}
            (false, b'[' | b'{') => open.push(byte),
            (false, b']' | b'}') => {
                if open.pop()? != byte - 2 {
                    return None;
                }
                if open.is_empty() {
                    return Some(at);
                }
            }
            (false, b'\\') => return None,
            (false, _) => {}
        }
    }
    None
}

/// Bytes rich in what the skipper cares about, with long runs to cross
/// blocks and trigger the long-string path.
fn structural_soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        8 => prop::sample::select(b"\"\\[]{}a ,:\xff".to_vec()).prop_map(|b| vec![b]),
        1 => (1..200usize).prop_map(|n| vec![b'a'; n]),
        1 => (1..9usize).prop_map(|n| vec![b'\\'; n]),
        1 => (1..80usize).prop_map(|n| [b"\"".to_vec(), vec![b'x'; n], b"\"".to_vec()].concat()),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

fn naive_classes(block: &[u8; BLOCK]) -> Classes {
    let mask = |wanted: &dyn Fn(u8) -> bool| {
        block
            .iter()
            .enumerate()
            .fold(0u64, |mask, (i, &b)| mask | (u64::from(wanted(b)) << i))
    };
    Classes {
        quotes: mask(&|b| b == b'"'),
        backslashes: mask(&|b| b == b'\\'),
        brackets: mask(&|b| matches!(b, b'[' | b']' | b'{' | b'}')),
    }
}

proptest! {
    #[test]
    fn classification_matches_a_byte_at_a_time(
        bytes in prop::collection::vec(prop_oneof![any::<u8>(), prop::sample::select(b"\"\\[]{}".to_vec())], BLOCK),
    ) {
        let block: [u8; BLOCK] = bytes.try_into().unwrap();
        prop_assert_eq!(classify(&block), naive_classes(&block));
        prop_assert_eq!(portable(&block), naive_classes(&block));
    }

    #[test]
    fn escapes_and_strings_match_a_byte_at_a_time(blocks in prop::collection::vec(any::<u64>(), 1..4), sparse in any::<bool>()) {
        let mut escapes = Escapes::default();
        let mut escaped_next = false;
        for bits in blocks {
            let backslashes = if sparse { bits & bits.rotate_left(7) } else { bits };
            let mut expected = 0u64;
            for i in 0..64 {
                let is_backslash = backslashes >> i & 1 == 1;
                if escaped_next {
                    expected |= 1 << i;
                    escaped_next = false;
                } else {
                    escaped_next = is_backslash;
                }
            }
            prop_assert_eq!(escapes.next(backslashes), expected);
            let parity: u64 = (0..64).map(|i| u64::from((bits << (63 - i)).count_ones() % 2 == 1) << i).sum();
            prop_assert_eq!(prefix_xor(bits), parity);
        }
    }

    #[test]
    fn skipping_matches_a_byte_at_a_time(soup in structural_soup(), open in prop::sample::select(b"[{".to_vec())) {
        let body = [vec![open], soup].concat();
        prop_assert_eq!(skip_container(&body, 0).ok(), model_skip(&body, 0));
    }

    /// Past 64 levels the nesting spills to the heap: crossing that line,
    /// both ways, with a bracket of the wrong kind here and there.
    #[test]
    fn deep_skipping_matches_a_byte_at_a_time(
        kinds in prop::collection::vec(any::<bool>(), 1..300),
        soup in structural_soup(),
        flips in prop::collection::vec(any::<prop::sample::Index>(), 0..2),
    ) {
        let open: Vec<u8> = kinds.iter().map(|&object| if object { b'{' } else { b'[' }).collect();
        let mut close: Vec<u8> = open.iter().rev().map(|&b| b + 2).collect();
        for flip in flips {
            let at = flip.index(close.len());
            close[at] = if close[at] == b']' { b'}' } else { b']' };
        }
        let body = [open, soup, close].concat();
        prop_assert_eq!(skip_container(&body, 0).ok(), model_skip(&body, 0));
    }

    #[test]
    fn valid_bodies_read_as_serde_json_reads_them(body in valid_body()) {
        let expected = reference(&body);
        prop_assert!(expected.is_ok(), "{:?}", expected);
        prop_assert_eq!(fast(&body), expected.ok());
    }

    #[test]
    fn broken_bodies_never_fool_the_scan(
        body in valid_body(),
        cuts in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), prop::collection::vec(any::<u8>(), 0..3)), 1..3),
    ) {
        let mut body = body;
        for (at, len, insert) in cuts {
            let at = at.index(body.len() + 1);
            let end = (at + len.index(4)).min(body.len());
            body.splice(at..end, insert);
        }
        let expected = reference(&body);
        match (fast(&body), expected) {
            (scanned, Ok(expected)) => prop_assert_eq!(scanned, Some(expected)),
            (Some(_), Err(err)) => prop_assert!(matches!(err, InspectError::NotJson(_)), "{:?}", err),
            (None, Err(_)) => {}
        }
        // The fallback gives serde_json's answer whenever the scan refuses.
        if fast(&body).is_none() {
            prop_assert_eq!(inspect_request(&body), reference(&body));
        }
    }
}

/// A string that escapes some of its characters (`\u` or short escapes),
/// sometimes long enough to cross blocks.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "\\PC{0,12}",
        1 => "[a-z\"\\\\\\]\\[{}]{60,300}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        let key = prop_oneof![
            Just("model".to_owned()),
            Just("user_id".to_owned()),
            Just("type".to_owned()),
            text(),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            prop::collection::vec((key, inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Valid Messages bodies with any top-level keys, some escaped, some
/// repeated, compact or pretty.
fn valid_body() -> impl Strategy<Value = Vec<u8>> {
    let key = prop_oneof![
        prop::sample::select(vec![
            "model",
            "stream",
            "metadata",
            "thinking",
            "max_tokens",
            "messages"
        ])
        .prop_map(str::to_owned),
        "\\PC{0,8}",
    ];
    let value = prop_oneof![
        json_value(),
        Just(json!({"type": "disabled"})),
        Just(json!({"user_id": "u"})),
        any::<u32>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
    ];
    (
        "\\PC{1,12}",
        prop::collection::vec((key, value, any::<bool>()), 0..8),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(model, entries, at, pretty)| {
            let encode = |value: &Value| {
                if pretty {
                    serde_json::to_string_pretty(value).unwrap()
                } else {
                    serde_json::to_string(value).unwrap()
                }
            };
            let mut members: Vec<String> = entries
                .iter()
                // `model` and `stream` only with values the relay accepts.
                .filter(|(key, value, _)| match key.as_str() {
                    "model" => value.as_str().is_some_and(|m| !m.is_empty()),
                    "stream" => value.is_boolean() || value.is_null(),
                    _ => true,
                })
                .map(|(key, value, escape)| {
                    let key = if *escape {
                        let units: String =
                            key.encode_utf16().map(|u| format!("\\u{u:04x}")).collect();
                        format!("\"{units}\"")
                    } else {
                        serde_json::to_string(key).unwrap()
                    };
                    format!("{key}:{}", encode(value))
                })
                .collect();
            let at = at.index(members.len() + 1);
            members.insert(at, format!("\"model\":{}", encode(&Value::from(model))));
            let separator = if pretty { ",\n  " } else { "," };
            format!("{{{}}}", members.join(separator)).into_bytes()
        })
}
