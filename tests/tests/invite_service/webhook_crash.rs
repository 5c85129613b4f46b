//! invite-service killed (SIGKILL) while it sends 1,000 webhooks, then started again on the same
//! database: every message arrives, and a message that arrives twice is the same message (same
//! `webhook-id`, same body). The real binary, on both databases.
use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use beckon_proto::invite::v1::{
    invite_service_client::InviteServiceClient, job_service_client::JobServiceClient,
    webhook_service_client::WebhookServiceClient, BulkCreateInvitesRequest, CreateJobRequest,
    CreateWebhookEndpointRequest, Job, WebhookEndpoint,
};
use beckon_tests::{
    fresh_postgres_database,
    process::{service, Running},
    smtp::SmtpServer,
    webhooks::WebhookReceiver,
    Backend,
};

beckon_tests::on_both_databases!(a_killed_server_loses_no_webhook);

const INVITES: usize = 1000;
const DEADLINE: Duration = Duration::from_secs(120);

async fn a_killed_server_loses_no_webhook(backend: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(fresh_postgres_database().await),
    };
    let smtp = SmtpServer::start().await;
    let receiver = WebhookReceiver::start(&[]).await;
    let command = || {
        let mut command = service("invite-service");
        command
            .env("BECKON_LISTEN_ADDR", "127.0.0.1:0")
            .env("BECKON_DATA_DIR", dir.path())
            .env("BECKON_WEBHOOK_ALLOW_HTTP", "true")
            .env("BECKON_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
            .env("BECKON_WEBHOOK_RETRY_SCHEDULE", "100ms 100ms 100ms 100ms")
            // Slow enough that the kill lands mid-stream: 1,001 messages take ~5 s.
            .env("BECKON_WEBHOOK_RATE_PER_ENDPOINT", "200/second burst 20")
            .env("BECKON_WEBHOOK_INTERVAL_MS", "50")
            // What the killed server held falls due again this long after it took it.
            .env("BECKON_WEBHOOK_TIMEOUT_MS", "2000")
            .env("BECKON_NOTIFY_SMTP__HOST", smtp.addr.ip().to_string())
            .env("BECKON_NOTIFY_SMTP__PORT", smtp.addr.port().to_string())
            .env("BECKON_NOTIFY_SMTP__SECURITY", "none")
            .env("BECKON_NOTIFY_FROM_ADDRESS", "Hiring <hiring@example.test>")
            // The delivery loop's own debug lines too: none may hold a secret or a body.
            .env("RUST_LOG", "info,invite_service=debug");
        if let Some(url) = &database_url {
            command.env("BECKON_DATABASE_URL", url);
        }
        command
    };
    let mut running = Running::start(command(), "Press Ctrl-C to stop.").await;
    let channel = running.channel().await;
    let auth = beckon_tests::Auth::bearer(&running.admin_key());
    let created = WebhookServiceClient::with_interceptor(channel.clone(), auth.clone())
        .create_webhook_endpoint(CreateWebhookEndpointRequest {
            endpoint: Some(WebhookEndpoint {
                url: receiver.url("/hooks"),
                event_types: vec!["invite.created".into()],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create endpoint")
        .into_inner();
    receiver.set_secrets(&[&created.secret]).await;
    let job = JobServiceClient::with_interceptor(channel.clone(), auth.clone())
        .create_job(CreateJobRequest {
            job: Some(Job {
                title: "Backend engineer".into(),
                assessment_url: "https://assess.example.com/start".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create job")
        .into_inner();
    // One bulk call: its 1,000 invites and their messages are written in one chunk, so the
    // stream starts whole and the kill lands in it.
    let pasted_list: Vec<String> = (0..INVITES)
        .map(|n| format!("candidate{n}@example.com"))
        .collect();
    InviteServiceClient::with_interceptor(channel, auth)
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            pasted_list: pasted_list.join("\n"),
            request_id: uuid::Uuid::new_v4().to_string(),
            ..Default::default()
        })
        .await
        .expect("bulk create");

    let before = receiver.wait_for(100, DEADLINE).await;
    running.kill().await;
    let received_before = distinct(&receiver.received().await);
    assert!(before.len() >= 100, "webhooks flowed before the kill");
    assert!(
        received_before < INVITES,
        "the kill came mid-stream ({received_before} of {INVITES} had arrived)"
    );

    let mut restarted = Running::start(command(), "Press Ctrl-C to stop.").await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let got = loop {
        let got = receiver.received().await;
        if distinct(&got) >= INVITES || tokio::time::Instant::now() >= deadline {
            break got;
        }
        let left = deadline - tokio::time::Instant::now();
        receiver.wait_for(got.len() + 1, left).await;
    };
    assert_eq!(distinct(&got), INVITES, "every invite's message arrived");
    let mut bodies: HashMap<&str, &serde_json::Value> = HashMap::new();
    for r in &got {
        assert!(r.all_verified(), "{r:?}");
        let id = r.id.as_deref().expect("webhook-id");
        if let Some(first) = bodies.insert(id, &r.body) {
            assert_eq!(first, &r.body, "a duplicate is the same message");
        }
    }
    let invites: HashSet<&serde_json::Value> = got
        .iter()
        .map(|r| &r.body["data"]["invite"]["id"])
        .collect();
    assert_eq!(invites.len(), INVITES, "one message per invite");

    // Neither process logged the secret or a message body.
    running.drain_log().await;
    restarted.drain_log().await;
    let key_part = created.secret.trim_start_matches("whsec_");
    for line in running.log.iter().chain(&restarted.log) {
        assert!(!line.contains(key_part), "a secret in the log: {line}");
        assert!(
            !line.contains("invite.created"),
            "a body in the log: {line}"
        );
        assert!(
            !line.contains("candidate1@example.com"),
            "a body in the log: {line}"
        );
    }
}

fn distinct(received: &[beckon_tests::webhooks::Received]) -> usize {
    received
        .iter()
        .filter_map(|r| r.id.as_deref())
        .collect::<HashSet<_>>()
        .len()
}
