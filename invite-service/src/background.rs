//! invite-service's background work: turning cohorts into invites, and the sweeps that expire
//! links, send reminders and forget webhook history past its retention. Every replica runs them; the database keeps them from doing any
//! piece of work twice.
//!
//! Each job's round is public (`run_round`), and its loop only calls it on a schedule, so
//! whoever must see the work done (the end-to-end tests) can run a round now on the same code
//! path. Rounds running at once are safe for the same reason replicas are: every change is
//! guarded in the database (the cohort's row is taken first, and a transition or a reminder is
//! an `UPDATE … WHERE` on the state it comes from).
use std::{sync::Arc, time::Duration};

use tokio::{
    sync::{watch, Notify},
    task::JoinHandle,
};

use beckon_common::progress::Progress;

use crate::{
    error::ServiceError,
    store::{
        ats, cohorts, now, sweeps,
        webhooks::retention::{self, Forgotten},
        Store,
    },
};

/// How often the cohort worker looks without being woken (for cohorts made by other replicas,
/// or left unfinished by a restart).
const COHORT_POLL: Duration = Duration::from_millis(500);

/// Turns pending cohort members into invites, a chunk per round.
pub struct CohortWorker {
    store: Store,
    progress: Progress,
}

impl CohortWorker {
    pub fn new(store: Store, progress: Progress) -> Self {
        Self { store, progress }
    }

    /// One round: the next chunk of pending members becomes invites. False when none waited.
    pub async fn run_round(&self) -> Result<bool, ServiceError> {
        let worked = cohorts::process_next_chunk(&self.store).await?;
        if worked {
            self.progress.advance();
        }
        Ok(worked)
    }

    /// Runs rounds until `stop`: at once while chunks wait, else when `work` is signalled (a
    /// cohort was made here) or `COHORT_POLL` has passed.
    pub fn spawn(
        self: Arc<Self>,
        work: Arc<Notify>,
        mut stop: watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        tokio::spawn(async move {
            while !*stop.borrow() {
                match self.run_round().await {
                    Ok(true) => continue,
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
}

/// What a sweep round changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub expired: usize,
    pub reminded: usize,
    /// Webhook messages and attempts past `webhook_retention_secs`, deleted.
    pub forgotten: Forgotten,
    /// Delivered ATS callbacks and ATS error reports past the same retention, deleted.
    pub ats_history_forgotten: u64,
}

impl Swept {
    pub fn changed_anything(&self) -> bool {
        self.expired > 0
            || self.reminded > 0
            || self.forgotten.messages > 0
            || self.forgotten.attempts > 0
            || self.ats_history_forgotten > 0
    }
}

/// Expires links whose time has passed, queues the reminders that are due, and forgets webhook
/// history past its retention.
pub struct Sweeper {
    store: Store,
    progress: Progress,
    /// Where the next round goes on among webhook messages past their retention.
    webhook_history_resume: tokio::sync::Mutex<Option<uuid::Uuid>>,
}

impl Sweeper {
    pub fn new(store: Store, progress: Progress) -> Self {
        Self {
            store,
            progress,
            webhook_history_resume: tokio::sync::Mutex::new(None),
        }
    }

    /// One round: expiry, then reminders (an expired invite gets no reminder), then webhook
    /// history past its retention. A failed step ends the round; the next one tries all again.
    pub async fn run_round(&self) -> Result<Swept, ServiceError> {
        let expired = sweeps::expire_due(&self.store).await?;
        if expired > 0 {
            tracing::info!(count = expired, "expired invites");
            self.progress.advance();
        }
        let reminded = sweeps::send_due_reminders(&self.store).await?;
        if reminded > 0 {
            tracing::info!(count = reminded, "queued reminders");
            self.progress.advance();
        }
        let retention = chrono::Duration::seconds(
            i64::try_from(self.store.config.webhook_retention_secs).unwrap_or(i64::MAX),
        );
        let cutoff = now() - retention;
        let mut resume = self.webhook_history_resume.lock().await;
        let forgotten = retention::forget_before(&self.store, cutoff, &mut resume).await?;
        drop(resume);
        if forgotten != Forgotten::default() {
            tracing::info!(
                messages = forgotten.messages,
                attempts = forgotten.attempts,
                "forgot webhook history past its retention"
            );
            self.progress.advance();
        }
        let ats_history_forgotten = ats::forget_before(&self.store, cutoff).await?;
        if ats_history_forgotten > 0 {
            tracing::info!(
                rows = ats_history_forgotten,
                "forgot ATS callbacks and error reports past the retention"
            );
            self.progress.advance();
        }
        Ok(Swept {
            expired,
            reminded,
            forgotten,
            ats_history_forgotten,
        })
    }

    /// Runs a round every `sweep_interval_ms` until `stop`.
    pub fn spawn(self: Arc<Self>, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
        let every = Duration::from_millis(self.store.config.sweep_interval_ms);
        tokio::spawn(async move {
            while !*stop.borrow() {
                match self.run_round().await {
                    Ok(_) => {}
                    Err(err) if err.is_unavailable() => {
                        tracing::debug!(error = ?err, "sweep failed")
                    }
                    Err(err) => tracing::warn!(error = ?err, "sweep failed"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(every) => {},
                    _ = stop.changed() => {},
                }
            }
        })
    }
}
