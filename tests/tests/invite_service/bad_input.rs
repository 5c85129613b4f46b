//! Bad input gets a precise status with a violation per bad field, and writes nothing.
use beckon_proto::invite::v1::*;
use beckon_tests::{error_reason, on_both_databases, violated_fields, Backend, TestApp};
use tonic::Code;

on_both_databases!(
    every_bad_field_of_a_job_is_named_at_once,
    bad_invite_fields_are_named_and_nothing_is_written,
    bad_list_parameters_are_refused,
    missing_and_other_organizations_rows_are_the_same_not_found,
    calls_without_a_valid_key_are_unauthenticated,
    keys_only_do_what_their_scope_allows,
);

async fn every_bad_field_of_a_job_is_named_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let err = app
        .jobs()
        .create_job(CreateJobRequest {
            job: Some(Job {
                title: "x".repeat(201),
                assessment_url: "javascript:alert(1)".into(),
                state: 42,
                ..Default::default()
            }),
            request_id: "not-a-uuid".into(),
        })
        .await
        .expect_err("bad job");
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(error_reason(&err), "INVALID_FIELDS");
    let mut fields = violated_fields(&err);
    fields.sort();
    assert_eq!(
        fields,
        ["job.assessment_url", "job.state", "job.title", "request_id"]
    );

    let err = app
        .jobs()
        .create_job(CreateJobRequest {
            job: Some(Job {
                title: "Engineer\r\nBcc: everyone@example.com".into(),
                assessment_url: "https://ok.example.com".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("CR/LF in a title");
    assert_eq!(violated_fields(&err), ["job.title"]);

    let err = app
        .jobs()
        .create_job(CreateJobRequest {
            job: Some(Job {
                title: "   ".into(),
                assessment_url: "https://ok.example.com".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("blank title");
    assert_eq!(violated_fields(&err), ["job.title"]);
    let listed = app
        .jobs()
        .list_jobs(ListJobsRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(listed.jobs.is_empty(), "nothing written");
}

async fn bad_invite_fields_are_named_and_nothing_is_written(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Engineer").await;
    let err = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_email: "not an email".into(),
            candidate_name: "Eve\nBcc: x@example.com".into(),
            labels: vec![String::new()],
            assignee_ids: vec!["nope".into()],
            ttl: Some(prost_types::Duration {
                seconds: -5,
                nanos: 0,
            }),
            source: "fax".into(),
            ..Default::default()
        })
        .await
        .expect_err("bad invite");
    assert_eq!(err.code(), Code::InvalidArgument);
    let mut fields = violated_fields(&err);
    fields.sort();
    assert_eq!(
        fields,
        [
            "assignee_ids[0]",
            "candidate_email",
            "candidate_name",
            "labels[0]",
            "source",
            "ttl"
        ]
    );

    let err = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_name: "No Email".into(),
            send_email: true,
            ..Default::default()
        })
        .await
        .expect_err("email needed to send");
    assert_eq!(violated_fields(&err), ["candidate_email"]);

    let err = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_email: "ok@example.com".into(),
            assignee_ids: vec![uuid::Uuid::now_v7().to_string()],
            ..Default::default()
        })
        .await
        .expect_err("unknown assignee");
    assert_eq!(violated_fields(&err), ["assignee_ids[0]"]);

    let err = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: uuid::Uuid::now_v7().to_string(),
            candidate_email: "ok@example.com".into(),
            ..Default::default()
        })
        .await
        .expect_err("unknown job");
    assert_eq!(err.code(), Code::NotFound);

    let listed = app
        .invites()
        .list_invites(ListInvitesRequest::default())
        .await
        .expect("list")
        .into_inner();
    assert!(listed.invites.is_empty(), "nothing written");
}

async fn bad_list_parameters_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let err = app
        .jobs()
        .list_jobs(ListJobsRequest {
            page_size: 5000,
            page_token: "garbage!".into(),
            state: 9,
        })
        .await
        .expect_err("bad list");
    let mut fields = violated_fields(&err);
    fields.sort();
    assert_eq!(fields, ["page_size", "page_token", "state"]);
    let err = app
        .jobs()
        .list_jobs(ListJobsRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .expect_err("negative page size");
    assert_eq!(violated_fields(&err), ["page_size"]);

    // A token made for one filter is refused for another.
    for i in 0..3 {
        app.create_job(&format!("Job {i}")).await;
    }
    let first = app
        .jobs()
        .list_jobs(ListJobsRequest {
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    let err = app
        .jobs()
        .list_jobs(ListJobsRequest {
            page_size: 1,
            page_token: first.next_page_token,
            state: JobState::Closed as i32,
        })
        .await
        .expect_err("filter changed");
    assert_eq!(violated_fields(&err), ["page_token"]);

    let err = app
        .invites()
        .list_invites(ListInvitesRequest {
            status: 99,
            candidate_email: "@@".into(),
            ..Default::default()
        })
        .await
        .expect_err("bad filters");
    let mut fields = violated_fields(&err);
    fields.sort();
    assert_eq!(fields, ["candidate_email", "status"]);
}

async fn missing_and_other_organizations_rows_are_the_same_not_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let theirs = app.create_invite().await.invite.expect("invite");
    let other_key = app.other_organization_key().await;
    let mut other = app.invites_as(&other_key);
    let foreign = other
        .get_invite(GetInviteRequest {
            id: theirs.id.clone(),
        })
        .await
        .expect_err("another organization's");
    let absent = other
        .get_invite(GetInviteRequest {
            id: uuid::Uuid::now_v7().to_string(),
        })
        .await
        .expect_err("absent");
    assert_eq!(foreign.code(), Code::NotFound);
    assert_eq!(foreign.message(), absent.message());
    assert!(foreign.message().contains("or it might not exist"));

    let malformed = other
        .get_invite(GetInviteRequest { id: "42".into() })
        .await
        .expect_err("malformed id");
    assert_eq!(malformed.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&malformed), ["id"]);
}

async fn calls_without_a_valid_key_are_unauthenticated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, _, almost) = {
        let key = app.admin_key.clone();
        let (head, tail) = key.split_at(key.len() - 1);
        let flipped = if tail == "A" { "B" } else { "A" };
        (
            head.to_string(),
            tail.to_string(),
            format!("{head}{flipped}"),
        )
    };
    for key in ["", "bk_nope", "Basic abc", almost.as_str()] {
        let err = if key.is_empty() {
            app.jobs_without_key()
                .list_jobs(ListJobsRequest::default())
                .await
                .expect_err("no key")
        } else {
            app.jobs_as(key)
                .list_jobs(ListJobsRequest::default())
                .await
                .expect_err("bad key")
        };
        assert_eq!(err.code(), Code::Unauthenticated, "key {key:?}");
        let expected = if key.is_empty() {
            "API_KEY_MISSING"
        } else {
            "API_KEY_INVALID"
        };
        assert_eq!(error_reason(&err), expected, "key {key:?}");
    }
}

async fn keys_only_do_what_their_scope_allows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Engineer").await;
    let links = app.key_with_scope(ApiKeyScope::Links).await;
    let invites_key = app.key_with_scope(ApiKeyScope::Invites).await;

    // The extension's key makes and reads links...
    let created = app
        .invites_as(&links)
        .create_invite(CreateInviteRequest {
            job_id: job.id.clone(),
            candidate_name: "From the extension".into(),
            source: "extension".into(),
            ..Default::default()
        })
        .await
        .expect("links key creates invites")
        .into_inner();
    let invite = created.invite.expect("invite");
    assert_eq!(invite.source, "extension");
    app.jobs_as(&links)
        .list_jobs(ListJobsRequest::default())
        .await
        .expect("links key lists jobs");

    // ...but changes nothing else.
    let err = app
        .invites_as(&links)
        .revoke_invite(RevokeInviteRequest {
            id: invite.id.clone(),
            reason: String::new(),
        })
        .await
        .expect_err("links key cannot revoke");
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(error_reason(&err), "SCOPE_INSUFFICIENT");
    let err = app
        .jobs_as(&links)
        .create_job(CreateJobRequest {
            job: Some(Job {
                title: "Nope".into(),
                assessment_url: "https://x.example.com".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect_err("links key cannot make jobs");
    assert_eq!(err.code(), Code::PermissionDenied);

    // The invites scope runs invites but not the organization.
    app.invites_as(&invites_key)
        .revoke_invite(RevokeInviteRequest {
            id: invite.id,
            reason: String::new(),
        })
        .await
        .expect("invites key revokes");
    let err = app
        .organization_as(&invites_key)
        .create_api_key(CreateApiKeyRequest {
            name: "escalate".into(),
            scope: ApiKeyScope::Admin as i32,
            request_id: String::new(),
            ..Default::default()
        })
        .await
        .expect_err("invites key cannot make keys");
    assert_eq!(err.code(), Code::PermissionDenied);
}
