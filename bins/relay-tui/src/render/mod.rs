//! Drawing an [`App`] into a frame. Pure: the same state always draws the
//! same buffer, so tests render on ratatui's `TestBackend` and read it back.

mod charts;
mod log;
mod providers;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::app::{App, Connection, Pane};
use crate::format;
use crate::input::HELP;

/// Draws the whole dashboard.
pub fn render(frame: &mut Frame<'_>, app: &App) {
    let [header, top, charts, log, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(6),
        Constraint::Fill(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    render_header(frame, header, app);
    let [providers, keys] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(top);
    providers::render_providers(frame, providers, app);
    providers::render_keys(frame, keys, app);
    charts::render(frame, charts, app);
    log::render(frame, log, app);
    render_footer(frame, footer, app);
}

/// A bordered pane, highlighted when it has the focus.
fn pane_block(title: Line<'static>, pane: Option<Pane>, app: &App) -> Block<'static> {
    let focused = pane.is_some_and(|p| p == app.focus);
    let border = if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new().fg(Color::DarkGray)
    };
    let title_style = if focused {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    };
    Block::bordered()
        .border_style(border)
        .title(title.style(title_style))
}

/// One line: the relay, what it runs, and whether we are connected to it.
fn render_header(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let dim = Style::new().fg(Color::DarkGray);
    let mut spans = vec![
        Span::styled(" cc-relay ", Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(app.url.clone()),
        Span::raw("  "),
        // Before the details, so a narrow terminal cuts those instead.
        connection_span(&app.connection),
    ];
    if let Some(stats) = &app.stats {
        for (label, value) in [
            ("v", stats.version.clone()),
            ("up ", format::duration(stats.uptime_secs)),
            ("gen ", stats.config_generation.to_string()),
            ("", stats.strategy.clone()),
            ("in flight ", stats.in_flight.to_string()),
        ] {
            if !value.is_empty() {
                spans.push(Span::styled("  ", dim));
                spans.push(Span::styled(label, dim));
                spans.push(Span::raw(value));
            }
        }
        if stats.read_only == Some(true) {
            spans.push(Span::styled("  read-only", Style::new().fg(Color::Yellow)));
        }
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn connection_span(connection: &Connection) -> Span<'static> {
    let bold = Modifier::BOLD;
    match connection {
        Connection::Connecting => Span::styled("connecting…", Style::new().fg(Color::Yellow)),
        Connection::Connected => Span::styled(
            "● connected",
            Style::new().fg(Color::Green).add_modifier(bold),
        ),
        Connection::Disconnected { reason, retry_in } => Span::styled(
            format!(
                "✖ disconnected — retrying in {} ({reason})",
                format::duration(retry_in.as_secs_f64().max(1.0))
            ),
            Style::new().fg(Color::Red).add_modifier(bold),
        ),
        Connection::AdminDisabled => Span::styled(
            "admin API not enabled (set server.admin.token)",
            Style::new().fg(Color::Yellow).add_modifier(bold),
        ),
        Connection::Unauthorized(message) => Span::styled(
            message.clone(),
            Style::new().fg(Color::Red).add_modifier(bold),
        ),
    }
}

/// The status line: the last notice, and the keys when there is room.
fn render_footer(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let help = Span::styled(HELP, Style::new().fg(Color::DarkGray));
    let Some(notice) = &app.notice else {
        frame.render_widget(Paragraph::new(help).right_aligned(), area);
        return;
    };
    let style = if notice.is_error {
        Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::Green)
    };
    let text = format!(" {}", notice.text);
    let needed = text.chars().count() + 2 + HELP.chars().count();
    let mut spans = vec![Span::styled(text, style)];
    // The notice wins: it is what the user is waiting to read.
    if needed <= usize::from(area.width) {
        let gap = usize::from(area.width) - needed + 2;
        spans.push(Span::raw(" ".repeat(gap)));
        spans.push(help);
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
