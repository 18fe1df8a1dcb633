//! The event-stream decoder, with frames encoded here by
//! `aws_smithy_eventstream::frame::write_message_to`.

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::Header;
use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::bedrock::fuzz::event_stream_case;

fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut message = Message::new(Bytes::copy_from_slice(payload));
    for (name, value) in headers {
        message = message.add_header(Header::new(
            (*name).to_owned(),
            HeaderValue::String((*value).to_owned().into()),
        ));
    }
    let mut out = Vec::new();
    write_message_to(&message, &mut out).unwrap();
    out
}

fn chunk(event: &serde_json::Value) -> Vec<u8> {
    let payload = json!({ "bytes": STANDARD.encode(event.to_string()), "p": "abcdefghij" });
    frame(
        &[
            (":event-type", "chunk"),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

fn exception(name: &str, message: &str) -> Vec<u8> {
    frame(
        &[
            (":exception-type", name),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        json!({ "message": message }).to_string().as_bytes(),
    )
}

/// A complete Bedrock stream for one short text answer.
fn conversation() -> Vec<u8> {
    let events = [
        json!({"type":"message_start","message":{"id":"msg_bdrk_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}),
        json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}),
        json!({"type":"content_block_stop","index":0}),
        json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}}),
        json!({"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":12,"outputTokenCount":5,"invocationLatency":321,"firstByteLatency":123}}),
    ];
    events.iter().flat_map(chunk).collect()
}

fn run_whole(input: &[u8]) -> (String, Result<(), DecodeError>) {
    let mut decoder = BedrockStreamDecoder::new();
    let mut out = Vec::new();
    let result = decoder
        .decode(Bytes::copy_from_slice(input))
        .map(|b| out.extend_from_slice(&b))
        .and_then(|()| decoder.finish().map(|b| out.extend_from_slice(&b)));
    (String::from_utf8(out).unwrap(), result)
}

fn events(sse: &str) -> Vec<(String, serde_json::Value)> {
    sse.split_terminator("\n\n")
        .map(|event| {
            let (name, data) = event.split_once('\n').unwrap();
            (
                name.strip_prefix("event: ").unwrap().to_owned(),
                serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn chunks_become_anthropic_events() {
    let (sse, result) = run_whole(&conversation());
    result.unwrap();
    let events = events(&sse);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(events[2].1["delta"]["text"], "Hello");
    // Events without metrics are relayed byte for byte.
    let delta = json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}});
    assert!(sse.contains(&format!("event: content_block_delta\ndata: {delta}\n\n")));
    // Metrics never leak; the event lacking usage gets it from them.
    assert!(!sse.contains("amazon-bedrock"));
    assert_eq!(
        events[5].1,
        json!({"type":"message_stop","usage":{"input_tokens":12,"output_tokens":5}})
    );
}

#[test]
fn metrics_do_not_override_usage_the_event_has() {
    let event = json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7},
        "amazon-bedrock-invocationMetrics":{"inputTokenCount":1,"outputTokenCount":99,"cacheReadInputTokenCount":4}});
    let (sse, result) = run_whole(&chunk(&event));
    result.unwrap();
    assert_eq!(
        events(&sse)[0].1,
        json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}})
    );
}

#[test]
fn every_split_gives_the_same_events() {
    let input = conversation();
    let (whole, _) = run_whole(&input);
    for cut in 0..input.len() {
        let outcome = event_stream_case(&input, &[cut]).unwrap();
        assert_eq!(outcome.output, whole, "cut at {cut}");
        assert!(!outcome.failed);
    }
    // One byte at a time.
    let cuts: Vec<usize> = (1..input.len()).collect();
    assert_eq!(event_stream_case(&input, &cuts).unwrap().output, whole);
}

#[test]
fn exceptions_become_error_events_and_end_the_stream() {
    for (name, want) in [
        ("throttlingException", "rate_limit_error"),
        ("modelStreamErrorException", "api_error"),
        ("internalServerException", "api_error"),
        ("validationException", "invalid_request_error"),
        ("serviceUnavailableException", "overloaded_error"),
        ("brandNewException", "api_error"),
    ] {
        let mut input = chunk(&json!({"type":"ping"}));
        input.extend(exception(name, "Something went wrong"));
        input.extend(chunk(&json!({"type":"message_stop"})));
        let (sse, result) = run_whole(&input);
        result.unwrap();
        let events = events(&sse);
        assert_eq!(events.len(), 2, "{sse}");
        assert_eq!(events[1].0, "error");
        assert_eq!(events[1].1["type"], "error");
        assert_eq!(events[1].1["error"]["type"], want, "{name}");
        assert_eq!(
            events[1].1["error"]["message"],
            format!("Bedrock {name}: Something went wrong")
        );
    }
}

#[test]
fn error_message_frames_are_errors_too() {
    let input = frame(
        &[
            (":message-type", "error"),
            (":error-code", "InternalFailure"),
            (":error-message", "oops"),
        ],
        b"",
    );
    let (sse, result) = run_whole(&input);
    result.unwrap();
    assert_eq!(
        events(&sse)[0].1["error"]["message"],
        "Bedrock InternalFailure: oops"
    );
}

#[test]
fn bad_checksums_are_rejected() {
    let good = chunk(&json!({"type":"ping"}));
    // Prelude CRC (bytes 8..12), then the message CRC (last 4 bytes).
    for index in [9, good.len() - 1, 20] {
        let mut bad = good.clone();
        bad[index] ^= 0x01;
        let (sse, result) = run_whole(&bad);
        assert!(result.is_err(), "corruption at {index} accepted: {sse}");
        assert!(sse.is_empty());
    }
}

#[test]
fn events_before_a_bad_frame_are_delivered_then_the_error() {
    let mut input = chunk(&json!({"type":"ping"}));
    let mut bad = chunk(&json!({"type":"ping"}));
    let last = bad.len() - 1;
    bad[last] ^= 0xff;
    input.extend(bad);
    let mut decoder = BedrockStreamDecoder::new();
    let first = decoder.decode(Bytes::from(input)).unwrap();
    assert_eq!(events(std::str::from_utf8(&first).unwrap()).len(), 1);
    let err = decoder.finish().unwrap_err();
    assert!(err.0.contains("checksum"), "{err}");
}

#[test]
fn truncated_streams_and_absurd_lengths_are_errors() {
    let input = conversation();
    let (_, result) = run_whole(&input[..input.len() - 3]);
    assert!(result.unwrap_err().0.contains("ended inside a frame"));

    let mut huge = Vec::new();
    huge.extend_from_slice(&(u32::MAX).to_be_bytes());
    huge.extend_from_slice(&0u32.to_be_bytes());
    huge.extend_from_slice(&crc32fast::hash(&huge[..8]).to_be_bytes());
    let (_, result) = run_whole(&huge);
    assert!(result.unwrap_err().0.contains("out of range"));
}

#[test]
fn malformed_chunks_are_errors() {
    let cases: [&[u8]; 4] = [
        b"not json",
        br#"{"nobytes":1}"#,
        br#"{"bytes":"***"}"#,
        br#"{"bytes":"eyJubyI6InR5cGUifQ=="}"#,
    ];
    for payload in cases {
        let input = frame(
            &[(":message-type", "event"), (":event-type", "chunk")],
            payload,
        );
        let (_, result) = run_whole(&input);
        assert!(result.is_err(), "{}", String::from_utf8_lossy(payload));
    }
    // Unknown event types carry nothing.
    let input = frame(
        &[
            (":message-type", "event"),
            (":event-type", "initial-response"),
        ],
        b"{}",
    );
    assert_eq!(run_whole(&input), (String::new(), Ok(())));
}

fn valid_stream() -> impl Strategy<Value = Vec<u8>> {
    let texts = prop::collection::vec("[a-zA-Z0-9 \\n\"\\\\é]{0,40}", 0..6);
    (texts, prop::option::of(0usize..6)).prop_map(|(texts, exception_at)| {
        let mut out = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            if exception_at == Some(i) {
                out.extend(exception("throttlingException", text));
            }
            out.extend(chunk(&json!({"type":"content_block_delta","index":0,
                "delta":{"type":"text_delta","text":text}})));
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random bytes: never a panic, only whole events, errors are final.
    #[test]
    fn fuzz_random_bytes(input in prop::collection::vec(any::<u8>(), 0..512),
                         cuts in prop::collection::vec(0usize..512, 0..8)) {
        event_stream_case(&input, &cuts).map_err(TestCaseError::fail)?;
    }

    /// Valid streams, split anywhere, decode exactly as when whole.
    #[test]
    fn fuzz_valid_streams_split_anywhere(input in valid_stream(),
                                         cuts in prop::collection::vec(0usize..4096, 0..12)) {
        let whole = event_stream_case(&input, &[]).map_err(TestCaseError::fail)?;
        prop_assert!(!whole.failed);
        let split = event_stream_case(&input, &cuts).map_err(TestCaseError::fail)?;
        prop_assert_eq!(split, whole);
    }

    /// Valid streams with bytes flipped, dropped or inserted: still only
    /// whole events and no panic, and splitting changes nothing.
    #[test]
    fn fuzz_mutated_streams(input in valid_stream(),
                            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
                            cuts in prop::collection::vec(0usize..4096, 0..8)) {
        let mut input = input;
        for (at, byte, op) in edits {
            if input.is_empty() { break; }
            let i = at.index(input.len());
            match op {
                0 => input[i] ^= byte | 1,
                1 => { input.remove(i); }
                _ => input.insert(i, byte),
            }
        }
        let whole = event_stream_case(&input, &[]).map_err(TestCaseError::fail)?;
        let split = event_stream_case(&input, &cuts).map_err(TestCaseError::fail)?;
        prop_assert_eq!(split, whole);
    }
}
