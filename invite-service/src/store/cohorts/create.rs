//! Storing a checked list as a cohort of members, in one transaction.

use sea_orm::{ActiveModelTrait, EntityTrait, Set, TransactionTrait};
use uuid::Uuid;

use super::{find, preview::RowOutcome, CohortOptions, Preview};
use crate::{
    db::entities::{cohort, cohort_member, job},
    domain::{CohortState, Labels, MemberDelivery, MemberState},
    error::ServiceError,
    store::{
        idempotency::{Idempotency, RequestId},
        now, Caller, Store,
    },
};

/// Stores the cohort and its members; the background worker makes the invites.
pub async fn create(
    store: &Store,
    caller: &Caller,
    job: &job::Model,
    preview: &Preview,
    options: &CohortOptions,
    request: Option<RequestId>,
) -> Result<cohort::Model, ServiceError> {
    let idempotency = request.map(|r| Idempotency::new(caller, "BulkCreateInvites", &r));
    let attempt = || async {
        let txn = store.write.begin().await?;
        if let Some(idempotency) = &idempotency {
            if let Some(replay) = idempotency.replay(&txn).await? {
                return find(&txn, caller, replay.resource_id).await;
            }
        }
        let at = now();
        let id = Uuid::now_v7();
        // Rows that cannot be invited but were meant to be are failed members, so they can be
        // retried with a corrected address; duplicates and skipped rows are not members.
        let mut members = Vec::new();
        let mut sequence = 0i64;
        for row in &preview.rows {
            let (state, reason) = if preview.invites(row) {
                (MemberState::Pending, String::new())
            } else if matches!(row.outcome, RowOutcome::Malformed | RowOutcome::Suppressed) {
                (MemberState::Failed, row.reason.clone())
            } else {
                continue;
            };
            let failed = state == MemberState::Failed;
            if failed {
                sequence += 1;
            }
            members.push(cohort_member::ActiveModel {
                cohort_id: Set(id),
                row: Set(row.entry.row as i32),
                org_id: Set(caller.org_id),
                email: Set(row.entry.email.clone()),
                name: Set(row.entry.name.clone()),
                external_id: Set(row.entry.external_id.clone()),
                labels: Set(Labels(row.entry.labels.clone())),
                state: Set(state),
                invite_id: Set(None),
                reason: Set(reason),
                sequence: Set(failed.then_some(sequence)),
                updated_at: Set(at),
                delivery_status: Set(MemberDelivery::NotAsked),
                delivery_error: Set(String::new()),
                locale: Set(row.entry.locale.clone()),
                time_zone: Set(row.entry.time_zone.clone()),
            });
        }
        let failed = members
            .iter()
            .filter(|m| m.state.as_ref() == &MemberState::Failed)
            .count() as i32;
        let total = members.len() as i32;
        let cohort = cohort::ActiveModel {
            id: Set(id),
            org_id: Set(caller.org_id),
            job_id: Set(job.id),
            options: Set(options.clone()),
            created_by_key_id: Set(caller.key_id),
            state: Set(if total == failed {
                CohortState::Done
            } else {
                CohortState::Running
            }),
            total: Set(total),
            succeeded: Set(0),
            failed: Set(failed),
            last_sequence: Set(sequence),
            created_at: Set(at),
            finished_at: Set((total == failed).then_some(at)),
            emails_queued: Set(0),
            emails_deferred: Set(0),
            emails_sent: Set(0),
            emails_failed: Set(0),
            emails_suppressed: Set(0),
        }
        .insert(&txn)
        .await?;
        // SQLite binds at most 32766 values per statement.
        for chunk in members.chunks(1000) {
            cohort_member::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        if let Some(idempotency) = &idempotency {
            idempotency.record(&txn, cohort.id, None).await?;
        }
        if cohort.state == CohortState::Done {
            crate::store::webhooks::emit::cohort_completed(&txn, cohort.id).await?;
        }
        txn.commit().await?;
        Ok(cohort)
    };
    match attempt().await {
        Err(ServiceError::UniqueViolation(_)) if idempotency.is_some() => attempt().await,
        other => other,
    }
}
