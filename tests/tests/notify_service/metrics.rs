//! notify-service's Prometheus metrics, scraped as Prometheus would and read with the
//! Prometheus project's own parser: the counters move exactly as the messages did.
use std::time::Duration;

use beckon_proto::notify::v1::*;
use beckon_tests::{
    metrics::{scrape, value},
    notify::{NotifyApp, QueueBackend},
    on_every_queue,
    smtp::SmtpServer,
};

use crate::delivery::{delivery_when, enqueue, invite_message};

on_every_queue!(the_counters_move_as_the_messages_did);

async fn the_counters_move_as_the_messages_did(backend: QueueBackend) {
    let smtp = SmtpServer::start().await;
    smtp.always("gone@example.com", 550);
    let mut app = NotifyApp::spawn_with(backend, &smtp, |config| {
        config.metrics_addr = Some("127.0.0.1:0".parse().expect("address"));
    })
    .await;
    let addr = app
        .running
        .as_ref()
        .and_then(|r| r.metrics_addr)
        .expect("metrics served");
    let mut messages: Vec<OutgoingMessage> = (0..4)
        .map(|n| invite_message(&format!("invite-{n}/1"), &format!("c{n}@example.com")))
        .collect();
    messages.push(invite_message("invite-gone/1", "gone@example.com"));
    let deliveries = enqueue(&mut app, messages).await;
    let refused = app
        .client
        .get_delivery(GetDeliveryRequest { id: "nope".into() })
        .await
        .expect_err("no such delivery");
    assert_eq!(refused.code(), tonic::Code::NotFound);
    for delivery in &deliveries {
        delivery_when(&mut app, &delivery.id, |d| {
            d.state == DeliveryState::Sent as i32 || d.state == DeliveryState::Failed as i32
        })
        .await;
    }
    smtp.wait_for(Duration::from_secs(20), |m| m.len() == 4)
        .await;

    // An outcome is counted just after it is recorded: scrape until the last one is.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let samples = loop {
        let samples = scrape(addr).await;
        let counted = samples
            .iter()
            .filter(|s| s.name == "beckon_notify_delivery_outcomes_total")
            .map(|s| s.value)
            .sum::<f64>();
        if counted >= 5.0 || tokio::time::Instant::now() >= deadline {
            break samples;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let rpc = |method: &str, code: &str| {
        value(
            &samples,
            "grpc_server_handled_total",
            &[
                ("grpc_service", "beckon.notify.v1.NotifyService"),
                ("grpc_method", method),
                ("grpc_code", code),
            ],
        )
    };
    assert_eq!(rpc("EnqueueMessages", "OK"), Some(1.0));
    assert_eq!(rpc("GetDelivery", "NotFound"), Some(1.0));
    let outcomes = |outcome| {
        value(
            &samples,
            "beckon_notify_delivery_outcomes_total",
            &[("outcome", outcome)],
        )
    };
    assert_eq!(
        (outcomes("sent"), outcomes("failed")),
        (Some(4.0), Some(1.0))
    );
    assert_eq!(
        value(
            &samples,
            "beckon_notify_limiter_decisions_total",
            &[("outcome", "admitted")]
        ),
        Some(5.0)
    );
    assert_eq!(
        value(&samples, "beckon_notify_deliveries_pending", &[]),
        Some(0.0)
    );
    assert_eq!(
        value(&samples, "beckon_notify_queue_waiting", &[]),
        Some(0.0)
    );
    // The last entry's ack may trail its outcome: only its presence is certain here.
    assert!(value(&samples, "beckon_notify_queue_handed_out", &[]).is_some());
    assert!(samples
        .iter()
        .any(|s| s.name == "beckon_notify_db_pool_connections"));
    app.stop().await;
}
