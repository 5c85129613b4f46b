//! The rows a chunk of members becomes: candidates, invites, labels, events and outbox rows.

use std::collections::HashMap;

use sea_orm::{
    sea_query::OnConflict, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set, TryIntoModel,
};
use uuid::Uuid;

use super::CohortOptions;
use crate::{
    db::entities::{candidate, cohort, cohort_member, invite, invite_event, invite_label, job},
    domain::{webhooks::WebhookEvent, EventKind, InviteSource, MessageKind},
    error::ServiceError,
    store::{
        invite_row::{Expiry, NewInviteRow},
        now,
        outbox::{self, NewOutbox},
        webhooks::emit::InviteHappening,
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

    let expiry = match options.ttl_seconds {
        Some(seconds) => Expiry::At(at + chrono::Duration::seconds(seconds)),
        None => Expiry::JobDefault,
    };
    let mut invites = Vec::with_capacity(members.len());
    let mut labels = Vec::new();
    let mut events = Vec::with_capacity(members.len());
    let mut happenings = Vec::with_capacity(members.len());
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
        invites.push(
            NewInviteRow {
                id,
                job,
                candidate_id: candidate_ids.get(&member.email).copied(),
                candidate_email: member.email.clone(),
                candidate_name: member.name.clone(),
                send_email: options.send_email,
                locked: options.locked,
                assignee_ids: options.assignee_ids.clone(),
                labels: member_labels,
                message: options.message.clone(),
                time_limit_minutes: options.time_limit_minutes,
                expiry,
                remind_after: options.remind_after_seconds.map(chrono::Duration::seconds),
                source: InviteSource::Bulk,
                created_by_key_id: Some(caller.key_id),
                inviter_member_id: options.inviter_member_id,
                cohort_id: Some(cohort.id),
                external_id: None,
                // The row's own, else the cohort's.
                time_zone: member
                    .time_zone
                    .clone()
                    .or_else(|| options.time_zone.clone()),
                locale: member.locale.clone().or_else(|| options.locale.clone()),
                // Interviews are scheduled one by one.
                schedule: None,
            }
            .into_active_model(&store.link_key, at),
        );
        let detail = format!("bulk invite, cohort {}", cohort.id);
        happenings.push(InviteHappening {
            event: WebhookEvent::InviteCreated,
            org_id: caller.org_id,
            invite_id: id,
            actor: caller.actor(),
            detail: detail.clone(),
        });
        events.push(invite_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(caller.org_id),
            invite_id: Set(id),
            kind: Set(EventKind::Created),
            actor: Set(caller.actor()),
            detail: Set(detail),
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
    crate::store::webhooks::emit::invites(txn, &happenings).await?;
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
