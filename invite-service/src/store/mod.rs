//! Operations on Beckon's data: each function validates what the domain requires, runs in one
//! transaction, and returns rows as sea-orm models. Every query is scoped to the caller's
//! organization. Nothing here knows about gRPC or HTTP.
pub mod candidates;
pub mod idempotency;
pub mod invites;
pub mod jobs;
pub mod links;
pub mod organization;
pub mod paging;

use std::{str::FromStr, sync::Arc, time::Duration};

use anyhow::Context;
use sea_orm::{
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    ConnectOptions, Database, DatabaseConnection, SqlxSqliteConnector,
};
use sea_orm_migration::MigratorTrait;
use uuid::Uuid;

use crate::{config::Config, db::migrations::Migrator, domain::Scope};

/// Who is calling: resolved from the API key on every request.
#[derive(Clone, Debug)]
pub struct Caller {
    pub org_id: Uuid,
    pub key_id: Uuid,
    pub scope: Scope,
}

impl Caller {
    pub fn actor(&self) -> String {
        format!("key:{}", self.key_id)
    }
}

/// Database handles. SQLite allows one writer at a time, so writes there go through a pool of
/// one connection and never meet a "database is locked" error; PostgreSQL uses one pool for both.
#[derive(Clone)]
pub struct Store {
    pub read: DatabaseConnection,
    pub write: DatabaseConnection,
    pub config: Arc<Config>,
}

impl Store {
    pub async fn connect(config: Arc<Config>) -> anyhow::Result<Self> {
        let url = config.database_url();
        let (read, write) = if url.starts_with("sqlite:") {
            if config.database_url.is_none() {
                std::fs::create_dir_all(&config.data_dir).with_context(|| {
                    format!("creating the data folder {}", config.data_dir.display())
                })?;
            }
            let options = SqliteConnectOptions::from_str(&url)
                .with_context(|| format!("parsing database_url {url}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let write_pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await
                .context("opening the SQLite database")?;
            let read_pool = SqlitePoolOptions::new()
                .max_connections(config.max_db_connections)
                .connect_with(options)
                .await
                .context("opening the SQLite database")?;
            (
                SqlxSqliteConnector::from_sqlx_sqlite_pool(read_pool),
                SqlxSqliteConnector::from_sqlx_sqlite_pool(write_pool),
            )
        } else {
            let mut options = ConnectOptions::new(url);
            options
                .max_connections(config.max_db_connections)
                .sqlx_logging(false);
            let pool = Database::connect(options)
                .await
                .context("connecting to PostgreSQL")?;
            (pool.clone(), pool)
        };
        Ok(Self {
            read,
            write,
            config,
        })
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        Migrator::up(&self.write, None)
            .await
            .context("running database migrations")
    }
}

pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
