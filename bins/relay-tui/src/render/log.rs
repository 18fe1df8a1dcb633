//! The live request log from `/admin/events`, newest at the top.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::pane_block;
use crate::app::{App, Pane};
use crate::format;
use relay_admin_api::RequestEvent;

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let live = if app.events_live {
        Span::styled("live", Style::new().fg(Color::Green))
    } else {
        Span::styled("paused: no event stream", Style::new().fg(Color::Yellow))
    };
    let title = Line::from(vec![Span::raw(" Requests · "), live, Span::raw(" ")]);
    let block = pane_block(title, Some(Pane::Log), app);
    if app.log.is_empty() {
        let text = if app.events_live {
            "no requests yet"
        } else {
            "waiting for /admin/events…"
        };
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let header = Row::new([
        "TIME", "PROVIDER", "KEY", "MODEL", "STATUS", "LATENCY", "IN", "OUT", "NOTE",
    ])
    .style(
        Style::new()
            .fg(Color::DarkGray)
            .add_modifier(Modifier::BOLD),
    );
    let rows = app.log.iter().skip(app.log_scroll).map(log_row);
    let widths = [
        Constraint::Length(8),
        Constraint::Length(12),
        Constraint::Length(8),
        Constraint::Fill(1),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Fill(1),
    ];
    frame.render_widget(Table::new(rows, widths).header(header).block(block), area);
}

fn log_row(event: &RequestEvent) -> Row<'static> {
    let status_color = match event.status {
        200..300 => Color::Green,
        400..500 => Color::Yellow,
        _ => Color::Red,
    };
    let dash = || "-".to_owned();
    let tokens = |n: Option<u64>| format!("{:>7}", n.map_or_else(dash, format::compact));
    let mut notes = Vec::new();
    if event.stream {
        notes.push("sse".to_owned());
    }
    if !event.failovers.is_empty() {
        notes.push(format!("↻{}", event.failovers.len()));
    }
    if let Some(outcome) = event
        .outcome
        .as_deref()
        .filter(|o| !matches!(*o, "complete" | "ok"))
    {
        notes.push(outcome.to_owned());
    }
    Row::new([
        Cell::new(format::clock(&event.time)),
        Cell::new(event.provider.clone().unwrap_or_else(dash)),
        Cell::new(event.key_id.clone().unwrap_or_else(dash)),
        Cell::new(event.model.clone().unwrap_or_else(dash)),
        Cell::new(Span::styled(
            format!("{:>6}", event.status),
            Style::new().fg(status_color),
        )),
        Cell::new(format!("{:>8}", format::opt_millis(event.latency_ms))),
        Cell::new(tokens(event.input_tokens)),
        Cell::new(tokens(event.output_tokens)),
        Cell::new(notes.join(" ")),
    ])
}
