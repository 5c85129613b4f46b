//! Assembles the server: one port for gRPC, gRPC-web, health, reflection and the link pages.
use std::{future::Future, net::SocketAddr, sync::Arc};

use anyhow::Context;
use http::{header::HeaderName, HeaderValue, Method};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tonic::{service::Routes, transport::server::TcpIncoming};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{
    config::Config,
    grpc::Api,
    links,
    store::{organization, Store},
};

/// A running invite-service.
pub struct RunningServer {
    pub local_addr: SocketAddr,
    /// The admin key made on first start of an empty database; shown once.
    pub bootstrap_key: Option<String>,
    pub store: Store,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Stops taking connections, lets requests in flight finish, and waits.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.await.context("server task panicked")?
    }

    /// Serves until `signal` completes, then shuts down gracefully.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        signal.await;
        self.shutdown().await
    }
}

/// Binds the configured address and starts serving.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| format!("binding listen_addr {}", config.listen_addr))?;
    start_on(config, listener).await
}

/// Starts serving on a listener that is already bound (tests bind port 0 first).
pub async fn start_on(config: Config, listener: TcpListener) -> anyhow::Result<RunningServer> {
    let config = Arc::new(config);
    let local_addr = listener.local_addr()?;
    let store = Store::connect(config.clone()).await?;
    store.migrate().await?;
    let bootstrap_key = organization::bootstrap_if_empty(&store)
        .await
        .map_err(|err| anyhow::anyhow!("bootstrapping the first organization: {err}"))?
        .map(|b| b.admin_key);

    let routes = grpc_routes(&store).await?;
    // gRPC-web only in front of gRPC: it answers any other HTTP/1.1 request with 400.
    let app = routes
        .into_axum_router()
        .layer(tonic_web::GrpcWebLayer::new())
        .merge(links::router(store.clone())?)
        // For load balancers and uptime checks that speak plain HTTP.
        .route("/healthz", axum::routing::get(|| async { "ok" }));
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let server = tonic::transport::Server::builder()
        .accept_http1(true)
        .timeout(config.request_timeout())
        .layer(cors(&config)?)
        .add_routes(Routes::from(app));
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let task = tokio::spawn(async move {
        server
            .serve_with_incoming_shutdown(incoming, async {
                let _ = shutdown_rx.await;
            })
            .await
            .context("serving")
    });
    tracing::info!(%local_addr, public_base_url = %config.public_base_url, "invite-service listening");
    Ok(RunningServer {
        local_addr,
        bootstrap_key,
        store,
        shutdown: Some(shutdown_tx),
        task,
    })
}

async fn grpc_routes(store: &Store) -> anyhow::Result<Routes> {
    let api = Api::new(store.clone());
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<beckon_proto::invite::v1::job_service_server::JobServiceServer<Api>>()
        .await;
    health
        .set_serving::<beckon_proto::invite::v1::invite_service_server::InviteServiceServer<Api>>()
        .await;
    health
        .set_serving::<beckon_proto::invite::v1::candidate_service_server::CandidateServiceServer<Api>>()
        .await;
    health
        .set_serving::<beckon_proto::invite::v1::organization_service_server::OrganizationServiceServer<Api>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(beckon_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("building gRPC reflection")?;
    let reflection_alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(beckon_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .context("building gRPC reflection")?;
    let mut routes = Routes::builder();
    routes
        .add_service(api.job_service())
        .add_service(api.candidate_service())
        .add_service(api.invite_service())
        .add_service(api.organization_service())
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_alpha);
    Ok(routes.routes())
}

/// gRPC-web from browsers: only the configured origins, and the grpc-* headers exposed so the
/// client can read statuses and error details.
fn cors(config: &Config) -> anyhow::Result<CorsLayer> {
    let origins = config
        .cors_origins
        .iter()
        .map(|origin| {
            HeaderValue::from_str(origin)
                .with_context(|| format!("cors_origins has an invalid origin: {origin}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers([
            http::header::CONTENT_TYPE,
            http::header::AUTHORIZATION,
            HeaderName::from_static("x-grpc-web"),
            HeaderName::from_static("x-user-agent"),
            HeaderName::from_static("grpc-timeout"),
        ])
        .expose_headers([
            HeaderName::from_static("grpc-status"),
            HeaderName::from_static("grpc-message"),
            HeaderName::from_static("grpc-status-details-bin"),
        ])
        .max_age(std::time::Duration::from_secs(600)))
}
