//! What the edge answers before any handler: requests over the size limit and bodies that are
//! no protobuf message get a status like every other error (ErrorInfo, no library wording);
//! reflection lists exactly this port's services; a database that cannot be reached answers
//! UNAVAILABLE with retry information and turns health NOT_SERVING while it lasts.
use std::time::Duration;

use beckon_proto::invite::v1::{
    CreateInviteRequest, CreateJobRequest, Job, ListInvitesRequest, ListJobsRequest,
};
use beckon_tests::{
    edge::{
        assert_outage_logged_once, health, listed_services, raw_grpc_call, raw_grpc_web_call,
        reflection_describes, wait_for_health, CuttableProxy, INVALID_WIRE_TYPE,
    },
    error_reason, on_both_databases, postgres_admin_url, Backend, TestApp,
};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

on_both_databases!(
    a_message_over_the_limit_is_resource_exhausted_with_the_limit,
    an_undecodable_body_is_invalid_argument_in_our_words,
    reflection_lists_exactly_the_services_of_this_port,
);

const FIVE_MB: usize = 5 * 1024 * 1024;

async fn a_message_over_the_limit_is_resource_exhausted_with_the_limit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let huge = CreateJobRequest {
        job: Some(Job {
            title: "x".repeat(FIVE_MB),
            ..Job::default()
        }),
        request_id: String::new(),
    };
    // Refused before authentication: with a key or without, the same answer.
    for err in [
        app.jobs().create_job(huge.clone()).await,
        app.jobs_without_key().create_job(huge).await,
    ]
    .map(|answer| answer.expect_err("5 MB is over the limit"))
    {
        assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
        let info = err.get_details_error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "REQUEST_TOO_LARGE");
        assert_eq!(info.domain, "invite.beckon.dev");
        let limit = app.config().max_request_bytes.to_string();
        assert_eq!(info.metadata.get("limit_bytes"), Some(&limit));
        assert!(err.message().contains(&limit), "{}", err.message());
        assert!(
            !err.message().contains("decoded message"),
            "{}",
            err.message()
        );
    }
}

async fn an_undecodable_body_is_invalid_argument_in_our_words(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let path = "/beckon.invite.v1.JobService/CreateJob";
    for status in [
        raw_grpc_call(app.addr, path, INVALID_WIRE_TYPE).await,
        raw_grpc_web_call(app.addr, path, INVALID_WIRE_TYPE).await,
    ] {
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert_eq!(error_reason(&status), "MALFORMED_REQUEST");
        for library_words in ["Protobuf", "wire type", "decode"] {
            assert!(
                !status.message().contains(library_words),
                "{}",
                status.message()
            );
        }
    }
    // Nothing was made.
    let jobs = app
        .jobs()
        .list_jobs(ListJobsRequest::default())
        .await
        .expect("list jobs")
        .into_inner();
    assert!(jobs.jobs.is_empty());
}

async fn reflection_lists_exactly_the_services_of_this_port(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(
        listed_services(app.channel.clone()).await,
        [
            "beckon.invite.v1.AtsService",
            "beckon.invite.v1.CandidateService",
            "beckon.invite.v1.EnrollmentService",
            "beckon.invite.v1.InviteService",
            "beckon.invite.v1.JobService",
            "beckon.invite.v1.OrganizationService",
            "beckon.invite.v1.PublicRegistrationService",
            "beckon.invite.v1.WebhookService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        ]
    );
    assert!(reflection_describes(app.channel.clone(), "beckon.invite.v1.InviteService").await);
    assert!(
        !reflection_describes(app.channel.clone(), "beckon.notify.v1.NotifyService").await,
        "notify-service is not served here"
    );
}

/// PostgreSQL only: a SQLite file cannot become unreachable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_unavailable_and_turns_health_not_serving() {
    let admin_url = postgres_admin_url();
    let target = admin_url
        .split_once('@')
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(host_port, _)| host_port.to_string())
        .expect("BECKON_TEST_POSTGRES_URL is postgres://user@host:port/db");
    beckon_tests::logs::capture();
    let proxy = CuttableProxy::start(target).await;
    let app = TestApp::spawn_with(Backend::Postgres, |config| {
        let url = config.database_url.as_deref().expect("a PostgreSQL URL");
        config.database_url = Some(proxy.url_through(url));
        config.db_acquire_timeout_ms = 1000;
    })
    .await;
    let job = app.create_job("Backend engineer").await;
    let create = CreateInviteRequest {
        job_id: job.id.clone(),
        candidate_email: "ada@example.com".into(),
        candidate_name: "Ada Lovelace".into(),
        request_id: uuid::Uuid::new_v4().to_string(),
        ..CreateInviteRequest::default()
    };

    proxy.cut();
    // Well within the server's own 30 s request timeout: the acquire timeout answers first.
    let mut request = tonic::Request::new(create.clone());
    request.set_timeout(Duration::from_secs(10));
    let err = app
        .invites()
        .create_invite(request)
        .await
        .expect_err("the database is cut off");
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    let info = err.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "DATABASE_UNAVAILABLE");
    assert!(
        err.get_details_retry_info()
            .and_then(|retry| retry.retry_delay)
            .is_some(),
        "RetryInfo with a delay"
    );
    for service in ["", "beckon.invite.v1.InviteService"] {
        wait_for_health(
            app.channel.clone(),
            service,
            ServingStatus::NotServing,
            Duration::from_secs(15),
        )
        .await;
    }
    let ready = app.get(&format!("{}/readyz", app.base_url)).await;
    assert_eq!(ready.status(), 503);
    // Many calls meet the outage; each answers UNAVAILABLE, none logs it.
    let calls = (0..10).map(|_| async {
        app.jobs()
            .list_jobs(ListJobsRequest::default())
            .await
            .expect_err("the database is cut off")
            .code()
    });
    for code in futures::future::join_all(calls).await {
        assert_eq!(code, Code::Unavailable);
    }

    proxy.restore();
    wait_for_health(
        app.channel.clone(),
        "",
        ServingStatus::Serving,
        Duration::from_secs(15),
    )
    .await;
    assert_eq!(
        health(app.channel.clone(), "beckon.invite.v1.InviteService").await,
        ServingStatus::Serving
    );
    assert_eq!(
        app.get(&format!("{}/readyz", app.base_url)).await.status(),
        200
    );

    // The retried call with its request id makes the invite once.
    let first = app
        .invites()
        .create_invite(create.clone())
        .await
        .expect("retry after the outage")
        .into_inner();
    let again = app
        .invites()
        .create_invite(create)
        .await
        .expect("same request id again")
        .into_inner();
    let invite_id = |answer: &beckon_proto::invite::v1::CreateInviteResponse| {
        answer.invite.as_ref().expect("invite").id.clone()
    };
    assert_eq!(invite_id(&first), invite_id(&again));
    let invites = app
        .invites()
        .list_invites(ListInvitesRequest {
            job_id: job.id,
            ..ListInvitesRequest::default()
        })
        .await
        .expect("list invites")
        .into_inner()
        .invites;
    assert_eq!(invites.len(), 1);

    let url = app
        .config()
        .database_url
        .as_deref()
        .expect("a PostgreSQL URL");
    let database = url.rsplit('/').next().expect("a database name");
    assert_outage_logged_once(database, &["invite_service::grpc", "invite_service::links"]);
}
