//! The delivery loop: takes due messages from the store, signs each with its endpoint's
//! secrets, posts it, and records what the receiver answered and what comes next.
use std::{collections::HashMap, sync::Arc, time::Duration};

use beckon_common::progress::Progress;
use beckon_limiter::{memory::MemoryLimiter, redis::RedisLimiter, Admission, Limit, RateLimiter};
use chrono::Utc;
use futures::StreamExt;
use tokio::{
    sync::{mpsc, watch, Semaphore},
    task::{JoinHandle, JoinSet},
};
use uuid::Uuid;

use super::{message_id, RetrySchedule, Sender, WebhookHeaders};
use crate::{
    config::Rate,
    domain::webhook_secret::sign,
    error::ServiceError,
    store::{
        now,
        webhooks::{delivery, endpoints, Attempted, Due, NextStep},
        Store,
    },
};

/// Messages taken per round (`run_round`).
const BATCH: u64 = 256;
/// Attempts under way at once.
const CONCURRENCY: usize = 64;
/// The running loop's queue of claimed messages waiting for an attempt, and how many it claims
/// at once (whenever the queue has room for that many).
const QUEUED: usize = 256;
const CLAIM: usize = 128;
/// Claimers at once: one's round trips to the database overlap the other's (PostgreSQL's
/// SKIP LOCKED keeps their claims apart; SQLite's single writer takes them in turn).
const CLAIMERS: usize = 2;
/// Outcomes written per transaction, at most.
const RECORD_BATCH: usize = 512;

/// How many waves of `concurrency` attempts a round of `batch` takes.
fn waves(batch: u64, concurrency: usize) -> i32 {
    i32::try_from(batch.div_ceil(concurrency as u64)).unwrap_or(i32::MAX)
}

/// A round's posts, before they are recorded.
#[derive(Default)]
struct Posted {
    attempts: Vec<Attempted>,
    held: usize,
}

fn log_failed_round(err: &ServiceError) {
    // The database watcher reports an outage once.
    if err.is_unavailable() {
        tracing::debug!(error = ?err, "webhook round failed; retrying");
    } else {
        tracing::warn!(error = ?err, "webhook round failed; retrying");
    }
}

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Messages posted (whatever the answer).
    pub attempted: usize,
    pub delivered: usize,
    /// Messages a rate limit held back.
    pub held: usize,
}

pub struct Deliverer {
    store: Store,
    sender: Sender,
    schedule: RetrySchedule,
    limiter: Arc<dyn RateLimiter>,
    default_rate: Rate,
    interval: Duration,
    /// How long a taken message stays held: longer than any attempt can take.
    lease: chrono::Duration,
    disable_after: chrono::Duration,
    progress: Progress,
    /// Per endpoint, the time the last message this process held back was put at. A claim
    /// that finds more of a backlog puts them after it: claims do not schedule over each
    /// other, and each held message is written once, at about its turn.
    held_back_until: std::sync::Mutex<HashMap<Uuid, chrono::DateTime<Utc>>>,
}

impl Deliverer {
    pub async fn connect(store: Store, progress: Progress) -> anyhow::Result<Self> {
        let config = store.config.clone();
        let limiter: Arc<dyn RateLimiter> = match &config.redis_url {
            Some(url) => Arc::new(
                RedisLimiter::connect(url, &config.redis_key_prefix)
                    .await
                    .map_err(|err| anyhow::anyhow!("connecting the webhook rate limiter: {err}"))?,
            ),
            None => Arc::new(MemoryLimiter::new()),
        };
        let policy = config
            .webhook_destinations()
            .map_err(|problem| anyhow::anyhow!("webhook_allowed_networks {problem}"))?;
        let timeout = Duration::from_millis(config.webhook_timeout_ms);
        Ok(Self {
            sender: Sender::new(policy, timeout)?,
            schedule: config
                .webhook_retries()
                .map_err(|problem| anyhow::anyhow!("webhook_retry_schedule {problem}"))?,
            limiter,
            default_rate: config.webhook_rate_per_endpoint,
            interval: Duration::from_millis(config.webhook_interval_ms),
            // A message waits for the ones taken before it (a round's, or the queue's): the
            // hold covers every wave before its own.
            lease: chrono::Duration::from_std(timeout)?
                * waves(BATCH.max(QUEUED as u64) + CONCURRENCY as u64, CONCURRENCY)
                + chrono::Duration::seconds(5),
            disable_after: chrono::Duration::try_seconds(i64::try_from(
                config.webhook_disable_after_secs,
            )?)
            .ok_or_else(|| anyhow::anyhow!("webhook_disable_after_secs is too large"))?,
            store,
            progress,
            held_back_until: std::sync::Mutex::new(HashMap::new()),
        })
    }

    /// Delivers until `stop`, as a pipeline whose stages overlap: claimers take due messages
    /// whenever the queue has room for `CLAIM` more, up to `CONCURRENCY` attempts run at once
    /// (each its own task, so they spread over the cores), and a recorder writes outcomes as
    /// they come, all those waiting in one transaction. A message of an invite is not taken
    /// while an earlier one is in flight or waiting to be recorded: that one is still pending.
    /// On `stop`, the queued messages are put back due, and the attempts under way finish and
    /// are recorded.
    pub fn spawn(self: Arc<Self>, stop: watch::Receiver<bool>) -> JoinHandle<()> {
        tokio::spawn(async move {
            let (queue, queued) = mpsc::channel::<Due>(QUEUED);
            let (outcome, outcomes) = mpsc::unbounded_channel::<Attempted>();
            let claimers: Vec<JoinHandle<()>> = (0..CLAIMERS)
                .map(|_| tokio::spawn(self.clone().claim_loop(queue.clone(), stop.clone())))
                .collect();
            drop(queue);
            let recorder = tokio::spawn(self.clone().record_loop(outcomes));
            self.clone().post_loop(queued, outcome, stop).await;
            for claimer in claimers {
                let _ = claimer.await;
            }
            let _ = recorder.await;
        })
    }

    /// Claims due messages into `queue` while it has room, until `stop`.
    async fn claim_loop(
        self: Arc<Self>,
        queue: mpsc::Sender<Due>,
        mut stop: watch::Receiver<bool>,
    ) {
        while !*stop.borrow() {
            let room = tokio::select! {
                room = queue.reserve_many(CLAIM) => room,
                _ = stop.changed() => break,
            };
            let Ok(room) = room else { break };
            let found = match self.claim_and_admit(CLAIM).await {
                Ok((admitted, _)) if admitted.is_empty() => false,
                Ok((admitted, _)) => {
                    for (slot, due) in room.zip(admitted) {
                        slot.send(due);
                    }
                    true
                }
                Err(err) => {
                    log_failed_round(&err);
                    false
                }
            };
            if !found {
                tokio::select! {
                    _ = tokio::time::sleep(self.interval) => {},
                    _ = stop.changed() => {},
                }
            }
        }
    }

    /// Posts queued messages, `CONCURRENCY` at once, sending each outcome to the recorder.
    /// On `stop`, puts what is still queued back, due now.
    async fn post_loop(
        self: Arc<Self>,
        mut queued: mpsc::Receiver<Due>,
        outcome: mpsc::UnboundedSender<Attempted>,
        mut stop: watch::Receiver<bool>,
    ) {
        let slots = Arc::new(Semaphore::new(CONCURRENCY));
        let mut attempts = JoinSet::new();
        while !*stop.borrow() {
            let next = tokio::select! {
                next = async {
                    let slot = slots.clone().acquire_owned().await.ok()?;
                    Some((slot, queued.recv().await?))
                } => next,
                _ = stop.changed() => None,
            };
            let Some((slot, due)) = next else { break };
            let this = self.clone();
            let outcome = outcome.clone();
            attempts.spawn(async move {
                let _ = outcome.send(this.attempt(due).await);
                drop(slot);
            });
            while attempts.try_join_next().is_some() {}
        }
        // Closed, the queue still hands over what is in it and what a claimer is putting in
        // (its reserved slots), then ends.
        queued.close();
        let mut left = Vec::new();
        while let Some(due) = queued.recv().await {
            left.push(due);
        }
        let at = now();
        let put_back: Vec<(&Due, chrono::DateTime<Utc>)> = left.iter().map(|d| (d, at)).collect();
        if let Err(err) = delivery::release(&self.store, &put_back).await {
            log_failed_round(&err);
        }
        while attempts.join_next().await.is_some() {}
    }

    /// Records outcomes as they come: everything waiting when a write starts goes in it.
    async fn record_loop(self: Arc<Self>, mut outcomes: mpsc::UnboundedReceiver<Attempted>) {
        let mut attempts = Vec::new();
        while outcomes.recv_many(&mut attempts, RECORD_BATCH).await > 0 {
            let posted = Posted {
                attempts: std::mem::take(&mut attempts),
                held: 0,
            };
            if let Err(err) = self.record(posted).await {
                log_failed_round(&err);
            }
        }
    }

    /// One round: takes what is due, posts what the rate limits admit, records the answers.
    pub async fn run_round(&self) -> Result<Round, ServiceError> {
        let posted = self.claim_and_post().await?;
        self.record(posted).await
    }

    /// Takes what is due, holds back what the rate limits do not admit, posts the rest.
    async fn claim_and_post(&self) -> Result<Posted, ServiceError> {
        let (admitted, held) = self.claim_and_admit(BATCH as usize).await?;
        let attempts: Vec<Attempted> = futures::stream::iter(admitted)
            .map(|due| self.attempt(due))
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        Ok(Posted { attempts, held })
    }

    /// Takes up to `limit` due messages and puts back those the rate limits hold; the rest,
    /// and how many were held.
    async fn claim_and_admit(&self, limit: usize) -> Result<(Vec<Due>, usize), ServiceError> {
        let due = delivery::claim_due(&self.store, limit as u64, self.lease).await?;
        if due.is_empty() {
            return Ok((due, 0));
        }
        let (admitted, held) = self.admit(due).await;
        let held_back: Vec<(&Due, chrono::DateTime<Utc>)> =
            held.iter().map(|(d, at)| (d, *at)).collect();
        delivery::release(&self.store, &held_back).await?;
        Ok((admitted, held.len()))
    }

    /// Writes what the posts found.
    async fn record(&self, posted: Posted) -> Result<Round, ServiceError> {
        let Posted { attempts, held } = posted;
        let delivered = attempts
            .iter()
            .filter(|a| a.next == NextStep::Delivered)
            .count();
        let failing_limit = now() - self.disable_after;
        let disabled = delivery::record(&self.store, &attempts, failing_limit).await?;
        for attempt in &attempts {
            self.store.metrics.webhook_attempt(&attempt.next);
        }
        for endpoint in &disabled {
            tracing::warn!(
                endpoint_id = %endpoint.id,
                org_id = %endpoint.org_id,
                reason = endpoint.disabled_reason,
                "webhook endpoint turned off"
            );
        }
        if !attempts.is_empty() {
            self.progress.advance();
        }
        Ok(Round {
            attempted: attempts.len(),
            delivered,
            held,
        })
    }

    /// Takes one unit of each message's endpoint rate. A message over its endpoint's rate is
    /// held, and so are the endpoint's later messages of this round, each due one step of the
    /// rate after the one before (and after those held by earlier claims): taken again about
    /// when the limit will admit it.
    async fn admit(&self, due: Vec<Due>) -> (Vec<Due>, Vec<(Due, chrono::DateTime<Utc>)>) {
        let mut admitted = Vec::with_capacity(due.len());
        let mut held = Vec::new();
        // Per endpoint held this round: when the first may go, the rate's step, how many.
        let mut waiting: HashMap<Uuid, (chrono::DateTime<Utc>, chrono::Duration, i32)> =
            HashMap::new();
        for message in due {
            if let Some((from, step, count)) = waiting.get_mut(&message.endpoint.id) {
                *count += 1;
                let at = *from + *step * *count;
                held.push((message, at));
                continue;
            }
            let rate = message
                .endpoint
                .rate_limit
                .parse::<Rate>()
                .unwrap_or(self.default_rate);
            let step = chrono::Duration::microseconds(
                i64::try_from(rate.emission_interval_micros()).unwrap_or(i64::MAX),
            );
            let limit = Limit::new(format!("webhook:{}", message.endpoint.id), rate);
            let wait = match self.limiter.acquire(&[limit]).await {
                Ok(Admission::Admitted) => {
                    admitted.push(message);
                    continue;
                }
                Ok(Admission::RetryAfter(wait)) => wait,
                // While the limiter cannot be asked, nothing is sent: a receiver is not to be
                // flooded because Redis is away.
                Err(err) => {
                    tracing::debug!(error = %err, "webhook rate limiter unavailable");
                    Duration::from_secs(1)
                }
            };
            let mut from =
                now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::seconds(1));
            if let Some(last) = self.last_held_back(message.endpoint.id) {
                from = from.max(last + step);
            }
            waiting.insert(message.endpoint.id, (from, step, 0));
            held.push((message, from));
        }
        if !waiting.is_empty() {
            let at = now();
            let mut held_back = self
                .held_back_until
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Schedules that have run out say nothing any more.
            held_back.retain(|_, until| *until > at);
            for (endpoint_id, (from, step, count)) in waiting {
                held_back.insert(endpoint_id, from + step * count);
            }
        }
        (admitted, held)
    }

    /// When the last message held back for the endpoint is due, if that is still to come.
    fn last_held_back(&self, endpoint_id: Uuid) -> Option<chrono::DateTime<Utc>> {
        let held_back = self
            .held_back_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        held_back
            .get(&endpoint_id)
            .copied()
            .filter(|until| *until > now())
    }

    async fn attempt(&self, due: Due) -> Attempted {
        let attempted_at = now();
        let attempts_made = u32::try_from(due.attempt_count).unwrap_or(0) + 1;
        let secrets = match endpoints::signing_secrets(&self.store, &due.endpoint, attempted_at) {
            Ok(secrets) => secrets,
            Err(err) => {
                tracing::error!(error = %err, endpoint_id = %due.endpoint.id, "cannot sign webhook");
                return self.failed(
                    due,
                    attempted_at,
                    attempts_made,
                    "the signing secret cannot be opened",
                );
            }
        };
        let url = match url::Url::parse(&due.endpoint.url) {
            Ok(url) => url,
            Err(_) => {
                return self.failed(due, attempted_at, attempts_made, "the URL does not parse")
            }
        };
        let id = message_id(due.message.id);
        let timestamp = attempted_at.timestamp();
        let body = due.message.payload.as_bytes().to_vec();
        let signature = sign(&secrets.iter().collect::<Vec<_>>(), &id, timestamp, &body);
        let result = self
            .sender
            .post(
                &url,
                WebhookHeaders {
                    id,
                    timestamp,
                    signature,
                },
                body,
            )
            .await;
        let next = if result.succeeded() {
            NextStep::Delivered
        } else if result.gone() {
            NextStep::EndpointGone
        } else {
            self.after_failure(attempts_made, result.retry_after)
        };
        Attempted {
            due,
            attempted_at,
            response_status: result.status.unwrap_or(0),
            response_excerpt: result.response_excerpt,
            error: result.error.unwrap_or_default().replace('\0', "\u{FFFD}"),
            latency_ms: u32::try_from(result.latency.as_millis()).unwrap_or(u32::MAX),
            next,
        }
    }

    fn after_failure(&self, attempts_made: u32, retry_after: Option<Duration>) -> NextStep {
        match self.schedule.next_delay(attempts_made, retry_after) {
            Some(delay) => NextStep::RetryAt(
                now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(10)),
            ),
            None => NextStep::GiveUp,
        }
    }

    fn failed(
        &self,
        due: Due,
        attempted_at: chrono::DateTime<Utc>,
        attempts_made: u32,
        error: &str,
    ) -> Attempted {
        Attempted {
            due,
            attempted_at,
            response_status: 0,
            response_excerpt: String::new(),
            error: error.into(),
            latency_ms: 0,
            next: self.after_failure(attempts_made, None),
        }
    }
}
