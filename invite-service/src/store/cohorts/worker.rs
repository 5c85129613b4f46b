//! The background worker's step: the next chunk of pending members becomes invites.

use std::collections::HashSet;

use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{
    emails::state_for, invite_rows::create_invites, lock, CohortOptions, EmailCounts,
    SubmittedPolicy,
};
use crate::{
    db::entities::{cohort, cohort_member, invite, job},
    domain::{
        CohortState, DeliveryStatus, InviteStatus, JobState, MemberDelivery, MemberState,
        MessageKind,
    },
    error::ServiceError,
    store::{invites, jobs, now, outbox::NewOutbox, Caller, Store},
};

/// The next cohort with pending members, if any.
async fn next_pending(store: &Store) -> Result<Option<Uuid>, ServiceError> {
    Ok(cohort_member::Entity::find()
        .select_only()
        .column(cohort_member::Column::CohortId)
        .filter(cohort_member::Column::State.eq(MemberState::Pending))
        .limit(1)
        .into_tuple()
        .one(&store.read)
        .await?)
}

/// Turns the next chunk of pending members into invites. False when there was nothing to do.
pub async fn process_next_chunk(store: &Store) -> Result<bool, ServiceError> {
    let Some(cohort_id) = next_pending(store).await? else {
        return Ok(false);
    };
    match process_chunk(store, cohort_id, store.config.cohort_chunk_size).await {
        Ok(()) => Ok(true),
        // An outage is no member's fault: the chunk is tried again once the database is back.
        Err(err) if err.is_unavailable() => Err(err),
        Err(err) => {
            // One member at a time finds the one that cannot be invited.
            tracing::warn!(error = ?err, %cohort_id, "cohort chunk failed; going one by one");
            if let Err(err) = process_chunk(store, cohort_id, 1).await {
                if err.is_unavailable() {
                    return Err(err);
                }
                tracing::error!(error = ?err, %cohort_id, "cohort member failed");
                fail_next(store, cohort_id, "could not be invited: internal error").await?;
            }
            Ok(true)
        }
    }
}

async fn fail_next(store: &Store, cohort_id: Uuid, reason: &str) -> Result<(), ServiceError> {
    let txn = store.write.begin().await?;
    let cohort = lock(&txn, cohort_id).await?;
    let (mut members, more) = next_members(&txn, cohort_id, 1).await?;
    let Some(member) = members.pop() else {
        return Ok(());
    };
    let sequence = cohort.last_sequence + 1;
    let mut row: cohort_member::ActiveModel = member.into();
    row.state = Set(MemberState::Failed);
    row.reason = Set(reason.into());
    row.sequence = Set(Some(sequence));
    row.updated_at = Set(now());
    row.update(&txn).await?;
    finish_chunk(&txn, &cohort, more, 0, 1, sequence, 0).await?;
    txn.commit().await?;
    Ok(())
}

/// The first `limit` pending members of the locked cohort by row, and whether more wait. Only
/// writers holding the cohort's row add or take pending members, so this stays true until the
/// transaction ends.
async fn next_members(
    txn: &sea_orm::DatabaseTransaction,
    cohort_id: Uuid,
    limit: u64,
) -> Result<(Vec<cohort_member::Model>, bool), ServiceError> {
    let mut members = cohort_member::Entity::find()
        .filter(cohort_member::Column::CohortId.eq(cohort_id))
        .filter(cohort_member::Column::State.eq(MemberState::Pending))
        .order_by_asc(cohort_member::Column::Row)
        .limit(limit + 1)
        .all(txn)
        .await?;
    let more = members.len() as u64 > limit;
    members.truncate(limit as usize);
    Ok((members, more))
}

/// Counts the chunk's outcomes (and the emails it queued) on the locked cohort, and moves it
/// on when no member is pending: to `sending` while emails wait for their outcome, else `done`.
async fn finish_chunk(
    txn: &sea_orm::DatabaseTransaction,
    cohort: &cohort::Model,
    pending: bool,
    succeeded: i32,
    failed: i32,
    last_sequence: i64,
    emails_queued: i32,
) -> Result<(), ServiceError> {
    let emails = EmailCounts {
        queued: cohort.emails_queued + emails_queued,
        ..EmailCounts::of(cohort)
    };
    let state = state_for(pending, &emails);
    let mut update = emails
        .write(cohort::Entity::update_many())
        .col_expr(
            cohort::Column::Succeeded,
            Expr::value(cohort.succeeded + succeeded),
        )
        .col_expr(cohort::Column::Failed, Expr::value(cohort.failed + failed))
        .col_expr(cohort::Column::LastSequence, Expr::value(last_sequence))
        .col_expr(cohort::Column::State, Expr::value(state))
        .filter(cohort::Column::Id.eq(cohort.id));
    if state == CohortState::Done {
        update = update.col_expr(cohort::Column::FinishedAt, Expr::value(now()));
    }
    update.exec(txn).await?;
    if state == CohortState::Done {
        crate::store::webhooks::emit::cohort_completed(txn, cohort.id).await?;
    }
    Ok(())
}

async fn process_chunk(store: &Store, cohort_id: Uuid, limit: u64) -> Result<(), ServiceError> {
    let txn = store.write.begin().await?;
    let cohort = lock(&txn, cohort_id).await?;
    let (members, more) = next_members(&txn, cohort.id, limit).await?;
    let (Some(first), Some(last)) = (members.first(), members.last()) else {
        return Ok(());
    };
    let options: CohortOptions = cohort.options.clone();
    let caller = Caller {
        org_id: cohort.org_id,
        key_id: cohort.created_by_key_id,
        scope: crate::domain::Scope::Invites,
        owner_member_id: options.inviter_member_id,
    };
    // Outcomes are numbered by row after the cohort's last number: monotonic across chunks.
    let base = cohort.last_sequence + 1 - i64::from(first.row);
    let rows: Vec<i32> = members.iter().map(|m| m.row).collect();
    // Every invite of a cohort that sends email gets one, queued in this transaction.
    let delivery = if options.send_email {
        MemberDelivery::Tracked(DeliveryStatus::Queued)
    } else {
        MemberDelivery::NotAsked
    };
    let claimed = cohort_member::Entity::update_many()
        .col_expr(
            cohort_member::Column::State,
            Expr::value(MemberState::Invited),
        )
        .col_expr(
            cohort_member::Column::Sequence,
            Expr::col(cohort_member::Column::Row).add(base),
        )
        .col_expr(cohort_member::Column::DeliveryStatus, Expr::value(delivery))
        .col_expr(cohort_member::Column::DeliveryError, Expr::value(""))
        .col_expr(cohort_member::Column::UpdatedAt, Expr::value(now()))
        .filter(cohort_member::Column::CohortId.eq(cohort.id))
        .filter(cohort_member::Column::State.eq(MemberState::Pending))
        .filter(cohort_member::Column::Row.is_in(rows.clone()))
        .exec(&txn)
        .await?
        .rows_affected;
    if claimed != members.len() as u64 {
        // Another replica is on these members: leave them to it.
        return Ok(());
    }
    let last_sequence = base + i64::from(last.row);
    let job = jobs::find(&txn, &caller, cohort.job_id).await?;
    if job.state != JobState::Open {
        fail_members(&txn, &cohort, &rows, "the job was closed").await?;
        finish_chunk(
            &txn,
            &cohort,
            more,
            0,
            members.len() as i32,
            last_sequence,
            0,
        )
        .await?;
        txn.commit().await?;
        return Ok(());
    }
    let reopened = if options.submitted_policy == SubmittedPolicy::Reopen {
        reopen_submitted(&txn, &caller, &job, &members, &options).await?
    } else {
        HashSet::new()
    };
    let fresh: Vec<&cohort_member::Model> = members
        .iter()
        .filter(|m| !reopened.contains(&m.row))
        .collect();
    create_invites(store, &txn, &caller, &cohort, &job, &fresh, &options).await?;
    let count = members.len() as i32;
    let emails = if options.send_email { count } else { 0 };
    finish_chunk(&txn, &cohort, more, count, 0, last_sequence, emails).await?;
    txn.commit().await?;
    Ok(())
}

async fn fail_members(
    txn: &sea_orm::DatabaseTransaction,
    cohort: &cohort::Model,
    rows: &[i32],
    reason: &str,
) -> Result<(), ServiceError> {
    cohort_member::Entity::update_many()
        .col_expr(
            cohort_member::Column::State,
            Expr::value(MemberState::Failed),
        )
        .col_expr(cohort_member::Column::Reason, Expr::value(reason))
        .col_expr(
            cohort_member::Column::DeliveryStatus,
            Expr::value(MemberDelivery::NotAsked),
        )
        .filter(cohort_member::Column::CohortId.eq(cohort.id))
        .filter(cohort_member::Column::Row.is_in(rows.iter().copied()))
        .exec(txn)
        .await?;
    Ok(())
}

/// Members who already submitted go back to `started` on their own link (and get it again by
/// email when the cohort sends email). Returns their rows.
async fn reopen_submitted(
    txn: &sea_orm::DatabaseTransaction,
    caller: &Caller,
    job: &job::Model,
    members: &[cohort_member::Model],
    options: &CohortOptions,
) -> Result<HashSet<i32>, ServiceError> {
    let emails: Vec<String> = members.iter().map(|m| m.email.clone()).collect();
    let submitted = invite::Entity::find()
        .filter(invite::Column::OrgId.eq(caller.org_id))
        .filter(invite::Column::JobId.eq(job.id))
        .filter(invite::Column::Status.eq(InviteStatus::Submitted))
        .filter(invite::Column::CandidateEmail.is_in(emails))
        .all(txn)
        .await?;
    let mut rows = HashSet::new();
    for existing in submitted {
        let Some(member) = members.iter().find(|m| m.email == existing.candidate_email) else {
            continue;
        };
        let outbox = if options.send_email {
            vec![
                NewOutbox::to_candidate(&existing, MessageKind::Resend, existing.link_generation)
                    .for_cohort_member(member.cohort_id, member.row),
            ]
        } else {
            Vec::new()
        };
        let transition = invites::reopen_transition("reopened by a bulk invite".into(), outbox);
        if super::super::transitions::apply(txn, &existing, transition, &caller.actor())
            .await?
            .is_some()
        {
            cohort_member::Entity::update_many()
                .col_expr(cohort_member::Column::InviteId, Expr::value(existing.id))
                .filter(cohort_member::Column::CohortId.eq(member.cohort_id))
                .filter(cohort_member::Column::Row.eq(member.row))
                .exec(txn)
                .await?;
            rows.insert(member.row);
        }
    }
    Ok(rows)
}
