//! What happens to a message: sent once with the right headers, retried on 4xx, failed and
//! suppressed on 5xx, not sent to an address that unsubscribed from its organization.
use std::time::Duration;

use beckon_proto::notify::v1::*;
use beckon_tests::{
    notify::{NotifyApp, QueueBackend},
    on_every_queue,
    smtp::SmtpServer,
    WAIT,
};

on_every_queue!(
    an_invite_email_arrives_with_the_right_headers_and_parts,
    the_same_idempotency_key_twice_sends_one_email,
    a_451_three_times_is_delivered_on_the_fourth_attempt,
    a_550_fails_with_the_reason_and_suppresses_the_address,
    a_message_is_not_sent_before_its_time,
    an_unsubscribe_stops_one_organizations_mail_and_no_other,
);

const ORG: &str = "0190d9a2-7c3e-7000-8000-000000000001";

pub fn invite_message(key: &str, recipient: &str) -> OutgoingMessage {
    OutgoingMessage {
        idempotency_key: key.into(),
        organization_id: ORG.into(),
        kind: MessageKind::Invite as i32,
        recipient: recipient.into(),
        recipient_name: "Ada Lovelace".into(),
        variables: [
            ("candidate_first_name", "Ada"),
            ("candidate_name", "Ada Lovelace"),
            ("position_title", "Backend engineer"),
            ("link", "https://beckon.example/i/abc123"),
            ("organization_name", "Acme"),
            ("inviter_name", "Grace"),
            ("custom_message", "Looking forward to it."),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        invite_id: "invite-1".into(),
        ..Default::default()
    }
}

pub async fn enqueue(app: &mut NotifyApp, messages: Vec<OutgoingMessage>) -> Vec<Delivery> {
    app.client
        .enqueue_messages(EnqueueMessagesRequest { messages })
        .await
        .expect("enqueue")
        .into_inner()
        .deliveries
}

/// The delivery once `done` holds: read now, and after each read that falls short, run one
/// worker round and one reconcile round (the rounds the loops run) and read again if the worker
/// round took deliveries; when nothing was ready (a retry or a `not_before` time not yet due),
/// wait for a round of the loops to handle some. Until `WAIT` has passed; returns the last read.
pub async fn delivery_when(
    app: &mut NotifyApp,
    id: &str,
    done: impl Fn(&Delivery) -> bool,
) -> Delivery {
    let mut rounds = app
        .running
        .as_ref()
        .expect("notify-service running")
        .progress
        .subscribe();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        rounds.mark_unchanged();
        let delivery = app
            .client
            .get_delivery(GetDeliveryRequest { id: id.into() })
            .await
            .expect("get delivery")
            .into_inner();
        if done(&delivery) {
            return delivery;
        }
        let running = app.running.as_ref().expect("notify-service running");
        let step = async {
            running.reconcile_round().await.expect("reconcile round");
            running.worker_round().await.expect("worker round")
        };
        match tokio::time::timeout_at(deadline, step).await {
            // Out of time.
            Err(_) => return delivery,
            Ok(taken) if taken > 0 => continue,
            Ok(_) => {}
        }
        match tokio::time::timeout_at(deadline, rounds.changed()).await {
            Ok(Ok(())) => {}
            // Out of time, or notify-service stopped: nothing more will change.
            Ok(Err(_)) | Err(_) => return delivery,
        }
    }
}

async fn an_invite_email_arrives_with_the_right_headers_and_parts(backend: QueueBackend) {
    let smtp = SmtpServer::start().await;
    let mut app = NotifyApp::spawn(backend, &smtp).await;
    let deliveries = enqueue(
        &mut app,
        vec![invite_message("invite-1/1", "ada@example.com")],
    )
    .await;
    assert_eq!(deliveries[0].state, DeliveryState::Queued as i32);

    let mail = smtp
        .wait_for(Duration::from_secs(20), |m| !m.is_empty())
        .await;
    assert_eq!(mail.len(), 1);
    let mail = &mail[0];
    assert_eq!(mail.to, ["ada@example.com"]);
    assert_eq!(mail.from, "invites@beckon.test");
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Your invitation: Backend engineer")
    );
    assert_eq!(
        mail.header("Message-ID"),
        Some(deliveries[0].message_id.clone())
    );
    assert!(deliveries[0].message_id.ends_with("@beckon.test>"));
    assert_eq!(
        mail.header("X-Beckon-Idempotency-Key").as_deref(),
        Some("invite-1/1")
    );
    let to = mail.header("To").expect("To");
    assert!(
        to.contains("Ada Lovelace") && to.contains("<ada@example.com>"),
        "{to}"
    );
    assert!(mail.data.contains("multipart/alternative"));
    assert!(mail.data.contains("text/plain"));
    assert!(mail.data.contains("text/html"));
    assert_eq!(
        mail.link_starting("https://beckon.example/i/").as_deref(),
        Some("https://beckon.example/i/abc123")
    );
    let delivery = delivery_when(&mut app, &deliveries[0].id, |d| {
        d.state == DeliveryState::Sent as i32
    })
    .await;
    assert_eq!(delivery.attempts, 1);
    assert!(delivery.sent_time.is_some());
    app.stop().await;
}

async fn the_same_idempotency_key_twice_sends_one_email(backend: QueueBackend) {
    let smtp = SmtpServer::start().await;
    let mut app = NotifyApp::spawn(backend, &smtp).await;
    let first = enqueue(&mut app, vec![invite_message("k-1", "bob@example.com")]).await;
    let second = enqueue(&mut app, vec![invite_message("k-1", "bob@example.com")]).await;
    assert_eq!(first[0].id, second[0].id);
    delivery_when(&mut app, &first[0].id, |d| {
        d.state == DeliveryState::Sent as i32
    })
    .await;
    // Once sent, the key still names the same delivery.
    let third = enqueue(&mut app, vec![invite_message("k-1", "bob@example.com")]).await;
    assert_eq!(third[0].id, first[0].id);
    assert_eq!(third[0].state, DeliveryState::Sent as i32);
    let received = smtp
        .wait_for(Duration::from_millis(500), |m| m.len() > 1)
        .await;
    assert_eq!(received.len(), 1);
    app.stop().await;
}

async fn a_451_three_times_is_delivered_on_the_fourth_attempt(backend: QueueBackend) {
    let smtp = SmtpServer::start().await;
    smtp.script("grey@example.com", &[451, 451, 451]);
    let mut app = NotifyApp::spawn(backend, &smtp).await;
    let deliveries = enqueue(&mut app, vec![invite_message("grey-1", "grey@example.com")]).await;
    let delivery = delivery_when(&mut app, &deliveries[0].id, |d| {
        d.state == DeliveryState::Sent as i32
    })
    .await;
    assert_eq!(delivery.state, DeliveryState::Sent as i32, "{delivery:?}");
    assert_eq!(delivery.attempts, 4);
    assert_eq!(
        delivery.last_error, "",
        "a success clears the error of the attempts before it"
    );
    assert_eq!(smtp.attempts("grey@example.com"), 4);
    assert_eq!(smtp.received().len(), 1);
    app.stop().await;
}

async fn a_550_fails_with_the_reason_and_suppresses_the_address(backend: QueueBackend) {
    let smtp = SmtpServer::start().await;
    smtp.always("gone@example.com", 550);
    let mut app = NotifyApp::spawn(backend, &smtp).await;
    let deliveries = enqueue(&mut app, vec![invite_message("gone-1", "gone@example.com")]).await;
    let delivery = delivery_when(&mut app, &deliveries[0].id, |d| {
        d.state == DeliveryState::Failed as i32
    })
    .await;
    assert_eq!(delivery.state, DeliveryState::Failed as i32);
    assert_eq!(delivery.attempts, 1, "a permanent failure is not retried");
    assert!(
        delivery.last_error.contains("550"),
        "{}",
        delivery.last_error
    );

    let suppressions = app
        .client
        .list_suppressions(ListSuppressionsRequest::default())
        .await
        .expect("list")
        .into_inner()
        .suppressions;
    assert_eq!(suppressions.len(), 1);
    assert_eq!(suppressions[0].address, "gone@example.com");
    assert!(suppressions[0].reason.contains("550"));

    // The next message to that address is not even tried.
    let next = enqueue(&mut app, vec![invite_message("gone-2", "gone@example.com")]).await;
    assert_eq!(next[0].state, DeliveryState::Suppressed as i32);
    assert_eq!(smtp.attempts("gone@example.com"), 1);

    // Until the address is removed from the list.
    app.client
        .delete_suppression(DeleteSuppressionRequest {
            address: "gone@example.com".into(),
        })
        .await
        .expect("unsuppress");
    let again = enqueue(&mut app, vec![invite_message("gone-3", "gone@example.com")]).await;
    assert_eq!(again[0].state, DeliveryState::Queued as i32);
    app.stop().await;
}

async fn a_message_is_not_sent_before_its_time(backend: QueueBackend) {
    let smtp = SmtpServer::start().await;
    let mut app = NotifyApp::spawn(backend, &smtp).await;
    let later = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    let mut message = invite_message("later-1", "later@example.com");
    message.not_before = Some(prost_types::Timestamp {
        seconds: later.timestamp(),
        nanos: later.timestamp_subsec_nanos() as i32,
    });
    let deliveries = enqueue(&mut app, vec![message]).await;
    let delivery = delivery_when(&mut app, &deliveries[0].id, |d| {
        d.state == DeliveryState::Sent as i32
    })
    .await;
    let sent = delivery.sent_time.expect("sent");
    assert!(
        sent.seconds > later.timestamp()
            || (sent.seconds == later.timestamp()
                && sent.nanos >= later.timestamp_subsec_nanos() as i32),
        "sent at {sent:?}, not before {later}"
    );
    app.stop().await;
}

async fn an_unsubscribe_stops_one_organizations_mail_and_no_other(backend: QueueBackend) {
    const OTHER_ORG: &str = "0190d9a2-7c3e-7000-8000-000000000002";
    let smtp = SmtpServer::start().await;
    let mut app = NotifyApp::spawn(backend, &smtp).await;
    // Waiting for its time when the address unsubscribes: checked again when it is sent. Three
    // whole seconds away, so the unsubscribe surely comes first on a loaded machine.
    let mut waiting = invite_message("left-0", "leaver@example.com");
    let later = chrono::Utc::now() + chrono::Duration::seconds(3);
    waiting.not_before = Some(prost_types::Timestamp {
        seconds: later.timestamp(),
        nanos: later.timestamp_subsec_nanos() as i32,
    });
    let waiting = enqueue(&mut app, vec![waiting]).await;
    assert_eq!(waiting[0].state, DeliveryState::Queued as i32);

    let refused = app
        .client
        .unsubscribe(UnsubscribeRequest {
            organization_id: "acme".into(),
            address: "not an address".into(),
        })
        .await
        .expect_err("bad");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    for field in ["organization_id", "address"] {
        assert!(refused.message().contains(field), "{}", refused.message());
    }
    for _ in 0..2 {
        app.client
            .unsubscribe(UnsubscribeRequest {
                organization_id: ORG.into(),
                address: " Leaver@Example.com ".into(),
            })
            .await
            .expect("unsubscribe, twice alike");
    }

    let waited = delivery_when(&mut app, &waiting[0].id, |d| {
        d.state == DeliveryState::Suppressed as i32
    })
    .await;
    assert_eq!(waited.state, DeliveryState::Suppressed as i32, "{waited:?}");
    assert!(waited.last_error.contains("unsubscribed"), "{waited:?}");
    let next = enqueue(
        &mut app,
        vec![invite_message("left-1", "leaver@example.com")],
    )
    .await;
    assert_eq!(next[0].state, DeliveryState::Suppressed as i32);
    assert!(next[0].last_error.contains("unsubscribed"), "{:?}", next[0]);

    // Another organization's mail still goes.
    let mut theirs = invite_message("other-1", "leaver@example.com");
    theirs.organization_id = OTHER_ORG.into();
    let theirs = enqueue(&mut app, vec![theirs]).await;
    let sent = delivery_when(&mut app, &theirs[0].id, |d| {
        d.state == DeliveryState::Sent as i32
    })
    .await;
    assert_eq!(sent.state, DeliveryState::Sent as i32, "{sent:?}");
    assert_eq!(smtp.attempts("leaver@example.com"), 1);

    let check = |organization_id: &str| CheckSuppressionsRequest {
        addresses: vec!["leaver@example.com".into(), "ada@example.com".into()],
        organization_id: organization_id.into(),
    };
    for (org, expected) in [
        (ORG, vec!["leaver@example.com"]),
        (OTHER_ORG, vec![]),
        ("", vec![]),
    ] {
        let suppressed = app
            .client
            .check_suppressions(check(org))
            .await
            .expect("check")
            .into_inner()
            .suppressed;
        assert_eq!(suppressed, expected, "{org}");
    }
    app.stop().await;
}
