//! Forgetting old webhook history. Past the retention period a message goes with its
//! deliveries, unless one of them is still pending: being tried, or waiting for an endpoint
//! that is off to be turned on (nothing accepted is lost); an attempt goes by its own age. So
//! the tables hold what an admin may still list, replay or receive, not everything ever sent.
use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Query, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
};
use uuid::Uuid;

use crate::{
    db::entities::{webhook_attempt, webhook_delivery, webhook_endpoint, webhook_message},
    domain::WebhookDeliveryStatus,
    error::ServiceError,
    store::Store,
};

/// Messages looked at per transaction, and pages per round: a round is bounded, and a page
/// of messages still being tried does not stop it from reaching older ones behind them.
const PAGE: u64 = 500;
const PAGES_PER_ROUND: usize = 10;
/// Attempts deleted per round.
const ATTEMPTS_PER_ROUND: u64 = 5_000;

/// What a round forgot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Forgotten {
    pub messages: u64,
    pub attempts: u64,
}

/// Forgets messages written and attempts made before `cutoff`, a bounded amount per call.
/// Old messages are looked at from after `resume_after` (from the oldest if none), which is
/// left where the next call goes on: pending messages at the start of the range are stepped
/// over once per pass, not in every call.
pub async fn forget_before(
    store: &Store,
    cutoff: DateTime<Utc>,
    resume_after: &mut Option<Uuid>,
) -> Result<Forgotten, ServiceError> {
    // Ids are UUIDv7, ordered by their time: what is older than `cutoff` is a range of the
    // primary key, found without an index of its own.
    let bound = first_id_at(cutoff);
    let old_attempts = Query::select()
        .column(webhook_attempt::Column::Id)
        .from(webhook_attempt::Entity)
        .and_where(webhook_attempt::Column::Id.lt(bound))
        .order_by(webhook_attempt::Column::Id, sea_orm::Order::Asc)
        .limit(ATTEMPTS_PER_ROUND)
        .to_owned();
    let attempts = webhook_attempt::Entity::delete_many()
        .filter(webhook_attempt::Column::Id.in_subquery(old_attempts))
        .exec(&store.write)
        .await?
        .rows_affected;

    let mut messages = 0;
    let mut after = resume_after.take();
    for _ in 0..PAGES_PER_ROUND {
        let mut query = webhook_message::Entity::find()
            .select_only()
            .column(webhook_message::Column::Id)
            .filter(webhook_message::Column::Id.lt(bound))
            .order_by_asc(webhook_message::Column::Id)
            .limit(PAGE);
        if let Some(after) = after {
            query = query.filter(webhook_message::Column::Id.gt(after));
        }
        let page: Vec<Uuid> = query.into_tuple().all(&store.read).await?;
        let Some(last) = page.last().copied() else {
            break;
        };
        messages += forget_messages(store, &page).await?;
        if (page.len() as u64) < PAGE {
            // The end of the range: the next call starts again from the oldest.
            break;
        }
        *resume_after = Some(last);
        after = Some(last);
    }
    Ok(Forgotten { messages, attempts })
}

/// Deletes those of `page` without a pending delivery, with their deliveries, in one
/// transaction. Returns how many went.
async fn forget_messages(store: &Store, page: &[Uuid]) -> Result<u64, ServiceError> {
    let txn = store.write.begin().await?;
    // Every delivery belongs to an existing endpoint (deleting one deletes its deliveries):
    // naming them all lets the (endpoint, message) index find a message's deliveries.
    let endpoints: Vec<Uuid> = webhook_endpoint::Entity::find()
        .select_only()
        .column(webhook_endpoint::Column::Id)
        .into_tuple()
        .all(&txn)
        .await?;
    // Pending is told apart here, not in the query: a condition on the status would lead the
    // planner to the index of statuses and through every pending delivery.
    let deliveries: Vec<(Uuid, WebhookDeliveryStatus)> = webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::MessageId)
        .column(webhook_delivery::Column::Status)
        .filter(webhook_delivery::Column::EndpointId.is_in(endpoints.iter().copied()))
        .filter(webhook_delivery::Column::MessageId.is_in(page.iter().copied()))
        .into_tuple()
        .all(&txn)
        .await?;
    let pending: HashSet<Uuid> = deliveries
        .into_iter()
        .filter(|(_, status)| *status == WebhookDeliveryStatus::Pending)
        .map(|(message_id, _)| message_id)
        .collect();
    let gone: Vec<Uuid> = page
        .iter()
        .copied()
        .filter(|id| !pending.contains(id))
        .collect();
    if gone.is_empty() {
        txn.rollback().await?;
        return Ok(0);
    }
    if !endpoints.is_empty() {
        webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::EndpointId.is_in(endpoints.iter().copied()))
            .filter(webhook_delivery::Column::MessageId.is_in(gone.iter().copied()))
            .exec(&txn)
            .await?;
    }
    let deleted = webhook_message::Entity::delete_many()
        .filter(webhook_message::Column::Id.is_in(gone))
        .exec(&txn)
        .await?
        .rows_affected;
    txn.commit().await?;
    Ok(deleted)
}

/// The smallest UUIDv7 of the millisecond `at`: every id made before `at` is less.
fn first_id_at(at: DateTime<Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0) & 0xFFFF_FFFF_FFFF;
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    // Version 7 and the RFC 9562 variant, everything else zero.
    bytes[6] = 0x70;
    bytes[8] = 0x80;
    Uuid::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_id_of_a_millisecond_sorts_between_the_ids_around_it() {
        use uuid::{NoContext, Timestamp};
        let at = DateTime::from_timestamp(1_764_547_200, 500_000_000).expect("a time");
        let id_at = |millis: i64| {
            let t = at + chrono::Duration::milliseconds(millis);
            let nanos = t.timestamp_subsec_nanos();
            let secs = u64::try_from(t.timestamp()).expect("after 1970");
            Uuid::new_v7(Timestamp::from_unix(NoContext, secs, nanos))
        };
        let bound = first_id_at(at);
        let (before, same, after) = (id_at(-1), id_at(0), id_at(1));
        assert_eq!(bound.get_version_num(), 7);
        assert!(before < bound && bound <= same && same < after);
        // Text order is byte order too.
        assert!(before.to_string() < bound.to_string() && bound.to_string() <= same.to_string());
    }
}
