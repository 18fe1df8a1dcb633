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
mod format;
mod input;
mod render;
mod run;
mod workers;

pub use app::{Action, App, Connection, HISTORY_CAPACITY, LOG_CAPACITY, Msg, Notice, Pane};
// The admin contract and client, shared with `cc-relay status`.
pub use input::HELP;
pub use relay_admin_api::{
    AdminClient, Circuit, ClientError, EventStream, KeyStats, Limit, Percentiles, ProviderStats,
    RequestEvent, Stats, Tokens, normalize_url,
};
pub use render::render;
pub use run::run;
pub use workers::{BACKOFF_MAX, BACKOFF_START, Backoff, Workers};
