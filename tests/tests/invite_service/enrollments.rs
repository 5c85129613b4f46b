//! Enrolment links for the browser extension: an admin makes a one-time code for a member, and
//! EnrollmentService.RedeemEnrollment (no key) trades it, once and before it expires, for a
//! `links` key of that member. Neither the code nor the key it becomes rests anywhere in clear.
use beckon_proto::invite::v1::{enrollment_service_client::EnrollmentServiceClient, *};
use beckon_tests::{on_both_databases, Backend, TestApp};
use tonic::Code;

use super::at_rest::{assert_no_secret_in, databases_at_rest, Shown};

on_both_databases!(
    a_code_is_traded_once_for_a_links_key_of_its_member_and_rests_nowhere,
    concurrent_trades_of_one_code_make_one_key,
    a_lost_answer_is_asked_for_again_with_the_same_request_id,
    an_expired_code_is_refused_like_an_unknown_one,
    bad_enrolment_requests_are_refused_and_write_nothing,
);

async fn member(app: &TestApp, email: &str) -> String {
    app.organization()
        .create_member(CreateMemberRequest {
            member: Some(Member {
                email: email.into(),
                name: "Rita Recruiter".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create member")
        .into_inner()
        .id
}

async fn enrollment(app: &TestApp, member_id: &str) -> CreateEnrollmentResponse {
    app.organization()
        .create_enrollment(CreateEnrollmentRequest {
            member_id: member_id.into(),
            ..Default::default()
        })
        .await
        .expect("create enrollment")
        .into_inner()
}

fn enrollments(app: &TestApp) -> EnrollmentServiceClient<tonic::transport::Channel> {
    EnrollmentServiceClient::new(app.channel.clone())
}

async fn redeem(app: &TestApp, code: &str) -> Result<RedeemEnrollmentResponse, tonic::Status> {
    redeem_as(app, code, "").await
}

async fn redeem_as(
    app: &TestApp,
    code: &str,
    request_id: &str,
) -> Result<RedeemEnrollmentResponse, tonic::Status> {
    enrollments(app)
        .redeem_enrollment(RedeemEnrollmentRequest {
            code: code.into(),
            request_id: request_id.into(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// A key's secret part: `bk_<prefix>_<secret>`, where the secret may hold `_` too.
fn secret_part(key: &str) -> String {
    key.strip_prefix("bk_")
        .and_then(|rest| rest.split_once('_'))
        .map(|(_, secret)| secret.to_string())
        .expect("a key bk_<prefix>_<secret>")
}

/// Moves every enrolment's expiry a minute into the past, as time passing would.
async fn backdate_enrollments(app: &TestApp) {
    use invite_service::db::entities::enrollment;
    use sea_orm::{sea_query::Expr, Database, EntityTrait};

    let db = Database::connect(app.config().database_url())
        .await
        .expect("connect to the test database");
    let changed = enrollment::Entity::update_many()
        .col_expr(
            enrollment::Column::ExpiresAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(1)),
        )
        .exec(&db)
        .await
        .expect("backdate the expiry")
        .rows_affected;
    assert_eq!(changed, 1, "one enrolment");
    db.close().await.expect("close");
}

async fn keys_named(app: &TestApp, name: &str) -> Vec<ApiKey> {
    app.organization()
        .list_api_keys(ListApiKeysRequest::default())
        .await
        .expect("list keys")
        .into_inner()
        .api_keys
        .into_iter()
        .filter(|k| k.name == name)
        .collect()
}

async fn a_code_is_traded_once_for_a_links_key_of_its_member_and_rests_nowhere(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let member_id = member(&app, "rita@example.com").await;
    let made = enrollment(&app, &member_id).await;
    assert!(
        made.code.starts_with("be_") && made.code.len() == 46,
        "{}",
        made.code
    );
    let base = &app.config().public_base_url;
    assert_eq!(made.url, format!("{base}/enroll#{}", made.code));
    let details = made.enrollment.expect("the enrollment");
    assert_eq!(details.member_id, member_id);
    assert_eq!(details.key_name, "Browser extension");
    let expires = details.expire_time.expect("an expiry").seconds;
    let in_72_hours = chrono::Utc::now().timestamp() + 72 * 3600;
    assert!(
        (expires - in_72_hours).abs() < 60,
        "valid 72 hours by default"
    );

    // The whole pasted link works as well as the bare code.
    let redeemed = redeem(&app, &made.url).await.expect("redeem");
    let key = redeemed.api_key.expect("the key");
    assert_eq!(key.scope, ApiKeyScope::Links as i32);
    assert_eq!(key.member_id, member_id);
    assert!(redeemed.secret.starts_with(&key.prefix));
    assert!(!redeemed.organization_name.is_empty());

    // The key works, as its member's links key.
    let caller = app
        .organization_as(&redeemed.secret)
        .get_caller(GetCallerRequest {})
        .await
        .expect("the new key calls")
        .into_inner();
    assert_eq!(caller.api_key.expect("key").id, key.id);

    // Once only.
    let again = redeem(&app, &made.code).await.expect_err("used");
    assert_eq!(again.code(), Code::NotFound);
    assert_eq!(keys_named(&app, "Browser extension").await.len(), 1);

    let secrets = [
        Shown {
            what: "the enrolment code".into(),
            value: made.code.trim_start_matches("be_").into(),
        },
        Shown {
            what: "the key it became (its secret part)".into(),
            value: secret_part(&redeemed.secret),
        },
    ];
    assert_no_secret_in(
        &databases_at_rest(&app, false).await,
        &secrets,
        "after the trade",
    );
    app.stop().await;
}

async fn concurrent_trades_of_one_code_make_one_key(backend: Backend) {
    // No per-address limit in the way: every trade reaches the database.
    let mut app = TestApp::spawn_with(backend, |config| {
        config.public_rate_per_address =
            invite_service::config::Rate::new(1000, invite_service::config::Period::Second, 100);
    })
    .await;
    let member_id = member(&app, "rita@example.com").await;
    let made = enrollment(&app, &member_id).await;
    let trades = (0..12).map(|_| {
        let app = &app;
        let code = made.code.clone();
        async move { redeem(app, &code).await }
    });
    let results = futures::future::join_all(trades).await;
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|status| status.code() == Code::NotFound));
    assert_eq!(keys_named(&app, "Browser extension").await.len(), 1);
    app.stop().await;
}

async fn a_lost_answer_is_asked_for_again_with_the_same_request_id(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let member_id = member(&app, "rita@example.com").await;
    let create = CreateEnrollmentRequest {
        member_id: member_id.clone(),
        request_id: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    };
    let mut organization = app.organization();
    let first = organization
        .create_enrollment(create.clone())
        .await
        .expect("create")
        .into_inner();
    let again = organization
        .create_enrollment(create)
        .await
        .expect("create again")
        .into_inner();
    assert_eq!(again, first, "a retried create returns the same link");

    let trade = uuid::Uuid::new_v4().to_string();
    let traded = redeem_as(&app, &first.code, &trade).await.expect("trade");
    let retried = redeem_as(&app, &first.code, &trade).await.expect("retry");
    assert_eq!(retried, traded, "a retried trade returns the same key");
    let other = redeem_as(&app, &first.code, &uuid::Uuid::new_v4().to_string())
        .await
        .expect_err("another request");
    assert_eq!(other.code(), Code::NotFound);
    assert_eq!(keys_named(&app, "Browser extension").await.len(), 1);
    app.stop().await;
}

async fn an_expired_code_is_refused_like_an_unknown_one(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let member_id = member(&app, "rita@example.com").await;
    let made = enrollment(&app, &member_id).await;
    backdate_enrollments(&app).await;

    let expired = redeem(&app, &made.code).await.expect_err("expired");
    let unknown = redeem(&app, "be_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await
        .expect_err("unknown");
    assert_eq!(expired.code(), Code::NotFound);
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(
        expired.message(),
        unknown.message(),
        "the same answer for each"
    );
    assert!(keys_named(&app, "Browser extension").await.is_empty());
    app.stop().await;
}

async fn bad_enrolment_requests_are_refused_and_write_nothing(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let member_id = member(&app, "rita@example.com").await;
    let mut organization = app.organization();
    let refused = |request: CreateEnrollmentRequest| {
        let mut organization = organization.clone();
        async move {
            organization
                .create_enrollment(request)
                .await
                .expect_err("refused")
        }
    };
    let too_long = refused(CreateEnrollmentRequest {
        member_id: member_id.clone(),
        valid_hours: 169,
        ..Default::default()
    })
    .await;
    assert_eq!(too_long.code(), Code::InvalidArgument);
    assert!(too_long.message().contains("valid_hours"), "{too_long:?}");
    // A member of another organization is nobody here.
    let other_key = app.other_organization_key().await;
    let stranger_id = app
        .organization_as(&other_key)
        .create_member(CreateMemberRequest {
            member: Some(Member {
                email: "stranger@example.com".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("a member elsewhere")
        .into_inner()
        .id;
    for member_id in [stranger_id, uuid::Uuid::now_v7().to_string()] {
        let stranger = refused(CreateEnrollmentRequest {
            member_id,
            ..Default::default()
        })
        .await;
        assert_eq!(stranger.code(), Code::InvalidArgument);
        assert!(stranger.message().contains("member_id"), "{stranger:?}");
    }

    // Only admins make them: a links key may not.
    let links = organization
        .create_api_key(CreateApiKeyRequest {
            name: "ext".into(),
            scope: ApiKeyScope::Links as i32,
            ..Default::default()
        })
        .await
        .expect("links key")
        .into_inner()
        .secret;
    let denied = app
        .organization_as(&links)
        .create_enrollment(CreateEnrollmentRequest {
            member_id: member_id.clone(),
            ..Default::default()
        })
        .await
        .expect_err("not an admin");
    assert_eq!(denied.code(), Code::PermissionDenied);

    let body = "A".repeat(43);
    for code in [
        String::new(),
        "bk_0123456789ab_notacode".into(),
        "be_".into(),
        "be_short".into(),
        format!("be_{}", &body[1..]),
        format!("be_{body}A"),
        format!("be_{}!", &body[1..]),
    ] {
        let status = redeem(&app, &code).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{code:?}: {status:?}");
    }
    assert!(keys_named(&app, "Browser extension").await.is_empty());
    app.stop().await;
}
