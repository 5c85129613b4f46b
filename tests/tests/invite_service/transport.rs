//! What every gRPC service needs: health, gRPC-web for browsers with CORS limited to
//! the configured origins.
use beckon_proto::invite::v1::{Caller, GetCallerRequest};
use beckon_tests::{on_both_databases, Backend, TestApp, EXTENSION_ORIGIN};
use prost::Message;
use tonic_health::pb::{
    health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
};

on_both_databases!(
    health_answers_serving,
    grpc_web_works_from_an_allowed_origin_and_not_from_others,
    shutdown_is_graceful,
);

async fn health_answers_serving(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut health = HealthClient::new(app.channel.clone());
    for service in ["", "beckon.invite.v1.InviteService"] {
        let answer = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health")
            .into_inner();
        assert_eq!(answer.status, ServingStatus::Serving as i32, "{service:?}");
    }
}

/// A gRPC-web call as a browser makes it: HTTP/1.1, a framed protobuf body.
async fn grpc_web_get_caller(app: &TestApp, origin: &str) -> reqwest::Response {
    let message = GetCallerRequest {}.encode_to_vec();
    let mut body = vec![0u8];
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(&message);
    app.http
        .post(format!(
            "{}/beckon.invite.v1.OrganizationService/GetCaller",
            app.base_url
        ))
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("origin", origin)
        .header("authorization", format!("Bearer {}", app.admin_key))
        .body(body)
        .send()
        .await
        .expect("gRPC-web call")
}

async fn grpc_web_works_from_an_allowed_origin_and_not_from_others(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let preflight = app
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!(
                "{}/beckon.invite.v1.OrganizationService/GetCaller",
                app.base_url
            ),
        )
        .header("origin", EXTENSION_ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-grpc-web,authorization",
        )
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        EXTENSION_ORIGIN
    );

    let allowed = grpc_web_get_caller(&app, EXTENSION_ORIGIN).await;
    assert_eq!(allowed.status(), 200);
    let headers = allowed.headers().clone();
    assert_eq!(headers["access-control-allow-origin"], EXTENSION_ORIGIN);
    let exposed = headers["access-control-expose-headers"]
        .to_str()
        .expect("ascii")
        .to_lowercase();
    for header in ["grpc-status", "grpc-message", "grpc-status-details-bin"] {
        assert!(exposed.contains(header), "{header} exposed: {exposed}");
    }
    let body = allowed.bytes().await.expect("body");
    assert_eq!(body[0], 0, "first frame is the message");
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    let caller = Caller::decode(&body[5..5 + len]).expect("Caller message");
    assert_eq!(caller.organization_name, "My organization");
    let trailers = String::from_utf8_lossy(&body[5 + len..]);
    assert!(trailers.contains("grpc-status:0"), "{trailers}");

    let refused = grpc_web_get_caller(&app, "https://evil.example.com").await;
    assert!(
        !refused
            .headers()
            .contains_key("access-control-allow-origin"),
        "a browser would refuse to hand this answer to the page"
    );
    let preflight = app
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!(
                "{}/beckon.invite.v1.OrganizationService/GetCaller",
                app.base_url
            ),
        )
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert!(!preflight
        .headers()
        .contains_key("access-control-allow-origin"));
}

async fn shutdown_is_graceful(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    app.create_invite().await;
    app.stop().await;
    let err = app
        .jobs()
        .list_jobs(beckon_proto::invite::v1::ListJobsRequest::default())
        .await
        .expect_err("stopped");
    assert_eq!(err.code(), tonic::Code::Unavailable);
}
