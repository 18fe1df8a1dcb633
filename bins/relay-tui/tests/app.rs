//! The dashboard's state machine without a terminal or a network: stats and
//! events in, keys to actions, and the contract's JSON read leniently.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use relay_tui::{Action, App, Circuit, ClientError, Connection, LOG_CAPACITY, Msg, Pane, Stats};
use serde_json::json;
use support::*;

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

#[test]
fn the_contract_example_parses_in_full() {
    let stats = stats();
    assert_eq!(stats.version, "0.1.0");
    assert_eq!(stats.config_generation, 3);
    assert_eq!(stats.latency_ms.p99, Some(5400.0));
    assert_eq!(stats.tokens.cache_creation, 50);
    let zai = &stats.providers[1];
    assert_eq!(zai.kind, "zai");
    assert_eq!(zai.circuit, Circuit::Open);
    assert!(zai.disabled_by_operator);
    let key = &stats.providers[0].keys[0];
    assert_eq!(key.requests.remaining, Some(41));
    assert_eq!(key.headroom, Some(0.82));
    assert_eq!(stats.providers[0].keys_available(), (1, 2));
    assert_eq!(zai.keys_available(), (0, 1));
}

#[test]
fn partial_null_and_unknown_fields_are_tolerated() {
    let stats: Stats = serde_json::from_value(json!({
        "version": null,
        "requests_total": 7,
        "latency_ms": null,
        "a_field_from_the_future": {"x": 1},
        "providers": [
            {"name": "bare"},
            {"name": "odd", "circuit": "quarantined", "enabled": null, "keys": [
                {"id": "k", "requests": {"limit": null, "remaining": null}, "input_tokens": null}
            ]}
        ]
    }))
    .unwrap();
    assert_eq!(stats.version, "");
    assert_eq!(stats.requests_total, 7);
    assert_eq!(stats.latency_ms.p50, None);
    let bare = &stats.providers[0];
    assert!(bare.enabled && bare.active, "unreported means usable");
    assert_eq!(bare.circuit, Circuit::Unknown);
    let odd = &stats.providers[1];
    assert_eq!(odd.circuit, Circuit::Unknown);
    assert!(odd.enabled);
    assert_eq!(odd.keys[0].requests.limit, None);
    assert_eq!(odd.keys_available(), (1, 1));

    let empty: Stats = serde_json::from_str("{}").unwrap();
    assert!(empty.providers.is_empty());
    assert_eq!(empty.read_only, None);

    // Zeros over no samples are unknown, not fast.
    let idle: Stats = serde_json::from_value(json!({
        "latency_samples": 0, "latency_ms": {"p50": 0.0, "p90": 0.0, "p99": 0.0}
    }))
    .unwrap();
    assert_eq!(idle.percentiles()[0].p50, None);
    assert_eq!(support::stats().percentiles()[0].p50, Some(812.0));
}

#[test]
fn stats_select_the_first_provider_and_keep_the_selection_by_name() {
    let mut app = App::new("http://relay");
    assert_eq!(app.connection, Connection::Connecting);
    app.apply_stats(stats());
    assert_eq!(app.connection, Connection::Connected);
    assert_eq!(app.selected.as_deref(), Some("anthropic"));

    app.on_key(press(KeyCode::Down));
    assert_eq!(app.selected.as_deref(), Some("zai"));
    app.on_key(press(KeyCode::Down));
    assert_eq!(app.selected.as_deref(), Some("zai"), "stops at the end");

    // Reordered: the selection follows the name.
    let mut reordered = stats();
    reordered.providers.reverse();
    app.apply_stats(reordered);
    assert_eq!(app.selected.as_deref(), Some("zai"));
    assert_eq!(app.selected_index(), Some(0));

    // Removed: back to the first.
    let mut removed = stats();
    removed.providers.retain(|p| p.name != "zai");
    app.apply_stats(removed);
    assert_eq!(app.selected.as_deref(), Some("anthropic"));
    app.on_key(press(KeyCode::Up));
    assert_eq!(
        app.selected.as_deref(),
        Some("anthropic"),
        "stops at the top"
    );
}

#[test]
fn keys_map_to_actions() {
    let mut app = sample_app();
    assert_eq!(
        app.on_key(press(KeyCode::Char('d'))),
        Action::Disable("anthropic".into())
    );
    assert_eq!(app.notice.as_ref().unwrap().text, "disabling anthropic…");
    assert_eq!(
        app.on_key(press(KeyCode::Char('e'))),
        Action::Enable("anthropic".into())
    );
    assert_eq!(app.on_key(press(KeyCode::Char('r'))), Action::Reload);
    for quit in [
        press(KeyCode::Char('q')),
        press(KeyCode::Esc),
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
    ] {
        assert_eq!(app.on_key(quit), Action::Quit);
    }
    let mut release = press(KeyCode::Char('q'));
    release.kind = KeyEventKind::Release;
    assert_eq!(app.on_key(release), Action::None);
    assert_eq!(app.on_key(press(KeyCode::Char('x'))), Action::None);

    // Through `update`, as the event loop delivers them.
    assert_eq!(
        app.update(Msg::Key(press(KeyCode::Char('q')))),
        Action::Quit
    );
}

#[test]
fn without_stats_there_is_nothing_to_disable() {
    let mut app = App::new("http://relay");
    assert_eq!(app.on_key(press(KeyCode::Char('d'))), Action::None);
    let notice = app.notice.clone().unwrap();
    assert!(notice.is_error);
    assert_eq!(notice.text, "no provider selected");
}

#[test]
fn tab_cycles_panes_and_arrows_scroll_the_focused_one() {
    let mut app = sample_app();
    assert_eq!(app.focus, Pane::Providers);
    app.on_key(press(KeyCode::Tab));
    assert_eq!(app.focus, Pane::Keys);
    app.on_key(press(KeyCode::Down));
    assert_eq!(app.keys_scroll, 1);
    assert_eq!(
        app.selected.as_deref(),
        Some("anthropic"),
        "↓ in keys does not move the provider"
    );
    app.on_key(press(KeyCode::Down));
    assert_eq!(app.keys_scroll, 1, "anthropic has two keys");
    app.on_key(press(KeyCode::Tab));
    assert_eq!(app.focus, Pane::Log);
    app.on_key(press(KeyCode::PageDown));
    assert_eq!(app.log_scroll, 2, "three lines: at most two scrolled away");
    app.on_key(press(KeyCode::Tab));
    assert_eq!(app.focus, Pane::Providers);
    app.on_key(press(KeyCode::BackTab));
    assert_eq!(app.focus, Pane::Log);
}

#[test]
fn the_log_is_newest_first_and_bounded() {
    let mut app = App::new("http://relay");
    for i in 0..(LOG_CAPACITY + 25) {
        let mut e = event(0, "anthropic", "m", 200);
        e.id = format!("req-{i}");
        app.apply_event(e);
    }
    assert_eq!(app.log.len(), LOG_CAPACITY);
    assert_eq!(
        app.log.front().unwrap().id,
        format!("req-{}", LOG_CAPACITY + 24)
    );
    assert_eq!(app.log.back().unwrap().id, "req-25");
}

#[test]
fn a_scrolled_back_log_stays_on_the_same_lines() {
    let mut app = sample_app();
    app.log_scroll = 1;
    let shown = app.log[1].id.clone();
    app.apply_event(event(5, "anthropic", "m", 200));
    assert_eq!(app.log[app.log_scroll].id, shown);
}

#[test]
fn rates_come_from_successive_polls() {
    let mut app = App::new("http://relay");
    let mut first = stats();
    first.uptime_secs = 10.0;
    first.requests_total = 100;
    first.requests_per_sec = 1.7;
    app.apply_stats(first.clone());
    // The first point is the relay's own figure.
    assert_eq!(app.rate_history.back(), Some(&170));

    let mut second = first.clone();
    second.uptime_secs = 12.0;
    second.requests_total = 104;
    app.apply_stats(second);
    assert_eq!(app.rate_history.back(), Some(&200), "4 requests in 2 s");
    assert_eq!(app.latency_history.back(), Some(&812));

    // A restarted relay (uptime and counters back to zero): its own figure again.
    let mut restarted = first;
    restarted.uptime_secs = 1.0;
    restarted.requests_total = 1;
    restarted.requests_per_sec = 0.5;
    app.apply_stats(restarted);
    assert_eq!(app.rate_history.back(), Some(&50));
}

#[test]
fn failures_change_the_connection_but_keep_the_data() {
    let mut app = sample_app();
    app.update(Msg::StatsFailed {
        error: ClientError::Unreachable("refused".into()),
        retry_in: Duration::from_millis(500),
    });
    assert!(matches!(app.connection, Connection::Disconnected { .. }));
    assert!(app.stats.is_some());
    assert_eq!(app.log.len(), 3);
    app.update(Msg::EventsLost("reset".into()));
    assert!(!app.events_live);
    app.update(Msg::EventsConnected);
    assert!(app.events_live);
    app.update(Msg::StatsFailed {
        error: ClientError::NotEnabled,
        retry_in: Duration::from_secs(3),
    });
    assert_eq!(app.connection, Connection::AdminDisabled);
    app.update(Msg::Stats(Box::new(stats())));
    assert_eq!(app.connection, Connection::Connected);
}
