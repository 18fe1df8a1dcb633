//! Decoding an event stream into events, whatever the chunking.

use std::collections::VecDeque;
use std::mem;

use super::{SseError, SseEvent};

/// The UTF-8 byte order mark, ignored once at the very start of a stream.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Decodes an event stream incrementally.
///
/// Chunks may be split anywhere, even inside a `\r\n` or a UTF-8 sequence;
/// the events are the same as for the whole stream at once. Invalid UTF-8 is
/// replaced with U+FFFD rather than failing, as browsers do.
///
/// One deliberate difference from the browser API: [`SseEvent::id`] and
/// [`SseEvent::retry`] are the fields carried by that event, rather than the
/// stream's last id, which is what an observer of single events wants.
///
/// Completed events queue until taken with [`next_event`](Self::next_event);
/// take them after each push, as the queue itself is not bounded.
#[derive(Debug)]
pub struct SseParser {
    max_buffered_bytes: usize,
    /// The current line, when a chunk ended inside it.
    line: Vec<u8>,
    /// The previous chunk ended with a `\r`, so a leading `\n` finishes that terminator.
    skip_lf: bool,
    /// No line has been completed yet, so a BOM may still open the stream.
    at_stream_start: bool,
    event_type: String,
    data: String,
    id: Option<String>,
    retry: Option<u64>,
    /// Input bytes since the last blank line: what `finish` reports dropped.
    unterminated_bytes: usize,
    ready: VecDeque<SseEvent>,
    failed: bool,
}

impl SseParser {
    /// A parser that refuses to hold more than `max_buffered_bytes` of an
    /// unfinished line plus the fields of the event being accumulated.
    pub fn new(max_buffered_bytes: usize) -> Self {
        Self {
            max_buffered_bytes,
            line: Vec::new(),
            skip_lf: false,
            at_stream_start: true,
            event_type: String::new(),
            data: String::new(),
            id: None,
            retry: None,
            unterminated_bytes: 0,
            ready: VecDeque::new(),
            failed: false,
        }
    }

    /// Feeds the next bytes of the stream.
    ///
    /// # Errors
    ///
    /// [`SseError::EventTooLarge`] when a line, together with the event it
    /// belongs to, exceeds the limit; whether it does is independent of the
    /// chunking. The stream cannot be resynchronised after that, so every
    /// later call fails the same way until [`finish`](Self::finish).
    pub fn push(&mut self, mut chunk: &[u8]) -> Result<(), SseError> {
        if self.failed {
            return Err(self.too_large());
        }
        if self.skip_lf && !chunk.is_empty() {
            self.skip_lf = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
                // After a blank line the `\n` belongs to no event.
                if self.unterminated_bytes > 0 {
                    self.unterminated_bytes += 1;
                }
            }
        }
        while let Some(end) = memchr::memchr2(b'\n', b'\r', chunk) {
            let (content, rest) = chunk.split_at(end);
            let terminator_len = match rest {
                [b'\r', b'\n', ..] => 2,
                [b'\r'] => {
                    self.skip_lf = true;
                    1
                }
                _ => 1,
            };
            chunk = &rest[terminator_len..];
            let line_len = self.line.len() + content.len();
            if self.event_len() + line_len > self.max_buffered_bytes {
                return Err(self.fail());
            }
            self.unterminated_bytes += line_len + terminator_len;
            if self.line.is_empty() {
                self.process_line(content);
            } else {
                let mut line = mem::take(&mut self.line);
                line.extend_from_slice(content);
                self.process_line(&line);
                line.clear();
                self.line = line;
            }
        }
        if self.event_len() + self.line.len() + chunk.len() > self.max_buffered_bytes {
            return Err(self.fail());
        }
        self.line.extend_from_slice(chunk);
        Ok(())
    }

    /// The next complete event, if any.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        self.ready.pop_front()
    }

    /// Ends the stream. An event without its closing blank line is discarded,
    /// as the specification requires; returns how many input bytes that was.
    ///
    /// Events already complete stay available, and the parser is then ready
    /// for a new stream.
    pub fn finish(&mut self) -> usize {
        let dropped = self.unterminated_bytes + self.line.len();
        let ready = mem::take(&mut self.ready);
        *self = Self {
            ready,
            ..Self::new(self.max_buffered_bytes)
        };
        dropped
    }

    /// Bytes held for the event being accumulated, not counting its current line.
    fn event_len(&self) -> usize {
        self.event_type.len() + self.data.len() + self.id.as_ref().map_or(0, String::len)
    }

    fn too_large(&self) -> SseError {
        SseError::EventTooLarge {
            limit: self.max_buffered_bytes,
        }
    }

    fn fail(&mut self) -> SseError {
        self.failed = true;
        self.line = Vec::new();
        self.data = String::new();
        self.too_large()
    }

    fn process_line(&mut self, mut line: &[u8]) {
        if mem::take(&mut self.at_stream_start) {
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch();
            return;
        }
        let (name, value) = match memchr::memchr(b':', line) {
            Some(0) => return, // A comment.
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match name {
            b"event" => self.event_type = String::from_utf8_lossy(value).into_owned(),
            b"data" => {
                self.data.push_str(&String::from_utf8_lossy(value));
                self.data.push('\n');
            }
            b"id" if !value.contains(&0) => {
                self.id = Some(String::from_utf8_lossy(value).into_owned());
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // Too many digits for a u64: ignored like any invalid value.
                if let Some(millis) = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
                    self.retry = Some(millis);
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self) {
        self.unterminated_bytes = 0;
        let event_type = mem::take(&mut self.event_type);
        let id = self.id.take();
        let retry = self.retry.take();
        if self.data.is_empty() {
            return;
        }
        let mut data = mem::take(&mut self.data);
        data.pop(); // The `\n` appended after the last data line.
        let event = if event_type.is_empty() {
            "message".to_owned()
        } else {
            event_type
        };
        self.ready.push_back(SseEvent {
            event,
            data,
            id,
            retry,
        });
    }
}
