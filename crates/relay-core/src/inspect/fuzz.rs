//! The fuzzing entry point for request inspection and the model rewrite,
//! shared by the proptest suite below (run by CI) and the `cargo fuzz`
//! target in the repository's `fuzz/` (run by hand).

use serde_json::value::RawValue;

use super::{InspectError, inspect_request, rewrite_model};

/// Inspects `body` (any bytes) and checks what the relay relies on:
///
/// - the structural scan agrees with serde_json's full reading: whatever
///   serde_json accepts, the scan accepts with the same summary, and what
///   only the scan accepts is invalid JSON, not a field the relay misread;
/// - the model is non-empty and its span is exactly its JSON literal;
/// - the `messages` span, when there is one, is one JSON value (when the
///   body is valid JSON: the scan does not check the text inside it);
/// - rewriting the model to `new_model` changes only those bytes, and the
///   rewritten body inspects the same but for the model.
///
/// Returns which invariant broke.
pub fn inspect_case(body: &[u8], new_model: &str) -> Result<(), String> {
    let reference = super::reference(body);
    match (super::fast(body), &reference) {
        (fast, Ok(expected)) if fast.as_ref() != Some(expected) => {
            return Err(format!("serde_json reads {expected:?}, the scan {fast:?}"));
        }
        (Some(_), Err(err)) if !matches!(err, InspectError::NotJson(_)) => {
            return Err(format!(
                "the scan accepts what serde_json refuses with {err:?}"
            ));
        }
        _ => {}
    }
    let Ok(summary) = inspect_request(body) else {
        return Ok(());
    };
    let span = summary.model_span.clone();
    let literal = body
        .get(span.clone())
        .ok_or("the model span is outside the body")?;
    let decoded: String = serde_json::from_slice(literal)
        .map_err(|e| format!("the model span is not a JSON string ({e})"))?;
    if decoded != summary.model || summary.model.is_empty() {
        return Err(format!("model {:?} vs span {decoded:?}", summary.model));
    }
    if let (Some(messages), Ok(_)) = (&summary.messages_span, &reference) {
        let text = body
            .get(messages.clone())
            .ok_or("the messages span is outside the body")?;
        serde_json::from_slice::<Box<RawValue>>(text)
            .map_err(|e| format!("the messages span is not one JSON value ({e})"))?;
    }

    let rewritten = rewrite_model(body, &summary, new_model);
    let new_literal = serde_json::Value::from(new_model).to_string();
    let end = span.start + new_literal.len();
    let unchanged = rewritten.get(..span.start) == body.get(..span.start)
        && rewritten.get(span.start..end) == Some(new_literal.as_bytes())
        && rewritten.get(end..) == body.get(span.end..);
    if !unchanged {
        return Err("the rewrite changed more than the model".to_owned());
    }
    match inspect_request(&rewritten) {
        Err(InspectError::EmptyModel) if new_model.is_empty() => Ok(()),
        // Refused, so answered by serde_json, which finds the invalid JSON
        // the scan let through before the empty model.
        Err(InspectError::NotJson(_)) if new_model.is_empty() && reference.is_err() => Ok(()),
        Err(e) => Err(format!("the rewritten body no longer inspects: {e}")),
        Ok(again) => {
            let shift = |range: Option<std::ops::Range<usize>>| {
                range.map(|r| {
                    let moved = |at: usize| {
                        if at >= span.end {
                            at + end - span.end
                        } else {
                            at
                        }
                    };
                    moved(r.start)..moved(r.end)
                })
            };
            let same = again.model == new_model
                && again.model_span == (span.start..end)
                && again.stream == summary.stream
                && again.metadata_user_id == summary.metadata_user_id
                && again.has_thinking == summary.has_thinking
                && again.max_tokens == summary.max_tokens
                && again.messages_span == shift(summary.messages_span.clone());
            if same {
                Ok(())
            } else {
                Err(format!("{summary:?} became {again:?}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    /// JSON values of any shape, some with Messages-API keys.
    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            let key = prop_oneof![
                Just("model".to_owned()),
                Just("stream".to_owned()),
                Just("messages".to_owned()),
                Just("type".to_owned()),
                "\\PC{0,6}",
            ];
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::vec((key, inner), 0..4)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    /// A Messages body: the relay's fields with plausible and implausible
    /// values, plus anything else.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        (
            prop_oneof![
                4 => "\\PC{1,16}".prop_map(Value::from),
                1 => json_value()
            ],
            prop_oneof![
                Just(json!(true)),
                Just(json!(false)),
                Just(Value::Null),
                json_value()
            ],
            json_value(),
            prop_oneof![Just(json!({"user_id": "user_1_session_abc"})), json_value()],
            prop_oneof![
                Just(json!({"type": "enabled"})),
                Just(json!({"type": "disabled"})),
                json_value()
            ],
            prop_oneof![Just(json!(1024)), json_value()],
            any::<bool>(),
        )
            .prop_map(
                |(model, stream, messages, metadata, thinking, max_tokens, pretty)| {
                    let body = json!({
                        "model": model, "stream": stream, "messages": messages,
                        "metadata": metadata, "thinking": thinking, "max_tokens": max_tokens,
                    });
                    if pretty {
                        serde_json::to_vec_pretty(&body).unwrap_or_default()
                    } else {
                        serde_json::to_vec(&body).unwrap_or_default()
                    }
                },
            )
    }

    /// A body broken the ways networks and attackers break them.
    #[derive(Clone, Debug)]
    enum Mutation {
        Truncate(prop::sample::Index),
        Flip(prop::sample::Index, u8),
        Insert(prop::sample::Index, Vec<u8>),
        Duplicate(prop::sample::Index, prop::sample::Index),
    }

    fn mutation() -> impl Strategy<Value = Mutation> {
        let insert = prop_oneof![
            prop::collection::vec(any::<u8>(), 1..4),
            prop::sample::select(vec![
                b"\"model\":\"x\",".to_vec(),
                b"{".to_vec(),
                b"]".to_vec(),
                b"\\u0000".to_vec(),
                b"\\ud800".to_vec(),
                b",".to_vec(),
            ]),
        ];
        prop_oneof![
            any::<prop::sample::Index>().prop_map(Mutation::Truncate),
            (any::<prop::sample::Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
            (any::<prop::sample::Index>(), insert).prop_map(|(i, b)| Mutation::Insert(i, b)),
            (any::<prop::sample::Index>(), any::<prop::sample::Index>())
                .prop_map(|(a, b)| Mutation::Duplicate(a, b)),
        ]
    }

    fn apply(mut body: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
        for mutation in mutations {
            let len = body.len();
            match mutation {
                Mutation::Truncate(at) => body.truncate(at.index(len + 1)),
                Mutation::Flip(at, byte) if len > 0 => body[at.index(len)] ^= byte,
                Mutation::Flip(..) => {}
                Mutation::Insert(at, bytes) => {
                    let at = at.index(len + 1);
                    body.splice(at..at, bytes.iter().copied());
                }
                Mutation::Duplicate(a, b) => {
                    let (a, b) = (a.index(len + 1), b.index(len + 1));
                    let piece = body[a.min(b)..a.max(b)].to_vec();
                    body.splice(a.max(b)..a.max(b), piece);
                }
            }
        }
        body
    }

    fn check(body: &[u8], new_model: &str) -> Result<(), TestCaseError> {
        inspect_case(body, new_model).map_err(TestCaseError::fail)
    }

    proptest! {
        #![proptest_config(ProptestConfig { max_shrink_iters: 4096, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..256), new_model in "\\PC{0,8}") {
            check(&body, &new_model)?;
        }

        #[test]
        fn generated_bodies(body in body(), new_model in "\\PC{0,12}") {
            check(&body, &new_model)?;
        }

        #[test]
        fn mutated_bodies(
            body in body(),
            mutations in prop::collection::vec(mutation(), 1..4),
            new_model in prop_oneof![Just(String::new()), "\\PC{0,12}", Just("\"\\\u{0}\u{2028}".to_owned())],
        ) {
            check(&apply(body, &mutations), &new_model)?;
        }
    }

    #[test]
    fn nesting_a_million_deep_neither_recurses_nor_overflows() {
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        for field in ["x", "messages", "metadata", "thinking", "max_tokens"] {
            let body = format!(r#"{{"model":"m","{field}":{}}}"#, deep(1_000_000));
            assert_eq!(inspect_case(body.as_bytes(), "n"), Ok(()), "{field}");
            assert!(inspect_request(body.as_bytes()).is_ok(), "{field}");
        }
        let body = format!(r#"{{"model":{}}}"#, deep(1_000_000));
        assert_eq!(
            inspect_request(body.as_bytes()),
            Err(InspectError::ModelNotString)
        );
        let unclosed = format!(r#"{{"model":"m","x":{}"#, "[".repeat(1_000_000));
        assert!(matches!(
            inspect_request(unclosed.as_bytes()),
            Err(InspectError::NotJson(_))
        ));
    }
}
