//! Webhook endpoints: where an organization's events go, and the secret that signs them, kept
//! only sealed (`domain::webhook_secret`).
use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

use crate::{
    config::Rate,
    db::entities::{webhook_attempt, webhook_delivery, webhook_endpoint},
    domain::{
        webhook_secret::SigningSecret, webhooks::WebhookEvent, EventTypes, WebhookDeliveryStatus,
    },
    error::ServiceError,
    store::{
        idempotency::{Idempotency, RequestId},
        now,
        paging::{Order, Page},
        Caller, Store,
    },
};

pub struct NewEndpoint {
    /// Checked by the edge (`crate::webhooks::destination`).
    pub url: String,
    pub description: String,
    /// Empty: every event type.
    pub event_types: Vec<WebhookEvent>,
    pub enabled: bool,
    pub rate_limit: Option<Rate>,
}

pub struct CreatedEndpoint {
    pub endpoint: webhook_endpoint::Model,
    /// Shown once, in the answer to the create.
    pub secret: SigningSecret,
}

/// What an update changes; `None` leaves a field as it is.
#[derive(Default)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<WebhookEvent>>,
    pub enabled: Option<bool>,
    /// `Some(None)`: back to the server's default.
    pub rate_limit: Option<Option<Rate>>,
}

pub struct RotatedSecret {
    pub endpoint: webhook_endpoint::Model,
    pub secret: SigningSecret,
}

fn event_types(events: &[WebhookEvent]) -> EventTypes {
    EventTypes(events.iter().map(|e| e.name().to_string()).collect())
}

pub async fn create(
    store: &Store,
    caller: &Caller,
    new: NewEndpoint,
    request: Option<RequestId>,
) -> Result<CreatedEndpoint, ServiceError> {
    let idempotency = request.map(|r| Idempotency::new(caller, "CreateWebhookEndpoint", &r));
    let txn = store.write.begin().await?;
    if let Some(idempotency) = &idempotency {
        if let Some(replay) = idempotency.replay(&txn).await? {
            let endpoint = find(&txn, caller, replay.resource_id).await?;
            // Kept sealed under the link key, as on the endpoint itself.
            let secret = replay
                .secret
                .as_deref()
                .and_then(|sealed| store.link_key.webhook_seal().open(sealed, endpoint.id).ok())
                .ok_or_else(|| anyhow::anyhow!("idempotent endpoint answer has no secret"))?;
            return Ok(CreatedEndpoint { endpoint, secret });
        }
    }
    let id = Uuid::now_v7();
    let secret = SigningSecret::generate();
    let sealed = store.link_key.webhook_seal().seal(&secret, id);
    let at = now();
    let endpoint = webhook_endpoint::ActiveModel {
        id: Set(id),
        org_id: Set(caller.org_id),
        url: Set(new.url),
        description: Set(new.description),
        event_types: Set(event_types(&new.event_types)),
        enabled: Set(new.enabled),
        disabled_reason: Set(String::new()),
        rate_limit: Set(new.rate_limit.map(|r| r.to_string()).unwrap_or_default()),
        secret_sealed: Set(sealed.clone()),
        previous_secret_sealed: Set(None),
        previous_secret_until: Set(None),
        failing_since: Set(None),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(&txn)
    .await?;
    if let Some(idempotency) = &idempotency {
        idempotency.record(&txn, endpoint.id, Some(&sealed)).await?;
    }
    txn.commit().await?;
    Ok(CreatedEndpoint { endpoint, secret })
}

pub(crate) async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<webhook_endpoint::Model, ServiceError> {
    webhook_endpoint::Entity::find_by_id(id)
        .filter(webhook_endpoint::Column::OrgId.eq(caller.org_id))
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("webhook endpoint"))
}

pub async fn get(
    store: &Store,
    caller: &Caller,
    id: Uuid,
) -> Result<webhook_endpoint::Model, ServiceError> {
    find(&store.read, caller, id).await
}

pub async fn list(
    store: &Store,
    caller: &Caller,
    page: &Page,
) -> Result<(Vec<webhook_endpoint::Model>, String), ServiceError> {
    let query =
        webhook_endpoint::Entity::find().filter(webhook_endpoint::Column::OrgId.eq(caller.org_id));
    page.fetch(
        &store.read,
        query,
        webhook_endpoint::Column::Id,
        Order::Ascending,
        |e| e.id,
    )
    .await
}

pub async fn update(
    store: &Store,
    caller: &Caller,
    id: Uuid,
    changes: EndpointChanges,
) -> Result<webhook_endpoint::Model, ServiceError> {
    let txn = store.write.begin().await?;
    let endpoint = find(&txn, caller, id).await?;
    let mut row: webhook_endpoint::ActiveModel = endpoint.into();
    if let Some(url) = changes.url {
        row.url = Set(url);
    }
    if let Some(description) = changes.description {
        row.description = Set(description);
    }
    if let Some(events) = changes.event_types {
        row.event_types = Set(event_types(&events));
    }
    if let Some(rate) = changes.rate_limit {
        row.rate_limit = Set(rate.map(|r| r.to_string()).unwrap_or_default());
    }
    if let Some(enabled) = changes.enabled {
        row.enabled = Set(enabled);
        // Turned on again: a fresh start, whatever turned it off.
        if enabled {
            row.disabled_reason = Set(String::new());
            row.failing_since = Set(None);
        }
    }
    row.updated_at = Set(now());
    let updated = row.update(&txn).await?;
    match changes.enabled {
        Some(true) => wake(&txn, &[updated.id]).await?,
        Some(false) => park(&txn, &[updated.id]).await?,
        None => {}
    }
    txn.commit().await?;
    Ok(updated)
}

/// Deletes the endpoint with its deliveries and their attempts. Messages stay for the other
/// endpoints that take them.
pub async fn delete(store: &Store, caller: &Caller, id: Uuid) -> Result<(), ServiceError> {
    let txn = store.write.begin().await?;
    let endpoint = find(&txn, caller, id).await?;
    webhook_attempt::Entity::delete_many()
        .filter(webhook_attempt::Column::EndpointId.eq(endpoint.id))
        .exec(&txn)
        .await?;
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::EndpointId.eq(endpoint.id))
        .exec(&txn)
        .await?;
    webhook_endpoint::Entity::delete_by_id(endpoint.id)
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// A new secret; the current one keeps signing beside it until `overlap` has passed.
pub async fn rotate_secret(
    store: &Store,
    caller: &Caller,
    id: Uuid,
    overlap: chrono::Duration,
) -> Result<RotatedSecret, ServiceError> {
    let txn = store.write.begin().await?;
    let endpoint = find(&txn, caller, id).await?;
    let secret = SigningSecret::generate();
    let at = now();
    let (previous, until) = if overlap > chrono::Duration::zero() {
        (Some(endpoint.secret_sealed.clone()), Some(at + overlap))
    } else {
        (None, None)
    };
    let mut row: webhook_endpoint::ActiveModel = endpoint.into();
    row.secret_sealed = Set(store.link_key.webhook_seal().seal(&secret, id));
    row.previous_secret_sealed = Set(previous);
    row.previous_secret_until = Set(until);
    row.updated_at = Set(at);
    let endpoint = row.update(&txn).await?;
    txn.commit().await?;
    Ok(RotatedSecret { endpoint, secret })
}

/// The secrets that sign a message to `endpoint` at `at`: the current one, and the previous one
/// while its overlap lasts.
pub fn signing_secrets(
    store: &Store,
    endpoint: &webhook_endpoint::Model,
    at: DateTime<Utc>,
) -> Result<Vec<SigningSecret>, ServiceError> {
    let seal = store.link_key.webhook_seal();
    let open = |sealed: &str| {
        seal.open(sealed, endpoint.id).map_err(|err| {
            ServiceError::Internal(anyhow::anyhow!(
                "the signing secret of webhook endpoint {} does not open: {err}",
                endpoint.id
            ))
        })
    };
    let mut secrets = vec![open(&endpoint.secret_sealed)?];
    if let (Some(previous), Some(until)) = (
        &endpoint.previous_secret_sealed,
        endpoint.previous_secret_until,
    ) {
        if at < until {
            secrets.push(open(previous)?);
        }
    }
    Ok(secrets)
}

/// Turns endpoints off, saying why (a 410, or failing too long), and tells their
/// organizations' admins by email (the outbox), in the caller's transaction. Their pending
/// messages wait: turned on again, it receives them. Returns the endpoints this call turned off
/// (one already off is neither changed nor told of again).
pub(crate) async fn disable(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    reason: &str,
) -> Result<Vec<webhook_endpoint::Model>, ServiceError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let turned_off = webhook_endpoint::Entity::update_many()
        .col_expr(webhook_endpoint::Column::Enabled, Expr::value(false))
        .col_expr(
            webhook_endpoint::Column::DisabledReason,
            Expr::value(reason),
        )
        .col_expr(webhook_endpoint::Column::UpdatedAt, Expr::value(now()))
        .filter(webhook_endpoint::Column::Id.is_in(ids.iter().copied()))
        .filter(webhook_endpoint::Column::Enabled.eq(true))
        .exec_with_returning(db)
        .await?;
    park(db, ids).await?;
    crate::store::outbox::webhook_disabled(db, &turned_off).await?;
    Ok(turned_off)
}

/// Far enough that a turned-off endpoint's pending deliveries are never due.
fn parked_until() -> DateTime<Utc> {
    now() + chrono::Duration::days(365 * 100)
}

/// Moves the pending deliveries of turned-off endpoints out of the due scan, so it does not
/// step over them every round.
async fn park(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<(), ServiceError> {
    webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            Expr::value(parked_until()),
        )
        .filter(webhook_delivery::Column::EndpointId.is_in(ids.iter().copied()))
        .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .exec(db)
        .await?;
    Ok(())
}

/// Makes the pending deliveries of endpoints turned on again due now.
async fn wake(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<(), ServiceError> {
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now()))
        .filter(webhook_delivery::Column::EndpointId.is_in(ids.iter().copied()))
        .filter(webhook_delivery::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .exec(db)
        .await?;
    Ok(())
}
