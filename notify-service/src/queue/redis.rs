//! The queue on Redis Streams, shared by every replica through one consumer group.
//!
//! Keys (hash-tagged, so that Redis Cluster keeps them in one slot and the scripts and MULTI
//! blocks that touch several of them stay legal):
//! - `{prefix}:deliveries`: the stream; each entry carries one delivery id in field `d`.
//! - `{prefix}:delayed`: a sorted set of delivery ids scored by due time (Unix ms). A Lua script
//!   moves due ones into the stream atomically at the start of each receive.
//! - `{prefix}:dead`: the dead-letter stream (`d`, `reason`, `times`, `entry`).
//!
//! A receive (1) moves due delayed entries to the stream, (2) takes over entries another consumer
//! left unacked for longer than the ack deadline (XAUTOCLAIM; one handed out more than
//! `dead_letter_after` times is dead-lettered instead), (3) reads new entries (XREADGROUP). Acked
//! entries are deleted from the stream, so it holds only what is waiting or in flight.
//!
//! A consumer group that is missing (`NOGROUP`: Redis restarted empty, or its keys were removed)
//! means every entry is gone, the delayed set too: the instance that creates the group again
//! reports the queue `lost`, and the reconciler refills it from the database at once.
//!
//! Needs Redis 6.2 or later (XAUTOCLAIM); 7.0 or later drops deleted entries from the pending list
//! by itself.
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use beckon_redis::{Connection, Redis, Timeouts};
use chrono::{DateTime, Utc};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamRangeReply, StreamReadReply};
use redis::{RedisError, Script};
use tokio::{sync::Notify, time::Instant};
use uuid::Uuid;

use super::{Lease, Queue, QueueError, QueueSettings};

/// The consumer group every replica reads through.
const GROUP: &str = "workers";
/// The entry field that holds the delivery id.
const FIELD: &str = "d";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
/// A blocked receive wakes at least this often, so that it takes over expired leases and sees
/// delayed entries that other replicas scheduled while it was blocked.
const MAX_BLOCK: Duration = Duration::from_secs(1);
/// Delayed entries moved per receive: keeps each script run short.
const PROMOTE_BATCH: usize = 1000;
/// Entries read per call at most: XAUTOCLAIM rejects huge counts, and no worker wants more.
const MAX_BATCH: usize = 10_000;
/// Idle blocking connections kept for reuse; more are opened while more receivers block at once.
const IDLE_BLOCKING_CONNECTIONS: usize = 16;

/// Moves due delayed deliveries into the stream (oldest first, at most ARGV[2]) and returns the
/// next due time still waiting, or nil.
/// KEYS[1] the delayed sorted set, KEYS[2] the stream; ARGV[1] now (Unix ms), ARGV[2] batch.
const PROMOTE_DUE: &str = r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(due) do
  redis.call('XADD', KEYS[2], '*', 'd', id)
  redis.call('ZREM', KEYS[1], id)
end
local next = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if next[2] then
  return next[2]
end
return false
";

pub struct RedisQueue {
    redis: Redis,
    /// For every command that does not block; reconnects by itself.
    conn: Connection,
    /// Connections for XREADGROUP ... BLOCK, one per receiver blocked at a time: on the shared
    /// multiplexed connection a BLOCK would hold every other command behind it.
    blocking: Mutex<Vec<Connection>>,
    stream: String,
    delayed: String,
    dead: String,
    settings: QueueSettings,
    promote: Script,
    /// Where the next XAUTOCLAIM scan starts, so that successive receives walk the whole
    /// pending list instead of rescanning its head.
    claim_cursor: Mutex<String>,
    /// A permit when this instance created the consumer group: whatever was published before
    /// is gone.
    lost: Notify,
}

fn unavailable(error: RedisError) -> QueueError {
    QueueError::Unavailable(error.to_string())
}

fn is_nogroup(error: &RedisError) -> bool {
    error.code() == Some("NOGROUP")
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values (a cursor, a list of idle connections) stay valid after any panic.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Whole milliseconds, rounded up and at least 1 (a BLOCK of 0 would wait forever).
fn millis_at_least_1(duration: Duration) -> u64 {
    let millis = duration.as_micros().div_ceil(1000);
    u64::try_from(millis).unwrap_or(u64::MAX).max(1)
}

/// Unix ms at or after `at`, so that "due" never means "a little early".
fn due_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros().saturating_add(999).div_euclid(1000)
}

/// The delivery id an entry carries, if it is one of ours.
fn delivery_id_of(entry: &StreamId) -> Option<Uuid> {
    let text: String = entry.get(FIELD)?;
    Uuid::parse_str(&text).ok()
}

impl RedisQueue {
    /// Connects, and creates the stream and its consumer group if they do not exist yet.
    pub async fn connect(
        redis_url: &str,
        prefix: &str,
        settings: QueueSettings,
    ) -> Result<Self, QueueError> {
        let timeouts = Timeouts {
            connect: CONNECT_TIMEOUT,
            response: RESPONSE_TIMEOUT,
        };
        let redis = Redis::open(redis_url, timeouts)
            .map_err(|error| QueueError::Unavailable(error.to_string()))?;
        let conn = redis.shared().await.map_err(unavailable)?;
        let queue = Self {
            redis,
            conn,
            blocking: Mutex::new(Vec::new()),
            stream: format!("{{{prefix}}}:deliveries"),
            delayed: format!("{{{prefix}}}:delayed"),
            dead: format!("{{{prefix}}}:dead"),
            settings,
            promote: Script::new(PROMOTE_DUE),
            claim_cursor: Mutex::new("0-0".to_owned()),
            lost: Notify::new(),
        };
        queue.ensure_group(&mut queue.conn.clone()).await?;
        Ok(queue)
    }

    /// Creates the group if missing: at start, and again if Redis lost its data. It starts at
    /// id 0, so that entries added before it existed are still delivered. The instance that
    /// creates it reports the queue lost (only one of several replicas can).
    async fn ensure_group(&self, conn: &mut Connection) -> Result<(), QueueError> {
        let created: Result<(), RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.stream)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(conn)
            .await;
        match created {
            Ok(()) => {
                *lock(&self.claim_cursor) = "0-0".to_owned();
                tracing::warn!(
                    stream = %self.stream,
                    "created the consumer group: the queue is new or Redis lost it"
                );
                self.lost.notify_one();
                Ok(())
            }
            Err(error) if error.code() == Some("BUSYGROUP") => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }

    /// Moves due delayed entries into the stream; returns how long until the next one is due.
    async fn promote_due(&self, conn: &mut Connection) -> Result<Option<Duration>, QueueError> {
        let now_ms = Utc::now().timestamp_millis();
        let next: Option<String> = self
            .promote
            .key(&self.delayed)
            .key(&self.stream)
            .arg(now_ms)
            .arg(PROMOTE_BATCH)
            .invoke_async(conn)
            .await
            .map_err(unavailable)?;
        let Some(next) = next else {
            return Ok(None);
        };
        let next_ms: f64 = next.parse().map_err(|_| {
            QueueError::Unavailable(format!("unexpected due time {next:?} in {}", self.delayed))
        })?;
        // A float, not an integer: the cast saturates, and scores are whole ms anyway.
        let until_ms = (next_ms - now_ms as f64).max(0.0) as u64;
        Ok(Some(Duration::from_millis(until_ms)))
    }

    /// Takes over entries left unacked past the ack deadline by any consumer.
    async fn reclaim(
        &self,
        conn: &mut Connection,
        consumer: &str,
        max: usize,
    ) -> Result<Vec<Lease>, QueueError> {
        let cursor = lock(&self.claim_cursor).clone();
        let claimed: Result<StreamAutoClaimReply, RedisError> = redis::cmd("XAUTOCLAIM")
            .arg(&self.stream)
            .arg(GROUP)
            .arg(consumer)
            .arg(millis_at_least_1(self.settings.ack_deadline))
            .arg(&cursor)
            .arg("COUNT")
            .arg(max)
            .query_async(conn)
            .await;
        let claimed = match claimed {
            Ok(claimed) => claimed,
            Err(error) if is_nogroup(&error) => {
                // Redis lost the queue; nothing can be pending in a group that is gone.
                self.ensure_group(conn).await?;
                return Ok(Vec::new());
            }
            Err(error) => return Err(unavailable(error)),
        };
        *lock(&self.claim_cursor) = claimed.next_stream_id;
        if claimed.claimed.is_empty() {
            return Ok(Vec::new());
        }

        // XAUTOCLAIM counted this delivery; XPENDING tells the count. One round trip for all.
        let mut pipe = redis::pipe();
        for entry in &claimed.claimed {
            pipe.cmd("XPENDING")
                .arg(&self.stream)
                .arg(GROUP)
                .arg(&entry.id)
                .arg(&entry.id)
                .arg(1);
        }
        let pending: Vec<Vec<(String, String, u64, u64)>> =
            pipe.query_async(conn).await.map_err(unavailable)?;

        let mut leases = Vec::new();
        let mut dead = Vec::new();
        let mut foreign = Vec::new();
        for (entry, pending) in claimed.claimed.into_iter().zip(pending) {
            // No longer pending: acked by its previous holder since the claim. Nothing to do.
            let Some(&(_, _, _, times)) = pending.first() else {
                continue;
            };
            let Some(delivery_id) = delivery_id_of(&entry) else {
                foreign.push(entry.id);
                continue;
            };
            let lease = Lease {
                delivery_id,
                entry_id: entry.id,
                times_delivered: u32::try_from(times).unwrap_or(u32::MAX),
            };
            if lease.times_delivered > self.settings.dead_letter_after {
                let reason = format!("handed out {} times without an ack", lease.times_delivered);
                dead.push((lease, reason));
            } else {
                leases.push(lease);
            }
        }
        self.dead_letter_many(conn, &dead).await?;
        self.drop_foreign(conn, &foreign).await?;
        Ok(leases)
    }

    /// Reads new entries; blocks up to `block` when given (on a connection of its own).
    async fn read_new(
        &self,
        conn: &mut Connection,
        consumer: &str,
        count: usize,
        block: Option<Duration>,
    ) -> Result<Vec<Lease>, QueueError> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(GROUP)
            .arg(consumer)
            .arg("COUNT")
            .arg(count);
        if let Some(block) = block {
            cmd.arg("BLOCK").arg(millis_at_least_1(block));
        }
        cmd.arg("STREAMS").arg(&self.stream).arg(">");

        let read: Result<Option<StreamReadReply>, RedisError> = match block {
            None => cmd.query_async(conn).await,
            Some(block) => {
                let mut blocking = self.blocking_connection().await?;
                let limit = block + RESPONSE_TIMEOUT;
                let read = tokio::time::timeout(limit, cmd.query_async(&mut blocking))
                    .await
                    .map_err(|_| {
                        QueueError::Unavailable(format!("no reply from Redis within {limit:?}"))
                    })?;
                // Only a connection that answered goes back for reuse; a timed-out one is
                // dropped above, with whatever reply may still arrive on it.
                if read.is_ok() {
                    let mut idle = lock(&self.blocking);
                    if idle.len() < IDLE_BLOCKING_CONNECTIONS {
                        idle.push(blocking);
                    }
                }
                read
            }
        };
        let read = match read {
            Ok(read) => read.unwrap_or_default(),
            Err(error) if is_nogroup(&error) => {
                self.ensure_group(conn).await?;
                return Ok(Vec::new());
            }
            Err(error) => return Err(unavailable(error)),
        };

        let mut leases = Vec::new();
        let mut foreign = Vec::new();
        for entry in read.keys.into_iter().flat_map(|key| key.ids) {
            match delivery_id_of(&entry) {
                Some(delivery_id) => leases.push(Lease {
                    delivery_id,
                    entry_id: entry.id,
                    times_delivered: 1,
                }),
                None => foreign.push(entry.id),
            }
        }
        self.drop_foreign(conn, &foreign).await?;
        Ok(leases)
    }

    async fn blocking_connection(&self) -> Result<Connection, QueueError> {
        if let Some(conn) = lock(&self.blocking).pop() {
            return Ok(conn);
        }
        self.redis.dedicated().await.map_err(unavailable)
    }

    /// Entries without a delivery id were not written by Beckon; dropping them keeps them from
    /// coming back forever.
    async fn drop_foreign(
        &self,
        conn: &mut Connection,
        entry_ids: &[String],
    ) -> Result<(), QueueError> {
        if entry_ids.is_empty() {
            return Ok(());
        }
        tracing::warn!(
            stream = %self.stream,
            ?entry_ids,
            "dropping stream entries without a delivery id"
        );
        self.ack_entries(conn, entry_ids).await
    }

    async fn ack_entries(
        &self,
        conn: &mut Connection,
        entry_ids: &[String],
    ) -> Result<(), QueueError> {
        if entry_ids.is_empty() {
            return Ok(());
        }
        // XDEL too: an acked entry is of no further use, and the stream would grow forever.
        let () = redis::pipe()
            .atomic()
            .cmd("XACK")
            .arg(&self.stream)
            .arg(GROUP)
            .arg(entry_ids)
            .ignore()
            .cmd("XDEL")
            .arg(&self.stream)
            .arg(entry_ids)
            .ignore()
            .query_async(conn)
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn dead_letter_many(
        &self,
        conn: &mut Connection,
        leases: &[(Lease, String)],
    ) -> Result<(), QueueError> {
        if leases.is_empty() {
            return Ok(());
        }
        // One MULTI: an entry is either still pending or both dead-lettered and acked.
        let mut pipe = redis::pipe();
        pipe.atomic();
        let mut entry_ids = Vec::with_capacity(leases.len());
        for (lease, reason) in leases {
            pipe.cmd("XADD")
                .arg(&self.dead)
                .arg("*")
                .arg(FIELD)
                .arg(lease.delivery_id.to_string())
                .arg("reason")
                .arg(reason)
                .arg("times")
                .arg(lease.times_delivered)
                .arg("entry")
                .arg(&lease.entry_id)
                .ignore();
            entry_ids.push(lease.entry_id.as_str());
        }
        pipe.cmd("XACK")
            .arg(&self.stream)
            .arg(GROUP)
            .arg(&entry_ids)
            .ignore()
            .cmd("XDEL")
            .arg(&self.stream)
            .arg(&entry_ids)
            .ignore();
        let () = pipe.query_async(conn).await.map_err(unavailable)?;
        for (lease, reason) in leases {
            tracing::warn!(delivery_id = %lease.delivery_id, reason, "delivery dead-lettered");
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Queue for RedisQueue {
    async fn publish(&self, delivery_ids: &[Uuid]) -> Result<(), QueueError> {
        if delivery_ids.is_empty() {
            return Ok(());
        }
        // One MULTI: all of them or none, in one round trip.
        let mut pipe = redis::pipe();
        pipe.atomic();
        for delivery_id in delivery_ids {
            pipe.cmd("XADD")
                .arg(&self.stream)
                .arg("*")
                .arg(FIELD)
                .arg(delivery_id.to_string())
                .ignore();
        }
        let () = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn publish_at(&self, delivery_id: Uuid, at: DateTime<Utc>) -> Result<(), QueueError> {
        let due_ms = due_millis(at);
        let id = delivery_id.to_string();
        let mut pipe = redis::pipe();
        pipe.atomic();
        if due_ms <= Utc::now().timestamp_millis() {
            // Due already: straight to the stream, where a blocked receiver sees it at once.
            // ZREM: an earlier schedule for the same id is replaced, as ZADD would replace it.
            pipe.cmd("ZREM").arg(&self.delayed).arg(&id).ignore();
            pipe.cmd("XADD")
                .arg(&self.stream)
                .arg("*")
                .arg(FIELD)
                .arg(&id)
                .ignore();
        } else {
            pipe.cmd("ZADD")
                .arg(&self.delayed)
                .arg(due_ms)
                .arg(&id)
                .ignore();
        }
        let () = pipe
            .query_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn receive(
        &self,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Lease>, QueueError> {
        let max = max.min(MAX_BATCH);
        if max == 0 {
            return Ok(Vec::new());
        }
        let start = Instant::now();
        let deadline = start
            .checked_add(wait)
            .unwrap_or_else(|| start + Duration::from_secs(365 * 24 * 3600));
        let mut conn = self.conn.clone();
        loop {
            let next_due = self.promote_due(&mut conn).await?;
            let mut leases = self.reclaim(&mut conn, consumer, max).await?;
            let now = Instant::now();
            // Block only with empty hands, and wake in time for the next delayed entry and
            // for leases that may expire meanwhile.
            let block = (leases.is_empty() && now < deadline).then(|| {
                let mut block = (deadline - now)
                    .min(MAX_BLOCK)
                    .min(self.settings.ack_deadline / 2);
                if let Some(next_due) = next_due {
                    block = block.min(next_due);
                }
                block
            });
            let room = max - leases.len();
            if room > 0 {
                leases.extend(self.read_new(&mut conn, consumer, room, block).await?);
            }
            if !leases.is_empty() || Instant::now() >= deadline {
                return Ok(leases);
            }
        }
    }

    async fn ack(&self, leases: &[Lease]) -> Result<(), QueueError> {
        let entry_ids: Vec<String> = leases.iter().map(|lease| lease.entry_id.clone()).collect();
        self.ack_entries(&mut self.conn.clone(), &entry_ids).await
    }

    async fn dead_letter(&self, lease: &Lease, reason: &str) -> Result<(), QueueError> {
        self.dead_letter_many(
            &mut self.conn.clone(),
            &[(lease.clone(), reason.to_owned())],
        )
        .await
    }

    async fn dead_letters(&self, max: usize) -> Result<Vec<Uuid>, QueueError> {
        // COUNT 0 would mean "no limit" to Redis.
        if max == 0 {
            return Ok(Vec::new());
        }
        let range: StreamRangeReply = redis::cmd("XRANGE")
            .arg(&self.dead)
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(max)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(unavailable)?;
        Ok(range.ids.iter().filter_map(delivery_id_of).collect())
    }

    async fn lost(&self) {
        self.lost.notified().await;
    }

    async fn waiting(&self) -> Result<usize, QueueError> {
        // Acked entries are deleted: the stream holds what waits plus what is handed out.
        let (length, (handed_out, ..)): (usize, (usize, redis::Value, redis::Value, redis::Value)) =
            redis::pipe()
                .cmd("XLEN")
                .arg(&self.stream)
                .cmd("XPENDING")
                .arg(&self.stream)
                .arg(GROUP)
                .query_async(&mut self.conn.clone())
                .await
                .map_err(unavailable)?;
        Ok(length.saturating_sub(handed_out))
    }

    async fn handed_out(&self) -> Result<usize, QueueError> {
        // XPENDING's summary: the count first, then the lowest and highest ids and the
        // consumers.
        let (handed_out, ..): (usize, redis::Value, redis::Value, redis::Value) =
            redis::cmd("XPENDING")
                .arg(&self.stream)
                .arg(GROUP)
                .query_async(&mut self.conn.clone())
                .await
                .map_err(unavailable)?;
        Ok(handed_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_time_rounds_up_to_the_next_millisecond() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_000_001).unwrap_or_default();
        assert_eq!(due_millis(at), 1_700_000_000_001);
        let exact = DateTime::from_timestamp_micros(1_700_000_000_000_000).unwrap_or_default();
        assert_eq!(due_millis(exact), 1_700_000_000_000);
    }

    #[test]
    fn a_block_is_never_zero_which_would_mean_forever() {
        assert_eq!(millis_at_least_1(Duration::ZERO), 1);
        assert_eq!(millis_at_least_1(Duration::from_micros(1500)), 2);
        assert_eq!(millis_at_least_1(Duration::from_secs(2)), 2000);
    }
}
