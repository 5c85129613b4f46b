//! Prometheus metrics, as each service exposes them on a listener of its own (`metrics_addr`,
//! off by default, never the public port): the registry a server fills, what every gRPC edge
//! counts, and the `/metrics` route. The text is OpenMetrics, which Prometheus scrapes.
use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    http::{header, StatusCode},
    response::IntoResponse,
    routing::get,
    Router,
};
use prometheus_client::{
    encoding::{text::encode, EncodeLabelSet},
    metrics::{
        counter::Counter,
        family::Family,
        histogram::{exponential_buckets, Histogram},
    },
    registry::{Registry, Unit},
};
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

/// OpenMetrics' text format, as Prometheus asks for it.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The labels of the gRPC ecosystem's server metrics (go-grpc-prometheus).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RpcLabels {
    /// `beckon.invite.v1.InviteService`
    pub grpc_service: String,
    pub grpc_method: String,
    /// The status code's name as gRPC writes it: `OK`, `InvalidArgument`, `NotFound`, …
    pub grpc_code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabels {
    pub grpc_service: String,
    pub grpc_method: String,
}

/// A request's gRPC path (`/beckon.invite.v1.InviteService/CreateInvite`), put in its
/// extensions by `record_rpc_path` so the handler, which tonic gives no URI, can name the method.
#[derive(Clone, Debug)]
pub struct RpcPath(pub String);

impl RpcPath {
    /// The service and the method, when the path has the gRPC shape.
    pub fn split(&self) -> Option<(&str, &str)> {
        self.0.strip_prefix('/')?.split_once('/')
    }
}

/// For the server's layers: keeps each request's path in its extensions, as `RpcPath`.
pub fn record_rpc_path<B>(mut request: http::Request<B>) -> http::Request<B> {
    let path = RpcPath(request.uri().path().to_string());
    request.extensions_mut().insert(path);
    request
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    /// `write` and `read` (SQLite's single writer and its readers), or `shared` (PostgreSQL).
    pool: String,
    /// `idle` or `in_use`.
    state: &'static str,
}

/// Database connections by pool and state, set at each scrape from `db::pool_use`.
#[derive(Clone)]
pub struct PoolMetrics(Family<PoolLabels, prometheus_client::metrics::gauge::Gauge>);

impl PoolMetrics {
    /// `<prefix>_db_pool_connections` in `registry` (the prefix is the registry's).
    pub fn register(registry: &mut Registry) -> Self {
        let family = Family::default();
        registry.register(
            "db_pool_connections",
            "Database connections open, idle or in use",
            family.clone(),
        );
        Self(family)
    }

    pub fn set(&self, pools: &[crate::db::PoolUse]) {
        for pool in pools {
            let idle = i64::try_from(pool.idle).unwrap_or(i64::MAX);
            let in_use = i64::from(pool.size).saturating_sub(idle);
            for (state, value) in [("idle", idle), ("in_use", in_use)] {
                self.0
                    .get_or_create(&PoolLabels {
                        pool: pool.pool.into(),
                        state,
                    })
                    .set(value);
            }
        }
    }
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// What a gRPC edge counts: requests by method and status, and how long they took.
#[derive(Clone)]
pub struct RpcMetrics {
    requests: Family<RpcLabels, Counter>,
    duration: HistogramFamily<MethodLabels>,
}

impl RpcMetrics {
    /// `grpc_server_handled_total` and `grpc_server_handling_seconds`, the names of the gRPC
    /// ecosystem's server metrics, in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let requests = Family::<RpcLabels, Counter>::default();
        // 1 ms to about 16 s.
        let duration: HistogramFamily<MethodLabels> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 15)));
        registry.register(
            "grpc_server_handled",
            "RPCs completed on the server, by method and status code",
            requests.clone(),
        );
        registry.register_with_unit(
            "grpc_server_handling",
            "Time from an RPC's arrival to its answer",
            Unit::Seconds,
            duration.clone(),
        );
        Self { requests, duration }
    }

    /// Starts timing an RPC named by its request's path (`None`: not a gRPC path, not
    /// counted). Finish it with its status code; dropped unfinished (the deadline passed, the
    /// client went away), it counts as `Cancelled`.
    pub fn start(&self, path: Option<&RpcPath>) -> Option<RpcObservation> {
        let (service, method) = path?.split()?;
        Some(RpcObservation {
            metrics: self.clone(),
            service: service.into(),
            method: method.into(),
            started: std::time::Instant::now(),
            code: None,
        })
    }

    fn observe(&self, service: &str, method: &str, code: &str, took: Duration) {
        self.requests
            .get_or_create(&RpcLabels {
                grpc_service: service.into(),
                grpc_method: method.into(),
                grpc_code: code.into(),
            })
            .inc();
        self.duration
            .get_or_create(&MethodLabels {
                grpc_service: service.into(),
                grpc_method: method.into(),
            })
            .observe(took.as_secs_f64());
    }
}

/// One RPC being timed; recorded when finished or dropped.
pub struct RpcObservation {
    metrics: RpcMetrics,
    service: String,
    method: String,
    started: std::time::Instant,
    code: Option<tonic::Code>,
}

impl RpcObservation {
    pub fn finish(mut self, code: tonic::Code) {
        self.code = Some(code);
    }
}

impl Drop for RpcObservation {
    fn drop(&mut self) {
        let code = code_name(self.code.unwrap_or(tonic::Code::Cancelled));
        self.metrics
            .observe(&self.service, &self.method, code, self.started.elapsed());
    }
}

/// A status code's name as the gRPC specification writes it (go-grpc-prometheus' label values).
pub fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

/// Serves `GET /metrics` on `listener` until `stop`: `refresh` first updates what is read at
/// scrape time (backlogs, pool use), then the registry is encoded.
pub fn serve<F, Fut>(
    listener: TcpListener,
    registry: Arc<Registry>,
    refresh: F,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let registry = registry.clone();
            let refresh = refresh.clone();
            async move {
                refresh().await;
                let mut text = String::new();
                match encode(&mut text, &registry) {
                    Ok(()) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
                    Err(err) => {
                        tracing::error!(error = %err, "encoding metrics failed");
                        StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    }
                }
            }
        }),
    );
    tokio::spawn(async move {
        let shutdown = async move {
            while !*stop.borrow() {
                if stop.changed().await.is_err() {
                    break;
                }
            }
        };
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %err, "the metrics listener stopped");
        }
    })
}

/// Binds the metrics listener: an address in use is a startup error naming the setting.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|err| anyhow::anyhow!("binding metrics_addr {addr}: {err}"))
}
