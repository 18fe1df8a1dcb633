//! Load warnings: what a file asks for that cc-relay accepts but reads
//! differently or not at all (mostly keys of the Go cc-relay's file).
//!
//! A warning never stops a load. `config validate` prints them, `serve`
//! logs them at start and on every reload, so nothing is ignored silently.
//! Like problems, they name the key path and never quote a secret.

use std::fmt;

/// One thing the operator should know about a file that loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// Where: `grpc.listen`, `providers[0].enabled`; "" for the whole file.
    pub path: String,
    pub kind: WarningKind,
    /// What happens instead, and what to write to say it the cc-relay way.
    pub message: String,
}

/// What kind of leniency a warning reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WarningKind {
    /// Accepted for compatibility, not acted on (`metrics.prometheus_endpoint`).
    NotUsed,
    /// Read as another cc-relay key (`health.check_interval_seconds`).
    Mapped,
    /// Read as the Go relay reads it, which a cc-relay user might not
    /// expect (`listen: ":8787"`, a provider off without `enabled: true`).
    GoMeaning,
    /// A `${VAR}` that is unset expanded to "", or a `$VAR` left as written.
    Variable,
    /// Something left out of service: an empty key, a placeholder key.
    LeftOut,
}

impl Warning {
    pub fn new(path: impl Into<String>, kind: WarningKind, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Collects warnings while loading.
#[derive(Debug, Default)]
pub(crate) struct Warnings(pub Vec<Warning>);

impl Warnings {
    pub(crate) fn add(
        &mut self,
        path: impl Into<String>,
        kind: WarningKind,
        message: impl Into<String>,
    ) {
        self.0.push(Warning::new(path, kind, message));
    }
}
