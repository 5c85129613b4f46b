//! SIGTERM, as an orchestrator stops a replica: the real binary drains what it can and exits
//! within `shutdown_timeout_secs`, even with a webhook attempt hanging on a slow receiver; an
//! idle one exits at once. What was cut short is not lost (its lease hands it on): the same
//! binary started again on the same database delivers it.
use std::time::Duration;

use beckon_proto::invite::v1::{
    invite_service_client::InviteServiceClient, job_service_client::JobServiceClient,
    webhook_service_client::WebhookServiceClient, BulkCreateInvitesRequest, CreateInviteRequest,
    CreateJobRequest, CreateWebhookEndpointRequest, Job, WatchCohortRequest, WebhookEndpoint,
};
use beckon_tests::{
    fresh_postgres_database,
    process::{service, Running},
    webhooks::WebhookReceiver,
    Backend,
};
use serde_json::json;

beckon_tests::on_both_databases!(sigterm_stops_within_the_shutdown_timeout_and_loses_nothing);

/// Well inside the webhook timeout (3 s), so the attempt is still hanging when the bound ends.
const SHUTDOWN_TIMEOUT_SECS: u64 = 1;

async fn sigterm_stops_within_the_shutdown_timeout_and_loses_nothing(backend: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(fresh_postgres_database().await),
    };
    let receiver = WebhookReceiver::start(&[]).await;
    let command = || {
        let mut command = service("invite-service");
        command
            .env("BECKON_LISTEN_ADDR", "127.0.0.1:0")
            .env("BECKON_DATA_DIR", dir.path())
            .env(
                "BECKON_SHUTDOWN_TIMEOUT_SECS",
                SHUTDOWN_TIMEOUT_SECS.to_string(),
            )
            .env("BECKON_WEBHOOK_ALLOW_HTTP", "true")
            .env("BECKON_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")
            .env("BECKON_WEBHOOK_INTERVAL_MS", "50")
            // The cut-short attempt's lease ends about 3 s × 6 waves + 5 s after it was taken.
            .env("BECKON_WEBHOOK_TIMEOUT_MS", "3000");
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
    // The receiver holds the first attempt far longer than the shutdown may take.
    receiver
        .set_mode(json!({"delayMs": 60_000, "times": 1}))
        .await;
    let invite = InviteServiceClient::with_interceptor(channel, auth)
        .create_invite(CreateInviteRequest {
            job_id: job.id,
            candidate_email: "ada@example.com".into(),
            candidate_name: "Ada".into(),
            ..Default::default()
        })
        .await
        .expect("create invite")
        .into_inner()
        .invite
        .expect("invite");
    receiver.wait_for(1, Duration::from_secs(30)).await;

    let (status, took) = running.terminate().await;
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(SHUTDOWN_TIMEOUT_SECS + 3),
        "stopped {took:?} after SIGTERM"
    );
    assert!(
        took >= Duration::from_secs(SHUTDOWN_TIMEOUT_SECS),
        "the hanging attempt was waited for, up to the bound ({took:?})"
    );
    running.drain_log().await;
    assert!(
        running.log.iter().any(|l| l.contains("shutdown cut short")),
        "{:#?}",
        running.log
    );

    // Started again: the cut-short message is delivered, with the same webhook-id.
    let mut restarted = Running::start(command(), "Press Ctrl-C to stop.").await;
    let got = receiver.wait_for(2, Duration::from_secs(60)).await;
    assert_eq!(got.len(), 2, "delivered after the lease ended");
    assert_eq!(got[0].id, got[1].id);
    assert!(got[1].all_verified());
    assert_eq!(
        got[1].body["data"]["invite"]["id"],
        serde_json::Value::String(invite.id)
    );

    // Idle, it finishes its shutdown well within the bound.
    let (status, took) = restarted.terminate().await;
    assert!(status.success(), "{status:?}");
    restarted.drain_log().await;
    assert!(
        !restarted
            .log
            .iter()
            .any(|l| l.contains("shutdown cut short")),
        "an idle server drained whole; it took {took:?}"
    );
    assert!(
        took < Duration::from_secs(SHUTDOWN_TIMEOUT_SECS),
        "{took:?}"
    );
}

/// A WatchCohort stream still open (its cohort waits for email outcomes from a notify-service
/// that is not there) ends at SIGTERM with UNAVAILABLE, saying the server is shutting down,
/// and the server stops at once instead of waiting for the stream until its bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_an_open_cohort_watch_at_once() {
    const BOUND_SECS: u64 = 10;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = service("invite-service");
    command
        .env("BECKON_LISTEN_ADDR", "127.0.0.1:0")
        .env("BECKON_DATA_DIR", dir.path())
        .env("BECKON_SHUTDOWN_TIMEOUT_SECS", BOUND_SECS.to_string())
        // Nothing listens there: the cohort's emails never get an outcome.
        .env(
            "BECKON_NOTIFY_ADDR",
            format!(
                "http://127.0.0.1:{}",
                beckon_tests::redis_server::free_port()
            ),
        );
    let mut running = Running::start(command, "Press Ctrl-C to stop.").await;
    let channel = running.channel().await;
    let auth = beckon_tests::Auth::bearer(&running.admin_key());
    let job = beckon_tests::open_job(channel.clone(), auth.clone()).await;
    let mut invites = InviteServiceClient::with_interceptor(channel, auth);
    let cohort = invites
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id,
            csv: "email,first_name,last_name\nada@example.com,Ada,Lovelace\n".into(),
            send_email: true,
            ..Default::default()
        })
        .await
        .expect("bulk create")
        .into_inner()
        .cohort
        .expect("a cohort");
    let mut stream = invites
        .watch_cohort(WatchCohortRequest { id: cohort.id })
        .await
        .expect("watch")
        .into_inner();
    stream
        .message()
        .await
        .expect("the first update")
        .expect("an update");

    let stopping = tokio::spawn(async move { running.terminate().await });
    let ended = tokio::time::timeout(Duration::from_secs(BOUND_SECS), async {
        loop {
            match stream.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => return None,
                Err(status) => return Some(status),
            }
        }
    })
    .await
    .expect("the stream ends before the shutdown's bound");
    let status = ended.expect("an error status, not a quiet end");
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert!(status.message().contains("shutting down"), "{status:?}");
    let (exit, took) = stopping.await.expect("terminate");
    assert!(exit.success(), "{exit:?}");
    assert!(
        took < Duration::from_secs(BOUND_SECS / 2),
        "stopped {took:?} after SIGTERM, not at its bound of {BOUND_SECS} s"
    );
}
