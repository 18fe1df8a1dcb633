//! Observability through the real binary: `/metrics` (parsed as Prometheus
//! text), `/admin/stats` and the `/admin/events` stream after a mix of
//! requests, JSON access logs, and that no configured secret ever shows in
//! any of them. The admin API's auth and actions: tests/admin_api.rs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod observe_support;

use std::time::{Duration, SystemTime};

use common::*;
use observe_support::*;
use relay_core::Secret;
use relay_test_support::{MockReply, MockUpstream, RelayOptions, RelayProcess, Signal};
use serde_json::Value;

/// The primary's replies teach its key's limits through Anthropic's headers.
fn with_limits(reply: MockReply) -> MockReply {
    let reset =
        humantime::format_rfc3339_seconds(SystemTime::now() + Duration::from_secs(60)).to_string();
    let mut reply = reply;
    for (dimension, limit, remaining) in [
        ("requests", "50", "41"),
        ("input-tokens", "30000", "25000"),
        ("output-tokens", "8000", "7000"),
    ] {
        reply = reply
            .header(&format!("anthropic-ratelimit-{dimension}-limit"), limit)
            .header(
                &format!("anthropic-ratelimit-{dimension}-remaining"),
                remaining,
            )
            .header(&format!("anthropic-ratelimit-{dimension}-reset"), &reset);
    }
    reply
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_stats_and_events_describe_a_mix_of_requests() {
    let [primary, secondary] = mocks().await;
    primary.set_default(with_limits(MockReply::auto()));
    let config = two_providers(&primary.url(), &secondary.url()).server("admin", admin(true));
    let relay = start_relay(&config.yaml(), &["--debug"]).await;
    let (id_p, id_s) = (Secret::new(KEY_P).short_id(), Secret::new(KEY_S).short_id());
    let mut events = Events::open(&relay, ADMIN_TOKEN).await;
    let mut tokens = Tokens::default();
    let client_key = [("x-api-key", RELAY_KEY)];

    // 1. A plain success on the primary.
    let response = post_message(&relay, &client_key, false).await;
    assert_eq!(response.status, 200, "{}", response.text());
    tokens.add_json(&response.json().unwrap());
    let event = events.next_for(&response).await;
    assert_eq!(event["provider"], "primary");
    assert_eq!(event["key_id"], id_p.as_str());
    assert_eq!(event["model"], "claude-sonnet-4-5");
    assert_eq!(event["status"], 200);
    assert_eq!(event["outcome"], "complete");
    assert_eq!(event["stream"], false);
    assert_eq!(event["failovers"], serde_json::json!([]));
    assert!(event["input_tokens"].as_u64().unwrap() > 0, "{event}");
    assert!(event["overhead_ms"].as_f64().unwrap() < event["latency_ms"].as_f64().unwrap());

    // 2. The primary is overloaded: the secondary serves in the same request.
    primary.enqueue(with_limits(MockReply::error(
        529,
        "overloaded_error",
        "Overloaded",
    )));
    let response = post_message(&relay, &client_key, false).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let failover_tokens = Tokens::from_json(&response.json().unwrap());
    let event = events.next_for(&response).await;
    assert_eq!(event["provider"], "secondary");
    assert_eq!(event["key_id"], id_s.as_str());
    assert_eq!(event["failovers"], serde_json::json!(["overloaded"]));
    assert_eq!(event["attempts"], 2);

    // 3. A stream on the primary.
    let response = post_message(&relay, &client_key, true).await;
    assert_eq!(response.status, 200);
    tokens.add_sse(&response.events());
    let event = events.next_for(&response).await;
    assert_eq!(event["stream"], true);
    assert_eq!(event["provider"], "primary");
    assert!(event["ttft_ms"].as_f64().is_some(), "{event}");
    assert_eq!(event["output_tokens"], tokens.last_output);

    // 4. A client the relay refuses: its own error, no provider.
    let response = post_message(&relay, &[("x-api-key", "not-the-relay-key")], false).await;
    assert_eq!(response.status, 401);
    let event = events.next_for(&response).await;
    assert_eq!(event["provider"], "");
    assert_eq!(event["outcome"], "relay_error");
    assert_eq!(event["relay_error"], "authentication_error");

    // 5. Both keys rate limited upstream: the last answer is delivered.
    for mock in [&primary, &secondary] {
        mock.enqueue(
            MockReply::error(429, "rate_limit_error", "slow down").header("retry-after", "30"),
        );
    }
    let response = post_message(&relay, &client_key, false).await;
    assert_eq!(response.status, 429);
    let event = events.next_for(&response).await;
    assert_eq!(event["provider"], "secondary");
    assert_eq!(event["outcome"], "complete");
    assert_eq!(
        event["failovers"],
        serde_json::json!(["rate_limited", "rate_limited"])
    );

    // 6. Every key is cooling down now: the relay answers 429 itself.
    let response = post_message(&relay, &client_key, false).await;
    assert_eq!(response.status, 429);
    assert!(response.header("retry-after").is_some());
    let event = events.next_for(&response).await;
    assert_eq!(event["provider"], "");
    assert_eq!(event["relay_error"], "rate_limit_error");
    assert_eq!(event["model"], "claude-sonnet-4-5");

    // /metrics
    let metrics = get_metrics(&relay.url(), None).await;
    let primary_200 = [
        ("provider", "primary"),
        ("key_id", id_p.as_str()),
        ("model", "claude-sonnet-4-5"),
        ("status", "200"),
        ("outcome", "complete"),
    ];
    assert_eq!(metrics.value("cc_relay_requests_total", &primary_200), 2.0);
    let secondary_200 = [
        ("provider", "secondary"),
        ("key_id", id_s.as_str()),
        ("status", "200"),
    ];
    assert_eq!(
        metrics.value("cc_relay_requests_total", &secondary_200),
        1.0
    );
    let upstream_429 = [
        ("provider", "secondary"),
        ("status", "429"),
        ("outcome", "complete"),
    ];
    assert_eq!(metrics.value("cc_relay_requests_total", &upstream_429), 1.0);
    for status in ["401", "429"] {
        let relay_error = [
            ("provider", ""),
            ("status", status),
            ("outcome", "relay_error"),
        ];
        assert_eq!(
            metrics.value("cc_relay_requests_total", &relay_error),
            1.0,
            "{status}"
        );
    }
    assert_eq!(metrics.value("cc_relay_requests_total", &[]), 6.0);
    for (provider, reason, count) in [
        ("primary", "overloaded", 1.0),
        ("primary", "rate_limited", 1.0),
        ("secondary", "rate_limited", 1.0),
    ] {
        let labels = [
            ("provider", provider),
            ("reason", reason),
            ("scope", "provider"),
        ];
        assert_eq!(
            metrics.value("cc_relay_failovers_total", &labels),
            count,
            "{provider} {reason}"
        );
    }
    let by_kind = |provider: &str, kind: &str| {
        metrics.value(
            "cc_relay_tokens_total",
            &[
                ("provider", provider),
                ("model", "claude-sonnet-4-5"),
                ("kind", kind),
            ],
        )
    };
    assert_eq!(by_kind("primary", "input"), tokens.input as f64);
    assert_eq!(by_kind("primary", "output"), tokens.output as f64);
    assert_eq!(by_kind("secondary", "input"), failover_tokens.input as f64);
    let primary_model = [("provider", "primary"), ("model", "claude-sonnet-4-5")];
    assert_eq!(
        metrics.value("cc_relay_request_duration_seconds_count", &primary_model),
        2.0
    );
    assert_eq!(
        metrics.value("cc_relay_time_to_first_token_seconds_count", &primary_model),
        1.0
    );
    assert_eq!(metrics.value("cc_relay_overhead_seconds_count", &[]), 6.0);
    assert!(metrics.value("cc_relay_overhead_seconds_sum", &[]) > 0.0);
    assert!(metrics.has_bucket("cc_relay_overhead_seconds_bucket", "0.0001"));
    assert_eq!(
        metrics.value("cc_relay_circuit_state", &[("provider", "primary")]),
        0.0
    );
    assert_eq!(
        metrics.value("cc_relay_provider_disabled", &[("provider", "primary")]),
        0.0
    );
    let requests_limit = [
        ("provider", "primary"),
        ("key_id", id_p.as_str()),
        ("dimension", "requests"),
    ];
    assert_eq!(metrics.value("cc_relay_key_limit", &requests_limit), 50.0);
    assert!(metrics.value("cc_relay_key_remaining", &requests_limit) <= 50.0);
    let cooling = [("provider", "secondary"), ("key_id", id_s.as_str())];
    assert_eq!(metrics.value("cc_relay_key_unavailable", &cooling), 1.0);
    // The events stream is not a request in flight.
    assert_eq!(metrics.value("cc_relay_in_flight_requests", &[]), 0.0);
    assert_eq!(metrics.value("cc_relay_config_generation", &[]), 1.0);
    assert!(metrics.contains("cc_relay_affinity_entries"));
    assert!(metrics.contains("cc_relay_build_info"));

    // /admin/stats
    let stats = get_stats(&relay, ADMIN_TOKEN).await;
    assert_stats_shape(&stats);
    assert_eq!(stats["requests_total"], 6);
    assert_eq!(stats["errors_total"], 3);
    assert_eq!(stats["in_flight"], 0);
    assert_eq!(stats["config_generation"], 1);
    assert_eq!(stats["strategy"], "failover");
    assert_eq!(stats["latency_samples"], 6);
    assert_eq!(
        stats["tokens"]["input"],
        tokens.input + failover_tokens.input
    );
    assert_eq!(
        stats["tokens"]["output"],
        tokens.output + failover_tokens.output
    );
    let p = &stats["providers"][0];
    assert_eq!(p["name"], "primary");
    assert_eq!(
        (p["requests"].as_u64(), p["errors"].as_u64()),
        (Some(2), Some(0))
    );
    let key = &p["keys"][0];
    assert_eq!(key["id"], id_p.as_str());
    assert_eq!(key["requests"]["limit"], 50);
    assert_eq!(key["input_tokens"]["limit"], 30000);
    assert_eq!(key["output_tokens"]["limit"], 8000);
    assert!(key["requests"]["remaining"].as_u64().unwrap() <= 50);
    assert!(
        key["cooling_down_for_secs"].as_f64().unwrap() > 0.0,
        "{key}"
    );
    let s = &stats["providers"][1];
    assert_eq!(
        (s["requests"].as_u64(), s["errors"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        s["keys"][0]["requests"]["limit"],
        Value::Null,
        "nothing learned"
    );

    // Nothing anywhere shows a configured secret, even at debug level with
    // request bodies logged.
    let secrets = [KEY_P, KEY_S, RELAY_KEY, ADMIN_TOKEN];
    for (what, text) in [
        ("/metrics", metrics.text.clone()),
        ("/admin/stats", stats.to_string()),
        ("/admin/events", events.seen.join("\n")),
    ] {
        for secret in secrets {
            assert!(!text.contains(secret), "{what} shows a secret");
        }
    }
    assert!(relay.logs().iter().any(|l| l.contains("request body")));
    assert_no_secret_logged(&relay, &secrets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_access_logs_carry_the_request_telemetry() {
    let mock = MockUpstream::start().await.unwrap();
    let relay = start_relay(&one_provider(&mock.url()), &["--log-format", "json"]).await;
    let response = post_message(&relay, &[], false).await;
    assert_eq!(response.status, 200);
    let request_id = response.header("x-request-id").unwrap().to_owned();
    relay
        .wait_for_log("request finished", Duration::from_secs(5))
        .await
        .unwrap();
    let line: Value = relay
        .logs()
        .iter()
        .filter(|l| l.contains("request finished") && l.contains(&request_id))
        .find_map(|l| serde_json::from_str(l).ok())
        .expect("a JSON `request finished` line for the request");
    assert_eq!(line["request_id"], request_id.as_str());
    assert_eq!(line["provider"], "primary");
    assert_eq!(
        line["key_id"],
        Secret::new(UPSTREAM_KEY).short_id().as_str()
    );
    assert_eq!(line["model"], "claude-sonnet-4-5");
    assert_eq!(line["status"], 200);
    assert_eq!(line["outcome"], "complete");
    assert!(line["duration_ms"].as_f64().is_some(), "{line}");
    assert!(line["overhead_ms"].as_f64().is_some(), "{line}");
    let usage = &response.json().unwrap()["usage"];
    assert_eq!(line["input_tokens"], usage["input_tokens"]);
    assert_eq!(line["output_tokens"], usage["output_tokens"]);
    for line in relay.logs().iter().filter(|l| l.starts_with('{')) {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    assert_no_secret_logged(&relay, &[UPSTREAM_KEY]);
}

/// The log is written by its own thread: every line, up to the last
/// request's, must still be in the file once the relay has exited. A log file
/// beside the configuration is warned about (it wakes the watcher).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_file_gets_every_line_by_exit_and_a_warning_beside_the_config() {
    let mock = MockUpstream::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("relay.log");
    let config = dir.path().join("config.yaml");
    let yaml = RelayConfig::one_provider(&mock.url())
        .logging("level", "info")
        .logging("output", log.display().to_string())
        .yaml();
    std::fs::write(&config, yaml).unwrap();
    let relay = RelayProcess::start(RelayOptions {
        binary: env!("CARGO_BIN_EXE_cc-relay").into(),
        args: vec!["--config".into(), config.display().to_string()],
        ..RelayOptions::default()
    })
    .await
    .unwrap();
    let mut request_ids = Vec::new();
    for _ in 0..20 {
        let response = post_message(&relay, &[], false).await;
        assert_eq!(response.status, 200);
        request_ids.push(response.header("x-request-id").unwrap().to_owned());
    }
    relay.signal(Signal::Term).unwrap();
    assert!(
        relay
            .wait_exit(Duration::from_secs(10))
            .await
            .unwrap()
            .success()
    );

    let written = std::fs::read_to_string(&log).unwrap();
    assert!(
        written.contains("the log file is in the configuration's directory"),
        "{written}"
    );
    for id in &request_ids {
        assert!(
            written
                .lines()
                .any(|l| l.contains("request finished") && l.contains(id.as_str())),
            "no access line for {id} in:\n{written}"
        );
    }
    assert!(written.contains("all connections drained"), "{written}");
}
