//! Racing and repeated transitions: assessment platforms and admins retry, so a transition that
//! has already happened answers OK with the invite as it is and writes nothing; only a state the
//! transition is incompatible with fails. 50 identical calls at once make one transition and one
//! event, and every one of them gets the same answer.
use std::{collections::BTreeMap, future::Future, sync::Arc};

use beckon_proto::invite::v1::*;
use beckon_tests::{error_reason, on_both_databases, Backend, TestApp};
use tokio::sync::Barrier;
use tonic::{Code, Status};

on_both_databases!(
    fifty_concurrent_completes_answer_ok_with_one_event,
    fifty_concurrent_revokes_answer_ok_with_one_event,
    fifty_concurrent_unlocks_answer_ok_with_one_event,
    fifty_concurrent_reopens_answer_ok_with_one_event,
    fifty_concurrent_starts_lead_to_the_same_assessment_with_one_event,
    incompatible_states_are_still_refused,
);

const CALLS: usize = 50;

/// Runs `call` `CALLS` times, released together from a barrier so that they race, and returns
/// every answer.
async fn all_at_once<T, Fut>(call: impl Fn() -> Fut) -> Vec<Result<T, Status>>
where
    T: Send + 'static,
    Fut: Future<Output = Result<tonic::Response<T>, Status>> + Send + 'static,
{
    let barrier = Arc::new(Barrier::new(CALLS));
    let tasks = (0..CALLS).map(|_| {
        let barrier = Arc::clone(&barrier);
        let call = call();
        tokio::spawn(async move {
            barrier.wait().await;
            call.await.map(tonic::Response::into_inner)
        })
    });
    futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|task| task.expect("task"))
        .collect()
}

async fn invite(app: &TestApp, id: &str) -> Invite {
    app.invites()
        .get_invite(GetInviteRequest { id: id.into() })
        .await
        .expect("get")
        .into_inner()
}

/// Every call succeeded and answered the invite exactly as it is now (so the losers wrote
/// nothing, not even its update time).
async fn all_answer_the_invite_as_it_is(
    app: &TestApp,
    id: &str,
    answers: Vec<Result<Invite, Status>>,
) {
    // Each distinct failure once, with how many calls got it.
    let mut failures: BTreeMap<String, usize> = BTreeMap::new();
    for status in answers.iter().filter_map(|answer| answer.as_ref().err()) {
        let failure = format!("{:?} {}", status.code(), status.message());
        *failures.entry(failure).or_default() += 1;
    }
    assert!(
        failures.is_empty(),
        "of {CALLS} calls, failed: {failures:?}"
    );
    let now = invite(app, id).await;
    for answer in answers {
        assert_eq!(answer.expect("checked above"), now);
    }
}

async fn count_events(app: &TestApp, id: &str, kind: &str) -> usize {
    let kinds = app.event_kinds(id).await;
    kinds.iter().filter(|k| k.as_str() == kind).count()
}

/// A new invite, started by its candidate. Returns its id and link.
async fn started_invite(app: &TestApp) -> (String, String) {
    let created = app.create_invite().await;
    let id = created.invite.expect("invite").id;
    let started = app.post(&format!("{}/start", created.link_url)).await;
    assert_eq!(started.status(), 303);
    (id, created.link_url)
}

async fn complete(app: &TestApp, id: &str) -> Result<Invite, Status> {
    app.invites()
        .complete_invite(CompleteInviteRequest { id: id.into() })
        .await
        .map(tonic::Response::into_inner)
}

async fn fifty_concurrent_completes_answer_ok_with_one_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, _) = started_invite(&app).await;
    let answers = all_at_once(|| {
        let mut invites = app.invites();
        let id = id.clone();
        async move { invites.complete_invite(CompleteInviteRequest { id }).await }
    })
    .await;
    all_answer_the_invite_as_it_is(&app, &id, answers).await;
    assert_eq!(
        invite(&app, &id).await.status,
        InviteStatus::Submitted as i32
    );
    assert_eq!(count_events(&app, &id, "submitted").await, 1);
}

async fn fifty_concurrent_revokes_answer_ok_with_one_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, link) = started_invite(&app).await;
    let answers = all_at_once(|| {
        let mut invites = app.invites();
        let id = id.clone();
        async move {
            invites
                .revoke_invite(RevokeInviteRequest {
                    id,
                    reason: "the role was filled".into(),
                })
                .await
        }
    })
    .await;
    all_answer_the_invite_as_it_is(&app, &id, answers).await;
    assert_eq!(invite(&app, &id).await.status, InviteStatus::Revoked as i32);
    assert_eq!(count_events(&app, &id, "revoked").await, 1);
    assert_eq!(app.get(&link).await.status(), 404, "the link is dead");
}

async fn fifty_concurrent_unlocks_answer_ok_with_one_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Locked").await;
    let created = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id,
            candidate_name: "Katherine Johnson".into(),
            locked: true,
            ..Default::default()
        })
        .await
        .expect("create")
        .into_inner();
    let id = created.invite.expect("invite").id;
    let answers = all_at_once(|| {
        let mut invites = app.invites();
        let id = id.clone();
        async move { invites.unlock_invite(UnlockInviteRequest { id }).await }
    })
    .await;
    all_answer_the_invite_as_it_is(&app, &id, answers).await;
    assert!(!invite(&app, &id).await.locked);
    assert_eq!(count_events(&app, &id, "unlocked").await, 1);
    assert_eq!(
        app.post(&format!("{}/start", created.link_url))
            .await
            .status(),
        303,
        "unlocked: it starts"
    );
}

async fn fifty_concurrent_reopens_answer_ok_with_one_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, link) = started_invite(&app).await;
    complete(&app, &id).await.expect("complete");
    let answers = all_at_once(|| {
        let mut invites = app.invites();
        let id = id.clone();
        async move { invites.reopen_invite(ReopenInviteRequest { id }).await }
    })
    .await;
    all_answer_the_invite_as_it_is(&app, &id, answers).await;
    let reopened = invite(&app, &id).await;
    assert_eq!(reopened.status, InviteStatus::Started as i32);
    assert!(reopened.submit_time.is_none());
    assert_eq!(count_events(&app, &id, "reopened").await, 1);
    assert_eq!(app.post(&format!("{link}/start")).await.status(), 303);

    // A started invite that was never submitted is where a reopen would take it: the candidate
    // can work on it. The answer is OK, and nothing is written.
    let (never_submitted, _) = started_invite(&app).await;
    let before = invite(&app, &never_submitted).await;
    let answer = app
        .invites()
        .reopen_invite(ReopenInviteRequest {
            id: never_submitted.clone(),
        })
        .await
        .expect("reopen of a started invite")
        .into_inner();
    assert_eq!(answer, before);
    assert_eq!(count_events(&app, &never_submitted, "reopened").await, 0);
}

async fn fifty_concurrent_starts_lead_to_the_same_assessment_with_one_event(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("invite").id;
    let start_url = format!("{}/start", created.link_url);
    let barrier = Arc::new(Barrier::new(CALLS));
    let starts = (0..CALLS).map(|_| {
        let (http, url, barrier) = (app.http.clone(), start_url.clone(), Arc::clone(&barrier));
        tokio::spawn(async move {
            barrier.wait().await;
            let response = http.post(&url).send().await.expect("POST");
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().expect("ascii").to_string());
            (response.status().as_u16(), location)
        })
    });
    let expected = format!("https://assess.example.com/start?invite_id={id}");
    for answer in futures::future::join_all(starts).await {
        assert_eq!(answer.expect("task"), (303, Some(expected.clone())));
    }
    assert_eq!(invite(&app, &id).await.status, InviteStatus::Started as i32);
    assert_eq!(count_events(&app, &id, "started").await, 1);

    // Start is not OK on work already submitted: the page says it was submitted.
    complete(&app, &id).await.expect("complete");
    let again = app.post(&start_url).await;
    assert_eq!(again.status(), 409);
    let page = again.text().await.expect("body");
    assert!(page.contains("Your work has been submitted"), "{page}");
    assert_eq!(count_events(&app, &id, "started").await, 1);
}

async fn incompatible_states_are_still_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let refused = |result: Result<Invite, Status>, what: &str| {
        let err = result.expect_err(what);
        assert_eq!(err.code(), Code::FailedPrecondition, "{what}: {err:?}");
        assert_eq!(
            error_reason(&err),
            "INVALID_INVITE_STATE",
            "{what}: {err:?}"
        );
    };

    // Never started: nothing to complete, nothing to reopen.
    let created = app.create_invite().await;
    let fresh = created.invite.expect("invite").id;
    let fresh_events = app.event_kinds(&fresh).await;
    refused(complete(&app, &fresh).await, "complete before start");
    let reopen = app
        .invites()
        .reopen_invite(ReopenInviteRequest { id: fresh.clone() })
        .await
        .map(tonic::Response::into_inner);
    refused(reopen, "reopen before start");

    // Submitted: unlocking has nothing left to let start.
    let (submitted, _) = started_invite(&app).await;
    complete(&app, &submitted).await.expect("complete");
    let unlock = app
        .invites()
        .unlock_invite(UnlockInviteRequest {
            id: submitted.clone(),
        })
        .await
        .map(tonic::Response::into_inner);
    refused(unlock, "unlock after submission");

    // Revoked is an end: no complete, reopen or unlock.
    let (revoked, _) = started_invite(&app).await;
    app.invites()
        .revoke_invite(RevokeInviteRequest {
            id: revoked.clone(),
            reason: String::new(),
        })
        .await
        .expect("revoke");
    let revoked_events = app.event_kinds(&revoked).await;
    refused(complete(&app, &revoked).await, "complete after revoke");
    let reopen = app
        .invites()
        .reopen_invite(ReopenInviteRequest {
            id: revoked.clone(),
        })
        .await
        .map(tonic::Response::into_inner);
    refused(reopen, "reopen after revoke");
    let unlock = app
        .invites()
        .unlock_invite(UnlockInviteRequest {
            id: revoked.clone(),
        })
        .await
        .map(tonic::Response::into_inner);
    refused(unlock, "unlock after revoke");

    // A refusal writes nothing.
    assert_eq!(app.event_kinds(&fresh).await, fresh_events);
    assert_eq!(app.event_kinds(&revoked).await, revoked_events);
}
