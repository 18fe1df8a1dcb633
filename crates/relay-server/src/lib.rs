//! # relay-server
//!
//! The cc-relay HTTP server: a hyper 1 listener (HTTP/1.1 and h2c) in front of
//! the request path ([`path`](crate::path): named phases from accept to
//! telemetry, and a route table) whose relay handler sends `/v1/messages` to
//! providers chosen by the router, streaming every SSE event through as soon
//! as it is complete. A [`Reloader`] puts a changed
//! configuration file into service without dropping a request.
//!
//! Every request's telemetry (route, timings, tokens) is recorded once when
//! its response ends and feeds the Prometheus metrics (`GET /metrics`), the
//! management API (`/admin/stats`, `/admin/events`) and the access log.
//!
//! This is the top library crate: it composes `relay-config`, `relay-auth`,
//! `relay-providers` and `relay-router`. None of them may depend on it.

mod admin;
mod body;
mod health_check;
mod metrics_listener;
mod path;
mod reload;
mod runtime;
mod serve;
mod state;
mod telemetry;
mod upstream;

pub use reload::{
    ReloadError, ReloadReport, ReloadTrigger, Reloader, RestartRequired, SettingValue,
};
pub use runtime::{PrepareError, Runtime};
pub use serve::{Server, ServerError};
pub use state::AppState;
pub use telemetry::Telemetry;
