//! SIGTERM on notify-service's own binary, as an orchestrator stops a replica: with a send
//! hanging on the SMTP server it exits within `shutdown_timeout_secs`, saying the shutdown was
//! cut short; idle, it drains whole.
use std::time::Duration;

use beckon_proto::notify::v1::{
    notify_service_client::NotifyServiceClient, EnqueueMessagesRequest,
};
use beckon_tests::{
    process::{service, Running},
    smtp::SmtpServer,
};

use crate::delivery::invite_message;

const SHUTDOWN_TIMEOUT_SECS: u64 = 1;
const HUNG: &str = "hung@example.com";

fn command(dir: &std::path::Path, smtp: &SmtpServer) -> tokio::process::Command {
    let mut command = service("notify-service");
    command
        .env("BECKON_NOTIFY_LISTEN_ADDR", "127.0.0.1:0")
        .env("BECKON_NOTIFY_DATA_DIR", dir)
        .env("BECKON_NOTIFY_FROM_ADDRESS", "Hiring <hiring@example.test>")
        .env("BECKON_NOTIFY_SMTP__HOST", smtp.addr.ip().to_string())
        .env("BECKON_NOTIFY_SMTP__PORT", smtp.addr.port().to_string())
        .env("BECKON_NOTIFY_SMTP__SECURITY", "none")
        // Far longer than the bound: the held send is still hanging when it ends.
        .env("BECKON_NOTIFY_SMTP__TIMEOUT_SECS", "60")
        .env(
            "BECKON_NOTIFY_SHUTDOWN_TIMEOUT_SECS",
            SHUTDOWN_TIMEOUT_SECS.to_string(),
        );
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_within_the_shutdown_timeout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let smtp = SmtpServer::start().await;
    smtp.hold(HUNG);
    let mut running = Running::start(
        command(dir.path(), &smtp),
        "Beckon notify-service listening on",
    )
    .await;
    NotifyServiceClient::new(running.channel().await)
        .enqueue_messages(EnqueueMessagesRequest {
            messages: vec![invite_message("invite-hung/1", HUNG)],
        })
        .await
        .expect("enqueue");
    assert!(
        smtp.wait_for_attempt(HUNG, Duration::from_secs(30)).await,
        "the send reached the SMTP server"
    );

    let (status, took) = running.terminate().await;
    assert!(status.success(), "{status:?}");
    assert!(
        took >= Duration::from_secs(SHUTDOWN_TIMEOUT_SECS)
            && took < Duration::from_secs(SHUTDOWN_TIMEOUT_SECS + 3),
        "stopped {took:?} after SIGTERM"
    );
    running.drain_log().await;
    assert!(
        running.log.iter().any(|l| l.contains("shutdown cut short")),
        "{:#?}",
        running.log
    );

    // Idle (the held address released, nothing in flight), it drains whole.
    smtp.release(HUNG);
    let mut idle = Running::start(
        command(dir.path(), &smtp),
        "Beckon notify-service listening on",
    )
    .await;
    let (status, took) = idle.terminate().await;
    assert!(status.success(), "{status:?}");
    idle.drain_log().await;
    assert!(
        !idle.log.iter().any(|l| l.contains("shutdown cut short")),
        "an idle notify-service drained whole; it took {took:?}"
    );
}
