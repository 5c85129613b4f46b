//! A way back from an expired link: the dead link's page asks for the candidate's address and,
//! when it is the invite's, the invite comes back with a new link by email, or the team is asked
//! to approve; the page answers the same whatever the link and the address.
use std::time::Duration;

use beckon_proto::invite::v1::*;
use beckon_tests::{
    on_both_databases,
    smtp::{to, ReceivedMail, SmtpServer},
    Backend, TestApp,
};
use prost_types::FieldMask;

on_both_databases!(
    a_candidate_whose_link_expired_gets_a_new_one_and_nobody_else_learns_anything,
    a_job_that_wants_approval_asks_the_team_and_renew_sends_the_link,
);

const WAIT: Duration = Duration::from_secs(30);

async fn app_with_mail(backend: Backend, smtp: &SmtpServer) -> TestApp {
    TestApp::spawn_full(
        backend,
        |config| {
            // Three requests for one email address, then a pause; the link's and the client
            // address's limits out of the way.
            config.public_rate_per_email = "3/hour burst 3".parse().expect("rate");
            config.public_rate_per_link = "1000/minute burst 1000".parse().expect("rate");
            config.public_rate_per_address = "1000/minute burst 1000".parse().expect("rate");
        },
        Some(smtp),
    )
    .await
}

async fn emailed_invite(app: &TestApp, job_id: &str, email: &str, inviter: &str) -> Invite {
    app.invites()
        .create_invite(CreateInviteRequest {
            job_id: job_id.into(),
            candidate_email: email.into(),
            candidate_name: "Ada Lovelace".into(),
            send_email: true,
            inviter_id: inviter.into(),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner()
        .invite
        .expect("invite")
}

/// The links in the emails to `address`, oldest first.
fn links_to(mail: &[ReceivedMail], address: &str, app: &TestApp) -> Vec<String> {
    mail.iter()
        .filter(|m| m.to == [address])
        .filter_map(|m| m.link_starting(&format!("{}/i/", app.base_url)))
        .collect()
}

/// Posts the dead link page's form.
async fn ask(app: &TestApp, link: &str, email: &str) -> (u16, String) {
    let response = app
        .http
        .post(link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("email={}", email.replace('@', "%40")))
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

async fn expired(app: &TestApp, id: &str) {
    app.backdate_expiry(id).await;
    app.invite_when(id, |i| i.status == InviteStatus::Expired as i32)
        .await;
}

async fn a_candidate_whose_link_expired_gets_a_new_one_and_nobody_else_learns_anything(
    backend: Backend,
) {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(backend, &smtp).await;
    let job = app.create_job("Backend engineer").await;
    let invite = emailed_invite(&app, &job.id, "ada@example.com", "").await;
    let revoked = emailed_invite(&app, &job.id, "grace@example.com", "").await;
    let mail = smtp
        .wait_for(WAIT, |m| {
            to("ada@example.com")(m) && to("grace@example.com")(m)
        })
        .await;
    let first = links_to(&mail, "ada@example.com", &app)[0].clone();
    let revoked_link = links_to(&mail, "grace@example.com", &app)[0].clone();
    app.invites()
        .revoke_invite(RevokeInviteRequest {
            id: revoked.id.clone(),
            reason: String::new(),
        })
        .await
        .expect("revoke");
    expired(&app, &invite.id).await;

    // Expired, revoked and unknown links show the same page, with the form.
    let page = app.get(&first).await;
    assert_eq!(page.status(), 404);
    let expired_page = page.text().await.expect("page");
    assert!(
        expired_page.contains("Send me a new link"),
        "{expired_page}"
    );
    for other in [
        revoked_link.clone(),
        format!("{}/i/no-such-link", app.base_url),
    ] {
        let page = app.get(&other).await;
        assert_eq!(page.status(), 404);
        assert_eq!(page.text().await.expect("page"), expired_page);
    }

    // A wrong address, a revoked link, an unknown link: the same answer as the right one,
    // and nothing happens.
    let (status, wrong) = ask(&app, &first, "mallory@example.com").await;
    assert_eq!(status, 200);
    let (_, on_revoked) = ask(&app, &revoked_link, "grace@example.com").await;
    let (_, on_unknown) = ask(
        &app,
        &format!("{}/i/no-such-link", app.base_url),
        "ada@example.com",
    )
    .await;
    let (status, right) = ask(&app, &first, "ADA@example.com").await;
    assert_eq!(status, 200);
    assert_eq!(
        wrong.replace("mallory@example.com", "ada@example.com"),
        right
    );
    assert_eq!(
        on_revoked.replace("grace@example.com", "ada@example.com"),
        right
    );
    assert_eq!(on_unknown, right);

    // The candidate gets a new link; the expired one stays dead.
    let mail = smtp
        .wait_for(WAIT, |m| links_to(m, "ada@example.com", &app).len() == 2)
        .await;
    let second = links_to(&mail, "ada@example.com", &app)[1].clone();
    assert_ne!(second, first);
    assert_eq!(app.get(&second).await.status(), 200);
    assert_eq!(app.get(&first).await.status(), 404);
    let renewed = app
        .invite_when(&invite.id, |i| i.status == InviteStatus::Sent as i32)
        .await;
    assert!(
        renewed
            .expire_time
            .as_ref()
            .is_some_and(|t| t.seconds > chrono::Utc::now().timestamp()),
        "{renewed:?}"
    );
    let kinds = app.event_kinds(&invite.id).await;
    let at = |kind: &str| kinds.iter().position(|k| k == kind);
    assert!(
        at("expired") < at("renewed") && at("renewed").is_some(),
        "{kinds:?}"
    );
    assert_eq!(
        links_to(&smtp.received(), "grace@example.com", &app).len(),
        1
    );
    assert!(smtp
        .received()
        .iter()
        .all(|m| m.to != ["mallory@example.com"]));

    // A bad address is named on the same page; three asks for one address an hour, then a
    // pause.
    let (status, bad) = ask(&app, &first, "not-an-address").await;
    assert_eq!(status, 422);
    assert!(bad.contains("such as ada@example.com"), "{bad}");
    let (status, _) = ask(&app, &first, "ada@example.com").await;
    assert_eq!(status, 200, "the third");
    let (status, paused) = ask(&app, &first, "ada@example.com").await;
    assert_eq!(status, 429);
    assert!(paused.contains("requests for a new link"), "{paused}");
}

async fn a_job_that_wants_approval_asks_the_team_and_renew_sends_the_link(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(backend, &smtp).await;
    let recruiter = app
        .organization()
        .create_member(CreateMemberRequest {
            member: Some(Member {
                email: "grace@acme.test".into(),
                name: "Grace Hopper".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("member")
        .into_inner();
    let job = app.create_job("Backend engineer").await;
    let job = app
        .jobs()
        .update_job(UpdateJobRequest {
            job: Some(Job {
                id: job.id,
                renewal_needs_approval: true,
                ..Default::default()
            }),
            update_mask: Some(FieldMask {
                paths: vec!["renewal_needs_approval".into()],
            }),
        })
        .await
        .expect("update")
        .into_inner();
    assert!(job.renewal_needs_approval);
    let invite = emailed_invite(&app, &job.id, "ada@example.com", &recruiter.id).await;
    let mail = smtp.wait_for(WAIT, to("ada@example.com")).await;
    let first = links_to(&mail, "ada@example.com", &app)[0].clone();
    let refused = app
        .invites()
        .renew_invite(RenewInviteRequest {
            id: invite.id.clone(),
        })
        .await
        .expect_err("a live invite");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    expired(&app, &invite.id).await;

    let (status, _) = ask(&app, &first, "ada@example.com").await;
    assert_eq!(status, 200);
    let mail = smtp.wait_for(WAIT, to("grace@acme.test")).await;
    let asked = mail
        .iter()
        .find(|m| m.to == ["grace@acme.test"])
        .expect("the team is asked");
    assert!(
        asked
            .header("Subject")
            .is_some_and(|s| s.contains("asks for a new link to Backend engineer")),
        "{:?}",
        asked.header("Subject")
    );
    assert!(
        asked
            .unfolded()
            .contains(&format!("invitectl invites renew {}", invite.id)),
        "{}",
        asked.data
    );
    let still = app
        .invites()
        .get_invite(GetInviteRequest {
            id: invite.id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(still.status, InviteStatus::Expired as i32);
    assert_eq!(links_to(&smtp.received(), "ada@example.com", &app).len(), 1);
    assert_eq!(
        app.event_kinds(&invite.id).await.last().map(String::as_str),
        Some("renewal_requested")
    );

    // The team approves: a new link, by email.
    let renewed = app
        .invites()
        .renew_invite(RenewInviteRequest {
            id: invite.id.clone(),
        })
        .await
        .expect("renew")
        .into_inner();
    assert_eq!(renewed.status, InviteStatus::Created as i32);
    let mail = smtp
        .wait_for(WAIT, |m| links_to(m, "ada@example.com", &app).len() == 2)
        .await;
    let second = links_to(&mail, "ada@example.com", &app)[1].clone();
    assert_eq!(app.get(&second).await.status(), 200);
    assert_eq!(app.get(&first).await.status(), 404);
}
