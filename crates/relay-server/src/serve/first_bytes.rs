//! A deadline on a new connection's first bytes.
//!
//! With h2c enabled, hyper-util reads the first 24 bytes of a connection to
//! tell HTTP/2's preface from an HTTP/1.1 request, and that read has no
//! timeout: hyper's HTTP/1.1 header read timeout only starts once the
//! protocol is known. A client that connects and sends nothing (or part of
//! the preface) would hold its connection, and a file descriptor, forever.
//! This wrapper fails the read once the deadline passes while fewer than
//! those bytes have arrived; after them, hyper's own limits take over.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// The length of the HTTP/2 connection preface hyper-util waits for.
const DETECTION_BYTES: usize = 24;

pin_project! {
    /// An I/O stream whose first [`DETECTION_BYTES`] must arrive before a deadline.
    pub struct FirstBytesDeadline<T> {
        #[pin]
        inner: T,
        // `None` once the first bytes arrived.
        deadline: Option<Pin<Box<Sleep>>>,
        remaining: usize,
    }
}

impl<T> FirstBytesDeadline<T> {
    pub fn new(inner: T, timeout: Duration) -> Self {
        Self {
            inner,
            deadline: Some(Box::pin(tokio::time::sleep(timeout))),
            remaining: DETECTION_BYTES,
        }
    }
}

impl<T: AsyncRead> AsyncRead for FirstBytesDeadline<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        match this.inner.poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let read = buf.filled().len() - before;
                *this.remaining = this.remaining.saturating_sub(read);
                if *this.remaining == 0 {
                    *this.deadline = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => {
                let expired = this
                    .deadline
                    .as_mut()
                    .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready());
                if !expired {
                    return Poll::Pending;
                }
                *this.deadline = None;
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client sent no request within the header read timeout",
                )))
            }
        }
    }
}

impl<T: AsyncWrite> AsyncWrite for FirstBytesDeadline<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn silence_fails_the_read_at_the_deadline() {
        let (client, server) = tokio::io::duplex(64);
        let mut server = FirstBytesDeadline::new(server, Duration::from_millis(300));
        let mut buf = [0u8; 8];
        let err = server.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        drop(client);
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_shorter_than_the_preface_is_cut_off() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut server = FirstBytesDeadline::new(server, Duration::from_millis(300));
        client.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(server.read(&mut buf).await.unwrap(), 16);
        let err = server.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_first_bytes_there_is_no_deadline() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut server = FirstBytesDeadline::new(server, Duration::from_millis(300));
        client.write_all(&[b'x'; DETECTION_BYTES]).await.unwrap();
        let mut buf = [0u8; 64];
        assert_eq!(server.read(&mut buf).await.unwrap(), DETECTION_BYTES);
        tokio::time::sleep(Duration::from_secs(5)).await;
        client.write_all(b"late").await.unwrap();
        assert_eq!(server.read(&mut buf).await.unwrap(), 4);
        server.write_all(b"ok").await.unwrap();
        let mut echo = [0u8; 2];
        client.read_exact(&mut echo).await.unwrap();
        assert_eq!(&echo, b"ok");
    }
}
