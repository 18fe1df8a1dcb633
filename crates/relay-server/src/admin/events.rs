//! `GET /admin/events`: a Server-Sent Events stream with one `event: request`
//! per finished request (ids, route, status, timings, token counts; never a
//! body or a secret), and a `: keepalive` comment every [`KEEPALIVE`] so
//! proxies and clients see the connection is alive.
//!
//! A subscriber that falls behind by more than the buffer skips what it
//! missed (told in a `: skipped N` comment) instead of slowing requests. The
//! stream ends when the relay shuts down, so it never holds up the drain.

use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http::{HeaderValue, Response, header};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use relay_admin_api::REQUEST_EVENT;

use super::service::{Delivery, Events};
use crate::body::{BodyError, RelayBody};

/// How often an idle stream sends a comment.
pub const KEEPALIVE: Duration = Duration::from_secs(15);

struct Subscription {
    events: Events,
    /// The opening comment is sent first, so clients see the stream start.
    opened: bool,
}

pub fn response(events: Events) -> Response<RelayBody> {
    let subscription = Subscription {
        events,
        opened: false,
    };
    let frames = stream::unfold(subscription, |mut sub| async move {
        let chunk = next_chunk(&mut sub).await?;
        Some((Ok::<_, BodyError>(Frame::data(chunk)), sub))
    });
    let mut response = Response::new(StreamBody::new(frames).boxed_unsync());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The next bytes to send; `None` ends the stream.
async fn next_chunk(sub: &mut Subscription) -> Option<Bytes> {
    if !sub.opened {
        sub.opened = true;
        return Some(Bytes::from_static(b": cc-relay request events\n\n"));
    }
    tokio::select! {
        delivery = sub.events.next() => match delivery? {
            Delivery::Event(event) => Some(Bytes::from(format!(
                "event: {REQUEST_EVENT}\ndata: {}\n\n",
                event.json
            ))),
            Delivery::Skipped(missed) => Some(Bytes::from(format!(": skipped {missed}\n\n"))),
        },
        () = tokio::time::sleep(KEEPALIVE) => Some(Bytes::from_static(b": keepalive\n\n")),
    }
}
