//! The providers pane (one row each, circuit in color) and the keys pane
//! (the selected provider's keys with remaining-capacity bars).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use super::pane_block;
use crate::app::{App, Pane};
use crate::format;
use relay_admin_api::{Circuit, KeyStats, Limit, ProviderStats};

pub fn render_providers(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let block = pane_block(Line::from(" Providers "), Some(Pane::Providers), app);
    let providers = app.stats.as_ref().map_or(&[][..], |s| &s.providers[..]);
    if providers.is_empty() {
        let text = if app.stats.is_some() {
            "no providers configured"
        } else {
            "waiting for /admin/stats…"
        };
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let header = Row::new([
        Cell::new("NAME"),
        Cell::new("TYPE"),
        Cell::new("CIRCUIT"),
        Cell::new(Line::from("INFL").right_aligned()),
        Cell::new(Line::from("LATENCY").right_aligned()),
        Cell::new(Line::from("REQS").right_aligned()),
        Cell::new(Line::from("ERRS").right_aligned()),
        Cell::new(Line::from("KEYS").right_aligned()),
        Cell::new("STATE"),
    ])
    .style(
        Style::new()
            .fg(Color::DarkGray)
            .add_modifier(Modifier::BOLD),
    );
    let rows = providers.iter().map(provider_row);
    let widest = |f: fn(&ProviderStats) -> usize, min: usize| {
        let width = providers.iter().map(f).max().unwrap_or(0).max(min);
        Constraint::Length(u16::try_from(width).unwrap_or(u16::MAX))
    };
    let widths = [
        widest(|p| p.name.chars().count(), 4),
        widest(|p| p.kind.chars().count(), 4),
        Constraint::Length(9),
        Constraint::Length(4),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Min(8),
    ];
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .highlight_symbol("▶ ")
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = TableState::new().with_selected(app.selected_index());
    frame.render_stateful_widget(table, area, &mut state);
}

fn provider_row(provider: &ProviderStats) -> Row<'static> {
    let circuit = match (provider.circuit, provider.circuit_open_until_secs) {
        (Circuit::Open, Some(secs)) if secs > 0.0 => format!("open {}", format::duration(secs)),
        (circuit, _) => circuit.label().to_owned(),
    };
    let circuit_color = match provider.circuit {
        Circuit::Closed => Color::Green,
        Circuit::HalfOpen => Color::Yellow,
        Circuit::Open => Color::Red,
        Circuit::Unknown => Color::DarkGray,
    };
    let (state, state_color) = if provider.disabled_by_operator {
        ("disabled", Color::Red)
    } else if !provider.enabled {
        ("off", Color::DarkGray)
    } else if !provider.active {
        ("inactive", Color::Yellow)
    } else {
        ("active", Color::Green)
    };
    let (available, total) = provider.keys_available();
    let errors_style = if provider.errors > 0 {
        Style::new().fg(Color::Yellow)
    } else {
        Style::new()
    };
    Row::new([
        Cell::new(provider.name.clone()),
        Cell::new(provider.kind.clone()),
        Cell::new(Span::styled(circuit, Style::new().fg(circuit_color))),
        Cell::new(right(provider.in_flight.to_string())),
        Cell::new(right(format::opt_millis(provider.latency_ms))),
        Cell::new(right(format::compact(provider.requests))),
        Cell::new(right(format::compact(provider.errors)).style(errors_style)),
        Cell::new(right(format!("{available}/{total}"))),
        Cell::new(Span::styled(state, Style::new().fg(state_color))),
    ])
}

/// Right-aligned in its column.
fn right(text: String) -> Line<'static> {
    Line::from(text).right_aligned()
}

pub fn render_keys(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let provider = app.selected_provider();
    let title = match provider {
        Some(p) => format!(" Keys · {} ", p.name),
        None => " Keys ".to_owned(),
    };
    let block = pane_block(Line::from(title), Some(Pane::Keys), app);
    let inner_width = usize::from(block.inner(area).width);
    let lines: Vec<Line<'static>> = match provider {
        None => vec![Line::from("no provider selected")],
        Some(p) if p.keys.is_empty() => vec![Line::from(
            "no keys: the client's own credentials pass through",
        )],
        Some(p) => p
            .keys
            .iter()
            .skip(app.keys_scroll)
            .flat_map(|key| key_lines(key, inner_width))
            .collect(),
    };
    // Wrapping only applies to an unusually long line (a disabled reason).
    let paragraph = Paragraph::new(lines)
        .block(block)
        .wrap(Wrap { trim: false });
    frame.render_widget(paragraph, area);
}

/// A key's summary line, then one bar per limit.
fn key_lines(key: &KeyStats, width: usize) -> Vec<Line<'static>> {
    let dim = Style::new().fg(Color::DarkGray);
    let mut summary = vec![
        Span::styled(key.id.clone(), Style::new().add_modifier(Modifier::BOLD)),
        Span::styled("  in-flight ", dim),
        Span::raw(key.in_flight.to_string()),
    ];
    if let Some(headroom) = key.headroom {
        summary.push(Span::raw(format!("  {}", format::percent(headroom))));
        summary.push(Span::styled(" free", dim));
    }
    if let Some(secs) = key.cooling_down_for_secs.filter(|s| *s > 0.0) {
        summary.push(Span::styled(
            format!("  cooling {}", format::duration(secs)),
            Style::new().fg(Color::Yellow),
        ));
    }
    let mut lines = vec![Line::from(summary)];
    if let Some(reason) = &key.disabled_reason {
        lines.push(Line::styled(
            format!("  disabled: {reason}"),
            Style::new().fg(Color::Red),
        ));
    }
    for (label, limit) in [
        ("requests", &key.requests),
        ("input", &key.input_tokens),
        ("output", &key.output_tokens),
    ] {
        lines.push(limit_line(label, limit, width));
    }
    lines
}

/// `  requests ████████░░  41/50  ↻12s`; dots when the limit is unknown.
fn limit_line(label: &str, limit: &Limit, width: usize) -> Line<'static> {
    let amount = match (limit.remaining, limit.limit) {
        (Some(remaining), Some(max)) => {
            format!("{}/{}", format::compact(remaining), format::compact(max))
        }
        _ => "unknown".to_owned(),
    };
    let resets = limit
        .resets_in_secs
        .filter(|s| *s > 0.0 && limit.limit.is_some())
        .map(|s| format!(" ↻{}", format::duration(s)))
        .unwrap_or_default();
    // Label (11), amount (11), reset (7) around the bar, which gets the rest.
    let bar_width = width.saturating_sub(11 + 11 + 7).clamp(4, 40);
    let (bar, color) = match format::bar_fill(limit.remaining, limit.limit, bar_width) {
        Some(filled) => {
            let fraction = filled as f64 / bar_width as f64;
            let color = if fraction > 0.5 {
                Color::Green
            } else if fraction > 0.2 {
                Color::Yellow
            } else {
                Color::Red
            };
            (
                format!("{}{}", "█".repeat(filled), "░".repeat(bar_width - filled)),
                color,
            )
        }
        None => ("·".repeat(bar_width), Color::DarkGray),
    };
    Line::from(vec![
        Span::styled(format!("  {label:<9}"), Style::new().fg(Color::DarkGray)),
        Span::styled(bar, Style::new().fg(color)),
        Span::raw(format!(" {amount:>10}")),
        Span::styled(resets, Style::new().fg(Color::DarkGray)),
    ])
}
