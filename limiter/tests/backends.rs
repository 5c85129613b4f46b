//! One behaviour suite for the rate limiter, run against each backend: `memory::<test>`
//! in-process, `redis::<test>` on a real Redis at `BECKON_TEST_REDIS_URL` (default
//! `redis://127.0.0.1:6379`), `cluster::<test>` on a Redis Cluster (at
//! `BECKON_TEST_REDIS_CLUSTER_URL`, else six servers started for this test process) and
//! `sentinel::<test>` on a master and replica behind Redis Sentinel (at
//! `BECKON_TEST_REDIS_SENTINEL_URL`, else started for this test process), each Redis test under
//! a key prefix of its own that is deleted when the test ends, pass or fail.
//! `replicas::{redis,cluster,sentinel}::<test>` covers what only a shared Redis can do: several service
//! instances on one set of limits.
use std::sync::Arc;
use std::time::{Duration, Instant};

use beckon_limiter::memory::MemoryLimiter;
use beckon_limiter::redis::RedisLimiter;
use beckon_limiter::{Admission, Limit, RateLimiter};
use uuid::Uuid;

#[derive(Clone, Copy)]
enum Backend {
    Memory,
    Redis,
    Cluster,
    Sentinel,
}

fn redis_url() -> String {
    std::env::var("BECKON_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

impl Backend {
    /// Where a Redis backend's keys live.
    fn url(self) -> Option<String> {
        match self {
            Backend::Memory => None,
            Backend::Redis => Some(redis_url()),
            Backend::Cluster => Some(beckon_redis::testing::shared_cluster_url()),
            Backend::Sentinel => Some(beckon_redis::testing::shared_sentinel_url()),
        }
    }
}

/// A test's own corner of a backend: for Redis, a fresh key prefix whose keys are deleted when
/// the fixture is dropped, even by a failing test.
struct Fixture {
    backend: Backend,
    prefix: String,
}

impl Fixture {
    fn new(backend: Backend) -> Self {
        Self {
            backend,
            prefix: format!("test-{}", Uuid::new_v4()),
        }
    }

    async fn limiter(&self) -> Arc<dyn RateLimiter> {
        match self.backend.url() {
            None => Arc::new(MemoryLimiter::new()),
            Some(url) => Arc::new(RedisLimiter::connect(&url, &self.prefix).await.expect(
                "Redis at BECKON_TEST_REDIS_URL, a Redis Cluster (scripts/test provides both)",
            )),
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(url) = self.backend.url() {
            beckon_redis::testing::delete_keys(&url, &self.prefix);
        }
    }
}

/// Writes each test in the suite once per backend.
macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Fixture::new(super::Backend::Memory)).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Fixture::new(super::Backend::Redis)).await;
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Fixture::new(super::Backend::Cluster)).await;
                }
            )*
        }
        mod sentinel {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::Fixture::new(super::Backend::Sentinel)).await;
                }
            )*
        }
    };
}

on_every_backend!(
    a_burst_is_admitted_at_once_then_refused_with_a_sensible_retry_after,
    a_refused_acquire_over_several_limits_takes_nothing_from_any,
    three_limits_are_taken_together_or_not_at_all,
    a_key_named_twice_takes_two_units,
    a_refusal_reports_the_longest_wait,
    at_a_low_rate_the_admitted_count_follows_the_limit_and_never_exceeds_it,
    at_a_high_rate_concurrent_callers_are_never_over_admitted,
);

fn limit(key: &str, rate: &str) -> Limit {
    Limit::new(key, rate.parse().expect("a rate"))
}

async fn acquire(limiter: &dyn RateLimiter, limits: &[Limit]) -> Admission {
    limiter.acquire(limits).await.expect("acquire succeeds")
}

async fn a_burst_is_admitted_at_once_then_refused_with_a_sensible_retry_after(f: Fixture) {
    let limiter = f.limiter().await;
    // 4/s: an interval long enough that a busy machine's slow sleeps do not blur the result.
    let relay = [limit("relay", "4/second burst 5")];
    let interval = Duration::from_millis(250);

    let started = Instant::now();
    for _ in 0..5 {
        assert_eq!(acquire(&*limiter, &relay).await, Admission::Admitted);
    }
    let Admission::RetryAfter(wait) = acquire(&*limiter, &relay).await else {
        panic!("the sixth unit of a burst of 5 must wait");
    };
    let took = started.elapsed();
    // The sixth unit is due one interval after the first: the wait is what is left of it.
    assert!(wait <= interval, "wait {wait:?}");
    assert!(wait + took >= interval, "wait {wait:?} after {took:?}");

    tokio::time::sleep(wait).await;
    assert_eq!(acquire(&*limiter, &relay).await, Admission::Admitted);
    assert!(matches!(
        acquire(&*limiter, &relay).await,
        Admission::RetryAfter(wait) if wait <= interval
    ));
}

async fn a_refused_acquire_over_several_limits_takes_nothing_from_any(f: Fixture) {
    let limiter = f.limiter().await;
    let org = limit("org:1", "1/second burst 3");
    let relay = limit("relay", "1/second burst 1");
    assert_eq!(
        acquire(&*limiter, std::slice::from_ref(&relay)).await,
        Admission::Admitted
    );

    let both = [org.clone(), relay];
    for _ in 0..5 {
        assert!(matches!(
            acquire(&*limiter, &both).await,
            Admission::RetryAfter(_)
        ));
    }
    // The organization's limit still holds its whole burst.
    let org = [org];
    for _ in 0..3 {
        assert_eq!(acquire(&*limiter, &org).await, Admission::Admitted);
    }
    assert!(matches!(
        acquire(&*limiter, &org).await,
        Admission::RetryAfter(_)
    ));
}

/// As a notify worker takes them: the relay's, the organization's and the recipient domain's,
/// in one call. A spent domain holds the message back without charging the other two.
async fn three_limits_are_taken_together_or_not_at_all(f: Fixture) {
    let limiter = f.limiter().await;
    let relay = limit("relay", "1/hour burst 3");
    let org = limit("org:1", "1/hour burst 3");
    let spent = limit("domain:spent.example", "1/hour burst 1");
    let fresh = limit("domain:fresh.example", "1/hour burst 1");
    assert_eq!(
        acquire(&*limiter, std::slice::from_ref(&spent)).await,
        Admission::Admitted
    );

    let to_spent = [relay.clone(), org.clone(), spent];
    for _ in 0..3 {
        assert!(matches!(
            acquire(&*limiter, &to_spent).await,
            Admission::RetryAfter(wait) if wait > Duration::from_secs(3000)
        ));
    }
    // The relay and the organization still hold their whole bursts: three messages, the
    // first to a fresh domain, then only those that name no spent domain.
    assert_eq!(
        acquire(&*limiter, &[relay.clone(), org.clone(), fresh.clone()]).await,
        Admission::Admitted
    );
    for _ in 0..2 {
        assert_eq!(
            acquire(&*limiter, &[relay.clone(), org.clone()]).await,
            Admission::Admitted
        );
    }
    assert!(matches!(
        acquire(&*limiter, &[relay, org]).await,
        Admission::RetryAfter(_)
    ));
}

async fn a_key_named_twice_takes_two_units(f: Fixture) {
    let limiter = f.limiter().await;
    let twice = [
        limit("relay", "1/hour burst 3"),
        limit("relay", "1/hour burst 3"),
    ];
    assert_eq!(acquire(&*limiter, &twice).await, Admission::Admitted);
    // One unit left: two at once are refused and take nothing, one passes.
    assert!(matches!(
        acquire(&*limiter, &twice).await,
        Admission::RetryAfter(_)
    ));
    assert_eq!(acquire(&*limiter, &twice[..1]).await, Admission::Admitted);
    assert!(matches!(
        acquire(&*limiter, &twice[..1]).await,
        Admission::RetryAfter(_)
    ));
}

async fn a_refusal_reports_the_longest_wait(f: Fixture) {
    let limiter = f.limiter().await;
    let fast = limit("fast", "2/second burst 1");
    let slow = limit("slow", "30/minute burst 1");
    let both = [fast.clone(), slow];
    assert_eq!(acquire(&*limiter, &both).await, Admission::Admitted);

    let Admission::RetryAfter(wait) = acquire(&*limiter, &both).await else {
        panic!("both limits are spent");
    };
    assert!(
        wait > Duration::from_millis(1500) && wait <= Duration::from_secs(2),
        "the slow limit's wait: {wait:?}"
    );
    let Admission::RetryAfter(wait) = acquire(&*limiter, &[fast]).await else {
        panic!("the fast limit is spent too");
    };
    assert!(
        wait <= Duration::from_millis(500),
        "the fast limit's wait: {wait:?}"
    );
}

/// Admitted at most `burst + rate × elapsed`, by GCRA's definition; "never more" is exact.
fn assert_never_over_admitted(admitted: u64, per_second: f64, burst: u32, elapsed: Duration) {
    let ceiling = f64::from(burst) + per_second * elapsed.as_secs_f64();
    assert!(
        admitted as f64 <= ceiling,
        "over-admitted: {admitted} in {elapsed:?}, at most {ceiling:.1}"
    );
}

async fn at_a_low_rate_the_admitted_count_follows_the_limit_and_never_exceeds_it(f: Fixture) {
    let limiter = f.limiter().await;
    let relay = [limit("relay", "20/second burst 5")];
    let (per_second, burst) = (relay[0].rate.per_second(), relay[0].rate.burst());

    // Offered at 100/s, five times the limit, for 2 s.
    let mut ticks = tokio::time::interval(Duration::from_millis(10));
    let started = Instant::now();
    let (mut offered, mut admitted) = (0u64, 0u64);
    while started.elapsed() < Duration::from_secs(2) {
        ticks.tick().await;
        offered += 1;
        if acquire(&*limiter, &relay).await == Admission::Admitted {
            admitted += 1;
        }
    }
    // Measured after the last call returned: the window holds every admission.
    let elapsed = started.elapsed();
    let expected = per_second * elapsed.as_secs_f64();
    eprintln!(
        "low rate: offered {offered}, admitted {admitted} in {elapsed:?}; \
         rate x elapsed = {expected:.2}, ceiling = {:.2}",
        expected + f64::from(burst)
    );
    assert_never_over_admitted(admitted, per_second, burst, elapsed);
    let off_by = (admitted as f64 - expected).abs();
    assert!(
        off_by <= 0.01 * expected + f64::from(burst),
        "admitted {admitted}, expected {expected:.1} within 1% + burst"
    );
}

async fn at_a_high_rate_concurrent_callers_are_never_over_admitted(f: Fixture) {
    let limiter = f.limiter().await;
    let relay: Arc<[Limit]> = Arc::new([limit("relay", "2000/second burst 20")]);
    let (per_second, burst) = (relay[0].rate.per_second(), relay[0].rate.burst());
    let run_for = Duration::from_secs(1);

    let started = Instant::now();
    // Callers that ignore RetryAfter and come straight back: the most pressure this machine
    // can put on the limiter, and the most calls racing for each admission.
    let callers: Vec<_> = (0..16)
        .map(|_| {
            let limiter = limiter.clone();
            let relay = relay.clone();
            tokio::spawn(async move {
                let (mut offered, mut admitted) = (0u64, 0u64);
                while started.elapsed() < run_for {
                    offered += 1;
                    if acquire(&*limiter, &relay).await == Admission::Admitted {
                        admitted += 1;
                    }
                    // The in-process limiter never awaits: let the other callers run.
                    tokio::task::yield_now().await;
                }
                (offered, admitted)
            })
        })
        .collect();
    let (mut offered, mut admitted) = (0u64, 0u64);
    for caller in callers {
        let (o, a) = caller.await.expect("caller task");
        offered += o;
        admitted += a;
    }
    let elapsed = started.elapsed();
    let expected = per_second * elapsed.as_secs_f64();
    eprintln!(
        "high rate: offered {offered} ({:.0}/s), admitted {admitted} in {elapsed:?}; \
         rate x elapsed = {expected:.1} ({:.1}%), ceiling = {:.1}",
        offered as f64 / elapsed.as_secs_f64(),
        100.0 * admitted as f64 / expected,
        expected + f64::from(burst)
    );
    assert_never_over_admitted(admitted, per_second, burst, elapsed);
    assert!(admitted > u64::from(burst), "admits beyond the burst");
    assert!(offered > admitted, "the callers reached the limit");
}

// ---------------------------------------------------------------------------------------------
// Several replicas on one Redis

mod replicas {
    use super::*;

    /// Writes each test once on a single Redis server, a Redis Cluster and Redis Sentinel.
    macro_rules! on_shared_backends {
        ($($test:ident),* $(,)?) => {
            mod redis {
                $(
                    #[tokio::test]
                    async fn $test() {
                        super::$test(super::Fixture::new(super::Backend::Redis)).await;
                    }
                )*
            }
            mod cluster {
                $(
                    #[tokio::test]
                    async fn $test() {
                        super::$test(super::Fixture::new(super::Backend::Cluster)).await;
                    }
                )*
            }
            mod sentinel {
                $(
                    #[tokio::test]
                    async fn $test() {
                        super::$test(super::Fixture::new(super::Backend::Sentinel)).await;
                    }
                )*
            }
        };
    }

    on_shared_backends!(two_limiters_sharing_a_prefix_share_the_limit);

    async fn redis_limiter(f: &Fixture) -> RedisLimiter {
        let url = f.backend.url().expect("a Redis backend");
        RedisLimiter::connect(&url, &f.prefix)
            .await
            .expect("Redis at BECKON_TEST_REDIS_URL, a Redis Cluster")
    }

    async fn two_limiters_sharing_a_prefix_share_the_limit(f: Fixture) {
        let (a, b) = (redis_limiter(&f).await, redis_limiter(&f).await);
        let relay = [limit("relay", "1/second burst 4")];
        for limiter in [&a, &b, &a, &b] {
            assert_eq!(acquire(limiter, &relay).await, Admission::Admitted);
        }
        for limiter in [&a, &b] {
            assert!(matches!(
                acquire(limiter, &relay).await,
                Admission::RetryAfter(_)
            ));
        }

        // Another prefix is another set of limits.
        let other = Fixture::new(f.backend);
        let c = redis_limiter(&other).await;
        assert_eq!(acquire(&c, &relay).await, Admission::Admitted);
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_reported_as_unavailable() {
        assert!(RedisLimiter::connect("redis://127.0.0.1:1", "x")
            .await
            .is_err());
    }
}
