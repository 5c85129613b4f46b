//! Webhooks from the outside: endpoints made over gRPC, messages received by a real HTTP
//! receiver that checks every one with the official Standard Webhooks library of another
//! language (`beckon_tests::webhooks`), on both databases.
use beckon_proto::invite::v1::*;
use beckon_tests::{
    error_reason, on_both_databases,
    smtp::{to, SmtpServer},
    violated_fields,
    webhooks::WebhookReceiver,
    Backend, TestApp,
};
use serde_json::json;
use tonic::Code;

const WAIT: std::time::Duration = std::time::Duration::from_secs(30);

on_both_databases!(
    an_invites_lifecycle_arrives_signed_and_in_order,
    a_replay_carries_the_same_webhook_id,
    a_receiver_that_was_down_gets_every_event_in_order,
    retry_after_is_honoured_and_410_turns_the_endpoint_off,
    during_a_rotation_both_secrets_sign,
    private_addresses_are_refused_unless_allowed,
    endpoints_need_an_admin_key_and_check_their_input,
    filtered_endpoints_get_only_their_events,
    an_endpoint_failing_too_long_is_turned_off_and_the_admins_are_told,
    the_endpoint_rate_limit_paces_deliveries,
    locking_and_unlocking_are_told,
    history_past_its_retention_is_forgotten_unless_still_pending,
);

/// A server whose webhooks may go to the receiver on loopback, over plain HTTP, retried fast.
async fn app_for_receiver(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, |config| {
        config.webhook_allow_http = true;
        config.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
        config.webhook_retry_schedule = "100ms 100ms 100ms 100ms 100ms 100ms 100ms".into();
    })
    .await
}

/// A server, a receiver, and an endpoint there taking `events` (all if empty) whose secret the
/// receiver checks; the endpoint's id.
async fn receiving(backend: Backend, events: &[&str]) -> (TestApp, WebhookReceiver, String) {
    let app = app_for_receiver(backend).await;
    let receiver = WebhookReceiver::start(&[]).await;
    let (endpoint_id, secret) = endpoint(&app, &receiver.url("/hooks"), events).await;
    receiver.set_secrets(&[&secret]).await;
    (app, receiver, endpoint_id)
}

/// An endpoint for `url` taking `events` (all if empty); its id and secret.
async fn endpoint(app: &TestApp, url: &str, events: &[&str]) -> (String, String) {
    let created = app
        .webhooks()
        .create_webhook_endpoint(CreateWebhookEndpointRequest {
            endpoint: Some(WebhookEndpoint {
                url: url.into(),
                description: "the ATS".into(),
                event_types: events.iter().map(|e| e.to_string()).collect(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create endpoint")
        .into_inner();
    let endpoint = created.endpoint.expect("endpoint");
    assert!(created.secret.starts_with("whsec_"), "{}", created.secret);
    (endpoint.id, created.secret)
}

/// What the receiver holds once it holds at least `count` requests, driving the server's
/// background work meanwhile.
async fn received(
    app: &TestApp,
    receiver: &WebhookReceiver,
    count: usize,
) -> Vec<beckon_tests::webhooks::Received> {
    app.when(async || receiver.received().await, |r| r.len() >= count)
        .await
}

fn types(received: &[beckon_tests::webhooks::Received]) -> Vec<String> {
    received
        .iter()
        .map(|r| r.event_type.clone().unwrap_or_default())
        .collect()
}

async fn an_invites_lifecycle_arrives_signed_and_in_order(backend: Backend) {
    let (app, receiver, _endpoint) = receiving(backend, &[]).await;

    let created = app.create_invite().await;
    let id = created.invite.expect("invite").id;
    assert_eq!(
        app.post(&format!("{}/opened", created.link_url))
            .await
            .status(),
        204
    );
    assert_eq!(
        app.post(&format!("{}/start", created.link_url))
            .await
            .status(),
        303
    );
    let complete = CompleteInviteRequest { id: id.clone() };
    app.invites()
        .complete_invite(complete)
        .await
        .expect("complete");
    let reopen = ReopenInviteRequest { id: id.clone() };
    app.invites().reopen_invite(reopen).await.expect("reopen");
    let revoke = RevokeInviteRequest {
        id: id.clone(),
        ..Default::default()
    };
    app.invites().revoke_invite(revoke).await.expect("revoke");

    let got = received(&app, &receiver, 6).await;
    assert_eq!(
        types(&got),
        [
            "invite.created",
            "invite.opened",
            "invite.started",
            "invite.submitted",
            "invite.reopened",
            "invite.revoked"
        ]
    );
    let token = created.link_url.rsplit_once("/i/").expect("a link").1;
    for r in &got {
        assert!(r.all_verified(), "{r:?}");
        assert_eq!(r.path, "/hooks");
        assert_eq!(r.headers["content-type"], "application/json");
        let id_header = r.id.clone().expect("webhook-id");
        assert!(id_header.starts_with("msg_"), "{id_header}");
        let sent_at = r.timestamp_secs().expect("webhook-timestamp");
        assert!((sent_at * 1000 - r.received_at as i64).abs() < 60_000);
        // The invite as the API shows it, never its link.
        assert_eq!(r.body["data"]["invite"]["id"], json!(id));
        assert!(r.body["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')));
        assert!(!r.body.to_string().contains(token), "a link in {}", r.body);
    }
    let ids: std::collections::HashSet<_> = got.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), 6, "one webhook-id per event");
    assert_eq!(got[3].body["data"]["invite"]["status"], json!("submitted"));
    assert_eq!(got[2].body["data"]["actor"], json!("candidate"));
    assert!(got[3].body["data"]["actor"]
        .as_str()
        .is_some_and(|a| a.starts_with("key:")));
}

async fn a_replay_carries_the_same_webhook_id(backend: Backend) {
    let (app, receiver, endpoint_id) = receiving(backend, &[]).await;
    app.create_invite().await;
    let first = received(&app, &receiver, 1).await;

    let messages = app
        .webhooks()
        .list_webhook_messages(ListWebhookMessagesRequest {
            endpoint_id: endpoint_id.clone(),
            ..Default::default()
        })
        .await
        .expect("list messages")
        .into_inner()
        .messages;
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.status, WebhookMessageStatus::Delivered as i32);
    assert_eq!(Some(message.id.clone()), first[0].id);
    assert_eq!(message.attempt_count, 1);

    let replayed = app
        .webhooks()
        .replay_webhook_message(ReplayWebhookMessageRequest {
            endpoint_id: endpoint_id.clone(),
            message_id: message.id.clone(),
        })
        .await
        .expect("replay")
        .into_inner();
    assert_eq!(replayed.status, WebhookMessageStatus::Pending as i32);
    let both = received(&app, &receiver, 2).await;
    assert_eq!(both[1].id, both[0].id, "a replay is the same message");
    assert_eq!(both[1].body, both[0].body);
    assert!(both[1].all_verified());

    let attempts = app
        .webhooks()
        .list_webhook_attempts(ListWebhookAttemptsRequest {
            endpoint_id: endpoint_id.clone(),
            message_id: message.id.clone(),
            ..Default::default()
        })
        .await
        .expect("attempts")
        .into_inner()
        .attempts;
    assert_eq!(attempts.len(), 2);
    assert!(attempts
        .iter()
        .all(|a| a.succeeded && a.response_status == 200));

    // A ping, on request.
    let ping = app
        .webhooks()
        .send_webhook_ping(SendWebhookPingRequest {
            endpoint_id: endpoint_id.clone(),
        })
        .await
        .expect("ping")
        .into_inner();
    let three = received(&app, &receiver, 3).await;
    assert_eq!(three[2].event_type.as_deref(), Some("ping"));
    assert_eq!(three[2].id, Some(ping.id));
    assert!(three[2].all_verified());
}

async fn a_receiver_that_was_down_gets_every_event_in_order(backend: Backend) {
    let (app, receiver, endpoint_id) = receiving(backend, &[]).await;
    receiver.set_mode(json!({"down": true})).await;

    let job = app.create_job("Backend engineer").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let created = app.create_invite_for(&job.id).await;
        let id = created.invite.expect("invite").id;
        let revoke = RevokeInviteRequest {
            id: id.clone(),
            ..Default::default()
        };
        app.invites().revoke_invite(revoke).await.expect("revoke");
        ids.push(id);
    }
    // Attempts fail while it is down: each invite's first message waits, its second behind it.
    let failing = app
        .when(
            async || attempts(&app, &endpoint_id).await,
            |attempts| attempts.len() >= 3,
        )
        .await;
    assert!(
        failing.iter().all(|a| !a.succeeded && !a.error.is_empty()),
        "{failing:?}"
    );
    let endpoint = get_endpoint(&app, &endpoint_id).await;
    assert!(endpoint.failing_since.is_some());
    assert!(receiver.received().await.is_empty());

    receiver.set_mode(json!({"down": false})).await;
    let got = received(&app, &receiver, 6).await;
    assert_eq!(got.len(), 6, "every event, once: {:?}", types(&got));
    for id in &ids {
        let of_invite: Vec<String> = got
            .iter()
            .filter(|r| r.body["data"]["invite"]["id"] == json!(id))
            .map(|r| r.event_type.clone().unwrap_or_default())
            .collect();
        assert_eq!(
            of_invite,
            ["invite.created", "invite.revoked"],
            "in order per invite"
        );
    }
    assert!(got.iter().all(|r| r.all_verified()));
    let endpoint = get_endpoint(&app, &endpoint_id).await;
    assert!(
        endpoint.failing_since.is_none(),
        "a success ends the failing run"
    );
}

async fn retry_after_is_honoured_and_410_turns_the_endpoint_off(backend: Backend) {
    let (app, receiver, endpoint_id) = receiving(backend, &[]).await;
    receiver
        .set_mode(json!({"status": 503, "retryAfter": 2, "times": 1, "body": "busy"}))
        .await;
    app.create_invite().await;
    let got = received(&app, &receiver, 2).await;
    assert_eq!(got[0].id, got[1].id, "the same message, tried again");
    let waited = got[1].received_at - got[0].received_at;
    assert!(
        waited >= 1900,
        "Retry-After: 2 was honoured ({waited} ms; the schedule says 100)"
    );
    // Newest first.
    let attempts = attempts(&app, &endpoint_id).await;
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[1].response_status, 503);
    assert_eq!(attempts[1].response_excerpt, "busy");
    assert!(!attempts[1].succeeded);
    assert!(attempts[0].succeeded);

    receiver.set_mode(json!({"status": 410})).await;
    app.create_invite().await;
    received(&app, &receiver, 3).await;
    let endpoint = app
        .when(
            async || get_endpoint(&app, &endpoint_id).await,
            |e| !e.enabled,
        )
        .await;
    assert!(!endpoint.enabled);
    assert!(
        endpoint.disabled_reason.contains("410"),
        "{}",
        endpoint.disabled_reason
    );
    // Off: a new event is not even kept for it.
    app.create_invite().await;
    assert_eq!(messages(&app, &endpoint_id).await.len(), 2);

    // Fixed and turned on again, the failed message is replayed with everything failed since.
    receiver.set_mode(json!({"status": 204})).await;
    turn_on(&app, &endpoint_id).await;
    let failed = messages(&app, &endpoint_id).await;
    assert_eq!(failed[0].status, WebhookMessageStatus::Failed as i32);
    let an_hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let replayed = app
        .webhooks()
        .replay_failed_webhook_messages(ReplayFailedWebhookMessagesRequest {
            endpoint_id: endpoint_id.clone(),
            since: Some(an_hour_ago.into()),
        })
        .await
        .expect("replay failed")
        .into_inner();
    assert_eq!(replayed.replayed, 1);
    let got = received(&app, &receiver, 4).await;
    assert_eq!(got[3].id, Some(failed[0].id.clone()));
    assert!(got[3].all_verified());
}

async fn get_endpoint(app: &TestApp, id: &str) -> WebhookEndpoint {
    app.webhooks()
        .get_webhook_endpoint(GetWebhookEndpointRequest { id: id.into() })
        .await
        .expect("get endpoint")
        .into_inner()
}

/// Turns the endpoint on (only `enabled` in the mask).
async fn turn_on(app: &TestApp, id: &str) -> WebhookEndpoint {
    switch(app, id, true).await
}

async fn switch(app: &TestApp, id: &str, enabled: bool) -> WebhookEndpoint {
    app.webhooks()
        .update_webhook_endpoint(UpdateWebhookEndpointRequest {
            endpoint: Some(WebhookEndpoint {
                id: id.into(),
                enabled,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["enabled".into()],
            }),
        })
        .await
        .expect("turn on or off")
        .into_inner()
}

/// The attempts to deliver to the endpoint, newest first.
async fn attempts(app: &TestApp, endpoint_id: &str) -> Vec<WebhookAttempt> {
    app.webhooks()
        .list_webhook_attempts(ListWebhookAttemptsRequest {
            endpoint_id: endpoint_id.into(),
            ..Default::default()
        })
        .await
        .expect("attempts")
        .into_inner()
        .attempts
}

/// The endpoint's messages, newest first.
async fn messages(app: &TestApp, endpoint_id: &str) -> Vec<WebhookMessage> {
    app.webhooks()
        .list_webhook_messages(ListWebhookMessagesRequest {
            endpoint_id: endpoint_id.into(),
            ..Default::default()
        })
        .await
        .expect("list messages")
        .into_inner()
        .messages
}

async fn during_a_rotation_both_secrets_sign(backend: Backend) {
    let app = app_for_receiver(backend).await;
    let receiver = WebhookReceiver::start(&[]).await;
    let (endpoint_id, old) = endpoint(&app, &receiver.url("/hooks"), &[]).await;
    let rotated = app
        .webhooks()
        .rotate_webhook_secret(RotateWebhookSecretRequest {
            id: endpoint_id.clone(),
            overlap: Some(prost_types::Duration {
                seconds: 3600,
                nanos: 0,
            }),
        })
        .await
        .expect("rotate")
        .into_inner();
    let new = rotated.secret;
    assert_ne!(new, old);
    assert!(rotated
        .endpoint
        .expect("endpoint")
        .previous_secret_expire_time
        .is_some());
    // The receiver checks under each secret alone.
    receiver.set_secrets(&[&old, &new]).await;
    app.create_invite().await;
    let got = received(&app, &receiver, 1).await;
    assert_eq!(got[0].verified, [true, true], "{:?}", got[0]);
    let signatures = got[0].signature.clone().expect("signature");
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");

    // No overlap: the old secret stops at once.
    let rotated = app
        .webhooks()
        .rotate_webhook_secret(RotateWebhookSecretRequest {
            id: endpoint_id.clone(),
            overlap: Some(prost_types::Duration {
                seconds: 0,
                nanos: 0,
            }),
        })
        .await
        .expect("rotate again")
        .into_inner();
    receiver.set_secrets(&[&new, &rotated.secret]).await;
    app.create_invite().await;
    let got = received(&app, &receiver, 2).await;
    assert_eq!(got[1].verified, [false, true], "{:?}", got[1]);
}

async fn private_addresses_are_refused_unless_allowed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let create = |url: &str| {
        let mut client = app.webhooks();
        let request = CreateWebhookEndpointRequest {
            endpoint: Some(WebhookEndpoint {
                url: url.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        };
        async move { client.create_webhook_endpoint(request).await }
    };
    for url in [
        "https://127.0.0.1/hooks",
        "https://10.0.0.1/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hooks",
        "https://localhost/hooks",
        "https://[::ffff:127.0.0.1]/hooks",
        "http://hooks.example.com/plain-http",
        "ftp://hooks.example.com/",
        "not a url",
    ] {
        let refused = create(url).await.expect_err(url);
        assert_eq!(refused.code(), Code::InvalidArgument, "{url}: {refused:?}");
        assert_eq!(violated_fields(&refused), ["endpoint.url"], "{url}");
    }
    let listed = app
        .webhooks()
        .list_webhook_endpoints(ListWebhookEndpointsRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(
        listed.endpoints.is_empty(),
        "a refused endpoint writes nothing"
    );

    // Allowed by the operator: loopback only.
    let allowed = app_for_receiver(backend).await;
    let (id, _) = endpoint(&allowed, "http://127.0.0.1:9/hooks", &[]).await;
    assert!(!id.is_empty());
    let still = allowed
        .webhooks()
        .create_webhook_endpoint(CreateWebhookEndpointRequest {
            endpoint: Some(WebhookEndpoint {
                url: "http://10.0.0.1/hooks".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("10/8 is not allowed");
    assert_eq!(still.code(), Code::InvalidArgument);
}

async fn endpoints_need_an_admin_key_and_check_their_input(backend: Backend) {
    let app = app_for_receiver(backend).await;
    let key = app.key_with_scope(ApiKeyScope::Invites).await;
    let denied = app
        .webhooks_as(&key)
        .list_webhook_endpoints(ListWebhookEndpointsRequest::default())
        .await
        .expect_err("not an admin key");
    assert_eq!(denied.code(), Code::PermissionDenied);

    let refused = app
        .webhooks()
        .create_webhook_endpoint(CreateWebhookEndpointRequest {
            endpoint: Some(WebhookEndpoint {
                url: "http://127.0.0.1:9/hooks".into(),
                event_types: vec!["invite.exploded".into()],
                rate_limit: "lots".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("bad fields");
    assert_eq!(
        violated_fields(&refused),
        ["endpoint.event_types", "endpoint.rate_limit"]
    );

    // Another organization's endpoint is not found.
    let (id, _) = endpoint(&app, "http://127.0.0.1:9/hooks", &[]).await;
    let other = app.other_organization_key().await;
    let missing = app
        .webhooks_as(&other)
        .get_webhook_endpoint(GetWebhookEndpointRequest { id: id.clone() })
        .await
        .expect_err("not theirs");
    assert_eq!(missing.code(), Code::NotFound);

    // Updated, turned off and on, deleted.
    let updated = app
        .webhooks()
        .update_webhook_endpoint(UpdateWebhookEndpointRequest {
            endpoint: Some(WebhookEndpoint {
                id: id.clone(),
                description: "renamed".into(),
                enabled: false,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["description".into(), "enabled".into()],
            }),
        })
        .await
        .expect("update")
        .into_inner();
    assert_eq!(updated.description, "renamed");
    assert!(!updated.enabled);
    let ping = app
        .webhooks()
        .send_webhook_ping(SendWebhookPingRequest {
            endpoint_id: id.clone(),
        })
        .await
        .expect_err("off");
    assert_eq!(error_reason(&ping), "WEBHOOK_ENDPOINT_DISABLED");
    app.webhooks()
        .delete_webhook_endpoint(DeleteWebhookEndpointRequest { id: id.clone() })
        .await
        .expect("delete");
    let gone = app
        .webhooks()
        .get_webhook_endpoint(GetWebhookEndpointRequest { id })
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Code::NotFound);
}

async fn filtered_endpoints_get_only_their_events(backend: Backend) {
    let (app, receiver, endpoint_id) = receiving(backend, &["invite.revoked"]).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("invite").id;
    let revoke = RevokeInviteRequest {
        id: id.clone(),
        ..Default::default()
    };
    app.invites().revoke_invite(revoke).await.expect("revoke");
    let got = received(&app, &receiver, 1).await;
    assert_eq!(types(&got), ["invite.revoked"]);
    let kept: Vec<String> = messages(&app, &endpoint_id)
        .await
        .into_iter()
        .map(|m| m.event_type)
        .collect();
    assert_eq!(
        kept,
        ["invite.revoked"],
        "only what the endpoint takes is kept for it"
    );
}

async fn an_endpoint_failing_too_long_is_turned_off_and_the_admins_are_told(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_full(
        backend,
        |config| {
            config.webhook_allow_http = true;
            config.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
            config.webhook_retry_schedule = "300ms 300ms 300ms 300ms 300ms 300ms 300ms".into();
            config.webhook_disable_after_secs = 1;
        },
        Some(&smtp),
    )
    .await;
    member(&app, "ops@acme.test", true).await;
    member(&app, "recruiter@acme.test", false).await;
    let receiver = WebhookReceiver::start(&[]).await;
    let (endpoint_id, secret) = endpoint(&app, &receiver.url("/hooks"), &[]).await;
    receiver.set_secrets(&[&secret]).await;
    receiver.set_mode(json!({"status": 500})).await;
    app.create_invite().await;
    let endpoint = app
        .when(
            async || get_endpoint(&app, &endpoint_id).await,
            |e| !e.enabled,
        )
        .await;
    assert!(
        !endpoint.enabled,
        "turned off after failing for over a second"
    );
    assert!(
        endpoint.disabled_reason.contains("too long"),
        "{}",
        endpoint.disabled_reason
    );
    let got = receiver.received().await;
    assert!(got.len() >= 2, "it was tried until then: {}", got.len());

    // The admin is emailed, with what to do; the other member is not.
    let mail = smtp.wait_for(WAIT, to("ops@acme.test")).await;
    let notice = mail
        .iter()
        .find(|m| m.to == ["ops@acme.test"])
        .expect("the admin was told");
    assert!(
        notice
            .header("Subject")
            .is_some_and(|s| s.starts_with("Webhook endpoint turned off")),
        "{:?}",
        notice.header("Subject")
    );
    for needle in [
        endpoint.url.as_str(),
        "the ATS",
        "every delivery failed for too long",
        &format!("invitectl webhooks update {endpoint_id} --enable"),
    ] {
        assert!(
            notice.unfolded().contains(needle),
            "{needle} in {}",
            notice.data
        );
    }
    assert!(!smtp
        .received()
        .iter()
        .any(|m| m.to == ["recruiter@acme.test"]));

    // Turned on again: a fresh start, and the waiting message goes out.
    receiver.set_mode(json!({"status": 200})).await;
    let on = turn_on(&app, &endpoint_id).await;
    assert!(on.enabled && on.disabled_reason.is_empty() && on.failing_since.is_none());
}

/// A member of the organization, an admin or not.
async fn member(app: &TestApp, email: &str, admin: bool) -> Member {
    app.organization()
        .create_member(CreateMemberRequest {
            member: Some(Member {
                email: email.into(),
                name: format!("Member {email}"),
                admin,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("member")
        .into_inner()
}

async fn the_endpoint_rate_limit_paces_deliveries(backend: Backend) {
    let app = app_for_receiver(backend).await;
    let receiver = WebhookReceiver::start(&[]).await;
    let created = app
        .webhooks()
        .create_webhook_endpoint(CreateWebhookEndpointRequest {
            endpoint: Some(WebhookEndpoint {
                url: receiver.url("/hooks"),
                rate_limit: "10/second burst 5".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create endpoint")
        .into_inner();
    receiver.set_secrets(&[&created.secret]).await;
    let job = app.create_job("Backend engineer").await;
    const INVITES: usize = 25;
    for _ in 0..INVITES {
        app.create_invite_for(&job.id).await;
    }
    let got = received(&app, &receiver, INVITES).await;
    assert_eq!(got.len(), INVITES);
    assert!(got.iter().all(|r| r.all_verified()));
    // 5 at once, then 10 a second: the last of 25 no sooner than 2 s after the first.
    let span = got[INVITES - 1].received_at - got[0].received_at;
    assert!(
        span >= 1900,
        "25 messages at 10/second burst 5 took {span} ms"
    );
    // And about no longer: what is held back is put at its turn, not over other held ones.
    assert!(
        span <= 4000,
        "25 messages at 10/second burst 5 took {span} ms"
    );
    // Within any one second after the burst, at most the rate (and the burst) arrived.
    for (i, first) in got.iter().enumerate() {
        let within = got[i..]
            .iter()
            .take_while(|r| r.received_at < first.received_at + 1000)
            .count();
        assert!(
            within <= 15,
            "{within} messages within a second of message {i}"
        );
    }
}

async fn locking_and_unlocking_are_told(backend: Backend) {
    let (app, receiver, _endpoint) = receiving(backend, &[]).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("invite").id;
    for _ in 0..2 {
        let locked = app
            .invites()
            .lock_invite(LockInviteRequest { id: id.clone() })
            .await
            .expect("lock, and lock again: OK as it is")
            .into_inner();
        assert!(locked.locked);
    }
    let refused = app.post(&format!("{}/start", created.link_url)).await;
    assert_ne!(refused.status(), 303, "a locked invite does not start");
    app.invites()
        .unlock_invite(UnlockInviteRequest { id: id.clone() })
        .await
        .expect("unlock");
    assert_eq!(
        app.post(&format!("{}/start", created.link_url))
            .await
            .status(),
        303
    );
    let started = app
        .invites()
        .lock_invite(LockInviteRequest { id: id.clone() })
        .await
        .expect_err("a started invite cannot be locked");
    assert_eq!(error_reason(&started), "INVALID_INVITE_STATE");
    // Start pressed while locked still counts the open (the page had no beacon).
    let got = received(&app, &receiver, 5).await;
    assert_eq!(
        types(&got),
        [
            "invite.created",
            "invite.locked",
            "invite.opened",
            "invite.unlocked",
            "invite.started"
        ]
    );
    assert_eq!(got[1].body["data"]["invite"]["locked"], json!(true));
    assert_eq!(got[3].body["data"]["invite"]["locked"], json!(false));
}

async fn history_past_its_retention_is_forgotten_unless_still_pending(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.webhook_allow_http = true;
        config.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
        // A failed attempt is tried again only in an hour: its message stays pending.
        config.webhook_retry_schedule = "1h".into();
        config.webhook_retention_secs = 1;
        // The sweeper's own loop forgets once the second has passed.
        config.sweep_interval_ms = 100;
    })
    .await;
    let receiver = WebhookReceiver::start(&[]).await;
    let (endpoint_id, secret) = endpoint(&app, &receiver.url("/hooks"), &[]).await;
    receiver.set_secrets(&[&secret]).await;
    let delivered = app.create_invite().await.invite.expect("invite").id;
    received(&app, &receiver, 1).await;
    receiver.set_mode(json!({"status": 500})).await;
    let still_tried = app.create_invite().await.invite.expect("invite").id;
    received(&app, &receiver, 2).await;

    // Past a second, the delivered message and every attempt go; the one still being tried
    // stays, whatever its age.
    let kept = app
        .when(
            async || messages(&app, &endpoint_id).await,
            |m| m.len() == 1,
        )
        .await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].status, WebhookMessageStatus::Pending as i32);
    assert_eq!(kept[0].invite_id, still_tried, "the pending one is kept");
    let left = app
        .when(async || attempts(&app, &endpoint_id).await, Vec::is_empty)
        .await;
    assert!(left.is_empty(), "attempts go by their own age");

    // Turned off, its pending message waits for it, however old: a later message to another
    // endpoint is forgotten (so the sweeps ran), that one is not.
    switch(&app, &endpoint_id, false).await;
    let other = WebhookReceiver::start(&[]).await;
    let (other_id, other_secret) = endpoint(&app, &other.url("/hooks"), &["invite.revoked"]).await;
    other.set_secrets(&[&other_secret]).await;
    app.invites()
        .revoke_invite(RevokeInviteRequest {
            id: delivered,
            ..Default::default()
        })
        .await
        .expect("revoke");
    received(&app, &other, 1).await;
    let forgotten = app
        .when(async || messages(&app, &other_id).await, Vec::is_empty)
        .await;
    assert!(forgotten.is_empty(), "{forgotten:?}");
    let waiting = messages(&app, &endpoint_id).await;
    assert_eq!(waiting.len(), 1, "{waiting:?}");
    assert_eq!(waiting[0].invite_id, still_tried);
}
