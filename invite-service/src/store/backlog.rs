//! What is waiting, read for each metrics scrape: emails in the outbox, webhook deliveries,
//! calls back to an ATS and cohort members, and the database pools' use.
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

use super::{now, Store};
use crate::{
    db::entities::{ats_callback, cohort_member, outbox, webhook_delivery},
    domain::{MemberState, OutboxState, WebhookDeliveryStatus},
    error::ServiceError,
    metrics::{Backlog, Metrics},
};

/// Counts what waits. Each is an indexed count; a scrape every few seconds is cheap.
pub async fn read(store: &Store) -> Result<Backlog, ServiceError> {
    let db = &store.read;
    let waiting = outbox::Entity::find().filter(outbox::Column::State.ne(OutboxState::Done));
    let outbox_pending = waiting.clone().count(db).await?;
    let oldest: Option<DateTime<Utc>> = waiting
        .select_only()
        .column_as(Expr::col(outbox::Column::CreatedAt).min(), "oldest")
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten();
    let webhook_deliveries_pending = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .count(db)
        .await?;
    let ats_callbacks_pending = ats_callback::Entity::find()
        .filter(ats_callback::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .count(db)
        .await?;
    let cohort_members_pending = cohort_member::Entity::find()
        .filter(cohort_member::Column::State.eq(MemberState::Pending))
        .count(db)
        .await?;
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    Ok(Backlog {
        outbox_pending: count(outbox_pending),
        outbox_oldest_age: oldest.and_then(|at| (now() - at).to_std().ok()),
        webhook_deliveries_pending: count(webhook_deliveries_pending),
        ats_callbacks_pending: count(ats_callbacks_pending),
        cohort_members_pending: count(cohort_members_pending),
    })
}

/// Sets the pools' use on `metrics`: SQLite's writer (`write`) and readers (`read`), or
/// PostgreSQL's one pool (`shared`).
pub fn record_pools(store: &Store, metrics: &Metrics) {
    match &store.write {
        sea_orm::DatabaseConnection::SqlxPostgresPoolConnection(_) => {
            let pool = store.write.get_postgres_connection_pool();
            metrics.set_pool("shared", pool.size(), pool.num_idle());
        }
        sea_orm::DatabaseConnection::SqlxSqlitePoolConnection(_) => {
            for (name, connection) in [("write", &store.write), ("read", &store.read)] {
                let pool = connection.get_sqlite_connection_pool();
                metrics.set_pool(name, pool.size(), pool.num_idle());
            }
        }
        _ => {}
    }
}
