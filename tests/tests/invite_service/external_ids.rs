//! External ids (an ATS's application id on an invite) and invites that name an existing
//! candidate.
use beckon_proto::invite::v1::*;
use beckon_tests::{error_reason, on_both_databases, violated_fields, Backend, TestApp};
use tonic::{Code, Status};
use tonic_types::StatusExt;

on_both_databases!(
    an_external_id_is_returned_filtered_and_looked_up,
    a_live_external_id_is_refused_until_its_invite_is_revoked_or_expired,
    concurrent_creates_with_one_external_id_make_one_invite,
    a_retried_create_with_an_external_id_returns_the_first_answer,
    an_invite_can_name_an_existing_candidate_instead_of_an_email,
    another_organizations_external_ids_and_candidates_are_not_found,
    bad_external_ids_and_candidate_choices_are_refused_and_write_nothing,
);

fn with_external_id(job_id: &str, email: &str, external_id: &str) -> CreateInviteRequest {
    CreateInviteRequest {
        job_id: job_id.into(),
        candidate_email: email.into(),
        external_id: external_id.into(),
        ..Default::default()
    }
}

async fn create(app: &TestApp, request: CreateInviteRequest) -> Result<Invite, Status> {
    app.invites()
        .create_invite(request)
        .await
        .map(|r| r.into_inner().invite.expect("invite"))
}

async fn list_by_external_id(app: &TestApp, external_id: &str) -> Vec<Invite> {
    app.invites()
        .list_invites(ListInvitesRequest {
            external_id: external_id.into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner()
        .invites
}

async fn lookup(app: &TestApp, external_id: &str) -> Result<Invite, Status> {
    app.invites()
        .lookup_invite(LookupInviteRequest {
            external_id: external_id.into(),
        })
        .await
        .map(|r| r.into_inner())
}

async fn all_invites(app: &TestApp) -> Vec<Invite> {
    app.invites()
        .list_invites(ListInvitesRequest::default())
        .await
        .expect("list")
        .into_inner()
        .invites
}

/// The invite an ALREADY_EXISTS answer names in its ErrorInfo.
fn named_invite(status: &Status) -> String {
    status
        .get_details_error_info()
        .and_then(|info| info.metadata.get("invite_id").cloned())
        .unwrap_or_default()
}

async fn an_external_id_is_returned_filtered_and_looked_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Engineer").await;
    let tied = create(
        &app,
        with_external_id(&job.id, "ada@example.com", "  app-1  "),
    )
    .await
    .expect("create");
    assert_eq!(tied.external_id, "app-1", "surrounding spaces are dropped");
    let other = create(&app, with_external_id(&job.id, "bob@example.com", "app-2"))
        .await
        .expect("create another");
    let untied = create(&app, with_external_id(&job.id, "cy@example.com", ""))
        .await
        .expect("create without");
    assert_eq!(untied.external_id, "");

    let fetched = app
        .invites()
        .get_invite(GetInviteRequest {
            id: tied.id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(fetched.external_id, "app-1");
    let listed = all_invites(&app).await;
    assert_eq!(listed.len(), 3);
    assert!(listed
        .iter()
        .any(|i| i.id == other.id && i.external_id == "app-2"));

    let filtered = list_by_external_id(&app, "app-1").await;
    assert_eq!(
        filtered.iter().map(|i| &i.id).collect::<Vec<_>>(),
        [&tied.id]
    );
    assert_eq!(lookup(&app, "app-1").await.expect("lookup"), fetched);
    assert_eq!(lookup(&app, " app-2 ").await.expect("lookup").id, other.id);
    let missing = lookup(&app, "app-3").await.expect_err("no such id");
    assert_eq!(missing.code(), Code::NotFound);

    // A page token belongs to the filter it was made for.
    let first_page = app
        .invites()
        .list_invites(ListInvitesRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("first page")
        .into_inner();
    assert!(!first_page.next_page_token.is_empty());
    let err = app
        .invites()
        .list_invites(ListInvitesRequest {
            page_size: 1,
            page_token: first_page.next_page_token,
            external_id: "app-1".into(),
            ..Default::default()
        })
        .await
        .expect_err("token of another filter");
    assert_eq!(violated_fields(&err), ["page_token"]);
}

async fn a_live_external_id_is_refused_until_its_invite_is_revoked_or_expired(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Engineer").await;
    let other_job = app.create_job("Designer").await;
    let first = create(&app, with_external_id(&job.id, "ada@example.com", "app-7"))
        .await
        .expect("create");

    // Unique per organization, whatever the job or candidate.
    let err = create(
        &app,
        with_external_id(&other_job.id, "bob@example.com", "app-7"),
    )
    .await
    .expect_err("the id is taken");
    assert_eq!(err.code(), Code::AlreadyExists);
    assert_eq!(error_reason(&err), "EXTERNAL_ID_IN_USE");
    assert_eq!(named_invite(&err), first.id);
    assert_eq!(all_invites(&app).await.len(), 1, "nothing written");

    // A submitted invite still holds its id: it is the application's answer.
    let submitted = app
        .invites()
        .create_invite(with_external_id(&job.id, "sub@example.com", "app-done"))
        .await
        .expect("create")
        .into_inner();
    let submitted_id = submitted.invite.expect("invite").id;
    let started = app.post(&format!("{}/start", submitted.link_url)).await;
    assert!(started.status().is_redirection(), "{}", started.status());
    app.invites()
        .complete_invite(CompleteInviteRequest {
            id: submitted_id.clone(),
        })
        .await
        .expect("complete");
    let err = create(
        &app,
        with_external_id(&job.id, "sub@example.com", "app-done"),
    )
    .await
    .expect_err("a submitted invite holds its id");
    assert_eq!(named_invite(&err), submitted_id);

    app.invites()
        .revoke_invite(RevokeInviteRequest {
            id: first.id.clone(),
            reason: "application withdrawn".into(),
        })
        .await
        .expect("revoke");
    let second = create(
        &app,
        with_external_id(&other_job.id, "bob@example.com", "app-7"),
    )
    .await
    .expect("a revoked invite frees its id");
    assert_eq!(lookup(&app, "app-7").await.expect("lookup").id, second.id);
    let both = list_by_external_id(&app, "app-7").await;
    assert_eq!(
        both.iter().map(|i| &i.id).collect::<Vec<_>>(),
        [&second.id, &first.id],
        "the list shows dead invites too, newest first"
    );

    // A link past its expiry frees the id at once, even before the sweep marks it expired.
    app.backdate_expiry(&second.id).await;
    let third = create(&app, with_external_id(&job.id, "cy@example.com", "app-7"))
        .await
        .expect("an expired invite frees its id");
    let second_now = app
        .invites()
        .get_invite(GetInviteRequest {
            id: second.id.clone(),
        })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(second_now.status, InviteStatus::Expired as i32);
    assert_eq!(lookup(&app, "app-7").await.expect("lookup").id, third.id);

    // Once no live invite carries the id, the lookup shows the newest.
    app.invites()
        .revoke_invite(RevokeInviteRequest {
            id: third.id.clone(),
            reason: String::new(),
        })
        .await
        .expect("revoke");
    assert_eq!(lookup(&app, "app-7").await.expect("lookup").id, third.id);
}

async fn concurrent_creates_with_one_external_id_make_one_invite(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Racy").await;
    let calls = (0..20).map(|i| {
        let mut invites = app.invites();
        let request = with_external_id(&job.id, &format!("c{i}@example.com"), "app-race");
        tokio::spawn(async move {
            invites
                .create_invite(request)
                .await
                .map(|r| r.into_inner().invite.expect("invite"))
        })
    });
    let answers: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect();
    let winners: Vec<&Invite> = answers.iter().filter_map(|a| a.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one create wins: {answers:?}");
    for refused in answers.iter().filter_map(|a| a.as_ref().err()) {
        assert_eq!(refused.code(), Code::AlreadyExists, "{refused:?}");
        assert_eq!(named_invite(refused), winners[0].id);
    }
    let stored = list_by_external_id(&app, "app-race").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(all_invites(&app).await.len(), 1);
}

async fn a_retried_create_with_an_external_id_returns_the_first_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Engineer").await;
    let request = CreateInviteRequest {
        request_id: uuid::Uuid::new_v4().to_string(),
        ..with_external_id(&job.id, "ada@example.com", "app-retry")
    };
    let calls = (0..10).map(|_| {
        let mut invites = app.invites();
        let request = request.clone();
        tokio::spawn(async move { invites.create_invite(request).await.map(|r| r.into_inner()) })
    });
    let answers: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("a retry gets the first answer"))
        .collect();
    assert!(answers.iter().all(|a| a == &answers[0]));
    assert_eq!(all_invites(&app).await.len(), 1);
}

async fn an_invite_can_name_an_existing_candidate_instead_of_an_email(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Engineer").await;
    let grace = app
        .candidates()
        .upsert_candidate(UpsertCandidateRequest {
            candidate: Some(Candidate {
                email: "grace@example.com".into(),
                name: "Grace Hopper".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("candidate")
        .into_inner();
    let created = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_id: grace.id.clone(),
            send_email: true,
            external_id: "app-grace".into(),
            ..Default::default()
        })
        .await
        .expect("create by candidate id")
        .into_inner();
    let invite = created.invite.expect("invite");
    assert_eq!(invite.candidate_id, grace.id);
    assert_eq!(invite.candidate_email, "grace@example.com");
    assert_eq!(invite.candidate_name, "Grace Hopper");
    assert_eq!(invite.delivery_status, DeliveryStatus::Queued as i32);
    assert!(!created.link_url.is_empty());
    let candidates = app
        .candidates()
        .list_candidates(ListCandidatesRequest::default())
        .await
        .expect("candidates")
        .into_inner()
        .candidates;
    assert_eq!(candidates.len(), 1, "no second candidate");

    let unknown = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_id: uuid::Uuid::now_v7().to_string(),
            ..Default::default()
        })
        .await
        .expect_err("unknown candidate");
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(all_invites(&app).await.len(), 1);
}

async fn another_organizations_external_ids_and_candidates_are_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Engineer").await;
    let ours = create(&app, with_external_id(&job.id, "ada@example.com", "app-1"))
        .await
        .expect("create");

    let other_key = app.other_organization_key().await;
    let mut theirs = app.invites_as(&other_key);
    let their_job = app
        .jobs_as(&other_key)
        .create_job(CreateJobRequest {
            job: Some(Job {
                title: "Their job".into(),
                assessment_url: "https://assess.example.com/x".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("their job")
        .into_inner();
    let err = theirs
        .lookup_invite(LookupInviteRequest {
            external_id: "app-1".into(),
        })
        .await
        .expect_err("not theirs");
    assert_eq!(err.code(), Code::NotFound);
    let err = theirs
        .create_invite(CreateInviteRequest {
            job_id: their_job.id.clone(),
            candidate_id: ours.candidate_id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("our candidate is not theirs");
    assert_eq!(err.code(), Code::NotFound);
    let listed = theirs
        .list_invites(ListInvitesRequest {
            external_id: "app-1".into(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    assert!(listed.invites.is_empty());

    // Unique per organization: theirs may use the same id.
    let their_invite = theirs
        .create_invite(with_external_id(&their_job.id, "ada@example.com", "app-1"))
        .await
        .expect("same external id in another organization")
        .into_inner()
        .invite
        .expect("invite");
    assert_ne!(their_invite.id, ours.id);
    assert_eq!(lookup(&app, "app-1").await.expect("ours").id, ours.id);
}

async fn bad_external_ids_and_candidate_choices_are_refused_and_write_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Engineer").await;
    let grace = app
        .candidates()
        .upsert_candidate(UpsertCandidateRequest {
            candidate: Some(Candidate {
                email: "grace@example.com".into(),
                ..Default::default()
            }),
        })
        .await
        .expect("candidate")
        .into_inner();
    for bad in ["x".repeat(256), "app\n1".into(), "   ".into()] {
        let err = create(&app, with_external_id(&job.id, "ada@example.com", &bad))
            .await
            .expect_err("bad external id");
        assert_eq!(err.code(), Code::InvalidArgument, "{bad:?}");
        assert_eq!(violated_fields(&err), ["external_id"], "{bad:?}");
        let err = app
            .invites()
            .list_invites(ListInvitesRequest {
                external_id: bad.clone(),
                ..Default::default()
            })
            .await
            .expect_err("bad filter");
        assert_eq!(violated_fields(&err), ["external_id"], "{bad:?}");
        let err = lookup(&app, &bad).await.expect_err("bad lookup");
        assert_eq!(violated_fields(&err), ["external_id"], "{bad:?}");
    }
    assert!(create(
        &app,
        with_external_id(&job.id, "ada@example.com", &"x".repeat(255))
    )
    .await
    .is_ok());
    let err = lookup(&app, "").await.expect_err("empty lookup");
    assert_eq!(violated_fields(&err), ["external_id"]);

    let both = CreateInviteRequest {
        job_id: job.id.clone(),
        candidate_id: grace.id.clone(),
        candidate_email: "grace@example.com".into(),
        candidate_name: "Grace".into(),
        external_id: "app-both".into(),
        ..Default::default()
    };
    let err = create(&app, both).await.expect_err("both");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["candidate_email", "candidate_name"]);
    let err = create(
        &app,
        CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_id: "nope".into(),
            ..Default::default()
        },
    )
    .await
    .expect_err("malformed candidate id");
    assert_eq!(violated_fields(&err), ["candidate_id"]);
    let err = create(
        &app,
        CreateInviteRequest {
            job_id: job.id.clone(),
            external_id: "app-nobody".into(),
            ..Default::default()
        },
    )
    .await
    .expect_err("neither candidate_id nor email nor name");
    assert_eq!(violated_fields(&err), ["candidate_email"]);

    assert_eq!(
        all_invites(&app).await.len(),
        1,
        "only the good create wrote"
    );
    assert!(list_by_external_id(&app, "app-both").await.is_empty());
}
