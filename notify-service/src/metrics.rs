//! notify-service's Prometheus metrics (`metrics_addr`): RPCs, deliveries by outcome, the
//! limiter's delays, and at each scrape the queue's depth and the deliveries not yet final.
use std::sync::Arc;

use beckon_common::metrics::{PoolMetrics, RpcMetrics};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

use crate::store::Outcome;

/// The queue's entries, read at a scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Not yet handed to a worker.
    pub waiting: usize,
    /// Handed out, not acknowledged.
    pub handed_out: usize,
}

/// Label values are lower-case words, as Prometheus' conventions have them.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

pub struct Metrics {
    registry: Arc<Registry>,
    pub rpc: RpcMetrics,
    deliveries: Family<OutcomeLabels, Counter>,
    limiter: Family<OutcomeLabels, Counter>,
    queue_waiting: Gauge,
    queue_handed_out: Gauge,
    deliveries_pending: Gauge,
    pub pools: PoolMetrics,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let rpc = RpcMetrics::register(&mut registry);
        let beckon = registry.sub_registry_with_prefix("beckon_notify");
        let deliveries = Family::<OutcomeLabels, Counter>::default();
        beckon.register(
            "delivery_outcomes",
            "What became of each handling of a delivery: sent, deferred, failed, suppressed",
            deliveries.clone(),
        );
        let limiter = Family::<OutcomeLabels, Counter>::default();
        beckon.register(
            "limiter_decisions",
            "Rate-limiter answers before a send: admitted, or delayed (the worker waits and \
             asks again, so a send may be delayed more than once)",
            limiter.clone(),
        );
        let queue_waiting = Gauge::default();
        beckon.register(
            "queue_waiting",
            "Queue entries waiting for a worker (not handed out)",
            queue_waiting.clone(),
        );
        let queue_handed_out = Gauge::default();
        beckon.register(
            "queue_handed_out",
            "Queue entries handed to a worker and not acknowledged yet",
            queue_handed_out.clone(),
        );
        let deliveries_pending = Gauge::default();
        beckon.register(
            "deliveries_pending",
            "Deliveries not yet sent, failed or suppressed",
            deliveries_pending.clone(),
        );
        let pools = PoolMetrics::register(beckon);
        Self {
            registry: Arc::new(registry),
            rpc,
            deliveries,
            limiter,
            queue_waiting,
            queue_handed_out,
            deliveries_pending,
            pools,
        }
    }

    pub fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    pub fn delivery(&self, outcome: &Outcome) {
        let outcome = match outcome {
            Outcome::Sent { .. } => "sent",
            Outcome::Deferred { .. } => "deferred",
            Outcome::Failed { .. } => "failed",
            Outcome::Suppressed(_) => "suppressed",
        };
        self.deliveries
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    pub fn limiter(&self, admitted: bool) {
        let outcome = if admitted { "admitted" } else { "delayed" };
        self.limiter.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    pub fn set_backlog(&self, queue: QueueDepth, deliveries_pending: u64) {
        let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.queue_waiting.set(gauge(queue.waiting));
        self.queue_handed_out.set(gauge(queue.handed_out));
        self.deliveries_pending
            .set(i64::try_from(deliveries_pending).unwrap_or(i64::MAX));
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
