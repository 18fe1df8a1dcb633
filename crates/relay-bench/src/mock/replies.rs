//! The mock's answers, rendered once: a small Messages JSON reply, a
//! complete short SSE stream, and the pieces of the timed and held streams.
//! [`MockBody`] is either a whole body or events fed through a channel.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use memchr::memmem;
use tokio::sync::mpsc;

const MESSAGE_JSON: &str = r#"{"id":"msg_bench_0001","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Hello from the benchmark upstream."}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":8}}"#;

const STREAM_HEAD: &str = concat!(
    "event: message_start\n",
    r#"data: {"type":"message_start","message":{"id":"msg_bench_0001","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,"output_tokens":1}}}"#,
    "\n\n",
    "event: content_block_start\n",
    r#"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
    "\n\n",
);

const STREAM_TAIL: &str = concat!(
    "event: content_block_stop\n",
    r#"data: {"type":"content_block_stop","index":0}"#,
    "\n\n",
    "event: message_delta\n",
    r#"data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":8}}"#,
    "\n\n",
    "event: message_stop\n",
    r#"data: {"type":"message_stop"}"#,
    "\n\n",
);

/// The marker a timed event carries in its text: `t=<ns since the clock's base>`.
pub const STAMP_PREFIX: &[u8] = b"t=";

/// Pre-rendered replies, shared by every connection.
#[derive(Debug)]
pub struct Replies {
    /// Headers every reply carries, as Anthropic's do: a request id and the
    /// `anthropic-ratelimit-*` family (limits far above any benchmark's
    /// needs, so they teach the relay's key pool without ever throttling).
    pub headers: http::HeaderMap,
    pub json: Bytes,
    pub stream: Bytes,
    pub head: Bytes,
    pub tail: Bytes,
    stream_compact: memmem::Finder<'static>,
    stream_spaced: memmem::Finder<'static>,
}

impl Replies {
    pub fn new() -> Self {
        let mut stream = String::from(STREAM_HEAD);
        for word in ["Hello", " from", " the", " benchmark", " upstream."] {
            stream.push_str(&text_delta(word));
        }
        stream.push_str(STREAM_TAIL);
        Self {
            headers: reply_headers(),
            json: Bytes::from_static(MESSAGE_JSON.as_bytes()),
            stream: Bytes::from(stream),
            head: Bytes::from_static(STREAM_HEAD.as_bytes()),
            tail: Bytes::from_static(STREAM_TAIL.as_bytes()),
            stream_compact: memmem::Finder::new(br#""stream":true"#),
            stream_spaced: memmem::Finder::new(br#""stream": true"#),
        }
    }

    /// Whether a request body asks for a stream (`"stream": true`, written
    /// compactly or as Python's `json.dumps` writes it).
    pub fn wants_stream(&self, body: &[u8]) -> bool {
        self.stream_compact.find(body).is_some() || self.stream_spaced.find(body).is_some()
    }
}

fn reply_headers() -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    let mut add = |name: String, value: String| {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::try_from(name),
            http::HeaderValue::try_from(value),
        ) {
            headers.insert(name, value);
        }
    };
    add("request-id".into(), "req_bench_0001".into());
    let reset = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
    let reset = humantime::format_rfc3339_seconds(reset).to_string();
    for (dimension, limit) in [
        ("requests", 1_000_000_000_u64),
        ("input-tokens", 1_000_000_000_000),
        ("output-tokens", 1_000_000_000_000),
        ("tokens", 2_000_000_000_000),
    ] {
        let name = |suffix: &str| format!("anthropic-ratelimit-{dimension}-{suffix}");
        add(name("limit"), limit.to_string());
        add(name("remaining"), (limit - 1).to_string());
        add(name("reset"), reset.clone());
    }
    headers
}

/// A `content_block_delta` event carrying `text`.
pub fn text_delta(text: &str) -> String {
    format!(
        "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{text}\"}}}}\n\n"
    )
}

/// A delta whose text is the send time stamp, `t=<nanos>`. In the text, so
/// a proxy that re-encodes events still carries it.
pub fn stamped_delta(nanos: u64) -> Bytes {
    Bytes::from(text_delta(&format!("t={nanos}")))
}

/// The stamp of a complete event, if it has one.
pub fn stamp_of(event: &[u8]) -> Option<u64> {
    let at = memmem::find(event, STAMP_PREFIX)? + STAMP_PREFIX.len();
    let digits = &event[at..];
    let end = digits
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

/// A response body: whole, or events as a task sends them.
#[derive(Debug)]
pub enum MockBody {
    Full(Option<Bytes>),
    Channel(mpsc::Receiver<Bytes>),
}

impl Body for MockBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Self::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Self::Channel(rx) => rx.poll_recv(cx).map(|d| d.map(|d| Ok(Frame::data(d)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Self::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Self::Full(Some(data)) => SizeHint::with_exact(data.len() as u64),
            Self::Full(None) => SizeHint::with_exact(0),
            Self::Channel(_) => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_stream_requests() {
        let replies = Replies::new();
        assert!(replies.wants_stream(br#"{"model":"m","stream":true}"#));
        assert!(replies.wants_stream(br#"{"model": "m", "stream": true}"#));
        assert!(!replies.wants_stream(br#"{"model":"m","stream":false}"#));
    }

    #[test]
    fn stamps_round_trip() {
        let event = stamped_delta(1_234_567);
        assert_eq!(stamp_of(&event), Some(1_234_567));
        assert_eq!(stamp_of(b"event: ping\ndata: {}\n\n"), None);
    }

    #[test]
    fn the_stream_is_well_formed() {
        let replies = Replies::new();
        let text = std::str::from_utf8(&replies.stream).unwrap();
        assert!(text.starts_with("event: message_start\n"));
        assert!(text.ends_with("data: {\"type\":\"message_stop\"}\n\n"));
        assert_eq!(text.matches("\n\n").count(), 10);
        for event in text.split("\n\n").filter(|e| !e.is_empty()) {
            let data = event.split_once("data: ").unwrap().1;
            serde_json::from_str::<serde_json::Value>(data).unwrap();
        }
    }
}
