//! Two replicas of each service on one PostgreSQL database and a Redis Cluster, behind HAProxy
//! (Debian's package) proxying gRPC over HTTP/2, as a production deployment runs them. A client
//! creates invites with emails through the proxy while one replica of each service is killed
//! (SIGKILL): every invite answered OK exists, every one's email arrives (a copy only with the
//! same Message-ID), and the relay rate limit, shared by the notify replicas through Redis,
//! holds at the SMTP server over every sliding window, within 1% and the burst.
//!
//! A test binary of its own, so that no other test shares the machine while it counts: the
//! limiter admits at most RATE × W + BURST in any window W, but an email reaches the SMTP
//! server some milliseconds after its admission, and a busy machine delays some more than
//! others. Arrivals can then bunch by the spread of those delays (with the limit at 100/s, every
//! 10 ms of spread is one more email in a window). Windows of 10 s leave the 1% (10 emails,
//! 100 ms) for it; the busiest 2 s window is reported next to the limiter's own bound.
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use beckon_proto::invite::v1::{invite_service_client::InviteServiceClient, CreateInviteRequest};
use beckon_tests::{
    fresh_postgres_database,
    haproxy::Haproxy,
    process::{service, unique, Running},
    smtp::{ReceivedMail, SmtpServer},
};
use sea_orm::{ConnectionTrait, Database, Statement};
use tonic::{metadata::MetadataValue, transport::Channel, Request};

const INVITES: usize = 1200;
const CLIENTS: usize = 8;
/// The relay limit: at most RATE a second, BURST at once.
const RATE: f64 = 100.0;
const BURST: f64 = 20.0;
const WINDOW: Duration = Duration::from_secs(10);
const SHORT_WINDOW: Duration = Duration::from_secs(2);
const LINK_SECRET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";
const SEAL_KEY: &str = "o5u-tNzRDSBMaENco-8-UrWayn6N5J0H6W-4GHqDn0g";
const NOTIFY_TOKEN: &str = "replicas-notify-token";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_behind_haproxy_lose_nothing_when_one_of_each_is_killed() {
    let smtp = SmtpServer::start().await;
    let database_url = fresh_postgres_database().await;
    let redis_url = tokio::task::spawn_blocking(beckon_redis::testing::shared_cluster_url)
        .await
        .expect("a Redis Cluster");
    let dir = tempfile::tempdir().expect("temp dir");
    let notify_prefix = unique("test-replicas-notify");
    let invite_prefix = unique("test-replicas-invite");

    let mut notify = Vec::new();
    for replica in 0..2 {
        let mut command = service("notify-service");
        command
            .env("BECKON_NOTIFY_LISTEN_ADDR", "127.0.0.1:0")
            .env(
                "BECKON_NOTIFY_DATA_DIR",
                dir.path().join(format!("notify-{replica}")),
            )
            .env("BECKON_NOTIFY_DATABASE_URL", &database_url)
            .env("BECKON_NOTIFY_REDIS_URL", &redis_url)
            .env("BECKON_NOTIFY_KEY_PREFIX", &notify_prefix)
            .env("BECKON_NOTIFY_AUTH_TOKEN", NOTIFY_TOKEN)
            .env("BECKON_NOTIFY_SEAL_KEYS", SEAL_KEY)
            .env("BECKON_NOTIFY_SMTP__HOST", "127.0.0.1")
            .env("BECKON_NOTIFY_SMTP__PORT", smtp.addr.port().to_string())
            .env("BECKON_NOTIFY_SMTP__SECURITY", "none")
            .env("BECKON_NOTIFY_RELAY_RATE", "100/second burst 20")
            .env("BECKON_NOTIFY_ORGANIZATION_RATE", "10000/second burst 1000")
            .env("BECKON_NOTIFY_DOMAIN_RATE", "10000/second burst 1000")
            // A killed replica's deliveries go out again soon.
            .env("BECKON_NOTIFY_ACK_DEADLINE_MS", "3000");
        notify.push(Running::start(command, "Beckon notify-service listening on").await);
    }
    let notify_proxy = Haproxy::start(&[("notify", notify.iter().map(|r| r.addr).collect())]).await;

    let mut invite = Vec::new();
    for replica in 0..2 {
        let mut command = service("invite-service");
        command
            .env("BECKON_LISTEN_ADDR", "127.0.0.1:0")
            .env(
                "BECKON_DATA_DIR",
                dir.path().join(format!("invite-{replica}")),
            )
            .env("DATABASE_URL", &database_url)
            .env("REDIS_URL", &redis_url)
            .env("BECKON_REDIS_KEY_PREFIX", &invite_prefix)
            .env("BECKON_LINK_SECRET", LINK_SECRET)
            .env(
                "BECKON_NOTIFY_ADDR",
                format!("http://{}", notify_proxy.frontends[0]),
            )
            .env("BECKON_NOTIFY_TOKEN", NOTIFY_TOKEN)
            .env("BECKON_RELAY_INTERVAL_MS", "100");
        invite.push(Running::start(command, "Press Ctrl-C to stop.").await);
    }
    let admin_key = invite[0].admin_key();
    let invite_proxy = Haproxy::start(&[("invite", invite.iter().map(|r| r.addr).collect())]).await;

    // The load: CLIENTS callers through the proxy, each retrying a failed call with the same
    // request id (a retry of a call that did commit answers the first answer).
    let channel = Channel::from_shared(format!("http://{}", invite_proxy.frontends[0]))
        .expect("url")
        .connect()
        .await
        .expect("connect to the proxy");
    let auth: MetadataValue<_> = format!("Bearer {admin_key}").parse().expect("ascii");
    let with_key = move |mut request: Request<()>| {
        request.metadata_mut().insert("authorization", auth.clone());
        Ok::<_, tonic::Status>(request)
    };
    let job_id = beckon_tests::open_job(channel.clone(), with_key.clone())
        .await
        .id;
    let answered: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let ok = Arc::new(AtomicUsize::new(0));
    let retried = Arc::new(AtomicUsize::new(0));
    let mut callers = tokio::task::JoinSet::new();
    for caller in 0..CLIENTS {
        let client = InviteServiceClient::with_interceptor(channel.clone(), with_key.clone());
        let (job_id, answered, ok, retried) = (
            job_id.clone(),
            answered.clone(),
            ok.clone(),
            retried.clone(),
        );
        callers.spawn(async move {
            let mut refused = Vec::new();
            for n in (caller..INVITES).step_by(CLIENTS) {
                let email = format!("r{n}@example.com");
                let request = CreateInviteRequest {
                    job_id: job_id.clone(),
                    candidate_email: email.clone(),
                    candidate_name: format!("Candidate {n}"),
                    send_email: true,
                    request_id: uuid::Uuid::new_v4().to_string(),
                    ..CreateInviteRequest::default()
                };
                let mut last = None;
                for _attempt in 0..20 {
                    match client.clone().create_invite(request.clone()).await {
                        Ok(response) => {
                            let id = response.into_inner().invite.unwrap_or_default().id;
                            answered
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .insert(id, email.clone());
                            ok.fetch_add(1, Ordering::Relaxed);
                            last = None;
                            break;
                        }
                        Err(status) => {
                            retried.fetch_add(1, Ordering::Relaxed);
                            last = Some(status);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
                refused.extend(last);
            }
            refused
        });
    }

    // One replica of each killed mid-load: invite-service once a third of the invites are
    // answered, notify-service once emails flow.
    let deadline = Instant::now() + Duration::from_secs(120);
    while ok.load(Ordering::Relaxed) < INVITES / 3 {
        assert!(Instant::now() < deadline, "the load did not get going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    invite[1].kill().await;
    let killed_invite_at = ok.load(Ordering::Relaxed);
    smtp.wait_for(Duration::from_secs(60), |m| m.len() >= 150)
        .await;
    notify[1].kill().await;
    let killed_notify_at = smtp.received().len();
    let mut refused = Vec::new();
    while let Some(caller) = callers.join_next().await {
        refused.extend(caller.expect("a caller"));
    }
    eprintln!(
        "killed an invite-service replica after {killed_invite_at} invites, a notify-service \
         replica after {killed_notify_at} emails; {} calls failed and were tried again, {} \
         still failed after 20 tries",
        retried.load(Ordering::Relaxed),
        refused.len()
    );
    assert!(
        refused.is_empty(),
        "every call succeeded in the end: {refused:?}"
    );
    let answered = answered.lock().unwrap_or_else(|p| p.into_inner()).clone();
    assert_eq!(answered.len(), INVITES);

    // Every invite answered OK exists.
    let database = Database::connect(&database_url).await.expect("PostgreSQL");
    let stored: Vec<String> = database
        .query_all(Statement::from_string(
            database.get_database_backend(),
            "SELECT id::text AS id FROM invites",
        ))
        .await
        .expect("the invites")
        .iter()
        .map(|row| row.try_get::<String>("", "id").expect("an id"))
        .collect();
    for id in answered.keys() {
        assert!(
            stored.contains(id),
            "invite {id} was answered OK and is stored"
        );
    }

    // Every one's email arrives; a copy only with the same Message-ID.
    let mail = smtp
        .wait_for(Duration::from_secs(120), |mail| {
            answered
                .values()
                .all(|email| mail.iter().any(|m| m.to.iter().any(|to| to == email)))
        })
        .await;
    let mut by_recipient: HashMap<&str, Vec<String>> = HashMap::new();
    for m in &mail {
        for to in &m.to {
            by_recipient
                .entry(to.as_str())
                .or_default()
                .push(m.header("Message-ID").unwrap_or_default());
        }
    }
    for email in answered.values() {
        let ids = by_recipient
            .get(email.as_str())
            .cloned()
            .unwrap_or_default();
        assert!(!ids.is_empty(), "{email} got its invite");
        assert!(
            ids.iter().all(|id| !id.is_empty() && id == &ids[0]),
            "{email}: copies carry the same Message-ID: {ids:?}"
        );
    }
    let copies = mail.len() - answered.len();
    eprintln!(
        "{} emails for {} invites ({copies} copies)",
        mail.len(),
        answered.len()
    );

    // The relay limit over every window starting at an arrival.
    let (short_most, _) = busiest_window(&mail, SHORT_WINDOW);
    eprintln!(
        "at most {short_most} arrivals in any {SHORT_WINDOW:?} (the limiter admits at most {:.0})",
        RATE * SHORT_WINDOW.as_secs_f64() + BURST
    );
    let (most, bound) = busiest_window(&mail, WINDOW);
    eprintln!("at most {most} arrivals in any {WINDOW:?}; the limit allows {bound:.0}");
    assert!(
        most as f64 <= bound,
        "{most} emails arrived within {WINDOW:?}: more than {RATE}/s for {WINDOW:?} + 1% + a burst of {BURST} ({bound:.0})"
    );
    drop((invite_proxy, notify_proxy));
    beckon_tests::notify::remove_redis_keys(&redis_url, &notify_prefix).await;
    beckon_tests::notify::remove_redis_keys(&redis_url, &invite_prefix).await;
}

/// The most arrivals in any window of `window` that starts at an arrival, and what the relay
/// limit allows in one: `RATE` × `window` + 1% + `BURST`.
fn busiest_window(mail: &[ReceivedMail], window: Duration) -> (usize, f64) {
    let mut arrivals: Vec<Instant> = mail.iter().map(|m| m.at).collect();
    arrivals.sort_unstable();
    let mut most = 0;
    let mut end = 0;
    for start in 0..arrivals.len() {
        while end < arrivals.len() && arrivals[end] - arrivals[start] < window {
            end += 1;
        }
        most = most.max(end - start);
    }
    (most, RATE * window.as_secs_f64() * 1.01 + BURST)
}
