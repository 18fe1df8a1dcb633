//! `cc-relay status`: a compact table of a running relay from its admin API
//! (`GET /admin/stats`), or its `/health` when the admin API is closed.
//! Exits non-zero only when the relay is down.
//!
//! The stats JSON is read as a `serde_json::Value`, field by field, so a
//! relay that reports more, less or `null` still gets a table.

use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

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
    let base = match (&args.url, &config) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, Some(config)) => config_path::local_url(&config.server.listen),
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let admin = runtime.block_on(get(&format!("{base}/admin/stats"), token.as_deref()));
    let note = match admin {
        Ok((200, body)) => match serde_json::from_slice::<Value>(&body) {
            Ok(stats) => {
                for line in table(&base, &stats) {
                    output::say(&line);
                }
                return Ok(());
            }
            Err(err) => format!("its /admin/stats answer is unreadable ({err})"),
        },
        Ok((404, _)) => {
            "the admin API is not enabled (set server.admin.token for providers, keys and rates)"
                .to_owned()
        }
        Ok((401 | 403, _)) if token.is_none() => {
            "the admin API needs a token: --admin-token or $CC_RELAY_ADMIN_TOKEN".to_owned()
        }
        Ok((status @ (401 | 403), _)) => {
            format!("the admin API refused the admin token ({status})")
        }
        Ok((status, _)) => format!("its /admin/stats answered {status}"),
        Err(err) => bail!("cc-relay at {base} is not reachable: {err:#}"),
    };
    match runtime.block_on(get(&format!("{base}/health"), None)) {
        Ok((200, body)) => {
            output::say(&format!(
                "cc-relay at {base} is running: {}",
                String::from_utf8_lossy(&body).trim()
            ));
            output::say(&note);
            Ok(())
        }
        Ok((status, _)) => bail!("cc-relay at {base} answered /health with status {status}"),
        Err(err) => bail!("cc-relay at {base} is not reachable: {err:#}"),
    }
}

/// The status report: a headline, one row per provider, a summary line.
fn table(base: &str, stats: &Value) -> Vec<String> {
    let mut headline = format!("cc-relay {} at {base} is running", text(&stats["version"]));
    if let Some(uptime) = stats["uptime_secs"].as_f64() {
        headline.push_str(&format!(": up {}", duration(uptime)));
    }
    if let Some(generation) = stats["config_generation"].as_u64() {
        headline.push_str(&format!(", config generation {generation}"));
    }
    if let Some(strategy) = stats["strategy"].as_str() {
        headline.push_str(&format!(", strategy {strategy}"));
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
    let providers = stats["providers"].as_array().map_or(&[][..], Vec::as_slice);
    rows.extend(providers.iter().map(provider_row));
    let mut lines = vec![headline];
    lines.extend(align(&rows));
    if providers.is_empty() {
        lines.push("(no providers)".to_owned());
    }
    lines.push(summary(stats));
    if let Some(line) = shared_state(&stats["state"]) {
        lines.push(line);
    }
    lines
}

/// The shared state backend, when there is one: "state: redis at
/// redis://host:6379/0, connected, last sync 0.4 s ago, 2 peers".
fn shared_state(state: &Value) -> Option<String> {
    if state["backend"].as_str()? != "redis" {
        return None;
    }
    let mut line = format!("state: redis at {}", text(&state["endpoint"]));
    line.push_str(match state["connected"].as_bool() {
        Some(true) => ", connected",
        _ => ", NOT connected (serving on local state)",
    });
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    match state["last_sync_ms"].as_u64() {
        Some(at) => line.push_str(&format!(
            ", last sync {} ago",
            duration(now_ms.saturating_sub(at) as f64 / 1000.0)
        )),
        None => line.push_str(", never synced"),
    }
    let peers = state["peers"].as_u64().unwrap_or(0);
    line.push_str(&format!(
        ", {peers} peer{}",
        if peers == 1 { "" } else { "s" }
    ));
    Some(line)
}

fn provider_row(provider: &Value) -> [String; 9] {
    let circuit = match (
        provider["circuit"].as_str(),
        provider["circuit_open_until_secs"].as_f64(),
    ) {
        (Some("open"), Some(secs)) if secs > 0.0 => format!("open {}", duration(secs)),
        (Some(circuit), _) => circuit.replace('_', "-"),
        (None, _) => "-".to_owned(),
    };
    let flag = |name: &str| provider[name].as_bool();
    let state = if flag("disabled_by_operator") == Some(true) {
        "disabled"
    } else if flag("enabled") == Some(false) {
        "off"
    } else if flag("active") == Some(false) {
        "inactive"
    } else {
        "active"
    };
    let keys = provider["keys"].as_array().map_or(&[][..], Vec::as_slice);
    let available = keys.iter().filter(|k| key_available(k)).count();
    [
        text(&provider["name"]),
        text(&provider["type"]),
        circuit,
        state.to_owned(),
        count(&provider["in_flight"]),
        count(&provider["requests"]),
        count(&provider["errors"]),
        format!("{available}/{}", keys.len()),
        millis(provider["latency_ms"].as_f64()),
    ]
}

/// Neither cooling down, disabled, nor out of requests.
fn key_available(key: &Value) -> bool {
    key["cooling_down_for_secs"]
        .as_f64()
        .is_none_or(|s| s <= 0.0)
        && key["disabled_reason"].is_null()
        && key["requests"]["remaining"].as_u64() != Some(0)
}

fn summary(stats: &Value) -> String {
    let mut line = format!(
        "requests {} ({} errors), {:.2}/s, {} in flight",
        count(&stats["requests_total"]),
        count(&stats["errors_total"]),
        stats["requests_per_sec"].as_f64().unwrap_or(0.0),
        count(&stats["in_flight"]),
    );
    // Percentiles over no samples are zeros that mean "unknown".
    let latency = match stats["latency_samples"].as_u64() {
        Some(0) => &Value::Null,
        _ => &stats["latency_ms"],
    };
    line.push_str(&format!(
        " · latency p50 {}, p99 {}",
        millis(latency["p50"].as_f64()),
        millis(latency["p99"].as_f64())
    ));
    let tokens = &stats["tokens"];
    line.push_str(&format!(
        " · tokens in {}, out {}, cache read {}, cache write {}",
        count(&tokens["input"]),
        count(&tokens["output"]),
        count(&tokens["cache_read"]),
        count(&tokens["cache_creation"]),
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

fn text(value: &Value) -> String {
    value.as_str().unwrap_or("-").to_owned()
}

/// A count with thousands separators; `-` when missing.
fn count(value: &Value) -> String {
    let Some(n) = value.as_u64() else {
        return "-".to_owned();
    };
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

async fn get(url: &str, token: Option<&str>) -> anyhow::Result<(u16, Bytes)> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let mut request = Request::get(url);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(Empty::new())
        .with_context(|| format!("invalid URL {url}"))?;
    let response = tokio::time::timeout(Duration::from_secs(5), client.request(request))
        .await
        .context("timed out")??;
    let status = response.status().as_u16();
    let body = tokio::time::timeout(Duration::from_secs(5), response.into_body().collect())
        .await
        .context("timed out reading the body")??
        .to_bytes();
    Ok((status, body))
}
