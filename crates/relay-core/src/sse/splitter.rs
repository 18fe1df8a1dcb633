//! Cutting a byte stream at event boundaries without changing a byte.

use bytes::{Bytes, BytesMut};

use super::SseError;

/// Where the scan stands. Only line terminators change it, so the bytes of a
/// line are skipped with `memchr` rather than looked at one by one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Position {
    /// Inside a line that has at least one byte.
    InLine,
    /// Just after the terminator of a non-empty line.
    LineEnd { after_cr: bool },
    /// Just after a blank line: everything before is complete events.
    EventEnd { after_cr: bool },
}

impl Position {
    /// A stream starts as if an event had just ended: a blank line there
    /// dispatches nothing, but it is a boundary all the same.
    const START: Self = Self::EventEnd { after_cr: false };

    /// The position after the terminator byte `byte` (`\r` or `\n`).
    fn after_terminator(self, byte: u8) -> Self {
        let is_cr = byte == b'\r';
        match self {
            Self::InLine => Self::LineEnd { after_cr: is_cr },
            // A `\n` right after a `\r` completes the same `\r\n` terminator.
            Self::LineEnd { after_cr: true } if !is_cr => Self::LineEnd { after_cr: false },
            Self::EventEnd { after_cr: true } if !is_cr => Self::EventEnd { after_cr: false },
            Self::LineEnd { .. } | Self::EventEnd { .. } => Self::EventEnd { after_cr: is_cr },
        }
    }
}

/// Cuts an incoming byte stream at event boundaries (blank lines).
///
/// Concatenating everything [`push`](Self::push) returns, followed by
/// [`take_pending`](Self::take_pending), gives back the input exactly.
///
/// A `\r` ending a blank line is taken as a boundary at once, because the
/// next chunk may be far away and the event should not wait for it. When the
/// `\n` of that `\r\n` then arrives, it is returned on its own (or leads the
/// next output): harmless, since a parser reading the output sees the same
/// terminator either way.
#[derive(Debug)]
pub struct SseSplitter {
    pending: BytesMut,
    max_pending_bytes: usize,
    position: Position,
    failed: bool,
}

impl SseSplitter {
    /// A splitter that refuses to hold more than `max_pending_bytes` of an
    /// unfinished event.
    pub fn new(max_pending_bytes: usize) -> Self {
        Self {
            pending: BytesMut::new(),
            max_pending_bytes,
            position: Position::START,
            failed: false,
        }
    }

    /// Feeds one chunk as received from the network.
    ///
    /// Returns the raw bytes of every event this chunk completes, as one
    /// buffer (a slice of `chunk` when nothing was pending), or `None` when no
    /// event is complete yet; bytes of an unfinished event are kept.
    ///
    /// # Errors
    ///
    /// [`SseError::EventTooLarge`] when the unfinished event would exceed the
    /// limit. The held bytes are then dropped and every later call fails the
    /// same way, since the stream can no longer be forwarded intact.
    pub fn push(&mut self, mut chunk: Bytes) -> Result<Option<Bytes>, SseError> {
        if self.failed {
            return Err(self.too_large());
        }
        let cut = self.scan(&chunk);
        let held_after = match cut {
            Some(cut) => chunk.len() - cut,
            None => self.pending.len() + chunk.len(),
        };
        if held_after > self.max_pending_bytes {
            self.failed = true;
            self.pending = BytesMut::new();
            return Err(self.too_large());
        }
        let Some(cut) = cut else {
            self.pending.extend_from_slice(&chunk);
            return Ok(None);
        };
        let complete = if self.pending.is_empty() {
            // Zero-copy; when the chunk ends on a boundary this is the whole chunk.
            chunk.split_to(cut)
        } else {
            let rest = chunk.split_off(cut);
            self.pending.extend_from_slice(&chunk);
            chunk = rest;
            self.pending.split().freeze()
        };
        self.pending.extend_from_slice(&chunk);
        Ok(Some(complete))
    }

    /// Bytes of an unfinished event currently held.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }

    /// Takes the unfinished tail, for the end of the stream. The splitter is
    /// then ready for a new stream.
    pub fn take_pending(&mut self) -> Bytes {
        self.position = Position::START;
        self.failed = false;
        self.pending.split().freeze()
    }

    fn too_large(&self) -> SseError {
        SseError::EventTooLarge {
            limit: self.max_pending_bytes,
        }
    }

    /// Advances the scan over `bytes` and returns the offset just past the
    /// last event boundary in them, if any.
    fn scan(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut last_cut = None;
        let mut line_start = 0;
        for at in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            if at > line_start {
                self.position = Position::InLine;
            }
            self.position = self.position.after_terminator(bytes[at]);
            if matches!(self.position, Position::EventEnd { .. }) {
                last_cut = Some(at + 1);
            }
            line_start = at + 1;
        }
        if line_start < bytes.len() {
            self.position = Position::InLine;
        }
        last_cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BIG: usize = 1 << 20;

    fn push_str(splitter: &mut SseSplitter, chunk: &'static str) -> Option<Bytes> {
        splitter.push(Bytes::from_static(chunk.as_bytes())).unwrap()
    }

    #[test]
    fn a_chunk_ending_on_a_boundary_is_returned_as_is() {
        let chunk = Bytes::from_static(b"event: ping\ndata: {}\n\nevent: x\ndata: 1\n\n");
        let mut splitter = SseSplitter::new(BIG);
        let out = splitter.push(chunk.clone()).unwrap().unwrap();
        assert_eq!(out, chunk);
        // Same allocation: no copy was made.
        assert_eq!(out.as_ptr(), chunk.as_ptr());
        assert_eq!(splitter.pending_len(), 0);
    }

    #[test]
    fn an_unfinished_event_is_held_until_its_blank_line() {
        let mut splitter = SseSplitter::new(BIG);
        assert_eq!(push_str(&mut splitter, "event: a\nda"), None);
        assert_eq!(splitter.pending_len(), 11);
        assert_eq!(push_str(&mut splitter, "ta: 1\n"), None);
        let out = push_str(&mut splitter, "\nevent: b\n").unwrap();
        assert_eq!(out, "event: a\ndata: 1\n\n");
        assert_eq!(splitter.take_pending(), "event: b\n");
        assert_eq!(splitter.pending_len(), 0);
    }

    #[test]
    fn every_pair_of_terminators_is_a_boundary() {
        for boundary in [
            "\n\n", "\r\r", "\r\n\r\n", "\n\r\n", "\r\n\n", "\n\r", "\r\n\r",
        ] {
            let input = format!("data: x{boundary}data: y");
            let mut splitter = SseSplitter::new(BIG);
            let out = splitter.push(Bytes::from(input.clone())).unwrap();
            assert_eq!(
                out.as_deref(),
                Some(format!("data: x{boundary}").as_bytes()),
                "{boundary:?}"
            );
            assert_eq!(splitter.take_pending(), "data: y");
        }
    }

    #[test]
    fn a_single_crlf_is_not_a_boundary() {
        let mut splitter = SseSplitter::new(BIG);
        assert_eq!(push_str(&mut splitter, "data: x\r\ndata: y\r\n"), None);
    }

    #[test]
    fn a_crlf_split_across_chunks_is_one_terminator() {
        let mut splitter = SseSplitter::new(BIG);
        assert_eq!(push_str(&mut splitter, "data: x\r"), None);
        // This `\r` would make a boundary if the previous `\n` were a line of its own.
        assert_eq!(push_str(&mut splitter, "\n"), None);
        let out = push_str(&mut splitter, "\r\n").unwrap();
        assert_eq!(out, "data: x\r\n\r\n");
    }

    #[test]
    fn a_trailing_cr_boundary_is_released_at_once() {
        let mut splitter = SseSplitter::new(BIG);
        let out = push_str(&mut splitter, "data: x\r\n\r").unwrap();
        assert_eq!(out, "data: x\r\n\r");
        // The `\n` finishing that terminator is not a new event start...
        assert_eq!(push_str(&mut splitter, "\n").as_deref(), Some(&b"\n"[..]));
        // ...and the stream goes on normally.
        assert_eq!(push_str(&mut splitter, "data: y\r\n"), None);
        assert_eq!(push_str(&mut splitter, "\r\n").unwrap(), "data: y\r\n\r\n");
    }

    #[test]
    fn too_much_without_a_boundary_fails_and_stays_failed() {
        let mut splitter = SseSplitter::new(8);
        assert_eq!(push_str(&mut splitter, "data: 12"), None);
        let err = splitter.push(Bytes::from_static(b"3")).unwrap_err();
        assert_eq!(err, SseError::EventTooLarge { limit: 8 });
        assert_eq!(splitter.pending_len(), 0);
        assert!(splitter.push(Bytes::from_static(b"\n\n")).is_err());
    }

    #[test]
    fn the_limit_counts_only_the_unfinished_tail() {
        let mut splitter = SseSplitter::new(8);
        let out = push_str(&mut splitter, "data: a long event\n\ndata: 1").unwrap();
        assert_eq!(out, "data: a long event\n\n");
        assert_eq!(splitter.pending_len(), 7);
    }

    fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
        let byte = prop_oneof![
            3 => Just(b'\n'),
            3 => Just(b'\r'),
            1 => Just(b':'),
            4 => any::<u8>(),
        ];
        prop::collection::vec(byte, 0..300)
    }

    fn cut_points(len: usize) -> impl Strategy<Value = Vec<usize>> {
        prop::collection::vec(0..=len, 0..12).prop_map(|mut cuts| {
            cuts.sort_unstable();
            cuts
        })
    }

    fn chunks_of(input: &[u8], cuts: &[usize]) -> Vec<Bytes> {
        let mut chunks = Vec::new();
        let mut from = 0;
        for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
            chunks.push(Bytes::copy_from_slice(&input[from..cut]));
            from = cut;
        }
        chunks
    }

    proptest! {
        #[test]
        fn output_and_tail_reassemble_the_input_exactly(
            (input, cuts) in stream_bytes().prop_flat_map(|s| {
                let len = s.len();
                (Just(s), cut_points(len))
            })
        ) {
            let mut splitter = SseSplitter::new(BIG);
            let mut out = Vec::new();
            let mut parser_on_output = crate::SseParser::new(BIG);
            for chunk in chunks_of(&input, &cuts) {
                if let Some(events) = splitter.push(chunk).unwrap() {
                    prop_assert!(matches!(events.last(), Some(b'\n' | b'\r')));
                    parser_on_output.push(&events).unwrap();
                    out.extend_from_slice(&events);
                }
            }
            out.extend_from_slice(&splitter.take_pending());
            prop_assert_eq!(&out, &input);

            // The held tail never hides a complete event: the events found in
            // the returned bytes alone are all the stream has.
            let mut parser_on_input = crate::SseParser::new(BIG);
            parser_on_input.push(&input).unwrap();
            loop {
                let expected = parser_on_input.next_event();
                prop_assert_eq!(parser_on_output.next_event(), expected.clone());
                if expected.is_none() {
                    break;
                }
            }
        }
    }
}
