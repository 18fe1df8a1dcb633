//! Parser behaviour against the WHATWG rules, and chunking independence.

use bytes::Bytes;
use proptest::prelude::*;

use super::{SseError, SseEvent, SseParser, SseSplitter};

const BIG: usize = 1 << 20;

fn parse_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<SseEvent> {
    let mut parser = SseParser::new(BIG);
    let mut events = Vec::new();
    for chunk in chunks {
        parser.push(chunk).unwrap();
        events.extend(std::iter::from_fn(|| parser.next_event()));
    }
    events
}

fn parse(input: &str) -> Vec<SseEvent> {
    parse_chunks([input.as_bytes()])
}

fn event(kind: &str, data: &str) -> SseEvent {
    SseEvent::new(kind, data)
}

#[test]
fn every_line_ending_style_gives_the_same_events() {
    for eol in ["\n", "\r\n", "\r"] {
        let input = format!("event: a{eol}data: 1{eol}{eol}data: 2{eol}{eol}");
        assert_eq!(
            parse(&input),
            [event("a", "1"), event("message", "2")],
            "{eol:?}"
        );
    }
}

#[test]
fn mixed_line_endings_in_one_stream() {
    let input = "data: a\r\ndata: b\rdata: c\n\r\ndata: d\r\r";
    assert_eq!(
        parse(input),
        [event("message", "a\nb\nc"), event("message", "d")]
    );
}

#[test]
fn a_crlf_split_across_chunks_is_one_terminator() {
    let events = parse_chunks([&b"data: x\r"[..], b"\n", b"\r", b"\n"]);
    assert_eq!(events, [event("message", "x")]);

    // Were the split `\n` taken as a line of its own, this would dispatch early.
    let events = parse_chunks([&b"data: x\r"[..], b"\ndata: y\r\n\r\n"]);
    assert_eq!(events, [event("message", "x\ny")]);
}

#[test]
fn multi_line_data_is_joined_with_newlines() {
    let events = parse("data: {\ndata:   \"a\": 1\ndata\ndata: }\n\n");
    assert_eq!(events, [event("message", "{\n  \"a\": 1\n\n}")]);
}

#[test]
fn exactly_one_space_is_stripped_from_values() {
    let events = parse("event:  spaced\ndata:no-space\n\n");
    assert_eq!(events, [event(" spaced", "no-space")]);
}

#[test]
fn comments_and_unknown_fields_are_ignored() {
    let events = parse(": keep-alive\n\n:\nfoo: bar\ndata: x\n: in between\n\n");
    assert_eq!(events, [event("message", "x")]);
}

#[test]
fn events_without_data_are_not_dispatched() {
    assert!(parse("event: ping\n\nid: 1\n\nretry: 5\n\n").is_empty());
    // A data field with an empty value is data.
    assert_eq!(parse("event: e\ndata:\n\n"), [event("e", "")]);
    // The type does not leak into the next event.
    assert_eq!(parse("event: lost\n\ndata: x\n\n"), [event("message", "x")]);
}

#[test]
fn empty_event_type_means_message() {
    assert_eq!(parse("event:\ndata: x\n\n"), [event("message", "x")]);
}

#[test]
fn id_and_retry_rules() {
    let events = parse("id: 42\nretry: 3000\ndata: a\n\nid: bad\0id\nretry: 12a\ndata: b\n\n");
    assert_eq!(events[0].id.as_deref(), Some("42"));
    assert_eq!(events[0].retry, Some(3000));
    assert_eq!(events[1].id, None);
    assert_eq!(events[1].retry, None);

    let events = parse("retry: +5\ndata: a\n\nretry: 99999999999999999999999\ndata: b\n\n");
    assert_eq!(events[0].retry, None);
    assert_eq!(events[1].retry, None);

    let events = parse("id\ndata: a\n\n");
    assert_eq!(events[0].id.as_deref(), Some(""));
}

#[test]
fn a_leading_bom_is_skipped_once() {
    let events = parse("\u{feff}data: a\n\n\u{feff}data: b\n\n");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].data, "a");

    let bytes = "\u{feff}data: a\n\n".as_bytes();
    let events = parse_chunks(bytes.chunks(1));
    assert_eq!(events, [event("message", "a")]);
}

#[test]
fn invalid_utf8_is_replaced_not_fatal() {
    let events = parse_chunks([&b"data: a\xffb\n\n"[..]]);
    assert_eq!(events, [event("message", "a\u{fffd}b")]);
}

#[test]
fn a_utf8_sequence_split_across_chunks_is_decoded() {
    let bytes = "data: h\u{e9}\u{1f600}\n\n".as_bytes();
    for split in 0..bytes.len() {
        let (a, b) = bytes.split_at(split);
        assert_eq!(parse_chunks([a, b]), [event("message", "h\u{e9}\u{1f600}")]);
    }
}

#[test]
fn finish_drops_the_unterminated_event_and_counts_its_bytes() {
    let mut parser = SseParser::new(BIG);
    parser.push(b"data: done\n\ndata: cut\r").unwrap();
    parser.push(b"\ndata: sho").unwrap();
    assert_eq!(parser.finish(), "data: cut\r\ndata: sho".len());
    assert_eq!(parser.next_event(), Some(event("message", "done")));
    assert_eq!(parser.next_event(), None);

    parser.push(b"data: a\r\n\r").unwrap();
    parser.push(b"\n").unwrap();
    assert_eq!(parser.finish(), 0);
}

#[test]
fn a_line_over_the_limit_fails_whatever_the_chunking() {
    let input = b"data: 0123456789\n\n";
    let mut whole = SseParser::new(10);
    assert_eq!(
        whole.push(input),
        Err(SseError::EventTooLarge { limit: 10 })
    );
    let mut bytewise = SseParser::new(10);
    let first_error = input.chunks(1).find_map(|b| bytewise.push(b).err());
    assert_eq!(first_error, Some(SseError::EventTooLarge { limit: 10 }));
    // Failed parsers stay failed until the stream ends.
    assert!(bytewise.push(b"\n\n").is_err());
    bytewise.finish();
    bytewise.push(b"data: ok\n\n").unwrap();
}

#[test]
fn the_limit_covers_the_whole_event_not_each_line() {
    let mut parser = SseParser::new(20);
    parser.push(b"data: 0123456\n").unwrap();
    let err = parser.push(b"data: 0123456\n").unwrap_err();
    assert_eq!(err, SseError::EventTooLarge { limit: 20 });

    // Dispatched events no longer count.
    let mut parser = SseParser::new(20);
    for _ in 0..100 {
        parser.push(b"data: 0123456\n\n").unwrap();
    }
}

const ANTHROPIC_STREAM: &str = concat!(
    "event: message_start\n",
    r#"data: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}"#,
    "\n\n",
    "event: content_block_start\n",
    r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    "\n\n",
    "event: ping\n",
    r#"data: {"type": "ping"}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":", w\u00f6rld"}}"#,
    "\n\n",
    "event: content_block_delta\n",
    r#"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!\n"}}"#,
    "\n\n",
    "event: content_block_stop\n",
    r#"data: {"type":"content_block_stop","index":0}"#,
    "\n\n",
    "event: message_delta\n",
    r#"data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}"#,
    "\n\n",
    "event: message_stop\n",
    r#"data: {"type":"message_stop"}"#,
    "\n\n",
);

#[test]
fn a_real_anthropic_stream() {
    let kinds = [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ];
    for chunk_size in [1, 7, 64, ANTHROPIC_STREAM.len()] {
        let events = parse_chunks(ANTHROPIC_STREAM.as_bytes().chunks(chunk_size));
        let got: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(got, kinds);
        for event in &events {
            let data: serde_json::Value = serde_json::from_str(&event.data).unwrap();
            assert_eq!(data["type"], event.event.as_str());
        }
        let usage: serde_json::Value = serde_json::from_str(&events[7].data).unwrap();
        assert_eq!(usage["usage"]["output_tokens"], 15);
    }

    // The splitter hands over the same stream event by event, unchanged.
    let mut splitter = SseSplitter::new(BIG);
    let mut forwarded = Vec::new();
    for chunk in ANTHROPIC_STREAM.as_bytes().chunks(50) {
        if let Some(events) = splitter.push(Bytes::copy_from_slice(chunk)).unwrap() {
            forwarded.extend_from_slice(&events);
        }
    }
    assert_eq!(splitter.pending_len(), 0);
    assert_eq!(forwarded, ANTHROPIC_STREAM.as_bytes());
}

/// An event as a generator sees it: optional type and id, any data lines,
/// and comments sprinkled in.
#[derive(Clone, Debug)]
struct Spec {
    kind: Option<String>,
    id: Option<String>,
    data_lines: Vec<String>,
    comment: Option<String>,
}

fn field_text() -> impl Strategy<Value = String> {
    "[^\r\n\0]{0,12}"
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        proptest::option::of("[a-z_]{1,20}"),
        proptest::option::of(field_text()),
        prop::collection::vec(field_text(), 0..4),
        proptest::option::of(field_text()),
    )
        .prop_map(|(kind, id, data_lines, comment)| Spec {
            kind,
            id,
            data_lines,
            comment,
        })
}

fn render(specs: &[Spec], eols: &[&str], bom: bool) -> Vec<u8> {
    let mut out = String::new();
    if bom {
        out.push('\u{feff}');
    }
    let mut eol = eols.iter().cycle();
    for spec in specs {
        let mut line = |text: String| {
            let mut end = *eol.next().unwrap();
            // After a `\r`, a `\n` alone would only complete that terminator.
            if text.is_empty() && end == "\n" && out.ends_with('\r') {
                end = "\r\n";
            }
            out.push_str(&text);
            out.push_str(end);
        };
        if let Some(comment) = &spec.comment {
            line(format!(":{comment}"));
        }
        if let Some(kind) = &spec.kind {
            line(format!("event: {kind}"));
        }
        if let Some(id) = &spec.id {
            line(format!("id: {id}"));
        }
        for data in &spec.data_lines {
            line(format!("data: {data}"));
        }
        line(String::new());
    }
    out.into_bytes()
}

fn expected(specs: &[Spec]) -> Vec<SseEvent> {
    specs
        .iter()
        .filter(|spec| !spec.data_lines.is_empty())
        .map(|spec| SseEvent {
            event: spec.kind.clone().unwrap_or_else(|| "message".into()),
            data: spec.data_lines.join("\n"),
            id: spec.id.clone(),
            retry: None,
        })
        .collect()
}

fn stream_and_cuts() -> impl Strategy<Value = (Vec<Spec>, Vec<u8>, Vec<usize>)> {
    (
        prop::collection::vec(spec(), 0..8),
        prop::collection::vec(prop::sample::select(vec!["\n", "\r\n", "\r"]), 1..6),
        any::<bool>(),
    )
        .prop_flat_map(|(specs, eols, bom)| {
            let bytes = render(&specs, &eols, bom);
            let len = bytes.len();
            (
                Just(specs),
                Just(bytes),
                prop::collection::vec(0..=len, 0..16),
            )
        })
}

proptest! {
    #[test]
    fn any_chunking_gives_the_events_of_one_push((specs, bytes, mut cuts) in stream_and_cuts()) {
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut from = 0;
        for &cut in cuts.iter().chain([bytes.len()].iter()) {
            chunks.push(&bytes[from..cut]);
            from = cut;
        }
        let whole = parse_chunks([&bytes[..]]);
        prop_assert_eq!(&whole, &expected(&specs));
        prop_assert_eq!(parse_chunks(chunks), whole.clone());
        prop_assert_eq!(parse_chunks(bytes.chunks(1)), whole);
    }

    #[test]
    fn an_unterminated_tail_is_dropped_and_counted(
        (specs, bytes, _) in stream_and_cuts(),
        tail in prop::collection::vec("[^\r\n:]{1,10}", 1..4),
        eol in prop::sample::select(vec!["\n", "\r\n", "\r"]),
        terminate_last in any::<bool>(),
    ) {
        let mut tail_text = tail.iter().map(|line| format!("data:{line}")).collect::<Vec<_>>().join(eol);
        if terminate_last {
            tail_text.push_str(eol);
        }
        let mut parser = SseParser::new(BIG);
        for byte in bytes.iter().chain(tail_text.as_bytes()) {
            parser.push(std::slice::from_ref(byte)).unwrap();
        }
        // With no event before it, a BOM opens the unterminated event too.
        let dropped = if specs.is_empty() { bytes.len() + tail_text.len() } else { tail_text.len() };
        prop_assert_eq!(parser.finish(), dropped);
        let events: Vec<SseEvent> = std::iter::from_fn(|| parser.next_event()).collect();
        prop_assert_eq!(events, expected(&specs));
    }

    #[test]
    fn to_bytes_round_trips(
        kind in "[a-z_]{1,20}",
        data in "[^\r]{0,40}",
        id in proptest::option::of(field_text()),
        retry in proptest::option::of(any::<u64>()),
    ) {
        let event = SseEvent { event: kind, data, id, retry };
        prop_assert_eq!(parse_chunks([&event.to_bytes()[..]]), vec![event]);
    }
}
