//! Watching a response body to its end without buffering it.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::Response;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use pin_project_lite::pin_project;

use crate::body::{BodyError, RelayBody};

/// Told about a body's progress. Whatever must happen however the body ends
/// (even if the client goes away and the body is dropped) belongs in `Drop`.
pub trait BodyWatch: Send + 'static {
    fn on_data(&mut self, _data: &Bytes) {}
    fn on_end(&mut self, _error: Option<&BodyError>) {}
}

pin_project! {
    struct Watched<W> {
        #[pin]
        inner: RelayBody,
        watch: W,
    }
}

impl<W: BodyWatch> Body for Watched<W> {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.watch.on_data(data);
                }
            }
            Poll::Ready(Some(Err(err))) => this.watch.on_end(Some(err)),
            Poll::Ready(None) => this.watch.on_end(None),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Attaches `watch` to a response's body.
pub fn watch_body<W: BodyWatch>(response: Response<RelayBody>, watch: W) -> Response<RelayBody> {
    response.map(|inner| Watched { inner, watch }.boxed_unsync())
}
