//! Relaying an upstream response body to the client as it arrives.
//!
//! Nothing here buffers more than one unfinished SSE event: each chunk is
//! handed to hyper as soon as it completes an event, so every event is
//! written to the client the moment it is whole. When the upstream breaks or
//! goes quiet after the response has started, an SSE client gets a final
//! Anthropic `error` event and a clean end (never a hang); a non-SSE client
//! gets an aborted body, so a truncated JSON document is never mistaken for a
//! complete one. Dropping this body (the client went away) drops the upstream
//! body, which closes the upstream connection at once.
//!
//! Two edits keep every backend looking like Anthropic ([`Fidelity`]): when
//! the provider's mapping changed the model, the client's id is written back
//! (into `message_start` in a stream, the only bytes touched; into a JSON
//! body's `model`, which is held until complete for that); and during long
//! silences mid-stream an SSE comment (`: keepalive`) goes out every
//! `server.sse_keepalive_ms`, which never resets the idle timeout.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use pin_project_lite::pin_project;
use relay_core::{ApiError, SseSplitter};
use relay_providers::{DecodeError, ResponseDecoder};
use tokio::time::{Instant, Sleep};

use crate::body::BodyError;

/// The most one unfinished SSE event may hold before the stream is failed.
const MAX_PENDING_EVENT_BYTES: usize = 16 * 1024 * 1024;
/// The most of a JSON body held back to restore its model; a larger one
/// (none is: a Messages response is a few hundred KiB at most) goes through
/// unchanged.
const MAX_RESTORED_JSON_BYTES: usize = 16 * 1024 * 1024;
/// An SSE comment line: clients and proxies see traffic, parsers skip it.
const KEEPALIVE: &[u8] = b": keepalive\n\n";

/// What the relay changes in a delivered response so a mapped or
/// non-Anthropic backend looks like the model the client asked for.
#[derive(Clone, Debug, Default)]
pub struct Fidelity {
    /// The client's model id, when the provider's mapping sent another one upstream.
    pub restore_model: Option<String>,
    /// `server.sse_keepalive_ms`, when not 0.
    pub keepalive: Option<Duration>,
}

pin_project! {
    /// An upstream response body on its way to the client.
    pub struct UpstreamBody {
        #[pin]
        inner: Incoming,
        #[pin]
        idle: Sleep,
        idle_timeout: Duration,
        // Only polled when `keepalive_every` is set, and only for SSE.
        #[pin]
        keepalive: Sleep,
        keepalive_every: Option<Duration>,
        // The client's model until it has been written back.
        restore_model: Option<String>,
        // A JSON body held back for the model restore.
        held_json: Vec<u8>,
        // Present for `text/event-stream` responses: output is cut at event boundaries.
        sse: Option<SseSplitter>,
        // Present when the backend's wire format must be turned into Anthropic's first.
        decoder: Option<Box<dyn ResponseDecoder>>,
        finished: bool,
    }
}

impl UpstreamBody {
    /// `event_stream`: cut the output at event boundaries (always so for a
    /// decoded body, whose output is SSE).
    pub fn new(
        inner: Incoming,
        idle_timeout: Duration,
        event_stream: bool,
        decoder: Option<Box<dyn ResponseDecoder>>,
        fidelity: Fidelity,
    ) -> Self {
        let keepalive_every = fidelity.keepalive.filter(|_| event_stream);
        Self {
            inner,
            idle: tokio::time::sleep(idle_timeout),
            idle_timeout,
            keepalive: tokio::time::sleep(keepalive_every.unwrap_or(idle_timeout)),
            keepalive_every,
            restore_model: fidelity.restore_model,
            held_json: Vec::new(),
            sse: event_stream.then(|| SseSplitter::new(MAX_PENDING_EVENT_BYTES)),
            decoder,
            finished: false,
        }
    }
}

/// Why an upstream body stopped early.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("the upstream connection failed mid-response: {0}")]
    Upstream(String),
    #[error("the upstream sent nothing for {0:?}")]
    Idle(Duration),
    #[error("the upstream sent an SSE event larger than {0} bytes")]
    EventTooLarge(usize),
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl Body for UpstreamBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let mut this = self.project();
        if *this.finished {
            return Poll::Ready(None);
        }
        loop {
            let frame = match this.inner.as_mut().poll_frame(cx) {
                Poll::Ready(frame) => frame,
                Poll::Pending => {
                    if this.idle.as_mut().poll(cx).is_ready() {
                        let error = StreamError::Idle(*this.idle_timeout);
                        return Poll::Ready(fail(this.finished, this.sse.is_some(), error));
                    }
                    let Some(every) = *this.keepalive_every else {
                        return Poll::Pending;
                    };
                    ready!(this.keepalive.as_mut().poll(cx));
                    // Between events: the splitter holds back any half-received one.
                    this.keepalive.as_mut().reset(Instant::now() + every);
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(KEEPALIVE)))));
                }
            };
            let now = Instant::now();
            this.idle.as_mut().reset(now + *this.idle_timeout);
            if let Some(every) = *this.keepalive_every {
                this.keepalive.as_mut().reset(now + every);
            }
            match frame {
                None => {
                    let decoded_tail = match this.decoder.as_mut().map(|d| d.finish()) {
                        Some(Err(err)) => {
                            let is_sse = this.sse.is_some();
                            return Poll::Ready(fail(this.finished, is_sse, err.into()));
                        }
                        Some(Ok(tail)) => tail,
                        None => Bytes::new(),
                    };
                    *this.finished = true;
                    // An upstream that ends without a final blank line still gets every byte relayed.
                    let tail = match this.sse.as_mut() {
                        Some(splitter) => {
                            let mut tail = splitter.take_pending().to_vec();
                            tail.extend_from_slice(&decoded_tail);
                            Bytes::from(tail)
                        }
                        None => decoded_tail,
                    };
                    let tail = match this.restore_model.take() {
                        Some(model) if this.sse.is_none() => {
                            let mut held = std::mem::take(this.held_json);
                            held.extend_from_slice(&tail);
                            relay_core::restore_response_model(&held, &model)
                                .unwrap_or_else(|| Bytes::from(held))
                        }
                        _ => tail,
                    };
                    return Poll::Ready((!tail.is_empty()).then(|| Ok(Frame::data(tail))));
                }
                Some(Err(err)) => {
                    let error = StreamError::Upstream(err.to_string());
                    return Poll::Ready(fail(this.finished, this.sse.is_some(), error));
                }
                Some(Ok(frame)) => {
                    let mut data = match frame.into_data() {
                        Ok(data) => data,
                        Err(trailers) => return Poll::Ready(Some(Ok(trailers))),
                    };
                    if let Some(decoder) = this.decoder.as_mut() {
                        data = match decoder.decode(data) {
                            Ok(decoded) if decoded.is_empty() => continue,
                            Ok(decoded) => decoded,
                            Err(err) => {
                                let is_sse = this.sse.is_some();
                                return Poll::Ready(fail(this.finished, is_sse, err.into()));
                            }
                        };
                    }
                    let Some(splitter) = this.sse.as_mut() else {
                        if this.restore_model.is_none() {
                            return Poll::Ready(Some(Ok(Frame::data(data))));
                        }
                        this.held_json.extend_from_slice(&data);
                        if this.held_json.len() > MAX_RESTORED_JSON_BYTES {
                            *this.restore_model = None;
                            let held = std::mem::take(this.held_json);
                            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(held)))));
                        }
                        continue;
                    };
                    match splitter.push(data) {
                        Ok(Some(mut events)) => {
                            if let Some(model) = this.restore_model.as_deref()
                                && memchr::memmem::find(&events, b"message_start").is_some()
                            {
                                if let Some(restored) =
                                    relay_core::restore_stream_model(&events, model)
                                {
                                    events = restored;
                                }
                                *this.restore_model = None;
                            }
                            return Poll::Ready(Some(Ok(Frame::data(events))));
                        }
                        // Only part of an event so far: wait for the rest.
                        Ok(None) => continue,
                        Err(_) => {
                            let error = StreamError::EventTooLarge(MAX_PENDING_EVENT_BYTES);
                            return Poll::Ready(fail(this.finished, true, error));
                        }
                    }
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.finished
    }

    fn size_hint(&self) -> SizeHint {
        // An SSE body may gain an error event, and a restored model or a
        // decoder changes the length, so only untouched plain bodies keep the
        // upstream's hint.
        if self.sse.is_some() || self.restore_model.is_some() || self.decoder.is_some() {
            SizeHint::default()
        } else {
            self.inner.size_hint()
        }
    }
}

/// Ends the body after `error`: an SSE client gets an `error` event and a clean
/// end; anyone else gets an aborted body.
fn fail(
    finished: &mut bool,
    is_sse: bool,
    error: StreamError,
) -> Option<Result<Frame<Bytes>, BodyError>> {
    *finished = true;
    tracing::warn!(%error, "upstream response ended early");
    if is_sse {
        Some(Ok(Frame::data(
            ApiError::bad_gateway(error.to_string()).to_sse_event(),
        )))
    } else {
        Some(Err(Box::new(error)))
    }
}
