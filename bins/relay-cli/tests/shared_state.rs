//! Several real `cc-relay` processes sharing routing state through one real
//! `redis-server` (`state.backend: redis`), started on a free loopback port.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Provider, RelayConfig, post_message, start_relay_with};
use relay_test_support::{MockReply, MockUpstream, RedisServer, RelayProcess, TestClient};
use serde_json::Value;

const ADMIN_TOKEN: &str = "admin-token-for-shared-state";
/// The sync interval the tests run with; documented bounds are in its units.
const SYNC_MS: u64 = 100;
/// Long enough for a change to cross: one sync interval plus slack for a
/// loaded machine.
const CROSS: Duration = Duration::from_millis(400);

fn shared(redis: &RedisServer) -> RelayConfig {
    RelayConfig::new()
        .server("timeout_ms", 5000)
        .server(
            "admin",
            serde_json::json!({ "token": ADMIN_TOKEN, "read_only": false }),
        )
        .logging("level", "info")
        .routing("debug", true)
        .state("backend", "redis")
        .state("redis_url", redis.url())
        .state("key_prefix", "cc-relay-test")
        .state("sync_interval_ms", SYNC_MS)
}

async fn fleet(config: &RelayConfig, n: usize) -> Vec<RelayProcess> {
    let mut relays = Vec::new();
    for _ in 0..n {
        let relay = start_relay_with(config).await;
        relay
            .wait_for_log("state backend connected", Duration::from_secs(10))
            .await
            .expect("the relay connects to redis");
        relays.push(relay);
    }
    relays
}

async fn stats(relay: &RelayProcess) -> Value {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    TestClient::new()
        .request(
            "GET",
            format!("{}/admin/stats", relay.url()),
            &[("authorization", &auth)],
            "",
        )
        .await
        .unwrap()
        .json()
        .unwrap()
}

fn api_key(request: &relay_test_support::RecordedRequest) -> String {
    request.header("x-api-key").unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rpm_limit_holds_across_three_instances() {
    let redis = RedisServer::start().await.unwrap();
    let upstream = MockUpstream::start().await.unwrap();
    let config = shared(&redis).provider(Provider::anthropic("a", &upstream.url()).set(
        "keys",
        serde_json::json!([{ "key": "sk-only", "rpm_limit": 6 }]),
    ));
    let relays = fleet(&config, 3).await;
    let mut statuses = Vec::new();
    // Spaced by more than the sync interval: the documented bound is the
    // limit plus what instances admit within one interval of each other.
    for i in 0..12 {
        let response = post_message(&relays[i % 3], &[], false).await;
        statuses.push(response.status);
        tokio::time::sleep(Duration::from_millis(3 * SYNC_MS)).await;
    }
    let accepted = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(accepted, 6, "statuses {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 429),
        "{statuses:?}"
    );
    assert_eq!(upstream.request_count(), 6);
    let state = &stats(&relays[0]).await["state"];
    assert_eq!(state["backend"], "redis");
    assert_eq!(state["connected"], true);
    assert_eq!(state["peers"], 2, "{state}");
    assert!(state["last_sync_ms"].as_u64().is_some());
    assert!(!state.to_string().contains("@"), "{state}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_on_one_instance_rests_the_key_on_the_other() {
    let redis = RedisServer::start().await.unwrap();
    let upstream = MockUpstream::start().await.unwrap();
    let config = shared(&redis)
        .provider(Provider::anthropic("a", &upstream.url()).keys(&["sk-one", "sk-two"]));
    let relays = fleet(&config, 2).await;
    upstream.enqueue(
        MockReply::error(429, "rate_limit_error", "slow down").header("retry-after", "30"),
    );
    let first = post_message(&relays[0], &[], false).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let limited = api_key(&upstream.requests()[0]);
    tokio::time::sleep(CROSS).await;
    for _ in 0..4 {
        let response = post_message(&relays[1], &[], false).await;
        assert_eq!(response.status, 200, "{}", response.text());
    }
    let used_by_b: Vec<String> = upstream.requests()[2..].iter().map(api_key).collect();
    assert!(
        used_by_b.iter().all(|k| *k != limited),
        "B used the key A saw limited: {used_by_b:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn circuits_affinity_and_switches_cross_instances() {
    let redis = RedisServer::start().await.unwrap();
    let [a, b] = [
        MockUpstream::start().await.unwrap(),
        MockUpstream::start().await.unwrap(),
    ];
    let config = shared(&redis)
        .routing("strategy", "round_robin")
        .health(
            "circuit_breaker",
            serde_json::json!({ "failure_threshold": 1 }),
        )
        .health("health_check", serde_json::json!({ "enabled": false }))
        .providers([
            Provider::anthropic("a", &a.url()).key("sk-a"),
            Provider::anthropic("b", &b.url()).key("sk-b"),
        ]);
    let relays = fleet(&config, 2).await;

    // Affinity: a conversation A served stays put when B gets the next turns.
    let session = [("x-claude-code-session-id", "conversation-1")];
    let first = post_message(&relays[0], &session, false).await;
    let pinned = first.header("x-cc-relay-provider").unwrap().to_owned();
    tokio::time::sleep(CROSS).await;
    for _ in 0..3 {
        let next = post_message(&relays[1], &session, false).await;
        assert_eq!(next.header("x-cc-relay-provider"), Some(pinned.as_str()));
    }

    // A circuit opened on A is skipped by B within a second.
    a.set_default(MockReply::error(500, "api_error", "down"));
    let served_before = a.request_count();
    let mut opened = false;
    for _ in 0..4 {
        let response = post_message(&relays[0], &[], false).await;
        assert_eq!(response.status, 200, "failover serves: {}", response.text());
        if a.request_count() > served_before {
            opened = true;
            break;
        }
    }
    assert!(opened, "A tried provider a");
    let tried_a = a.request_count();
    tokio::time::sleep(Duration::from_secs(1)).await;
    for _ in 0..4 {
        let response = post_message(&relays[1], &[], false).await;
        assert_eq!(response.header("x-cc-relay-provider"), Some("b"));
    }
    assert_eq!(a.request_count(), tried_a, "B skipped the open circuit");

    // A provider switched off through A's admin API is off on B.
    a.set_default(MockReply::auto());
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let off = TestClient::new()
        .request(
            "POST",
            format!("{}/admin/providers/b/disable", relays[0].url()),
            &[("authorization", &auth)],
            "",
        )
        .await
        .unwrap();
    assert_eq!(off.status, 200, "{}", off.text());
    tokio::time::sleep(CROSS).await;
    let on_b = stats(&relays[1]).await;
    let b_entry = on_b["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "b")
        .unwrap()
        .clone();
    assert_eq!(b_entry["disabled_by_operator"], true, "{b_entry}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_load_fails_no_request_and_sharing_resumes() {
    let mut redis = RedisServer::start().await.unwrap();
    let upstream = MockUpstream::start().await.unwrap();
    let config = shared(&redis)
        .provider(Provider::anthropic("a", &upstream.url()).keys(&["sk-one", "sk-two"]));
    let relays = std::sync::Arc::new(fleet(&config, 2).await);
    // Garbage under our prefix is skipped, not fatal.
    for args in [
        &["SET", "cc-relay-test:circuit:a", "not json"][..],
        &["HSET", "cc-relay-test:switches", "a", "{\"broken\":"][..],
        &["PUBLISH", "cc-relay-test:events", "\u{1}garbage"][..],
    ] {
        redis.command(args).await.unwrap();
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for client in 0..4 {
        let (relays, stop) = (relays.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut failures = Vec::new();
            let mut served = 0;
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let relay = &relays[(client + i) % 2];
                let streaming = (client + i) % 2 == 0;
                let response = post_message(relay, &[], streaming).await;
                let complete = !streaming || response.text().contains("message_stop");
                if response.status != 200 || !complete {
                    failures.push((response.status, response.text()));
                }
                served += 1;
                i += 1;
            }
            (served, failures)
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    redis.kill().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for relay in relays.iter() {
        assert_eq!(stats(relay).await["state"]["connected"], false);
    }
    redis.restart().await.unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut total = 0;
    for client in clients {
        let (served, failures) = client.await.unwrap();
        assert!(failures.is_empty(), "failed requests: {failures:?}");
        total += served;
    }
    assert!(total > 20, "the load ran: {total}");

    // Sharing resumes within 5 s of the restart: a 429 crosses again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let connected = [&relays[0], &relays[1]];
        let mut all = true;
        for relay in connected {
            all &= stats(relay).await["state"]["connected"] == true;
        }
        if all {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reconnect within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let before = upstream.request_count();
    upstream.enqueue(
        MockReply::error(429, "rate_limit_error", "slow down").header("retry-after", "30"),
    );
    assert_eq!(post_message(&relays[0], &[], false).await.status, 200);
    let limited = api_key(&upstream.requests()[before]);
    tokio::time::sleep(CROSS).await;
    for _ in 0..3 {
        assert_eq!(post_message(&relays[1], &[], false).await.status, 200);
    }
    let after: Vec<String> = upstream.requests()[before + 2..]
        .iter()
        .map(api_key)
        .collect();
    assert!(after.iter().all(|k| *k != limited), "{after:?}");
    let state = &stats(&relays[0]).await["state"];
    assert!(state["decode_errors"].as_u64().unwrap() >= 1, "{state}");
    assert!(state["sync_errors"].as_u64().unwrap() >= 1, "{state}");
    for relay in relays.iter() {
        let logs = relay.logs().join("\n");
        assert_eq!(
            logs.matches("state backend unavailable").count(),
            1,
            "down is logged once: {logs}"
        );
    }
}
