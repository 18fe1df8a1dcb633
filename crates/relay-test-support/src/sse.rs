//! A deliberately small SSE parser for tests: events are separated by a blank
//! line (`\n\n`, CRLF accepted), `event:` names them (default `message`),
//! `data:` lines are joined with `\n`, comment lines (`:`) are ignored, and an
//! unterminated trailing event is discarded, as the SSE specification says.

/// Incremental parser: feed chunks, take complete events.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buffer: Vec<u8>,
}

impl SseParser {
    /// Appends a chunk and returns the events it completed.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> Vec<(String, String)> {
        self.buffer.extend_from_slice(chunk);
        normalize_crlf(&mut self.buffer);
        let mut events = Vec::new();
        while let Some(end) = find_blank_line(&self.buffer) {
            let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
            if let Some(event) = parse_block(&String::from_utf8_lossy(&block[..end])) {
                events.push(event);
            }
        }
        events
    }
}

/// Parses a whole SSE body into `(event, data)` pairs.
pub fn parse_sse(body: &[u8]) -> Vec<(String, String)> {
    SseParser::default().feed(body)
}

fn normalize_crlf(buffer: &mut Vec<u8>) {
    if buffer.windows(2).any(|w| w == b"\r\n") {
        let mut out = Vec::with_capacity(buffer.len());
        let mut i = 0;
        while i < buffer.len() {
            if buffer[i] == b'\r' && buffer.get(i + 1) == Some(&b'\n') {
                i += 1;
                continue;
            }
            out.push(buffer[i]);
            i += 1;
        }
        *buffer = out;
    }
}

fn find_blank_line(buffer: &[u8]) -> Option<usize> {
    buffer.windows(2).position(|w| w == b"\n\n")
}

fn parse_block(block: &str) -> Option<(String, String)> {
    let mut name = None;
    let mut data: Option<String> = None;
    for line in block.split('\n') {
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => name = Some(value.to_owned()),
            "data" => match data.as_mut() {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    if name.is_none() && data.is_none() {
        return None;
    }
    Some((
        name.unwrap_or_else(|| "message".to_owned()),
        data.unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_events_across_chunk_boundaries() {
        let mut p = SseParser::default();
        assert!(p.feed(b"event: a\r").is_empty());
        assert!(p.feed(b"\ndata: {\"x\":1}\r\n\r").is_empty());
        let events = p.feed(b"\n: comment\n\ndata: one\ndata: two\n\nevent: tail\n");
        assert_eq!(
            events,
            vec![
                ("a".to_owned(), "{\"x\":1}".to_owned()),
                ("message".to_owned(), "one\ntwo".to_owned()),
            ]
        );
        assert!(p.feed(b"").is_empty());
    }

    #[test]
    fn whole_body() {
        let events = parse_sse(b"event: ping\ndata: {}\n\nevent: x\ndata:y\n\n");
        assert_eq!(events.len(), 2);
        assert_eq!(events[1], ("x".to_owned(), "y".to_owned()));
    }
}
