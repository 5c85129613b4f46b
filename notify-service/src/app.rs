//! Assembles notify-service: the gRPC API, health and reflection, the workers and the
//! reconciler, on Redis or in-process backends.
use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use beckon_common::progress::Progress;
use beckon_limiter::{memory::MemoryLimiter, redis::RedisLimiter, RateLimiter};
use beckon_proto::notify::v1::notify_service_server;
use tokio::{
    net::TcpListener,
    sync::{oneshot, watch},
    task::{JoinHandle, JoinSet},
};
use tonic::{service::Routes, transport::server::TcpIncoming};
use tonic_health::ServingStatus;

use beckon_common::reachability::{self, Dependency, HealthPublisher, Readiness};

use crate::{
    config::Config,
    grpc::{status::answer_undecodable, NotifyApi},
    mail::{self, Composer, FileMailer, Mailer, SmtpMailer},
    metrics::QueueDepth,
    queue::{memory::MemoryQueue, redis::RedisQueue, Queue, QueueError, QueueSettings},
    store::Store,
    worker::Workers,
};

/// How often the database is pinged to follow its reachability.
const DATABASE_CHECK_INTERVAL: Duration = Duration::from_secs(1);

pub struct RunningNotify {
    pub local_addr: SocketAddr,
    /// Where Prometheus metrics are served, when `metrics_addr` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub store: Store,
    pub queue: Arc<dyn Queue>,
    /// Advances whenever a worker has handled deliveries.
    pub progress: Progress,
    /// What the worker loops and the reconciler run, for rounds run now (`worker_round`,
    /// `reconcile_round`).
    rounds: Workers,
    stop_workers: watch::Sender<bool>,
    workers: JoinSet<()>,
    database_watcher: JoinHandle<()>,
    shutdown: Option<oneshot::Sender<()>>,
    server: JoinHandle<anyhow::Result<()>>,
}

impl RunningNotify {
    /// Runs one worker round now, beside the workers' loops, as a consumer of its own: sends
    /// what the queue has ready (without waiting for more) and records the outcomes. How many
    /// deliveries it took.
    pub async fn worker_round(&self) -> anyhow::Result<usize> {
        let consumer = format!("{}-round", self.rounds.replica);
        Ok(self.rounds.run_round(&consumer, Duration::ZERO).await?)
    }

    /// Runs one reconcile round now, after any the reconciler is running: whether erased
    /// variables are out of SQLite's write-ahead log (see `Workers::reconcile_round`).
    pub async fn reconcile_round(&self) -> anyhow::Result<bool> {
        Ok(self.rounds.reconcile_round().await?)
    }

    /// Stops taking calls, lets the workers finish the messages in hand, and waits.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        // The server drains its calls while the workers finish theirs, not one after the other.
        let _ = self.stop_workers.send(true);
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        while self.workers.join_next().await.is_some() {}
        self.database_watcher
            .await
            .context("database watcher panicked")?;
        self.server.await.context("notify server task panicked")?
    }

    /// Serves until `signal`, then shuts down gracefully for at most `shutdown_timeout_secs`.
    pub async fn run_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> anyhow::Result<()> {
        signal.await;
        let bound = std::time::Duration::from_secs(self.store.config.shutdown_timeout_secs);
        match tokio::time::timeout(bound, self.shutdown()).await {
            Ok(result) => result,
            Err(_) => {
                tracing::warn!(
                    timeout_secs = bound.as_secs(),
                    "shutdown cut short: deliveries under way are taken again when their hold ends"
                );
                Ok(())
            }
        }
    }
}

pub async fn start(config: Config) -> anyhow::Result<RunningNotify> {
    let listener = TcpListener::bind(config.listen_addr)
        .await
        .with_context(|| format!("binding listen_addr {}", config.listen_addr))?;
    start_on(config, listener).await
}

/// A name for this replica's queue consumers, unique per process.
fn replica_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "notify".into());
    format!("{host}-{}-{:04x}", std::process::id(), fastrand::u16(..))
}

pub async fn start_on(config: Config, listener: TcpListener) -> anyhow::Result<RunningNotify> {
    let config = Arc::new(config);
    let local_addr = listener.local_addr()?;
    // Bound before anything is spawned: an address in use fails the start with nothing left
    // running.
    let metrics_listener = match config.metrics_addr {
        Some(addr) => Some(beckon_common::metrics::bind(addr).await?),
        None => None,
    };
    let store = Store::connect(config.clone()).await?;
    store.migrate().await?;

    let settings = QueueSettings {
        ack_deadline: config.ack_deadline(),
        dead_letter_after: config.dead_letter_after,
    };
    let (queue, limiter): (Arc<dyn Queue>, Arc<dyn RateLimiter>) = match &config.redis_url {
        Some(url) => (
            Arc::new(
                RedisQueue::connect(url, &config.key_prefix, settings)
                    .await
                    .context("connecting the queue to Redis")?,
            ),
            Arc::new(
                RedisLimiter::connect(url, &config.key_prefix)
                    .await
                    .context("connecting the rate limiter to Redis")?,
            ),
        ),
        None => (
            Arc::new(MemoryQueue::new(settings)),
            Arc::new(MemoryLimiter::new()),
        ),
    };
    for warning in mail::signing_warnings(&config) {
        tracing::warn!("{warning}");
    }
    let composer = Composer::new(&config)?;
    let mailer: Arc<dyn Mailer> = match &config.smtp {
        Some(smtp) => Arc::new(SmtpMailer::new(smtp, composer)?),
        None => Arc::new(FileMailer::new(config.mail_dir(), composer)?),
    };

    let (stop_workers, stop) = watch::channel(false);
    let progress = Progress::new();
    let rounds = Workers {
        store: store.clone(),
        queue: queue.clone(),
        limiter,
        mailer,
        config: config.clone(),
        replica: replica_name(),
        progress: progress.clone(),
        one_reconcile_at_a_time: Arc::default(),
    };
    let mut workers = rounds.clone().spawn(stop.clone());
    if let Some(checkpointer) = store.spawn_checkpointer(stop.clone()) {
        workers.spawn(async move {
            let _ = checkpointer.await;
        });
    }

    let api = NotifyApi::new(store.clone(), queue.clone());
    let (health, health_service) = tonic_health::server::health_reporter();
    beckon_common::health::register_liveness(&health).await;
    health
        .set_service_status(notify_service_server::SERVICE_NAME, ServingStatus::Serving)
        .await;
    let metrics_addr = match metrics_listener {
        Some(listener) => {
            let bound = listener.local_addr()?;
            let (scraped_store, scraped_queue) = (store.clone(), queue.clone());
            let served = beckon_common::metrics::serve(
                listener,
                store.metrics.registry(),
                move || {
                    let (store, queue) = (scraped_store.clone(), scraped_queue.clone());
                    async move { refresh_metrics(&store, queue.as_ref()).await }
                },
                stop.clone(),
            );
            workers.spawn(async move {
                let _ = served.await;
            });
            tracing::info!(%bound, "notify-service metrics served");
            Some(bound)
        }
        None => None,
    };
    // The API and the server as a whole follow the watched dependencies.
    let publisher = HealthPublisher::new(
        health,
        Arc::new(Readiness::default()),
        [notify_service_server::SERVICE_NAME, ""],
    );
    if let Some(url) = &config.redis_url {
        let watcher = reachability::watch_redis(
            url,
            DATABASE_CHECK_INTERVAL,
            publisher.clone(),
            stop.clone(),
        )
        .context("watching redis_url")?;
        workers.spawn(async move {
            let _ = watcher.await;
        });
    }
    let database_watcher = watch_database(&store, publisher, stop);
    // Reflection lists exactly what this port serves.
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(beckon_proto::NOTIFY_FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name(notify_service_server::SERVICE_NAME)
        .with_service_name(tonic_health::pb::health_server::SERVICE_NAME)
        .with_service_name(tonic_reflection::pb::v1::server_reflection_server::SERVICE_NAME)
        .build_v1()
        .context("building gRPC reflection")?;
    let mut routes = Routes::builder();
    routes
        .add_service(api.service())
        .add_service(health_service)
        .add_service(reflection);
    let routes =
        routes
            .routes()
            .into_axum_router()
            .layer(axum::middleware::map_response_with_state(
                config.max_request_bytes,
                answer_undecodable,
            ));
    let server = tonic::transport::Server::builder()
        // Each request in a span continuing its caller's trace (W3C traceparent).
        .layer(beckon_common::telemetry::TraceLayer::new())
        // The handlers name the RPC in their metrics from its path.
        .layer(tower::util::MapRequestLayer::new(
            beckon_common::metrics::record_rpc_path::<tonic::body::Body>,
        ))
        .add_routes(Routes::from(routes));
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let server = tokio::spawn(async move {
        server
            .serve_with_incoming_shutdown(incoming, async {
                let _ = shutdown_rx.await;
            })
            .await
            .context("serving")
    });
    tracing::info!(%local_addr, redis = config.redis_url.is_some(), smtp = config.smtp.is_some(), "notify-service listening");
    Ok(RunningNotify {
        local_addr,
        metrics_addr,
        store,
        queue,
        progress,
        rounds,
        stop_workers,
        workers,
        database_watcher,
        shutdown: Some(shutdown_tx),
        server,
    })
}

/// Follows the database's reachability: while it cannot be reached, health answers NOT_SERVING
/// for the API and the server as a whole.
fn watch_database(
    store: &Store,
    publisher: HealthPublisher,
    stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    store.watch_reachability(DATABASE_CHECK_INTERVAL, stop, move |up| {
        publisher.clone().set(Dependency::Database, up)
    })
}

/// What a scrape reads now: the queue's depth and the deliveries not yet final. A backend
/// that cannot answer leaves the last figures.
async fn refresh_metrics(store: &Store, queue: &dyn Queue) {
    store.metrics.pools.set(&store.pool_use());
    let depth = async {
        Ok::<_, QueueError>(QueueDepth {
            waiting: queue.waiting().await?,
            handed_out: queue.handed_out().await?,
        })
    };
    match (depth.await, store.pending_deliveries().await) {
        (Ok(depth), Ok(pending)) => store.metrics.set_backlog(depth, pending),
        (depth, pending) => tracing::debug!(
            queue = ?depth.err(),
            database = ?pending.err(),
            "metrics: backlog not read"
        ),
    }
}
