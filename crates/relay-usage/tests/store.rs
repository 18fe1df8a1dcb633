//! The ledger and the key store against real databases: an SQLite file in a
//! temporary directory, and a PostgreSQL server started for the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use relay_auth::KeyDirectory;
use relay_test_support::PostgresServer;
use relay_usage::api::{CreateKey, GroupBy, UpdateKey};
use relay_usage::pricing::{Tokens, cost_usd, list_prices};
use relay_usage::{ConfigKeys, Ledger, Store, StoreUrl, UsageRow, UsageService, unix_ms};

fn row(i: usize, model: &str, key: Option<&str>) -> UsageRow {
    let tokens = Tokens {
        input: 100,
        output: 50,
        cache_read: 1000,
        cache_write: 200,
        cache_write_1h: 0,
    };
    let cost = list_prices(model).map(|p| cost_usd(&p, &tokens));
    UsageRow {
        ts_ms: unix_ms(SystemTime::now()),
        request_id: format!("req-{i}").into(),
        client: key.map_or("shared", |_| "alice").into(),
        client_key_id: key.map(Arc::from),
        provider: Some("anthropic".into()),
        upstream_key_id: Some("abcd1234".into()),
        model_requested: Some(model.into()),
        model_sent: Some(model.into()),
        status: 200,
        outcome: "complete",
        stream: i.is_multiple_of(2),
        input_tokens: tokens.input,
        output_tokens: tokens.output,
        cache_read_tokens: tokens.cache_read,
        cache_write_tokens: tokens.cache_write,
        cost_usd: cost,
        duration_ms: 12.5,
        ttfb_ms: 3.0,
        attempts: 1,
        failovers: 0,
    }
}

async fn ledger_rows_are_priced_and_grouped(url: StoreUrl) {
    let store = Store::connect(&url).await.unwrap();
    let (ledger, writer) = Ledger::start(store.clone(), Duration::from_millis(20), 1000, None);
    for i in 0..30 {
        let model = if i < 20 {
            "claude-haiku-4-5"
        } else {
            "unpriced-model"
        };
        ledger.record(row(i, model, None));
    }
    writer.close(Duration::from_secs(10)).await;
    assert_eq!(
        store.count_rows().await.unwrap(),
        30,
        "close flushes every row"
    );

    let now = SystemTime::now();
    let report = store
        .usage(
            now - Duration::from_secs(3600),
            now + Duration::from_secs(1),
            GroupBy::Model,
        )
        .await
        .unwrap();
    assert_eq!(report.groups.len(), 2);
    let haiku = &report.groups[0];
    assert_eq!(haiku.group, "claude-haiku-4-5");
    assert_eq!(haiku.requests, 20);
    assert_eq!(haiku.input_tokens, 2000);
    assert_eq!(haiku.cache_read_tokens, 20_000);
    // Per request: 100 x $1 + 50 x $5 + 1000 x $0.10 + 200 x $1.25, per million.
    let per_request = (100.0 + 250.0 + 100.0 + 250.0) / 1e6;
    assert!(
        (haiku.cost_usd - 20.0 * per_request).abs() < 1e-9,
        "{}",
        haiku.cost_usd
    );
    assert_eq!(haiku.unpriced, 0);
    assert_eq!(report.groups[1].unpriced, 10);
    assert_eq!(report.total.requests, 30);
    assert!((report.total.cache_hit_ratio - 1000.0 / 1300.0).abs() < 1e-9);
    let by_day = store
        .usage(
            now - Duration::from_secs(3600),
            now + Duration::from_secs(1),
            GroupBy::Day,
        )
        .await
        .unwrap();
    assert_eq!(by_day.total.requests, 30);
    assert_eq!(
        by_day.groups[0].group.len(),
        10,
        "{:?}",
        by_day.groups[0].group
    );

    assert_eq!(
        store.prune(now + Duration::from_secs(60)).await.unwrap(),
        30
    );
    store.close().await;
}

async fn keys_are_created_enforced_and_revoked(url: StoreUrl) {
    let store = Store::connect(&url).await.unwrap();
    let directory = Arc::new(KeyDirectory::new());
    let service = UsageService::new(
        store.clone(),
        Arc::new(ConfigKeys::default()),
        Some(Arc::clone(&directory)),
    );
    let created = service
        .create_key(&CreateKey {
            name: "alice".into(),
            models: vec!["claude-haiku-*".into()],
            daily_usd: Some(0.001),
            ..CreateKey::default()
        })
        .await
        .unwrap();
    assert!(created.key.starts_with("ccr_"));
    let now = SystemTime::now();
    let key = directory
        .authenticate(created.key.as_bytes(), now, std::time::Instant::now())
        .expect("a new key works at once");
    assert_eq!(&*key.name, "alice");
    assert!(
        service
            .create_key(&CreateKey {
                name: "alice".into(),
                ..CreateKey::default()
            })
            .await
            .is_err(),
        "live names are unique"
    );

    // Spend recorded in the ledger counts against the budget after a refresh.
    let (ledger, writer) = Ledger::start(store.clone(), Duration::from_millis(10), 100, None);
    ledger.record(row(1, "claude-haiku-4-5", Some(&created.info.id)));
    ledger.record(row(2, "claude-haiku-4-5", Some(&created.info.id)));
    writer.close(Duration::from_secs(10)).await;
    relay_usage::refresh_once(&store, &ConfigKeys::default(), &directory)
        .await
        .unwrap();
    let refused = directory
        .authenticate(
            created.key.as_bytes(),
            SystemTime::now(),
            std::time::Instant::now(),
        )
        .unwrap_err();
    assert!(refused.to_string().contains("daily budget"), "{refused}");
    assert!(refused.retry_after().is_some());

    service
        .update_key(
            &created.info.id,
            &UpdateKey {
                daily_usd: Some(None),
                ..UpdateKey::default()
            },
        )
        .await
        .unwrap();
    assert!(
        directory
            .authenticate(
                created.key.as_bytes(),
                SystemTime::now(),
                std::time::Instant::now()
            )
            .is_ok(),
        "the budget was lifted"
    );
    service.revoke_key(&created.info.id).await.unwrap();
    let revoked = directory
        .authenticate(
            created.key.as_bytes(),
            SystemTime::now(),
            std::time::Instant::now(),
        )
        .unwrap_err();
    assert!(revoked.to_string().contains("revoked"), "{revoked}");
    let listed = service.list_keys().await.unwrap();
    assert_eq!(listed.keys.len(), 1);
    assert!(listed.keys[0].revoked_at.is_some());
    assert!(
        !serde_json::to_string(&listed)
            .unwrap()
            .contains(&created.key)
    );
    store.close().await;
}

#[tokio::test]
async fn sqlite_ledger_rows_are_priced_and_grouped() {
    let dir = tempfile::tempdir().unwrap();
    ledger_rows_are_priced_and_grouped(StoreUrl::Sqlite(dir.path().join("sub/usage.db"))).await;
}

#[tokio::test]
async fn sqlite_keys_are_created_enforced_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    keys_are_created_enforced_and_revoked(StoreUrl::Sqlite(dir.path().join("usage.db"))).await;
}

#[test]
fn postgres_ledger_and_keys() {
    let server = PostgresServer::start();
    let ledger_url = StoreUrl::Postgres(server.create_database("ledger"));
    let keys_url = StoreUrl::Postgres(server.create_database("keys"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        ledger_rows_are_priced_and_grouped(ledger_url).await;
        keys_are_created_enforced_and_revoked(keys_url).await;
    });
}

#[test]
fn postgres_stopped_under_load_loses_no_row_once_it_returns() {
    let mut server = PostgresServer::start();
    let url = StoreUrl::Postgres(server.create_database("outage"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = runtime.block_on(Store::connect(&url)).unwrap();
    let (ledger, writer) = runtime
        .block_on(async { Ledger::start(store.clone(), Duration::from_millis(20), 1000, None) });
    for i in 0..50 {
        ledger.record(row(i, "claude-haiku-4-5", None));
    }
    server.stop();
    // Recording never waits, whatever the store does.
    for i in 50..100 {
        ledger.record(row(i, "claude-haiku-4-5", None));
    }
    server.restart();
    runtime.block_on(writer.close(Duration::from_secs(30)));
    let count = runtime.block_on(store.count_rows()).unwrap();
    assert_eq!(count, 100, "buffered rows land when the store returns");
    assert_eq!(
        ledger
            .stats()
            .dropped
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
}
