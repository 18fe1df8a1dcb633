//! `usage:` (the ledger of every request, priced) and
//! `server.auth.client_keys` (keys the relay issues, declared in the file).

use relay_core::Secret;
use serde::Deserialize;

/// `usage:`: where the ledger is kept and how it is written.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct UsageConfig {
    /// `sqlite://PATH`, `postgres://…`, or `off`. Unset: an SQLite file under
    /// the user's data directory (`~/.local/share/cc-relay/usage.db`).
    /// A secret: a Postgres URL may hold a password. Not reloadable.
    pub database_url: Option<Secret>,
    /// How often buffered rows are written, in one batch.
    pub flush_interval_ms: u64,
    /// Rows older than this are pruned; 0 keeps them forever.
    pub retention_days: u32,
    /// Rows held in memory while the store is slow or down; past it new rows
    /// are dropped and counted (`cc_relay_usage_rows_dropped_total`).
    pub buffer_rows: usize,
}

impl Default for UsageConfig {
    fn default() -> Self {
        Self {
            database_url: None,
            flush_interval_ms: 250,
            retention_days: 90,
            buffer_rows: 10_000,
        }
    }
}

impl UsageConfig {
    /// `database_url: off`.
    pub fn is_off(&self) -> bool {
        self.database_url
            .as_ref()
            .is_some_and(|url| url.expose().eq_ignore_ascii_case("off"))
    }
}

/// One entry of `server.auth.client_keys`: a client key managed in the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ClientKeyConfig {
    /// Unique among the file's keys and the store's.
    pub name: String,
    /// The key itself (`ccr_…`, usually `${VAR}`), or …
    pub key: Option<Secret>,
    /// … its SHA-256 in hex, as `cc-relay keys create` prints it, so the file
    /// need not hold the secret.
    pub key_sha256: Option<String>,
    /// RFC 3339; unset: never expires.
    pub expires_at: Option<String>,
    /// Glob patterns (`*` matches any run of characters) of the models the
    /// key may ask for; empty: any model.
    pub models: Vec<String>,
    /// Requests per minute; unset or 0: unlimited.
    pub rpm_limit: Option<u32>,
    pub budget: BudgetConfig,
}

/// Spending limits in US dollars per UTC calendar day, ISO week (from
/// Monday) and month; unset: no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct BudgetConfig {
    pub daily_usd: Option<Usd>,
    pub weekly_usd: Option<Usd>,
    pub monthly_usd: Option<Usd>,
}

/// An amount in US dollars: finite and not negative, so it can be compared
/// (and `Eq`) like any config value.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Usd(f64);

impl Eq for Usd {}

impl Usd {
    /// `None` for a negative, infinite or NaN amount.
    pub fn new(amount: f64) -> Option<Self> {
        (amount.is_finite() && amount >= 0.0).then_some(Self(amount))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Usd {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let amount = f64::deserialize(deserializer)?;
        Self::new(amount)
            .ok_or_else(|| serde::de::Error::custom("expected an amount in US dollars, 0 or more"))
    }
}
