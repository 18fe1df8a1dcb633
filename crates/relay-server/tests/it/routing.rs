//! Routing in process with several mock upstreams: failover
//! within a request, key rotation, learned limits, circuit breakers,
//! affinity, debug headers, and thinking blocks moved between backends.

use std::time::Duration;

use crate::support::*;
use relay_test_support::{MockReply, MockUpstream, TestClient, TestResponse, unused_local_addr};
use serde_json::json;

fn provider(name: &str, url: &str, keys: &[&str]) -> Provider {
    Provider::anthropic(name, url)
        .models(&["claude-sonnet-4-5"])
        .keys(keys)
}

/// `strategy`, and a breaker that opens after two failures for 400 ms.
fn config(strategy: &str) -> RelayConfig {
    RelayConfig::new()
        .server("timeout_ms", 3000)
        .routing("strategy", strategy)
        .health(
            "circuit_breaker",
            json!({ "failure_threshold": 2, "open_duration_ms": 400, "half_open_probes": 1 }),
        )
}

/// Failover, with debug headers, from `primary` (priority 2) to `secondary`.
fn primary_then_secondary(primary: &str, secondary: &str, keys: [&str; 2]) -> RelayConfig {
    config("failover")
        .routing("debug", true)
        .provider(provider("primary", primary, &[keys[0]]).priority(2))
        .provider(provider("secondary", secondary, &[keys[1]]).priority(1))
}

/// Failover from `a` (key `k1`) to `b` (key `k2`).
fn a_then_b(a: &str, b: &str) -> RelayConfig {
    config("failover")
        .provider(provider("a", a, &["k1"]))
        .provider(provider("b", b, &["k2"]))
}

async fn post(relay: &TestRelay, headers: &[(&str, &str)]) -> TestResponse {
    post_message(relay, headers, false).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overloaded_primary_is_served_by_the_secondary_in_the_same_request() {
    let [primary, secondary] = mocks().await;
    primary.enqueue(MockReply::error(529, "overloaded_error", "Overloaded"));
    let config = primary_then_secondary(&primary.url(), &secondary.url(), ["key-p", "key-s"]);
    let relay = start_relay_with(&config).await;
    let response = post(&relay, &[]).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("x-cc-relay-provider"), Some("secondary"));
    assert_eq!(response.header("x-cc-relay-strategy"), Some("failover"));
    assert_eq!(primary.request_count(), 1);
    assert_eq!(secondary.request_count(), 1);
    assert_eq!(secondary.requests()[0].header("x-api-key"), Some("key-s"));
    // The next request goes back to the healthy primary.
    let response = post(&relay, &[]).await;
    assert_eq!(response.header("x-cc-relay-provider"), Some("primary"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_are_returned_as_they_are_and_never_retried() {
    let [primary, secondary] = mocks().await;
    primary.enqueue(MockReply::error(
        400,
        "invalid_request_error",
        "max_tokens: too large",
    ));
    let relay = start_relay_with(&a_then_b(&primary.url(), &secondary.url())).await;
    let response = post(&relay, &[]).await;
    assert_eq!(response.status, 400);
    assert!(response.text().contains("max_tokens: too large"));
    assert_eq!(secondary.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_stream_is_never_retried() {
    let [primary, secondary] = mocks().await;
    primary.enqueue(MockReply::stream("cut short").cut_after(1));
    let relay = start_relay_with(&a_then_b(&primary.url(), &secondary.url())).await;
    let stream = open_stream(&relay).await;
    let events = stream.collect_events().await.unwrap();
    assert_eq!(events.last().unwrap().0, "error");
    assert_eq!(secondary.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_and_a_rate_limited_key_hands_over_to_the_next() {
    let upstream = MockUpstream::start().await.unwrap();
    let relay = start_relay_with(
        &config("failover").provider(
            provider("a", &upstream.url(), &["key-1", "key-2", "key-3"])
                .set("pooling", json!({ "strategy": "round_robin" })),
        ),
    )
    .await;
    for _ in 0..6 {
        assert_eq!(post(&relay, &[]).await.status, 200);
    }
    let used: Vec<String> = upstream
        .requests()
        .iter()
        .map(|r| r.header("x-api-key").unwrap().to_owned())
        .collect();
    for key in ["key-1", "key-2", "key-3"] {
        assert_eq!(
            used.iter().filter(|k| *k == key).count(),
            2,
            "round robin over the pool: {used:?}"
        );
    }

    // A 429 on one key: the same request is served by another key of the same provider.
    upstream.enqueue(
        MockReply::error(429, "rate_limit_error", "slow down").header("retry-after", "60"),
    );
    let response = post(&relay, &[]).await;
    assert_eq!(response.status, 200, "{}", response.text());
    let requests = upstream.requests();
    let (limited, served) = (&requests[6], &requests[7]);
    assert_ne!(limited.header("x-api-key"), served.header("x-api-key"));
    assert_eq!(response.header("x-cc-relay-keys-total"), Some("3"));
    assert_eq!(
        response.header("x-cc-relay-keys-available"),
        Some("2"),
        "the limited key rests"
    );
    let key_id = response.header("x-cc-relay-key-id").unwrap();
    assert_eq!(key_id.len(), 8);
    assert!(!key_id.contains("key-"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_learned_from_headers_stop_the_relay_from_sending_over_them() {
    let upstream = MockUpstream::start().await.unwrap();
    let relay = start_relay_with(&config("failover").provider(provider(
        "a",
        &upstream.url(),
        &["only-key"],
    )))
    .await;
    let reset = humantime_reset(Duration::from_secs(30));
    upstream.enqueue(
        MockReply::auto()
            .header("anthropic-ratelimit-requests-limit", "50")
            .header("anthropic-ratelimit-requests-remaining", "0")
            .header("anthropic-ratelimit-requests-reset", &reset),
    );
    assert_eq!(post(&relay, &[]).await.status, 200);
    let refused = post(&relay, &[]).await;
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert_anthropic_error(&refused.body, "rate_limit_error");
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (20..=31).contains(&retry_after),
        "retry-after {retry_after}"
    );
    assert_eq!(
        upstream.request_count(),
        1,
        "the relay did not send over the learned limit"
    );
}

fn humantime_reset(after: Duration) -> String {
    let at = std::time::SystemTime::now() + after;
    let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    // RFC 3339 in UTC, computed without a date crate: days since epoch → civil date.
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opens_skips_the_provider_and_recovers() {
    let [primary, secondary] = mocks().await;
    primary.enqueue(MockReply::error(500, "api_error", "boom"));
    primary.enqueue(MockReply::error(500, "api_error", "boom"));
    let config = primary_then_secondary(&primary.url(), &secondary.url(), ["k1", "k2"]);
    let relay = start_relay_with(&config).await;
    for _ in 0..2 {
        let response = post(&relay, &[]).await;
        assert_eq!(response.header("x-cc-relay-provider"), Some("secondary"));
    }
    // Two consecutive failures opened the primary's circuit: it is not even tried.
    let response = post(&relay, &[]).await;
    assert_eq!(response.header("x-cc-relay-provider"), Some("secondary"));
    assert_eq!(primary.request_count(), 2);
    let providers = list_providers(&relay).await;
    assert_eq!(providers["data"][0]["active"], false);
    assert_eq!(providers["data"][0]["circuit"], "open");

    tokio::time::sleep(Duration::from_millis(500)).await;
    // Half-open: one probe goes to the primary, succeeds, and closes the circuit.
    let response = post(&relay, &[]).await;
    assert_eq!(response.header("x-cc-relay-provider"), Some("primary"));
    let response = post(&relay, &[]).await;
    assert_eq!(response.header("x-cc-relay-provider"), Some("primary"));
    assert_eq!(response.header("x-cc-relay-health"), Some("closed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_provider_down_gives_the_last_error_or_a_clear_503() {
    let dead_a = unused_local_addr().unwrap();
    let dead_b = unused_local_addr().unwrap();
    let relay = start_relay_with(&a_then_b(
        &format!("http://{dead_a}"),
        &format!("http://{dead_b}"),
    ))
    .await;
    let response = post(&relay, &[]).await;
    assert_eq!(response.status, 502, "{}", response.text());
    assert_anthropic_error(&response.body, "api_error");
    // Each failed once; after a second round both circuits are open.
    post(&relay, &[]).await;
    let response = post(&relay, &[]).await;
    assert_eq!(response.status, 503, "{}", response.text());
    assert_anthropic_error(&response.body, "overloaded_error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_stays_on_its_provider_under_round_robin() {
    let [a, b] = mocks().await;
    let relay = start_relay_with(
        &config("round_robin")
            .routing("debug", true)
            .provider(provider("a", &a.url(), &["ka"]))
            .provider(provider("b", &b.url(), &["kb"])),
    )
    .await;
    let session = [(
        "x-claude-code-session-id",
        "11111111-2222-4333-8444-555555555555",
    )];
    let first = post(&relay, &session)
        .await
        .header("x-cc-relay-provider")
        .unwrap()
        .to_owned();
    for _ in 0..4 {
        let response = post(&relay, &session).await;
        assert_eq!(response.header("x-cc-relay-provider"), Some(first.as_str()));
        assert_eq!(response.header("x-cc-relay-affinity"), Some("hit"));
    }
    // Without a session, round robin alternates.
    let x = post(&relay, &[])
        .await
        .header("x-cc-relay-provider")
        .unwrap()
        .to_owned();
    let y = post(&relay, &[])
        .await
        .header("x-cc-relay-provider")
        .unwrap()
        .to_owned();
    assert_ne!(x, y);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thinking_signed_elsewhere_is_dropped_when_the_conversation_moves() {
    let [a, b] = mocks().await;
    a.enqueue(MockReply::sse(vec![
        ("message_start", json!({"type":"message_start","message":{"id":"m1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"usage":{"input_tokens":5,"output_tokens":1}}})),
        ("content_block_start", json!({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}})),
        ("content_block_delta", json!({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}})),
        ("content_block_delta", json!({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"SIGNED_BY_A"}})),
        ("content_block_stop", json!({"type":"content_block_stop","index":0})),
        ("message_delta", json!({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}})),
        ("message_stop", json!({"type":"message_stop"})),
    ]));
    let relay = start_relay_with(
        &config("failover")
            .provider(provider("a", &a.url(), &["ka"]).priority(2))
            .provider(provider("b", &b.url(), &["kb"]).priority(1)),
    )
    .await;
    let url = format!("{}/v1/messages", relay.url());
    let stream = open_stream(&relay).await;
    stream.collect_events().await.unwrap();

    // Provider a is now overloaded: the next turn, carrying a's signature, goes to b without it.
    a.set_default(MockReply::error(529, "overloaded_error", "Overloaded"));
    let next_turn = json!({
        "model": "claude-sonnet-4-5", "max_tokens": 64,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": [
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm", "signature": "SIGNED_BY_A"}, {"type": "text", "text": "hi"}]},
            {"role": "user", "content": "again"}
        ]
    });
    let response = TestClient::new()
        .post_json(&url, &[], &next_turn)
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    let sent_to_a = a.requests().last().unwrap().json().unwrap();
    assert_eq!(
        sent_to_a["messages"][1]["content"][0]["signature"], "SIGNED_BY_A",
        "a gets its own signature"
    );
    let sent_to_b = b.requests()[0].json().unwrap();
    assert_eq!(
        sent_to_b["messages"][1]["content"],
        json!([{"type": "text", "text": "hi"}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_active_health_check_half_opens_an_open_circuit_and_real_requests_close_it() {
    let [primary, secondary] = mocks().await;
    primary.set_default(MockReply::error(500, "api_error", "down"));
    let config = RelayConfig::new()
        .routing("strategy", "failover")
        .routing("debug", true)
        .health(
            "health_check",
            json!({ "enabled": true, "interval_ms": 150 }),
        )
        .health(
            "circuit_breaker",
            json!({ "failure_threshold": 1, "open_duration_ms": 60000, "half_open_probes": 1 }),
        )
        .provider(provider("primary", &primary.url(), &["kp"]).priority(2))
        .provider(provider("secondary", &secondary.url(), &["ks"]).priority(1));
    let relay = start_relay_with(&config).await;
    assert_eq!(
        post(&relay, &[]).await.header("x-cc-relay-provider"),
        Some("secondary")
    );

    let circuit = || async {
        let providers = list_providers(&relay).await;
        providers["data"][0]["circuit"].as_str().unwrap().to_owned()
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        circuit().await,
        "open",
        "still failing: the probes keep it open"
    );
    let probes: Vec<_> = primary
        .requests()
        .into_iter()
        .filter(|r| r.method.as_str() == "GET")
        .collect();
    assert!(
        !probes.is_empty(),
        "the health check probes a real endpoint"
    );
    assert_eq!(probes[0].path_and_query, "/v1/models");
    assert_eq!(probes[0].header("x-api-key"), Some("kp"));

    primary.set_default(MockReply::auto());
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while circuit().await != "half_open" {
        assert!(
            std::time::Instant::now() < deadline,
            "the open period never ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A passing check proves the server answers, not that the Messages API
    // works: it stays half-open, with no client traffic, until a real request decides.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        circuit().await,
        "half_open",
        "a passing check never closes a circuit"
    );
    assert_eq!(
        post(&relay, &[]).await.header("x-cc-relay-provider"),
        Some("primary")
    );
    assert_eq!(circuit().await, "closed", "the real request closed it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_tokens_on_a_provider_without_it_is_estimated_and_is_not_a_failure() {
    let [bedrock, anthropic] = mocks().await;
    let relay = start_relay_with(
        &config("failover")
            .routing("debug", true)
            .provider(
                Provider::new("bedrock", "bedrock")
                    .set("aws_region", "us-east-1")
                    .base_url(&bedrock.url())
                    // A Bedrock API key (prefix `bedrock-api-key-`), not a placeholder.
                    .key("bedrock-api-key-test")
                    .priority(2),
            )
            .provider(provider("anthropic", &anthropic.url(), &["ka"]).priority(1)),
    )
    .await;
    let url = format!("{}/v1/messages/count_tokens", relay.url());
    for _ in 0..3 {
        let response = TestClient::new()
            .post_json(&url, &[], &json!({"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]}))
            .await
            .unwrap();
        assert_eq!(response.status, 200, "{}", response.text());
        // The chosen provider has no count_tokens: the relay answers with its
        // own estimate (docs/providers.md) instead of sending it elsewhere.
        assert_eq!(response.header("x-cc-relay-provider"), Some("bedrock"));
        assert_eq!(response.header("x-cc-relay-keys-total"), Some("1"));
        assert_eq!(response.header("x-cc-relay-estimate"), Some("true"));
        assert!(response.json().unwrap()["input_tokens"].as_u64().unwrap() > 0);
    }
    assert_eq!(bedrock.request_count(), 0);
    assert_eq!(anthropic.request_count(), 0);
    let providers = list_providers(&relay).await;
    assert_eq!(
        providers["data"][0]["circuit"], "closed",
        "an estimate is not a failure: {providers}"
    );
}
