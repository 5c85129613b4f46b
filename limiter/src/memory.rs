//! GCRA in-process: the same arithmetic as the Redis script, on a monotonic clock.
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::{Admission, Limit, LimiterError, RateLimiter};

/// One limit's decision at `now` given its stored theoretical arrival time (all in µs): the new
/// arrival time to store if admitted, or how long until it would be.
///
/// The arrival time runs one emission interval ahead per admitted unit; a unit is admitted while
/// the arrival time is at most `tolerance` ahead of now, which lets `burst` units through at once.
pub(crate) fn gcra(
    now: u64,
    stored: Option<u64>,
    interval: u64,
    tolerance: u64,
) -> Result<u64, u64> {
    // A stored time in the past means the limit has been idle: it restarts from now.
    let tat = stored.map_or(now, |tat| tat.max(now));
    let allowed_from = tat.saturating_sub(tolerance);
    if allowed_from > now {
        Err(allowed_from - now)
    } else {
        Ok(tat.saturating_add(interval))
    }
}

/// Takes one unit from every limit or none: returns the new arrival times to store, or the
/// longest wait among the limits that refuse. A key named twice takes two units.
pub(crate) fn gcra_all(
    now: u64,
    limits: &[Limit],
    stored: impl Fn(&str) -> Option<u64>,
) -> Result<Vec<(String, u64)>, u64> {
    let mut taken: Vec<(String, u64)> = Vec::with_capacity(limits.len());
    let mut longest_wait = 0;
    for limit in limits {
        let previous = taken
            .iter()
            .rev()
            .find(|(key, _)| *key == limit.key)
            .map(|&(_, tat)| tat)
            .or_else(|| stored(&limit.key));
        match gcra(
            now,
            previous,
            limit.rate.emission_interval_micros(),
            limit.rate.tolerance_micros(),
        ) {
            Ok(tat) => taken.push((limit.key.clone(), tat)),
            Err(wait) => longest_wait = longest_wait.max(wait),
        }
    }
    if longest_wait > 0 {
        Err(longest_wait)
    } else {
        Ok(taken)
    }
}

pub struct MemoryLimiter {
    epoch: Instant,
    state: Mutex<State>,
}

struct State {
    /// Theoretical arrival times, µs since `epoch`.
    arrivals: HashMap<String, u64>,
    /// Map size at which idle limits are swept out; doubles with the live set, so the sweep is
    /// amortised constant time per acquire.
    sweep_at: usize,
}

const MIN_SWEEP: usize = 1024;

impl MemoryLimiter {
    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
            state: Mutex::new(State {
                arrivals: HashMap::new(),
                sweep_at: MIN_SWEEP,
            }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The map is consistent between statements, so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for MemoryLimiter {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait::async_trait]
impl RateLimiter for MemoryLimiter {
    async fn acquire(&self, limits: &[Limit]) -> Result<Admission, LimiterError> {
        if limits.is_empty() {
            return Ok(Admission::Admitted);
        }
        let mut state = self.state();
        // Read the clock under the lock, so that arrival times only ever see it move forward.
        let now = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX);
        let decision = gcra_all(now, limits, |key| state.arrivals.get(key).copied());
        match decision {
            Ok(taken) => {
                for (key, tat) in taken {
                    state.arrivals.insert(key, tat);
                }
                if state.arrivals.len() >= state.sweep_at {
                    // A time in the past is the same as no entry (what PEXPIRE does in Redis).
                    state.arrivals.retain(|_, tat| *tat > now);
                    state.sweep_at = (state.arrivals.len() * 2).max(MIN_SWEEP);
                }
                Ok(Admission::Admitted)
            }
            Err(wait) => Ok(Admission::RetryAfter(Duration::from_micros(wait))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Period, Rate};

    fn limit(key: &str, per_second: u32, burst: u32) -> Limit {
        Limit::new(key, Rate::new(per_second, Period::Second, burst))
    }

    #[test]
    fn a_burst_passes_at_once_and_the_next_unit_waits_one_interval() {
        // 10/s: one unit per 100 ms; burst 3: two intervals of tolerance.
        let (interval, tolerance) = (100_000, 200_000);
        let now = 5_000_000;
        let mut tat = None;
        for _ in 0..3 {
            tat = Some(gcra(now, tat, interval, tolerance).unwrap_or_default());
        }
        assert_eq!(tat, Some(now + 300_000));
        assert_eq!(gcra(now, tat, interval, tolerance), Err(100_000));
        // 40 ms later the wait is 60 ms; at 100 ms the unit passes.
        assert_eq!(gcra(now + 40_000, tat, interval, tolerance), Err(60_000));
        assert_eq!(
            gcra(now + 100_000, tat, interval, tolerance),
            Ok(now + 400_000)
        );
    }

    #[test]
    fn an_idle_limit_starts_again_from_now() {
        assert_eq!(gcra(1_000_000, Some(10), 500, 0), Ok(1_000_500));
        assert_eq!(gcra(1_000_000, None, 500, 0), Ok(1_000_500));
    }

    #[test]
    fn the_longest_wait_is_reported_and_nothing_is_taken_on_refusal() {
        let limits = [limit("a", 10, 1), limit("b", 1, 1)];
        let now = 1_000_000;
        let stored = |key: &str| match key {
            "a" => Some(now + 100_000),
            "b" => Some(now + 1_000_000),
            _ => None,
        };
        assert_eq!(gcra_all(now, &limits, stored), Err(1_000_000));
        assert_eq!(
            gcra_all(now, &limits[..1], |_| None),
            Ok(vec![("a".to_owned(), now + 100_000)])
        );
    }

    #[test]
    fn a_key_named_twice_takes_two_units() {
        let limits = [limit("a", 10, 2), limit("a", 10, 2)];
        assert_eq!(
            gcra_all(0, &limits, |_| None),
            Ok(vec![("a".to_owned(), 100_000), ("a".to_owned(), 200_000)])
        );
        let three = [limit("a", 10, 2), limit("a", 10, 2), limit("a", 10, 2)];
        assert_eq!(gcra_all(0, &three, |_| None), Err(100_000));
    }
}
