//! # relay-usage
//!
//! The usage ledger and the client-key store. Every request that reached
//! routing becomes a priced [`UsageRow`]; the request path hands it to a
//! [`Ledger`] without waiting, and a background writer inserts rows in
//! batches into SQLite (the default, a file under the user's data
//! directory, WAL mode) or PostgreSQL (teams, several instances). Client
//! keys live in the same store; [`refresh`] keeps the running relay's
//! [`relay_auth::KeyDirectory`] current (keys and spend) within a second,
//! and prunes rows past the retention.
//!
//! - [`store`]: connection, versioned migrations (`migrations/`).
//! - [`writer`]: the bounded buffer and the batching writer.
//! - [`pricing`]: the built-in Anthropic prices and `providers[].cost`.
//! - [`report`], [`keys`]: queries by group; key records.
//! - [`api`], [`service`]: the management contract and its operations,
//!   shared by the admin API and `cc-relay keys` / `cc-relay usage`.
//!
//! Depends on `relay-core`, `relay-config` and `relay-auth`; knows nothing
//! of servers or providers.

pub mod api;
mod keys;
pub mod pricing;
pub mod range;
mod refresh;
mod report;
mod row;
mod service;
mod store;
mod writer;

use std::sync::Arc;
use std::time::Duration;

pub use keys::StoredKey;
pub use refresh::{ConfigKeys, REFRESH_INTERVAL, refresh_once};
pub use row::{UsageRow, from_unix_ms, unix_ms};
pub use service::UsageService;
pub use store::{Store, StoreError, StoreUrl};
pub use writer::{Ledger, LedgerStats, LedgerWriter};

use relay_auth::KeyDirectory;
use relay_config::UsageConfig;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A running ledger: the writer, the refresher, and the service over them.
#[derive(Debug)]
pub struct UsageRuntime {
    pub ledger: Ledger,
    pub service: UsageService,
    writer: LedgerWriter,
    stop: CancellationToken,
    refresher: JoinHandle<()>,
}

impl UsageRuntime {
    /// Connects to the configured store and starts the background tasks;
    /// `None` when `usage.database_url` is `off`.
    pub async fn start(
        config: &UsageConfig,
        directory: Arc<KeyDirectory>,
        config_keys: Arc<ConfigKeys>,
    ) -> Result<Option<Self>, StoreError> {
        let url = config.database_url.as_ref().map(|u| u.expose());
        let Some(url) = StoreUrl::from_config(url)? else {
            return Ok(None);
        };
        let store = Store::connect(&url).await?;
        // Keys are known before the first request is served.
        refresh_once(&store, &config_keys, &directory).await?;
        let (ledger, writer) = Ledger::start(
            store.clone(),
            Duration::from_millis(config.flush_interval_ms.max(1)),
            config.buffer_rows,
            Some(Arc::clone(&directory)),
        );
        let stop = CancellationToken::new();
        let refresher = tokio::spawn(refresh::run(
            store.clone(),
            Arc::clone(&config_keys),
            Arc::clone(&directory),
            config.retention_days,
            stop.clone(),
        ));
        let service = UsageService::new(store, config_keys, Some(directory));
        Ok(Some(Self {
            ledger,
            service,
            writer,
            stop,
            refresher,
        }))
    }

    /// Stops the refresher and writes every queued row (waiting at most
    /// `deadline`); call it once the server has drained its requests.
    pub async fn close(self, deadline: Duration) {
        self.stop.cancel();
        let _ = self.refresher.await;
        self.writer.close(deadline).await;
        self.service.store().close().await;
    }
}
