//! What notify-service's edge answers before any handler: requests over the size limit and
//! bodies that are no protobuf message get a status like every other error; reflection lists
//! exactly this port's services; a database that cannot be reached answers UNAVAILABLE with
//! retry information and turns health NOT_SERVING while it lasts.
use std::time::Duration;

use beckon_proto::notify::v1::*;
use beckon_tests::{
    edge::{
        assert_outage_logged_once, health, listed_services, raw_grpc_call, reflection_describes,
        wait_for_health, CuttableProxy, INVALID_WIRE_TYPE,
    },
    error_reason, fresh_postgres_database,
    notify::{NotifyApp, QueueBackend},
    postgres_admin_url,
    smtp::{self, SmtpServer},
};
use tonic::{transport::Channel, Code};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

use crate::delivery::invite_message;

async fn channel(app: &NotifyApp) -> Channel {
    Channel::from_shared(format!("http://{}", app.addr))
        .expect("url")
        .connect()
        .await
        .expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_limit_is_resource_exhausted_with_the_limit() {
    let smtp = SmtpServer::start().await;
    let mut app = NotifyApp::spawn(QueueBackend::InProcess, &smtp).await;
    let mut huge = invite_message("huge-1", "ada@example.com");
    huge.variables
        .insert("custom_message".into(), "x".repeat(5 * 1024 * 1024));
    let err = app
        .client
        .enqueue_messages(EnqueueMessagesRequest {
            messages: vec![huge],
        })
        .await
        .expect_err("5 MB is over the limit");
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    let info = err.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "REQUEST_TOO_LARGE");
    assert_eq!(info.domain, "notify.beckon.dev");
    let limit = app.config.max_request_bytes.to_string();
    assert_eq!(info.metadata.get("limit_bytes"), Some(&limit));
    assert!(
        !err.message().contains("decoded message"),
        "{}",
        err.message()
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_body_is_invalid_argument_in_our_words() {
    let smtp = SmtpServer::start().await;
    let mut app = NotifyApp::spawn(QueueBackend::InProcess, &smtp).await;
    let status = raw_grpc_call(
        app.addr,
        "/beckon.notify.v1.NotifyService/EnqueueMessages",
        INVALID_WIRE_TYPE,
    )
    .await;
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(error_reason(&status), "MALFORMED_REQUEST");
    for library_words in ["Protobuf", "wire type", "decode"] {
        assert!(
            !status.message().contains(library_words),
            "{}",
            status.message()
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_exactly_the_services_of_this_port() {
    let smtp = SmtpServer::start().await;
    let mut app = NotifyApp::spawn(QueueBackend::InProcess, &smtp).await;
    let channel = channel(&app).await;
    assert_eq!(
        listed_services(channel.clone()).await,
        [
            "beckon.notify.v1.NotifyService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
        ]
    );
    assert!(reflection_describes(channel.clone(), "beckon.notify.v1.NotifyService").await);
    assert!(
        !reflection_describes(channel, "beckon.invite.v1.InviteService").await,
        "invite-service is not served here"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_unavailable_and_turns_health_not_serving() {
    let target = postgres_admin_url()
        .split_once('@')
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(host_port, _)| host_port.to_string())
        .expect("BECKON_TEST_POSTGRES_URL is postgres://user@host:port/db");
    beckon_tests::logs::capture();
    let proxy = CuttableProxy::start(target).await;
    let database_url = proxy.url_through(&fresh_postgres_database().await);
    let database = database_url
        .rsplit('/')
        .next()
        .expect("a database name")
        .to_string();
    let smtp = SmtpServer::start().await;
    let mut app = NotifyApp::spawn_with(QueueBackend::InProcess, &smtp, |config| {
        config.database_url = Some(database_url);
        config.db_acquire_timeout_ms = 1000;
    })
    .await;
    let channel = channel(&app).await;
    let message = invite_message("outage-1", "ada@example.com");
    // Something for the workers to meet during the outage too.
    app.client
        .enqueue_messages(EnqueueMessagesRequest {
            messages: vec![invite_message("before-1", "grace@example.com")],
        })
        .await
        .expect("enqueue before the outage");

    proxy.cut();
    let mut request = tonic::Request::new(EnqueueMessagesRequest {
        messages: vec![message.clone()],
    });
    request.set_timeout(Duration::from_secs(10));
    let err = app
        .client
        .enqueue_messages(request)
        .await
        .expect_err("the database is cut off");
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert_eq!(error_reason(&err), "DATABASE_UNAVAILABLE");
    assert!(
        err.get_details_retry_info()
            .and_then(|retry| retry.retry_delay)
            .is_some(),
        "RetryInfo with a delay"
    );
    for service in ["", "beckon.notify.v1.NotifyService"] {
        wait_for_health(
            channel.clone(),
            service,
            ServingStatus::NotServing,
            Duration::from_secs(15),
        )
        .await;
    }
    // Many calls meet the outage; each answers UNAVAILABLE, none logs it.
    for _ in 0..5 {
        let err = app
            .client
            .list_deliveries(ListDeliveriesRequest::default())
            .await
            .expect_err("the database is cut off");
        assert_eq!(err.code(), Code::Unavailable);
    }

    proxy.restore();
    wait_for_health(
        channel.clone(),
        "",
        ServingStatus::Serving,
        Duration::from_secs(15),
    )
    .await;
    assert_eq!(
        health(channel, "beckon.notify.v1.NotifyService").await,
        ServingStatus::Serving
    );

    // The retried call with its idempotency key makes one delivery and sends one email.
    let retry = EnqueueMessagesRequest {
        messages: vec![message],
    };
    let first = app
        .client
        .enqueue_messages(retry.clone())
        .await
        .expect("retry after the outage")
        .into_inner();
    let again = app
        .client
        .enqueue_messages(retry)
        .await
        .expect("same key again")
        .into_inner();
    assert_eq!(first.deliveries[0].id, again.deliveries[0].id);
    smtp.wait_for(Duration::from_secs(20), |mail| {
        smtp::to("ada@example.com")(mail) && smtp::to("grace@example.com")(mail)
    })
    .await;
    let listed = app
        .client
        .list_deliveries(ListDeliveriesRequest::default())
        .await
        .expect("list deliveries")
        .into_inner();
    assert_eq!(listed.deliveries.len(), 2);
    app.stop().await;
    let to_ada = smtp
        .received()
        .iter()
        .filter(|mail| mail.to.iter().any(|to| to == "ada@example.com"))
        .count();
    assert_eq!(to_ada, 1, "one email for the retried message");
    assert_outage_logged_once(&database, &["notify_service::grpc"]);
}
