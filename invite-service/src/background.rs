//! invite-service's background work: turning cohorts into invites, and the sweeps that expire
//! links and send reminders. Every replica runs them; the database keeps them from doing any
//! piece of work twice.
use std::{sync::Arc, time::Duration};

use tokio::{
    sync::{watch, Notify},
    task::JoinHandle,
};

use beckon_common::progress::Progress;

use crate::store::{cohorts, sweeps, Store};

/// How often the cohort worker looks without being woken (for cohorts made by other replicas,
/// or left unfinished by a restart).
const COHORT_POLL: Duration = Duration::from_millis(500);

pub fn spawn_cohort_worker(
    store: Store,
    work: Arc<Notify>,
    progress: Progress,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while !*stop.borrow() {
            match cohorts::process_next_chunk(&store).await {
                Ok(true) => {
                    progress.advance();
                    continue;
                }
                Ok(false) => {}
                // The database watcher reports an outage once.
                Err(err) if err.is_unavailable() => {
                    tracing::debug!(error = ?err, "cohort worker round failed")
                }
                Err(err) => tracing::warn!(error = ?err, "cohort worker round failed"),
            }
            tokio::select! {
                _ = work.notified() => {},
                _ = tokio::time::sleep(COHORT_POLL) => {},
                _ = stop.changed() => {},
            }
        }
    })
}

pub fn spawn_sweeper(
    store: Store,
    progress: Progress,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let every = Duration::from_millis(store.config.sweep_interval_ms);
    tokio::spawn(async move {
        while !*stop.borrow() {
            match sweeps::expire_due(&store).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(count = n, "expired invites");
                    progress.advance();
                }
                Err(err) if err.is_unavailable() => {
                    tracing::debug!(error = ?err, "expiry sweep failed")
                }
                Err(err) => tracing::warn!(error = ?err, "expiry sweep failed"),
            }
            match sweeps::send_due_reminders(&store).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(count = n, "queued reminders");
                    progress.advance();
                }
                Err(err) if err.is_unavailable() => {
                    tracing::debug!(error = ?err, "reminder sweep failed")
                }
                Err(err) => tracing::warn!(error = ?err, "reminder sweep failed"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {},
                _ = stop.changed() => {},
            }
        }
    })
}
