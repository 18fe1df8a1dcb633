//! Client keys in the store: created with a random secret (returned once,
//! kept as its SHA-256), listed, updated, revoked.

use std::time::SystemTime;

use relay_auth::client_keys::{
    Budgets, ClientKey, KeyDigest, KeySource, ModelPatterns, generate_key,
};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::api::{CreateKey, CreatedKey, KeyInfo, UpdateKey};
use crate::row::{from_unix_ms, unix_ms};
use crate::store::{Store, StoreError};

/// Characters of a key shown in listings.
const SHOWN_PREFIX: usize = 8;

const COLUMNS: &str = "id, name, key_sha256, key_prefix, created_ms, expires_ms, revoked_ms, \
                       models, rpm_limit, daily_usd, weekly_usd, monthly_usd";

/// A key row as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredKey {
    pub id: String,
    pub name: String,
    pub digest: KeyDigest,
    pub prefix: String,
    pub created_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
    pub models: Vec<String>,
    pub rpm_limit: Option<u32>,
    pub budgets: Budgets,
}

impl StoredKey {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let hex: String = row.try_get("key_sha256")?;
        let models: String = row.try_get("models")?;
        let rpm: Option<i64> = row.try_get("rpm_limit")?;
        Ok(Self {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            digest: KeyDigest::from_hex(&hex).unwrap_or(KeyDigest([0; 32])),
            prefix: row.try_get("key_prefix")?,
            created_ms: row.try_get("created_ms")?,
            expires_ms: row.try_get("expires_ms")?,
            revoked_ms: row.try_get("revoked_ms")?,
            models: serde_json::from_str(&models).unwrap_or_default(),
            rpm_limit: rpm.and_then(|r| u32::try_from(r).ok()),
            budgets: Budgets {
                daily: row.try_get("daily_usd")?,
                weekly: row.try_get("weekly_usd")?,
                monthly: row.try_get("monthly_usd")?,
            },
        })
    }

    /// The key as the relay enforces it.
    pub fn to_client_key(&self) -> ClientKey {
        ClientKey {
            id: self.id.as_str().into(),
            name: self.name.as_str().into(),
            digest: self.digest,
            expires_at: self.expires_ms.map(from_unix_ms),
            revoked: self.revoked_ms.is_some(),
            models: ModelPatterns::new(self.models.clone()),
            rpm_limit: self.rpm_limit.filter(|&r| r > 0),
            budgets: self.budgets,
            source: KeySource::Store,
        }
    }

    pub fn info(&self) -> KeyInfo {
        let time = |ms: i64| humantime::format_rfc3339_seconds(from_unix_ms(ms)).to_string();
        KeyInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            source: "store".into(),
            prefix: self.prefix.clone(),
            created_at: Some(time(self.created_ms)),
            expires_at: self.expires_ms.map(time),
            revoked_at: self.revoked_ms.map(time),
            models: self.models.clone(),
            rpm_limit: self.rpm_limit,
            daily_usd: self.budgets.daily,
            weekly_usd: self.budgets.weekly,
            monthly_usd: self.budgets.monthly,
            spent: None,
        }
    }
}

/// A listing entry for a key declared in the file.
pub fn config_key_info(key: &ClientKey) -> KeyInfo {
    KeyInfo {
        id: key.id.to_string(),
        name: key.name.to_string(),
        source: "config".into(),
        prefix: String::new(),
        created_at: None,
        expires_at: key
            .expires_at
            .map(|at| humantime::format_rfc3339_seconds(at).to_string()),
        revoked_at: None,
        models: key.models.as_slice().to_vec(),
        rpm_limit: key.rpm_limit,
        daily_usd: key.budgets.daily,
        weekly_usd: key.budgets.weekly,
        monthly_usd: key.budgets.monthly,
        spent: None,
    }
}

fn bad(message: impl Into<String>) -> StoreError {
    StoreError::Conflict(message.into())
}

fn parse_time(field: &str, text: &str) -> Result<i64, StoreError> {
    humantime::parse_rfc3339_weak(text)
        .map(unix_ms)
        .map_err(|_| {
            bad(format!(
                "{field}: not an RFC 3339 time, e.g. 2027-01-31T00:00:00Z"
            ))
        })
}

fn check_usd(field: &str, value: Option<f64>) -> Result<Option<f64>, StoreError> {
    match value {
        Some(v) if !v.is_finite() || v < 0.0 => Err(bad(format!("{field}: must be 0 or more"))),
        other => Ok(other),
    }
}

fn check_name(name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
        return Err(bad("name: 1 to 128 printable characters"));
    }
    Ok(())
}

impl Store {
    /// Every key, revoked ones included.
    pub async fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM client_keys ORDER BY created_ms, id"
        )))
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(StoredKey::from_row)
            .collect::<Result<_, _>>()?)
    }

    pub async fn get_key(&self, id: &str) -> Result<StoredKey, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM client_keys WHERE id = $1"
        )))
        .bind(id.to_owned())
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("no client key with id `{id}`")))?;
        Ok(StoredKey::from_row(&row)?)
    }

    /// Creates a key; `reserved`: names the file already uses.
    pub async fn create_key(
        &self,
        request: &CreateKey,
        reserved: &[String],
    ) -> Result<CreatedKey, StoreError> {
        check_name(&request.name)?;
        if reserved.contains(&request.name) {
            return Err(bad(format!(
                "name: `{}` is already a key in the configuration file (server.auth.client_keys)",
                request.name
            )));
        }
        let (secret, digest) = generate_key();
        let now = unix_ms(SystemTime::now());
        let expires_ms = match &request.expires_at {
            Some(at) => Some(parse_time("expires_at", at)?),
            None => None,
        };
        let key = StoredKey {
            id: format!("key_{}", &digest.to_hex()[..16]),
            name: request.name.clone(),
            digest,
            prefix: secret.expose().chars().take(SHOWN_PREFIX).collect(),
            created_ms: now,
            expires_ms,
            revoked_ms: None,
            models: request.models.clone(),
            rpm_limit: request.rpm_limit,
            budgets: Budgets {
                daily: check_usd("daily_usd", request.daily_usd)?,
                weekly: check_usd("weekly_usd", request.weekly_usd)?,
                monthly: check_usd("monthly_usd", request.monthly_usd)?,
            },
        };
        let inserted = sqlx::query(
            "INSERT INTO client_keys (id, name, key_sha256, key_prefix, created_ms, updated_ms, \
             expires_ms, revoked_ms, models, rpm_limit, daily_usd, weekly_usd, monthly_usd) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $10, $11, $12)",
        )
        .bind(key.id.clone())
        .bind(key.name.clone())
        .bind(key.digest.to_hex())
        .bind(key.prefix.clone())
        .bind(now)
        .bind(now)
        .bind(key.expires_ms)
        .bind(serde_json::to_string(&key.models).unwrap_or_else(|_| "[]".into()))
        .bind(key.rpm_limit.map(i64::from))
        .bind(key.budgets.daily)
        .bind(key.budgets.weekly)
        .bind(key.budgets.monthly)
        .execute(self.pool())
        .await;
        match inserted {
            Ok(_) => Ok(CreatedKey {
                key: secret.expose().to_owned(),
                info: key.info(),
            }),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(bad(format!(
                "name: a live key named `{}` exists; revoke it or pick another name",
                request.name
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Applies the fields present in `update`.
    pub async fn update_key(
        &self,
        id: &str,
        update: &UpdateKey,
        reserved: &[String],
    ) -> Result<KeyInfo, StoreError> {
        let mut key = self.get_key(id).await?;
        if let Some(name) = &update.name {
            check_name(name)?;
            if reserved.contains(name) {
                return Err(bad(format!(
                    "name: `{name}` is already a key in the configuration file"
                )));
            }
            key.name = name.clone();
        }
        if let Some(expires) = &update.expires_at {
            key.expires_ms = match expires {
                Some(at) => Some(parse_time("expires_at", at)?),
                None => None,
            };
        }
        if let Some(models) = &update.models {
            key.models = models.clone();
        }
        if let Some(rpm) = update.rpm_limit {
            key.rpm_limit = rpm;
        }
        if let Some(v) = update.daily_usd {
            key.budgets.daily = check_usd("daily_usd", v)?;
        }
        if let Some(v) = update.weekly_usd {
            key.budgets.weekly = check_usd("weekly_usd", v)?;
        }
        if let Some(v) = update.monthly_usd {
            key.budgets.monthly = check_usd("monthly_usd", v)?;
        }
        let updated = sqlx::query(
            "UPDATE client_keys SET name = $1, expires_ms = $2, models = $3, rpm_limit = $4, \
             daily_usd = $5, weekly_usd = $6, monthly_usd = $7, updated_ms = $8 WHERE id = $9",
        )
        .bind(key.name.clone())
        .bind(key.expires_ms)
        .bind(serde_json::to_string(&key.models).unwrap_or_else(|_| "[]".into()))
        .bind(key.rpm_limit.map(i64::from))
        .bind(key.budgets.daily)
        .bind(key.budgets.weekly)
        .bind(key.budgets.monthly)
        .bind(unix_ms(SystemTime::now()))
        .bind(id.to_owned())
        .execute(self.pool())
        .await;
        match updated {
            Ok(_) => Ok(key.info()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(bad(format!("name: a live key named `{}` exists", key.name)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Revokes a key for good; its rows stay in the ledger.
    pub async fn revoke_key(&self, id: &str) -> Result<KeyInfo, StoreError> {
        let now = unix_ms(SystemTime::now());
        sqlx::query(
            "UPDATE client_keys SET revoked_ms = $1, updated_ms = $1 WHERE id = $2 AND revoked_ms IS NULL",
        )
        .bind(now)
        .bind(id.to_owned())
        .execute(self.pool())
        .await?;
        Ok(self.get_key(id).await?.info())
    }
}
