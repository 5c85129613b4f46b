//! Scheduled interviews: their emails carry a calendar invitation (a text/calendar part and an
//! .ics attachment, read back by Python's icalendar), one UID for the invite, SEQUENCE raised by
//! every reschedule and reissue, and a cancellation when the invite is revoked.
use std::time::Duration;

use beckon_proto::invite::v1::*;
use beckon_tests::{
    ical::{calendars, CalendarEvent, CalendarPart},
    on_both_databases,
    smtp::{ReceivedMail, SmtpServer},
    Backend, TestApp,
};

on_both_databases!(a_scheduled_interview_is_invited_moved_reissued_and_cancelled_in_the_calendar);

const WAIT: Duration = Duration::from_secs(30);

fn at(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

/// 2030-12-08 16:00 UTC (a Sunday): 17:00 in Berlin.
const START: i64 = 1_922_976_000;

/// The `n`th email to Ada (from 1), once it has arrived: its one calendar event, checked to be
/// the same in the text/calendar part and the .ics attachment, with the part's method.
async fn nth_invitation(
    app: &TestApp,
    smtp: &SmtpServer,
    n: usize,
) -> (ReceivedMail, String, CalendarEvent) {
    let _ = app;
    let mail = smtp
        .wait_for(WAIT, |m| {
            m.iter().filter(|m| m.to == ["ada@example.com"]).count() >= n
        })
        .await;
    let email = mail
        .iter()
        .filter(|m| m.to == ["ada@example.com"])
        .nth(n - 1)
        .unwrap_or_else(|| panic!("email {n} to Ada"))
        .clone();
    let parts: Vec<CalendarPart> = calendars(&email.data);
    assert_eq!(
        parts.len(),
        2,
        "a text/calendar part and an .ics: {parts:?}"
    );
    let (inline, attached) = (&parts[0], &parts[1]);
    // Parameter values may be quoted (RFC 2045).
    let inline_type = inline.content_type.replace('"', "");
    assert!(
        inline_type.starts_with("text/calendar")
            && inline_type.contains(&format!("method={}", inline.method)),
        "{inline:?}"
    );
    assert_eq!(inline.method, attached.method);
    assert_eq!(inline.events, attached.events);
    assert_eq!(inline.events.len(), 1);
    let method = inline.method.clone();
    (email, method, inline.events[0].clone())
}

async fn a_scheduled_interview_is_invited_moved_reissued_and_cancelled_in_the_calendar(
    backend: Backend,
) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_mail(backend, &smtp).await;
    let job = app.create_job("Backend engineer").await;
    let create = |start: Option<prost_types::Timestamp>, minutes: u32| CreateInviteRequest {
        job_id: job.id.clone(),
        candidate_email: "ada@example.com".into(),
        // A quote in a name cannot end the attendee's CN parameter early.
        candidate_name: "Ada \"The Countess\" Lovelace".into(),
        send_email: true,
        time_zone: "Europe/Berlin".into(),
        scheduled_start_time: start,
        duration_minutes: minutes,
        ..Default::default()
    };
    for (bad, field) in [
        (create(at(1_000_000_000), 45), "scheduled_start_time"),
        (create(at(START), 2000), "duration_minutes"),
        (create(None, 45), "duration_minutes"),
    ] {
        let refused = app.invites().create_invite(bad).await.expect_err("refused");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(refused.message().contains(field), "{field}: {refused:?}");
    }

    let created = app
        .invites()
        .create_invite(create(at(START), 45))
        .await
        .expect("create")
        .into_inner();
    let invite = created.invite.expect("invite");
    assert_eq!(invite.scheduled_start_time, at(START));
    assert_eq!(invite.duration_minutes, 45);

    let (email, method, event) = nth_invitation(&app, &smtp, 1).await;
    assert_eq!(method, "REQUEST");
    assert!(
        email.unfolded().contains(
            "When: Sunday 8 December 2030, 17:00 CET (Europe/Berlin, UTC+01:00), 45 minutes"
        ),
        "{}",
        email.data
    );
    let uid = format!("{}@beckon.invite", invite.id);
    assert_eq!(event.uid, uid);
    assert_eq!(event.sequence, 0);
    assert_eq!(event.start, "2030-12-08T16:00:00+00:00");
    assert_eq!(event.end, "2030-12-08T16:45:00+00:00");
    assert_eq!(event.organizer, "mailto:invites@beckon.test");
    assert_eq!(event.attendees.len(), 1);
    let attendee = &event.attendees[0];
    assert_eq!(attendee.address, "mailto:ada@example.com");
    assert_eq!(
        (
            attendee.rsvp.as_str(),
            attendee.partstat.as_str(),
            attendee.role.as_str()
        ),
        ("TRUE", "NEEDS-ACTION", "REQ-PARTICIPANT")
    );
    assert_eq!(event.location, created.link_url);
    assert_eq!(event.url, created.link_url);
    assert!(event.description.contains(&created.link_url));
    assert_eq!(event.status, "CONFIRMED");
    assert_eq!(event.summary, "Interview: Backend engineer");

    // Moved: an update of the same event.
    let moved = START + 17 * 3600 + 1800;
    let rescheduled = app
        .invites()
        .reschedule_invite(RescheduleInviteRequest {
            id: invite.id.clone(),
            scheduled_start_time: at(moved),
            duration_minutes: 0,
        })
        .await
        .expect("reschedule")
        .into_inner();
    assert_eq!(rescheduled.scheduled_start_time, at(moved));
    assert_eq!(rescheduled.duration_minutes, 45, "kept");
    let (email, method, event) = nth_invitation(&app, &smtp, 2).await;
    assert_eq!(method, "REQUEST");
    assert_eq!(
        email.header("Subject").as_deref(),
        Some("New time: Backend engineer")
    );
    assert_eq!((event.uid.as_str(), event.sequence), (uid.as_str(), 1));
    assert_eq!(event.start, "2030-12-09T09:30:00+00:00");
    assert_eq!(event.location, created.link_url, "the same link");
    assert_eq!(
        event.summary, "Interview: Backend engineer",
        "the same title"
    );

    // A new link: a new version, with it as the location.
    let reissued = app
        .invites()
        .reissue_invite(ReissueInviteRequest {
            id: invite.id.clone(),
            send_email: true,
        })
        .await
        .expect("reissue")
        .into_inner();
    let (_, _, event) = nth_invitation(&app, &smtp, 3).await;
    assert_eq!((event.uid.as_str(), event.sequence), (uid.as_str(), 2));
    assert_eq!(event.location, reissued.link_url);

    // Revoked: cancelled in the calendar, with no link.
    app.invites()
        .revoke_invite(RevokeInviteRequest {
            id: invite.id.clone(),
            reason: String::new(),
        })
        .await
        .expect("revoke");
    let (email, method, event) = nth_invitation(&app, &smtp, 4).await;
    assert_eq!(method, "CANCEL");
    assert_eq!(
        email.header("Subject").as_deref(),
        Some("Cancelled: Backend engineer")
    );
    assert_eq!((event.uid.as_str(), event.sequence), (uid.as_str(), 3));
    assert_eq!(event.status, "CANCELLED");
    assert_eq!(event.location, "");
    assert!(!email.unfolded().contains(&reissued.link_url));

    // Only a scheduled interview moves.
    let plain = app
        .invites()
        .create_invite(CreateInviteRequest {
            candidate_email: "alan@example.com".into(),
            ..create(None, 0)
        })
        .await
        .expect("create")
        .into_inner()
        .invite
        .expect("invite");
    let refused = app
        .invites()
        .reschedule_invite(RescheduleInviteRequest {
            id: plain.id,
            scheduled_start_time: at(moved),
            duration_minutes: 30,
        })
        .await
        .expect_err("not scheduled");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
}
