//! `cc-relay status`: a compact table of a running relay from its admin API
//! (`GET /admin/stats`), or its `/health` when the admin API is closed.
//! Exits non-zero only when the relay is down.
//!
//! The stats are read with the admin contract's client and types
//! (`relay-admin-api`), the same the TUI uses: leniently, so a relay that
//! reports more, less or `null` still gets a table.

use anyhow::bail;
use relay_admin_api::{AdminClient, ClientError, Percentiles, ProviderStats, Stats};

use crate::cli::StatusArgs;
use crate::{config_path, output};

pub fn run(args: &StatusArgs) -> anyhow::Result<()> {
    // The configuration gives the URL when there is no --url, and the admin
    // token when none is given. It must load when needed for the URL or
    // named with --config; a broken one found by the usual search is only
    // skipped when --url is given.
    let explicit = args.config.config.as_deref();
    let config = match config_path::load(explicit) {
        Ok((config, _)) => Some(config),
        Err(_) if args.url.is_some() && explicit.is_none() => None,
        Err(err) => return Err(err),
    };
    let url = match (&args.url, &config) {
        (Some(url), _) => url.clone(),
        (None, Some(config)) => config.server.listen.clone(),
        (None, None) => bail!("no --url and no configuration"),
    };
    let token = args
        .admin_token
        .clone()
        .filter(|t| !t.is_empty())
        .or_else(|| {
            config
                .as_ref()
                .and_then(|c| c.server.admin.token.as_ref())
                .map(|t| t.expose().to_owned())
        });
    let client = AdminClient::new(&url, token)?;
    let base = client.base_url().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let note = match runtime.block_on(client.stats()) {
        Ok(stats) => {
            for line in table(&base, &stats) {
                output::say(&line);
            }
            return Ok(());
        }
        Err(ClientError::Decode(err)) => format!("its /admin/stats answer is unreadable ({err})"),
        Err(ClientError::NotEnabled) => {
            "the admin API is not enabled (set server.admin.token for providers, keys and rates)"
                .to_owned()
        }
        Err(ClientError::Unauthorized { .. }) if !client.has_token() => {
            "the admin API needs a token: --admin-token or $CC_RELAY_ADMIN_TOKEN".to_owned()
        }
        Err(ClientError::Unauthorized { status, .. }) => {
            format!("the admin API refused the admin token ({status})")
        }
        Err(ClientError::Status { status, .. }) => format!("its /admin/stats answered {status}"),
        Err(err) => bail!("cc-relay at {base} is not reachable: {err}"),
    };
    match runtime.block_on(client.health()) {
        Ok(health) => {
            output::say(&format!("cc-relay at {base} is running: {health}"));
            output::say(&note);
            Ok(())
        }
        Err(ClientError::Status { status, .. }) => {
            bail!("cc-relay at {base} answered /health with status {status}")
        }
        Err(err) => bail!("cc-relay at {base} is not reachable: {err}"),
    }
}

/// The status report: a headline, one row per provider, a summary line.
fn table(base: &str, stats: &Stats) -> Vec<String> {
    let version = if stats.version.is_empty() {
        "-"
    } else {
        &stats.version
    };
    let mut headline = format!("cc-relay {version} at {base} is running");
    headline.push_str(&format!(": up {}", duration(stats.uptime_secs)));
    headline.push_str(&format!(", config generation {}", stats.config_generation));
    if !stats.strategy.is_empty() {
        headline.push_str(&format!(", strategy {}", stats.strategy));
    }
    let mut rows = vec![
        [
            "PROVIDER",
            "TYPE",
            "CIRCUIT",
            "STATE",
            "IN-FLIGHT",
            "REQUESTS",
            "ERRORS",
            "KEYS",
            "LATENCY",
        ]
        .map(str::to_owned),
    ];
    rows.extend(stats.providers.iter().map(provider_row));
    let mut lines = vec![headline];
    lines.extend(align(&rows));
    if stats.providers.is_empty() {
        lines.push("(no providers)".to_owned());
    }
    lines.push(summary(stats));
    lines
}

fn provider_row(provider: &ProviderStats) -> [String; 9] {
    let circuit = match (provider.circuit, provider.circuit_open_until_secs) {
        (relay_admin_api::Circuit::Open, Some(secs)) if secs > 0.0 => {
            format!("open {}", duration(secs))
        }
        (relay_admin_api::Circuit::Unknown, _) => "-".to_owned(),
        (circuit, _) => circuit.label().to_owned(),
    };
    let (available, total) = provider.keys_available();
    [
        text(&provider.name),
        text(&provider.kind),
        circuit,
        provider.state_label().to_owned(),
        count(provider.in_flight),
        count(provider.requests),
        count(provider.errors),
        format!("{available}/{total}"),
        millis(provider.latency_ms),
    ]
}

fn summary(stats: &Stats) -> String {
    let mut line = format!(
        "requests {} ({} errors), {:.2}/s, {} in flight",
        count(stats.requests_total),
        count(stats.errors_total),
        stats.requests_per_sec,
        count(stats.in_flight),
    );
    // Percentiles over no samples are zeros that mean "unknown".
    let [latency, ..]: [Percentiles; 3] = stats.percentiles();
    line.push_str(&format!(
        " · latency p50 {}, p99 {}",
        millis(latency.p50),
        millis(latency.p99)
    ));
    let tokens = &stats.tokens;
    line.push_str(&format!(
        " · tokens in {}, out {}, cache read {}, cache write {}",
        count(tokens.input),
        count(tokens.output),
        count(tokens.cache_read),
        count(tokens.cache_creation),
    ));
    line
}

/// Pads columns to their widest cell: text left, numbers right.
fn align(rows: &[[String; 9]]) -> Vec<String> {
    let mut widths = [0; 9];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(widths)
                .enumerate()
                .map(|(i, (cell, width))| {
                    if i >= 4 {
                        format!("{cell:>width$}")
                    } else {
                        format!("{cell:<width$}")
                    }
                })
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect()
}

fn text(value: &str) -> String {
    if value.is_empty() { "-" } else { value }.to_owned()
}

/// A count with thousands separators.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn millis(ms: Option<f64>) -> String {
    match ms {
        Some(ms) if ms.is_finite() && ms >= 0.0 => {
            if ms < 10.0 {
                format!("{ms:.2} ms")
            } else if ms < 1_000.0 {
                format!("{ms:.0} ms")
            } else {
                format!("{:.1} s", ms / 1_000.0)
            }
        }
        _ => "-".to_owned(),
    }
}

fn duration(secs: f64) -> String {
    // Whole seconds suffice for a display; the cast saturates.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = secs.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m {:02}s", s / 60, s % 60),
        3_600..86_400 => format!("{}h {:02}m", s / 3_600, s % 3_600 / 60),
        _ => format!("{}d {:02}h", s / 86_400, s % 86_400 / 3_600),
    }
}
