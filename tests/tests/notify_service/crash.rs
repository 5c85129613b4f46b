//! Nothing accepted is lost: not when notify-service is killed mid-batch, not when Redis comes
//! back empty.
use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use beckon_proto::notify::v1::*;
use beckon_tests::{
    notify::{test_config, NotifyApp, NotifyProcess, QueueBackend},
    on_both_queues,
    smtp::{ReceivedMail, SmtpServer},
};

use crate::delivery::invite_message;

on_both_queues!(killed_mid_batch_every_message_still_arrives_once_or_in_flight_twice);

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

async fn killed_mid_batch_every_message_still_arrives_once_or_in_flight_twice(
    backend: QueueBackend,
) {
    const TOTAL: usize = 2000;
    let smtp = SmtpServer::start().await;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let config = test_config(backend, &smtp, data_dir.path());
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
    for (key, ids) in &copies {
        assert!(
            ids.iter().all(|id| id == &ids[0] && !id.is_empty()),
            "{key}: every copy has the same Message-ID: {ids:?}"
        );
    }
    if let Some(url) = &config.redis_url {
        beckon_tests::notify::remove_redis_keys(url, &config.key_prefix).await;
    }
}

/// A Redis server of the test's own, so the test can restart it empty.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    fn start(port: u16) -> Self {
        let mut child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test installs it)");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("Ready to accept connections") => break,
                Some(Ok(_)) => {}
                _ => panic!("redis-server stopped before it was ready"),
            }
        }
        Self { child, port }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_empty_mid_batch_loses_nothing() {
    const TOTAL: usize = 1000;
    let smtp = SmtpServer::start().await;
    let port = free_port();
    let redis = OwnRedis::start(port);
    let url = redis.url();
    let mut app = NotifyApp::spawn_with(QueueBackend::Redis, &smtp, |c| {
        c.redis_url = Some(url.clone());
        // Slow enough that the batch is still going when Redis restarts.
        c.relay_rate = notify_service::config::Rate {
            per_second: 250.0,
            burst: 10,
        };
    })
    .await;
    let messages = (0..TOTAL)
        .map(|n| invite_message(&format!("redis-{n}"), &format!("r{n}@example.com")))
        .collect();
    app.client
        .enqueue_messages(EnqueueMessagesRequest { messages })
        .await
        .expect("enqueue");
    smtp.wait_for(Duration::from_secs(60), |m| m.len() >= 150)
        .await;
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
    let mail = smtp
        .wait_for(Duration::from_secs(120), |m| copies(m).len() > TOTAL)
        .await;
    let copies = copies(&mail);
    assert_eq!(
        copies.len(),
        TOTAL + 1,
        "every message arrived, the late one too"
    );
    app.stop().await;
}
