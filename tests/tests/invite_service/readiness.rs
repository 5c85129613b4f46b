//! Readiness means something: with `redis_url` set, a Redis that cannot be reached makes the
//! server not ready (gRPC health NOT_SERVING, `/readyz` 503 naming it) while liveness
//! (`/healthz`) stays up; Redis back, it is ready again. notify-service on its Redis backend
//! the same. Redis is a server of the test's own, stopped and started on the same port.
use std::time::Duration;

use beckon_tests::{
    notify::{NotifyApp, QueueBackend},
    on_both_databases,
    redis_server::{free_port, OwnRedis},
    smtp::SmtpServer,
    Backend, TestApp,
};
use tonic::transport::Channel;
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};

on_both_databases!(an_unreachable_redis_makes_the_services_not_ready);

/// Long enough for two failed pings a second apart, and a margin for a loaded machine.
const NOTICED_WITHIN: Duration = Duration::from_secs(15);

async fn health(channel: &Channel, service: &str) -> i32 {
    HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .expect("health answers")
        .into_inner()
        .status
}

/// Reads `read` until it gives `wanted`, for at most `NOTICED_WITHIN`.
async fn until<T: PartialEq + std::fmt::Debug>(wanted: T, read: impl AsyncFn() -> T) {
    let deadline = tokio::time::Instant::now() + NOTICED_WITHIN;
    loop {
        let now = read().await;
        if now == wanted {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "still {now:?}, not {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn an_unreachable_redis_makes_the_services_not_ready(backend: Backend) {
    let port = free_port();
    let redis = OwnRedis::start(port);
    let url = redis.url();
    let app = TestApp::spawn_with(backend, |config| {
        config.redis_url = Some(url.clone());
        config.redis_key_prefix = format!("readiness-{}", uuid::Uuid::new_v4().simple());
    })
    .await;
    let smtp = SmtpServer::start().await;
    let notify = NotifyApp::spawn_with(QueueBackend::Redis, &smtp, |config| {
        config.redis_url = Some(url.clone());
    })
    .await;
    let notify_channel = Channel::from_shared(format!("http://{}", notify.addr))
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let readyz = format!("{}/readyz", app.base_url);
    let healthz = format!("{}/healthz", app.base_url);
    let probe = async || {
        let answer = app.get(&readyz).await;
        (
            answer.status().as_u16(),
            answer.text().await.unwrap_or_default(),
        )
    };
    assert_eq!(probe().await, (200, "ready".to_string()));
    let serving = ServingStatus::Serving as i32;
    let not_serving = ServingStatus::NotServing as i32;
    assert_eq!(health(&app.channel, "").await, serving);

    redis.kill();
    until((503, "redis unavailable".to_string()), probe).await;
    for service in ["", "beckon.invite.v1.InviteService"] {
        assert_eq!(
            health(&app.channel, service).await,
            not_serving,
            "{service}"
        );
    }
    until(not_serving, async || {
        health(&notify_channel, "beckon.notify.v1.NotifyService").await
    })
    .await;
    // Alive all the while: an orchestrator must not restart it for a dependency's outage.
    assert_eq!(app.get(&healthz).await.status(), 200);

    let _back = OwnRedis::start(port);
    until((200, "ready".to_string()), probe).await;
    until(serving, async || health(&app.channel, "").await).await;
    until(serving, async || health(&notify_channel, "").await).await;
}
