//! The management contract for client keys and usage reports, as serde
//! types: the admin API (`/admin/keys`, `/admin/usage`) and `cc-relay keys` /
//! `cc-relay usage` speak exactly these, whichever transport carries them.

use serde::{Deserialize, Serialize};

/// `POST /admin/keys`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CreateKey {
    pub name: String,
    /// RFC 3339.
    pub expires_at: Option<String>,
    pub models: Vec<String>,
    pub rpm_limit: Option<u32>,
    pub daily_usd: Option<f64>,
    pub weekly_usd: Option<f64>,
    pub monthly_usd: Option<f64>,
}

/// `PATCH /admin/keys/{id}`: only the fields present change; `null` clears.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpdateKey {
    pub name: Option<String>,
    #[serde(with = "patch", skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Option<String>>,
    pub models: Option<Vec<String>>,
    #[serde(with = "patch", skip_serializing_if = "Option::is_none")]
    pub rpm_limit: Option<Option<u32>>,
    #[serde(with = "patch", skip_serializing_if = "Option::is_none")]
    pub daily_usd: Option<Option<f64>>,
    #[serde(with = "patch", skip_serializing_if = "Option::is_none")]
    pub weekly_usd: Option<Option<f64>>,
    #[serde(with = "patch", skip_serializing_if = "Option::is_none")]
    pub monthly_usd: Option<Option<f64>>,
}

/// A key as listed: never its secret, only the first characters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyInfo {
    pub id: String,
    pub name: String,
    /// `store` or `config`.
    pub source: String,
    /// The key's first characters (`ccr_AbCd`), to recognise it.
    pub prefix: String,
    pub created_at: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub models: Vec<String>,
    pub rpm_limit: Option<u32>,
    pub daily_usd: Option<f64>,
    pub weekly_usd: Option<f64>,
    pub monthly_usd: Option<f64>,
    /// What it has spent in the current day, week and month (USD).
    pub spent: Option<SpentInfo>,
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpentInfo {
    pub day: f64,
    pub week: f64,
    pub month: f64,
}

/// `POST /admin/keys`'s answer: the secret, shown this once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub key: String,
    #[serde(flatten)]
    pub info: KeyInfo,
}

/// `GET /admin/keys`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyList {
    pub keys: Vec<KeyInfo>,
}

/// How `/admin/usage` and `cc-relay usage` group rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    #[default]
    Day,
    Hour,
    Model,
    Provider,
    /// The client key (id), `shared` or `transparent`.
    Key,
    /// The client label (key name, `shared`, `transparent`).
    Client,
}

impl GroupBy {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "day" => Self::Day,
            "hour" => Self::Hour,
            "model" => Self::Model,
            "provider" => Self::Provider,
            "key" => Self::Key,
            "client" => Self::Client,
            _ => return None,
        })
    }
}

/// Totals of one group.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageGroup {
    /// The day (`2026-12-04`), hour (`2026-12-04T15:00Z`), model, provider,
    /// key id or client; empty when unknown.
    pub group: String,
    pub requests: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub cost_usd: f64,
    /// Requests whose model had no price (not in `cost_usd`).
    pub unpriced: u64,
    /// Cache reads over all input tokens (input + cache reads + cache writes).
    pub cache_hit_ratio: f64,
}

/// `GET /admin/usage`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageReport {
    pub since: String,
    pub until: String,
    pub by: GroupBy,
    pub groups: Vec<UsageGroup>,
    pub total: UsageGroup,
}

/// `Option<Option<T>>` for PATCH: absent = unchanged, `null` = cleared.
mod patch {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}
