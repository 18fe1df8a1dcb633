//! Shared by the relay-tui tests: fixture stats and events, rendering an
//! `App` to text, and a mock admin API.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod mock_admin;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use relay_tui::{App, RequestEvent, Stats, render};
use serde_json::{Value, json};

/// The `/admin/stats` example of the contract, with a second provider whose
/// circuit is open and which an operator disabled.
pub fn stats_json() -> Value {
    // Parsed from text: as a `json!` literal it exceeds the macro recursion limit.
    serde_json::from_str(
        r#"{
    "version": "0.1.0", "uptime_secs": 3723.5, "config_generation": 3, "strategy": "failover",
    "read_only": true, "in_flight": 2, "latency_samples": 117, "requests_total": 120, "errors_total": 3, "requests_per_sec": 1.7,
    "latency_ms": {"p50": 812.0, "p90": 2100.0, "p99": 5400.0},
    "ttfb_ms": {"p50": 350.0, "p90": 900.0, "p99": 1500.0},
    "overhead_ms": {"p50": 0.08, "p90": 0.15, "p99": 0.9},
    "tokens": {"input": 123456, "output": 7890, "cache_read": 100, "cache_creation": 50},
    "affinity_entries": 4,
    "providers": [
        { "name": "anthropic", "type": "anthropic", "enabled": true, "disabled_by_operator": false,
          "active": true, "circuit": "closed", "circuit_open_until_secs": null, "in_flight": 1,
          "latency_ms": 420.0, "requests": 100, "errors": 2,
          "keys": [
            { "id": "1a2b3c4d", "in_flight": 1, "headroom": 0.82,
              "requests": {"limit": 50, "remaining": 41, "resets_in_secs": 12.0},
              "input_tokens": {"limit": 30000, "remaining": 25000, "resets_in_secs": 12.0},
              "output_tokens": {"limit": 8000, "remaining": 7000, "resets_in_secs": 12.0},
              "cooling_down_for_secs": null, "disabled_reason": null },
            { "id": "5e6f7a8b", "in_flight": 0, "headroom": 0.0,
              "requests": {"limit": 50, "remaining": 0, "resets_in_secs": 31.0},
              "input_tokens": {"limit": null, "remaining": null, "resets_in_secs": null},
              "output_tokens": {"limit": null, "remaining": null, "resets_in_secs": null},
              "cooling_down_for_secs": 31.0, "disabled_reason": null }
          ] },
        { "name": "zai", "type": "zai", "enabled": true, "disabled_by_operator": true,
          "active": false, "circuit": "open", "circuit_open_until_secs": 25.0, "in_flight": 0,
          "latency_ms": null, "requests": 20, "errors": 5,
          "keys": [
            { "id": "9c0d1e2f", "in_flight": 0, "headroom": null,
              "requests": {"limit": null, "remaining": null, "resets_in_secs": null},
              "cooling_down_for_secs": null, "disabled_reason": "invalid key (401)" }
          ] }
    ]
}"#,
    )
    .unwrap()
}

pub fn stats() -> Stats {
    serde_json::from_value(stats_json()).unwrap()
}

/// A completed request as `/admin/events` sends it.
pub fn event_json(seconds: u32, provider: &str, model: &str, status: u16) -> Value {
    json!({
        "id": format!("req-{seconds}"), "time": format!("2025-06-01T12:03:{seconds:02}.250Z"),
        "method": "POST", "path": "/v1/messages", "provider": provider, "key_id": "1a2b3c4d",
        "model": model, "status": status, "stream": true, "latency_ms": 812.4, "ttfb_ms": 351.0,
        "overhead_ms": 0.09, "input_tokens": 1234, "output_tokens": 56, "cache_read_tokens": 0,
        "cache_creation_tokens": 0, "failovers": [], "outcome": "complete"
    })
}

pub fn event(seconds: u32, provider: &str, model: &str, status: u16) -> RequestEvent {
    serde_json::from_value(event_json(seconds, provider, model, status)).unwrap()
}

/// An app connected to the fixture relay, with two polls and three requests.
pub fn sample_app() -> App {
    let mut app = App::new("http://127.0.0.1:8787");
    let mut earlier = stats();
    earlier.uptime_secs -= 2.0;
    earlier.requests_total -= 3;
    earlier.latency_ms.p50 = Some(640.0);
    app.apply_stats(earlier);
    app.apply_stats(stats());
    app.events_live = true;
    app.apply_event(event(1, "zai", "glm-4.6", 529));
    app.apply_event(event(2, "anthropic", "claude-haiku-4-5", 200));
    app.apply_event(event(4, "anthropic", "claude-sonnet-4-5", 200));
    app
}

/// Renders `app` on a `width`×`height` `TestBackend`; one string per row,
/// trailing spaces removed.
pub fn render_lines(app: &App, width: u16, height: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| render(frame, app)).unwrap();
    let buffer = terminal.backend().buffer();
    (0..height)
        .map(|y| {
            let row: String = (0..width).map(|x| buffer[(x, y)].symbol()).collect();
            row.trim_end().to_owned()
        })
        .collect()
}

pub fn render_text(app: &App, width: u16, height: u16) -> String {
    render_lines(app, width, height).join("\n")
}

/// The rendered row containing `needle`, or a panic showing the screen.
pub fn line_with(lines: &[String], needle: &str) -> String {
    lines
        .iter()
        .find(|l| l.contains(needle))
        .cloned()
        .unwrap_or_else(|| panic!("no line contains {needle:?}:\n{}", lines.join("\n")))
}
