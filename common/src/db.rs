//! Database pools. SQLite allows one writer at a time, so writes go through a pool of one
//! connection (and never meet "database is locked") while reads use many; PostgreSQL uses one
//! pool for both. A call waits at most `acquire_timeout` for a connection, and
//! `is_unavailable` tells a database that cannot be reached from one that refused a statement.
use std::{path::Path, str::FromStr, time::Duration};

use anyhow::Context;
use sea_orm::{
    sqlx::{
        self,
        postgres::{PgConnectOptions, PgPoolOptions, PgSslMode},
        sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
        ConnectOptions, Connection,
    },
    DatabaseConnection, DbErr, RuntimeErr, SqlxPostgresConnector, SqlxSqliteConnector,
};

mod checkpoint;
mod watch;
pub use checkpoint::spawn_checkpointer;
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
        let mut options = PgConnectOptions::from_str(url)
            .context("parsing database_url")?
            .disable_statement_logging();
        // sqlx's default (`prefer`) negotiates TLS whenever the server offers it: pure cost on a
        // connection that never leaves the machine.
        if is_local(&options) && !asks_for_ssl_mode(url) {
            options = options.ssl_mode(PgSslMode::Disable);
        }
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
        // Statement journals (a multi-row INSERT keeps one) stay in memory: no temporary file
        // is created, written and removed per statement, and none holds a row's content on disk.
        .pragma("temp_store", "MEMORY")
        // No commit checkpoints: `spawn_checkpointer` does it off the writer.
        .pragma("wal_autocheckpoint", "0")
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

/// A unix socket or a loopback address.
fn is_local(options: &PgConnectOptions) -> bool {
    let host = options.get_host();
    options.get_socket().is_some()
        || host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether the URL (or `PGSSLMODE`, which sqlx also reads) says how to use TLS.
fn asks_for_ssl_mode(url: &str) -> bool {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    query
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .any(|key| key == "sslmode" || key == "ssl-mode")
        || std::env::var_os("PGSSLMODE").is_some()
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
    use std::str::FromStr;

    use sea_orm::sqlx::postgres::PgConnectOptions;

    use super::{asks_for_ssl_mode, describe, is_local};

    /// Every SQLite connection, the writer's and each reader's, runs with the settings Beckon
    /// relies on: read from the connections themselves, all held at once, as SQLite reports them.
    #[tokio::test]
    async fn every_sqlite_connection_runs_with_beckons_settings() {
        use sea_orm::sqlx::{self, sqlite::SqliteConnection, Row};

        async fn pragma(connection: &mut SqliteConnection, name: &str) -> String {
            let row = sqlx::query(&format!("PRAGMA {name}"))
                .fetch_one(connection)
                .await
                .expect("a pragma");
            row.try_get::<i64, _>(0)
                .map(|n| n.to_string())
                .or_else(|_| row.try_get::<String, _>(0))
                .expect("a value")
        }

        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", dir.path().join("beckon.db").display());
        let readers = 4;
        let (read, write) = super::connect(
            &url,
            Some(dir.path()),
            readers,
            std::time::Duration::from_secs(5),
        )
        .await
        .expect("open the database");
        let mut connections = vec![(
            "writer",
            write
                .get_sqlite_connection_pool()
                .acquire()
                .await
                .expect("the writer"),
        )];
        for _ in 0..readers {
            let reader = read
                .get_sqlite_connection_pool()
                .acquire()
                .await
                .expect("a reader");
            connections.push(("reader", reader));
        }
        for (pool, connection) in &mut connections {
            let connection = &mut **connection;
            // journal_mode is the file's; the others are each connection's own.
            assert_eq!(pragma(connection, "journal_mode").await, "wal", "{pool}");
            assert_eq!(
                pragma(connection, "synchronous").await,
                "1",
                "{pool}: NORMAL"
            );
            assert_eq!(pragma(connection, "foreign_keys").await, "1", "{pool}");
            assert_eq!(pragma(connection, "secure_delete").await, "1", "{pool}");
            assert_eq!(
                pragma(connection, "temp_store").await,
                "2",
                "{pool}: MEMORY"
            );
            assert_eq!(
                pragma(connection, "wal_autocheckpoint").await,
                "0",
                "{pool}"
            );
            assert_eq!(pragma(connection, "busy_timeout").await, "10000", "{pool}");
        }
    }

    #[test]
    fn loopback_and_sockets_are_local_unless_the_url_asks_for_tls() {
        let local = |url: &str| is_local(&PgConnectOptions::from_str(url).expect("a URL"));
        assert!(local("postgres://u@127.0.0.1:5432/db"));
        assert!(local("postgres://u@localhost/db"));
        assert!(local("postgres://u@[::1]:5432/db"));
        assert!(local("postgres://u@%2Fvar%2Frun%2Fpostgresql/db"));
        assert!(!local("postgres://u@db.internal:5432/db"));
        assert!(asks_for_ssl_mode(
            "postgres://u@127.0.0.1/db?sslmode=require"
        ));
        assert!(asks_for_ssl_mode(
            "postgres://u@127.0.0.1/db?a=b&ssl-mode=prefer"
        ));
    }

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

/// One pool's connections: how many are open, and how many of them idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUse {
    /// `write` and `read` (SQLite's single writer and its readers), or `shared` (PostgreSQL's
    /// one pool).
    pub pool: &'static str,
    pub size: u32,
    pub idle: usize,
}

/// The use of the pools `connect` made, for the metrics.
pub fn pool_use(write: &DatabaseConnection, read: &DatabaseConnection) -> Vec<PoolUse> {
    match write {
        DatabaseConnection::SqlxPostgresPoolConnection(_) => {
            let pool = write.get_postgres_connection_pool();
            vec![PoolUse {
                pool: "shared",
                size: pool.size(),
                idle: pool.num_idle(),
            }]
        }
        DatabaseConnection::SqlxSqlitePoolConnection(_) => [("write", write), ("read", read)]
            .into_iter()
            .map(|(pool, connection)| {
                let sqlite = connection.get_sqlite_connection_pool();
                PoolUse {
                    pool,
                    size: sqlite.size(),
                    idle: sqlite.num_idle(),
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The PostgreSQL advisory lock both services hold while they migrate ("beckon" in ASCII): one
/// for both, since they may share a database.
const MIGRATION_LOCK: i64 = 0x6265_636b_6f6e;

/// Runs `migrate` on PostgreSQL while holding [`MIGRATION_LOCK`], so that replicas starting
/// together on one database migrate one after another (sea-orm-migration takes no lock: two
/// creating the same table at once fail). The lock is held by a connection of its own, outside
/// the pool (which may have room for one), and goes with that connection however `migrate`
/// ends. SQLite has one process and needs none.
pub async fn migrate_exclusively<T, F>(db: &DatabaseConnection, migrate: F) -> anyhow::Result<T>
where
    F: std::future::Future<Output = anyhow::Result<T>>,
{
    if sea_orm::ConnectionTrait::get_database_backend(db) != sea_orm::DatabaseBackend::Postgres {
        return migrate.await;
    }
    let options = db.get_postgres_connection_pool().connect_options();
    let mut holder = sqlx::PgConnection::connect_with(&options)
        .await
        .context("connecting to take the migration lock")?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut holder)
        .await
        .context("taking the migration lock")?;
    let migrated = migrate.await;
    // Closing the session releases its lock.
    let _ = holder.close().await;
    migrated
}
