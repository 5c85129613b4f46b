//! The fan-out queue between enqueue and the workers. It carries only delivery ids: what to send
//! lives in the database, so a queue that loses everything (Redis restarted empty, or the
//! in-process queue after a restart) loses no message: the queue says so (`lost`) and the
//! reconciler publishes every unfinished delivery again at once.
//!
//! Two implementations with the same behaviour: `redis::RedisQueue` (streams with a consumer
//! group, shared by every replica) and `memory::MemoryQueue` (one process).
pub mod memory;
pub mod redis;

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue's backing service cannot be reached; the caller may retry later.
    #[error("queue unavailable: {0}")]
    Unavailable(String),
}

/// How leases behave, the same for both backends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueSettings {
    /// A lease not acked within this time goes back to the queue for any consumer.
    pub ack_deadline: Duration,
    /// A delivery handed out more times than this is dead-lettered instead of handed out again.
    pub dead_letter_after: u32,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            ack_deadline: Duration::from_secs(60),
            dead_letter_after: 10,
        }
    }
}

/// One delivery handed to one consumer. It comes back (to any consumer) if not acked within
/// the ack deadline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub delivery_id: Uuid,
    /// The backend's handle for acking (a stream entry id for Redis).
    pub entry_id: String,
    /// How many times this entry has been handed out, this time included.
    pub times_delivered: u32,
}

#[async_trait::async_trait]
pub trait Queue: Send + Sync + 'static {
    /// Makes deliveries available to workers now (one batched write).
    async fn publish(&self, delivery_ids: &[Uuid]) -> Result<(), QueueError>;

    /// Makes a delivery available at `at`: retries after a backoff, or a `not_before` time.
    async fn publish_at(&self, delivery_id: Uuid, at: DateTime<Utc>) -> Result<(), QueueError>;

    /// Up to `max` deliveries for `consumer`: due delayed ones first, then ones another consumer
    /// took but did not ack within the ack deadline, then new ones. Waits up to `wait` when
    /// there is nothing.
    async fn receive(
        &self,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Lease>, QueueError>;

    /// Done with these deliveries (one batched write).
    async fn ack(&self, leases: &[Lease]) -> Result<(), QueueError>;

    /// Moves a delivery that keeps coming back to the dead-letter list, and acks it.
    async fn dead_letter(&self, lease: &Lease, reason: &str) -> Result<(), QueueError>;

    /// Delivery ids in the dead-letter list, oldest first (for operators and tests).
    async fn dead_letters(&self, max: usize) -> Result<Vec<Uuid>, QueueError>;

    /// Returns once this queue has found itself empty of what was published before: a new
    /// in-process queue at once; on Redis, when this instance had to create the consumer group
    /// (at start, or after Redis lost its data). Each finding is reported once, to one caller.
    async fn lost(&self);

    /// How many entries wait to be handed out for the first time: while any do, a delivery not
    /// handed out for a while may simply be behind them.
    async fn waiting(&self) -> Result<usize, QueueError>;

    /// How many entries are handed out and not acked yet (a dead consumer's are taken over
    /// after the ack deadline).
    async fn handed_out(&self) -> Result<usize, QueueError>;
}
