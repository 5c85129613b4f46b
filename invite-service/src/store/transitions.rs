//! Guarded changes of an invite's state, each with its audit event and the messages it sends,
//! in the caller's transaction. Every module that moves an invite (admin calls, link pages,
//! sweeps, cohorts, public registration, outbox outcomes) goes through here.
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    EntityTrait, QueryFilter, QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{
    now,
    outbox::{self, NewOutbox},
    webhooks::{self, emit::InviteHappening},
    Caller, Store,
};
use crate::{
    db::entities::{invite, invite_event},
    domain::{webhooks::WebhookEvent, EventKind, InviteStatus},
    error::ServiceError,
};

/// One guarded change of an invite: applied only if the invite is in one of `from` (and, when
/// given, its lock is as expected), with its event, in one transaction. The guard sits in the
/// UPDATE's WHERE, so concurrent callers cannot both pass it.
pub(crate) struct Transition<'a> {
    pub from: &'a [InviteStatus],
    pub locked: Option<bool>,
    pub changes: Vec<(invite::Column, sea_orm::sea_query::SimpleExpr)>,
    pub event: EventKind,
    pub detail: String,
    /// Messages the change sends, written in its transaction.
    pub outbox: Vec<NewOutbox>,
}

/// Applies the transition; `Ok(None)` when the guard did not hold.
pub(crate) async fn apply(
    txn: &DatabaseTransaction,
    invite: &invite::Model,
    transition: Transition<'_>,
    actor: &str,
) -> Result<Option<invite::Model>, ServiceError> {
    let mut update = invite::Entity::update_many()
        .col_expr(invite::Column::UpdatedAt, Expr::value(now()))
        .filter(invite::Column::Id.eq(invite.id))
        .filter(invite::Column::OrgId.eq(invite.org_id))
        .filter(invite::Column::Status.is_in(transition.from.iter().copied()));
    if let Some(locked) = transition.locked {
        update = update.filter(invite::Column::Locked.eq(locked));
    }
    // An expiry only while the time has passed: an invite renewed since it was read as due
    // (`renewals.rs`) has a new expiry, and stays live.
    if transition.event == EventKind::Expired {
        update = update.filter(invite::Column::ExpiresAt.lte(now()));
    }
    for (column, value) in transition.changes {
        update = update.col_expr(column, value);
    }
    if update.exec(txn).await?.rows_affected == 0 {
        return Ok(None);
    }
    record_event(txn, invite, transition.event, actor, &transition.detail).await?;
    let updated = invite::Entity::find_by_id(invite.id)
        .one(txn)
        .await?
        .ok_or(ServiceError::NotFound("invite"))?;
    outbox::insert(txn, &updated, &transition.outbox).await?;
    Ok(Some(updated))
}

/// Runs an admin-side transition on the caller's invite, or says why it cannot happen.
///
/// The invite is read locked inside the transaction (`FOR UPDATE` on PostgreSQL; SQLite has one
/// writer), so the answer rests on its state as this change finds it, even when concurrent calls
/// race: if `done` already holds, the transition has happened (a retry, or a racing twin won),
/// and the invite is returned as it is with nothing written; if its state is one the transition
/// cannot leave from, the call is refused; otherwise it is applied.
pub(crate) async fn change(
    store: &Store,
    caller: &Caller,
    id: Uuid,
    done: impl FnOnce(&invite::Model) -> bool,
    transition: impl FnOnce(&invite::Model) -> Result<Transition<'static>, ServiceError>,
) -> Result<invite::Model, ServiceError> {
    let txn = store.write.begin().await?;
    let invite = invite::Entity::find_by_id(id)
        .filter(invite::Column::OrgId.eq(caller.org_id))
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("invite"))?;
    if done(&invite) {
        // Nothing to write; let the next caller waiting on the lock go at once.
        txn.rollback().await?;
        return Ok(invite);
    }
    let transition = transition(&invite)?;
    let (from, locked) = (transition.from, transition.locked);
    match apply(&txn, &invite, transition, &caller.actor()).await? {
        Some(updated) => {
            txn.commit().await?;
            Ok(updated)
        }
        None => Err(refusal(&invite, from, locked)),
    }
}

/// Why the transition cannot leave the invite's state: the state first, the lock only when the
/// state would do.
fn refusal(invite: &invite::Model, from: &[InviteStatus], locked: Option<bool>) -> ServiceError {
    let status = invite.status;
    if from.contains(&status) {
        if let Some(locked) = locked {
            if invite.locked != locked {
                return if invite.locked {
                    ServiceError::precondition("INVITE_LOCKED", "the invite is locked")
                } else {
                    ServiceError::precondition("INVITE_NOT_LOCKED", "the invite is not locked")
                };
            }
        }
    }
    let allowed: Vec<String> = from.iter().map(ToString::to_string).collect();
    ServiceError::precondition(
        "INVALID_INVITE_STATE",
        format!(
            "the invite is {status}; this needs it to be {}",
            allowed.join(" or ")
        ),
    )
}

/// Writes an invite's audit event and, for the kinds receivers hear of, its webhook message.
/// Written after the change, so the message carries the invite as changed.
pub(crate) async fn record_event(
    db: &impl ConnectionTrait,
    invite: &invite::Model,
    kind: EventKind,
    actor: &str,
    detail: &str,
) -> Result<(), ServiceError> {
    insert_event(db, invite, kind, actor, detail).await?;
    if let Some(event) = WebhookEvent::of_invite_event(kind) {
        webhooks::emit::invites(
            db,
            &[InviteHappening {
                event,
                org_id: invite.org_id,
                invite_id: invite.id,
                actor: actor.into(),
                detail: detail.into(),
            }],
        )
        .await?;
    }
    Ok(())
}

/// Writes an invite's audit event alone: for callers that say themselves what receivers hear.
pub(crate) async fn insert_event(
    db: &impl ConnectionTrait,
    invite: &invite::Model,
    kind: EventKind,
    actor: &str,
    detail: &str,
) -> Result<(), ServiceError> {
    invite_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(invite.org_id),
        invite_id: Set(invite.id),
        kind: Set(kind),
        actor: Set(actor.into()),
        detail: Set(detail.into()),
        created_at: Set(now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A transaction for the link pages, which change invites on the candidate's behalf.
pub(crate) async fn begin(store: &Store) -> Result<DatabaseTransaction, ServiceError> {
    Ok(store.write.begin().await?)
}
