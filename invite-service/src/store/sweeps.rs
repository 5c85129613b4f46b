//! Time-driven changes: links that passed their expiry, and reminders that are due. Each runs in
//! batches; a change is guarded in the database, so two replicas sweeping at once do it once.
use sea_orm::{
    sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};

use super::{
    now,
    outbox::{self, NewOutbox},
    transitions::{apply, record_event, Transition},
    Store,
};
use crate::{
    db::entities::invite,
    domain::{EventKind, InviteStatus, MessageKind},
    error::ServiceError,
};

const BATCH: u64 = 500;
const SYSTEM: &str = "system";

/// Expires live invites whose time has passed. Returns how many.
pub async fn expire_due(store: &Store) -> Result<usize, ServiceError> {
    let due = invite::Entity::find()
        .filter(invite::Column::ExpiresAt.lte(now()))
        .filter(invite::Column::Status.is_in(InviteStatus::LIVE.iter().copied()))
        .limit(BATCH)
        .all(&store.read)
        .await?;
    let txn = store.write.begin().await?;
    let mut expired = 0;
    for invite in &due {
        let transition = Transition {
            from: InviteStatus::LIVE,
            locked: None,
            changes: vec![(invite::Column::Status, Expr::value(InviteStatus::Expired))],
            event: EventKind::Expired,
            detail: String::new(),
            outbox: Vec::new(),
        };
        if apply(&txn, invite, transition, SYSTEM).await?.is_some() {
            expired += 1;
        }
    }
    txn.commit().await?;
    Ok(expired)
}

/// Sends the one reminder of invites whose candidate has not started by their reminder time.
pub async fn send_due_reminders(store: &Store) -> Result<usize, ServiceError> {
    let waiting = [
        InviteStatus::Created,
        InviteStatus::Sent,
        InviteStatus::Opened,
    ];
    let due = invite::Entity::find()
        .filter(invite::Column::RemindAt.lte(now()))
        .filter(invite::Column::RemindedAt.is_null())
        .filter(invite::Column::Status.is_in(waiting.iter().copied()))
        .limit(BATCH)
        .all(&store.read)
        .await?;
    let txn = store.write.begin().await?;
    let mut reminded = 0;
    for invite in &due {
        let taken = invite::Entity::update_many()
            .col_expr(invite::Column::RemindedAt, Expr::value(now()))
            .filter(invite::Column::Id.eq(invite.id))
            .filter(invite::Column::RemindedAt.is_null())
            .filter(invite::Column::Status.is_in(waiting.iter().copied()))
            .exec(&txn)
            .await?
            .rows_affected
            == 1;
        if !taken {
            continue;
        }
        if invite.candidate_email.is_empty() {
            record_event(
                &txn,
                invite,
                EventKind::Reminded,
                SYSTEM,
                "no email to remind",
            )
            .await?;
            continue;
        }
        outbox::insert(
            &txn,
            invite,
            &[NewOutbox::to_candidate(
                invite,
                MessageKind::Reminder,
                invite.link_generation,
            )],
        )
        .await?;
        record_event(&txn, invite, EventKind::Reminded, SYSTEM, "reminder queued").await?;
        reminded += 1;
    }
    txn.commit().await?;
    Ok(reminded)
}
