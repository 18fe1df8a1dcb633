//! The web dashboard (`/ui/`) in a real browser: headless Chromium driven
//! over WebDriver (Python selenium, from scripts/test-requirements.txt)
//! against a relay in process and a mock upstream. Sign in; the provider
//! row; a request on the live page within 2 s; filter and pause; SVG charts
//! with data; disabling from the page shows in `/v1/providers`; the
//! read-only token cannot write; no console error; no request to another
//! host. `CC_RELAY_UPDATE_SCREENSHOT=1` writes the overview's screenshot to
//! docs/dashboard-overview.png.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin_support;

use admin_support::{READ_TOKEN, Relay, UPSTREAM_KEY, WRITE_TOKEN};
use relay_test_support::tools::{python, require_program, workspace_root};
use relay_test_support::{MockReply, MockUpstream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_in_headless_chromium() {
    let chromium = require_program("chromium", "chromium");
    let chromedriver = require_program("chromedriver", "chromium-driver");
    let mock = MockUpstream::start().await.unwrap();
    mock.set_default(MockReply::message("hello from the mock"));
    let relay = Relay::start(&mock, "dashboard").await;
    let shots = tempfile::tempdir().unwrap();
    let screenshot = shots.path().join("overview.png");

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/dashboard/check_dashboard.py"
    );
    let output = tokio::time::timeout(
        std::time::Duration::from_secs(120),
        tokio::process::Command::new(python())
            .arg(script)
            .arg(&relay.url)
            .arg(&chromium)
            .arg(&chromedriver)
            .arg(WRITE_TOKEN)
            .arg(READ_TOKEN)
            .arg(&screenshot)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the browser check finishes within 2 minutes")
    .expect("the test Python runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser check failed (scripts/test installs selenium and Chromium):\n{stderr}"
    );
    let seen: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("unreadable report ({e}): {stderr}"));

    let row: Vec<&str> = seen["provider_row"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(&row[..3], ["primary", "anthropic", "active"], "{row:?}");
    assert_eq!(seen["mode"], "read-write");

    assert_eq!(seen["live_status"], 200);
    let live = seen["live_seconds"].as_f64().unwrap();
    assert!(
        live < 2.0,
        "the request took {live:.2}s to show on the live page"
    );
    assert_eq!(seen["live_row"][1], "primary");
    assert_eq!(seen["live_row"][4], "200");
    assert_eq!(seen["filtered_rows"], 0);
    assert_eq!(seen["paused_hidden"], true);

    assert!(seen["rate_points"].as_u64().unwrap() > 1, "{seen}");
    assert!(seen["latency_dots"].as_u64().unwrap() >= 8, "{seen}");

    assert_eq!(seen["v1_active_after_disable"], serde_json::json!([false]));
    assert_eq!(seen["v1_active_after_enable"], serde_json::json!([true]));
    assert!(seen["notice"].as_str().unwrap().contains("disabled"));

    let config = seen["config_text"].as_str().unwrap();
    assert!(config.contains("[redacted]"));
    for secret in [WRITE_TOKEN, READ_TOKEN, UPSTREAM_KEY] {
        assert!(
            !config.contains(secret),
            "{secret} shown on the configuration page"
        );
    }

    assert_eq!(seen["read_only_mode"], "read-only");
    assert!(seen["read_only_buttons"].as_u64().unwrap() >= 3, "{seen}");
    assert_eq!(seen["read_only_enabled_buttons"], 0);
    assert_eq!(seen["read_only_api_status"], 403);
    assert_eq!(seen["still_enabled"], true);

    assert_eq!(seen["console"], serde_json::json!([]), "console messages");
    let relay_host = relay.url.trim_start_matches("http://");
    assert_eq!(
        seen["hosts"],
        serde_json::json!([relay_host]),
        "hosts requested"
    );
    assert_eq!(seen["resource_hosts"], serde_json::json!([relay_host]));

    let png = std::fs::read(&screenshot).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    if std::env::var_os("CC_RELAY_UPDATE_SCREENSHOT").is_some() {
        std::fs::write(workspace_root().join("docs/dashboard-overview.png"), &png).unwrap();
    }
    relay.stop().await;
}
