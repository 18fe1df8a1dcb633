//! The fuzzing entry point for the SSE splitter and parser, shared by the
//! proptest suite below (run by CI) and the `cargo fuzz` target in the
//! repository's `fuzz/` (run by hand).

use bytes::Bytes;

use super::{SseEvent, SseParser, SseSplitter};

/// Feeds `input`, cut at `cuts` (positions, any order, out-of-range ones
/// ignored), to a splitter and two parsers (one chunked the same way, one
/// given everything at once), all limited to `limit` bytes, and checks their
/// contracts:
///
/// - the parser gives the same events, and fails or not, whatever the chunking;
/// - the splitter never holds more than `limit` bytes; every piece it returns
///   ends on a line terminator; its output is a prefix of the input, and all
///   of it once the tail is taken; an error is final;
/// - the splitter's output holds exactly the events of the input.
///
/// Returns which invariant broke.
pub fn sse_case(input: &[u8], cuts: &[usize], limit: usize) -> Result<(), String> {
    let chunks = cut(input, cuts);
    let whole = parse(&[input], limit);
    let chunked = parse(&chunks, limit);
    if whole != chunked {
        return Err(format!(
            "chunking changed the parse: {whole:?} at once, {chunked:?} chunked"
        ));
    }

    let mut splitter = SseSplitter::new(limit);
    let mut output = Vec::new();
    let mut failed = false;
    for chunk in &chunks {
        match splitter.push(Bytes::copy_from_slice(chunk)) {
            Ok(Some(events)) => {
                if !matches!(events.last(), Some(b'\n' | b'\r')) {
                    return Err(format!("output {events:?} does not end a line"));
                }
                output.extend_from_slice(&events);
            }
            Ok(None) => {}
            Err(_) => {
                failed = true;
                if splitter.push(Bytes::from_static(b"\n\n")).is_ok() {
                    return Err("the splitter accepted input after an error".to_owned());
                }
                break;
            }
        }
        if splitter.pending_len() > limit {
            return Err(format!(
                "the splitter holds {} bytes, over its limit of {limit}",
                splitter.pending_len()
            ));
        }
    }
    if !input.starts_with(&output) {
        return Err("the splitter's output is not the input".to_owned());
    }
    if failed {
        return Ok(());
    }
    output.extend_from_slice(&splitter.take_pending());
    if output != input {
        return Err("the splitter's output and tail are not the input".to_owned());
    }
    // Without a limit in the way, the events the client can parse from what
    // was relayed are the events of the input.
    let unlimited = input.len() + 1;
    if parse(&[&output], unlimited) != parse(&[input], unlimited) {
        return Err("the relayed bytes parse differently".to_owned());
    }
    Ok(())
}

/// `input` cut at `cuts`.
fn cut<'a>(input: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().copied().filter(|c| *c < input.len()).collect();
    points.sort_unstable();
    points.dedup();
    let mut chunks = Vec::with_capacity(points.len() + 1);
    let mut start = 0;
    for end in points.into_iter().chain(std::iter::once(input.len())) {
        chunks.push(&input[start..end]);
        start = end;
    }
    chunks
}

/// What a parser made of a stream: its events, whether it failed, and (when
/// it did not) how many bytes `finish` dropped.
#[derive(Debug, PartialEq, Eq)]
struct Parsed {
    events: Vec<SseEvent>,
    failed: bool,
    dropped: Option<usize>,
}

fn parse(chunks: &[&[u8]], limit: usize) -> Parsed {
    let mut parser = SseParser::new(limit);
    let mut events = Vec::new();
    let mut failed = false;
    for chunk in chunks {
        failed = parser.push(chunk).is_err();
        events.extend(std::iter::from_fn(|| parser.next_event()));
        if failed {
            break;
        }
    }
    let dropped = (!failed).then(|| parser.finish());
    events.extend(std::iter::from_fn(|| parser.next_event()));
    Parsed {
        events,
        failed,
        dropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bytes that look like SSE more often than not: terminators, colons,
    /// field names, a BOM, and anything else.
    fn sse_like() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            4 => Just(b"\n".to_vec()),
            3 => Just(b"\r".to_vec()),
            2 => Just(b"\r\n".to_vec()),
            2 => Just(b":".to_vec()),
            2 => Just(b"data: ".to_vec()),
            1 => Just(b"event: ".to_vec()),
            1 => Just(b"id: ".to_vec()),
            1 => Just(b"retry: 10".to_vec()),
            1 => Just("\u{feff}".as_bytes().to_vec()),
            6 => prop::collection::vec(any::<u8>(), 1..12),
        ];
        prop::collection::vec(piece, 0..64).prop_map(|pieces| pieces.concat())
    }

    fn limit() -> impl Strategy<Value = usize> {
        prop_oneof![1..64usize, Just(1 << 20)]
    }

    proptest! {
        #![proptest_config(ProptestConfig { max_shrink_iters: 4096, ..ProptestConfig::default() })]

        #[test]
        fn sse_like_streams(
            input in sse_like(),
            cuts in prop::collection::vec(any::<usize>(), 0..16),
            limit in limit(),
        ) {
            let len = input.len().max(1);
            let cuts: Vec<usize> = cuts.into_iter().map(|c| c % len).collect();
            if let Err(broken) = sse_case(&input, &cuts, limit) {
                return Err(TestCaseError::fail(broken));
            }
        }

        #[test]
        fn arbitrary_bytes(
            input in prop::collection::vec(any::<u8>(), 0..512),
            cuts in prop::collection::vec(0..512usize, 0..16),
            limit in limit(),
        ) {
            if let Err(broken) = sse_case(&input, &cuts, limit) {
                return Err(TestCaseError::fail(broken));
            }
        }

        #[test]
        fn byte_by_byte(input in sse_like(), limit in limit()) {
            let cuts: Vec<usize> = (1..input.len()).collect();
            if let Err(broken) = sse_case(&input, &cuts, limit) {
                return Err(TestCaseError::fail(broken));
            }
        }
    }

    #[test]
    fn limits_at_the_edges() {
        for (input, limit) in [
            (&b"data: 1234\n\n"[..], 10),
            (b"data: 1234\n\n", 9),
            (b"data: 12\r\ndata: 34\r\n\r\n", 8),
            (b"\xef\xbb\xbfdata: x\n\n", 1),
            (b"\r\r\r\n\n\n", 1),
            (b"", 1),
        ] {
            for cuts in [vec![], (1..input.len()).collect()] {
                assert_eq!(sse_case(input, &cuts, limit), Ok(()), "{input:?} {limit}");
            }
        }
    }
}
