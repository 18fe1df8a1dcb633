//! The background tasks that keep a running relay current with its store:
//! every second, the client keys (file + store, merged) and each key's
//! spend in its budget periods go into the [`KeyDirectory`]; every hour,
//! rows past `usage.retention_days` are pruned.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use relay_auth::KeyDirectory;
use relay_auth::client_keys::{ClientKey, Period, Spent, merge_keys};
use tokio_util::sync::CancellationToken;

use crate::row::unix_ms;
use crate::store::{Store, StoreError};

/// How soon a change made elsewhere (CLI, another instance) is enforced.
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(1);
const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);

/// The file's keys, set at start and on each reload.
#[derive(Debug, Default)]
pub struct ConfigKeys(arc_swap::ArcSwap<Vec<ClientKey>>);

impl ConfigKeys {
    pub fn set(&self, keys: Vec<ClientKey>) {
        self.0.store(Arc::new(keys));
    }

    pub fn get(&self) -> Arc<Vec<ClientKey>> {
        self.0.load_full()
    }

    pub fn names(&self) -> Vec<String> {
        self.get().iter().map(|k| k.name.to_string()).collect()
    }
}

/// One refresh: keys, then spend. Store errors leave the directory as it was.
pub async fn refresh_once(
    store: &Store,
    config: &ConfigKeys,
    directory: &KeyDirectory,
) -> Result<(), StoreError> {
    let stored = store.list_keys().await?;
    let (merged, duplicates) = merge_keys(
        config.get().as_ref().clone(),
        stored.iter().map(|k| k.to_client_key()).collect(),
    );
    for duplicate in duplicates {
        tracing::error!(%duplicate, "client key ignored");
    }
    let budgeted = merged.iter().any(|k| !k.budgets.is_empty());
    directory.replace(merged);
    if budgeted {
        let now = SystemTime::now();
        let starts = Period::ALL.map(|p| unix_ms(p.start(now)));
        for (id, [day, week, month]) in store.spend_by_key(starts).await? {
            directory.set_stored_spend(&id, Spent { day, week, month });
        }
    }
    Ok(())
}

/// Runs until `stop`: refreshes every second, prunes every hour.
pub async fn run(
    store: Store,
    config: Arc<ConfigKeys>,
    directory: Arc<KeyDirectory>,
    retention_days: u32,
    stop: CancellationToken,
) {
    let mut refresh = tokio::time::interval(REFRESH_INTERVAL);
    refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut prune = tokio::time::interval(PRUNE_INTERVAL);
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = refresh.tick() => {
                match refresh_once(&store, &config, &directory).await {
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!("usage store reachable again: client keys refreshed");
                    }
                    Ok(()) => {}
                    Err(error) if !failing => {
                        failing = true;
                        tracing::warn!(%error, "usage store unreachable: client keys stay as last read");
                    }
                    Err(_) => {}
                }
            }
            _ = prune.tick(), if retention_days > 0 => {
                let before = SystemTime::now() - Duration::from_secs(u64::from(retention_days) * 86_400);
                match store.prune(before).await {
                    Ok(0) => {}
                    Ok(rows) => tracing::info!(rows, retention_days, "usage ledger pruned"),
                    Err(error) => tracing::warn!(%error, "usage ledger: pruning failed; retried in an hour"),
                }
            }
        }
    }
}
