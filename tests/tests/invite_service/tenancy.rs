//! Organizations never see each other's rows; retried creates return the first answer.
use beckon_proto::invite::v1::*;
use beckon_tests::{on_both_databases, violated_fields, Backend, TestApp};
use tonic::Code;

on_both_databases!(
    one_organizations_key_never_reads_or_changes_anothers_rows,
    a_retried_create_returns_the_first_answer_and_writes_nothing,
    a_request_id_reused_with_another_body_is_refused,
    concurrent_retries_of_one_request_make_one_invite,
);

async fn one_organizations_key_never_reads_or_changes_anothers_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Ours").await;
    let invite = app.create_invite_for(&job.id).await.invite.expect("invite");
    let other_key = app.other_organization_key().await;

    let jobs = app
        .jobs_as(&other_key)
        .list_jobs(ListJobsRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(jobs.jobs.is_empty());
    let invites = app
        .invites_as(&other_key)
        .list_invites(ListInvitesRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(invites.invites.is_empty());

    let mut other = app.invites_as(&other_key);
    let attempts = [
        other
            .revoke_invite(RevokeInviteRequest {
                id: invite.id.clone(),
                reason: String::new(),
            })
            .await
            .map(|_| ()),
        other
            .reissue_invite(ReissueInviteRequest {
                id: invite.id.clone(),
                send_email: false,
            })
            .await
            .map(|_| ()),
        other
            .list_invite_events(ListInviteEventsRequest {
                invite_id: invite.id.clone(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        other
            .create_invite(CreateInviteRequest {
                job_id: job.id.clone(),
                candidate_email: "x@example.com".into(),
                ..Default::default()
            })
            .await
            .map(|_| ()),
        app.jobs_as(&other_key)
            .update_job(UpdateJobRequest {
                job: Some(Job {
                    id: job.id.clone(),
                    title: "Theirs now".into(),
                    ..Default::default()
                }),
                update_mask: None,
            })
            .await
            .map(|_| ()),
    ];
    for attempt in attempts {
        assert_eq!(attempt.expect_err("foreign row").code(), Code::NotFound);
    }
    let ours = app
        .invites()
        .get_invite(GetInviteRequest { id: invite.id })
        .await
        .expect("ours")
        .into_inner();
    assert_eq!(ours.status, InviteStatus::Sent as i32, "untouched");
    let job = app
        .jobs()
        .get_job(GetJobRequest { id: job.id })
        .await
        .expect("job")
        .into_inner();
    assert_eq!(job.title, "Ours");
}

fn invite_request(job_id: &str, request_id: &str) -> CreateInviteRequest {
    CreateInviteRequest {
        job_id: job_id.into(),
        candidate_email: "retry@example.com".into(),
        candidate_name: "Retry".into(),
        request_id: request_id.into(),
        ..Default::default()
    }
}

async fn a_retried_create_returns_the_first_answer_and_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Idempotent").await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let first = app
        .invites()
        .create_invite(invite_request(&job.id, &request_id))
        .await
        .expect("first")
        .into_inner();
    let second = app
        .invites()
        .create_invite(invite_request(&job.id, &request_id))
        .await
        .expect("retry")
        .into_inner();
    assert_eq!(second, first, "the same answer, link included");
    let all = app
        .invites()
        .list_invites(ListInvitesRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(all.invites.len(), 1, "no second row");
    assert_eq!(app.get(&second.link_url).await.status(), 200);

    // Jobs, members and keys honour request ids too.
    let job_request = CreateJobRequest {
        job: Some(Job {
            title: "Once".into(),
            assessment_url: "https://a.example.com".into(),
            ..Default::default()
        }),
        request_id: uuid::Uuid::new_v4().to_string(),
    };
    let a = app.jobs().create_job(job_request.clone()).await.expect("a");
    let b = app.jobs().create_job(job_request).await.expect("b");
    assert_eq!(a.into_inner().id, b.into_inner().id);
    let key_request = CreateApiKeyRequest {
        name: "once".into(),
        scope: ApiKeyScope::Links as i32,
        request_id: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    };
    let a = app
        .organization()
        .create_api_key(key_request.clone())
        .await
        .expect("a")
        .into_inner();
    let b = app
        .organization()
        .create_api_key(key_request)
        .await
        .expect("b")
        .into_inner();
    assert_eq!(a, b, "same key, same secret");
}

async fn a_request_id_reused_with_another_body_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Idempotent").await;
    let request_id = uuid::Uuid::new_v4().to_string();
    app.invites()
        .create_invite(invite_request(&job.id, &request_id))
        .await
        .expect("first");
    let mut changed = invite_request(&job.id, &request_id);
    changed.candidate_email = "someone-else@example.com".into();
    let err = app
        .invites()
        .create_invite(changed)
        .await
        .expect_err("changed body");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&err), ["request_id"]);
    let all = app
        .invites()
        .list_invites(ListInvitesRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(all.invites.len(), 1);
}

async fn concurrent_retries_of_one_request_make_one_invite(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Racy").await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let calls = (0..10).map(|_| {
        let mut invites = app.invites();
        let request = invite_request(&job.id, &request_id);
        tokio::spawn(async move { invites.create_invite(request).await.map(|r| r.into_inner()) })
    });
    let answers: Vec<_> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("create"))
        .collect();
    assert!(answers.iter().all(|a| a == &answers[0]));
    let all = app
        .invites()
        .list_invites(ListInvitesRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert_eq!(all.invites.len(), 1);
}
