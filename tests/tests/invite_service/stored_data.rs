//! Stored data the service cannot read is an internal error, answered as such: never a guess,
//! such as UNSPECIFIED or an empty list.
use beckon_proto::invite::v1::*;
use beckon_tests::{on_both_databases, Backend, TestApp};
use invite_service::db::entities::invite;
use tonic::Code;

on_both_databases!(
    an_unknown_stored_status_is_an_internal_error,
    an_unknown_stored_delivery_status_is_an_internal_error,
    an_unknown_stored_source_is_an_internal_error,
    labels_that_are_not_a_list_are_an_internal_error,
    assignees_and_labels_are_stored_as_json_lists,
);

async fn an_unknown_stored_status_is_an_internal_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("an invite").id;
    app.overwrite_invite_column(&id, invite::Column::Status, "misplaced")
        .await;

    let status = app
        .invites()
        .get_invite(GetInviteRequest { id: id.clone() })
        .await
        .expect_err("an invite whose status is unknown cannot be answered");
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert_eq!(status.message(), "internal error");
    let listed = app
        .invites()
        .list_invites(ListInvitesRequest::default())
        .await
        .expect_err("a list holding it cannot be answered either");
    assert_eq!(listed.code(), Code::Internal, "{listed:?}");
}

async fn an_unknown_stored_delivery_status_is_an_internal_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("an invite").id;
    app.overwrite_invite_column(&id, invite::Column::DeliveryStatus, "")
        .await;

    let status = app
        .invites()
        .get_invite(GetInviteRequest { id })
        .await
        .expect_err("an invite whose delivery status is unknown cannot be answered");
    assert_eq!(status.code(), Code::Internal, "{status:?}");
}

async fn an_unknown_stored_source_is_an_internal_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("an invite").id;
    app.overwrite_invite_column(&id, invite::Column::Source, "carrier pigeon")
        .await;

    let status = app
        .invites()
        .get_invite(GetInviteRequest { id })
        .await
        .expect_err("an invite whose source is unknown cannot be answered");
    assert_eq!(status.code(), Code::Internal, "{status:?}");
}

async fn labels_that_are_not_a_list_are_an_internal_error(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    let id = created.invite.expect("an invite").id;
    app.overwrite_invite_column(
        &id,
        invite::Column::Labels,
        serde_json::json!({"not": "a list"}),
    )
    .await;

    let status = app
        .invites()
        .get_invite(GetInviteRequest { id })
        .await
        .expect_err("labels that are not a list are not read as no labels");
    assert_eq!(status.code(), Code::Internal, "{status:?}");
}

/// What a create writes is read back as it was, through the writer's multi-row statement.
async fn assignees_and_labels_are_stored_as_json_lists(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Backend engineer").await;
    let member = app
        .organization()
        .create_member(CreateMemberRequest {
            member: Some(Member {
                email: "grace@example.com".into(),
                name: "Grace Hopper".into(),
                ..Member::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create member")
        .into_inner();
    let created = app
        .invites()
        .create_invite(CreateInviteRequest {
            job_id: job.id,
            candidate_email: "ada@example.com".into(),
            assignee_ids: vec![member.id.clone()],
            labels: vec!["spring".into(), "backend \"senior\"".into()],
            ..CreateInviteRequest::default()
        })
        .await
        .expect("create invite")
        .into_inner()
        .invite
        .expect("an invite");
    let read = app
        .invites()
        .get_invite(GetInviteRequest { id: created.id })
        .await
        .expect("get invite")
        .into_inner();
    assert_eq!(read.assignee_ids, [member.id]);
    let mut labels = read.labels;
    labels.sort();
    assert_eq!(labels, ["backend \"senior\"", "spring"]);
}
