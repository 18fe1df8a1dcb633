//! The dashboard drawn on ratatui's `TestBackend`: fixed states in, the
//! rendered buffer's text checked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use relay_tui::{Action, App, ClientError, Msg, Pane};
use support::*;

const W: u16 = 120;
const H: u16 = 36;

#[test]
fn header_shows_the_relay_and_the_connection() {
    let lines = render_lines(&sample_app(), W, H);
    let header = &lines[0];
    for part in [
        "cc-relay",
        "http://127.0.0.1:8787",
        "v0.1.0",
        "up 1h 02m",
        "gen 3",
        "failover",
        "in flight 2",
        "read-only",
        "● connected",
    ] {
        assert!(header.contains(part), "{part:?} missing from {header:?}");
    }
}

#[test]
fn providers_show_circuit_state_counts_and_the_disabled_marker() {
    let lines = render_lines(&sample_app(), W, H);
    let anthropic = line_with(&lines, "▶ anthropic");
    for part in ["closed", "420 ms", "100", "1/2", "active"] {
        assert!(
            anthropic.contains(part),
            "{part:?} missing from {anthropic:?}"
        );
    }
    let zai = line_with(&lines, "zai ");
    for part in ["open 25s", "20", "5", "0/1", "disabled"] {
        assert!(zai.contains(part), "{part:?} missing from {zai:?}");
    }
    line_with(&lines, "CIRCUIT");
}

#[test]
fn keys_of_the_selected_provider_have_capacity_bars() {
    let mut app = sample_app();
    let lines = render_lines(&app, W, H);
    line_with(&lines, "Keys · anthropic");
    let first = line_with(&lines, "1a2b3c4d");
    assert!(first.contains("82% free"), "{first}");
    let requests = line_with(&lines, "41/50");
    assert!(requests.contains("requests █"), "{requests}");
    assert!(
        requests.contains('░'),
        "a partly used limit shows both: {requests}"
    );
    assert!(requests.contains("↻12s"), "{requests}");
    line_with(&lines, "25k/30k");
    line_with(&lines, "7.0k/8.0k");
    let cooling = line_with(&lines, "5e6f7a8b");
    assert!(cooling.contains("cooling 31s"), "{cooling}");
    let empty = line_with(&lines, "0/50");
    assert!(
        !empty.contains('█'),
        "no capacity, no filled cells: {empty}"
    );
    assert!(line_with(&lines, "unknown").contains('·'));

    // Selecting the next provider shows its keys instead.
    app.on_key(key('j'));
    let lines = render_lines(&app, W, H);
    line_with(&lines, "Keys · zai");
    line_with(&lines, "9c0d1e2f");
    line_with(&lines, "disabled: invalid key (401)");
    assert!(!lines.iter().any(|l| l.contains("1a2b3c4d  in-flight")));
}

#[test]
fn rates_latency_and_token_totals() {
    let lines = render_lines(&sample_app(), W, H);
    // 3 requests in the 2 s between the two polls.
    line_with(&lines, "Rate 1.50/s · total 120 · errors 3");
    line_with(&lines, "Latency p50 812 ms · p99 5.4 s · ttfb 350 ms");
    assert!(line_with(&lines, "123,456").contains("│input "));
    assert!(line_with(&lines, "7,890").contains("│output "));
    assert!(line_with(&lines, "cache read").ends_with("100   │"));
    assert!(line_with(&lines, "cache write").ends_with("50   │"));
}

#[test]
fn the_request_log_is_newest_first() {
    let lines = render_lines(&sample_app(), W, H);
    line_with(&lines, "Requests · live");
    let sonnet = lines
        .iter()
        .position(|l| l.contains("claude-sonnet-4-5"))
        .unwrap();
    let haiku = lines
        .iter()
        .position(|l| l.contains("claude-haiku-4-5"))
        .unwrap();
    let glm = lines.iter().position(|l| l.contains("glm-4.6")).unwrap();
    assert!(
        sonnet < haiku && haiku < glm,
        "newest at the top:\n{}",
        lines.join("\n")
    );
    let row = &lines[sonnet];
    for part in [
        "12:03:04",
        "anthropic",
        "1a2b3c4d",
        "200",
        "812 ms",
        "1.2k",
        "56",
        "sse",
    ] {
        assert!(row.contains(part), "{part:?} missing from {row:?}");
    }
    assert!(lines[glm].contains("529"));
}

#[test]
fn failovers_and_unusual_outcomes_are_noted() {
    let mut app = sample_app();
    let mut event = event(9, "anthropic", "claude-opus-4-1", 200);
    event.failovers = vec!["rate_limited".into(), "overloaded".into()];
    event.outcome = Some("client_closed".to_owned());
    app.apply_event(event);
    let row = line_with(&render_lines(&app, W, H), "claude-opus-4-1");
    assert!(row.contains("↻2"), "{row}");
    assert!(row.contains("client_closed"), "{row}");
}

#[test]
fn a_read_only_relay_says_so_in_the_status_line() {
    let mut app = sample_app();
    assert_eq!(
        app.on_key(key('d')),
        Action::Disable("anthropic".to_owned())
    );
    assert!(line_with(&render_lines(&app, W, H), "disabling anthropic").starts_with(' '));
    app.update(Msg::ActionDone {
        action: Action::Disable("anthropic".to_owned()),
        result: Err(ClientError::ReadOnly(
            "the admin API is read-only: set server.admin.read_only: false to allow write actions"
                .to_owned(),
        )),
    });
    let lines = render_lines(&app, W, H);
    let footer = lines.last().unwrap();
    assert!(footer.contains("the admin API is read-only"), "{footer}");

    app.update(Msg::ActionDone {
        action: Action::Enable("zai".to_owned()),
        result: Ok(()),
    });
    assert!(
        render_lines(&app, W, H)
            .last()
            .unwrap()
            .contains("provider zai enabled")
    );
}

#[test]
fn losing_the_relay_keeps_the_last_data_on_screen() {
    let mut app = sample_app();
    app.update(Msg::StatsFailed {
        error: ClientError::Unreachable("connection refused".to_owned()),
        retry_in: Duration::from_secs(2),
    });
    app.update(Msg::EventsLost("connection reset".to_owned()));
    let lines = render_lines(&app, W, H);
    assert!(
        lines[0].contains("disconnected — retrying in 2s"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("connection refused"), "{}", lines[0]);
    line_with(&lines, "▶ anthropic");
    line_with(&lines, "claude-sonnet-4-5");
    line_with(&lines, "Requests · paused");

    app.update(Msg::Stats(Box::new(stats())));
    assert!(render_lines(&app, W, H)[0].contains("● connected"));
}

#[test]
fn a_relay_without_the_admin_api_is_explained() {
    let mut app = App::new("http://127.0.0.1:8787");
    let lines = render_lines(&app, W, H);
    assert!(lines[0].contains("connecting…"));
    line_with(&lines, "waiting for /admin/stats");
    app.update(Msg::StatsFailed {
        error: ClientError::NotEnabled,
        retry_in: Duration::from_secs(3),
    });
    assert!(render_lines(&app, W, H)[0].contains("admin API not enabled"));
    app.update(Msg::StatsFailed {
        error: ClientError::Unauthorized {
            status: 401,
            message: "invalid admin token".to_owned(),
        },
        retry_in: Duration::from_secs(3),
    });
    assert!(render_lines(&app, W, H)[0].contains("refused the admin token (401)"));
}

#[test]
fn the_focused_pane_is_highlighted() {
    use ratatui::style::Color;
    let mut app = sample_app();
    app.focus = Pane::Log;
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(W, H)).unwrap();
    terminal.draw(|f| relay_tui::render(f, &app)).unwrap();
    let buffer = terminal.backend().buffer();
    let lines = render_lines(&app, W, H);
    let log_top = lines
        .iter()
        .position(|l| l.contains("Requests · live"))
        .unwrap();
    let providers_top = lines.iter().position(|l| l.contains("Providers")).unwrap();
    let log_border = buffer[(0, u16::try_from(log_top).unwrap())].fg;
    let providers_border = buffer[(0, u16::try_from(providers_top).unwrap())].fg;
    assert_eq!(log_border, Color::Cyan);
    assert_eq!(providers_border, Color::DarkGray);
}

#[test]
fn small_terminals_do_not_break_rendering() {
    let app = sample_app();
    for (w, h) in [(40, 12), (80, 24), (20, 5), (1, 1)] {
        let lines = render_lines(&app, w, h);
        assert_eq!(lines.len(), usize::from(h));
    }
}

fn key(c: char) -> ratatui::crossterm::event::KeyEvent {
    ratatui::crossterm::event::KeyEvent::from(ratatui::crossterm::event::KeyCode::Char(c))
}
