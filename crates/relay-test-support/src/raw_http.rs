//! Raw HTTP/1.1 over TCP for tests that must send (or answer) what no HTTP
//! library would: a client side for hostile requests, a misbehaving
//! upstream. Every read and wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// Tokio's clock, so that tests under paused time measure virtual time.
use tokio::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What came back on one connection.
#[derive(Debug)]
pub struct Raw {
    pub bytes: Vec<u8>,
    /// The server closed (or reset) the connection within the wait.
    pub closed: bool,
}

/// Sends `request` on a new connection (then closes the sending side if
/// `half_close`) and reads until the server closes it, at most 5 s.
/// Requests that should be answered normally need `Connection: close`.
pub async fn exchange(addr: SocketAddr, request: &[u8], half_close: bool) -> Raw {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    // A server that refuses early may reset the connection mid-write.
    let _ = socket.write_all(request).await;
    if half_close {
        let _ = socket.shutdown().await;
    }
    read_until_closed(&mut socket, Duration::from_secs(5)).await
}

/// Sends `request` and keeps the connection open, reading until the server
/// closes it or `limit` passes.
pub async fn exchange_holding_open(addr: SocketAddr, request: &[u8], limit: Duration) -> Raw {
    let mut socket = TcpStream::connect(addr).await.unwrap();
    let _ = socket.write_all(request).await;
    read_until_closed(&mut socket, limit).await
}

async fn read_until_closed(socket: &mut TcpStream, limit: Duration) -> Raw {
    let deadline = Instant::now() + limit;
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at(deadline, socket.read(&mut chunk)).await {
            Err(_) => {
                return Raw {
                    bytes,
                    closed: false,
                };
            }
            Ok(Ok(0) | Err(_)) => {
                return Raw {
                    bytes,
                    closed: true,
                };
            }
            Ok(Ok(n)) => bytes.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Writes `pieces` 100 ms apart (stopping at the first failed write) and
/// returns how long the server took to close the connection, or `None` if it
/// was still open after `limit`.
pub async fn closed_within(
    addr: SocketAddr,
    pieces: Vec<Vec<u8>>,
    limit: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let socket = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = socket.into_split();
    let writing = tokio::spawn(async move {
        for piece in pieces {
            if writer.write_all(&piece).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Keeps the connection open from this side.
        tokio::time::sleep(Duration::from_secs(3600)).await;
    });
    let mut chunk = vec![0u8; 16 * 1024];
    let deadline = Instant::now() + limit;
    let closed = loop {
        match tokio::time::timeout_at(deadline, reader.read(&mut chunk)).await {
            Err(_) => break None,
            Ok(Ok(0) | Err(_)) => break Some(started.elapsed()),
            Ok(Ok(_)) => {}
        }
    };
    writing.abort();
    closed
}

/// One parsed response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Every complete response in `bytes`, in order (framed by
/// `content-length`, or chunked).
pub fn parse_responses(mut bytes: &[u8]) -> Vec<RawResponse> {
    let mut responses = Vec::new();
    while let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
        let mut lines = head.split("\r\n");
        let Some(status) = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
        else {
            break;
        };
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let rest = &bytes[end + 4..];
        let find = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let (body, consumed) = if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
            match dechunk(rest) {
                Some(decoded) => decoded,
                None => break,
            }
        } else {
            let length: usize = find("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if rest.len() < length {
                break;
            }
            (rest[..length].to_vec(), length)
        };
        responses.push(RawResponse {
            status,
            headers,
            body,
        });
        bytes = &rest[consumed..];
    }
    responses
}

/// A chunked body and the bytes it took, if complete.
fn dechunk(mut bytes: &[u8]) -> Option<(Vec<u8>, usize)> {
    let total = bytes.len();
    let mut body = Vec::new();
    loop {
        let line_end = bytes.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&bytes[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        bytes = &bytes[line_end + 2..];
        if size == 0 {
            let trailer_end = bytes.windows(2).position(|w| w == b"\r\n")?;
            bytes = &bytes[trailer_end + 2..];
            return Some((body, total - bytes.len()));
        }
        if bytes.len() < size + 2 {
            return None;
        }
        body.extend_from_slice(&bytes[..size]);
        bytes = &bytes[size + 2..];
    }
}

/// A valid Messages request as raw HTTP/1.1.
pub fn raw_post(body: &str) -> String {
    format!(
        "POST /v1/messages HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// How the raw upstream misbehaves once it has read a request.
#[derive(Clone, Copy, Debug)]
pub enum Misbehaviour {
    /// Closes the connection without a byte of response.
    Close,
    /// Sends part of the status line and headers, then closes.
    CloseMidHeaders,
    /// Answers with something that is not HTTP.
    NotHttp,
}

/// A TCP server on 127.0.0.1 that reads each request, then misbehaves.
pub async fn raw_upstream(behaviour: Arc<Mutex<Misbehaviour>>) -> SocketAddr {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let behaviour = *behaviour.lock().unwrap();
            tokio::spawn(async move {
                let _ =
                    tokio::time::timeout(Duration::from_secs(2), read_request(&mut socket)).await;
                let reply: &[u8] = match behaviour {
                    Misbehaviour::Close => b"",
                    Misbehaviour::CloseMidHeaders => {
                        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-le"
                    }
                    Misbehaviour::NotHttp => b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
                };
                let _ = socket.write_all(reply).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

/// Reads one request: the head, then `content-length` bytes of body.
async fn read_request(socket: &mut tokio::net::TcpStream) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let Ok(n) = socket.read(&mut chunk).await else {
            return;
        };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if buf.len() >= end + 4 + length {
            return;
        }
    }
}
