//! Database pools. SQLite allows one writer at a time, so writes go through a pool of one
//! connection (and never meet "database is locked") while reads use many; PostgreSQL uses one
//! pool for both. A call waits at most `acquire_timeout` for a connection, and
//! `is_unavailable` tells a database that cannot be reached from one that refused a statement.
use std::{path::Path, str::FromStr, time::Duration};

use anyhow::Context;
use sea_orm::{
    sqlx::{
        self,
        postgres::{PgConnectOptions, PgPoolOptions},
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
        ConnectOptions, Connection,
    },
    DatabaseConnection, DbErr, RuntimeErr, SqlxPostgresConnector, SqlxSqliteConnector,
};

mod watch;
pub use watch::spawn_watcher;

/// A pooled PostgreSQL connection idle longer than this is pinged before use: one that died
/// while idle (a restart, an outage) is then replaced instead of failing a call.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// How long a write waits for SQLite's single writer connection, at least.
const SQLITE_WRITER_WAIT: Duration = Duration::from_secs(30);

/// Read and write handles for `url` (`sqlite:…` or `postgres://…`). `data_dir` is created first
/// when the SQLite file lives there by default. A call that waits longer than `acquire_timeout`
/// for a connection fails with an error `is_unavailable` recognises.
pub async fn connect(
    url: &str,
    data_dir: Option<&Path>,
    max_connections: u32,
    acquire_timeout: Duration,
) -> anyhow::Result<(DatabaseConnection, DatabaseConnection)> {
    if !url.starts_with("sqlite:") {
        let options = PgConnectOptions::from_str(url)
            .context("parsing database_url")?
            .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(acquire_timeout)
            // A ping on every checkout is a round trip per request: only idle ones are pinged.
            .test_before_acquire(false)
            .before_acquire(|connection, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_IDLE_AFTER {
                        connection.ping().await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .context("connecting to PostgreSQL")?;
        let pool = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
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
        // The one writer is a queue, not an outage: a local file cannot be unreachable, so writes
        // wait their turn as long as a request may last.
        .acquire_timeout(acquire_timeout.max(SQLITE_WRITER_WAIT))
        .connect_with(options.clone())
        .await
        .context("opening the SQLite database")?;
    let read = SqlitePoolOptions::new()
        .test_before_acquire(false)
        .max_connections(max_connections)
        .acquire_timeout(acquire_timeout)
        .connect_with(options)
        .await
        .context("opening the SQLite database")?;
    Ok((
        SqlxSqliteConnector::from_sqlx_sqlite_pool(read),
        SqlxSqliteConnector::from_sqlx_sqlite_pool(write),
    ))
}

/// `url` without credentials or options, to name the database in logs: `host:port/name`, or
/// the SQLite file.
pub fn describe(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.split_once('?').map_or(rest, |(before, _)| before);
    rest.rsplit_once('@')
        .map_or(rest, |(_, after)| after)
        .to_string()
}

/// True when `err` says the database could not be reached (no connection within the acquire
/// timeout, a connection lost, the server shutting down), not that it refused the statement: the
/// same call may succeed once it is back.
pub fn is_unavailable(err: &DbErr) -> bool {
    match err {
        DbErr::ConnectionAcquire(_) => true,
        DbErr::Conn(RuntimeErr::SqlxError(err))
        | DbErr::Exec(RuntimeErr::SqlxError(err))
        | DbErr::Query(RuntimeErr::SqlxError(err)) => sqlx_unavailable(err),
        _ => false,
    }
}

fn sqlx_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // SQLSTATE class 08 (connection exception), and 57P01-57P03: the server is shutting
        // down or not yet accepting connections.
        sqlx::Error::Database(err) => err.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn describe_leaves_out_credentials_and_options() {
        assert_eq!(
            describe("postgres://beckon:s3cret@db.internal:5432/beckon?sslmode=require"),
            "db.internal:5432/beckon"
        );
        assert_eq!(
            describe("sqlite:///var/lib/beckon/beckon.db?mode=rwc"),
            "/var/lib/beckon/beckon.db"
        );
    }
}
