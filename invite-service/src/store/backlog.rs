//! What is waiting, read for each metrics scrape: emails in the outbox, webhook deliveries,
//! calls back to an ATS and cohort members, and the database pools' use.
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

use beckon_common::db::PoolUse;

use super::{now, Store};
use crate::{
    db::entities::{ats_callback, cohort_member, outbox, webhook_delivery},
    domain::{MemberState, OutboxState, WebhookDeliveryStatus},
    error::ServiceError,
};

/// What waits, read for a scrape.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Backlog {
    pub outbox_pending: i64,
    pub outbox_oldest_age: Option<Duration>,
    pub webhook_deliveries_pending: i64,
    pub ats_callbacks_pending: i64,
    pub cohort_members_pending: i64,
}

/// Counts what waits. Each is an indexed count; a scrape every few seconds is cheap.
pub async fn read(store: &Store) -> Result<Backlog, ServiceError> {
    let db = &store.read;
    // The states the `outbox_state_due` index leads with: done rows are never read.
    let waiting = outbox::Entity::find()
        .filter(outbox::Column::State.is_in([OutboxState::Pending, OutboxState::Accepted]));
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

/// The database pools' use now.
pub fn pool_use(store: &Store) -> Vec<PoolUse> {
    beckon_common::db::pool_use(&store.write, &store.read)
}
