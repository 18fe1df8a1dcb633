//! # relay-tui
//!
//! `cc-relay-tui`, a terminal dashboard for a running cc-relay, read from its
//! admin API (`/admin/stats`, `/admin/events`).
//!
//! The parts are kept apart so each can be tested alone:
//! - [`App`]: the state, changed only by pure functions ([`App::update`],
//!   [`App::apply_stats`], [`App::apply_event`], [`App::on_key`] → [`Action`]);
//! - [`render`]: draws an `App` into a ratatui frame (tests use `TestBackend`);
//! - [`AdminClient`] and [`Workers`]: the HTTP side, which polls, follows the
//!   event stream, carries out writes and reconnects, reporting [`Msg`]s;
//! - [`run`]: the terminal and the event loop that ties them together.

mod app;
mod client;
mod format;
mod input;
mod render;
mod run;
mod stats;
mod workers;

pub use app::{Action, App, Connection, HISTORY_CAPACITY, LOG_CAPACITY, Msg, Notice, Pane};
pub use client::{AdminClient, ClientError, EventStream, normalize_url};
pub use input::HELP;
pub use render::render;
pub use run::run;
pub use stats::{
    Circuit, KeyStats, Limit, Percentiles, ProviderStats, RequestEvent, Stats, Tokens,
};
pub use workers::{BACKOFF_MAX, BACKOFF_START, Backoff, Workers};
