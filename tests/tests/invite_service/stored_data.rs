//! Stored data the service cannot read is an internal error, answered as such: never a guess,
//! such as UNSPECIFIED or an empty list.
use beckon_proto::invite::v1::*;
use beckon_tests::{on_both_databases, Backend, TestApp};
use invite_service::db::entities::invite;
use tonic::Code;

on_both_databases!(
    an_unknown_stored_status_is_an_internal_error,
    an_unknown_stored_delivery_status_is_an_internal_error,
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
