//! Bulk invites: the dry run, the background cohort, its emails to their outcomes, its watch
//! stream, retries, a restart in the middle; and the sweeps that expire links and send reminders.
use std::{
    collections::{HashMap, HashSet},
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    time::Duration,
};

use beckon_proto::invite::v1::*;
use beckon_tests::{
    error_reason, notify::workspace_binary, on_both_databases, smtp::SmtpServer, Backend, TestApp,
};

on_both_databases!(
    a_thousand_candidates_with_bad_and_repeated_rows_are_counted_exactly_and_each_invited_once,
    a_dry_run_writes_nothing,
    bad_bulk_requests_are_refused,
    failed_rows_can_be_retried_with_corrected_addresses,
    a_cohort_with_emails_is_sending_until_every_email_has_a_final_outcome,
    a_member_whose_email_failed_is_emailed_again_at_a_corrected_address,
    an_expiry_and_a_reminder_each_fire_once,
);

const WAIT: Duration = Duration::from_secs(60);

/// `count` rows; every 20th malformed, every 20th (offset) a repeat of the row before.
fn csv(count: usize) -> (String, usize, usize) {
    let mut csv = String::from("email,first_name,last_name,external_id,labels\n");
    let (mut malformed, mut duplicates) = (0, 0);
    for i in 0..count {
        if i % 20 == 7 {
            csv.push_str(&format!("broken-address-{i},Bad,Row,x{i},\n"));
            malformed += 1;
        } else if i % 20 == 13 {
            csv.push_str(&format!("cand{}@example.com,Again,Row,x{i},\n", i - 1));
            duplicates += 1;
        } else {
            csv.push_str(&format!("cand{i}@example.com,Cand,Number{i},x{i},wave1\n"));
        }
    }
    (csv, malformed, duplicates)
}

fn bulk(job_id: &str, csv: &str) -> BulkCreateInvitesRequest {
    BulkCreateInvitesRequest {
        job_id: job_id.into(),
        csv: csv.into(),
        send_email: true,
        labels: vec!["bulk".into()],
        ..Default::default()
    }
}

/// Every update of a cohort's watch stream, until it ends.
async fn watch(app: &TestApp, cohort_id: &str) -> Vec<CohortUpdate> {
    let mut stream = app
        .invites()
        .watch_cohort(WatchCohortRequest {
            id: cohort_id.into(),
        })
        .await
        .expect("watch")
        .into_inner();
    let mut updates = Vec::new();
    while let Some(update) = tokio::time::timeout(WAIT, stream.message())
        .await
        .expect("the stream keeps moving")
        .expect("stream")
    {
        updates.push(update);
    }
    updates
}

async fn a_thousand_candidates_with_bad_and_repeated_rows_are_counted_exactly_and_each_invited_once(
    backend: Backend,
) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_with_mail(backend, &smtp).await;
    let job = app.create_job("Graduate engineer").await;
    let (csv, malformed, duplicates) = csv(1000);
    let valid = 1000 - malformed - duplicates;
    let answer = app
        .invites()
        .bulk_create_invites(bulk(&job.id, &csv))
        .await
        .expect("bulk")
        .into_inner();
    let preview = answer.preview.expect("preview");
    assert_eq!(
        (
            preview.total,
            preview.valid,
            preview.malformed,
            preview.duplicates
        ),
        (1000, valid as u32, malformed as u32, duplicates as u32)
    );
    assert_eq!(preview.to_invite, valid as u32);
    let broken = preview
        .rows
        .iter()
        .find(|r| r.outcome == RowOutcome::Malformed as i32)
        .expect("a malformed row");
    assert_eq!(broken.row, 8, "rows are numbered from the first data row");
    let cohort = answer.cohort.expect("a cohort, at once");

    let updates = watch(&app, &cohort.id).await;
    let outcomes: Vec<&CohortMember> = updates
        .iter()
        .filter_map(|u| match &u.update {
            Some(cohort_update::Update::Outcome(member)) => Some(member),
            _ => None,
        })
        .collect();
    // Each member's invite outcome, then its email's: every member is there.
    let rows: HashSet<u32> = outcomes.iter().map(|m| m.row).collect();
    assert_eq!(rows.len(), valid + malformed, "every member's outcome");
    assert!(
        outcomes.windows(2).all(|w| w[0].sequence < w[1].sequence),
        "in the order they happened"
    );
    let Some(cohort_update::Update::Progress(last)) =
        &updates.last().and_then(|u| u.update.clone())
    else {
        panic!("the stream ends with the final counts");
    };
    assert_eq!(last.state, CohortState::Done as i32);
    assert_eq!(
        (last.succeeded, last.failed),
        (valid as u32, malformed as u32)
    );
    assert_eq!(
        last.emails
            .as_ref()
            .map(|e| (e.sent, e.queued + e.deferred)),
        Some((valid as u32, 0)),
        "done once every email is sent"
    );
    assert_eq!(
        last.summary,
        format!("{valid} invited, {malformed} failed; emails: {valid} sent, 0 failed")
    );

    let details = app
        .invites()
        .get_cohort(GetCohortRequest {
            id: cohort.id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(details.succeeded.len(), valid);
    assert_eq!(details.failed.len(), malformed);
    assert!(details.failed[0].reason.contains("not an email address"));
    assert!(details.succeeded.iter().all(|m| !m.invite_id.is_empty()));

    // Every valid candidate gets exactly one email, with a link of their own.
    let mail = smtp.wait_for(WAIT, |m| m.len() >= valid).await;
    assert_eq!(mail.len(), valid);
    let recipients: HashSet<_> = mail.iter().flat_map(|m| m.to.clone()).collect();
    assert_eq!(recipients.len(), valid, "nobody twice");
    let prefix = format!("{}/i/", app.base_url);
    let links: HashSet<_> = mail
        .iter()
        .filter_map(|m| m.link_starting(&prefix))
        .collect();
    assert_eq!(links.len(), valid, "every link is different");
    for link in links.iter().take(3) {
        assert_eq!(app.get(link).await.status(), 200);
    }
    let listed = app
        .invites()
        .list_invites(ListInvitesRequest {
            job_id: job.id.clone(),
            label: "wave1".into(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.invites.len(), valid, "row labels kept");
    assert!(listed
        .invites
        .iter()
        .all(|i| i.labels.contains(&"bulk".to_string())));

    let cohorts = app
        .invites()
        .list_cohorts(ListCohortsRequest::default())
        .await
        .expect("list cohorts")
        .into_inner();
    assert_eq!(cohorts.cohorts.len(), 1);

    // The same list again: everyone already has a pending invite.
    let again = app
        .invites()
        .bulk_create_invites(BulkCreateInvitesRequest {
            validate_only: true,
            ..bulk(&job.id, &csv)
        })
        .await
        .expect("dry run")
        .into_inner()
        .preview
        .expect("preview");
    assert_eq!(again.pending, valid as u32);
    assert_eq!(again.to_invite, 0);
}

async fn a_dry_run_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Analyst").await;
    let answer = app
        .invites()
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            pasted_list: "ada@example.com\nGrace Hopper <grace@example.com>, nope".into(),
            validate_only: true,
            ..Default::default()
        })
        .await
        .expect("dry run")
        .into_inner();
    assert!(answer.cohort.is_none());
    let preview = answer.preview.expect("preview");
    assert_eq!((preview.valid, preview.malformed), (2, 1));
    let invites = app
        .invites()
        .list_invites(ListInvitesRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(invites.invites.is_empty());
    let candidates = app
        .candidates()
        .list_candidates(ListCandidatesRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(candidates.candidates.is_empty());
    let cohorts = app
        .invites()
        .list_cohorts(ListCohortsRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(cohorts.cohorts.is_empty());
}

async fn bad_bulk_requests_are_refused(backend: Backend) {
    let app = TestApp::spawn_full(backend, |c| c.max_bulk_rows = 5, None).await;
    let job = app.create_job("Ops").await;
    let mut invites = app.invites();
    let err = invites
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("empty");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    let err = invites
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            csv: "name,phone\nAda,1\n".into(),
            ..Default::default()
        })
        .await
        .expect_err("no email column");
    assert_eq!(beckon_tests::violated_fields(&err), ["csv"]);
    let err = invites
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            pasted_list: (0..6).map(|i| format!("p{i}@example.com\n")).collect(),
            ..Default::default()
        })
        .await
        .expect_err("over the limit");
    assert_eq!(err.code(), tonic::Code::ResourceExhausted);
    assert!(err.message().contains("at most 5"), "{}", err.message());

    app.jobs()
        .update_job(UpdateJobRequest {
            job: Some(Job {
                id: job.id.clone(),
                state: JobState::Closed as i32,
                ..Default::default()
            }),
            update_mask: None,
        })
        .await
        .expect("close");
    let err = invites
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            pasted_list: "a@example.com".into(),
            validate_only: true,
            ..Default::default()
        })
        .await
        .expect_err("closed");
    assert_eq!(error_reason(&err), "JOB_CLOSED");
    let other = app.other_organization_key().await;
    let err = app
        .invites_as(&other)
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            pasted_list: "a@example.com".into(),
            ..Default::default()
        })
        .await
        .expect_err("another organization's job");
    assert_eq!(err.code(), tonic::Code::NotFound);
    let cohorts = app
        .invites()
        .list_cohorts(ListCohortsRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(cohorts.cohorts.is_empty(), "nothing written");
}

async fn failed_rows_can_be_retried_with_corrected_addresses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Support").await;
    let cohort = app
        .invites()
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            pasted_list: "ok@example.com\nwrong-at-example.com\nfine@example.com".into(),
            ..Default::default()
        })
        .await
        .expect("bulk")
        .into_inner()
        .cohort
        .expect("cohort");
    watch(&app, &cohort.id).await;
    let retried = app
        .invites()
        .retry_cohort_failures(RetryCohortFailuresRequest {
            cohort_id: cohort.id.clone(),
            corrected_emails: HashMap::from([(2, "right@example.com".to_string())]),
        })
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(retried.failed, 0);
    watch(&app, &cohort.id).await;
    let details = app
        .invites()
        .get_cohort(GetCohortRequest { id: cohort.id })
        .await
        .expect("get")
        .into_inner();
    let emails: Vec<_> = details.succeeded.iter().map(|m| m.email.as_str()).collect();
    assert_eq!(
        emails,
        ["ok@example.com", "right@example.com", "fine@example.com"]
    );
    assert!(details.failed.is_empty());
}

/// The cohort once `done` holds for its counts (emails' outcomes arrive through the relay).
async fn cohort_when(app: &TestApp, id: &str, done: impl Fn(&Cohort) -> bool) -> Cohort {
    let read = async || {
        app.invites()
            .get_cohort(GetCohortRequest { id: id.into() })
            .await
            .expect("get cohort")
            .into_inner()
            .cohort
            .expect("cohort")
    };
    app.when(read, done).await
}

fn emails(cohort: &Cohort) -> (u32, u32, u32, u32, u32) {
    let e = cohort.emails.unwrap_or_default();
    (e.queued, e.deferred, e.sent, e.failed, e.suppressed)
}

async fn next(stream: &mut tonic::Streaming<CohortUpdate>) -> Option<CohortUpdate> {
    tokio::time::timeout(WAIT, stream.message())
        .await
        .expect("the stream keeps moving")
        .expect("stream")
}

fn rows(members: &[CohortMember]) -> Vec<u32> {
    members.iter().map(|m| m.row).collect()
}

async fn a_cohort_with_emails_is_sending_until_every_email_has_a_final_outcome(backend: Backend) {
    let smtp = SmtpServer::start().await;
    smtp.always("bounce1@example.com", 550);
    smtp.always("bounce2@example.com", 550);
    smtp.script("slow@example.com", &[451, 451]);
    // Its email stays in flight until released: the cohort cannot be done before.
    smtp.hold("held@example.com");
    let app = TestApp::spawn_with_mail(backend, &smtp).await;
    let job = app.create_job("Warehouse").await;
    let cohort = app
        .invites()
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            pasted_list: "ok1@example.com\nok2@example.com\nbounce1@example.com\n\
                          slow@example.com\nnot-an-address\nbounce2@example.com\n\
                          held@example.com"
                .into(),
            send_email: true,
            ..Default::default()
        })
        .await
        .expect("bulk")
        .into_inner()
        .cohort
        .expect("cohort");
    assert_eq!(cohort.state, CohortState::Running as i32);

    // Every invite is made and every other email has its outcome; one is still on its way.
    let sending = cohort_when(&app, &cohort.id, |c| {
        let (_, _, sent, failed, _) = emails(c);
        sent == 3 && failed == 2
    })
    .await;
    assert_eq!(sending.state, CohortState::Sending as i32, "{sending:?}");
    assert_eq!(
        (sending.succeeded, sending.failed, sending.pending),
        (6, 1, 0)
    );
    let (queued, deferred, sent, failed, suppressed) = emails(&sending);
    assert_eq!((queued + deferred, sent, failed, suppressed), (1, 3, 2, 0));
    assert!(sending.finish_time.is_none());
    assert!(
        sending.summary.starts_with("6 invited, 1 failed; emails: "),
        "{}",
        sending.summary
    );
    assert!(
        smtp.attempts("slow@example.com") >= 3,
        "deferred, then sent"
    );
    let details = app
        .invites()
        .get_cohort(GetCohortRequest {
            id: cohort.id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(rows(&details.succeeded), [1, 2, 4]);
    assert_eq!(rows(&details.pending), [7]);
    assert_eq!(rows(&details.failed), [3, 5, 6]);
    let bounced = &details.failed[0];
    assert_eq!(bounced.state, MemberState::Invited as i32, "invited, then");
    assert_eq!(bounced.delivery_status, DeliveryStatus::Failed as i32);
    assert!(bounced.delivery_error.contains("550"), "{bounced:?}");
    assert_eq!(details.failed[1].state, MemberState::Failed as i32);
    assert!(details
        .succeeded
        .iter()
        .all(|m| m.delivery_status == DeliveryStatus::Sent as i32));

    // A watch follows both stages: the counts, every member as it is now, then the held email
    // to its outcome, and ends at the final counts.
    let mut stream = app
        .invites()
        .watch_cohort(WatchCohortRequest {
            id: cohort.id.clone(),
        })
        .await
        .expect("watch")
        .into_inner();
    let Some(CohortUpdate {
        update: Some(cohort_update::Update::Progress(first)),
    }) = next(&mut stream).await
    else {
        panic!("the watch starts with the counts");
    };
    assert_eq!(first.state, CohortState::Sending as i32);
    let mut seen = HashMap::new();
    while seen.len() < 7 {
        if let Some(CohortUpdate {
            update: Some(cohort_update::Update::Outcome(member)),
        }) = next(&mut stream).await
        {
            seen.insert(member.row, member);
        }
    }
    let held = &seen[&7];
    assert_eq!(held.state, MemberState::Invited as i32);
    assert!(
        [
            DeliveryStatus::Queued as i32,
            DeliveryStatus::Deferred as i32
        ]
        .contains(&held.delivery_status),
        "{held:?}"
    );
    assert_eq!(seen[&4].delivery_status, DeliveryStatus::Sent as i32);

    smtp.release("held@example.com");
    let mut rest = Vec::new();
    while let Some(update) = next(&mut stream).await {
        rest.push(update.update.expect("an update"));
    }
    let held_outcomes: Vec<i32> = rest
        .iter()
        .filter_map(|u| match u {
            cohort_update::Update::Outcome(m) if m.row == 7 => Some(m.delivery_status),
            _ => None,
        })
        .collect();
    assert_eq!(held_outcomes.last(), Some(&(DeliveryStatus::Sent as i32)));
    let Some(cohort_update::Update::Progress(last)) = rest.last() else {
        panic!("the stream ends with the final counts");
    };
    assert_eq!(last.state, CohortState::Done as i32);
    assert_eq!(emails(last), (0, 0, 4, 2, 0));
    assert!(last.finish_time.is_some());
    assert_eq!(
        last.summary,
        "6 invited, 1 failed; emails: 4 sent, 2 failed"
    );

    let details = app
        .invites()
        .get_cohort(GetCohortRequest { id: cohort.id })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(rows(&details.succeeded), [1, 2, 4, 7]);
    assert_eq!(rows(&details.failed), [3, 5, 6]);
    assert!(details.pending.is_empty());
}

async fn a_member_whose_email_failed_is_emailed_again_at_a_corrected_address(backend: Backend) {
    let smtp = SmtpServer::start().await;
    smtp.always("typo@exmaple.com", 550);
    let app = TestApp::spawn_with_mail(backend, &smtp).await;
    let job = app.create_job("Courier").await;
    let cohort = app
        .invites()
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            pasted_list: "ok@example.com\nRita Typo <typo@exmaple.com>".into(),
            send_email: true,
            ..Default::default()
        })
        .await
        .expect("bulk")
        .into_inner()
        .cohort
        .expect("cohort");
    watch(&app, &cohort.id).await;
    let details = app
        .invites()
        .get_cohort(GetCohortRequest {
            id: cohort.id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    let done = details.cohort.clone().expect("cohort");
    assert_eq!(done.state, CohortState::Done as i32);
    assert_eq!(emails(&done), (0, 0, 1, 1, 0));
    let bounced = details.failed.first().expect("the bounced member").clone();
    assert_eq!(bounced.row, 2);

    // Only failed rows take corrections.
    let err = app
        .invites()
        .retry_cohort_failures(RetryCohortFailuresRequest {
            cohort_id: cohort.id.clone(),
            corrected_emails: HashMap::from([(1, "other@example.com".to_string())]),
        })
        .await
        .expect_err("a row that was emailed");
    assert_eq!(beckon_tests::violated_fields(&err), ["corrected_emails[1]"]);

    let retried = app
        .invites()
        .retry_cohort_failures(RetryCohortFailuresRequest {
            cohort_id: cohort.id.clone(),
            corrected_emails: HashMap::from([(2, "rita@example.com".to_string())]),
        })
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(retried.state, CohortState::Sending as i32);
    assert_eq!(emails(&retried), (1, 0, 1, 0, 0));
    assert!(retried.finish_time.is_none());
    let updates = watch(&app, &cohort.id).await;
    let Some(cohort_update::Update::Progress(last)) =
        &updates.last().and_then(|u| u.update.clone())
    else {
        panic!("the stream ends with the final counts");
    };
    assert_eq!(last.state, CohortState::Done as i32);
    assert_eq!(emails(last), (0, 0, 2, 0, 0));

    // The same invite, and so the same link, now at the corrected address.
    let mail = smtp
        .wait_for(WAIT, beckon_tests::smtp::to("rita@example.com"))
        .await;
    let email = mail
        .iter()
        .find(|m| m.to == ["rita@example.com"])
        .expect("emailed to the corrected address");
    let link = email
        .link_starting(&format!("{}/i/", app.base_url))
        .expect("a link");
    assert_eq!(app.get(&link).await.status(), 200);
    let details = app
        .invites()
        .get_cohort(GetCohortRequest { id: cohort.id })
        .await
        .expect("get")
        .into_inner();
    assert!(details.failed.is_empty());
    let member = details
        .succeeded
        .iter()
        .find(|m| m.row == 2)
        .expect("row 2 succeeded");
    assert_eq!(member.email, "rita@example.com");
    assert_eq!(member.invite_id, bounced.invite_id, "the same invite");
    let invite = app
        .invites()
        .get_invite(GetInviteRequest {
            id: member.invite_id.clone(),
        })
        .await
        .expect("invite")
        .into_inner();
    assert_eq!(invite.candidate_email, "rita@example.com");
    assert_eq!(invite.delivery_status, DeliveryStatus::Sent as i32);
    assert_eq!(invite.candidate_name, "Rita Typo");
}

async fn an_expiry_and_a_reminder_each_fire_once(backend: Backend) {
    let smtp = SmtpServer::start().await;
    let app = TestApp::spawn_full(backend, |c| c.sweep_interval_ms = 50, Some(&smtp)).await;
    let job = app.create_job("Night shift").await;
    let mut invites = app.invites();
    let expiring = invites
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_name: "Soon Gone".into(),
            ttl: Some(prost_types::Duration {
                seconds: 1,
                nanos: 0,
            }),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    let reminded = invites
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_email: "forgetful@example.com".into(),
            candidate_name: "Forgetful".into(),
            send_email: true,
            remind_after: Some(prost_types::Duration {
                seconds: 1,
                nanos: 0,
            }),
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    let mail = smtp
        .wait_for(WAIT, |m| {
            m.iter().any(|m| {
                m.header("Subject")
                    .is_some_and(|s| s.starts_with("Reminder"))
            })
        })
        .await;
    let reminders = mail
        .iter()
        .filter(|m| {
            m.header("Subject")
                .is_some_and(|s| s.starts_with("Reminder"))
        })
        .count();
    assert_eq!(reminders, 1);
    let expiring_id = expiring.invite.expect("invite").id;
    let invite = app
        .invite_when(&expiring_id, |i| i.status == InviteStatus::Expired as i32)
        .await;
    assert_eq!(
        invite.status,
        InviteStatus::Expired as i32,
        "the sweep expired it"
    );
    // More sweeps run; still one of each.
    let more = smtp
        .wait_for(Duration::from_millis(500), |m| m.len() > 2)
        .await;
    assert_eq!(more.len(), 2, "the invite and its one reminder");
    for (id, kind) in [
        (expiring_id, "expired"),
        (reminded.invite.expect("invite").id, "reminded"),
    ] {
        let events = invites
            .list_invite_events(ListInviteEventsRequest {
                invite_id: id,
                ..Default::default()
            })
            .await
            .expect("events")
            .into_inner()
            .events;
        assert_eq!(
            events.iter().filter(|e| e.kind == kind).count(),
            1,
            "{kind}"
        );
    }
}

/// invite-service as a real process, for the test that kills it.
fn start_invite_service(
    data_dir: &std::path::Path,
    database_url: Option<&str>,
) -> (std::process::Child, String, Option<String>) {
    let mut command = Command::new(workspace_binary("invite-service"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("BECKON_LISTEN_ADDR", "127.0.0.1:0")
        .env("BECKON_DATA_DIR", data_dir)
        .env("BECKON_COHORT_CHUNK_SIZE", "25")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    let mut child = command.spawn().expect("start invite-service");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut addr = String::new();
    let mut key = None;
    for line in lines.by_ref() {
        let Ok(line) = line else { break };
        if let Some(rest) = line.strip_prefix("Beckon invite-service listening on ") {
            addr = rest.trim().to_string();
        }
        if line.trim().starts_with("bk_") {
            key = Some(line.trim().to_string());
        }
        if line.starts_with("Press Ctrl-C to stop.") {
            break;
        }
    }
    assert!(!addr.is_empty(), "invite-service printed where it listens");
    (child, addr, key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_in_the_middle_of_a_cohort_it_completes_without_inviting_anyone_twice() {
    const ROWS: usize = 2000;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (first, addr, key) = start_invite_service(data_dir.path(), None);
    let key = key.expect("the first start prints the admin key");
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let auth: tonic::metadata::MetadataValue<_> = format!("Bearer {key}").parse().expect("ascii");
    let with_key = move |mut req: tonic::Request<()>| {
        req.metadata_mut().insert("authorization", auth.clone());
        Ok(req)
    };
    let mut jobs =
        job_service_client::JobServiceClient::with_interceptor(channel.clone(), with_key.clone());
    let job = jobs
        .create_job(CreateJobRequest {
            job: Some(Job {
                title: "Crash course".into(),
                assessment_url: "https://assess.example.com".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("job")
        .into_inner();
    let mut invites =
        invite_service_client::InviteServiceClient::with_interceptor(channel, with_key.clone());
    let list: String = (0..ROWS).map(|i| format!("k{i}@example.com\n")).collect();
    let cohort = invites
        .bulk_create_invites(BulkCreateInvitesRequest {
            job_id: job.id.clone(),
            pasted_list: list,
            ..Default::default()
        })
        .await
        .expect("bulk")
        .into_inner()
        .cohort
        .expect("cohort");
    // Wait for the first chunks to land, then pull the plug.
    loop {
        let now = invites
            .get_cohort(GetCohortRequest {
                id: cohort.id.clone(),
            })
            .await
            .expect("get")
            .into_inner()
            .cohort
            .expect("cohort");
        if now.succeeded > 0 {
            assert!(now.succeeded < ROWS as u32, "killed in the middle");
            break;
        }
    }
    let mut first = first;
    let _ = first.kill();
    let _ = first.wait();

    let (mut second, addr, _) = start_invite_service(data_dir.path(), None);
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut invites =
        invite_service_client::InviteServiceClient::with_interceptor(channel, with_key);
    let mut stream = invites
        .watch_cohort(WatchCohortRequest {
            id: cohort.id.clone(),
        })
        .await
        .expect("watch")
        .into_inner();
    while tokio::time::timeout(WAIT, stream.message())
        .await
        .expect("moving")
        .expect("stream")
        .is_some()
    {}
    let mut emails = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = invites
            .list_invites(ListInvitesRequest {
                job_id: job.id.clone(),
                page_size: 1000,
                page_token,
                ..Default::default()
            })
            .await
            .expect("list")
            .into_inner();
        emails.extend(page.invites.into_iter().map(|i| i.candidate_email));
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    let unique: HashSet<_> = emails.iter().collect();
    assert_eq!(emails.len(), ROWS, "everyone invited");
    assert_eq!(unique.len(), ROWS, "nobody twice");
    let _ = second.kill();
    let _ = second.wait();
}
