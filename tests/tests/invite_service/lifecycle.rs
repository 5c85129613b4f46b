//! The invite lifecycle: sent → opened → started → submitted, with revoke, reissue, reopen,
//! lock and unlock, and what each refuses.
use beckon_proto::invite::v1::*;
use beckon_tests::{error_reason, on_both_databases, Backend, TestApp};
use tonic::Code;

on_both_databases!(
    an_invite_goes_from_sent_to_submitted_and_back_by_reopen,
    reissue_kills_the_old_link_and_the_new_one_works,
    a_locked_invite_opens_but_starts_only_after_unlock,
    revoked_invites_cannot_be_started_or_changed,
    illegal_transitions_are_refused_and_write_nothing,
);

async fn status(app: &TestApp, id: &str) -> Invite {
    app.invites()
        .get_invite(GetInviteRequest { id: id.into() })
        .await
        .expect("get")
        .into_inner()
}

async fn an_invite_goes_from_sent_to_submitted_and_back_by_reopen(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("invite").id;

    assert_eq!(app.get(&created.link_url).await.status(), 200);
    // The page's script reports that the browser showed it.
    let beacon = format!("{}/opened", created.link_url);
    assert_eq!(app.post(&beacon).await.status(), 204);
    assert_eq!(status(&app, &id).await.status, InviteStatus::Opened as i32);

    let started = app.post(&format!("{}/start", created.link_url)).await;
    assert_eq!(started.status(), 303);
    let location = started.headers()["location"].to_str().expect("ascii");
    assert_eq!(
        location,
        format!("https://assess.example.com/start?invite_id={id}")
    );
    assert_eq!(status(&app, &id).await.status, InviteStatus::Started as i32);

    let submitted = app
        .invites()
        .complete_invite(CompleteInviteRequest { id: id.clone() })
        .await
        .expect("complete")
        .into_inner();
    assert_eq!(submitted.status, InviteStatus::Submitted as i32);
    assert!(submitted.submit_time.is_some());
    // The platform may retry: harmless.
    app.invites()
        .complete_invite(CompleteInviteRequest { id: id.clone() })
        .await
        .expect("complete again");

    let reopened = app
        .invites()
        .reopen_invite(ReopenInviteRequest { id: id.clone() })
        .await
        .expect("reopen")
        .into_inner();
    assert_eq!(reopened.status, InviteStatus::Started as i32);
    assert!(reopened.submit_time.is_none());
    // Same link, straight back to the assessment.
    assert_eq!(
        app.post(&format!("{}/start", created.link_url))
            .await
            .status(),
        303
    );
    assert_eq!(
        app.event_kinds(&id).await,
        ["created", "opened", "started", "submitted", "reopened"]
    );
}

async fn reissue_kills_the_old_link_and_the_new_one_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("invite").id;
    let reissued = app
        .invites()
        .reissue_invite(ReissueInviteRequest {
            id: id.clone(),
            send_email: false,
        })
        .await
        .expect("reissue")
        .into_inner();
    assert_ne!(reissued.link_url, created.link_url);
    assert_eq!(reissued.invite.map(|i| i.id), Some(id.clone()));
    assert_eq!(app.get(&created.link_url).await.status(), 404);
    assert_eq!(app.get(&reissued.link_url).await.status(), 200);
    assert_eq!(
        app.post(&format!("{}/opened", created.link_url))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.post(&format!("{}/opened", reissued.link_url))
            .await
            .status(),
        204
    );
    assert_eq!(
        app.post(&format!("{}/start", created.link_url))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.event_kinds(&id).await,
        ["created", "reissued", "opened"]
    );
}

async fn a_locked_invite_opens_but_starts_only_after_unlock(backend: Backend) {
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
    let page = app.get(&created.link_url).await.text().await.expect("body");
    assert!(page.contains("not yet unlocked"), "{page}");
    assert!(!page.contains("<button"), "no Start button while locked");

    let refused = app.post(&format!("{}/start", created.link_url)).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(status(&app, &id).await.status, InviteStatus::Opened as i32);

    let unlocked = app
        .invites()
        .unlock_invite(UnlockInviteRequest { id: id.clone() })
        .await
        .expect("unlock")
        .into_inner();
    assert!(!unlocked.locked);
    // A retry finds it done: the invite as it is, nothing written.
    let again = app
        .invites()
        .unlock_invite(UnlockInviteRequest { id: id.clone() })
        .await
        .expect("unlock again")
        .into_inner();
    assert_eq!(again, unlocked);

    let page = app.get(&created.link_url).await.text().await.expect("body");
    assert!(page.contains("Start"), "{page}");
    assert_eq!(
        app.post(&format!("{}/start", created.link_url))
            .await
            .status(),
        303
    );
}

async fn revoked_invites_cannot_be_started_or_changed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("invite").id;
    let revoked = app
        .invites()
        .revoke_invite(RevokeInviteRequest {
            id: id.clone(),
            reason: "sent to the wrong person".into(),
        })
        .await
        .expect("revoke")
        .into_inner();
    assert_eq!(revoked.status, InviteStatus::Revoked as i32);
    assert_eq!(
        app.post(&format!("{}/start", created.link_url))
            .await
            .status(),
        404
    );
    for result in [
        app.invites()
            .reissue_invite(ReissueInviteRequest {
                id: id.clone(),
                send_email: false,
            })
            .await
            .map(|_| ()),
        app.invites()
            .complete_invite(CompleteInviteRequest { id: id.clone() })
            .await
            .map(|_| ()),
    ] {
        let err = result.expect_err("revoked is an end");
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    }
    // Revoking again is a retry: the invite as it is, the first reason kept.
    let again = app
        .invites()
        .revoke_invite(RevokeInviteRequest {
            id: id.clone(),
            reason: String::new(),
        })
        .await
        .expect("revoke again")
        .into_inner();
    assert_eq!(again, revoked);
    assert_eq!(app.event_kinds(&id).await, ["created", "revoked"]);
}

async fn illegal_transitions_are_refused_and_write_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    let invite = created.invite.expect("invite");
    let mut invites = app.invites();

    let err = invites
        .reopen_invite(ReopenInviteRequest {
            id: invite.id.clone(),
        })
        .await
        .expect_err("never submitted");
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&err), "INVALID_INVITE_STATE");
    assert!(err.message().contains("submitted"), "{}", err.message());

    let err = invites
        .complete_invite(CompleteInviteRequest {
            id: invite.id.clone(),
        })
        .await
        .expect_err("never started");
    assert_eq!(err.code(), Code::FailedPrecondition);

    let err = invites
        .resend_invite(ResendInviteRequest {
            id: invite.id.clone(),
        })
        .await;
    assert!(err.is_ok(), "resend of a sent invite is fine: {err:?}");

    // Inviting to a closed job.
    let job = app.create_job("Closed soon").await;
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
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_email: "late@example.com".into(),
            ..Default::default()
        })
        .await
        .expect_err("closed job");
    assert_eq!(err.code(), Code::FailedPrecondition);
    assert_eq!(error_reason(&err), "JOB_CLOSED");
    let listed = invites
        .list_invites(ListInvitesRequest {
            job_id: job.id,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert!(listed.invites.is_empty(), "a failed call writes nothing");
    let candidates = app
        .candidates()
        .list_candidates(ListCandidatesRequest {
            email: "late@example.com".into(),
            ..Default::default()
        })
        .await
        .expect("candidates")
        .into_inner();
    assert!(candidates.candidates.is_empty(), "not even the candidate");
    assert_eq!(app.event_kinds(&invite.id).await, ["created", "resent"]);
}
