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

pin_project! {
    /// An upstream response body on its way to the client.
    pub struct UpstreamBody {
        #[pin]
        inner: Incoming,
        #[pin]
        idle: Sleep,
        idle_timeout: Duration,
        // Present for `text/event-stream` responses: output is cut at event boundaries.
        sse: Option<SseSplitter>,
        // Present when the backend's wire format must be turned into Anthropic's first.
        decoder: Option<Box<dyn ResponseDecoder>>,
        finished: bool,
    }
}

impl UpstreamBody {
    /// With a `decoder`, `is_sse` says whether its output is an event stream.
    pub fn new(
        inner: Incoming,
        idle_timeout: Duration,
        is_sse: bool,
        decoder: Option<Box<dyn ResponseDecoder>>,
    ) -> Self {
        Self {
            inner,
            idle: tokio::time::sleep(idle_timeout),
            idle_timeout,
            sse: is_sse.then(|| SseSplitter::new(MAX_PENDING_EVENT_BYTES)),
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
                    ready!(this.idle.as_mut().poll(cx));
                    let error = StreamError::Idle(*this.idle_timeout);
                    return Poll::Ready(fail(this.finished, this.sse.is_some(), error));
                }
            };
            this.idle
                .as_mut()
                .reset(Instant::now() + *this.idle_timeout);
            match frame {
                None => {
                    let decoded_tail = match this.decoder.as_mut().map(|d| d.finish()) {
                        Some(Err(err)) => {
                            return Poll::Ready(fail(
                                this.finished,
                                this.sse.is_some(),
                                err.into(),
                            ));
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
                                return Poll::Ready(fail(
                                    this.finished,
                                    this.sse.is_some(),
                                    err.into(),
                                ));
                            }
                        };
                    }
                    let Some(splitter) = this.sse.as_mut() else {
                        return Poll::Ready(Some(Ok(Frame::data(data))));
                    };
                    match splitter.push(data) {
                        Ok(Some(events)) => return Poll::Ready(Some(Ok(Frame::data(events)))),
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
        // An SSE body may gain an error event and a decoded one has its own
        // length, so only plain relayed bodies keep the upstream's hint.
        if self.sse.is_some() || self.decoder.is_some() {
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
