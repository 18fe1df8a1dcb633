//! A reply resolved against its request: status, headers, body chunks and
//! timing, ready for the server to send.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::anthropic;

pub(crate) const EVENT_STREAM: &str = "text/event-stream";

pub(crate) fn json_chunks(value: &Value) -> (String, Vec<Bytes>, bool) {
    let body = Bytes::from(value.to_string());
    ("application/json".to_owned(), vec![body], false)
}

pub(crate) fn sse_chunks(events: &[(String, Value)]) -> (String, Vec<Bytes>, bool) {
    let chunks = events
        .iter()
        .map(|(name, data)| anthropic::render_event(name, data))
        .collect();
    (EVENT_STREAM.to_owned(), chunks, true)
}

/// The parts of a request a reply depends on.
pub(crate) struct RequestView<'a> {
    pub index: usize,
    pub method: &'a http::Method,
    pub path_and_query: &'a str,
    pub body: &'a [u8],
}

/// A reply resolved against its request.
pub(crate) enum Plan {
    /// Never answer.
    Stall,
    /// Wait, then drop the connection without a response.
    Close(Duration),
    /// Send a response.
    Respond(Box<PlannedResponse>),
}

pub(crate) struct PlannedResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub chunks: Vec<Bytes>,
    /// Whether chunks are SSE events (recorded as [`SentEvent`](crate::SentEvent)s).
    pub is_sse: bool,
    pub headers_delay: Duration,
    pub event_delay: Duration,
    pub cut_after: Option<usize>,
    pub stall_after: Option<usize>,
}

impl PlannedResponse {
    /// Whether the body can be sent in one piece, with a content length.
    pub fn is_simple(&self) -> bool {
        !self.is_sse
            && self.cut_after.is_none()
            && self.stall_after.is_none()
            && self.event_delay.is_zero()
    }
}
