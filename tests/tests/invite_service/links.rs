//! The candidate's link pages.
use beckon_proto::invite::v1::*;
use beckon_tests::{on_both_databases, Backend, TestApp};
use invite_service::db::entities::invite;
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter};

on_both_databases!(
    the_link_page_shows_the_job_and_candidate_and_counts_every_open,
    unknown_revoked_and_expired_links_look_exactly_the_same,
    link_pages_leak_nothing_through_referrer_or_cache,
);

async fn the_link_page_shows_the_job_and_candidate_and_counts_every_open(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let job = app.create_job("Site <Reliability> Engineer").await;
    let created = app.create_invite_for(&job.id).await;
    let id = created.invite.expect("invite").id;
    let page = app.get(&created.link_url).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("body");
    assert!(
        html.contains("Site &lt;Reliability&gt; Engineer"),
        "escaped title: {html}"
    );
    assert!(html.contains("Ada Lovelace"));
    assert!(html.contains(">Start<"));
    app.get(&created.link_url).await;
    app.get(&created.link_url).await;

    let invite = app
        .invites()
        .get_invite(GetInviteRequest { id: id.clone() })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(invite.open_count, 3);
    assert_eq!(invite.status, InviteStatus::Opened as i32);
    assert!(invite.first_open_time.is_some());
    let opens = app
        .invites()
        .list_invite_events(ListInviteEventsRequest {
            invite_id: id,
            ..Default::default()
        })
        .await
        .expect("events")
        .into_inner()
        .events
        .into_iter()
        .filter(|e| e.kind == "opened")
        .count();
    assert_eq!(opens, 3);
}

async fn unknown_revoked_and_expired_links_look_exactly_the_same(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let revoked = app.create_invite().await;
    app.invites()
        .revoke_invite(RevokeInviteRequest {
            id: revoked.invite.as_ref().expect("invite").id.clone(),
            reason: String::new(),
        })
        .await
        .expect("revoke");
    let expired = app.create_invite().await;
    let expired_id = expired.invite.as_ref().expect("invite").id.clone();
    // Time cannot be hurried through the API: move the expiry into the past directly.
    invite::Entity::update_many()
        .col_expr(
            invite::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(invite::Column::Id.eq(uuid::Uuid::parse_str(&expired_id).expect("uuid")))
        .exec(&app.store().write)
        .await
        .expect("backdate expiry");

    let unknown = format!("{}/i/{}", app.base_url, "A".repeat(43));
    let malformed = format!("{}/i/{}", app.base_url, "nope");
    let mut answers = Vec::new();
    for url in [
        unknown,
        malformed,
        revoked.link_url.clone(),
        expired.link_url.clone(),
    ] {
        let response = app.get(&url).await;
        let status = response.status();
        let content_type = response.headers()["content-type"].clone();
        let body = response.bytes().await.expect("body");
        answers.push((status, content_type, body));
        let start = app.post(&format!("{url}/start")).await;
        assert_eq!(start.status(), 404);
    }
    assert_eq!(answers[0].0, 404);
    for answer in &answers[1..] {
        assert_eq!(answer, &answers[0], "byte for byte the same");
    }
    let invite = app
        .invites()
        .get_invite(GetInviteRequest { id: expired_id })
        .await
        .expect("get")
        .into_inner();
    assert_eq!(
        invite.status,
        InviteStatus::Expired as i32,
        "expired on access"
    );
}

async fn link_pages_leak_nothing_through_referrer_or_cache(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let created = app.create_invite().await;
    for response in [
        app.get(&created.link_url).await,
        app.get(&format!("{}/i/unknown", app.base_url)).await,
        app.post(&format!("{}/start", created.link_url)).await,
    ] {
        assert_eq!(response.headers()["referrer-policy"], "no-referrer");
        assert_eq!(response.headers()["cache-control"], "no-store");
    }
}
