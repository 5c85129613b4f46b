//! The rows a chunk of members becomes: candidates, invites, labels, events and outbox rows.

use std::collections::HashMap;

use sea_orm::{
    sea_query::OnConflict, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, TryIntoModel,
};
use uuid::Uuid;

use super::CohortOptions;
use crate::{
    db::entities::{candidate, cohort, cohort_member, invite, invite_event, invite_label, job},
    domain::{secret, AssigneeIds, DeliveryStatus, EventKind, InviteStatus, Labels, MessageKind},
    error::ServiceError,
    store::{
        now,
        outbox::{self, NewOutbox},
        Caller, Store,
    },
};

/// The bulk path of CreateInvite: candidates, invites, labels, events and outbox rows for a
/// whole chunk, a few statements each.
pub(super) async fn create_invites(
    store: &Store,
    txn: &sea_orm::DatabaseTransaction,
    caller: &Caller,
    cohort: &cohort::Model,
    job: &job::Model,
    members: &[&cohort_member::Model],
    options: &CohortOptions,
) -> Result<(), ServiceError> {
    if members.is_empty() {
        return Ok(());
    }
    let at = now();
    // Candidates: make the missing ones, then read every id. Bounded statements: SQLite binds
    // at most 32766 values per statement.
    let emails: Vec<String> = members.iter().map(|m| m.email.clone()).collect();
    for chunk in members.chunks(2000) {
        candidate::Entity::insert_many(chunk.iter().map(|m| candidate::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(caller.org_id),
            email: Set(m.email.clone()),
            name: Set(m.name.clone()),
            external_id: Set(m.external_id.clone()),
            created_at: Set(at),
            updated_at: Set(at),
        }))
        .on_conflict(
            OnConflict::columns([candidate::Column::OrgId, candidate::Column::Email])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    }
    let candidate_ids: HashMap<String, Uuid> = candidate::Entity::find()
        .select_only()
        .column(candidate::Column::Email)
        .column(candidate::Column::Id)
        .filter(candidate::Column::OrgId.eq(caller.org_id))
        .filter(candidate::Column::Email.is_in(emails))
        .into_tuple::<(String, Uuid)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();

    let expires_at = match options.ttl_seconds {
        Some(seconds) => Some(at + chrono::Duration::seconds(seconds)),
        None if job.default_expiry_days > 0 => {
            Some(at + chrono::Duration::days(i64::from(job.default_expiry_days)))
        }
        None => None,
    };
    let (status, delivery) = if options.send_email {
        (InviteStatus::Created, DeliveryStatus::Queued)
    } else {
        (InviteStatus::Sent, DeliveryStatus::NotRequested)
    };
    let mut invites = Vec::with_capacity(members.len());
    let mut labels = Vec::new();
    let mut events = Vec::with_capacity(members.len());
    for member in members {
        let id = Uuid::now_v7();
        let mut member_labels = member.labels.0.clone();
        member_labels.extend(options.labels.iter().cloned());
        member_labels.sort();
        member_labels.dedup();
        for label in &member_labels {
            labels.push(invite_label::ActiveModel {
                invite_id: Set(id),
                label: Set(label.clone()),
                org_id: Set(caller.org_id),
            });
        }
        let token = store.link_key.token(id, 0);
        invites.push(invite::ActiveModel {
            id: Set(id),
            org_id: Set(caller.org_id),
            job_id: Set(job.id),
            candidate_id: Set(candidate_ids.get(&member.email).copied()),
            candidate_email: Set(member.email.clone()),
            candidate_name: Set(member.name.clone()),
            token_hash: Set(secret::link_token_hash(&token)),
            status: Set(status),
            delivery_status: Set(delivery),
            locked: Set(options.locked),
            assignee_ids: Set(AssigneeIds(options.assignee_ids.clone())),
            labels: Set(Labels(member_labels)),
            message: Set(options
                .message
                .clone()
                .unwrap_or_else(|| job.default_message.clone())),
            time_limit_minutes: Set(options
                .time_limit_minutes
                .unwrap_or(job.default_time_limit_minutes)),
            expires_at: Set(expires_at),
            open_count: Set(0),
            send_count: Set(0),
            source: Set("bulk".into()),
            created_by_key_id: Set(Some(caller.key_id)),
            created_at: Set(at),
            updated_at: Set(at),
            first_opened_at: Set(None),
            started_at: Set(None),
            submitted_at: Set(None),
            link_generation: Set(0),
            inviter_member_id: Set(options.inviter_member_id),
            last_sent_at: Set(None),
            cohort_id: Set(Some(cohort.id)),
            remind_at: Set(options
                .remind_after_seconds
                .map(|s| at + chrono::Duration::seconds(s))),
            reminded_at: Set(None),
            external_id: Set(None),
        });
        events.push(invite_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(caller.org_id),
            invite_id: Set(id),
            kind: Set(EventKind::Created),
            actor: Set(caller.actor()),
            detail: Set(format!("bulk invite, cohort {}", cohort.id)),
            created_at: Set(at),
        });
    }
    for chunk in invites.chunks(500) {
        invite::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in labels.chunks(2000) {
        invite_label::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in events.chunks(2000) {
        invite_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    if options.send_email {
        // Invites were made in the members' order.
        let (created, messages): (Vec<invite::Model>, Vec<NewOutbox>) = invites
            .iter()
            .zip(members)
            .map(|(i, m)| {
                let invite = i.clone().try_into_model()?;
                let message = NewOutbox::to_candidate(&invite, MessageKind::Invite, 0)
                    .for_cohort_member(m.cohort_id, m.row);
                Ok((invite, message))
            })
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()?
            .into_iter()
            .unzip();
        let pairs: Vec<_> = created.iter().zip(&messages).collect();
        outbox::insert_for_many(txn, &pairs).await?;
    }
    Ok(())
}
