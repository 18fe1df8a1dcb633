//! The management operations on keys and usage, transport-free: the admin
//! API's handlers and `cc-relay keys --config` call these, so HTTP and any
//! later transport share one behaviour.

use std::sync::Arc;
use std::time::SystemTime;

use relay_auth::KeyDirectory;

use crate::api::{
    CreateKey, CreatedKey, GroupBy, KeyInfo, KeyList, SpentInfo, UpdateKey, UsageReport,
};
use crate::keys::config_key_info;
use crate::refresh::{ConfigKeys, refresh_once};
use crate::store::{Store, StoreError};

/// Keys and usage over one store.
#[derive(Clone, Debug)]
pub struct UsageService {
    store: Store,
    config_keys: Arc<ConfigKeys>,
    /// The running relay's keys, refreshed at once after a change.
    directory: Option<Arc<KeyDirectory>>,
}

impl UsageService {
    pub fn new(
        store: Store,
        config_keys: Arc<ConfigKeys>,
        directory: Option<Arc<KeyDirectory>>,
    ) -> Self {
        Self {
            store,
            config_keys,
            directory,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The store's keys (revoked ones too) and the file's.
    pub async fn list_keys(&self) -> Result<KeyList, StoreError> {
        let mut keys: Vec<KeyInfo> = self.config_keys.get().iter().map(config_key_info).collect();
        keys.extend(self.store.list_keys().await?.iter().map(|k| k.info()));
        if let Some(directory) = &self.directory {
            for key in &mut keys {
                let spent = directory.spent(&key.id);
                key.spent = Some(SpentInfo {
                    day: spent.day,
                    week: spent.week,
                    month: spent.month,
                });
            }
        }
        Ok(KeyList { keys })
    }

    pub async fn create_key(&self, request: &CreateKey) -> Result<CreatedKey, StoreError> {
        let created = self
            .store
            .create_key(request, &self.config_keys.names())
            .await?;
        self.changed().await;
        Ok(created)
    }

    pub async fn update_key(&self, id: &str, update: &UpdateKey) -> Result<KeyInfo, StoreError> {
        let info = self
            .store
            .update_key(id, update, &self.config_keys.names())
            .await?;
        self.changed().await;
        Ok(info)
    }

    pub async fn revoke_key(&self, id: &str) -> Result<KeyInfo, StoreError> {
        if id.starts_with("config:") {
            return Err(StoreError::Conflict(
                "a key from the configuration file is removed by editing server.auth.client_keys"
                    .into(),
            ));
        }
        let info = self.store.revoke_key(id).await?;
        self.changed().await;
        Ok(info)
    }

    pub async fn usage(
        &self,
        since: SystemTime,
        until: SystemTime,
        by: GroupBy,
    ) -> Result<UsageReport, StoreError> {
        self.store.usage(since, until, by).await
    }

    /// This relay enforces a change at once; others within a refresh interval.
    async fn changed(&self) {
        if let Some(directory) = &self.directory
            && let Err(error) = refresh_once(&self.store, &self.config_keys, directory).await
        {
            tracing::warn!(%error, "client keys changed but could not be re-read; the next refresh will");
        }
    }
}
