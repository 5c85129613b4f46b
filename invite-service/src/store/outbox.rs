//! The outbox: messages written in the same transaction as the invite change that causes them,
//! handed to notify-service by `crate::relay`, and kept until notify-service reports a final
//! outcome. Only the link's generation is stored; the link is derived when the row is sent.
use std::collections::{HashMap, HashSet};

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::{
    now,
    transitions::insert_event,
    webhooks::emit::{self, InviteHappening},
    Store,
};
use crate::{
    db::entities::{invite, job, member, organization, outbox, webhook_endpoint},
    domain::{InviteSource, MessageKind, OutboxState, ReportedDelivery},
    error::ServiceError,
};

/// For a public-link candidate, at most this many members hear about it.
const MAX_PUBLIC_RECIPIENTS: u64 = 5;
/// At most this many admins hear that a webhook endpoint was turned off.
const MAX_ADMIN_RECIPIENTS: u64 = 50;

#[derive(Clone, Debug)]
pub struct NewOutbox {
    pub kind: MessageKind,
    pub recipient: String,
    pub recipient_name: String,
    /// The link generation to send; zero for messages without a link.
    pub link_generation: i32,
    /// The cohort member (cohort id, row) whose email this is, when a cohort sends it.
    pub cohort_member: Option<(Uuid, i32)>,
    /// The trace of the request that caused it (W3C `traceparent`): the email continues it.
    pub traceparent: Option<String>,
}

impl NewOutbox {
    /// The candidate's email with the invite's link at `generation`.
    pub fn to_candidate(invite: &invite::Model, kind: MessageKind, generation: i32) -> Self {
        Self {
            kind,
            recipient: invite.candidate_email.clone(),
            recipient_name: invite.candidate_name.clone(),
            link_generation: generation,
            cohort_member: None,
            traceparent: beckon_common::telemetry::current_traceparent(),
        }
    }

    /// The same message, in the trace a request handed on (for work done outside it).
    pub fn in_trace(self, traceparent: Option<String>) -> Self {
        Self {
            traceparent,
            ..self
        }
    }

    /// The same message, as the email of a cohort's member: its outcome is the member's.
    pub fn for_cohort_member(self, cohort_id: Uuid, row: i32) -> Self {
        Self {
            cohort_member: Some((cohort_id, row)),
            ..self
        }
    }
}

pub(crate) async fn insert(
    db: &impl ConnectionTrait,
    invite: &invite::Model,
    messages: &[NewOutbox],
) -> Result<(), ServiceError> {
    let pairs: Vec<(&invite::Model, &NewOutbox)> = messages.iter().map(|m| (invite, m)).collect();
    insert_for_many(db, &pairs).await
}

/// Messages about several invites at once (a bulk chunk).
pub(crate) async fn insert_for_many(
    db: &impl ConnectionTrait,
    messages: &[(&invite::Model, &NewOutbox)],
) -> Result<(), ServiceError> {
    let at = now();
    // Bounded statements: SQLite binds at most 32766 values per statement.
    for chunk in messages.chunks(1000) {
        outbox::Entity::insert_many(chunk.iter().map(|(invite, m)| outbox::ActiveModel {
            invite_id: Set(Some(invite.id)),
            link_generation: Set(m.link_generation),
            cohort_id: Set(m.cohort_member.map(|(cohort_id, _)| cohort_id)),
            cohort_row: Set(m.cohort_member.map(|(_, row)| row)),
            traceparent: Set(m.traceparent.clone()),
            ..pending(invite.org_id, m.kind, &m.recipient, &m.recipient_name, at)
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// A new row, due now, about nothing yet (no invite, link, cohort member or endpoint).
fn pending(
    org_id: Uuid,
    kind: MessageKind,
    recipient: &str,
    recipient_name: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> outbox::ActiveModel {
    outbox::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org_id),
        invite_id: Set(None),
        kind: Set(kind),
        recipient: Set(recipient.to_string()),
        recipient_name: Set(recipient_name.to_string()),
        link_generation: Set(0),
        state: Set(OutboxState::Pending),
        delivery_state: Set(ReportedDelivery::Queued),
        attempts: Set(0),
        next_attempt_at: Set(at),
        last_error: Set(String::new()),
        created_at: Set(at),
        updated_at: Set(at),
        cohort_id: Set(None),
        cohort_row: Set(None),
        webhook_endpoint_id: Set(None),
        traceparent: Set(beckon_common::telemetry::current_traceparent()),
    }
}

/// Tells each endpoint's organization's admins that Beckon turned it off, in the transaction
/// that did. An organization without admins hears nothing: said in the log.
pub(crate) async fn webhook_disabled(
    db: &impl ConnectionTrait,
    endpoints: &[webhook_endpoint::Model],
) -> Result<(), ServiceError> {
    let at = now();
    for endpoint in endpoints {
        let admins = member::Entity::find()
            .filter(member::Column::OrgId.eq(endpoint.org_id))
            .filter(member::Column::Admin.eq(true))
            .order_by_asc(member::Column::Id)
            .limit(MAX_ADMIN_RECIPIENTS)
            .all(db)
            .await?;
        if admins.is_empty() {
            tracing::warn!(
                endpoint_id = %endpoint.id,
                org_id = %endpoint.org_id,
                "a webhook endpoint was turned off and the organization has no admin members to tell"
            );
            continue;
        }
        outbox::Entity::insert_many(admins.iter().map(|admin| outbox::ActiveModel {
            webhook_endpoint_id: Set(Some(endpoint.id)),
            ..pending(
                endpoint.org_id,
                MessageKind::WebhookDisabled,
                &admin.email,
                &admin.name,
                at,
            )
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Which team event a notification is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeamEvent {
    Started,
    Submitted,
    /// The candidate asks for a new link to an expired invite: an action, not a notice, so
    /// every member it goes to gets it.
    RenewalRequested,
}

/// The members to tell: the invite's assignees, else whoever invited; for a candidate who came
/// through a public link, up to five members; for a renewal nobody owns, up to five admins.
/// Members who turned this kind off are left out (a renewal request is an action to take, not
/// a notice: it has no switch).
pub(crate) async fn team_messages(
    db: &impl ConnectionTrait,
    invite: &invite::Model,
    event: TeamEvent,
) -> Result<Vec<NewOutbox>, ServiceError> {
    let (kind, wants) = match event {
        TeamEvent::Started => (
            MessageKind::TeamStarted,
            Some(member::Column::NotifyStarted),
        ),
        TeamEvent::Submitted => (
            MessageKind::TeamSubmitted,
            Some(member::Column::NotifySubmitted),
        ),
        TeamEvent::RenewalRequested => (MessageKind::TeamRenewalRequested, None),
    };
    let assignees = &invite.assignee_ids.0;
    let mut query = member::Entity::find()
        .filter(member::Column::OrgId.eq(invite.org_id))
        .order_by_asc(member::Column::Id);
    if let Some(wants) = wants {
        query = query.filter(wants.eq(true));
    }
    if !assignees.is_empty() {
        query = query.filter(member::Column::Id.is_in(assignees.iter().copied()));
    } else if let Some(inviter) = invite.inviter_member_id {
        query = query.filter(member::Column::Id.eq(inviter));
    } else if event == TeamEvent::RenewalRequested {
        // Nobody owns the invite: the organization's admins decide.
        query = query
            .filter(member::Column::Admin.eq(true))
            .limit(MAX_PUBLIC_RECIPIENTS);
    } else if invite.source == InviteSource::Public {
        query = query.limit(MAX_PUBLIC_RECIPIENTS);
    } else {
        return Ok(Vec::new());
    }
    Ok(query
        .all(db)
        .await?
        .into_iter()
        .map(|m| NewOutbox {
            kind,
            recipient: m.email,
            recipient_name: m.name,
            link_generation: 0,
            cohort_member: None,
            traceparent: beckon_common::telemetry::current_traceparent(),
        })
        .collect())
}

/// Rows ready to hand to notify-service: pending and due, oldest first.
pub async fn due(store: &Store, limit: u64) -> Result<Vec<outbox::Model>, ServiceError> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::State.eq(OutboxState::Pending))
        .filter(outbox::Column::NextAttemptAt.lte(now()))
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .all(&store.read)
        .await?)
}

/// Rows notify-service has, whose outcome is not final yet and which are due for a look.
pub async fn accepted(store: &Store, limit: u64) -> Result<Vec<outbox::Model>, ServiceError> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::State.eq(OutboxState::Accepted))
        .filter(outbox::Column::NextAttemptAt.lte(now()))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .limit(limit)
        .all(&store.read)
        .await?)
}

/// Looks at accepted rows again after `later`.
pub async fn check_later(
    store: &Store,
    ids: &[Uuid],
    later: chrono::Duration,
) -> Result<(), ServiceError> {
    if ids.is_empty() {
        return Ok(());
    }
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::NextAttemptAt,
            sea_orm::sea_query::Expr::value(now() + later),
        )
        .filter(outbox::Column::Id.is_in(ids.iter().copied()))
        .exec(&store.write)
        .await?;
    Ok(())
}

/// notify-service does not know the row (its data was lost): hand it over again.
pub async fn hand_over_again(store: &Store, ids: &[Uuid]) -> Result<(), ServiceError> {
    if ids.is_empty() {
        return Ok(());
    }
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::State,
            sea_orm::sea_query::Expr::value(OutboxState::Pending),
        )
        .col_expr(
            outbox::Column::NextAttemptAt,
            sea_orm::sea_query::Expr::value(now()),
        )
        .filter(outbox::Column::Id.is_in(ids.iter().copied()))
        .filter(outbox::Column::State.eq(OutboxState::Accepted))
        .exec(&store.write)
        .await?;
    Ok(())
}

/// A hand-over failed: try again after `retry_in`.
pub async fn postpone(
    store: &Store,
    ids: &[Uuid],
    retry_in: chrono::Duration,
    error: &str,
) -> Result<(), ServiceError> {
    let at = now();
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::Attempts,
            sea_orm::sea_query::Expr::col(outbox::Column::Attempts).add(1),
        )
        .col_expr(
            outbox::Column::NextAttemptAt,
            sea_orm::sea_query::Expr::value(at + retry_in),
        )
        .col_expr(
            outbox::Column::LastError,
            sea_orm::sea_query::Expr::value(error),
        )
        .col_expr(
            outbox::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(at),
        )
        .filter(outbox::Column::Id.is_in(ids.iter().copied()))
        .filter(outbox::Column::State.eq(OutboxState::Pending))
        .exec(&store.write)
        .await?;
    Ok(())
}

/// Marks rows whose message must not go out any more (the invite's link died meanwhile). A
/// cohort member's email ends there as failed, with the reason.
pub async fn skip(store: &Store, row: &outbox::Model, why: &str) -> Result<(), ServiceError> {
    use sea_orm::{sea_query::Expr, TransactionTrait};

    let txn = store.write.begin().await?;
    let changed = outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(OutboxState::Done))
        .col_expr(
            outbox::Column::DeliveryState,
            Expr::value(ReportedDelivery::Skipped),
        )
        .col_expr(outbox::Column::LastError, Expr::value(why))
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now()))
        .filter(outbox::Column::Id.eq(row.id))
        .filter(outbox::Column::State.ne(OutboxState::Done))
        .exec(&txn)
        .await?
        .rows_affected;
    if let (1, Some(cohort_id), Some(member_row)) = (changed, row.cohort_id, row.cohort_row) {
        super::cohorts::record_email(
            &txn,
            cohort_id,
            member_row,
            crate::domain::DeliveryStatus::Failed,
            why,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// notify-service's word on a row's delivery. Updates the row, the cohort member it is for (if any) and, for the
/// candidate's own emails, the invite: its delivery status, send count and audit trail, all in
/// one transaction. A row whose state did not change is left alone.
pub async fn record(
    store: &Store,
    row: &outbox::Model,
    delivery_state: ReportedDelivery,
    error: &str,
) -> Result<(), ServiceError> {
    use sea_orm::{sea_query::Expr, TransactionTrait};

    use crate::domain::{webhooks::WebhookEvent, DeliveryStatus, EventKind, InviteStatus};

    let next_state = if delivery_state.is_final() {
        OutboxState::Done
    } else {
        OutboxState::Accepted
    };
    if row.state == next_state && row.delivery_state == delivery_state {
        return Ok(());
    }
    let Some(status) = delivery_state.delivery_status() else {
        return Err(ServiceError::Internal(anyhow::anyhow!(
            "an outbox row cannot be recorded as {delivery_state}: only a skip marks it so"
        )));
    };
    let at = now();
    let txn = store.write.begin().await?;
    let changed = outbox::Entity::update_many()
        .col_expr(outbox::Column::State, Expr::value(next_state))
        .col_expr(
            outbox::Column::NextAttemptAt,
            Expr::value(at + chrono::Duration::seconds(1)),
        )
        .col_expr(outbox::Column::DeliveryState, Expr::value(delivery_state))
        .col_expr(outbox::Column::LastError, Expr::value(error))
        .col_expr(outbox::Column::UpdatedAt, Expr::value(at))
        .filter(outbox::Column::Id.eq(row.id))
        .filter(outbox::Column::State.ne(OutboxState::Done))
        .exec(&txn)
        .await?
        .rows_affected;
    // The cohort before the invite: every writer takes a cohort's row before its members' and
    // their invites' rows, so two of them never wait on each other. (The outbox row above is
    // written only here; the cohort worker inserts new ones.)
    if let (1, Some(cohort_id), Some(member_row)) = (changed, row.cohort_id, row.cohort_row) {
        super::cohorts::record_email(&txn, cohort_id, member_row, status, error).await?;
    }
    if let (1, true, Some(invite_id)) = (changed, row.kind.is_to_candidate(), row.invite_id) {
        let invite = invite::Entity::find_by_id(invite_id)
            .one(&txn)
            .await?
            .ok_or(ServiceError::NotFound("invite"))?;
        let mut update = invite::Entity::update_many()
            .col_expr(invite::Column::DeliveryStatus, Expr::value(status))
            .col_expr(invite::Column::UpdatedAt, Expr::value(at))
            .filter(invite::Column::Id.eq(invite.id));
        if status == DeliveryStatus::Sent {
            update = update
                .col_expr(
                    invite::Column::SendCount,
                    Expr::col(invite::Column::SendCount).add(1),
                )
                .col_expr(invite::Column::LastSentAt, Expr::value(at));
        }
        update.exec(&txn).await?;
        let happening = |event: WebhookEvent, detail: &str| InviteHappening {
            event,
            org_id: invite.org_id,
            invite_id: invite.id,
            actor: "system".into(),
            detail: detail.into(),
        };
        match status {
            DeliveryStatus::Sent => {
                // An emailed invite counts as sent once its email is.
                let first = invite::Entity::update_many()
                    .col_expr(invite::Column::Status, Expr::value(InviteStatus::Sent))
                    .filter(invite::Column::Id.eq(invite.id))
                    .filter(invite::Column::Status.eq(InviteStatus::Created))
                    .exec(&txn)
                    .await?
                    .rows_affected
                    == 1;
                let detail = format!("{} email delivered to {}", row.kind, row.recipient);
                insert_event(&txn, &invite, EventKind::Sent, "system", &detail).await?;
                // The invite moved to sent by this email: told first, then the email itself.
                let mut happenings = Vec::new();
                if first {
                    happenings.push(happening(WebhookEvent::InviteSent, &detail));
                }
                happenings.push(happening(WebhookEvent::EmailDelivered, &detail));
                emit::invites(&txn, &happenings).await?;
            }
            DeliveryStatus::Failed | DeliveryStatus::Suppressed => {
                let detail = format!(
                    "{} email to {} {delivery_state}: {error}",
                    row.kind, row.recipient
                );
                insert_event(&txn, &invite, EventKind::DeliveryFailed, "system", &detail).await?;
                let event = if status == DeliveryStatus::Failed {
                    WebhookEvent::EmailFailed
                } else {
                    WebhookEvent::EmailSuppressed
                };
                emit::invites(&txn, &[happening(event, &detail)]).await?;
            }
            DeliveryStatus::NotRequested | DeliveryStatus::Queued | DeliveryStatus::Deferred => {}
        }
    }
    txn.commit().await?;
    Ok(())
}

/// What the messages of a relay batch talk about, loaded once per batch: their invites, and
/// those invites' jobs and inviters, the webhook endpoints and the organizations, each by id;
/// the members the team's messages go to, by organization and address.
pub struct Subjects {
    pub invites: HashMap<Uuid, invite::Model>,
    pub jobs: HashMap<Uuid, job::Model>,
    pub organizations: HashMap<Uuid, organization::Model>,
    pub inviters: HashMap<Uuid, member::Model>,
    pub team_members: HashMap<(Uuid, String), member::Model>,
    pub webhook_endpoints: HashMap<Uuid, webhook_endpoint::Model>,
}

pub async fn subjects(store: &Store, rows: &[outbox::Model]) -> Result<Subjects, ServiceError> {
    let invite_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.invite_id).collect();
    let invites: HashMap<Uuid, invite::Model> = invite::Entity::find()
        .filter(invite::Column::Id.is_in(invite_ids))
        .all(&store.read)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    let job_ids: Vec<Uuid> = invites.values().map(|i| i.job_id).collect();
    let jobs = job::Entity::find()
        .filter(job::Column::Id.is_in(job_ids))
        .all(&store.read)
        .await?
        .into_iter()
        .map(|j| (j.id, j))
        .collect();
    let org_ids: HashSet<Uuid> = rows.iter().map(|r| r.org_id).collect();
    let organizations = organization::Entity::find()
        .filter(organization::Column::Id.is_in(org_ids))
        .all(&store.read)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let inviter_ids: Vec<Uuid> = invites
        .values()
        .filter_map(|i| i.inviter_member_id)
        .collect();
    let inviters = member::Entity::find()
        .filter(member::Column::Id.is_in(inviter_ids))
        .all(&store.read)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let team_rows: Vec<&outbox::Model> =
        rows.iter().filter(|r| !r.kind.is_to_candidate()).collect();
    let team_members = if team_rows.is_empty() {
        HashMap::new()
    } else {
        let addresses: HashSet<&str> = team_rows.iter().map(|r| r.recipient.as_str()).collect();
        let orgs: HashSet<Uuid> = team_rows.iter().map(|r| r.org_id).collect();
        member::Entity::find()
            .filter(member::Column::OrgId.is_in(orgs))
            .filter(member::Column::Email.is_in(addresses))
            .all(&store.read)
            .await?
            .into_iter()
            .map(|m| ((m.org_id, m.email.clone()), m))
            .collect()
    };
    let endpoint_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.webhook_endpoint_id).collect();
    let webhook_endpoints = if endpoint_ids.is_empty() {
        HashMap::new()
    } else {
        webhook_endpoint::Entity::find()
            .filter(webhook_endpoint::Column::Id.is_in(endpoint_ids))
            .all(&store.read)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect()
    };
    Ok(Subjects {
        invites,
        jobs,
        organizations,
        inviters,
        team_members,
        webhook_endpoints,
    })
}
