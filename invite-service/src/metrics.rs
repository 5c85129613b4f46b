//! invite-service's Prometheus metrics (`metrics_addr`): what its edges count as they work, and
//! the backlogs read at each scrape (`store::backlog`). Names follow Prometheus' conventions:
//! `beckon_` and a unit suffix; counters end in `_total` in the text.
use std::sync::Arc;

use beckon_common::metrics::{PoolMetrics, RpcMetrics};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

use crate::store::{backlog::Backlog, webhooks::NextStep};

#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum PageOutcome {
    /// A live link's page.
    Live,
    /// The 404 every dead, unknown or malformed link gets.
    Dead,
}

/// Label values are lower-case words, as Prometheus' conventions have them.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

pub struct Metrics {
    registry: Arc<Registry>,
    pub rpc: RpcMetrics,
    link_pages: Family<OutcomeLabels, Counter>,
    opens: Counter,
    webhook_attempts: Family<OutcomeLabels, Counter>,
    outbox_pending: Gauge,
    outbox_oldest_age: Gauge<f64, std::sync::atomic::AtomicU64>,
    webhook_deliveries_pending: Gauge,
    ats_callbacks_pending: Gauge,
    cohort_members_pending: Gauge,
    pub pools: PoolMetrics,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let rpc = RpcMetrics::register(&mut registry);
        let beckon = registry.sub_registry_with_prefix("beckon");
        let link_pages = Family::<OutcomeLabels, Counter>::default();
        beckon.register(
            "link_pages_served",
            "Candidate link pages answered (GET /i/{token}), live or dead",
            link_pages.clone(),
        );
        let opens = Counter::default();
        beckon.register(
            "link_open_beacons",
            "Opens reported by the page's beacon from a browser (link previews are not counted; \
             Start counts an open a page without script did not report)",
            opens.clone(),
        );
        let webhook_attempts = Family::<OutcomeLabels, Counter>::default();
        beckon.register(
            "webhook_attempts",
            "Webhook delivery attempts, by what came of them",
            webhook_attempts.clone(),
        );
        let outbox_pending = Gauge::default();
        beckon.register(
            "outbox_pending",
            "Emails waiting in the outbox for a final outcome from notify-service",
            outbox_pending.clone(),
        );
        let outbox_oldest_age = Gauge::default();
        beckon.register_with_unit(
            "outbox_oldest_pending_age",
            "How long the oldest email in the outbox has waited",
            prometheus_client::registry::Unit::Seconds,
            outbox_oldest_age.clone(),
        );
        let webhook_deliveries_pending = Gauge::default();
        beckon.register(
            "webhook_deliveries_pending",
            "Webhook deliveries not yet delivered or failed",
            webhook_deliveries_pending.clone(),
        );
        let ats_callbacks_pending = Gauge::default();
        beckon.register(
            "ats_callbacks_pending",
            "Calls back to an applicant tracking system not yet taken",
            ats_callbacks_pending.clone(),
        );
        let cohort_members_pending = Gauge::default();
        beckon.register(
            "cohort_members_pending",
            "Bulk-invite members still waiting for their invite",
            cohort_members_pending.clone(),
        );
        let pools = PoolMetrics::register(beckon);
        Self {
            registry: Arc::new(registry),
            rpc,
            link_pages,
            opens,
            webhook_attempts,
            outbox_pending,
            outbox_oldest_age,
            webhook_deliveries_pending,
            ats_callbacks_pending,
            cohort_members_pending,
            pools,
        }
    }

    pub fn registry(&self) -> Arc<Registry> {
        self.registry.clone()
    }

    pub fn link_page(&self, outcome: PageOutcome) {
        let outcome = match outcome {
            PageOutcome::Live => "live",
            PageOutcome::Dead => "dead",
        };
        self.link_pages
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    pub fn open_beacon(&self) {
        self.opens.inc();
    }

    pub fn webhook_attempt(&self, next: &NextStep) {
        let outcome = match next {
            NextStep::Delivered => "delivered",
            // Not taken; tried again later.
            NextStep::RetryAt(_) => "retry",
            // Not taken, and the schedule is used up.
            NextStep::GiveUp => "failed",
            // 410 Gone: the endpoint was turned off.
            NextStep::EndpointGone => "endpoint_gone",
        };
        self.webhook_attempts
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// What a scrape read from the database.
    pub fn set_backlog(&self, backlog: &Backlog) {
        self.outbox_pending.set(backlog.outbox_pending);
        self.outbox_oldest_age.set(
            backlog
                .outbox_oldest_age
                .map_or(0.0, |age| age.as_secs_f64()),
        );
        self.webhook_deliveries_pending
            .set(backlog.webhook_deliveries_pending);
        self.ats_callbacks_pending
            .set(backlog.ats_callbacks_pending);
        self.cohort_members_pending
            .set(backlog.cohort_members_pending);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
