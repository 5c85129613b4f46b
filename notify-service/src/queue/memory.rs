//! The in-process queue: the same behaviour as the Redis one, for a single process. Entries live
//! in memory only, so a new queue reports itself `lost` at once and the reconciler publishes
//! every unfinished delivery again (see the module docs).
//!
//! Receive order matches `RedisQueue`: delayed entries that are due join the back of the ready
//! line (as they join the stream in Redis), then leases past their ack deadline are taken back
//! (handed out again, or dead-lettered when handed out too often), then ready entries in publish
//! order fill the rest.
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use uuid::Uuid;

use super::{Lease, Queue, QueueError, QueueSettings};

pub struct MemoryQueue {
    settings: QueueSettings,
    // A std Mutex, not tokio's: it is never held across an await, and every section is short.
    state: Mutex<State>,
    /// Wakes waiting receivers when something they could take may have appeared.
    changed: Notify,
    /// Holds one permit from the start: a new in-process queue holds nothing yet.
    lost: Notify,
}

#[derive(Default)]
struct State {
    /// Entry ids are a counter, so that a delivery published twice is two entries, as in Redis.
    next_entry: u64,
    ready: VecDeque<(u64, Uuid)>,
    /// Handed out, not acked; ordered by entry id like a Redis pending-entries list.
    leased: BTreeMap<u64, Leased>,
    /// Delayed deliveries by due time; `delayed_at` finds an id's slot, so that publishing the
    /// same id again moves it (as ZADD does) instead of adding a second one.
    delayed: BTreeSet<(Instant, Uuid)>,
    delayed_at: HashMap<Uuid, Instant>,
    dead: Vec<Uuid>,
}

struct Leased {
    delivery_id: Uuid,
    times_delivered: u32,
    expires: Instant,
}

impl MemoryQueue {
    pub fn new(settings: QueueSettings) -> Self {
        let lost = Notify::new();
        lost.notify_one();
        Self {
            settings,
            state: Mutex::new(State::default()),
            changed: Notify::new(),
            lost,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the state consistent (every section
        // is a few collection operations), so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn push_ready(&mut self, delivery_id: Uuid) {
        self.next_entry += 1;
        self.ready.push_back((self.next_entry, delivery_id));
    }

    fn unschedule(&mut self, delivery_id: Uuid) {
        if let Some(due) = self.delayed_at.remove(&delivery_id) {
            self.delayed.remove(&(due, delivery_id));
        }
    }

    /// Takes what `consumer` may have now, and says when something may next become available.
    fn take(
        &mut self,
        now: Instant,
        max: usize,
        settings: &QueueSettings,
    ) -> (Vec<Lease>, Option<Instant>) {
        while let Some(&(due, delivery_id)) = self.delayed.first() {
            if due > now {
                break;
            }
            self.unschedule(delivery_id);
            self.push_ready(delivery_id);
        }

        let mut leases = Vec::new();
        let expired: Vec<u64> = self
            .leased
            .iter()
            .filter(|(_, leased)| leased.expires <= now)
            .map(|(&entry, _)| entry)
            .take(max)
            .collect();
        for entry in expired {
            let Some(leased) = self.leased.get_mut(&entry) else {
                continue;
            };
            leased.times_delivered = leased.times_delivered.saturating_add(1);
            if leased.times_delivered > settings.dead_letter_after {
                let delivery_id = leased.delivery_id;
                let times = leased.times_delivered;
                self.leased.remove(&entry);
                self.dead.push(delivery_id);
                tracing::warn!(%delivery_id, times, "delivery dead-lettered: never acked");
                continue;
            }
            leased.expires = later(now, settings.ack_deadline);
            leases.push(Lease {
                delivery_id: leased.delivery_id,
                entry_id: entry.to_string(),
                times_delivered: leased.times_delivered,
            });
        }

        while leases.len() < max {
            let Some((entry, delivery_id)) = self.ready.pop_front() else {
                break;
            };
            self.leased.insert(
                entry,
                Leased {
                    delivery_id,
                    times_delivered: 1,
                    expires: later(now, settings.ack_deadline),
                },
            );
            leases.push(Lease {
                delivery_id,
                entry_id: entry.to_string(),
                times_delivered: 1,
            });
        }

        let next_due = self.delayed.first().map(|&(due, _)| due);
        let next_expiry = self.leased.values().map(|leased| leased.expires).min();
        let next = match (next_due, next_expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        (leases, next)
    }
}

/// `now + wait`, clamped so that an absurd duration cannot overflow (and panic).
fn later(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600))
}

/// The entry handle of a lease; handles this queue never gave out match nothing.
fn entry_of(lease: &Lease) -> Option<u64> {
    lease.entry_id.parse().ok()
}

#[async_trait::async_trait]
impl Queue for MemoryQueue {
    async fn publish(&self, delivery_ids: &[Uuid]) -> Result<(), QueueError> {
        if delivery_ids.is_empty() {
            return Ok(());
        }
        {
            let mut state = self.state();
            for &delivery_id in delivery_ids {
                state.push_ready(delivery_id);
            }
        }
        self.changed.notify_waiters();
        Ok(())
    }

    async fn publish_at(&self, delivery_id: Uuid, at: DateTime<Utc>) -> Result<(), QueueError> {
        let wait = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
        {
            let mut state = self.state();
            state.unschedule(delivery_id);
            if wait.is_zero() {
                state.push_ready(delivery_id);
            } else {
                let due = later(Instant::now(), wait);
                state.delayed.insert((due, delivery_id));
                state.delayed_at.insert(delivery_id, due);
            }
        }
        // Waiters recompute when to wake: this entry may be due before what they wait for.
        self.changed.notify_waiters();
        Ok(())
    }

    async fn receive(
        &self,
        _consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Lease>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let deadline = tokio::time::Instant::from_std(later(Instant::now(), wait));
        loop {
            // Registered before looking, so that a publish between the look and the wait
            // still wakes this receiver.
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();

            let (leases, next) = self.state().take(Instant::now(), max, &self.settings);
            if !leases.is_empty() {
                return Ok(leases);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(leases);
            }
            let wake = next
                .map(tokio::time::Instant::from_std)
                .map_or(deadline, |next| next.min(deadline));
            // A timeout is the normal way out of this wait: the loop looks again.
            let _ = tokio::time::timeout_at(wake, notified).await;
        }
    }

    async fn ack(&self, leases: &[Lease]) -> Result<(), QueueError> {
        let mut state = self.state();
        for entry in leases.iter().filter_map(entry_of) {
            state.leased.remove(&entry);
        }
        Ok(())
    }

    async fn dead_letter(&self, lease: &Lease, reason: &str) -> Result<(), QueueError> {
        let mut state = self.state();
        if let Some(entry) = entry_of(lease) {
            state.leased.remove(&entry);
        }
        state.dead.push(lease.delivery_id);
        // The in-process list keeps ids only; the reason goes to the log.
        tracing::warn!(delivery_id = %lease.delivery_id, reason, "delivery dead-lettered");
        Ok(())
    }

    async fn dead_letters(&self, max: usize) -> Result<Vec<Uuid>, QueueError> {
        Ok(self.state().dead.iter().take(max).copied().collect())
    }

    async fn lost(&self) {
        self.lost.notified().await;
    }

    async fn waiting(&self) -> Result<usize, QueueError> {
        Ok(self.state().ready.len())
    }

    async fn handed_out(&self) -> Result<usize, QueueError> {
        Ok(self.state().leased.len())
    }
}
