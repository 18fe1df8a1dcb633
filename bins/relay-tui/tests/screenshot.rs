//! The dashboard "screenshot" in docs/observability.md is this test's
//! rendering of a fixed state on ratatui's `TestBackend`; the test fails when
//! the two drift apart. To refresh the docs after a change to the layout, run
//! it with `CC_RELAY_WRITE_SCREENSHOT=1`: it then writes the new text to
//! `target/tui-screenshot.txt` for pasting between the markers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;

use relay_tui::{Action, App, ClientError, Msg};
use support::*;

const START: &str = "<!-- tui-screenshot:start -->\n```text\n";
const END: &str = "```\n<!-- tui-screenshot:end -->";

/// The state shown in the docs: the fixture relay after a few minutes of
/// polls, and a refused write.
fn screenshot() -> String {
    let mut app = App::new("http://127.0.0.1:8787");
    let mut last = stats();
    // A made-up, wavy history of a minute: 0–4 requests a second, medians
    // 500–1300 ms.
    let mut total = 0;
    for i in 0..60_u32 {
        let mut earlier = last.clone();
        earlier.uptime_secs -= f64::from(60 - i) + 1.0;
        let wave = (f64::from(i) / 4.0).sin();
        total += (2.0 + 2.0 * wave).round() as u64;
        earlier.requests_total = total;
        earlier.latency_ms.p50 = Some(900.0 - 400.0 * (f64::from(i) / 6.0).cos());
        app.apply_stats(earlier);
    }
    last.requests_total = total + 3;
    app.apply_stats(last);
    app.events_live = true;
    let mut overloaded = event(1, "zai", "glm-4.6", 529);
    overloaded.key_id = Some("9c0d1e2f".to_owned());
    (overloaded.latency_ms, overloaded.output_tokens) = (Some(95.0), Some(0));
    overloaded.stream = false;
    app.apply_event(overloaded);
    let mut haiku = event(2, "anthropic", "claude-haiku-4-5", 200);
    (haiku.latency_ms, haiku.input_tokens, haiku.output_tokens) =
        (Some(640.2), Some(310), Some(12));
    haiku.failovers = vec!["overloaded".into()];
    app.apply_event(haiku);
    let mut sonnet = event(4, "anthropic", "claude-sonnet-4-5", 200);
    (sonnet.latency_ms, sonnet.input_tokens, sonnet.output_tokens) =
        (Some(2310.5), Some(12_040), Some(310));
    app.apply_event(sonnet);
    app.update(Msg::ActionDone {
        action: Action::Enable("zai".to_owned()),
        result: Err(ClientError::ReadOnly(
            "the admin API is read-only: set server.admin.read_only: false to allow write actions"
                .to_owned(),
        )),
    });
    render_text(&app, 120, 34) + "\n"
}

#[test]
fn the_docs_show_the_current_rendering() {
    let rendered = screenshot();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    if std::env::var_os("CC_RELAY_WRITE_SCREENSHOT").is_some() {
        let out = root.join("target/tui-screenshot.txt");
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        std::fs::write(&out, format!("{START}{rendered}{END}\n")).unwrap();
    }
    let docs = std::fs::read_to_string(root.join("docs/observability.md")).unwrap();
    let documented = docs
        .split_once(START)
        .and_then(|(_, rest)| rest.split_once(END))
        .map(|(block, _)| block)
        .unwrap_or_else(|| panic!("docs/observability.md has no tui-screenshot block"));
    assert!(
        documented == rendered,
        "docs/observability.md's screenshot is out of date; the dashboard now renders:\n{rendered}"
    );
}
