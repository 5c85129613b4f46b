//! The workers: take delivery ids from the queue, send each under the rate limits, record the
//! outcome, then ack. A worker holds a delivery in the database (its lease) for as long as the
//! queue waits for its ack; an entry for a delivery someone else holds is put back for when the
//! hold ends, never dropped, so a dead worker's messages go out again within the ack deadline
//! and a little. A crash between sending and recording resends at most the messages that were
//! in flight, each with the same Message-ID; a recorded send is never repeated (the lease is
//! only granted to an unfinished delivery). The reconciler refills a queue that lost its
//! entries, from the database.
use std::{sync::Arc, time::Duration};

use beckon_common::progress::Progress;
use beckon_i18n::Locale;
use beckon_limiter::{Admission, Limit, RateLimiter};
use chrono::Utc;
use lettre::message::Mailbox;
use tokio::{sync::watch, task::JoinSet};
use tracing::Instrument;
use uuid::Uuid;

use crate::{
    config::Config,
    db::entities::delivery,
    error::NotifyError,
    mail::{Email, Invitation, Mailer, SendOutcome},
    queue::{Lease, Queue, QueueError},
    seal::OpenError,
    store::{Outcome, Store},
    templates,
};

/// Everything a worker needs.
#[derive(Clone)]
pub struct Workers {
    pub store: Store,
    pub queue: Arc<dyn Queue>,
    pub limiter: Arc<dyn RateLimiter>,
    pub mailer: Arc<dyn Mailer>,
    pub config: Arc<Config>,
    /// Names this replica's consumers in the queue.
    pub replica: String,
    /// Advanced after every batch a worker handled.
    pub progress: Progress,
    /// Held by a reconcile round: one at a time in this process (see `reconcile_round`).
    pub one_reconcile_at_a_time: Arc<tokio::sync::Mutex<()>>,
}

const BATCH: usize = 16;
const RECEIVE_WAIT: Duration = Duration::from_millis(500);
/// How soon a refill that failed (database or queue unreachable) is tried again.
const REFILL_RETRY: Duration = Duration::from_secs(1);

impl Workers {
    /// Starts the workers and the reconciler; they stop when `stop` turns true.
    pub fn spawn(self, stop: watch::Receiver<bool>) -> JoinSet<()> {
        let mut tasks = JoinSet::new();
        for n in 0..self.config.workers {
            let workers = self.clone();
            let stop = stop.clone();
            tasks.spawn(async move { workers.run(format!("{}-{n}", workers.replica), stop).await });
        }
        let reconciler = self.clone();
        tasks.spawn(async move { reconciler.reconcile(stop).await });
        tasks
    }

    async fn run(&self, consumer: String, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            // Only the wait for work gives way to `stop`: deliveries in hand are finished.
            let leases = tokio::select! {
                leases = self.queue.receive(&consumer, BATCH, RECEIVE_WAIT) => leases,
                _ = stop.changed() => break,
            };
            match leases {
                Ok(leases) => {
                    self.work_through(leases).await;
                }
                Err(err) => {
                    tracing::warn!(error = %err, "queue receive failed; retrying");
                    pause(&mut stop, Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// One worker round as `consumer`, what each worker's loop runs: takes up to a batch of
    /// deliveries from the queue (waiting up to `wait` for one) and works through them. How
    /// many it took. Rounds run side by side safely, in this process as across replicas: a
    /// delivery is attempted only under its hold in the database.
    pub async fn run_round(&self, consumer: &str, wait: Duration) -> Result<usize, QueueError> {
        let leases = self.queue.receive(consumer, BATCH, wait).await?;
        Ok(self.work_through(leases).await)
    }

    /// Sends each delivery that is ready, records its outcome and acks. How many there were.
    async fn work_through(&self, leases: Vec<Lease>) -> usize {
        let taken = leases.len();
        let mut done = Vec::with_capacity(leases.len());
        for lease in leases {
            match self.handle(&lease).await {
                Ok(Handled::Ack) => done.push(lease),
                Ok(Handled::DeadLettered) => {}
                // Not acked: the entry comes back after the ack deadline. The database
                // watcher reports an outage once.
                Err(err) if crate::error::is_database_unavailable(&err) => {
                    tracing::debug!(error = ?err, delivery_id = %lease.delivery_id, "delivery failed to process");
                }
                Err(err) => {
                    // Not acked: the entry comes back after the ack deadline.
                    tracing::error!(error = ?err, delivery_id = %lease.delivery_id, "delivery failed to process");
                }
            }
        }
        if let Err(err) = self.queue.ack(&done).await {
            tracing::warn!(error = %err, "queue ack failed; the entries will be redelivered");
        }
        if taken > 0 {
            self.progress.advance();
        }
        taken
    }

    async fn handle(&self, lease: &Lease) -> anyhow::Result<Handled> {
        let Some(delivery) = self.store.delivery(lease.delivery_id).await? else {
            return Ok(Handled::Ack);
        };
        // Continues the trace of whoever asked for the message.
        let span = beckon_common::telemetry::continued_span(
            "deliver email",
            delivery.traceparent.as_deref(),
        );
        self.handle_delivery(lease, delivery).instrument(span).await
    }

    async fn handle_delivery(
        &self,
        lease: &Lease,
        delivery: delivery::Model,
    ) -> anyhow::Result<Handled> {
        if let Some(handled) = self.unless_ready(&delivery).await? {
            return Ok(handled);
        }
        if lease.times_delivered > self.config.dead_letter_after {
            let reason = format!(
                "dead-lettered: handed out {} times without finishing",
                lease.times_delivered
            );
            self.record(
                delivery.id,
                Outcome::Failed {
                    attempts: None,
                    error: reason.clone(),
                },
            )
            .await?;
            self.queue.dead_letter(lease, &reason).await?;
            return Ok(Handled::DeadLettered);
        }
        // Held for as long as the queue waits for an ack: a replacement that takes the entry over
        // from a dead worker finds the hold about to end, and comes back when it has.
        let Some(held_until) = self
            .store
            .lease(delivery.id, self.config.ack_deadline())
            .await?
        else {
            // Taken, finished or rescheduled since it was read: look again.
            let Some(now) = self.store.delivery(delivery.id).await? else {
                return Ok(Handled::Ack);
            };
            if let Some(handled) = self.unless_ready(&now).await? {
                return Ok(handled);
            }
            // Free again already (a hold ended in between): a new entry, then this one is done.
            self.queue.publish(&[delivery.id]).await?;
            return Ok(Handled::Ack);
        };
        if let Some(blocked) = self
            .store
            .blocked(delivery.org_id, delivery.kind, &delivery.recipient)
            .await?
        {
            self.record(delivery.id, Outcome::Suppressed(blocked))
                .await?;
            return Ok(Handled::Ack);
        }
        self.wait_for_limits(&delivery).await?;
        let outcome = self.attempt(&delivery).await?;
        self.record_attempt(delivery.id, &outcome, held_until)
            .await?;
        if let Outcome::Deferred { retry_at, .. } = outcome {
            self.queue.publish_at(delivery.id, retry_at).await?;
        }
        Ok(Handled::Ack)
    }

    /// What to do with a delivery that is not ready for an attempt: nothing when it is final;
    /// when it is not due or another worker holds it, it is put back on the queue for the time
    /// it will be (the entry in hand is then acked, never simply dropped). `None`: ready.
    async fn unless_ready(&self, delivery: &delivery::Model) -> anyhow::Result<Option<Handled>> {
        if delivery.state.is_final() {
            return Ok(Some(Handled::Ack));
        }
        let now = Utc::now();
        let mut ready_at = delivery.next_attempt_at - chrono::Duration::milliseconds(50);
        if let Some(held_until) = delivery.lease_until {
            ready_at = ready_at.max(held_until);
        }
        if ready_at <= now {
            return Ok(None);
        }
        // A retry's own schedule or a hold: come back then. If the holder finishes first, this
        // copy finds the delivery final; if it defers, its schedule replaces this one.
        self.queue
            .publish_at(delivery.id, ready_at.max(delivery.next_attempt_at))
            .await?;
        Ok(Some(Handled::Ack))
    }

    /// Records what an attempt did. The message may have gone out already, so a database error
    /// is retried for as long as this worker holds the delivery: a record that lands in time
    /// means no second copy.
    async fn record_attempt(
        &self,
        id: Uuid,
        outcome: &Outcome,
        held_until: chrono::DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let mut wait = Duration::from_millis(100);
        loop {
            match self.record(id, outcome.clone()).await {
                Ok(()) => return Ok(()),
                Err(err) => {
                    let retry_at = Utc::now()
                        + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
                    if retry_at >= held_until {
                        return Err(err.into());
                    }
                    tracing::warn!(
                        error = ?err,
                        delivery_id = %id,
                        "could not record an attempt; retrying"
                    );
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// Waits until the relay's, the organization's and the recipient domain's limits all admit
    /// one more message.
    /// Records an outcome, and counts it in the metrics when it was recorded.
    async fn record(&self, id: Uuid, outcome: Outcome) -> Result<(), crate::error::NotifyError> {
        if self.store.record(id, outcome.clone()).await? {
            self.store.metrics.delivery(&outcome);
        }
        Ok(())
    }

    async fn wait_for_limits(&self, delivery: &delivery::Model) -> anyhow::Result<()> {
        let domain = delivery
            .recipient
            .rsplit_once('@')
            .map_or("", |(_, domain)| domain);
        let limits = [
            Limit::new("relay", self.config.relay_rate),
            Limit::new(
                format!("org:{}", delivery.org_id),
                self.config.organization_rate,
            ),
            Limit::new(format!("domain:{domain}"), self.config.domain_rate),
        ];
        loop {
            match self.limiter.acquire(&limits).await? {
                Admission::Admitted => {
                    self.store.metrics.limiter(true);
                    return Ok(());
                }
                Admission::RetryAfter(wait) => {
                    self.store.metrics.limiter(false);
                    tokio::time::sleep(wait).await
                }
            }
        }
    }

    /// Deferred with backoff, or failed once `max_attempts` are used up.
    fn temporary_failure(&self, attempts: i32, error: String) -> Outcome {
        if (attempts as u32) < self.config.max_attempts {
            Outcome::Deferred {
                attempts,
                error,
                retry_at: Utc::now() + backoff(&self.config, attempts as u32),
            }
        } else {
            Outcome::Failed {
                attempts: Some(attempts),
                error: format!("gave up after {attempts} attempts: {error}"),
            }
        }
    }

    async fn attempt(&self, delivery: &delivery::Model) -> anyhow::Result<Outcome> {
        let attempts = delivery.attempts + 1;
        let kind = delivery.kind;
        // Stored checked; a tag a later version wrote and this one does not ship reads English.
        let locale = Locale::for_tag(&delivery.locale).unwrap_or(Locale::FALLBACK);
        let source = match self
            .store
            .org_template(delivery.org_id, kind, locale)
            .await?
        {
            Some((source, _)) => source,
            None => templates::default_template(kind),
        };
        let variables = match self.store.open_variables(delivery) {
            Ok(variables) => variables,
            // A replica not yet given the key (a rolling rotation, a key file not yet copied):
            // retried like a temporary failure, so the message waits for a replica that has it.
            Err(err @ OpenError::UnknownKey(_)) => {
                tracing::error!(delivery_id = %delivery.id, error = %err, "cannot open a message's variables yet");
                return Ok(self.temporary_failure(attempts, err.to_string()));
            }
            Err(err @ OpenError::Damaged) => {
                tracing::error!(delivery_id = %delivery.id, error = %err, "cannot open a message's variables");
                return Ok(Outcome::Failed {
                    attempts: Some(attempts),
                    error: err.to_string(),
                });
            }
        };
        let content = match templates::render(&source, &variables, &delivery.recipient_name, locale)
        {
            Ok(content) => content,
            Err(err) => {
                return Ok(Outcome::Failed {
                    attempts: Some(attempts),
                    error: format!("the template could not be rendered: {err}"),
                })
            }
        };
        let given = |name: &str| variables.get(name).filter(|value| !value.is_empty());
        let email = Email {
            to_address: delivery.recipient.clone(),
            to_name: delivery.recipient_name.clone(),
            message_id: delivery.message_id.clone(),
            idempotency_key: delivery.idempotency_key.clone(),
            reply_to: given("inviter_email")
                .and_then(|address| address.parse().ok())
                .map(|address| Mailbox::new(given("inviter_name").cloned(), address)),
            unsubscribe_url: given("unsubscribe_url").cloned(),
            calendar: invitation(&variables, kind, locale),
            locale,
            content,
        };
        Ok(match self.mailer.send(&email).await {
            SendOutcome::Sent => {
                tracing::info!(delivery_id = %delivery.id, attempts, "email sent");
                Outcome::Sent { attempts }
            }
            SendOutcome::Temporary(error) => {
                tracing::info!(delivery_id = %delivery.id, attempts, %error, "email deferred");
                self.temporary_failure(attempts, error)
            }
            SendOutcome::Permanent { reason, bounce } => {
                if bounce {
                    self.store.suppress(&delivery.recipient, &reason).await?;
                }
                tracing::info!(delivery_id = %delivery.id, attempts, %reason, bounce, "email failed");
                Outcome::Failed {
                    attempts: Some(attempts),
                    error: reason,
                }
            }
        })
    }

    /// Publishes again what a queue lost: everything unfinished as soon as the queue reports
    /// itself lost, and, every `reconcile_interval_ms`, a reconcile round.
    async fn reconcile(&self, mut stop: watch::Receiver<bool>) {
        let every = Duration::from_millis(self.config.reconcile_interval_ms);
        let mut must_refill = false;
        while !*stop.borrow() {
            if must_refill {
                match self.refill().await {
                    Ok(count) => {
                        tracing::info!(count, "refilled the queue from the database");
                        must_refill = false;
                    }
                    Err(err) => {
                        tracing::warn!(error = ?err, "could not refill the queue; will retry");
                        pause(&mut stop, REFILL_RETRY).await;
                    }
                }
                continue;
            }
            tokio::select! {
                () = self.queue.lost() => must_refill = true,
                () = tokio::time::sleep(every) => {
                    if let Err(err) = self.reconcile_round().await {
                        tracing::warn!(error = ?err, "could not empty the write-ahead log; will retry");
                    }
                }
                _ = stop.changed() => {}
            }
        }
    }

    /// One reconcile round: on SQLite, empties the write-ahead log of erased variables; then,
    /// while nothing waits in the queue, publishes again the deliveries left unpublished for
    /// longer than the ack deadline and a margin. Whether erased variables are out of the log
    /// now (always true on PostgreSQL); false when readers kept the checkpoint from finishing,
    /// and the next round tries again. One round at a time in this process: a round that found
    /// the checkpoint already taken by another must not answer before that one has finished.
    pub async fn reconcile_round(&self) -> Result<bool, NotifyError> {
        let _only_round = self.one_reconcile_at_a_time.lock().await;
        // Erased links leave SQLite's write-ahead log too.
        let emptied = self.store.checkpoint_erased().await;
        self.republish_stale(self.config.republish_after()).await;
        emptied
    }

    /// Publishes every unfinished delivery: due ones now, the others for their time.
    async fn refill(&self) -> anyhow::Result<usize> {
        let mut after = None;
        let mut count = 0;
        loop {
            let page = self.store.take_unfinished(after, 1000).await?;
            let Some(&(last, _)) = page.last() else {
                return Ok(count);
            };
            after = Some(last);
            count += page.len();
            let now = Utc::now();
            let (due, later): (Vec<_>, Vec<_>) = page.into_iter().partition(|(_, at)| *at <= now);
            let due: Vec<Uuid> = due.into_iter().map(|(id, _)| id).collect();
            self.queue.publish(&due).await?;
            for (id, at) in later {
                self.queue.publish_at(id, at).await?;
            }
        }
    }

    async fn republish_stale(&self, stale_after: Duration) {
        match self.queue.waiting().await {
            // Entries still wait their turn; what looks stale may simply be behind them.
            Ok(waiting) if waiting > 0 => return,
            Ok(_) => {}
            Err(err) => {
                tracing::warn!(error = %err, "reconciler could not look at the queue");
                return;
            }
        }
        loop {
            let ids: Vec<Uuid> = match self.store.take_stale(stale_after, 1000).await {
                Ok(ids) => ids,
                Err(err) => {
                    // The database watcher reports an outage once.
                    if matches!(err, crate::error::NotifyError::DatabaseUnavailable(_)) {
                        tracing::debug!(error = ?err, "reconciler could not read deliveries");
                    } else {
                        tracing::warn!(error = ?err, "reconciler could not read deliveries");
                    }
                    return;
                }
            };
            if ids.is_empty() {
                return;
            }
            tracing::info!(count = ids.len(), "republishing deliveries the queue lost");
            if let Err(err) = self.queue.publish(&ids).await {
                tracing::warn!(error = %err, "reconciler could not publish; will retry");
                return;
            }
        }
    }
}

enum Handled {
    Ack,
    DeadLettered,
}

/// Exponential backoff with ±25% jitter, so retries of many messages do not arrive together.
pub fn backoff(config: &Config, attempts: u32) -> chrono::Duration {
    let base = config.retry_base_ms as f64 * 2f64.powi(attempts.saturating_sub(1).min(30) as i32);
    let capped = base.min(config.retry_max_ms as f64);
    let jittered = capped * (0.75 + fastrand::f64() * 0.5);
    chrono::Duration::milliseconds(jittered as i64)
}

async fn pause(stop: &mut watch::Receiver<bool>, how_long: Duration) {
    tokio::select! {
        _ = tokio::time::sleep(how_long) => {},
        _ = stop.changed() => {},
    }
}

/// A message's calendar invitation, from its `calendar_*` variables; none when they are not
/// all there and readable (then the email goes without one, said in the log).
fn invitation(
    variables: &std::collections::BTreeMap<String, String>,
    kind: crate::domain::MessageKind,
    locale: Locale,
) -> Option<Invitation> {
    let uid = variables
        .get("calendar_uid")
        .filter(|uid| !uid.is_empty())?;
    let read = || -> Option<Invitation> {
        Some(Invitation {
            uid: uid.clone(),
            sequence: variables.get("calendar_sequence")?.parse().ok()?,
            start: chrono::DateTime::parse_from_rfc3339(variables.get("calendar_start")?)
                .ok()?
                .with_timezone(&Utc),
            minutes: variables.get("calendar_minutes")?.parse().ok()?,
            // What the message is decides, not a variable: a cancellation never re-adds it.
            cancel: kind == crate::domain::MessageKind::Cancelled,
            summary: variables.get("calendar_summary")?.clone(),
            description: variables
                .get("link")
                .filter(|link| !link.is_empty())
                .map(|link| {
                    beckon_i18n::text(locale, "calendar-join", &[("link", link.as_str().into())])
                }),
            link: variables
                .get("link")
                .filter(|link| !link.is_empty())
                .cloned(),
        })
    };
    let invitation = read();
    if invitation.is_none() {
        tracing::warn!(
            "a message's calendar variables do not read; it goes without its invitation"
        );
    }
    invitation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_is_capped() {
        let config = Config {
            retry_base_ms: 1000,
            retry_max_ms: 5000,
            ..Config::default()
        };
        for _ in 0..100 {
            let first = backoff(&config, 1).num_milliseconds();
            assert!((750..=1250).contains(&first), "{first}");
            let third = backoff(&config, 3).num_milliseconds();
            assert!((3000..=5000).contains(&third), "{third}");
            let tenth = backoff(&config, 10).num_milliseconds();
            assert!(tenth <= 6250, "{tenth}");
        }
    }
}
