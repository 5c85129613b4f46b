//! Seal key rotation: a message sealed under the old key is still sent after a restart with a
//! new key put first; a replica without the key a message was sealed with leaves it waiting and
//! says why, and a replica that has the key sends it.
use std::path::Path;

use beckon_proto::notify::v1::*;
use beckon_tests::{
    notify::{NotifyApp, QueueBackend},
    on_every_queue,
    smtp::SmtpServer,
};
use notify_service::{config::Secret, seal::generate_key};

use crate::delivery::{delivery_when, enqueue, invite_message};

on_every_queue!(
    a_message_sealed_before_a_key_rotation_is_sent_after_it,
    a_message_sealed_with_a_key_this_replica_lacks_waits_for_one_that_has_it,
);

/// notify-service on `data_dir`'s database with these seal keys, retrying until SMTP is back.
async fn notify_with_keys(
    backend: QueueBackend,
    smtp: &SmtpServer,
    data_dir: &Path,
    key_prefix: Option<&str>,
    keys: &[&str],
) -> NotifyApp {
    NotifyApp::spawn_with(backend, smtp, |config| {
        config.data_dir = data_dir.to_path_buf();
        if let Some(prefix) = key_prefix {
            config.key_prefix = prefix.to_string();
        }
        config.seal_keys = Some(Secret::new(keys.join(",")));
        config.max_attempts = 100_000;
        config.retry_base_ms = 100;
        config.retry_max_ms = 300;
    })
    .await
}

/// Enqueues one message while SMTP refuses, waits until it was tried, and stops the service.
async fn a_waiting_message(
    backend: QueueBackend,
    smtp: &SmtpServer,
    data_dir: &Path,
    key: &str,
) -> (String, String) {
    smtp.refuse_connections(true);
    let mut first = notify_with_keys(backend, smtp, data_dir, None, &[key]).await;
    let prefix = first.config.key_prefix.clone();
    let delivery = enqueue(
        &mut first,
        vec![invite_message("rotation/1", "ada@example.com")],
    )
    .await
    .remove(0);
    let waiting = delivery_when(&mut first, &delivery.id, |d| {
        d.state == DeliveryState::Deferred as i32
    })
    .await;
    assert_eq!(waiting.state, DeliveryState::Deferred as i32, "tried once");
    first.stop().await;
    (delivery.id, prefix)
}

async fn a_message_sealed_before_a_key_rotation_is_sent_after_it(backend: QueueBackend) {
    let smtp = SmtpServer::start().await;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (old, new) = (generate_key().expect("key"), generate_key().expect("key"));
    let (id, prefix) = a_waiting_message(backend, &smtp, data_dir.path(), &old).await;

    smtp.refuse_connections(false);
    let mut rotated = notify_with_keys(
        backend,
        &smtp,
        data_dir.path(),
        Some(&prefix),
        &[&new, &old],
    )
    .await;
    let sent = delivery_when(&mut rotated, &id, |d| d.state == DeliveryState::Sent as i32).await;
    assert_eq!(
        sent.state,
        DeliveryState::Sent as i32,
        "{}",
        sent.last_error
    );
    let mail = smtp.received();
    assert_eq!(mail.len(), 1);
    assert_eq!(
        mail[0]
            .link_starting("https://beckon.example/i/")
            .as_deref(),
        Some("https://beckon.example/i/abc123")
    );

    // New messages are sealed with the new key: they still go out once the old one is dropped.
    let fresh = enqueue(
        &mut rotated,
        vec![invite_message("rotation/2", "grace@example.com")],
    )
    .await
    .remove(0);
    rotated.stop().await;
    let mut dropped =
        notify_with_keys(backend, &smtp, data_dir.path(), Some(&prefix), &[&new]).await;
    let sent = delivery_when(&mut dropped, &fresh.id, |d| {
        d.state == DeliveryState::Sent as i32
    })
    .await;
    assert_eq!(
        sent.state,
        DeliveryState::Sent as i32,
        "{}",
        sent.last_error
    );
    dropped.stop().await;
}

async fn a_message_sealed_with_a_key_this_replica_lacks_waits_for_one_that_has_it(
    backend: QueueBackend,
) {
    let smtp = SmtpServer::start().await;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (old, new) = (generate_key().expect("key"), generate_key().expect("key"));
    let (id, prefix) = a_waiting_message(backend, &smtp, data_dir.path(), &old).await;

    smtp.refuse_connections(false);
    let mut lacking =
        notify_with_keys(backend, &smtp, data_dir.path(), Some(&prefix), &[&new]).await;
    let waiting = delivery_when(&mut lacking, &id, |d| {
        d.last_error.contains("not among the seal keys")
    })
    .await;
    assert_eq!(
        waiting.state,
        DeliveryState::Deferred as i32,
        "{}",
        waiting.last_error
    );
    assert!(smtp.received().is_empty(), "nothing was sent");
    lacking.stop().await;

    let mut having = notify_with_keys(
        backend,
        &smtp,
        data_dir.path(),
        Some(&prefix),
        &[&new, &old],
    )
    .await;
    let sent = delivery_when(&mut having, &id, |d| d.state == DeliveryState::Sent as i32).await;
    assert_eq!(
        sent.state,
        DeliveryState::Sent as i32,
        "{}",
        sent.last_error
    );
    having.stop().await;
}
