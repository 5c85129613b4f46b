//! The workers: take delivery ids from the queue, send each under the rate limits, record the
//! outcome, then ack. A crash between sending and recording resends at most the messages that
//! were in flight, each with the same Message-ID. The reconciler republishes deliveries that a
//! queue lost.
use std::{sync::Arc, time::Duration};

use chrono::Utc;
use tokio::{sync::watch, task::JoinSet};
use uuid::Uuid;

use crate::{
    config::Config,
    db::entities::delivery,
    domain::{DeliveryState, MessageKind},
    limiter::{Admission, Limit, RateLimiter},
    mail::{Email, Mailer, SendOutcome},
    queue::{Lease, Queue},
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
}

const BATCH: usize = 16;
const RECEIVE_WAIT: Duration = Duration::from_millis(500);

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
            let leases = tokio::select! {
                leases = self.queue.receive(&consumer, BATCH, RECEIVE_WAIT) => leases,
                _ = stop.changed() => break,
            };
            let leases = match leases {
                Ok(leases) => leases,
                Err(err) => {
                    tracing::warn!(error = %err, "queue receive failed; retrying");
                    pause(&mut stop, Duration::from_secs(1)).await;
                    continue;
                }
            };
            let mut done = Vec::with_capacity(leases.len());
            for lease in leases {
                match self.handle(&lease).await {
                    Ok(Handled::Ack) => done.push(lease),
                    Ok(Handled::DeadLettered) => {}
                    Err(err) => {
                        // Not acked: the entry comes back after the ack deadline.
                        tracing::error!(error = ?err, delivery_id = %lease.delivery_id, "delivery failed to process");
                    }
                }
            }
            if let Err(err) = self.queue.ack(&done).await {
                tracing::warn!(error = %err, "queue ack failed; the entries will be redelivered");
            }
        }
    }

    async fn handle(&self, lease: &Lease) -> anyhow::Result<Handled> {
        let Some(delivery) = self.store.delivery(lease.delivery_id).await? else {
            return Ok(Handled::Ack);
        };
        let state = DeliveryState::parse(&delivery.state);
        if state.is_none_or(DeliveryState::is_final) {
            return Ok(Handled::Ack);
        }
        if delivery.next_attempt_at > Utc::now() + chrono::Duration::milliseconds(50) {
            // Not due yet (a not_before time, or an early copy): put it back for later.
            self.queue
                .publish_at(delivery.id, delivery.next_attempt_at)
                .await?;
            return Ok(Handled::Ack);
        }
        if lease.times_delivered > self.config.dead_letter_after {
            let reason = format!(
                "dead-lettered: handed out {} times without finishing",
                lease.times_delivered
            );
            self.store
                .record(
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
        if !self
            .store
            .lease(delivery.id, self.config.ack_deadline())
            .await?
        {
            // Another worker is on it (a duplicate queue entry); that one records the outcome.
            return Ok(Handled::Ack);
        }
        if self.store.is_suppressed(&delivery.recipient).await? {
            self.store.record(delivery.id, Outcome::Suppressed).await?;
            return Ok(Handled::Ack);
        }
        self.wait_for_limits(&delivery).await?;
        let outcome = self.attempt(&delivery).await?;
        self.store.record(delivery.id, outcome.clone()).await?;
        if let Outcome::Deferred { retry_at, .. } = outcome {
            self.queue.publish_at(delivery.id, retry_at).await?;
        }
        Ok(Handled::Ack)
    }

    /// Waits until the relay's, the organization's and the recipient domain's limits all admit
    /// one more message.
    async fn wait_for_limits(&self, delivery: &delivery::Model) -> anyhow::Result<()> {
        let domain = delivery
            .recipient
            .rsplit_once('@')
            .map_or("", |(_, domain)| domain);
        let limits = [
            limit("relay".into(), self.config.relay_rate),
            limit(
                format!("org:{}", delivery.org_id),
                self.config.organization_rate,
            ),
            limit(format!("domain:{domain}"), self.config.domain_rate),
        ];
        loop {
            match self.limiter.acquire(&limits).await? {
                Admission::Admitted => return Ok(()),
                Admission::RetryAfter(wait) => tokio::time::sleep(wait).await,
            }
        }
    }

    async fn attempt(&self, delivery: &delivery::Model) -> anyhow::Result<Outcome> {
        let attempts = delivery.attempts + 1;
        let Some(kind) = MessageKind::parse(&delivery.kind) else {
            return Ok(Outcome::Failed {
                attempts: Some(attempts),
                error: format!("unknown message kind {}", delivery.kind),
            });
        };
        let source = match self.store.org_template(delivery.org_id, kind).await? {
            Some(source) => source,
            None => templates::default_template(kind),
        };
        let variables = match self.store.open_variables(delivery) {
            Ok(variables) => variables,
            Err(err) => {
                tracing::error!(delivery_id = %delivery.id, error = %err, "cannot open a message's variables");
                return Ok(Outcome::Failed {
                    attempts: Some(attempts),
                    error: err.to_string(),
                });
            }
        };
        let content = match templates::render(&source, &variables, &delivery.recipient_name) {
            Ok(content) => content,
            Err(err) => {
                return Ok(Outcome::Failed {
                    attempts: Some(attempts),
                    error: format!("the template could not be rendered: {err}"),
                })
            }
        };
        let email = Email {
            to_address: delivery.recipient.clone(),
            to_name: delivery.recipient_name.clone(),
            message_id: delivery.message_id.clone(),
            idempotency_key: delivery.idempotency_key.clone(),
            content,
        };
        Ok(match self.mailer.send(&email).await {
            SendOutcome::Sent => {
                tracing::info!(delivery_id = %delivery.id, attempts, "email sent");
                Outcome::Sent { attempts }
            }
            SendOutcome::Temporary(error) if (attempts as u32) < self.config.max_attempts => {
                let retry_at = Utc::now() + backoff(&self.config, attempts as u32);
                tracing::info!(delivery_id = %delivery.id, attempts, %error, "email deferred");
                Outcome::Deferred {
                    attempts,
                    error,
                    retry_at,
                }
            }
            SendOutcome::Temporary(error) => Outcome::Failed {
                attempts: Some(attempts),
                error: format!("gave up after {attempts} attempts: {error}"),
            },
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

    /// Publishes again what a queue lost: unfinished, due, and not published for a long time.
    async fn reconcile(&self, mut stop: watch::Receiver<bool>) {
        let every = Duration::from_millis(self.config.reconcile_interval_ms);
        let stale_after = Duration::from_millis(self.config.republish_after_ms);
        while !*stop.borrow() {
            pause(&mut stop, every).await;
            if let Err(err) = self.store.checkpoint_erased().await {
                tracing::warn!(error = ?err, "could not empty the write-ahead log; will retry");
            }
            loop {
                let ids: Vec<Uuid> = match self.store.take_stale(stale_after, 1000).await {
                    Ok(ids) => ids,
                    Err(err) => {
                        tracing::warn!(error = ?err, "reconciler could not read deliveries");
                        break;
                    }
                };
                if ids.is_empty() {
                    break;
                }
                tracing::info!(count = ids.len(), "republishing deliveries the queue lost");
                if let Err(err) = self.queue.publish(&ids).await {
                    tracing::warn!(error = %err, "reconciler could not publish; will retry");
                    break;
                }
            }
        }
    }
}

enum Handled {
    Ack,
    DeadLettered,
}

fn limit(key: String, rate: crate::config::Rate) -> Limit {
    Limit {
        key,
        per_second: rate.per_second,
        burst: rate.burst,
    }
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
