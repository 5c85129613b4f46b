//! Database pools. SQLite allows one writer at a time, so writes go through a pool of one
//! connection (and never meet "database is locked") while reads use many; PostgreSQL uses one
//! pool for both.
use std::{path::Path, str::FromStr, time::Duration};

use anyhow::Context;
use sea_orm::{
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    ConnectOptions, Database, DatabaseConnection, SqlxSqliteConnector,
};

/// Read and write handles for `url` (`sqlite:…` or `postgres://…`). `data_dir` is created first
/// when the SQLite file lives there by default.
pub async fn connect(
    url: &str,
    data_dir: Option<&Path>,
    max_connections: u32,
) -> anyhow::Result<(DatabaseConnection, DatabaseConnection)> {
    if !url.starts_with("sqlite:") {
        let mut options = ConnectOptions::new(url);
        options
            .max_connections(max_connections)
            // A ping on every checkout is a round trip per request.
            .test_before_acquire(false)
            .sqlx_logging(false);
        let pool = Database::connect(options)
            .await
            .context("connecting to PostgreSQL")?;
        return Ok((pool.clone(), pool));
    }
    if let Some(dir) = data_dir {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data folder {}", dir.display()))?;
    }
    let options = SqliteConnectOptions::from_str(url)
        .with_context(|| format!("parsing database_url {url}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        // Deleted and overwritten content is zeroed, not left in free pages (erased links).
        .pragma("secure_delete", "ON")
        .busy_timeout(Duration::from_secs(10));
    let write = SqlitePoolOptions::new()
        // A pinged connection costs a round trip while the single writer is held.
        .test_before_acquire(false)
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .context("opening the SQLite database")?;
    let read = SqlitePoolOptions::new()
        .test_before_acquire(false)
        .max_connections(max_connections)
        .connect_with(options)
        .await
        .context("opening the SQLite database")?;
    Ok((
        SqlxSqliteConnector::from_sqlx_sqlite_pool(read),
        SqlxSqliteConnector::from_sqlx_sqlite_pool(write),
    ))
}
