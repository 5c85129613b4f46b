//! Nothing accepted is lost: not when notify-service is killed mid-batch, not when Redis comes
//! back empty; and what a dead worker held, or a lost queue carried, goes out again promptly
//! (the ack deadline and a little, not the reconciler's backstop).
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use beckon_proto::notify::v1::*;
use beckon_tests::{
    notify::{test_config, NotifyApp, NotifyProcess, QueueBackend},
    on_every_queue,
    redis_server::{free_port, OwnRedis},
    smtp::{ReceivedMail, SmtpServer},
};

use crate::delivery::invite_message;

on_every_queue!(
    killed_mid_batch_every_message_still_arrives_once_or_in_flight_twice,
    a_worker_killed_mid_send_is_replaced_within_the_ack_deadline,
);

/// So long that a test passes only if recovery does not wait for the reconciler's backstop.
const NO_BACKSTOP_MS: u64 = 600_000;

/// Idempotency key → how many copies arrived, and the Message-IDs they carried.
fn copies(mail: &[ReceivedMail]) -> HashMap<String, Vec<String>> {
    let mut copies: HashMap<String, Vec<String>> = HashMap::new();
    for m in mail {
        let key = m.header("X-Beckon-Idempotency-Key").unwrap_or_default();
        copies
            .entry(key)
            .or_default()
            .push(m.header("Message-ID").unwrap_or_default());
    }
    copies
}

/// A message that arrived more than once carried the same Message-ID each time.
fn assert_copies_share_their_message_id(copies: &HashMap<String, Vec<String>>) {
    for (key, ids) in copies {
        assert!(
            ids.iter().all(|id| id == &ids[0] && !id.is_empty()),
            "{key}: every copy has the same Message-ID: {ids:?}"
        );
    }
}

async fn killed_mid_batch_every_message_still_arrives_once_or_in_flight_twice(
    backend: QueueBackend,
) {
    const TOTAL: usize = 2000;
    let smtp = SmtpServer::start().await;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(backend, &smtp, data_dir.path());
    config.republish_after_ms = Some(NO_BACKSTOP_MS);
    let first = NotifyProcess::start(&config);
    let mut client = first.client().await;
    for batch in 0..TOTAL / 1000 {
        let messages = (0..1000)
            .map(|i| {
                let n = batch * 1000 + i;
                invite_message(&format!("crash-{n}"), &format!("c{n}@example.com"))
            })
            .collect();
        client
            .enqueue_messages(EnqueueMessagesRequest { messages })
            .await
            .expect("enqueue");
    }
    let before = smtp
        .wait_for(Duration::from_secs(60), |m| m.len() >= 300)
        .await
        .len();
    first.kill();
    assert!(
        before < TOTAL,
        "killed mid-batch ({before} sent before the kill)"
    );

    let _second = NotifyProcess::start(&config);
    let mail = smtp
        .wait_for(Duration::from_secs(120), |m| copies(m).len() >= TOTAL)
        .await;
    let copies = copies(&mail);
    assert_eq!(copies.len(), TOTAL, "every message arrived");
    let duplicated: Vec<_> = copies.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(
        duplicated.len() <= config.workers,
        "only messages in flight at the kill may arrive twice: {} did",
        duplicated.len()
    );
    assert_copies_share_their_message_id(&copies);
    if let Some(url) = &config.redis_url {
        beckon_tests::notify::remove_redis_keys(url, &config.key_prefix).await;
    }
}

/// One worker takes a batch of 16: 15 slow sends, then one the SMTP server never answers. It is
/// killed while that send hangs, and started again at once. The message it held goes out within
/// the ack deadline and a margin (3 s + 3 s here; 60 s + a few with the defaults), and so do the
/// messages still waiting in the queue; with nothing sent and not recorded at the kill, every
/// message arrives exactly once.
async fn a_worker_killed_mid_send_is_replaced_within_the_ack_deadline(backend: QueueBackend) {
    const ACK_DEADLINE: Duration = Duration::from_secs(3);
    // Room for starting the second process on a loaded machine; far below the ten minutes
    // of the reconciler this no longer waits for.
    const MARGIN: Duration = Duration::from_secs(8);
    const IN_FLIGHT: &str = "in-flight@example.com";
    let smtp = SmtpServer::start().await;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = test_config(backend, &smtp, data_dir.path());
    config.workers = 1;
    config.ack_deadline_ms = ACK_DEADLINE.as_millis() as u64;
    config.republish_after_ms = Some(NO_BACKSTOP_MS);
    smtp.delay_replies(Duration::from_millis(150));
    smtp.hold(IN_FLIGHT);

    let first = NotifyProcess::start(&config);
    let mut messages: Vec<_> = (0..15)
        .map(|n| invite_message(&format!("before-{n}"), &format!("before{n}@example.com")))
        .collect();
    messages.push(invite_message("in-flight", IN_FLIGHT));
    messages.extend(
        (0..4).map(|n| invite_message(&format!("after-{n}"), &format!("after{n}@example.com"))),
    );
    let total = messages.len();
    first
        .client()
        .await
        .enqueue_messages(EnqueueMessagesRequest { messages })
        .await
        .expect("enqueue");
    assert!(
        smtp.wait_for_attempt(IN_FLIGHT, Duration::from_secs(60))
            .await,
        "the worker reached the message that hangs"
    );
    first.kill();
    let killed_at = Instant::now();
    smtp.release(IN_FLIGHT);
    smtp.delay_replies(Duration::ZERO);

    let _second = NotifyProcess::start(&config);
    let bound = ACK_DEADLINE + MARGIN;
    // Waits past the bound, so that a failure says how late the last message was.
    let mail = smtp
        .wait_for(bound + Duration::from_secs(10), |m| {
            copies(m).len() >= total
        })
        .await;
    let took = killed_at.elapsed();
    eprintln!("{backend:?}: the last message arrived {took:?} after the kill (bound {bound:?})");
    let copies = copies(&mail);
    assert_eq!(
        copies.len(),
        total,
        "every message arrived within {:?} of the kill (missing: {:?})",
        bound + Duration::from_secs(10),
        ["in-flight", "after-0", "after-1", "after-2", "after-3"]
            .iter()
            .filter(|key| !copies.contains_key(**key))
            .collect::<Vec<_>>()
    );
    assert!(
        took <= bound,
        "the last message arrived {took:?} after the kill; \
         at most the ack deadline and a margin, {bound:?}"
    );
    for (key, ids) in &copies {
        assert_eq!(ids.len(), 1, "{key} arrived once, not {}", ids.len());
    }
    assert_eq!(smtp.attempts(IN_FLIGHT), 2, "the hung send, then one more");
    if let Some(url) = &config.redis_url {
        beckon_tests::notify::remove_redis_keys(url, &config.key_prefix).await;
    }
}

/// Redis restarted empty mid-batch: the consumer group is gone (`NOGROUP`), which tells the
/// service at once that its queue is lost; it refills the queue from the database instead of
/// waiting for the reconciler. The first message after the restart arrives within a few poll
/// intervals (5 s), the last within that and the time the rest takes at the rate measured before
/// the restart (and half as much again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_empty_mid_batch_loses_nothing() {
    const TOTAL: usize = 1000;
    const RATE: u32 = 250;
    const REFILLED_WITHIN: Duration = Duration::from_secs(5);
    let smtp = SmtpServer::start().await;
    let port = free_port();
    let redis = OwnRedis::start(port);
    let url = redis.url();
    let mut app = NotifyApp::spawn_with(QueueBackend::Redis, &smtp, |c| {
        c.redis_url = Some(url.clone());
        // Slow enough that the batch is still going when Redis restarts.
        c.relay_rate =
            notify_service::config::Rate::new(RATE, notify_service::config::Period::Second, 10);
        c.republish_after_ms = Some(NO_BACKSTOP_MS);
    })
    .await;
    let messages = (0..TOTAL)
        .map(|n| invite_message(&format!("redis-{n}"), &format!("r{n}@example.com")))
        .collect();
    let enqueued_at = Instant::now();
    app.client
        .enqueue_messages(EnqueueMessagesRequest { messages })
        .await
        .expect("enqueue");
    let before = smtp
        .wait_for(Duration::from_secs(60), |m| m.len() >= 150)
        .await
        .len();
    // What this machine manages now: the limit, or less when it is busy.
    let rate = (before as f64 / enqueued_at.elapsed().as_secs_f64()).min(f64::from(RATE));
    redis.kill();

    // While Redis is down, a new message is refused as UNAVAILABLE, and still not lost.
    let refused = app
        .client
        .enqueue_messages(EnqueueMessagesRequest {
            messages: vec![invite_message("during-outage", "late@example.com")],
        })
        .await;
    if let Err(status) = &refused {
        assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    }

    let _redis_again = OwnRedis::start(port);
    let restarted_at = Instant::now();
    let delivered_at_restart = copies(&smtp.received()).len();
    let first_after = smtp
        .wait_for(REFILLED_WITHIN + Duration::from_secs(10), |m| {
            copies(m).len() > delivered_at_restart
        })
        .await;
    let first_took = restarted_at.elapsed();
    eprintln!("deliveries resumed {first_took:?} after Redis came back empty");
    assert!(
        copies(&first_after).len() > delivered_at_restart && first_took <= REFILLED_WITHIN,
        "deliveries resumed {first_took:?} after Redis came back empty; at most {REFILLED_WITHIN:?}"
    );
    let remaining = TOTAL + 1 - delivered_at_restart;
    // The time the rest takes at the rate measured before the restart, and half as much again.
    let bound = REFILLED_WITHIN + Duration::from_secs_f64(1.5 * remaining as f64 / rate);
    let mail = smtp
        .wait_for(bound + Duration::from_secs(10), |m| copies(m).len() > TOTAL)
        .await;
    let took = restarted_at.elapsed();
    eprintln!("the last of {remaining} arrived {took:?} after Redis came back (bound {bound:?})");
    let copies = copies(&mail);
    assert_eq!(
        copies.len(),
        TOTAL + 1,
        "every message arrived, the late one too"
    );
    assert!(
        took <= bound,
        "the last of {remaining} messages arrived {took:?} after Redis came back; at most {bound:?}"
    );
    app.stop().await;
}

/// On a Redis Cluster, the master that holds the queue's slot is killed (SIGKILL) mid-batch.
/// Its replica takes over within the cluster's node timeout; the service rides through the
/// failover (commands retried on the new master, workers pausing while none answers), and what
/// the dead master had acknowledged but not yet passed to its replica is republished from the
/// database. Every message arrives; a message that arrives twice carries the same Message-ID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_master_killed_mid_batch_loses_nothing() {
    a_master_killed_mid_batch_loses_nothing(beckon_redis::testing::Cluster::start).await;
}

/// The same behind Redis Sentinel: the sentinels agree the master is down and make its replica
/// master; the service asks them again and goes on there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_watched_master_killed_mid_batch_loses_nothing() {
    a_master_killed_mid_batch_loses_nothing(beckon_redis::testing::Sentinels::start).await;
}

async fn a_master_killed_mid_batch_loses_nothing<R: beckon_redis::testing::Breakable>(
    start: fn() -> R,
) {
    const TOTAL: usize = 1000;
    const RATE: u32 = 250;
    let smtp = SmtpServer::start().await;
    let mut redis = tokio::task::spawn_blocking(start)
        .await
        .expect("the Redis deployment starts");
    let url = redis.url();
    // The deployment of this test's own (not the shared one a Redis backend would start).
    let mut app = NotifyApp::spawn_with(QueueBackend::InProcess, &smtp, |c| {
        c.redis_url = Some(url.clone());
        // Slow enough that the batch is still going when the master dies.
        c.relay_rate =
            notify_service::config::Rate::new(RATE, notify_service::config::Period::Second, 10);
    })
    .await;
    let messages = (0..TOTAL)
        .map(|n| invite_message(&format!("failover-{n}"), &format!("f{n}@example.com")))
        .collect();
    app.client
        .enqueue_messages(EnqueueMessagesRequest { messages })
        .await
        .expect("enqueue");
    let before = smtp
        .wait_for(Duration::from_secs(60), |m| m.len() >= 150)
        .await
        .len();
    let queue_key = format!("{{{}}}", app.config.key_prefix);
    let killed = tokio::task::spawn_blocking(move || {
        let port = redis.kill_master_holding(&queue_key);
        (redis, port)
    })
    .await
    .expect("the master is killed");
    eprintln!(
        "killed the queue's master (port {}) after {before} of {TOTAL} messages",
        killed.1
    );
    assert!(before < TOTAL, "killed mid-batch");

    let mail = smtp
        .wait_for(Duration::from_secs(120), |m| copies(m).len() >= TOTAL)
        .await;
    let copies = copies(&mail);
    assert_eq!(copies.len(), TOTAL, "every message arrived");
    assert_copies_share_their_message_id(&copies);
    app.stop().await;
}
