//! notify-service's Prometheus metrics (`metrics_addr`): RPCs, deliveries by outcome, the
//! limiter's delays, and at each scrape the queue's depth and the deliveries not yet final.
use std::sync::Arc;

use beckon_common::metrics::RpcMetrics;
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

use crate::store::Outcome;

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
    deliveries_open: Gauge,
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
            "Rate-limiter answers before a send: admitted, or delayed (the worker waits)",
            limiter.clone(),
        );
        let queue_waiting = Gauge::default();
        beckon.register(
            "queue_waiting",
            "Queue entries waiting for a worker (not handed out)",
            queue_waiting.clone(),
        );
        let deliveries_open = Gauge::default();
        beckon.register(
            "deliveries_open",
            "Deliveries not yet sent, failed or suppressed",
            deliveries_open.clone(),
        );
        Self {
            registry: Arc::new(registry),
            rpc,
            deliveries,
            limiter,
            queue_waiting,
            deliveries_open,
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
            Outcome::Suppressed => "suppressed",
        };
        self.deliveries
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    pub fn limiter(&self, admitted: bool) {
        let outcome = if admitted { "admitted" } else { "delayed" };
        self.limiter.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    pub fn set_backlog(&self, queue_waiting: usize, deliveries_open: u64) {
        self.queue_waiting
            .set(i64::try_from(queue_waiting).unwrap_or(i64::MAX));
        self.deliveries_open
            .set(i64::try_from(deliveries_open).unwrap_or(i64::MAX));
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
