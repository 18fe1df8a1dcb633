//! The dashboard's state and the pure functions that change it.
//!
//! Nothing here does I/O or reads the clock: the event loop feeds in what
//! happened ([`Msg`]) and carries out what the state asks for ([`Action`]),
//! so tests can drive every transition and render any state.

use std::collections::VecDeque;
use std::time::Duration;

use ratatui::crossterm::event::KeyEvent;

use relay_admin_api::ClientError;
use relay_admin_api::{ProviderStats, RequestEvent, Stats};

/// The most request log lines kept.
pub const LOG_CAPACITY: usize = 500;
/// The most points a sparkline keeps (wider than any terminal needs).
pub const HISTORY_CAPACITY: usize = 300;

/// What happened, as the event loop reports it.
#[derive(Debug)]
pub enum Msg {
    /// A `GET /admin/stats` answer.
    Stats(Box<Stats>),
    /// `GET /admin/stats` failed; the next try is in `retry_in`.
    StatsFailed {
        error: ClientError,
        retry_in: Duration,
    },
    /// The `/admin/events` stream is open.
    EventsConnected,
    /// The `/admin/events` stream ended or could not be opened.
    EventsLost(String),
    /// One completed request from the event stream.
    Request(Box<RequestEvent>),
    /// A write (disable, enable, reload) finished.
    ActionDone {
        action: Action,
        result: Result<(), ClientError>,
    },
    Key(KeyEvent),
    /// Nothing changed but the screen must be drawn again (a resize).
    Redraw,
}

/// What the event loop should do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    None,
    Quit,
    Disable(String),
    Enable(String),
    Reload,
}

impl Action {
    /// What it did, for the status line: `provider zai disabled`.
    pub fn done_message(&self) -> String {
        match self {
            Self::Disable(name) => format!("provider {name} disabled"),
            Self::Enable(name) => format!("provider {name} enabled"),
            Self::Reload => "configuration reloaded".to_owned(),
            Self::None | Self::Quit => String::new(),
        }
    }
}

/// The focused pane; Tab cycles through them in this order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Pane {
    #[default]
    Providers,
    Keys,
    Log,
}

impl Pane {
    pub fn next(self) -> Self {
        match self {
            Self::Providers => Self::Keys,
            Self::Keys => Self::Log,
            Self::Log => Self::Providers,
        }
    }

    pub fn previous(self) -> Self {
        match self {
            Self::Providers => Self::Log,
            Self::Keys => Self::Providers,
            Self::Log => Self::Keys,
        }
    }
}

/// How the dashboard is connected to the relay.
#[derive(Clone, Debug, PartialEq)]
pub enum Connection {
    /// Before the first answer.
    Connecting,
    Connected,
    /// The relay did not answer; the last data stays on screen.
    Disconnected {
        reason: String,
        retry_in: Duration,
    },
    /// The relay answers but `/admin/*` is 404: no `server.admin.token`.
    AdminDisabled,
    /// The relay refused the admin token (401/403).
    Unauthorized(String),
}

/// A message in the status line at the bottom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
}

/// Everything the dashboard shows.
#[derive(Clone, Debug)]
pub struct App {
    /// The relay's base URL, for the header.
    pub url: String,
    pub connection: Connection,
    pub events_live: bool,
    /// The latest stats; kept while disconnected.
    pub stats: Option<Stats>,
    pub focus: Pane,
    /// The selected provider, by name so it survives reordering.
    pub selected: Option<String>,
    /// The first key shown in the keys pane.
    pub keys_scroll: usize,
    /// The first line shown in the log pane.
    pub log_scroll: usize,
    /// Completed requests, newest first.
    pub log: VecDeque<RequestEvent>,
    /// Requests per second at each poll, in hundredths (sparklines take integers).
    pub rate_history: VecDeque<u64>,
    /// Median latency in ms at each poll.
    pub latency_history: VecDeque<u64>,
    pub notice: Option<Notice>,
}

impl App {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            connection: Connection::Connecting,
            events_live: false,
            stats: None,
            focus: Pane::default(),
            selected: None,
            keys_scroll: 0,
            log_scroll: 0,
            log: VecDeque::new(),
            rate_history: VecDeque::new(),
            latency_history: VecDeque::new(),
            notice: None,
        }
    }

    /// Applies one message; returns what the event loop should do.
    pub fn update(&mut self, msg: Msg) -> Action {
        match msg {
            Msg::Stats(stats) => self.apply_stats(*stats),
            Msg::StatsFailed { error, retry_in } => self.apply_stats_error(&error, retry_in),
            Msg::EventsConnected => self.events_live = true,
            Msg::EventsLost(_) => self.events_live = false,
            Msg::Request(event) => self.apply_event(*event),
            Msg::ActionDone { action, result } => self.apply_action_result(&action, result),
            Msg::Key(key) => return self.on_key(key),
            Msg::Redraw => {}
        }
        Action::None
    }

    /// A new stats snapshot: the header, panes and sparklines follow it.
    pub fn apply_stats(&mut self, stats: Stats) {
        let rate = self.rate_since_last(&stats);
        push_bounded(&mut self.rate_history, to_hundredths(rate));
        let [latency, ..] = stats.percentiles();
        let p50 = latency.p50.unwrap_or(0.0);
        push_bounded(&mut self.latency_history, to_units(p50));
        let still_there = self
            .selected
            .as_ref()
            .is_some_and(|name| stats.providers.iter().any(|p| &p.name == name));
        if !still_there {
            self.selected = stats.providers.first().map(|p| p.name.clone());
            self.keys_scroll = 0;
        }
        self.stats = Some(stats);
        self.connection = Connection::Connected;
    }

    /// Requests per second between the previous poll and this one; the
    /// relay's own figure when there is no previous poll or it restarted.
    fn rate_since_last(&self, stats: &Stats) -> f64 {
        let Some(previous) = &self.stats else {
            return stats.requests_per_sec;
        };
        let elapsed = stats.uptime_secs - previous.uptime_secs;
        if elapsed > 0.0 && stats.requests_total >= previous.requests_total {
            // Counts stay far below 2^53.
            #[allow(clippy::cast_precision_loss)]
            let delta = (stats.requests_total - previous.requests_total) as f64;
            delta / elapsed
        } else {
            stats.requests_per_sec
        }
    }

    /// A failed poll: the data stays, the header says why.
    pub fn apply_stats_error(&mut self, error: &ClientError, retry_in: Duration) {
        self.connection = match error {
            ClientError::NotEnabled => Connection::AdminDisabled,
            ClientError::Unauthorized { .. } => Connection::Unauthorized(error.to_string()),
            _ => Connection::Disconnected {
                reason: error.to_string(),
                retry_in,
            },
        };
    }

    /// A completed request: to the top of the log, the oldest dropped.
    pub fn apply_event(&mut self, event: RequestEvent) {
        self.log.push_front(event);
        self.log.truncate(LOG_CAPACITY);
        // Keeps a scrolled-back view on the same lines.
        if self.log_scroll > 0 {
            self.log_scroll = (self.log_scroll + 1).min(self.log.len().saturating_sub(1));
        }
    }

    /// A write finished: its outcome in the status line.
    pub fn apply_action_result(&mut self, action: &Action, result: Result<(), ClientError>) {
        self.notice = Some(match result {
            Ok(()) => Notice {
                text: action.done_message(),
                is_error: false,
            },
            Err(error) => Notice {
                text: error.to_string(),
                is_error: true,
            },
        });
    }

    /// The selected provider's stats, if there are stats.
    pub fn selected_provider(&self) -> Option<&ProviderStats> {
        let stats = self.stats.as_ref()?;
        let name = self.selected.as_ref()?;
        stats.providers.iter().find(|p| &p.name == name)
    }

    /// The selected provider's position in the providers pane.
    pub fn selected_index(&self) -> Option<usize> {
        let stats = self.stats.as_ref()?;
        let name = self.selected.as_ref()?;
        stats.providers.iter().position(|p| &p.name == name)
    }

    /// Moves the provider selection by `delta` rows, stopping at the ends.
    pub fn move_selection(&mut self, delta: isize) {
        let Some(stats) = &self.stats else { return };
        if stats.providers.is_empty() {
            return;
        }
        let last = stats.providers.len() - 1;
        let current = self.selected_index().unwrap_or(0);
        let next = current.saturating_add_signed(delta).min(last);
        if next != current || self.selected.is_none() {
            self.selected = Some(stats.providers[next].name.clone());
            self.keys_scroll = 0;
        }
    }

    pub fn set_notice(&mut self, text: impl Into<String>, is_error: bool) {
        self.notice = Some(Notice {
            text: text.into(),
            is_error,
        });
    }
}

fn push_bounded(history: &mut VecDeque<u64>, value: u64) {
    if history.len() == HISTORY_CAPACITY {
        history.pop_front();
    }
    history.push_back(value);
}

fn to_hundredths(rate: f64) -> u64 {
    to_units(rate * 100.0)
}

fn to_units(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        // Saturating float-to-int cast is what a display wants.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let units = value.round() as u64;
        units
    } else {
        0
    }
}
