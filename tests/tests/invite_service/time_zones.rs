//! Times in the reader's own zone: the candidate's (their invite's time zone) in the invite
//! email and on the link page, a member's in the team's notifications, each named with its UTC
//! offset; a zone nobody has heard of is refused and writes nothing.
use std::time::Duration;

use beckon_proto::invite::v1::*;
use beckon_tests::{
    on_both_databases,
    smtp::{to, SmtpServer},
    Backend, TestApp,
};

on_both_databases!(the_candidate_reads_times_in_their_zone_and_the_team_in_its_own);

const WAIT: Duration = Duration::from_secs(30);

async fn the_candidate_reads_times_in_their_zone_and_the_team_in_its_own(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_mail(backend, &smtp).await;
    let member = |time_zone: &str| CreateMemberRequest {
        member: Some(Member {
            email: "grace@acme.test".into(),
            name: "Grace Hopper".into(),
            notify_started: true,
            time_zone: time_zone.into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let refused = app
        .organization()
        .create_member(member("Eastern Time"))
        .await
        .expect_err("not an IANA zone");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(
        refused.message().contains("member.time_zone"),
        "{refused:?}"
    );
    let grace = app
        .organization()
        .create_member(member("America/New_York"))
        .await
        .expect("member")
        .into_inner();
    assert_eq!(grace.time_zone, "America/New_York");
    let job = app.create_job("Backend engineer").await;

    // 16:00 UTC on a Sunday in December: 17:00 in Berlin (CET).
    let expire_time = prost_types::Timestamp {
        seconds: 1_922_976_000,
        nanos: 0,
    };
    let create = |time_zone: &str| CreateInviteRequest {
        job_id: job.id.clone(),
        candidate_email: "ada@example.com".into(),
        candidate_name: "Ada Lovelace".into(),
        send_email: true,
        expire_time: Some(expire_time),
        assignee_ids: vec![grace.id.clone()],
        time_zone: time_zone.into(),
        ..Default::default()
    };
    let refused = app
        .invites()
        .create_invite(create("Europe/Atlantis"))
        .await
        .expect_err("unknown zone");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("time_zone"), "{refused:?}");
    let listed = app
        .invites()
        .list_invites(ListInvitesRequest::default())
        .await
        .expect("list")
        .into_inner()
        .invites;
    assert!(listed.is_empty(), "a refused create writes nothing");

    let created = app
        .invites()
        .create_invite(create("Europe/Berlin"))
        .await
        .expect("create")
        .into_inner();
    let invite = created.invite.expect("invite");
    assert_eq!(invite.time_zone, "Europe/Berlin");
    let berlin = "Sunday 8 December 2030, 17:00 CET (Europe/Berlin, UTC+01:00)";
    let mail = smtp.wait_for(WAIT, to("ada@example.com")).await;
    let email = mail
        .iter()
        .find(|m| m.to == ["ada@example.com"])
        .expect("the invite email");
    assert!(
        email
            .unfolded()
            .contains(&format!("It works until {berlin}.")),
        "{}",
        email.data
    );
    // minijinja escapes `/` in HTML.
    let text = |html: String| html.replace("&#x2f;", "/");
    let page = text(app.get(&created.link_url).await.text().await.expect("page"));
    assert!(
        page.contains(&format!("This link works until {berlin}.")),
        "{page}"
    );

    // The team reads when it happened in its own zone.
    assert_eq!(
        app.post(&format!("{}/start", created.link_url))
            .await
            .status(),
        303
    );
    let mail = smtp.wait_for(WAIT, to("grace@acme.test")).await;
    let told = mail
        .iter()
        .find(|m| m.to == ["grace@acme.test"])
        .expect("the team is told");
    assert!(
        told.unfolded().contains("(America/New_York, UTC-0"),
        "{}",
        told.data
    );

    // No zone given: UTC, said so.
    let utc = app
        .invites()
        .create_invite(CreateInviteRequest {
            candidate_email: "alan@example.com".into(),
            ..create("")
        })
        .await
        .expect("create")
        .into_inner();
    assert_eq!(utc.invite.expect("invite").time_zone, "");
    let page = text(app.get(&utc.link_url).await.text().await.expect("page"));
    assert!(
        page.contains("Sunday 8 December 2030, 16:00 UTC (UTC, UTC+00:00)"),
        "{page}"
    );

    // A cohort's candidates all get the zone it names.
    let cohort = app
        .invites()
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            pasted_list: "priya@example.com".into(),
            time_zone: "Asia/Kolkata".into(),
            ..Default::default()
        })
        .await
        .expect("bulk")
        .into_inner()
        .cohort
        .expect("cohort");
    let invites = app.invites_to("priya@example.com").await;
    assert_eq!(invites[0].time_zone, "Asia/Kolkata", "{cohort:?}");
}
