//! The webhook outbox: a message for each event an enabled endpoint of the organization takes,
//! with one delivery per such endpoint, written in the caller's transaction, so an event is
//! sent exactly when the change it tells of commits; the calls back an ATS is owed are written
//! here too (`store::ats::callbacks`). An organization without endpoints pays
//! one indexed read per transaction.
use std::collections::HashMap;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::payload::{self, CohortData, InviteData, PingData};
use crate::{
    db::entities::{cohort, invite, webhook_delivery, webhook_endpoint, webhook_message},
    domain::{webhooks::WebhookEvent, WebhookDeliveryStatus},
    error::ServiceError,
    store::now,
};

/// Something that happened to an invite. The message carries the invite as it is in the
/// transaction when this is written, so write it after the change.
pub(crate) struct InviteHappening {
    pub event: WebhookEvent,
    pub org_id: Uuid,
    pub invite_id: Uuid,
    pub actor: String,
    pub detail: String,
}

/// Writes the messages for what happened to these invites, in the order given.
pub(crate) async fn invites(
    db: &impl ConnectionTrait,
    happenings: &[InviteHappening],
) -> Result<(), ServiceError> {
    if happenings.is_empty() {
        return Ok(());
    }
    // The ATS an invite came from hears of it too, through its own outbox.
    crate::store::ats::callbacks::emit(db, happenings).await?;
    let mut orgs: Vec<Uuid> = happenings.iter().map(|h| h.org_id).collect();
    orgs.sort_unstable();
    orgs.dedup();
    let endpoints = enabled_endpoints(db, &orgs).await?;
    if endpoints.is_empty() {
        return Ok(());
    }
    let wanted: Vec<(&InviteHappening, Vec<Uuid>)> = happenings
        .iter()
        .map(|h| (h, takers(&endpoints, h.org_id, h.event)))
        .filter(|(_, takers)| !takers.is_empty())
        .collect();
    let mut ids: Vec<Uuid> = wanted.iter().map(|(h, _)| h.invite_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut invites: HashMap<Uuid, invite::Model> = HashMap::new();
    // Bounded statements: SQLite binds at most 32766 values per statement.
    for chunk in ids.chunks(1000) {
        let rows = invite::Entity::find()
            .filter(invite::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        invites.extend(rows.into_iter().map(|i| (i.id, i)));
    }
    let at = now();
    let mut outgoing = Outgoing::default();
    for (happening, takers) in wanted {
        let Some(invite) = invites.get(&happening.invite_id) else {
            continue;
        };
        let body = payload::body(
            happening.event,
            at,
            InviteData::new(invite, &happening.actor, &happening.detail),
        );
        outgoing.add(
            invite.org_id,
            happening.event,
            Some(invite.id),
            body,
            &takers,
        );
    }
    outgoing.write(db).await
}

/// Writes `cohort.completed` for a cohort that has just become done.
pub(crate) async fn cohort_completed(
    db: &impl ConnectionTrait,
    cohort_id: Uuid,
) -> Result<(), ServiceError> {
    let Some(cohort) = cohort::Entity::find_by_id(cohort_id).one(db).await? else {
        return Ok(());
    };
    let endpoints = enabled_endpoints(db, &[cohort.org_id]).await?;
    let takers = takers(&endpoints, cohort.org_id, WebhookEvent::CohortCompleted);
    if takers.is_empty() {
        return Ok(());
    }
    let event = WebhookEvent::CohortCompleted;
    let body = payload::body(event, now(), CohortData::new(&cohort));
    let mut outgoing = Outgoing::default();
    outgoing.add(cohort.org_id, event, None, body, &takers);
    outgoing.write(db).await
}

/// Writes a `ping` to one endpoint; returns its message.
pub(crate) async fn ping(
    db: &impl ConnectionTrait,
    endpoint: &webhook_endpoint::Model,
) -> Result<webhook_message::Model, ServiceError> {
    let event = WebhookEvent::Ping;
    let body = payload::body(
        event,
        now(),
        PingData {
            endpoint_id: endpoint.id.to_string(),
        },
    );
    let mut outgoing = Outgoing::default();
    outgoing.add(endpoint.org_id, event, None, body, &[endpoint.id]);
    let message = outgoing.messages.first().cloned();
    outgoing.write(db).await?;
    Ok(message.ok_or_else(|| anyhow::anyhow!("a ping wrote no message"))?)
}

async fn enabled_endpoints(
    db: &impl ConnectionTrait,
    orgs: &[Uuid],
) -> Result<Vec<webhook_endpoint::Model>, ServiceError> {
    let mut query = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::OrgId.is_in(orgs.iter().copied()))
        .filter(webhook_endpoint::Column::Enabled.eq(true));
    // On PostgreSQL a concurrent delete or turn-off waits for this transaction, so no delivery
    // is written for an endpoint that is gone. (SQLite has one writer.)
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        query = query.lock_shared();
    }
    Ok(query.all(db).await?)
}

fn takers(endpoints: &[webhook_endpoint::Model], org_id: Uuid, event: WebhookEvent) -> Vec<Uuid> {
    endpoints
        .iter()
        .filter(|e| e.org_id == org_id && event.wanted_by(&e.event_types.0))
        .map(|e| e.id)
        .collect()
}

/// Messages and their deliveries, written with one multi-row statement each.
#[derive(Default)]
struct Outgoing {
    messages: Vec<webhook_message::Model>,
    deliveries: Vec<webhook_delivery::ActiveModel>,
}

impl Outgoing {
    fn add(
        &mut self,
        org_id: Uuid,
        event: WebhookEvent,
        invite_id: Option<Uuid>,
        body: String,
        endpoints: &[Uuid],
    ) {
        let at = now();
        let id = Uuid::now_v7();
        self.messages.push(webhook_message::Model {
            id,
            org_id,
            event_type: event.name().into(),
            invite_id,
            payload: body,
            created_at: at,
        });
        for endpoint_id in endpoints {
            self.deliveries.push(webhook_delivery::ActiveModel {
                message_id: Set(id),
                endpoint_id: Set(*endpoint_id),
                org_id: Set(org_id),
                invite_id: Set(invite_id),
                status: Set(WebhookDeliveryStatus::Pending),
                attempt_count: Set(0),
                next_attempt_at: Set(at),
                created_at: Set(at),
                updated_at: Set(at),
                ..Default::default()
            });
        }
    }

    async fn write(self, db: &impl ConnectionTrait) -> Result<(), ServiceError> {
        // Bounded statements: SQLite binds at most 32766 values per statement.
        for chunk in self.messages.chunks(1000) {
            // Every column as a value to insert.
            webhook_message::Entity::insert_many(
                chunk
                    .iter()
                    .map(|m| m.clone().into_active_model().reset_all()),
            )
            .exec_without_returning(db)
            .await?;
        }
        for chunk in self.deliveries.chunks(1000) {
            webhook_delivery::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(db)
                .await?;
        }
        Ok(())
    }
}
