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
///
/// `on_end` is called at most once: when the body yields its end or an
/// error, or as soon as its last byte was taken. hyper stops polling (and
/// drops) a body once its `Content-Length` is written or it says it has
/// ended, so waiting for its `None` would miss most ends.
pub trait BodyWatch: Send + 'static {
    fn on_data(&mut self, _data: &Bytes) {}
    fn on_end(&mut self, _error: Option<&BodyError>) {}
}

pin_project! {
    struct Watched<W> {
        #[pin]
        inner: RelayBody,
        watch: W,
        ended: bool,
        // Bytes still due by the declared `Content-Length`.
        remaining: Option<u64>,
    }
}

impl<W: BodyWatch> Body for Watched<W> {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let mut this = self.project();
        let polled = this.inner.as_mut().poll_frame(cx);
        if *this.ended {
            return polled;
        }
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                let mut all_sent = false;
                if let Some(data) = frame.data_ref() {
                    this.watch.on_data(data);
                    if let Some(remaining) = this.remaining.as_mut() {
                        *remaining = remaining.saturating_sub(data.len() as u64);
                        all_sent = *remaining == 0;
                    }
                }
                if all_sent || this.inner.is_end_stream() {
                    *this.ended = true;
                    this.watch.on_end(None);
                }
            }
            Poll::Ready(Some(Err(err))) => {
                *this.ended = true;
                this.watch.on_end(Some(err));
            }
            Poll::Ready(None) => {
                *this.ended = true;
                this.watch.on_end(None);
            }
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
/// An empty body may never be polled: it has ended already.
pub fn watch_body<W: BodyWatch>(
    response: Response<RelayBody>,
    mut watch: W,
) -> Response<RelayBody> {
    let remaining = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    response.map(|inner| {
        let ended = inner.is_end_stream() || remaining == Some(0);
        if ended {
            watch.on_end(None);
        }
        Watched {
            inner,
            watch,
            ended,
            remaining,
        }
        .boxed_unsync()
    })
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::body::full;

    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<String>>>);

    impl BodyWatch for Seen {
        fn on_data(&mut self, data: &Bytes) {
            self.0.lock().unwrap().push(format!("data {}", data.len()));
        }
        fn on_end(&mut self, error: Option<&BodyError>) {
            self.0
                .lock()
                .unwrap()
                .push(format!("end {}", error.is_some()));
        }
    }

    #[tokio::test]
    async fn the_end_is_seen_once_as_soon_as_the_declared_length_is_sent() {
        let seen = Seen::default();
        let mut response = Response::new(full("hello"));
        response
            .headers_mut()
            .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(5));
        let mut body = watch_body(response, seen.clone()).into_body();
        // Only the data frame is taken, as hyper does for a sized body.
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "hello");
        assert_eq!(*seen.0.lock().unwrap(), ["data 5", "end false"]);
        assert!(body.frame().await.is_none());
        assert_eq!(seen.0.lock().unwrap().len(), 2, "not told twice");
    }

    #[tokio::test]
    async fn an_empty_body_has_ended_before_it_is_polled() {
        let seen = Seen::default();
        let _response = watch_body(Response::new(full("")), seen.clone());
        assert_eq!(*seen.0.lock().unwrap(), ["end false"]);
    }
}
