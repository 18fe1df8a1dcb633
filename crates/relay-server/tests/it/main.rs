//! The server's behaviour, in process: `relay_server::Server` on
//! 127.0.0.1:0 inside each test's runtime, in front of mock upstreams
//! (`relay-test-support`). One test binary, one module per behaviour;
//! `bins/relay-cli/tests` keeps only what needs the binary (CLI, signals,
//! log files, SDK smoke tests).
//!
//! Tests that wait on a timeout run with paused tokio time
//! (`start_paused = true`): the runtime jumps to the next timer whenever
//! every task is idle, so a 30 s timeout costs no wall time and cannot race
//! a slow machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod faults;
mod hostile_input;
mod hostile_protocol;
mod relay_http;
mod relay_streaming;
mod routing;
