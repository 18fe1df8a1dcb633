//! The admin API through the real binary: off without a token, its token
//! checked, read-only by default, switching providers off and on, reloading,
//! and `/metrics` on a listener of its own or behind the admin token.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod observe_support;

use common::*;
use observe_support::*;
use relay_core::Secret;
use relay_test_support::{MockUpstream, TestClient, unused_local_addr};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_is_off_without_a_token_and_guarded_with_one() {
    let mock = MockUpstream::start().await.unwrap();
    let relay = start_relay_with(&two_providers(&mock.url(), &mock.url())).await;
    let client = TestClient::new();
    let stats = client
        .get(format!("{}/admin/stats", relay.url()))
        .await
        .unwrap();
    assert_eq!(stats.status, 404);
    let with_token = admin_request(&relay, "GET", "/admin/stats", Some(ADMIN_TOKEN)).await;
    assert_eq!(with_token.status, 404, "no token configured: no admin API");
    // Metrics are open by default, without the clients' key.
    let metrics = client
        .get(format!("{}/metrics", relay.url()))
        .await
        .unwrap();
    assert_eq!(metrics.status, 200);
    assert!(
        relay
            .logs()
            .iter()
            .any(|l| l.contains("admin API disabled"))
    );

    let config = two_providers(&mock.url(), &mock.url()).server("admin", admin(true));
    let relay = start_relay_with(&config).await;
    let missing = admin_request(&relay, "GET", "/admin/stats", None).await;
    assert_eq!(missing.status, 401);
    assert_anthropic_error(&missing.body, "authentication_error");
    let wrong = admin_request(
        &relay,
        "GET",
        "/admin/stats",
        Some("admin-token-wrong-000000"),
    )
    .await;
    assert_eq!(wrong.status, 401);
    let bearer = format!("Bearer {ADMIN_TOKEN}");
    let ok = client
        .request(
            "GET",
            format!("{}/admin/stats", relay.url()),
            &[("authorization", bearer.as_str())],
            "",
        )
        .await
        .unwrap();
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(ok.json().unwrap()["read_only"], true);
    // The client key is not an admin token.
    let client_key = admin_request(&relay, "GET", "/admin/stats", Some(RELAY_KEY)).await;
    assert_eq!(client_key.status, 401);
    for path in ["/admin/providers/primary/disable", "/admin/reload"] {
        let refused = admin_request(&relay, "POST", path, Some(ADMIN_TOKEN)).await;
        assert_eq!(refused.status, 403, "{path}");
        assert_anthropic_error(&refused.body, "permission_error");
    }
    assert_no_secret_logged(&relay, &[ADMIN_TOKEN, RELAY_KEY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_switches_a_provider_off_and_on_and_reloads() {
    let [primary, secondary] = mocks().await;
    let config = two_providers(&primary.url(), &secondary.url()).server("admin", admin(false));
    let relay = start_relay(&config.yaml(), &["--no-watch"]).await;
    let client_key = [("x-api-key", RELAY_KEY)];
    // The key that served a request: the provider it went to.
    let served_by = async || {
        let response = post_message(&relay, &client_key, false).await;
        response.header("x-cc-relay-key-id").map(str::to_owned)
    };
    let (id_p, id_s) = (
        Some(Secret::new(KEY_P).short_id()),
        Some(Secret::new(KEY_S).short_id()),
    );
    assert_eq!(served_by().await, id_p);

    let off = admin_request(
        &relay,
        "POST",
        "/admin/providers/primary/disable",
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(off.status, 200, "{}", off.text());
    assert_eq!(off.json().unwrap()["disabled_by_operator"], true);
    assert_eq!(served_by().await, id_s);
    let stats = get_stats(&relay, ADMIN_TOKEN).await;
    assert_eq!(stats["providers"][0]["disabled_by_operator"], true);
    assert_eq!(stats["providers"][0]["active"], false);
    let listed = TestClient::new()
        .request(
            "GET",
            format!("{}/v1/providers", relay.url()),
            &client_key,
            "",
        )
        .await
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(listed["data"][0]["name"], "primary");
    assert_eq!(
        listed["data"][0]["active"], false,
        "every surface agrees: a provider the operator disabled is inactive"
    );
    assert_eq!(listed["data"][1]["active"], true);
    let metrics = get_metrics(&relay.url(), None).await;
    assert_eq!(
        metrics.value("cc_relay_provider_disabled", &[("provider", "primary")]),
        1.0
    );

    let on = admin_request(
        &relay,
        "POST",
        "/admin/providers/primary/enable",
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(on.status, 200);
    assert_eq!(served_by().await, id_p);
    let unknown = admin_request(
        &relay,
        "POST",
        "/admin/providers/nope/disable",
        Some(ADMIN_TOKEN),
    )
    .await;
    assert_eq!(unknown.status, 404);
    assert!(
        relay
            .logs()
            .iter()
            .any(|l| l.contains("provider disabled by an operator"))
    );

    // A reload through the API applies the edited file (not watched here).
    relay
        .rewrite_config(&config.yaml().replace("priority: 2", "priority: 0"))
        .unwrap();
    let reload = admin_request(&relay, "POST", "/admin/reload", Some(ADMIN_TOKEN)).await;
    assert_eq!(reload.status, 200, "{}", reload.text());
    assert_eq!(reload.json().unwrap()["generation"], 2);
    assert_eq!(served_by().await, id_s);
    let stats = get_stats(&relay, ADMIN_TOKEN).await;
    assert_eq!(stats["config_generation"], 2);
    let metrics = get_metrics(&relay.url(), None).await;
    assert_eq!(
        metrics.value("cc_relay_config_reloads_total", &[("result", "success")]),
        1.0
    );
    assert_eq!(metrics.value("cc_relay_config_generation", &[]), 2.0);

    // A broken file is refused and the relay keeps its configuration.
    relay.rewrite_config("providers: [ {").unwrap();
    let refused = admin_request(&relay, "POST", "/admin/reload", Some(ADMIN_TOKEN)).await;
    assert_eq!(refused.status, 422);
    assert_eq!(get_stats(&relay, ADMIN_TOKEN).await["config_generation"], 2);
    assert!(
        relay
            .logs()
            .iter()
            .any(|l| l.contains("trigger=admin API") || l.contains("admin API"))
    );
    assert_no_secret_logged(&relay, &[ADMIN_TOKEN, KEY_P, KEY_S]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_have_a_listener_of_their_own_and_the_admin_token() {
    let mock = MockUpstream::start().await.unwrap();
    let metrics_addr = unused_local_addr().unwrap();
    let config = two_providers(&mock.url(), &mock.url())
        .server("metrics_listen", metrics_addr.to_string())
        .server(
            "admin",
            json!({ "token": ADMIN_TOKEN, "protect_metrics": true }),
        );
    let relay = start_relay_with(&config).await;
    let metrics_url = format!("http://{metrics_addr}");
    let client = TestClient::new();
    let open = client.get(format!("{metrics_url}/metrics")).await.unwrap();
    assert_eq!(open.status, 401, "protect_metrics asks for the admin token");
    let metrics = get_metrics(&metrics_url, Some(ADMIN_TOKEN)).await;
    assert!(
        metrics.contains("cc_relay_requests_total")
            || metrics.contains("cc_relay_in_flight_requests")
    );
    let main = admin_request(&relay, "GET", "/metrics", Some(ADMIN_TOKEN)).await;
    assert_eq!(main.status, 404, "only on the metrics listener");
    let stats = client
        .request(
            "GET",
            format!("{metrics_url}/admin/stats"),
            &[("x-admin-token", ADMIN_TOKEN)],
            "",
        )
        .await
        .unwrap();
    assert_eq!(
        stats.status, 404,
        "the metrics listener serves nothing else"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_event_stream_does_not_hold_up_shutdown() {
    let mock = MockUpstream::start().await.unwrap();
    let config = two_providers(&mock.url(), &mock.url()).server("admin", admin(true));
    let relay = start_relay_with(&config).await;
    let events = Events::open(&relay, ADMIN_TOKEN).await;
    relay.signal(relay_test_support::Signal::Term).unwrap();
    // Far below the 30 s drain allowed to requests: the stream ends at once.
    let status = relay
        .wait_exit(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert!(status.success(), "{status}");
    drop(events);
}
