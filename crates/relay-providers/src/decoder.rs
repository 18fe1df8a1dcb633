//! Decoding a backend's own response wire format into Anthropic's.

use bytes::Bytes;

/// Turns a backend's response body (e.g. AWS event-stream frames) into the
/// bytes of an Anthropic response (SSE events), chunk by chunk as they arrive.
/// Output must be whole SSE events whenever possible, so the relay can flush
/// each one at once.
pub trait ResponseDecoder: Send + 'static {
    /// Decodes one chunk; returns the bytes to send on (possibly empty).
    fn decode(&mut self, chunk: Bytes) -> Result<Bytes, DecodeError>;

    /// The upstream body ended; returns any final bytes, or an error if the
    /// body stopped inside a frame.
    fn finish(&mut self) -> Result<Bytes, DecodeError>;

    /// The content type of the decoded body. Anthropic SSE unless the decoder
    /// makes a JSON document (a translated non-streaming response): then the
    /// body is relayed as one document, without SSE framing or error events.
    fn content_type(&self) -> &'static str {
        "text/event-stream"
    }
}

/// The upstream's body could not be decoded; the stream ends with an error event.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("could not decode the upstream response: {0}")]
pub struct DecodeError(pub String);
