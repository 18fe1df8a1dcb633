//! The middle row: request rate and latency sparklines (one point per stats
//! poll) and the token totals.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Sparkline};

use super::pane_block;
use crate::app::App;
use crate::format;

pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App) {
    let [rate, latency, tokens] = Layout::horizontal([
        Constraint::Percentage(34),
        Constraint::Percentage(40),
        Constraint::Percentage(26),
    ])
    .areas(area);
    let stats = app.stats.as_ref();

    let rate_title = match stats {
        Some(s) => format!(
            " Rate {:.2}/s · total {} · errors {} ",
            app.rate_history.back().map_or(0.0, |r| *r as f64 / 100.0),
            format::thousands(s.requests_total),
            format::thousands(s.errors_total)
        ),
        None => " Rate ".to_owned(),
    };
    sparkline(frame, rate, app, rate_title, &app.rate_history, Color::Cyan);

    let latency_title = match stats.map(relay_admin_api::Stats::percentiles) {
        Some([latency, ttfb, _]) => format!(
            " Latency p50 {} · p99 {} · ttfb {} ",
            format::opt_millis(latency.p50),
            format::opt_millis(latency.p99),
            format::opt_millis(ttfb.p50)
        ),
        None => " Latency ".to_owned(),
    };
    sparkline(
        frame,
        latency,
        app,
        latency_title,
        &app.latency_history,
        Color::Magenta,
    );

    let totals = stats.map(|s| s.tokens).unwrap_or_default();
    let lines: Vec<Line<'static>> = [
        ("input", totals.input),
        ("output", totals.output),
        ("cache read", totals.cache_read),
        ("cache write", totals.cache_creation),
    ]
    .into_iter()
    .map(|(label, n)| Line::from(format!("{label:<12}{:>14}", format::thousands(n))))
    .collect();
    let block = pane_block(Line::from(" Tokens "), None, app);
    frame.render_widget(Paragraph::new(lines).block(block), tokens);
}

/// The newest points that fit, oldest on the left.
fn sparkline(
    frame: &mut Frame<'_>,
    area: Rect,
    app: &App,
    title: String,
    history: &std::collections::VecDeque<u64>,
    color: Color,
) {
    let block = pane_block(Line::from(title), None, app);
    let width = usize::from(block.inner(area).width);
    let skip = history.len().saturating_sub(width);
    let data: Vec<u64> = history.iter().skip(skip).copied().collect();
    let widget = Sparkline::default()
        .block(block)
        .data(data)
        .style(Style::new().fg(color));
    frame.render_widget(widget, area);
}
