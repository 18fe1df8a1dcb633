//! The answers of the write actions and of the configuration view.

use serde::{Deserialize, Serialize};

use crate::lenient::nullable;

/// `POST /admin/providers/{name}/disable|enable` (gRPC `DisableProvider`,
/// `EnableProvider`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ProviderSwitch {
    #[serde(deserialize_with = "nullable")]
    pub provider: String,
    #[serde(deserialize_with = "nullable")]
    pub disabled_by_operator: bool,
    /// False when it already was in that state.
    #[serde(deserialize_with = "nullable")]
    pub changed: bool,
}

/// `POST /admin/reload` (gRPC `Reload`): the generation now serving.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ReloadResult {
    #[serde(deserialize_with = "nullable")]
    pub generation: u64,
    #[serde(deserialize_with = "nullable")]
    pub providers: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub added: Vec<String>,
    #[serde(deserialize_with = "nullable")]
    pub removed: Vec<String>,
    /// Settings changed in the file that take effect only after a restart.
    #[serde(deserialize_with = "nullable")]
    pub restart_required: Vec<String>,
}

/// The last reload attempt, successful or not.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct LastReload {
    /// RFC 3339.
    #[serde(deserialize_with = "nullable")]
    pub time: String,
    /// `admin`, `signal`, `file_watch`…
    #[serde(deserialize_with = "nullable")]
    pub trigger: String,
    #[serde(deserialize_with = "nullable")]
    pub ok: bool,
    /// The generation serving after the attempt.
    #[serde(deserialize_with = "nullable")]
    pub generation: u64,
    /// What was wrong with the file, one problem a line; empty when it loaded.
    #[serde(deserialize_with = "nullable")]
    pub problems: Vec<String>,
}

/// `GET /admin/config` (gRPC `GetConfig`): the configuration in service.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ConfigView {
    #[serde(deserialize_with = "nullable")]
    pub generation: u64,
    /// The file it was loaded from, when there is one.
    pub path: Option<String>,
    /// The effective configuration, defaults included, every secret shown
    /// as `[redacted]` (by its type: nothing here can print one).
    #[serde(deserialize_with = "nullable")]
    pub effective: String,
    pub last_reload: Option<LastReload>,
}
