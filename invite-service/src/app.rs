//! Assembles the server: one port for gRPC, gRPC-web, health, reflection and the link pages.
use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use beckon_common::progress::Progress;
use beckon_proto::invite::v1 as pb;
use http::{header::HeaderName, HeaderValue, Method};
use tokio::{
    net::TcpListener,
    sync::{oneshot, watch},
    task::JoinHandle,
};
use tonic::{service::Routes, transport::server::TcpIncoming};
use tonic_health::{server::HealthReporter, ServingStatus};
use tower_http::cors::{AllowOrigin, CorsLayer};

use beckon_common::reachability::{self, Dependency, HealthPublisher, Readiness};

use crate::{
    ats::{self, AtsCallbacks},
    background::{CohortWorker, Sweeper, Swept},
    config::Config,
    config::Secret,
    grpc::{status::answer_undecodable, Api, Keyless},
    links,
    relay::{self, Relay},
    store::{backlog, organization, public, Store},
    webhooks::{self, Deliverer},
};

/// How often the database is pinged to follow its reachability.
const DATABASE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// The API services this port serves, as health and reflection name them.
const API_SERVICES: [&str; 8] = [
    pb::job_service_server::SERVICE_NAME,
    pb::candidate_service_server::SERVICE_NAME,
    pb::invite_service_server::SERVICE_NAME,
    pb::organization_service_server::SERVICE_NAME,
    pb::webhook_service_server::SERVICE_NAME,
    pb::ats_service_server::SERVICE_NAME,
    pb::public_registration_service_server::SERVICE_NAME,
    pb::enrollment_service_server::SERVICE_NAME,
];

/// A running invite-service.
pub struct RunningServer {
    pub local_addr: SocketAddr,
    /// Where Prometheus metrics are served, when `metrics_addr` is set.
    pub metrics_addr: Option<SocketAddr>,
    /// The admin key made on first start of an empty database; shown once.
    pub bootstrap_key: Option<String>,
    pub store: Store,
    /// notify-service, when it runs inside this process.
    pub notify: Option<notify_service::RunningNotify>,
    /// Advances whenever background work wrote something.
    pub progress: Progress,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
    /// Stops the outbox relay, the cohort worker, the sweeper, the webhook loop and the ATS
    /// callbacks.
    stop_background: watch::Sender<bool>,
    background: Vec<JoinHandle<()>>,
    relay: Arc<Relay>,
    cohort_worker: Arc<CohortWorker>,
    sweeper: Arc<Sweeper>,
    webhooks: Arc<Deliverer>,
    ats_callbacks: Arc<AtsCallbacks>,
}

/// What one round of each background job did, run now by `RunningServer::run_background_round`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackgroundRound {
    /// A cohort chunk became invites.
    pub cohort_chunk: bool,
    pub swept: Swept,
    pub relay: relay::Round,
    pub webhooks: webhooks::Round,
    pub ats_callbacks: ats::callbacks::Round,
}

impl BackgroundRound {
    /// Whether any job wrote something (or, for the relay, handed over or followed up rows).
    pub fn worked(&self) -> bool {
        self.cohort_chunk
            || self.swept.changed_anything()
            || self.relay.rows > 0
            || self.webhooks.attempted > 0
            || self.ats_callbacks.attempted > 0
    }
}

impl RunningServer {
    /// The outbox relay: its `run_round` is the round its loop runs.
    pub fn relay(&self) -> &Relay {
        &self.relay
    }

    /// The cohort worker: its `run_round` is the round its loop runs.
    pub fn cohort_worker(&self) -> &CohortWorker {
        &self.cohort_worker
    }

    /// The webhook delivery loop: its `run_round` is the round its loop runs.
    pub fn webhooks(&self) -> &Deliverer {
        &self.webhooks
    }

    /// The loop that calls applicant tracking systems back: its `run_round` is its loop's.
    pub fn ats_callbacks(&self) -> &AtsCallbacks {
        &self.ats_callbacks
    }

    /// The expiry and reminder sweeper: its `run_round` is the round its loop runs.
    pub fn sweeper(&self) -> &Sweeper {
        &self.sweeper
    }

    /// Runs one round of each background job now, beside their loops, for whoever must see
    /// their work done without waiting for the next tick: the cohort worker and the sweeper
    /// first, then the relay, which hands over the emails they queued. Each job is tried even
    /// if one before it failed; the first failure is returned.
    pub async fn run_background_round(&self) -> anyhow::Result<BackgroundRound> {
        let cohort_chunk = self.cohort_worker.run_round().await;
        let swept = self.sweeper.run_round().await;
        let relayed = self.relay.run_round().await;
        // Last: it sends what every other job wrote.
        let posted = self.webhooks.run_round().await;
        let called = self.ats_callbacks.run_round().await;
        Ok(BackgroundRound {
            cohort_chunk: cohort_chunk.context("cohort worker round")?,
            swept: swept.context("sweep round")?,
            relay: relayed.context("outbox relay round")?,
            webhooks: posted.context("webhook round")?,
            ats_callbacks: called.context("ATS callback round")?,
        })
    }

    /// Stops taking connections, lets requests in flight finish, and waits.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        // Both at once: a request the server drains never waits on a loop that was not told,
        // and a long stream (WatchCohort) does not keep the loops running.
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.stop_background.send(true);
        let served = self.task.await.context("server task panicked")?;
        for task in self.background.drain(..) {
            task.await.context("background task panicked")?;
        }
        if let Some(notify) = self.notify.take() {
            notify.shutdown().await?;
        }
        served
    }

    /// Serves until `signal` completes, then shuts down gracefully, for at most
    /// `shutdown_timeout_secs`: then it returns anyway. Nothing accepted is lost by that: what
    /// was under way is held by a lease in the database and taken again when it ends.
    pub async fn run_until(self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        signal.await;
        let bound = Duration::from_secs(self.store.config.shutdown_timeout_secs);
        match tokio::time::timeout(bound, self.shutdown()).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(
                    timeout_secs = bound.as_secs(),
                    "shutdown cut short: work still under way is taken again after its lease"
                );
                Ok(())
            }
        }
    }
}

/// Binds the configured address and starts serving.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| format!("binding listen_addr {}", config.listen_addr))?;
    start_on(config, listener).await
}

/// Starts serving on a listener that is already bound (tests bind port 0 first). Without a
/// `notify_addr`, notify-service runs inside this process with its defaults.
pub async fn start_on(config: Config, listener: TcpListener) -> anyhow::Result<RunningServer> {
    start_with_notify(config, listener, None).await
}

/// What an in-process notify-service's settings default to: this service's data folder,
/// database and connection wait.
pub fn embedded_notify_defaults(config: &Config) -> notify_service::Config {
    notify_service::Config {
        data_dir: config.data_dir.clone(),
        // notify-service's tables and migration table have names of their own.
        database_url: config
            .database_url
            .clone()
            .filter(|url| url.starts_with("postgres")),
        db_acquire_timeout_ms: config.db_acquire_timeout_ms,
        ..notify_service::Config::default()
    }
}

/// The settings of an in-process notify-service: its own, or ones that share this service's
/// data folder and database.
fn embedded_notify_config(
    config: &Config,
    given: Option<notify_service::Config>,
) -> notify_service::Config {
    let mut notify = given.unwrap_or_else(|| embedded_notify_defaults(config));
    // Loopback only, on a free port, reachable only with a token made for this run.
    notify.listen_addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    notify.auth_token = Some(Secret::new(
        crate::domain::secret::LinkKey::generate().encode(),
    ));
    notify
}

/// Like `start_on`, with the settings for an in-process notify-service (used when
/// `notify_addr` is unset).
pub async fn start_with_notify(
    mut config: Config,
    listener: TcpListener,
    notify_config: Option<notify_service::Config>,
) -> anyhow::Result<RunningServer> {
    let notify = match &config.notify_addr {
        Some(_) => None,
        None => {
            let notify_config = embedded_notify_config(&config, notify_config);
            let token = notify_config.auth_token.clone();
            let running = notify_service::start(notify_config)
                .await
                .context("starting the in-process notify-service")?;
            config.notify_addr = Some(format!("http://{}", running.local_addr));
            config.notify_token = token;
            Some(running)
        }
    };
    let config = Arc::new(config);
    let local_addr = listener.local_addr()?;
    // Bound before anything is spawned: an address in use fails the start with nothing left
    // running.
    let metrics_listener = match config.metrics_addr {
        Some(addr) => Some(beckon_common::metrics::bind(addr).await?),
        None => None,
    };
    let store = Store::connect(config.clone()).await?;
    // Under the migration lock: replicas starting together on an empty database make one
    // first organization, not one each.
    let bootstrap_key = store
        .migrate_then(async {
            organization::bootstrap_if_empty(&store)
                .await
                .map_err(|err| anyhow::anyhow!("bootstrapping the first organization: {err}"))
        })
        .await?
        .map(|b| b.admin_key);

    // The public links' abuse limits, shared by their page and their gRPC API.
    let limits = Arc::new(public::Limits::connect(&config).await?);
    let cohort_work = Arc::new(tokio::sync::Notify::new());
    // Told when the server stops, as the background loops are: long streams end then.
    let (stop_background, stop) = watch::channel(false);
    let (routes, health) = grpc_routes(&store, &limits, cohort_work.clone(), stop.clone()).await?;
    let readiness = Arc::new(Readiness::default());
    // Every API service and the server as a whole follow the watched dependencies.
    let publisher = HealthPublisher::new(
        health,
        readiness.clone(),
        API_SERVICES.into_iter().chain([""]),
    );
    // gRPC-web only in front of gRPC: it answers any other HTTP/1.1 request with 400.
    let app = routes
        .into_axum_router()
        .layer(axum::middleware::map_response_with_state(
            config.max_request_bytes,
            answer_undecodable,
        ))
        .layer(tonic_web::GrpcWebLayer::new())
        .merge(links::router(store.clone(), limits.clone())?)
        .merge(ats::router(store.clone()))
        // For load balancers and uptime checks that speak plain HTTP.
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route("/readyz", readiness_route(readiness.clone()));
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let server = tonic::transport::Server::builder()
        .accept_http1(true)
        .timeout(config.request_timeout())
        // Each request in a span continuing its caller's trace (W3C traceparent), named
        // without the link tokens some paths carry.
        .layer(beckon_common::telemetry::TraceLayer::naming(
            links::route_of,
        ))
        .layer(cors(&config)?)
        // The handlers name the RPC in their metrics from its path.
        .layer(tower::util::MapRequestLayer::new(
            beckon_common::metrics::record_rpc_path::<tonic::body::Body>,
        ))
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
    let progress = Progress::new();
    let relay = Arc::new(Relay::new(store.clone(), progress.clone())?);
    let cohort_worker = Arc::new(CohortWorker::new(store.clone(), progress.clone()));
    let sweeper = Arc::new(Sweeper::new(store.clone(), progress.clone()));
    let webhooks = Arc::new(Deliverer::connect(store.clone(), progress.clone()).await?);
    let ats_callbacks = Arc::new(AtsCallbacks::new(store.clone(), progress.clone())?);
    let mut background = vec![
        watch_database(&store, publisher.clone(), stop.clone()),
        relay.clone().spawn(stop.clone()),
        cohort_worker.clone().spawn(cohort_work, stop.clone()),
        sweeper.clone().spawn(stop.clone()),
        webhooks.clone().spawn(stop.clone()),
        ats_callbacks.clone().spawn(stop.clone()),
    ];
    let metrics_addr = match metrics_listener {
        Some(listener) => {
            let bound = listener.local_addr()?;
            let scraped = store.clone();
            background.push(beckon_common::metrics::serve(
                listener,
                store.metrics.registry(),
                move || {
                    let store = scraped.clone();
                    async move { refresh_metrics(&store).await }
                },
                stop.clone(),
            ));
            tracing::info!(%bound, "metrics served");
            Some(bound)
        }
        None => None,
    };
    if let Some(url) = &config.redis_url {
        background.push(
            reachability::watch_redis(url, DATABASE_CHECK_INTERVAL, publisher, stop.clone())
                .context("watching redis_url")?,
        );
    }
    background.extend(store.spawn_checkpointer(stop.clone()));
    background.extend(store.spawn_key_listener(stop));
    tracing::info!(%local_addr, public_base_url = %config.public_base_url, "invite-service listening");
    Ok(RunningServer {
        local_addr,
        metrics_addr,
        bootstrap_key,
        store,
        notify,
        progress,
        shutdown: Some(shutdown_tx),
        task,
        stop_background,
        background,
        relay,
        cohort_worker,
        sweeper,
        webhooks,
        ats_callbacks,
    })
}

/// What a scrape reads now: the backlogs and the pools' use. A database that cannot answer
/// leaves the last figures (the scrape still answers; readiness tells of the outage).
async fn refresh_metrics(store: &Store) {
    match backlog::read(store).await {
        Ok(backlog) => store.metrics.set_backlog(&backlog),
        Err(err) => tracing::debug!(error = ?err, "metrics: backlog not read"),
    }
    store.metrics.pools.set(&backlog::pool_use(store));
}

/// Follows the database's reachability: while it cannot be reached, health answers NOT_SERVING
/// for every API service and the server as a whole, and `/readyz` 503.
fn watch_database(
    store: &Store,
    publisher: HealthPublisher,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    store.watch_reachability(DATABASE_CHECK_INTERVAL, stop, move |up| {
        publisher.clone().set(Dependency::Database, up)
    })
}

/// `GET /readyz`: 200 while the database (and Redis, when used) can be reached, else 503
/// saying which cannot, for load balancers that speak plain HTTP.
fn readiness_route(readiness: Arc<Readiness>) -> axum::routing::MethodRouter {
    axum::routing::get(move || async move {
        match readiness.unreachable() {
            None => (http::StatusCode::OK, "ready"),
            Some(what) => (http::StatusCode::SERVICE_UNAVAILABLE, what),
        }
    })
}

async fn grpc_routes(
    store: &Store,
    limits: &Arc<public::Limits>,
    cohort_work: Arc<tokio::sync::Notify>,
    stopping: watch::Receiver<bool>,
) -> anyhow::Result<(Routes, HealthReporter)> {
    let api = Api::new(store.clone(), cohort_work, stopping);
    let keyless = Keyless::new(store.clone(), limits.clone());
    let (health, health_service) = tonic_health::server::health_reporter();
    beckon_common::health::register_liveness(&health).await;
    for service in API_SERVICES {
        health
            .set_service_status(service, ServingStatus::Serving)
            .await;
    }
    // Reflection lists exactly what this port serves: the API, health and both reflections.
    let reflection_builder = || {
        let builder = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(beckon_proto::INVITE_FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            )
            .include_reflection_service(false);
        API_SERVICES
            .into_iter()
            .chain([
                tonic_health::pb::health_server::SERVICE_NAME,
                tonic_reflection::pb::v1::server_reflection_server::SERVICE_NAME,
                tonic_reflection::pb::v1alpha::server_reflection_server::SERVICE_NAME,
            ])
            .fold(builder, |builder, service| {
                builder.with_service_name(service)
            })
    };
    let reflection = reflection_builder()
        .build_v1()
        .context("building gRPC reflection")?;
    let reflection_alpha = reflection_builder()
        .build_v1alpha()
        .context("building gRPC reflection")?;
    let mut routes = Routes::builder();
    routes
        .add_service(api.job_service())
        .add_service(api.candidate_service())
        .add_service(api.invite_service())
        .add_service(api.organization_service())
        .add_service(api.webhook_service())
        .add_service(api.ats_service())
        .add_service(keyless.clone().registration_server())
        .add_service(keyless.enrollment_server())
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_alpha);
    Ok((routes.routes(), health))
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
