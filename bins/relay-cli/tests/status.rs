//! `cc-relay status`: the table from `/admin/stats`, the `/health` fallback
//! when the admin API is closed or refuses the token, and the exit code.
//! Against a mock admin API and against the real relay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::convert::Infallible;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use bytes::Bytes;
use common::*;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use relay_test_support::unused_local_addr;
use serde_json::{Value, json};
use tokio::net::TcpListener;

const TOKEN: &str = "admin-token-for-status-0004";

/// Runs `cc-relay status args…` with a throw-away HOME, no inherited
/// configuration or token, and `env` added.
fn status(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cc-relay"))
        .arg("status")
        .args(args)
        .env("HOME", home)
        .env_remove("CC_RELAY_CONFIG")
        .env_remove("CC_RELAY_ADMIN_TOKEN")
        .env_remove("XDG_CONFIG_HOME")
        .envs(env.iter().copied())
        .current_dir(home)
        .output()
        .expect("cc-relay runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn line<'a>(text: &'a str, start: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no line starts with {start:?}:\n{text}"))
}

/// The contract's example, with a second provider: open circuit, disabled.
fn stats_json() -> Value {
    json!({
        "version": "0.1.0", "uptime_secs": 3723.5, "config_generation": 3, "strategy": "failover",
        "in_flight": 2, "requests_total": 1200, "errors_total": 3, "requests_per_sec": 1.7,
        "latency_ms": {"p50": 812.0, "p90": 2100.0, "p99": 5400.0},
        "tokens": {"input": 123456, "output": 7890, "cache_read": 100, "cache_creation": 50},
        "providers": [
            { "name": "anthropic", "type": "anthropic", "enabled": true, "disabled_by_operator": false,
              "active": true, "circuit": "closed", "in_flight": 1, "latency_ms": 420.0,
              "requests": 1100, "errors": 2, "keys": [
                { "id": "1a2b3c4d", "requests": {"limit": 50, "remaining": 41}, "cooling_down_for_secs": null },
                { "id": "5e6f7a8b", "requests": {"limit": 50, "remaining": 0} } ] },
            { "name": "zai", "type": "zai", "disabled_by_operator": true, "active": false,
              "circuit": "open", "circuit_open_until_secs": 25.0, "latency_ms": null,
              "requests": 100, "errors": 1, "keys": [ { "id": "9c0d1e2f", "disabled_reason": "401" } ] }
        ]
    })
}

/// A mock admin API: `/health`, and `/admin/stats` behind `token` (404
/// without one, 401 for a wrong one). Returns its URL.
async fn mock_admin(token: Option<&'static str>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stats = Arc::new(stats_json().to_string());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let stats = Arc::clone(&stats);
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let stats = Arc::clone(&stats);
                    async move { Ok::<_, Infallible>(answer(&request, token, &stats)) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    url
}

fn answer(request: &Request<Incoming>, token: Option<&str>, stats: &str) -> Response<Full<Bytes>> {
    let reply = |status: u16, body: String| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    match (request.uri().path(), token) {
        ("/health", _) => reply(200, r#"{"status":"ok"}"#.to_owned()),
        ("/admin/stats", Some(token)) => {
            let bearer = request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok());
            if bearer == Some(&format!("Bearer {token}")) {
                reply(200, stats.to_owned())
            } else {
                reply(401, r#"{"type":"error","error":{"type":"authentication_error","message":"invalid admin token"}}"#.to_owned())
            }
        }
        _ => reply(
            404,
            r#"{"type":"error","error":{"type":"not_found_error","message":"no route"}}"#
                .to_owned(),
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_gives_a_table_of_providers_and_a_summary() {
    let url = mock_admin(Some(TOKEN)).await;
    let home = tempfile::tempdir().unwrap();
    let out = status(home.path(), &["--url", &url, "--admin-token", TOKEN], &[]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert_eq!(
        text.lines().next().unwrap(),
        format!(
            "cc-relay 0.1.0 at {url} is running: up 1h 02m, config generation 3, strategy failover"
        )
    );
    let header = line(&text, "PROVIDER");
    for column in [
        "TYPE",
        "CIRCUIT",
        "STATE",
        "IN-FLIGHT",
        "REQUESTS",
        "ERRORS",
        "KEYS",
        "LATENCY",
    ] {
        assert!(header.contains(column), "{header}");
    }
    let anthropic: Vec<&str> = line(&text, "anthropic").split_whitespace().collect();
    assert_eq!(
        anthropic,
        [
            "anthropic",
            "anthropic",
            "closed",
            "active",
            "1",
            "1,100",
            "2",
            "1/2",
            "420",
            "ms"
        ]
    );
    let zai: Vec<&str> = line(&text, "zai").split_whitespace().collect();
    assert_eq!(
        zai,
        [
            "zai", "zai", "open", "25s", "disabled", "-", "100", "1", "0/1", "-"
        ]
    );
    // Columns line up: every row's CIRCUIT starts where the header's does.
    let at = header.find("CIRCUIT").unwrap();
    assert_eq!(line(&text, "anthropic").find("closed"), Some(at));
    assert_eq!(line(&text, "zai").find("open"), Some(at));
    let summary = line(&text, "requests");
    for part in [
        "requests 1,200 (3 errors), 1.70/s, 2 in flight",
        "latency p50 812 ms, p99 5.4 s",
        "tokens in 123,456, out 7,890, cache read 100, cache write 50",
    ] {
        assert!(summary.contains(part), "{part:?} missing from {summary}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_comes_from_the_environment_or_the_configuration() {
    let url = mock_admin(Some(TOKEN)).await;
    let home = tempfile::tempdir().unwrap();
    let from_env = status(
        home.path(),
        &["--url", &url],
        &[("CC_RELAY_ADMIN_TOKEN", TOKEN)],
    );
    assert!(stdout(&from_env).contains("PROVIDER"), "{from_env:?}");

    let config = home.path().join("relay.yaml");
    std::fs::write(
        &config,
        format!(
            "server:\n  admin:\n    token: \"{TOKEN}\"\nproviders:\n  - {{ name: a, enabled: true, type: anthropic }}\n"
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let from_config = status(home.path(), &["--url", &url, "--config", config], &[]);
    assert!(stdout(&from_config).contains("PROVIDER"), "{from_config:?}");

    // The flag wins over the configuration.
    let flag = status(
        home.path(),
        &["--url", &url, "--config", config, "--admin-token", "x"],
        &[],
    );
    assert!(
        stdout(&flag).contains("refused the admin token (401)"),
        "{flag:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_admin_api_falls_back_to_health() {
    let home = tempfile::tempdir().unwrap();
    let closed = mock_admin(None).await;
    let out = status(
        home.path(),
        &["--url", &closed, "--admin-token", TOKEN],
        &[],
    );
    assert!(out.status.success(), "the relay is up: {out:?}");
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "cc-relay at {closed} is running: {{\"status\":\"ok\"}}"
        )),
        "{text}"
    );
    assert!(text.contains("the admin API is not enabled"), "{text}");

    let guarded = mock_admin(Some(TOKEN)).await;
    let no_token = status(home.path(), &["--url", &guarded], &[]);
    assert!(no_token.status.success());
    assert!(stdout(&no_token).contains("needs a token: --admin-token or $CC_RELAY_ADMIN_TOKEN"));
    let wrong = status(
        home.path(),
        &["--url", &guarded, "--admin-token", "wrong"],
        &[],
    );
    assert!(wrong.status.success());
    assert!(stdout(&wrong).contains("refused the admin token (401)"));
}

#[test]
fn a_relay_that_is_down_exits_non_zero() {
    let home = tempfile::tempdir().unwrap();
    let dead = format!("http://{}", unused_local_addr().unwrap());
    let out = status(home.path(), &["--url", &dead, "--admin-token", TOKEN], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not reachable"),
        "{out:?}"
    );
    assert!(stdout(&out).is_empty());
}

/// The real relay, with and without `server.admin`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn against_the_real_relay() {
    let (mock, upstream_url) = {
        let mock = relay_test_support::MockUpstream::start().await.unwrap();
        let url = mock.url();
        (mock, url)
    };
    let config = RelayConfig::new()
        .provider(Provider::primary(&upstream_url))
        .logging("level", "debug")
        .server("admin", json!({ "token": TOKEN }));
    let relay = start_relay_with(&config).await;
    let sent = post_message(&relay, &[], false).await;
    assert_eq!(sent.status, 200, "{}", sent.text());

    let home = tempfile::tempdir().unwrap();
    let config_path = relay.config_path().unwrap().to_str().unwrap().to_owned();
    let out = status(
        home.path(),
        &["--url", &relay.url(), "--config", &config_path],
        &[],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{out:?}");
    assert!(
        text.contains("PROVIDER"),
        "the real relay's /admin/stats should give a table (is the admin API built?):\n{text}"
    );
    let primary: Vec<&str> = line(&text, "primary").split_whitespace().collect();
    assert_eq!(
        &primary[..4],
        ["primary", "anthropic", "closed", "active"],
        "{text}"
    );
    assert_eq!(primary[5], "1", "one request relayed: {text}");
    assert!(
        line(&text, "requests").starts_with("requests 1 (0 errors)"),
        "{text}"
    );
    drop(mock);

    let (plain, _mock) = relay_and_mock().await;
    let out = status(
        home.path(),
        &["--url", &plain.url(), "--admin-token", TOKEN],
        &[],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("the admin API is not enabled"),
        "{out:?}"
    );
}
