//! Mail that arrives: every message DKIM-signed as an independent verifier (dkimpy) accepts,
//! answers going to the inviter, and a cohort's mail carrying a one-click unsubscribe
//! (RFC 8058) that stops the organization's mail to that address.
use std::time::Duration;

use beckon_proto::invite::v1::*;
use beckon_tests::{
    dkim::{rsa_key, signed_headers, verify},
    notify::{self, QueueBackend},
    on_both_databases,
    smtp::{to, ReceivedMail, SmtpServer},
    Backend, TestApp,
};
use notify_service::config::{DkimConfig, Secret};

on_both_databases!(cohort_mail_is_signed_answered_to_the_inviter_and_unsubscribed_in_one_click);

const WAIT: Duration = Duration::from_secs(30);
const SELECTOR: &str = "beckon2026";
const DOMAIN: &str = "beckon.test";

fn arrived<'a>(mail: &'a [ReceivedMail], address: &str) -> &'a ReceivedMail {
    mail.iter()
        .find(|m| m.to == [address])
        .unwrap_or_else(|| panic!("no email to {address}"))
}

async fn cohort_mail_is_signed_answered_to_the_inviter_and_unsubscribed_in_one_click(
    backend: Backend,
) {
    let smtp = SmtpServer::start().await;
    let key = rsa_key();
    let private_pem = key.private_pem.clone();
    let app = TestApp::spawn_with_notify_config(backend, |data_dir, database_url| {
        let mut config = notify::test_config(QueueBackend::InProcess, &smtp, data_dir);
        config.database_url = database_url.map(str::to_string);
        config.dkim = Some(DkimConfig {
            selector: SELECTOR.into(),
            private_key: Some(Secret::new(private_pem)),
            ..DkimConfig::default()
        });
        config
    })
    .await;
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

    // One to one: signed, answered to the inviter, nothing to unsubscribe from.
    app.invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_email: "ada@example.com".into(),
            send_email: true,
            inviter_id: recruiter.id.clone(),
            ..Default::default()
        })
        .await
        .expect("create");
    let mail = smtp.wait_for(WAIT, to("ada@example.com")).await;
    let single = arrived(&mail, "ada@example.com");
    verify(single.data.as_bytes(), SELECTOR, DOMAIN, &key.dns_record)
        .expect("dkimpy verifies the invite");
    let reply_to = single.header("Reply-To").expect("a Reply-To");
    assert!(
        reply_to.contains("grace@acme.test") && reply_to.contains("Grace Hopper"),
        "{reply_to}"
    );
    assert_eq!(single.header("List-Unsubscribe"), None);

    // A cohort's: a one-click unsubscribe, signed with the rest.
    app.invites()
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            pasted_list: "wave@example.com\nsurf@example.com".into(),
            send_email: true,
            inviter_id: recruiter.id.clone(),
            ..Default::default()
        })
        .await
        .expect("bulk");
    let mail = smtp
        .wait_for(WAIT, |m| {
            ["wave@example.com", "surf@example.com"]
                .iter()
                .all(|address| to(address)(m))
        })
        .await;
    let wave = arrived(&mail, "wave@example.com");
    verify(wave.data.as_bytes(), SELECTOR, DOMAIN, &key.dns_record)
        .expect("dkimpy verifies the cohort's email");
    let signature = wave.header("DKIM-Signature").expect("signed");
    let signed = signed_headers(&signature);
    for header in ["list-unsubscribe", "list-unsubscribe-post", "reply-to"] {
        assert!(signed.iter().any(|h| h == header), "{header} in {signed:?}");
    }
    // One-click (List-Unsubscribe-Post) is offered for https URLs only (RFC 8058 §3.1); this
    // server's is http. The POST a mail client makes works all the same (below).
    assert_eq!(wave.header("List-Unsubscribe-Post"), None);
    let header = wave.header("List-Unsubscribe").expect("List-Unsubscribe");
    let unsubscribe = header
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix('>'))
        .unwrap_or_else(|| panic!("one URL in angle brackets: {header}"))
        .to_string();
    assert!(
        unsubscribe.starts_with(&format!("{}/u/", app.base_url)),
        "{unsubscribe}"
    );
    assert!(
        wave.unfolded().contains(&unsubscribe),
        "the body offers it too"
    );
    let other = arrived(&mail, "surf@example.com")
        .header("List-Unsubscribe")
        .expect("each has its own");
    assert_ne!(other, header);

    // Opening the URL asks; only a POST unsubscribes (a link scanner's GET changes nothing).
    let page = app.get(&unsubscribe).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("page");
    assert!(html.contains("Stop emails from"), "{html}");
    assert!(html.contains("<form method=\"post\""), "{html}");
    let dead = app
        .post(&format!("{}/i/no-such-link/start", app.base_url))
        .await
        .text()
        .await
        .expect("404 page");
    let forged = format!("{}x", &unsubscribe[..unsubscribe.len() - 1]);
    let refused = app.http.post(&forged).send().await.expect("post");
    assert_eq!(refused.status(), 404);
    assert_eq!(refused.text().await.expect("body"), dead);

    // What a mail client's one-click sends (RFC 8058 §3.2).
    let done = app
        .http
        .post(&unsubscribe)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("one-click");
    assert_eq!(done.status(), 200);
    assert!(done
        .text()
        .await
        .expect("page")
        .contains("You are unsubscribed"));
    // Again: the same answer.
    let again = app.http.post(&unsubscribe).send().await.expect("again");
    assert_eq!(again.status(), 200);

    // Nothing more from this organization reaches the address: a new cohort leaves it out...
    let preview = app
        .invites()
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            pasted_list: "wave@example.com\nfresh@example.com".into(),
            send_email: true,
            validate_only: true,
            ..Default::default()
        })
        .await
        .expect("preview")
        .into_inner()
        .preview
        .expect("a preview");
    assert_eq!((preview.suppressed, preview.to_invite), (1, 1));
    // ... and a one-to-one invite's email is suppressed, saying why.
    let invite = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_email: "wave@example.com".into(),
            send_email: true,
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner()
        .invite
        .expect("invite");
    app.invite_when(&invite.id, |i| {
        i.delivery_status == DeliveryStatus::Suppressed as i32
    })
    .await;
    let emails_to_wave = smtp
        .received()
        .iter()
        .filter(|m| m.to == ["wave@example.com"])
        .count();
    assert_eq!(emails_to_wave, 1, "only the cohort's, before unsubscribing");
    // The other candidate of the cohort still gets mail.
    app.invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_email: "surf@example.com".into(),
            send_email: true,
            ..Default::default()
        })
        .await
        .expect("create");
    smtp.wait_for(WAIT, |m| {
        m.iter().filter(|m| m.to == ["surf@example.com"]).count() == 2
    })
    .await;
}
