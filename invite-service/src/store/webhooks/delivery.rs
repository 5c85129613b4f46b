//! Delivering messages: what is due (each invite's messages to an endpoint one at a time, in
//! order), what an attempt found, replays, and the lists an admin reads.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, LockBehavior, LockType},
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Set, TransactionTrait,
};
use uuid::Uuid;

use super::endpoints::{self, find};
use crate::{
    db::entities::{webhook_attempt, webhook_delivery, webhook_endpoint, webhook_message},
    domain::{webhooks, WebhookDeliveryStatus},
    error::ServiceError,
    store::{
        now,
        paging::{Order, Page},
        Caller, Store,
    },
};

/// A message due for an attempt, with where it goes.
#[derive(Clone, Debug)]
pub struct Due {
    pub seq: i64,
    pub message: webhook_message::Model,
    pub endpoint: webhook_endpoint::Model,
    /// Attempts made before this one.
    pub attempt_count: i32,
    /// Until when this round holds it: its outcome is written only if the hold is still this
    /// round's (a hold that ran out may have let another sender take and settle it).
    pub held_until: DateTime<Utc>,
}

/// What comes after an attempt, as the sender decided from its answer and the schedule.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NextStep {
    Delivered,
    RetryAt(DateTime<Utc>),
    /// The schedule is used up.
    GiveUp,
    /// The receiver answered 410 Gone: the endpoint is turned off.
    EndpointGone,
}

/// One attempt and what follows it.
#[derive(Clone, Debug)]
pub struct Attempted {
    pub due: Due,
    pub attempted_at: DateTime<Utc>,
    /// Zero when there was no answer.
    pub response_status: u16,
    pub response_excerpt: String,
    pub error: String,
    pub latency_ms: u32,
    pub next: NextStep,
}

/// Takes up to `limit` due messages: pending, due, to an enabled endpoint, and the first of
/// their invite still pending for that endpoint. Each is held for `lease` (its next attempt
/// moves there), so another round or replica does not take it too; a sender that dies lets
/// it fall due again when the lease ends.
pub async fn claim_due(
    store: &Store,
    limit: u64,
    lease: chrono::Duration,
) -> Result<Vec<Due>, ServiceError> {
    let at = now();
    let postgres = store.write.get_database_backend() == DbBackend::Postgres;
    // Most rounds find nothing: on SQLite, ask a reader first, so an idle loop never takes the
    // single writer.
    if !postgres && due_query(at).one(&store.read).await?.is_none() {
        return Ok(Vec::new());
    }
    let txn = store.write.begin().await?;
    let mut due = due_query(at)
        .select_only()
        .column(webhook_delivery::Column::Seq)
        .limit(limit);
    if postgres {
        // Walk the due index in order and stop after `limit`. Statistics taken before a burst
        // (a cohort's 10,000 messages) make the planner expect few due rows and choose to
        // check and sort every one of them instead: 20 ms a claim at 10,000, against 0.5 ms.
        txn.execute_unprepared("SET LOCAL enable_sort = off")
            .await?;
        due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    // Found and held in one statement.
    let held_until = at + lease;
    let mut deliveries = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(held_until),
        )
        .filter(webhook_delivery::Column::Seq.in_subquery(due.into_query()))
        .exec_with_returning(&txn)
        .await?;
    if deliveries.is_empty() {
        txn.rollback().await?;
        return Ok(Vec::new());
    }
    // Returned in no particular order: oldest first.
    deliveries.sort_by_key(|d| d.seq);
    let message_ids: HashSet<Uuid> = deliveries.iter().map(|d| d.message_id).collect();
    let messages: HashMap<Uuid, webhook_message::Model> = webhook_message::Entity::find()
        .filter(webhook_message::Column::Id.is_in(message_ids))
        .all(&txn)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let endpoint_ids: HashSet<Uuid> = deliveries.iter().map(|d| d.endpoint_id).collect();
    let endpoints: HashMap<Uuid, webhook_endpoint::Model> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Id.is_in(endpoint_ids))
        .all(&txn)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    txn.commit().await?;
    Ok(deliveries
        .into_iter()
        .filter_map(|d| {
            Some(Due {
                seq: d.seq,
                message: messages.get(&d.message_id)?.clone(),
                endpoint: endpoints.get(&d.endpoint_id)?.clone(),
                attempt_count: d.attempt_count,
                held_until,
            })
        })
        .collect())
}

/// Pending deliveries due at `at` to an enabled endpoint, each the first of its invite still
/// pending for that endpoint, the longest due first. That order is the index's
/// (`webhook_deliveries_status_due`): a claim reads about as many rows as it takes, whatever
/// the backlog, the deliveries already settled, or those scheduled for later.
fn due_query(at: DateTime<Utc>) -> sea_orm::Select<webhook_delivery::Entity> {
    webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(at))
        .filter(Expr::cust(
            "endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = TRUE)",
        ))
        // In order per invite: nothing of an invite goes while an earlier one waits.
        .filter(Expr::cust(
            "NOT EXISTS (SELECT 1 FROM webhook_deliveries earlier \
             WHERE earlier.endpoint_id = webhook_deliveries.endpoint_id \
             AND earlier.invite_id = webhook_deliveries.invite_id \
             AND earlier.status = 'pending' AND earlier.seq < webhook_deliveries.seq)",
        ))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
}

/// Puts taken messages back, due at the given times, without counting an attempt (a rate
/// limit said wait).
pub async fn release(store: &Store, due_at: &[(&Due, DateTime<Utc>)]) -> Result<(), ServiceError> {
    if due_at.is_empty() {
        return Ok(());
    }
    let txn = store.write.begin().await?;
    for (due, at) in due_at {
        still_held(webhook_delivery::Entity::update_many(), due)
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(*at))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The update of a taken delivery, only while this round's hold on it lasts.
fn still_held(
    update: sea_orm::UpdateMany<webhook_delivery::Entity>,
    due: &Due,
) -> sea_orm::UpdateMany<webhook_delivery::Entity> {
    update
        .filter(webhook_delivery::Column::Seq.eq(due.seq))
        .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .filter(webhook_delivery::Column::NextAttemptAt.eq(due.held_until))
}

/// Records a round's attempts in one transaction: each attempt's row, its delivery's next
/// step, and each endpoint's health. Returns the endpoints it turned off: answered 410 Gone, or
/// failing since before `failing_limit` (their organizations' admins are emailed).
pub async fn record(
    store: &Store,
    attempts: &[Attempted],
    failing_limit: DateTime<Utc>,
) -> Result<Vec<webhook_endpoint::Model>, ServiceError> {
    if attempts.is_empty() {
        return Ok(Vec::new());
    }
    let at = now();
    let txn = store.write.begin().await?;
    for chunk in attempts.chunks(500) {
        webhook_attempt::Entity::insert_many(chunk.iter().map(|a| webhook_attempt::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(a.due.endpoint.org_id),
            endpoint_id: Set(a.due.endpoint.id),
            message_id: Set(a.due.message.id),
            attempted_at: Set(a.attempted_at),
            response_status: Set(i32::from(a.response_status)),
            response_excerpt: Set(a.response_excerpt.clone()),
            error: Set(a.error.clone()),
            latency_ms: Set(i32::try_from(a.latency_ms).unwrap_or(i32::MAX)),
            succeeded: Set(a.next == NextStep::Delivered),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    // Delivered: one statement per hold (a round's deliveries share theirs), each row still
    // guarded by it.
    let mut delivered: HashMap<DateTime<Utc>, Vec<i64>> = HashMap::new();
    for attempt in attempts.iter().filter(|a| a.next == NextStep::Delivered) {
        delivered
            .entry(attempt.due.held_until)
            .or_default()
            .push(attempt.due.seq);
    }
    for (held_until, seqs) in delivered {
        for chunk in seqs.chunks(1000) {
            webhook_delivery::Entity::update_many()
                .col_expr(
                    webhook_delivery::Column::Status,
                    Expr::value(WebhookDeliveryStatus::Delivered),
                )
                .col_expr(
                    webhook_delivery::Column::AttemptCount,
                    Expr::col(webhook_delivery::Column::AttemptCount).add(1),
                )
                .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(at))
                .filter(webhook_delivery::Column::Seq.is_in(chunk.iter().copied()))
                .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
                .filter(webhook_delivery::Column::NextAttemptAt.eq(held_until))
                .exec(&txn)
                .await?;
        }
    }
    let mut gone = Vec::new();
    for attempt in attempts.iter().filter(|a| a.next != NextStep::Delivered) {
        let (status, next_at) = match attempt.next {
            NextStep::RetryAt(next_at) => (WebhookDeliveryStatus::Pending, next_at),
            NextStep::GiveUp | NextStep::EndpointGone => (WebhookDeliveryStatus::Failed, at),
            NextStep::Delivered => continue,
        };
        if attempt.next == NextStep::EndpointGone {
            gone.push(attempt.due.endpoint.id);
        }
        still_held(webhook_delivery::Entity::update_many(), &attempt.due)
            .col_expr(webhook_delivery::Column::Status, Expr::value(status))
            .col_expr(
                webhook_delivery::Column::AttemptCount,
                Expr::col(webhook_delivery::Column::AttemptCount).add(1),
            )
            .col_expr(
                webhook_delivery::Column::NextAttemptAt,
                Expr::value(next_at),
            )
            .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(at))
            .exec(&txn)
            .await?;
    }
    let mut disabled = endpoints::disable(&txn, &gone, webhooks::DISABLED_GONE).await?;

    // Health: a success ends an endpoint's failing run; a round of failures only starts one.
    let succeeded: HashSet<Uuid> = attempts
        .iter()
        .filter(|a| a.next == NextStep::Delivered)
        .map(|a| a.due.endpoint.id)
        .collect();
    let failed: HashSet<Uuid> = attempts
        .iter()
        .map(|a| a.due.endpoint.id)
        .filter(|id| !succeeded.contains(id))
        .collect();
    if !succeeded.is_empty() {
        webhook_endpoint::Entity::update_many()
            .col_expr(
                webhook_endpoint::Column::FailingSince,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(webhook_endpoint::Column::Id.is_in(succeeded))
            .filter(webhook_endpoint::Column::FailingSince.is_not_null())
            .exec(&txn)
            .await?;
    }
    if !failed.is_empty() {
        webhook_endpoint::Entity::update_many()
            .col_expr(webhook_endpoint::Column::FailingSince, Expr::value(at))
            .filter(webhook_endpoint::Column::Id.is_in(failed.iter().copied()))
            .filter(webhook_endpoint::Column::FailingSince.is_null())
            .exec(&txn)
            .await?;
        let too_long: Vec<webhook_endpoint::Model> = webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Id.is_in(failed.iter().copied()))
            .filter(webhook_endpoint::Column::Enabled.eq(true))
            .filter(webhook_endpoint::Column::FailingSince.lt(failing_limit))
            .all(&txn)
            .await?;
        let ids: Vec<Uuid> = too_long.iter().map(|e| e.id).collect();
        disabled.extend(endpoints::disable(&txn, &ids, webhooks::DISABLED_FAILING).await?);
    }
    txn.commit().await?;
    Ok(disabled)
}

/// A message sent to one endpoint, with its delivery there.
pub struct EndpointMessage {
    pub delivery: webhook_delivery::Model,
    pub message: webhook_message::Model,
}

/// Sends one message to the endpoint again, due now, with the same `webhook-id`. A message
/// the endpoint never took (created before it, or filtered out) is sent to it now.
pub async fn replay(
    store: &Store,
    caller: &Caller,
    endpoint_id: Uuid,
    message_id: Uuid,
) -> Result<EndpointMessage, ServiceError> {
    let txn = store.write.begin().await?;
    let endpoint = find(&txn, caller, endpoint_id).await?;
    let message = webhook_message::Entity::find_by_id(message_id)
        .filter(webhook_message::Column::OrgId.eq(caller.org_id))
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("webhook message"))?;
    let at = now();
    let existing = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .filter(webhook_delivery::Column::MessageId.eq(message.id))
        .one(&txn)
        .await?;
    match existing {
        Some(delivery) => {
            webhook_delivery::Entity::update_many()
                .col_expr(
                    webhook_delivery::Column::Status,
                    Expr::value(WebhookDeliveryStatus::Pending),
                )
                .col_expr(webhook_delivery::Column::AttemptCount, Expr::value(0))
                .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(at))
                .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(at))
                .filter(webhook_delivery::Column::Seq.eq(delivery.seq))
                .exec(&txn)
                .await?;
        }
        None => {
            webhook_delivery::Entity::insert(webhook_delivery::ActiveModel {
                message_id: Set(message.id),
                endpoint_id: Set(endpoint.id),
                org_id: Set(caller.org_id),
                invite_id: Set(message.invite_id),
                status: Set(WebhookDeliveryStatus::Pending),
                attempt_count: Set(0),
                next_attempt_at: Set(at),
                created_at: Set(at),
                updated_at: Set(at),
                ..Default::default()
            })
            .exec_without_returning(&txn)
            .await?;
        }
    }
    let delivery = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .filter(webhook_delivery::Column::MessageId.eq(message.id))
        .one(&txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a replayed delivery is gone"))?;
    txn.commit().await?;
    Ok(EndpointMessage { delivery, message })
}

/// Every message created since `since` whose delivery to the endpoint failed is due again now.
pub async fn replay_failed(
    store: &Store,
    caller: &Caller,
    endpoint_id: Uuid,
    since: DateTime<Utc>,
) -> Result<u64, ServiceError> {
    let txn = store.write.begin().await?;
    let endpoint = find(&txn, caller, endpoint_id).await?;
    let at = now();
    let replayed = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Status,
            Expr::value(WebhookDeliveryStatus::Pending),
        )
        .col_expr(webhook_delivery::Column::AttemptCount, Expr::value(0))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(at))
        .col_expr(webhook_delivery::Column::UpdatedAt, Expr::value(at))
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Failed))
        .filter(webhook_delivery::Column::CreatedAt.gte(since))
        .exec(&txn)
        .await?
        .rows_affected;
    txn.commit().await?;
    Ok(replayed)
}

/// A `ping` to the endpoint, due now.
pub async fn ping(
    store: &Store,
    caller: &Caller,
    endpoint_id: Uuid,
) -> Result<EndpointMessage, ServiceError> {
    let txn = store.write.begin().await?;
    let endpoint = find(&txn, caller, endpoint_id).await?;
    if !endpoint.enabled {
        return Err(ServiceError::precondition(
            "WEBHOOK_ENDPOINT_DISABLED",
            "the endpoint is turned off; turn it on (UpdateWebhookEndpoint, enabled) to test it",
        ));
    }
    let message = super::emit::ping(&txn, &endpoint).await?;
    let delivery = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .filter(webhook_delivery::Column::MessageId.eq(message.id))
        .one(&txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a ping wrote no delivery"))?;
    txn.commit().await?;
    Ok(EndpointMessage { delivery, message })
}

/// The endpoint's messages, newest first, optionally in one status.
pub async fn list_messages(
    store: &Store,
    caller: &Caller,
    endpoint_id: Uuid,
    status: Option<WebhookDeliveryStatus>,
    page: &Page,
) -> Result<(Vec<EndpointMessage>, String), ServiceError> {
    let endpoint = find(&store.read, caller, endpoint_id).await?;
    let mut query = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id));
    if let Some(status) = status {
        query = query.filter(webhook_delivery::Column::Status.eq(status));
    }
    let (deliveries, next) = page
        .fetch(
            &store.read,
            query,
            webhook_delivery::Column::MessageId,
            Order::Descending,
            |d| d.message_id,
        )
        .await?;
    let ids: Vec<Uuid> = deliveries.iter().map(|d| d.message_id).collect();
    let mut messages: HashMap<Uuid, webhook_message::Model> = webhook_message::Entity::find()
        .filter(webhook_message::Column::Id.is_in(ids))
        .all(&store.read)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let listed = deliveries
        .into_iter()
        .filter_map(|delivery| {
            let message = messages.remove(&delivery.message_id)?;
            Some(EndpointMessage { delivery, message })
        })
        .collect();
    Ok((listed, next))
}

/// The endpoint's attempts, newest first, optionally of one message.
pub async fn list_attempts(
    store: &Store,
    caller: &Caller,
    endpoint_id: Uuid,
    message_id: Option<Uuid>,
    page: &Page,
) -> Result<(Vec<webhook_attempt::Model>, String), ServiceError> {
    let endpoint = find(&store.read, caller, endpoint_id).await?;
    let mut query =
        webhook_attempt::Entity::find().filter(webhook_attempt::Column::EndpointId.eq(endpoint.id));
    if let Some(message_id) = message_id {
        query = query.filter(webhook_attempt::Column::MessageId.eq(message_id));
    }
    page.fetch(
        &store.read,
        query,
        webhook_attempt::Column::Id,
        Order::Descending,
        |a| a.id,
    )
    .await
}
