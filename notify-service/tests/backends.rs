//! One behaviour suite for the queue, run against each backend:
//! `memory::<test>` in-process, `redis::<test>` on a real Redis at `BECKON_TEST_REDIS_URL`
//! (default `redis://127.0.0.1:6379`) and `cluster::<test>` on a Redis Cluster (at
//! `BECKON_TEST_REDIS_CLUSTER_URL`, else six servers started for this test process), each Redis
//! test under a key prefix of its own that is deleted when the test ends, pass or fail.
//! `replicas::{redis,cluster}::<test>` covers what only a shared Redis can do: several service
//! instances on one queue. (The rate limiter's suite is the
//! `beckon-limiter` crate's own.)
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use notify_service::queue::memory::MemoryQueue;
use notify_service::queue::redis::RedisQueue;
use notify_service::queue::{Lease, Queue, QueueError, QueueSettings};
use uuid::Uuid;

/// How long a receive that should find something may take, at most (a slow, busy machine).
const PATIENCE: Duration = Duration::from_secs(5);

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

    async fn queue(&self, settings: QueueSettings) -> Arc<dyn Queue> {
        match self.backend.url() {
            None => Arc::new(MemoryQueue::new(settings)),
            Some(url) => Arc::new(
                RedisQueue::connect(&url, &self.prefix, settings)
                    .await
                    .expect(
                    "Redis at BECKON_TEST_REDIS_URL, a Redis Cluster (scripts/test provides both)",
                ),
            ),
        }
    }
}

impl Fixture {
    /// Deletes every key of this fixture's queue, as a Redis restarted without persistence.
    fn delete_keys(&self) {
        if let Some(url) = self.backend.url() {
            beckon_redis::testing::delete_keys(&url, &self.prefix);
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.delete_keys();
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
    published_deliveries_are_received_in_order_and_acked_ones_do_not_come_back,
    a_receive_takes_at_most_max_and_leaves_the_rest_in_order,
    a_waiting_receive_returns_as_soon_as_something_is_published,
    an_unacked_lease_comes_back_to_another_consumer_after_the_ack_deadline,
    a_delivery_handed_out_too_often_lands_in_dead_letters,
    dead_letter_acks_the_lease_and_lists_it_oldest_first,
    a_delayed_delivery_is_not_received_before_its_time_and_is_received_when_due,
    scheduling_a_delivery_again_moves_it_instead_of_adding_another,
    a_new_queue_reports_itself_lost_once,
    waiting_and_handed_out_count_entries_before_and_after_a_receive,
);

fn settings(ack_deadline_ms: u64, dead_letter_after: u32) -> QueueSettings {
    QueueSettings {
        ack_deadline: Duration::from_millis(ack_deadline_ms),
        dead_letter_after,
    }
}

fn new_ids(n: usize) -> Vec<Uuid> {
    (0..n).map(|_| Uuid::new_v4()).collect()
}

fn delivery_ids(leases: &[Lease]) -> Vec<Uuid> {
    leases.iter().map(|lease| lease.delivery_id).collect()
}

async fn receive(queue: &dyn Queue, consumer: &str, max: usize, wait: Duration) -> Vec<Lease> {
    queue
        .receive(consumer, max, wait)
        .await
        .expect("receive succeeds")
}

// ---------------------------------------------------------------------------------------------
// Queue

async fn published_deliveries_are_received_in_order_and_acked_ones_do_not_come_back(f: Fixture) {
    let queue = f.queue(settings(200, 5)).await;
    let ids = new_ids(3);
    queue.publish(&ids).await.expect("publish");

    let leases = receive(&*queue, "a", 10, PATIENCE).await;
    assert_eq!(delivery_ids(&leases), ids);
    assert!(leases.iter().all(|lease| lease.times_delivered == 1));
    queue.ack(&leases).await.expect("ack");

    // Well past the ack deadline, acked leases stay gone.
    let later = receive(&*queue, "b", 10, Duration::from_millis(600)).await;
    assert_eq!(later, Vec::new());
}

async fn a_receive_takes_at_most_max_and_leaves_the_rest_in_order(f: Fixture) {
    let queue = f.queue(settings(30_000, 5)).await;
    queue
        .publish(&[])
        .await
        .expect("publishing nothing is fine");

    let ids = new_ids(25);
    queue.publish(&ids).await.expect("publish");
    let mut received = Vec::new();
    for expected in [10, 10, 5] {
        let leases = receive(&*queue, "a", 10, PATIENCE).await;
        assert_eq!(leases.len(), expected);
        received.extend(leases);
    }
    assert_eq!(delivery_ids(&received), ids);
    assert_eq!(receive(&*queue, "a", 10, Duration::ZERO).await, Vec::new());

    let started = Instant::now();
    assert_eq!(receive(&*queue, "a", 0, PATIENCE).await, Vec::new());
    assert!(started.elapsed() < PATIENCE, "max 0 returns at once");
    queue.ack(&received).await.expect("ack");

    // A large batch goes in one publish and comes out in full batches, in order.
    let many = new_ids(1000);
    queue.publish(&many).await.expect("publish 1000");
    let mut received = Vec::new();
    while received.len() < many.len() {
        let leases = receive(&*queue, "a", 256, PATIENCE).await;
        assert!(!leases.is_empty(), "all 1000 are there to take");
        assert_eq!(leases.len(), 256.min(many.len() - received.len()));
        received.extend(leases);
    }
    assert_eq!(delivery_ids(&received), many);
    queue.ack(&received).await.expect("ack 1000");
}

async fn a_waiting_receive_returns_as_soon_as_something_is_published(f: Fixture) {
    let queue = f.queue(settings(30_000, 5)).await;

    let started = Instant::now();
    assert_eq!(
        receive(&*queue, "a", 10, Duration::from_millis(300)).await,
        Vec::new()
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < PATIENCE,
        "an empty receive waits as long as asked: {waited:?}"
    );

    let receiver = tokio::spawn({
        let queue = queue.clone();
        async move {
            let started = Instant::now();
            let leases = receive(&*queue, "a", 10, Duration::from_secs(20)).await;
            (leases, started.elapsed())
        }
    });
    // Gives the receiver time to start waiting; were it late, the test would still pass, just
    // without exercising the wake-up.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let id = Uuid::new_v4();
    queue.publish(&[id]).await.expect("publish");
    let (leases, took) = receiver.await.expect("receiver task");
    assert_eq!(delivery_ids(&leases), vec![id]);
    assert!(
        took < PATIENCE,
        "woken by the publish, not by its timeout: {took:?}"
    );
}

async fn an_unacked_lease_comes_back_to_another_consumer_after_the_ack_deadline(f: Fixture) {
    let queue = f.queue(settings(200, 5)).await;
    let id = Uuid::new_v4();
    queue.publish(&[id]).await.expect("publish");

    let before = Instant::now();
    let first = receive(&*queue, "a", 10, PATIENCE).await;
    assert_eq!(delivery_ids(&first), vec![id]);
    assert_eq!(first[0].times_delivered, 1);

    // "a" never acks. "b" waits, and gets the same entry once a's deadline has passed.
    let second = receive(&*queue, "b", 10, PATIENCE).await;
    let after = before.elapsed();
    assert_eq!(delivery_ids(&second), vec![id]);
    assert_eq!(second[0].entry_id, first[0].entry_id);
    assert_eq!(second[0].times_delivered, 2);
    // Redis counts idle time in whole milliseconds, hence 199.
    assert!(
        after >= Duration::from_millis(199),
        "not before the ack deadline: {after:?}"
    );

    queue.ack(&second).await.expect("ack");
    assert_eq!(
        receive(&*queue, "c", 10, Duration::from_millis(600)).await,
        Vec::new()
    );
}

async fn a_delivery_handed_out_too_often_lands_in_dead_letters(f: Fixture) {
    let queue = f.queue(settings(100, 2)).await;
    let id = Uuid::new_v4();
    queue.publish(&[id]).await.expect("publish");

    let first = receive(&*queue, "a", 10, PATIENCE).await;
    assert_eq!(first[0].times_delivered, 1);
    let second = receive(&*queue, "b", 10, PATIENCE).await;
    assert_eq!(delivery_ids(&second), vec![id]);
    assert_eq!(second[0].times_delivered, 2);

    // A third hand-out would exceed 2: the entry is dead-lettered instead, and stays out.
    assert_eq!(
        receive(&*queue, "c", 10, Duration::from_millis(700)).await,
        Vec::new()
    );
    assert_eq!(
        queue.dead_letters(10).await.expect("dead letters"),
        vec![id]
    );
}

async fn dead_letter_acks_the_lease_and_lists_it_oldest_first(f: Fixture) {
    let queue = f.queue(settings(200, 5)).await;
    let ids = new_ids(2);
    queue.publish(&ids).await.expect("publish");
    let leases = receive(&*queue, "a", 10, PATIENCE).await;
    assert_eq!(delivery_ids(&leases), ids);

    queue
        .dead_letter(&leases[0], "550 mailbox does not exist")
        .await
        .expect("dead letter");
    queue
        .dead_letter(&leases[1], "552 message too large")
        .await
        .expect("dead letter");

    assert_eq!(queue.dead_letters(10).await.expect("dead letters"), ids);
    assert_eq!(queue.dead_letters(1).await.expect("dead letters"), ids[..1]);
    assert!(queue
        .dead_letters(0)
        .await
        .expect("dead letters")
        .is_empty());
    // Dead-lettered means acked: neither comes back after the ack deadline.
    assert_eq!(
        receive(&*queue, "b", 10, Duration::from_millis(600)).await,
        Vec::new()
    );
}

async fn a_delayed_delivery_is_not_received_before_its_time_and_is_received_when_due(f: Fixture) {
    let queue = f.queue(settings(30_000, 5)).await;
    let id = Uuid::new_v4();
    let at = Utc::now() + chrono::Duration::milliseconds(700);
    queue.publish_at(id, at).await.expect("publish_at");

    assert_eq!(
        receive(&*queue, "a", 10, Duration::from_millis(300)).await,
        Vec::new()
    );

    // A long wait: the receive wakes for the due time, not at the end of its wait.
    let leases = receive(&*queue, "a", 10, Duration::from_secs(20)).await;
    let now = Utc::now();
    assert_eq!(delivery_ids(&leases), vec![id]);
    assert_eq!(leases[0].times_delivered, 1);
    assert!(now >= at, "not early: {now} < {at}");
    let late = (now - at).to_std().unwrap_or_default();
    assert!(late < Duration::from_secs(1), "received {late:?} after due");

    // Due already: available at once.
    queue.ack(&leases).await.expect("ack");
    let past = Uuid::new_v4();
    queue
        .publish_at(past, Utc::now() - chrono::Duration::seconds(1))
        .await
        .expect("publish_at in the past");
    assert_eq!(
        delivery_ids(&receive(&*queue, "a", 10, PATIENCE).await),
        vec![past]
    );
}

async fn scheduling_a_delivery_again_moves_it_instead_of_adding_another(f: Fixture) {
    let queue = f.queue(settings(30_000, 5)).await;
    let id = Uuid::new_v4();
    queue
        .publish_at(id, Utc::now() + chrono::Duration::milliseconds(200))
        .await
        .expect("publish_at");
    queue
        .publish_at(id, Utc::now() + chrono::Duration::seconds(60))
        .await
        .expect("publish_at again");
    assert_eq!(
        receive(&*queue, "a", 10, Duration::from_millis(700)).await,
        Vec::new(),
        "the first schedule was replaced"
    );

    // Moved to now: received once, at once.
    queue
        .publish_at(id, Utc::now())
        .await
        .expect("publish_at now");
    let leases = receive(&*queue, "a", 10, PATIENCE).await;
    assert_eq!(delivery_ids(&leases), vec![id]);
    queue.ack(&leases).await.expect("ack");
    assert_eq!(
        receive(&*queue, "a", 10, Duration::from_millis(300)).await,
        Vec::new()
    );
}

/// True if `lost` reports within `within`.
async fn reports_lost(queue: &dyn Queue, within: Duration) -> bool {
    tokio::time::timeout(within, queue.lost()).await.is_ok()
}

async fn a_new_queue_reports_itself_lost_once(f: Fixture) {
    // New: an in-process queue, or a Redis consumer group this instance had to create. What
    // the database holds must be published to it.
    let queue = f.queue(settings(30_000, 5)).await;
    assert!(
        reports_lost(&*queue, PATIENCE).await,
        "a new queue is empty"
    );
    assert!(
        !reports_lost(&*queue, Duration::from_millis(300)).await,
        "reported once"
    );
}

async fn waiting_and_handed_out_count_entries_before_and_after_a_receive(f: Fixture) {
    let queue = f.queue(settings(30_000, 5)).await;
    assert_eq!(queue.waiting().await.expect("waiting"), 0);
    queue.publish(&new_ids(3)).await.expect("publish");
    assert_eq!(queue.waiting().await.expect("waiting"), 3);
    let leases = receive(&*queue, "a", 2, PATIENCE).await;
    assert_eq!(leases.len(), 2);
    assert_eq!(queue.waiting().await.expect("waiting"), 1, "two handed out");
    assert_eq!(queue.handed_out().await.expect("handed out"), 2);
    queue.ack(&leases).await.expect("ack");
    assert_eq!(queue.waiting().await.expect("waiting"), 1);
    assert_eq!(queue.handed_out().await.expect("handed out"), 0, "acked");
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

    on_shared_backends!(
        a_lease_left_by_a_dead_replica_is_taken_over_by_another,
        the_queue_recovers_when_redis_loses_its_keys,
        the_replica_that_recreates_a_lost_consumer_group_reports_the_queue_lost
    );

    async fn redis_queue(f: &Fixture, settings: QueueSettings) -> RedisQueue {
        let url = f.backend.url().expect("a Redis backend");
        RedisQueue::connect(&url, &f.prefix, settings)
            .await
            .expect("Redis at BECKON_TEST_REDIS_URL, a Redis Cluster")
    }

    async fn a_lease_left_by_a_dead_replica_is_taken_over_by_another(f: Fixture) {
        let a = redis_queue(&f, settings(200, 5)).await;
        let b = redis_queue(&f, settings(200, 5)).await;
        let id = Uuid::new_v4();
        a.publish(&[id]).await.expect("publish");
        let taken = receive(&a, "replica-a", 10, PATIENCE).await;
        assert_eq!(delivery_ids(&taken), vec![id]);
        drop(a);

        let taken_over = receive(&b, "replica-b", 10, PATIENCE).await;
        assert_eq!(delivery_ids(&taken_over), vec![id]);
        assert_eq!(taken_over[0].times_delivered, 2);
        b.ack(&taken_over).await.expect("ack");
    }

    async fn the_queue_recovers_when_redis_loses_its_keys(f: Fixture) {
        let queue = redis_queue(&f, settings(200, 5)).await;
        let lost = Uuid::new_v4();
        queue.publish(&[lost]).await.expect("publish");
        let in_flight = receive(&queue, "a", 10, PATIENCE).await;
        assert_eq!(delivery_ids(&in_flight), vec![lost]);

        // As after a restart without persistence: stream, group and pending list are gone.
        f.delete_keys();
        assert_eq!(
            receive(&queue, "a", 10, Duration::from_millis(300)).await,
            Vec::new()
        );
        queue
            .ack(&in_flight)
            .await
            .expect("acking a lost entry is harmless");

        // Entries published after the loss are delivered; the reconciler republishes the rest.
        let id = Uuid::new_v4();
        queue.publish(&[id]).await.expect("publish");
        assert_eq!(
            delivery_ids(&receive(&queue, "a", 10, PATIENCE).await),
            vec![id]
        );
        f.delete_keys();
        queue.publish(&[lost]).await.expect("publish");
        assert_eq!(
            delivery_ids(&receive(&queue, "b", 10, PATIENCE).await),
            vec![lost]
        );
    }

    async fn the_replica_that_recreates_a_lost_consumer_group_reports_the_queue_lost(f: Fixture) {
        let a = redis_queue(&f, settings(30_000, 5)).await;
        let b = redis_queue(&f, settings(30_000, 5)).await;
        assert!(reports_lost(&a, PATIENCE).await, "a created the group");
        assert!(
            !reports_lost(&b, Duration::from_millis(300)).await,
            "b found it there"
        );

        // As after a restart without persistence: b notices first and creates the group again.
        f.delete_keys();
        assert_eq!(
            receive(&b, "b", 10, Duration::from_millis(300)).await,
            Vec::new()
        );
        assert!(reports_lost(&b, PATIENCE).await, "b found NOGROUP");
        assert_eq!(
            receive(&a, "a", 10, Duration::from_millis(300)).await,
            Vec::new()
        );
        assert!(
            !reports_lost(&a, Duration::from_millis(300)).await,
            "one replica refills, not every one"
        );
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_reported_as_unavailable() {
        let url = "redis://127.0.0.1:1";
        match RedisQueue::connect(url, "x", QueueSettings::default()).await {
            Err(QueueError::Unavailable(reason)) => assert!(!reason.is_empty()),
            Ok(_) => panic!("nothing listens on port 1"),
        }
    }
}
