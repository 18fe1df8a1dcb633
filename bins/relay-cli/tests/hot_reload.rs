//! Hot reload through the real binary. While a client loop sends streaming
//! and non-streaming requests without pause, the config file is rewritten
//! over twenty times (providers added, removed, reordered, disabled; keys
//! swapped; the strategy switched; invalid files in between; restart-only
//! settings and the log level changed) and reloaded once by SIGHUP. After
//! each valid reload requests go where the new file says and `/v1/models`
//! and `/v1/providers` show it; no client request fails; a stream begun
//! before a reload finishes on its upstream.
//!
//! Routing is only relied on as "the first enabled provider in file order
//! serves the request": multi-provider files use `failover` with priorities
//! falling in file order, other strategies get a single enabled provider.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod reload_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{assert_no_secret_logged, start_relay};
use relay_test_support::{
    MockReply, RelayOptions, RelayProcess, Signal, TestClient, parse_sse, unused_local_addr,
};
use reload_support::*;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

const A1: &str = "sk-hot-a-key-1";
const A2: &str = "sk-hot-a-key-2";
const B1: &str = "sk-hot-b-key-1";
const C1: &str = "sk-hot-c-key-1";
const C2: &str = "sk-hot-c-key-2";
const L1: &str = "sk-hot-l-key-1";
const INVALID_FILE_KEY: &str = "sk-hot-invalid-file-key";
const JSON: [(&str, &str); 1] = [("content-type", "application/json")];

/// Unknown strategy and a type error (with a key next to it, never logged).
fn invalid_types(upstreams: &Upstreams) -> String {
    format!(
        "routing:\n  strategy: fastest\nproviders:\n  - name: a\n    enabled: true\n    base_url: \"{}\"\n    \
         keys:\n      - key: \"{INVALID_FILE_KEY}\"\n        rpm_limit: lots\n",
        upstreams.get("a").url()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_is_reloaded_under_load_without_a_failed_request() {
    let upstreams = Upstreams::start(&["a", "b", "c", "l"]).await;
    // `l` sends slowly, so a stream it serves outlives a reload.
    let slow = MockReply::auto().event_delay(Duration::from_millis(250));
    upstreams.get("l").set_default(slow);
    let first = Cfg::new(vec![on("a", A1)]);
    let relay = start_relay(&upstreams.render(&first), &[]).await;
    relay
        .wait_for_log("watching the configuration file", RELOAD_WITHIN)
        .await
        .unwrap();
    let mut h = Harness::new(relay, upstreams);
    h.check(&first).await;
    let load = ClientLoop::start(&h.relay.url());

    // Providers added, reordered, disabled, added first, removed.
    h.apply(&Cfg::new(vec![on("a", A1), on("b", B1)])).await;
    h.apply(&Cfg::new(vec![on("b", B1), on("a", A1)])).await;
    h.apply(&Cfg::new(vec![off("b", B1), on("a", A1)])).await;
    h.apply(&Cfg::new(vec![on("c", C1), off("b", B1), on("a", A1)]))
        .await;
    h.apply(&Cfg::new(vec![off("b", B1), on("a", A1)])).await;
    // A key swapped: `check` asserts the upstream sees the new one.
    h.apply(&Cfg::new(vec![on("a", A2)])).await;
    // Another strategy is accepted.
    let round_robin = Cfg::new(vec![on("a", A2), off("c", C1)]).strategy("round_robin");
    h.apply(&round_robin).await;

    // Invalid files: every problem logged, the previous file keeps serving.
    let text = invalid_types(&h.upstreams);
    let problems = ["routing.strategy", "providers[0].keys[0].rpm_limit"];
    h.reject(&text, &problems, &round_robin).await;
    h.reject("providers: [\n", &["cannot parse"], &round_robin)
        .await;
    let b_first = Cfg::new(vec![on("b", B1), on("a", A2)]);
    h.apply(&b_first).await;
    let text = h.upstreams.render(&Cfg::new(vec![off("b", B1)]));
    h.reject(&text, &["no enabled provider"], &b_first).await;

    // Restart-only settings: logged, the rest of the file applied.
    h.apply(&Cfg::new(vec![on("a", A2), on("b", B1)]).server("  listen: \"127.0.0.1:1\"\n"))
        .await;
    let overridden = "server.listen changed in the file from 127.0.0.1:8787 to 127.0.0.1:1, \
                      but the command line overrides it";
    h.relay
        .wait_for_log(overridden, RELOAD_WITHIN)
        .await
        .unwrap();
    h.apply(&Cfg::new(vec![on("b", B1), on("a", A2)]).server("  enable_http2: false\n"))
        .await;
    let restart = "server.enable_http2 changed from true to false: restart cc-relay to apply";
    h.relay.wait_for_log(restart, RELOAD_WITHIN).await.unwrap();
    let h2 = TestClient::http2().get(h.url("/health")).await.unwrap();
    assert_eq!(h2.status, 200, "HTTP/2 stays on until a restart");

    // The log level: debug lines stop at `info` and come back at `debug`.
    h.apply(&Cfg::new(vec![on("a", A2), on("b", B1)]).level("info"))
        .await;
    h.relay
        .wait_for_log("log level changed from debug to info", RELOAD_WITHIN)
        .await
        .unwrap();
    let mark = h.relay.logs().len();
    wait_line_after(&h.relay, mark, "request finished").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let later = h.relay.logs().split_off(mark);
    assert!(
        !later.iter().any(|l| l.contains("request received")),
        "{later:#?}"
    );
    h.apply(&Cfg::new(vec![on("a", A2), on("b", B1)])).await;
    let mark = h.relay.logs().len();
    wait_line_after(&h.relay, mark, "request received").await;

    // A stream begun on `l` finishes there after the file moves to `c`.
    h.apply(&Cfg::new(vec![on("l", L1), on("a", A2)])).await;
    let body = request_body("[long stream]", true).to_string();
    let mut long = h
        .client
        .stream("POST", h.url("/v1/messages"), &JSON, body)
        .await
        .unwrap();
    assert_eq!(long.status, 200);
    let mut received = vec![long.next_chunk().await.unwrap().unwrap().0];
    let c_first = Cfg::new(vec![on("c", C1), on("a", A2)]);
    h.apply(&c_first).await;
    let switched = Instant::now();
    while let Some(chunk) = long.next_chunk().await {
        received.push(chunk.unwrap().0);
    }
    let events = parse_sse(&received.concat());
    assert_eq!(events.last().unwrap().0, "message_stop", "{events:?}");
    let l = h.upstreams.get("l");
    let index = l
        .requests()
        .iter()
        .position(|r| String::from_utf8_lossy(&r.body).contains("[long stream]"));
    let index = index.unwrap();
    let sent: Vec<_> = l
        .sent_events()
        .into_iter()
        .filter(|e| e.request_index == index)
        .collect();
    assert_eq!(sent.len(), events.len(), "every event came from `l`");
    assert!(
        sent.last().unwrap().sent_at > switched,
        "the stream ended before the reload"
    );

    // More swaps, strategies, a SIGHUP, removals.
    h.apply(&Cfg::new(vec![on("c", C2), on("a", A2)])).await;
    let least_loaded = Cfg::new(vec![on("c", C2), off("a", A2)]).strategy("least_loaded");
    h.apply(&least_loaded).await;
    h.relay.signal(Signal::Hup).unwrap();
    let line = h.reloaded().await;
    assert!(line.contains("SIGHUP"), "{line}");
    h.check(&least_loaded).await;
    h.apply(&Cfg::new(vec![on("a", A2), on("b", B1), on("c", C2)]).strategy("failover"))
        .await;
    h.apply(&Cfg::new(vec![on("b", B1)]).strategy("shuffle"))
        .await;
    h.apply(&Cfg::new(vec![on("a", A1)])).await;

    let (plain, streamed) = load.finish().await;
    assert!(h.rewrites >= 20, "{} rewrites", h.rewrites);
    assert!(
        plain >= 20 && streamed >= 10,
        "only {plain} + {streamed} requests ran"
    );
    assert_no_secret_logged(&h.relay, &[A1, A2, B1, C1, C2, L1, INVALID_FILE_KEY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_watch_only_sighup_reloads() {
    let upstreams = Upstreams::start(&["a", "b"]).await;
    let first = Cfg::new(vec![on("a", A1)]);
    let relay = start_relay(&upstreams.render(&first), &["--no-watch"]).await;
    relay
        .wait_for_log("(--no-watch)", RELOAD_WITHIN)
        .await
        .unwrap();
    let mut h = Harness::new(relay, upstreams);
    let second = Cfg::new(vec![on("b", B1)]);
    let text = h.upstreams.render(&second);
    h.write(&text);
    // Well past the watcher's debounce: nothing may happen.
    tokio::time::sleep(Duration::from_millis(800)).await;
    h.check(&first).await;
    assert_eq!(count(&h.relay, "configuration reloaded"), 0);
    h.relay.signal(Signal::Hup).unwrap();
    let line = h.reloaded().await;
    assert!(line.contains("SIGHUP"), "{line}");
    h.check(&second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_file_sighup_is_harmless() {
    let relay = RelayProcess::start(RelayOptions {
        binary: env!("CARGO_BIN_EXE_cc-relay").into(),
        ..RelayOptions::default()
    })
    .await
    .unwrap();
    relay
        .wait_for_log("nothing to watch", RELOAD_WITHIN)
        .await
        .unwrap();
    relay.signal(Signal::Hup).unwrap();
    let needle = "SIGHUP received: no configuration file";
    relay.wait_for_log(needle, RELOAD_WITHIN).await.unwrap();
    let health = TestClient::new()
        .get(format!("{}/health", relay.url()))
        .await
        .unwrap();
    assert_eq!(health.status, 200);
}

/// Started without `--listen` (which `RelayProcess` always passes), so the
/// file's address is the one in effect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_listen_address_is_logged_as_needing_a_restart() {
    let upstreams = Upstreams::start(&["a"]).await;
    let first = unused_local_addr().unwrap();
    let mut second = unused_local_addr().unwrap();
    while second == first {
        second = unused_local_addr().unwrap();
    }
    let config = |listen| {
        let cfg = Cfg::new(vec![on("a", A1)]);
        let text = upstreams.render(&cfg);
        text.replacen(
            "server:\n",
            &format!("server:\n  listen: \"{listen}\"\n"),
            1,
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, config(first)).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_cc-relay"))
        .arg("serve")
        .arg("--config")
        .arg(&path)
        .env("HOME", dir.path())
        .env_remove("CC_RELAY_CONFIG")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    collect_lines(child.stdout.take().unwrap(), Arc::clone(&lines));
    collect_lines(child.stderr.take().unwrap(), Arc::clone(&lines));
    wait_for_line(&lines, &format!("cc-relay listening on http://{first}")).await;

    std::fs::write(&path, config(second)).unwrap();
    let needle =
        format!("server.listen changed from {first} to {second}: restart cc-relay to apply");
    wait_for_line(&lines, &needle).await;
    wait_for_line(&lines, "configuration reloaded (generation 2)").await;
    let health = TestClient::new()
        .get(format!("http://{first}/health"))
        .await
        .unwrap();
    assert_eq!(health.status, 200, "still on the address it started with");
    child.start_kill().unwrap();
    let _ = child.wait().await;
}

fn collect_lines(output: impl AsyncRead + Unpin + Send + 'static, lines: Arc<Mutex<Vec<String>>>) {
    tokio::spawn(async move {
        let mut reader = BufReader::new(output).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            lines.lock().unwrap().push(line);
        }
    });
}

async fn wait_for_line(lines: &Mutex<Vec<String>>, needle: &str) {
    let deadline = Instant::now() + RELOAD_WITHIN;
    while !lines.lock().unwrap().iter().any(|l| l.contains(needle)) {
        let all = lines.lock().unwrap().join("\n");
        assert!(Instant::now() < deadline, "no line with {needle:?}:\n{all}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
