//! Incremental Server-Sent Events handling, following the WHATWG "event
//! stream interpretation" rules.
//!
//! The relay forwards upstream streams to the client event by event and byte
//! for byte, while watching what goes past (token usage, errors). The two jobs
//! are kept apart on purpose:
//!
//! - [`SseSplitter`] only finds where events end. It never decodes or rewrites
//!   a byte, so what the client receives is exactly what the upstream sent.
//! - [`SseParser`] decodes fields into [`SseEvent`]s for observation. It may
//!   see the same bytes in any chunking and gives the same events.
//!
//! Both bound the memory an endless, never-terminated event can take.

mod event;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) mod fuzz;
mod parser;
mod splitter;

#[cfg(test)]
mod tests;

pub use event::SseEvent;
pub use parser::SseParser;
pub use splitter::SseSplitter;

use crate::ApiError;

/// Why an event stream cannot be processed further.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// More than `limit` bytes arrived without the event (or line) ending.
    #[error("an event stream event exceeded {limit} bytes without ending")]
    EventTooLarge { limit: usize },
}

impl From<SseError> for ApiError {
    /// Only upstreams send the streams the relay parses, so a broken one is
    /// the upstream's fault.
    fn from(err: SseError) -> Self {
        ApiError::bad_gateway(format!("the upstream stream is malformed: {err}"))
    }
}
