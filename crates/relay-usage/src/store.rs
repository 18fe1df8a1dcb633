//! The database: one `sqlx` Any pool over SQLite or PostgreSQL, migrated at
//! connect. Queries are written once, in the SQL both understand (`$N`
//! placeholders, integers for times and flags), and checked at run time, so
//! building needs no database.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

/// Where the ledger lives, from `usage.database_url`.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreUrl {
    Sqlite(PathBuf),
    /// The URL as given (it may hold a password: never printed).
    Postgres(String),
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl StoreUrl {
    /// `None` for `off`. Unset: `~/.local/share/cc-relay/usage.db`.
    pub fn from_config(url: Option<&str>) -> Result<Option<Self>, StoreError> {
        let Some(url) = url else {
            let dir = dirs::data_dir().ok_or(StoreError::NoDataDir)?;
            return Ok(Some(Self::Sqlite(dir.join("cc-relay").join("usage.db"))));
        };
        if url.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Some(Self::Postgres(url.to_owned())));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or(StoreError::Scheme)?;
        let path = path.split('?').next().unwrap_or(path);
        Ok(Some(Self::Sqlite(PathBuf::from(path))))
    }

    /// For logs: the SQLite path, or the Postgres host without credentials.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite:{}", path.display()),
            Self::Postgres(url) => {
                let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
                let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
                format!("postgres://{}", host.split('?').next().unwrap_or(host))
            }
        }
    }
}

/// Why the store failed; `retryable` errors are the database's, and the
/// writer keeps its rows for the next try.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("usage.database_url is neither `off`, sqlite:PATH nor postgres://…")]
    Scheme,
    #[error("no data directory for the default usage database: set usage.database_url")]
    NoDataDir,
    #[error("could not create the usage database's directory {0}: {1}")]
    Directory(PathBuf, std::io::Error),
    #[error("usage database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("usage database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    NotFound(String),
}

impl StoreError {
    /// Whether trying again later may succeed (the database was unreachable
    /// or busy), rather than a request that will always fail.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Database(_))
    }
}

/// The ledger's database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    url: StoreUrl,
}

impl Store {
    /// Connects (creating an SQLite file and its directory when missing) and
    /// runs the migrations.
    pub async fn connect(url: &StoreUrl) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (text, sqlite) = match url {
            StoreUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StoreError::Directory(dir.to_path_buf(), e))?;
                }
                (format!("sqlite://{}?mode=rwc", path.display()), true)
            }
            StoreUrl::Postgres(url) => (url.clone(), false),
        };
        let options = AnyConnectOptions::from_str(&text)?.disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(if sqlite { 2 } else { 4 })
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // WAL: readers (queries, the key refresh) never block
                        // the writer; NORMAL sync is durable across a crash of
                        // the relay (not of the machine) and much faster.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let migrator = if sqlite {
            sqlx::migrate!("migrations/sqlite")
        } else {
            sqlx::migrate!("migrations/postgres")
        };
        migrator.run(&pool).await?;
        Ok(Self {
            pool,
            url: url.clone(),
        })
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn url(&self) -> &StoreUrl {
        &self.url
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
