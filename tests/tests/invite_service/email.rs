//! Invite emails and team notifications, end to end: invite-service's outbox, the relay, the
//! in-process notify-service, a real SMTP server, and the link in the email.
use std::time::Duration;

use beckon_proto::invite::v1::*;
use beckon_tests::{on_both_databases, smtp::to, smtp::SmtpServer, Backend, TestApp};

on_both_databases!(
    an_emailed_invite_arrives_and_its_link_works_through_to_the_team_notifications,
    resend_sends_the_same_link_and_reissue_a_new_one,
    a_hard_bounce_shows_on_the_invite,
    members_who_turned_a_notification_off_get_nothing,
    while_notify_service_is_down_the_outbox_holds_the_email,
);

const WAIT: Duration = Duration::from_secs(30);

async fn member(app: &TestApp, email: &str, started: bool, submitted: bool) -> Member {
    app.organization()
        .create_member(CreateMemberRequest {
            member: Some(Member {
                email: email.into(),
                name: format!("Member {email}"),
                notify_started: started,
                notify_submitted: submitted,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("member")
        .into_inner()
}

async fn emailed_invite(app: &TestApp, job_id: &str, email: &str, inviter: &str) -> Invite {
    app.invites()
        .create_invite(CreateInviteRequest {
            job_id: job_id.into(),
            candidate_email: email.into(),
            candidate_name: "Ada Lovelace".into(),
            send_email: true,
            message: "We enjoyed our call.".into(),
            inviter_id: inviter.into(),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner()
        .invite
        .expect("invite")
}

/// Polls the invite until `done` holds: delivery outcomes arrive through the relay.
async fn an_emailed_invite_arrives_and_its_link_works_through_to_the_team_notifications(
    backend: Backend,
) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_mail(backend, &smtp).await;
    let recruiter = member(&app, "recruiter@acme.test", true, true).await;
    let job = app.create_job("Backend engineer").await;
    let invite = emailed_invite(&app, &job.id, "ada@example.com", &recruiter.id).await;
    assert_eq!(invite.status, InviteStatus::Created as i32);
    assert_eq!(invite.delivery_status, DeliveryStatus::Queued as i32);

    let mail = smtp.wait_for(WAIT, to("ada@example.com")).await;
    let email = mail
        .iter()
        .find(|m| m.to == ["ada@example.com"])
        .expect("the invite email arrived");
    assert_eq!(
        email.header("Subject").as_deref(),
        Some("Your invitation: Backend engineer")
    );
    assert!(email
        .header("Message-ID")
        .is_some_and(|id| id.starts_with('<')));
    assert!(email.data.contains("We enjoyed our call."));
    assert!(
        email.data.contains("Member recruiter@acme.test"),
        "inviter named"
    );
    let link = email
        .link_starting(&format!("{}/i/", app.base_url))
        .expect("the link is in the email");

    let invite = app
        .invite_when(&invite.id, |i| {
            i.delivery_status == DeliveryStatus::Sent as i32
        })
        .await;
    assert_eq!(invite.status, InviteStatus::Sent as i32);
    assert_eq!(invite.send_count, 1);
    assert!(invite.last_send_time.is_some());

    assert_eq!(app.get(&link).await.status(), 200);
    assert_eq!(app.post(&format!("{link}/start")).await.status(), 303);
    let mail = smtp.wait_for(WAIT, to("recruiter@acme.test")).await;
    let started = mail
        .iter()
        .find(|m| m.to == ["recruiter@acme.test"])
        .expect("the team heard about the start");
    assert_eq!(
        started.header("Subject").as_deref(),
        Some("Ada Lovelace started Backend engineer")
    );

    app.invites()
        .complete_invite(CompleteInviteRequest {
            id: invite.id.clone(),
        })
        .await
        .expect("complete");
    let mail = smtp
        .wait_for(WAIT, |m| {
            m.iter().filter(|m| m.to == ["recruiter@acme.test"]).count() == 2
        })
        .await;
    assert!(mail.iter().any(|m| m
        .header("Subject")
        .is_some_and(|s| s == "Ada Lovelace submitted Backend engineer")));
    let kinds: Vec<String> = app
        .invites()
        .list_invite_events(ListInviteEventsRequest {
            invite_id: invite.id,
            ..Default::default()
        })
        .await
        .expect("events")
        .into_inner()
        .events
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["created", "sent", "opened", "started", "submitted"]);
}

async fn resend_sends_the_same_link_and_reissue_a_new_one(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_mail(backend, &smtp).await;
    let job = app.create_job("QA").await;
    let invite = emailed_invite(&app, &job.id, "bob@example.com", "").await;
    let prefix = format!("{}/i/", app.base_url);
    let first = smtp.wait_for(WAIT, |m| !m.is_empty()).await[0]
        .link_starting(&prefix)
        .expect("link");

    app.invites()
        .resend_invite(ResendInviteRequest {
            id: invite.id.clone(),
        })
        .await
        .expect("resend");
    let mail = smtp.wait_for(WAIT, |m| m.len() == 2).await;
    assert_eq!(
        mail[1].link_starting(&prefix),
        Some(first.clone()),
        "the same link"
    );
    assert!(mail[1]
        .header("Subject")
        .is_some_and(|s| s.contains("sent again")));
    let invite = app.invite_when(&invite.id, |i| i.send_count == 2).await;
    assert_eq!(invite.send_count, 2);

    app.invites()
        .reissue_invite(ReissueInviteRequest {
            id: invite.id.clone(),
            send_email: true,
        })
        .await
        .expect("reissue");
    let mail = smtp.wait_for(WAIT, |m| m.len() == 3).await;
    let second = mail[2].link_starting(&prefix).expect("new link");
    assert_ne!(second, first);
    assert_eq!(app.get(&first).await.status(), 404);
    assert_eq!(app.get(&second).await.status(), 200);
}

async fn a_hard_bounce_shows_on_the_invite(backend: Backend) {
    let smtp = SmtpServer::start().await;
    smtp.always("nobody@example.com", 550);
    let app = TestApp::spawn_with_mail(backend, &smtp).await;
    let job = app.create_job("QA").await;
    let invite = emailed_invite(&app, &job.id, "nobody@example.com", "").await;
    let invite = app
        .invite_when(&invite.id, |i| {
            i.delivery_status == DeliveryStatus::Failed as i32
        })
        .await;
    assert_eq!(invite.delivery_status, DeliveryStatus::Failed as i32);
    assert_eq!(invite.status, InviteStatus::Created as i32, "never sent");
    let events = app
        .invites()
        .list_invite_events(ListInviteEventsRequest {
            invite_id: invite.id,
            ..Default::default()
        })
        .await
        .expect("events")
        .into_inner()
        .events;
    let failure = events
        .iter()
        .find(|e| e.kind == "delivery_failed")
        .expect("the failure is in the audit trail");
    assert!(failure.detail.contains("550"), "{}", failure.detail);
}

async fn members_who_turned_a_notification_off_get_nothing(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_mail(backend, &smtp).await;
    let quiet = member(&app, "quiet@acme.test", false, true).await;
    let keen = member(&app, "keen@acme.test", true, true).await;
    let job = app.create_job("Designer").await;
    // Assignees win over the inviter; the quiet one turned "started" off.
    let created = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id,
            candidate_name: "Grace".into(),
            assignee_ids: vec![quiet.id.clone(), keen.id.clone()],
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(
        app.post(&format!("{}/start", created.link_url))
            .await
            .status(),
        303
    );
    let mail = smtp.wait_for(WAIT, to("keen@acme.test")).await;
    assert!(mail.iter().any(|m| m.to == ["keen@acme.test"]));
    // A further message to the keen member proves the quiet one's would have come by now.
    app.invites()
        .complete_invite(CompleteInviteRequest {
            id: created.invite.expect("invite").id,
        })
        .await
        .expect("complete");
    let mail = smtp
        .wait_for(WAIT, |m| {
            m.iter().filter(|m| m.to == ["quiet@acme.test"]).count() == 1
                && m.iter().filter(|m| m.to == ["keen@acme.test"]).count() == 2
        })
        .await;
    let quiet_mail: Vec<_> = mail
        .iter()
        .filter(|m| m.to == ["quiet@acme.test"])
        .map(|m| m.header("Subject").unwrap_or_default())
        .collect();
    assert_eq!(
        quiet_mail,
        ["Grace submitted Designer"],
        "only what they asked for"
    );
}

async fn while_notify_service_is_down_the_outbox_holds_the_email(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let notify_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port");
    let app = TestApp::spawn_full(
        backend,
        |c| c.notify_addr = Some(format!("http://{notify_port}")),
        None,
    )
    .await;
    let job = app.create_job("Ops").await;
    let invite = emailed_invite(&app, &job.id, "patient@example.com", "").await;
    // Nothing listens at the notify address: the invite waits, queued.
    assert_eq!(invite.delivery_status, DeliveryStatus::Queued as i32);

    let mut notify = beckon_tests::notify::NotifyApp::spawn_with(
        beckon_tests::notify::QueueBackend::InProcess,
        &smtp,
        |c| c.listen_addr = notify_port,
    )
    .await;
    smtp.wait_for(Duration::from_secs(90), to("patient@example.com"))
        .await;
    let invite = app
        .invite_when(&invite.id, |i| {
            i.delivery_status == DeliveryStatus::Sent as i32
        })
        .await;
    assert_eq!(invite.delivery_status, DeliveryStatus::Sent as i32);
    notify.stop().await;
}
