//! Putting a cohort's failed members back in line.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    TransactionTrait,
};
use uuid::Uuid;

use super::{find, lock, read::invite_ids_by_email, EmailCounts};
use crate::domain::email::Email;
use crate::{
    db::entities::{candidate, cohort, cohort_member, invite},
    domain::{
        CohortState, DeliveryStatus, EventKind, InviteStatus, MemberDelivery, MemberState,
        MessageKind,
    },
    error::ServiceError,
    store::{
        now,
        outbox::{self, NewOutbox},
        Caller, Store,
    },
};

/// Puts failed members back in line, with corrected addresses where given. A member whose
/// invite could not be made goes back to the worker, as a new row would. A member whose email
/// failed or was suppressed keeps its invite (and so its invite id and link, which reached no
/// one): with a corrected address the invite and its candidate take the new address, and the
/// invitation is emailed again, as the cohort's email, whose outcome the cohort follows. Members
/// whose invite was revoked or expired meanwhile are left as they are.
pub async fn retry_failures(
    store: &Store,
    caller: &Caller,
    cohort_id: Uuid,
    corrections: &HashMap<i32, Email>,
) -> Result<cohort::Model, ServiceError> {
    let txn = store.write.begin().await?;
    find(&txn, caller, cohort_id).await?;
    let cohort = lock(&txn, cohort_id).await?;
    let undelivered =
        [DeliveryStatus::Failed, DeliveryStatus::Suppressed].map(MemberDelivery::from);
    let failed = cohort_member::Entity::find()
        .filter(cohort_member::Column::CohortId.eq(cohort.id))
        .filter(
            sea_orm::Condition::any()
                .add(cohort_member::Column::State.eq(MemberState::Failed))
                .add(
                    sea_orm::Condition::all()
                        .add(cohort_member::Column::State.eq(MemberState::Invited))
                        .add(cohort_member::Column::DeliveryStatus.is_in(undelivered)),
                ),
        )
        .order_by_asc(cohort_member::Column::Row)
        .all(&txn)
        .await?;
    let invites = undelivered_invites(&txn, &cohort, &failed).await?;
    let mut violations = Vec::new();
    let mut rows: Vec<&i32> = corrections.keys().collect();
    rows.sort();
    for row in rows {
        let field = format!("corrected_emails[{row}]");
        match failed.iter().find(|m| m.row == *row) {
            None => violations.push(crate::error::FieldViolation {
                field,
                description: "is not a failed row of this cohort".into(),
            }),
            Some(member)
                if member.state == MemberState::Invited && !invites.contains_key(&member.row) =>
            {
                violations.push(crate::error::FieldViolation {
                    field,
                    description: "its invite was revoked or expired; it cannot be emailed again"
                        .into(),
                })
            }
            Some(_) => {}
        }
    }
    if !violations.is_empty() {
        return Err(ServiceError::InvalidArgument(violations));
    }
    let at = now();
    let mut sequence = cohort.last_sequence;
    let mut emails = EmailCounts::of(&cohort);
    let (mut reinvited, mut resent) = (0, 0);
    for member in failed {
        let email = corrections.get(&member.row).map(Email::to_string);
        if member.state == MemberState::Invited {
            let Some(invite) = invites.get(&member.row) else {
                continue;
            };
            sequence += 1;
            let before = member.delivery_status.status();
            email_again(&txn, caller, invite, &member, email, sequence).await?;
            emails = emails.moved(before, DeliveryStatus::Queued, 1);
            resent += 1;
            continue;
        }
        // A row whose address never parsed can only come back with a correction.
        if email.is_none() && member.reason.contains("not an email address") {
            continue;
        }
        let mut row: cohort_member::ActiveModel = member.clone().into();
        if let Some(email) = email {
            row.email = Set(email);
        }
        row.state = Set(MemberState::Pending);
        row.reason = Set(String::new());
        row.sequence = Set(None);
        row.invite_id = Set(None);
        row.delivery_status = Set(MemberDelivery::NotAsked);
        row.delivery_error = Set(String::new());
        row.updated_at = Set(at);
        row.update(&txn).await?;
        reinvited += 1;
    }
    if reinvited + resent > 0 {
        let state = if reinvited > 0 {
            CohortState::Running
        } else {
            CohortState::Sending
        };
        emails
            .write(cohort::Entity::update_many())
            .col_expr(
                cohort::Column::Failed,
                Expr::value(cohort.failed - reinvited),
            )
            .col_expr(cohort::Column::LastSequence, Expr::value(sequence))
            .col_expr(cohort::Column::State, Expr::value(state))
            .col_expr(
                cohort::Column::FinishedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(cohort::Column::Id.eq(cohort.id))
            .exec(&txn)
            .await?;
    }
    let cohort = find(&txn, caller, cohort_id).await?;
    txn.commit().await?;
    Ok(cohort)
}

/// The live invites of members whose email did not arrive, by row.
async fn undelivered_invites(
    txn: &sea_orm::DatabaseTransaction,
    cohort: &cohort::Model,
    members: &[cohort_member::Model],
) -> Result<HashMap<i32, invite::Model>, ServiceError> {
    let emailed: Vec<&cohort_member::Model> = members
        .iter()
        .filter(|m| m.state == MemberState::Invited)
        .collect();
    if emailed.is_empty() {
        return Ok(HashMap::new());
    }
    let by_email = invite_ids_by_email(txn, cohort.id).await?;
    let ids: HashMap<Uuid, i32> = emailed
        .iter()
        .filter_map(|m| {
            m.invite_id
                .or_else(|| by_email.get(&m.email).copied())
                .map(|id| (id, m.row))
        })
        .collect();
    let mut found = HashMap::new();
    for chunk in ids.keys().copied().collect::<Vec<_>>().chunks(1000) {
        for invite in invite::Entity::find()
            .filter(invite::Column::OrgId.eq(cohort.org_id))
            .filter(invite::Column::Id.is_in(chunk.iter().copied()))
            .all(txn)
            .await?
        {
            let live = InviteStatus::LIVE.contains(&invite.status);
            if let (true, Some(row)) = (live, ids.get(&invite.id)) {
                found.insert(*row, invite);
            }
        }
    }
    Ok(found)
}

/// Emails a member's invitation again (its link as it is now), to `corrected` if given: the
/// invite and its candidate take that address first.
async fn email_again(
    txn: &sea_orm::DatabaseTransaction,
    caller: &Caller,
    invite: &invite::Model,
    member: &cohort_member::Model,
    corrected: Option<String>,
    sequence: i64,
) -> Result<(), ServiceError> {
    let at = now();
    let email = corrected.unwrap_or_else(|| invite.candidate_email.clone());
    let mut invite = invite.clone();
    if email != invite.candidate_email {
        candidate::Entity::insert(candidate::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(caller.org_id),
            email: Set(email.clone()),
            name: Set(invite.candidate_name.clone()),
            external_id: Set(member.external_id.clone()),
            created_at: Set(at),
            updated_at: Set(at),
        })
        .on_conflict(
            OnConflict::columns([candidate::Column::OrgId, candidate::Column::Email])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
        let candidate_id: Option<Uuid> = candidate::Entity::find()
            .select_only()
            .column(candidate::Column::Id)
            .filter(candidate::Column::OrgId.eq(caller.org_id))
            .filter(candidate::Column::Email.eq(email.clone()))
            .into_tuple()
            .one(txn)
            .await?;
        super::super::transitions::record_event(
            txn,
            &invite,
            EventKind::Resent,
            &caller.actor(),
            &format!(
                "cohort retry: address corrected from {} to {email}",
                invite.candidate_email
            ),
        )
        .await?;
        invite.candidate_email = email.clone();
        invite.candidate_id = candidate_id;
    } else {
        super::super::transitions::record_event(
            txn,
            &invite,
            EventKind::Resent,
            &caller.actor(),
            &format!("cohort retry: emailed again to {email}"),
        )
        .await?;
    }
    invite::Entity::update_many()
        .col_expr(invite::Column::CandidateEmail, Expr::value(email.clone()))
        .col_expr(
            invite::Column::CandidateId,
            Expr::value(invite.candidate_id),
        )
        .col_expr(
            invite::Column::DeliveryStatus,
            Expr::value(DeliveryStatus::Queued),
        )
        .col_expr(invite::Column::UpdatedAt, Expr::value(at))
        .filter(invite::Column::Id.eq(invite.id))
        .exec(txn)
        .await?;
    let message = NewOutbox::to_candidate(&invite, MessageKind::Invite, invite.link_generation)
        .for_cohort_member(member.cohort_id, member.row);
    outbox::insert(txn, &invite, &[message]).await?;
    cohort_member::Entity::update_many()
        .col_expr(cohort_member::Column::Email, Expr::value(email))
        .col_expr(cohort_member::Column::InviteId, Expr::value(invite.id))
        .col_expr(
            cohort_member::Column::DeliveryStatus,
            Expr::value(MemberDelivery::Tracked(DeliveryStatus::Queued)),
        )
        .col_expr(cohort_member::Column::DeliveryError, Expr::value(""))
        .col_expr(cohort_member::Column::Sequence, Expr::value(sequence))
        .col_expr(cohort_member::Column::UpdatedAt, Expr::value(at))
        .filter(cohort_member::Column::CohortId.eq(member.cohort_id))
        .filter(cohort_member::Column::Row.eq(member.row))
        .exec(txn)
        .await?;
    Ok(())
}
