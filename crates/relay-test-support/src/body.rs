//! The mock's response body: a channel fed by a producer task, one frame per
//! chunk, so every SSE event really is handed to hyper on its own and at its
//! own time.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::mpsc;

use crate::mock::Shared;
use crate::plan::PlannedResponse;

/// What the producer sends to the body.
enum Item {
    Chunk(Bytes),
    /// End the body with an error, so hyper aborts the response.
    Abort,
}

/// Streams the chunks of a planned response.
///
/// Dropped before its end (hyper drops it when a write fails or the client
/// goes away) it counts a disconnect on the mock.
pub(crate) struct ChannelBody {
    rx: mpsc::Receiver<Item>,
    shared: Arc<Shared>,
    request_index: usize,
    /// Index of the next SSE event, when chunks are recorded as events.
    next_event: Option<usize>,
    /// The abort was received and one `Pending` returned, so hyper had a
    /// chance to flush what was sent before it.
    aborting: bool,
    finished: bool,
}

impl ChannelBody {
    /// Spawns the producer for `plan`'s chunks and returns the body.
    pub(crate) fn spawn(plan: &PlannedResponse, shared: Arc<Shared>, request_index: usize) -> Self {
        let (tx, rx) = mpsc::channel(1);
        let chunks = plan.chunks.clone();
        let delay = plan.event_delay;
        let cut_after = plan.cut_after;
        let stall_after = plan.stall_after;
        tokio::spawn(async move {
            for (i, chunk) in chunks.into_iter().enumerate() {
                if cut_after == Some(i) {
                    let _ = tx.send(Item::Abort).await;
                    return;
                }
                if stall_after == Some(i) {
                    tx.closed().await;
                    return;
                }
                if i > 0 && !delay.is_zero() {
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = tx.closed() => return,
                    }
                }
                if tx.send(Item::Chunk(chunk)).await.is_err() {
                    return;
                }
            }
            // `cut_after`/`stall_after` beyond the last chunk still apply.
            if cut_after.is_some() {
                let _ = tx.send(Item::Abort).await;
            } else if stall_after.is_some() {
                tx.closed().await;
            }
        });
        Self {
            rx,
            shared,
            request_index,
            next_event: plan.is_sse.then_some(0),
            aborting: false,
            finished: false,
        }
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        if this.aborting {
            this.finished = true;
            let err = io::Error::new(io::ErrorKind::ConnectionAborted, "mock upstream: cut_after");
            return Poll::Ready(Some(Err(err)));
        }
        match this.rx.poll_recv(cx) {
            Poll::Ready(Some(Item::Chunk(chunk))) => {
                if let Some(event_index) = this.next_event.as_mut() {
                    this.shared
                        .record_sent(this.request_index, *event_index, Instant::now());
                    *event_index += 1;
                }
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            Poll::Ready(Some(Item::Abort)) => {
                // Yield once so hyper flushes the chunks already written,
                // then fail on the next poll.
                this.aborting = true;
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            Poll::Ready(None) => {
                this.finished = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.finished
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl Drop for ChannelBody {
    fn drop(&mut self) {
        if !self.finished && !self.aborting {
            self.shared.record_disconnect();
        }
    }
}
