//! SQLite checkpoints off the writer. Left to SQLite, the commit that grows the write-ahead log
//! past 1000 pages runs the checkpoint itself, with its fsyncs, on the single writer connection:
//! every write queued behind it waits. So the connections never checkpoint on commit
//! (`wal_autocheckpoint = 0`, see `connect`) and this task does it: PASSIVE, which never takes
//! the write lock, on a connection of its own every interval; and TRUNCATE, once the log has grown
//! past a bound (readers kept PASSIVE from reaching its end), so the file never grows without
//! limit. TRUNCATE holds the write lock while it waits for readers, and a transaction that read
//! before it writes meets a held write lock with "database is locked" at once (SQLite calls no
//! busy handler for a read-to-write upgrade). So TRUNCATE runs on the writer's own connection, in
//! turn with the writes, never beside them.
use std::time::Duration;

use sea_orm::{
    sqlx::{self, sqlite::SqlitePoolOptions, SqlitePool},
    ConnectionTrait, DatabaseConnection, DbBackend,
};
use tokio::{sync::watch, task::JoinHandle};

/// When the log is checkpointed.
#[derive(Clone, Copy)]
struct Schedule {
    /// How often a PASSIVE checkpoint runs.
    interval: Duration,
    /// A log this many pages long is checkpointed and truncated on the writer.
    truncate_past_pages: i64,
}

const SCHEDULE: Schedule = Schedule {
    interval: Duration::from_millis(200),
    // About 40 MiB at 4 KiB pages.
    truncate_past_pages: 10_000,
};

/// Checkpoints the SQLite database behind `write` until `stop` turns true (or its sender is
/// dropped); `None` for PostgreSQL.
pub fn spawn_checkpointer(
    write: &DatabaseConnection,
    stop: watch::Receiver<bool>,
) -> Option<JoinHandle<()>> {
    spawn_on_schedule(write, stop, SCHEDULE)
}

fn spawn_on_schedule(
    write: &DatabaseConnection,
    mut stop: watch::Receiver<bool>,
    schedule: Schedule,
) -> Option<JoinHandle<()>> {
    if write.get_database_backend() != DbBackend::Sqlite {
        return None;
    }
    let writer = write.get_sqlite_connection_pool().clone();
    let passive = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_lazy_with(writer.connect_options().as_ref().clone());
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(schedule.interval) => {}
                _ = stop.wait_for(|stop| *stop) => break,
            }
            if let Err(err) = checkpoint(&passive, &writer, schedule).await {
                tracing::debug!(error = %err, "checkpointing the SQLite write-ahead log");
            }
        }
        passive.close().await;
    }))
}

async fn checkpoint(
    passive: &SqlitePool,
    writer: &SqlitePool,
    schedule: Schedule,
) -> Result<(), sqlx::Error> {
    // (busy, pages in the log, pages checkpointed)
    let (_, log_pages, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(passive)
        .await?;
    if log_pages > schedule.truncate_past_pages {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(writer)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sea_orm::{ConnectionTrait, TransactionTrait};
    use tokio::sync::watch;

    use super::{spawn_on_schedule, Schedule};

    /// The services' write transactions read before they write. Truncating the log beside them
    /// (it takes the write lock) failed such an upgrade with "database is locked".
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn truncating_the_log_never_fails_a_write() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}/checkpoint.db", dir.path().display());
        let (read, write) = crate::db::connect(&url, None, 4, Duration::from_secs(5))
            .await
            .expect("open SQLite");
        write
            .execute_unprepared("CREATE TABLE rows (id INTEGER PRIMARY KEY, body BLOB NOT NULL)")
            .await
            .expect("create table");
        let (stop_sender, stop) = watch::channel(false);
        let every_write_truncates = Schedule {
            interval: Duration::from_millis(1),
            truncate_past_pages: 1,
        };
        let checkpointer =
            spawn_on_schedule(&write, stop.clone(), every_write_truncates).expect("SQLite");
        // Readers keep the log in use, so a truncate has to wait for them.
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let read = read.clone();
                let stop = stop.clone();
                tokio::spawn(async move {
                    while !*stop.borrow() {
                        read.query_one(sea_orm::Statement::from_string(
                            sea_orm::DbBackend::Sqlite,
                            "SELECT count(*), sum(length(body)) FROM rows",
                        ))
                        .await
                        .expect("read");
                    }
                })
            })
            .collect();
        let mut failures = Vec::new();
        for _ in 0..400 {
            let attempt = async {
                let txn = write.begin().await?;
                txn.query_one(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Sqlite,
                    "SELECT count(*) FROM rows",
                ))
                .await?;
                txn.execute_unprepared("INSERT INTO rows (body) VALUES (zeroblob(16384))")
                    .await?;
                txn.commit().await
            };
            if let Err(err) = attempt.await {
                failures.push(err.to_string());
            }
        }
        stop_sender.send_replace(true);
        checkpointer.await.expect("checkpointer");
        for reader in readers {
            reader.await.expect("reader");
        }
        assert!(
            failures.is_empty(),
            "{} writes failed: {:?}",
            failures.len(),
            failures.first()
        );
    }
}
