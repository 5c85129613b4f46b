//! SQLite checkpoints off the writer. Left to SQLite, the commit that grows the write-ahead log
//! past 1000 pages runs the checkpoint itself, with its fsyncs, on the single writer connection:
//! every write queued behind it waits. So the connections never checkpoint on commit
//! (`wal_autocheckpoint = 0`, see `connect`) and this task does it on a connection of its own:
//! PASSIVE (never blocks the writer) every interval, and TRUNCATE once the log has grown past a
//! bound (readers kept PASSIVE from reaching its end), so the file never grows without limit.
use std::time::Duration;

use sea_orm::{
    sqlx::{self, sqlite::SqlitePoolOptions, SqlitePool},
    ConnectionTrait, DatabaseConnection, DbBackend,
};
use tokio::{sync::watch, task::JoinHandle};

/// How often the log is checkpointed.
const INTERVAL: Duration = Duration::from_millis(200);
/// A log this many pages long (about 40 MiB at 4 KiB pages) is checkpointed and truncated.
const TRUNCATE_PAST_PAGES: i64 = 10_000;

/// Checkpoints the SQLite database behind `write` until `stop` turns true (or its sender is
/// dropped); `None` for PostgreSQL.
pub fn spawn_checkpointer(
    write: &DatabaseConnection,
    mut stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    if write.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let options = write
        .get_sqlite_connection_pool()
        .connect_options()
        .as_ref()
        .clone();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(options);
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(INTERVAL) => {}
                _ = stop.wait_for(|stop| *stop) => break,
            }
            if let Err(err) = checkpoint(&pool).await {
                tracing::debug!(error = %err, "checkpointing the SQLite write-ahead log");
            }
        }
        pool.close().await;
    }))
}

async fn checkpoint(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    // (busy, pages in the log, pages checkpointed)
    let (_, log_pages, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await?;
    if log_pages > TRUNCATE_PAST_PAGES {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await?;
    }
    Ok(())
}
