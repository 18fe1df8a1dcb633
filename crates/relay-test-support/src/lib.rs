//! Test support for cc-relay: never shipped in the binary.
//!
//! - [`MockUpstream`]: an Anthropic-compatible upstream on 127.0.0.1 that
//!   answers with scripted [`MockReply`]s (JSON, real SSE streams, delays,
//!   cuts, stalls, dropped connections) and records every request
//!   ([`RecordedRequest`]), every sent SSE event ([`SentEvent`]) and every
//!   client disconnect.
//! - [`ChatReply`] and [`MockReply::chat_auto`]: the mock as an OpenAI Chat
//!   Completions server (for `type: openai` providers).
//! - [`TestClient`]: a bounded-time HTTP/1.1 or h2c client returning whole
//!   [`TestResponse`]s or incrementally read [`TestStream`]s.
//! - [`RelayProcess`]: runs the real `cc-relay` binary with a throw-away
//!   config and home, captures its output and sends it signals.
//! - [`check_anthropic_stream`]: the Anthropic stream grammar, checked, and
//!   the final message accumulated as the SDK does.
//! - [`config`]: a builder for the relay configurations tests start with.
//! - [`raw_http`]: raw HTTP/1.1 over TCP, for hostile requests and misbehaving upstreams.
//! - [`PostgresServer`]: a real PostgreSQL on a free loopback port in a
//!   temporary directory, stopped on drop.
//! - [`RedisServer`]: a real `redis-server` on a free loopback port in a
//!   temp dir, killed (and restartable) by the test.
//! - [`tools`]: the Python environment and system programs the tests run,
//!   failing with the install command when one is missing.
//!
//! Everything binds or connects to 127.0.0.1 only, and every wait is bounded
//! by a timeout.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use relay_test_support::{MockReply, MockUpstream, TestClient};
//!
//! let mock = MockUpstream::start().await?;
//! mock.enqueue(MockReply::stream("hi there").event_delay(Duration::from_millis(10)));
//! let url = format!("{}/v1/messages", mock.url());
//! let body = r#"{"model":"claude-test","stream":true}"#;
//! let stream = TestClient::new().stream("POST", &url, &[], body).await?;
//! let events = stream.collect_events().await?;
//! assert_eq!(events.last().map(|(name, _, _)| name.as_str()), Some("message_stop"));
//! assert_eq!(mock.requests()[0].body, body);
//! # Ok(()) }
//! ```

mod anthropic;
mod body;
mod client;
pub mod config;
pub mod go_corpus;
mod logs;
mod mock;
mod net;
mod openai;
mod plan;
mod postgres;
pub mod raw_http;
mod redis_server;
mod relay_process;
mod reply;
pub mod requests;
mod sse;
mod stream;
mod stream_grammar;
pub mod tools;
mod wait;

pub use client::{DEFAULT_TIMEOUT, TestClient, TestResponse};
pub use mock::{MockUpstream, RecordedRequest, SentEvent};
pub use net::unused_local_addr;
pub use openai::ChatReply;
pub use postgres::{PostgresServer, postgres_bin_dir};
pub use redis_server::RedisServer;
pub use relay_process::{LISTENING_PREFIX, RelayOptions, RelayProcess, Signal};
pub use reply::MockReply;
pub use sse::parse_sse;
pub use stream::TestStream;
pub use stream_grammar::{StreamOutcome, check_anthropic_stream};
