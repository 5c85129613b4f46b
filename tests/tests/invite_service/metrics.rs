//! invite-service's Prometheus metrics, scraped as Prometheus would and read with the
//! Prometheus project's own parser: the counters move exactly as the requests did.
use beckon_proto::invite::v1::*;
use beckon_tests::{
    metrics::{scrape, value, Sample},
    on_both_databases, Backend, TestApp,
};

on_both_databases!(the_counters_move_as_the_requests_did,);

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

async fn the_counters_move_as_the_requests_did(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.metrics_addr = Some("127.0.0.1:0".parse().expect("address"));
        // An endpoint on a closed loopback port: every attempt is a retry.
        config.webhook_allow_http = true;
        config.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
        // Only the test's own round tries the endpoint, so it knows how many attempts there were.
        config.webhook_interval_ms = 60_000;
    })
    .await;
    let addr = app.metrics_addr().expect("metrics served");
    assert_ne!(addr, app.addr, "not on the public port");
    app.webhooks()
        .create_webhook_endpoint(CreateWebhookEndpointRequest {
            endpoint: Some(WebhookEndpoint {
                url: "http://127.0.0.1:9/hooks".into(),
                event_types: vec!["invite.created".into()],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("endpoint");
    let job = app.create_job("Backend engineer").await;
    let mut links = Vec::new();
    for n in 0..5 {
        let created = app
            .invites()
            .create_invite(CreateInviteRequest {
                job_id: job.id.clone(),
                candidate_email: format!("c{n}@example.com"),
                candidate_name: format!("Candidate {n}"),
                ..Default::default()
            })
            .await
            .expect("create")
            .into_inner();
        links.push(created.link_url);
    }
    for _ in 0..2 {
        let refused = app
            .invites()
            .create_invite(CreateInviteRequest {
                job_id: "not an id".into(),
                ..Default::default()
            })
            .await
            .expect_err("invalid");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    }
    for link in &links[..3] {
        assert_eq!(app.get(link).await.status(), 200);
    }
    for dead in ["nope", "also-nope"] {
        let url = format!("{}/i/{dead}", app.base_url);
        assert_eq!(app.get(&url).await.status(), 404);
    }
    for link in &links[..2] {
        let opened = app
            .http
            .post(format!("{link}/opened"))
            .header("user-agent", FIREFOX)
            .send()
            .await
            .expect("beacon");
        assert_eq!(opened.status(), 204);
    }
    let round = app.run_background_round().await;
    assert!(round.webhooks.attempted > 0, "the endpoint was tried");

    let samples = scrape(addr).await;
    // Not on the public port.
    let public = app.get(&format!("{}/metrics", app.base_url)).await;
    assert_ne!(public.status(), 200);
    let rpc = |method: &str, code: &str| {
        value(
            &samples,
            "grpc_server_handled_total",
            &[
                ("grpc_service", "beckon.invite.v1.InviteService"),
                ("grpc_method", method),
                ("grpc_code", code),
            ],
        )
    };
    assert_eq!(rpc("CreateInvite", "OK"), Some(5.0));
    assert_eq!(rpc("CreateInvite", "InvalidArgument"), Some(2.0));
    let timed = value(
        &samples,
        "grpc_server_handling_seconds_count",
        &[("grpc_method", "CreateInvite")],
    );
    assert_eq!(timed, Some(7.0), "every CreateInvite is timed");
    let pages = |outcome| {
        value(
            &samples,
            "beckon_link_pages_served_total",
            &[("outcome", outcome)],
        )
    };
    assert_eq!((pages("live"), pages("dead")), (Some(3.0), Some(2.0)));
    assert_eq!(
        value(&samples, "beckon_link_open_beacons_total", &[]),
        Some(2.0)
    );
    let retries = value(
        &samples,
        "beckon_webhook_attempts_total",
        &[("outcome", "retry")],
    );
    assert_eq!(retries, Some(round.webhooks.attempted as f64));
    assert_eq!(
        value(&samples, "beckon_webhook_deliveries_pending", &[]),
        Some(5.0),
        "each created invite's message waits for the endpoint"
    );
    for gauge in [
        "beckon_outbox_pending",
        "beckon_outbox_oldest_pending_age_seconds",
        "beckon_ats_callbacks_pending",
        "beckon_cohort_members_pending",
    ] {
        assert!(value(&samples, gauge, &[]).is_some(), "{gauge}");
    }
    let pools: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == "beckon_db_pool_connections")
        .collect();
    let expected = match backend {
        Backend::Sqlite => ["read", "write"].as_slice(),
        Backend::Postgres => ["shared"].as_slice(),
    };
    for pool in expected {
        assert!(
            pools
                .iter()
                .any(|s| s.labels.get("pool").map(String::as_str) == Some(*pool)),
            "{pool}: {pools:?}"
        );
    }
    assert!(pools.iter().all(|s| s.kind == "gauge"));
}
