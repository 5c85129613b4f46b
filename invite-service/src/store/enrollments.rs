//! One-time enrolment codes: an admin makes one for a member; the browser extension trades it,
//! once and before it expires, for a `links` key of that member. Only the code's hash is kept.
//! Both calls take request ids: a lost answer is asked for again, and the same code (sealed in
//! the idempotency record, like a key's secret) or the same key comes back.
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{
    idempotency::{Idempotency, RequestId},
    now,
    organization::insert_key,
    Caller, Store,
};
use crate::{
    db::entities::{api_key, enrollment, member, organization},
    domain::{
        ids::{MemberId, OrgId},
        secret, Scope,
    },
    error::ServiceError,
};

/// A new enrolment and its code, which is never stored and never shown again.
pub struct CreatedEnrollment {
    pub enrollment: enrollment::Model,
    pub code: String,
}

pub async fn create(
    store: &Store,
    caller: &Caller,
    member_id: Uuid,
    key_name: String,
    valid_for: chrono::Duration,
    request: Option<RequestId>,
) -> Result<CreatedEnrollment, ServiceError> {
    let idempotency = request.map(|r| Idempotency::new(caller, "CreateEnrollment", &r));
    let txn = store.write.begin().await?;
    if let Some(idempotency) = &idempotency {
        if let Some(replay) = idempotency.replay(&txn).await? {
            let enrollment = enrollment::Entity::find_by_id(replay.resource_id)
                .filter(enrollment::Column::OrgId.eq(caller.org_id))
                .one(&txn)
                .await?
                .ok_or(ServiceError::NotFound("enrollment"))?;
            let code = replay.secret.ok_or_else(|| {
                ServiceError::Internal(anyhow::anyhow!("idempotent enrolment has no code"))
            })?;
            return Ok(CreatedEnrollment { enrollment, code });
        }
    }
    member::Entity::find_by_id(member_id)
        .filter(member::Column::OrgId.eq(caller.org_id))
        .one(&txn)
        .await?
        .ok_or_else(|| {
            ServiceError::invalid("member_id", "is not a member of this organization")
        })?;
    let code = secret::new_enrollment_code();
    let body = secret::enrollment_code_body(&code).ok_or_else(|| {
        ServiceError::Internal(anyhow::anyhow!("a new enrolment code is malformed"))
    })?;
    let created_at = now();
    let enrollment = enrollment::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(caller.org_id),
        member_id: Set(member_id),
        code_hash: Set(secret::enrollment_code_hash(body)),
        key_name: Set(key_name),
        created_by: Set(caller.actor()),
        created_at: Set(created_at),
        expires_at: Set(created_at + valid_for),
        redeemed_at: Set(None),
        api_key_id: Set(None),
    }
    .insert(&txn)
    .await?;
    if let Some(idempotency) = &idempotency {
        idempotency.record(&txn, enrollment.id, Some(&code)).await?;
    }
    txn.commit().await?;
    Ok(CreatedEnrollment { enrollment, code })
}

/// A key traded for an enrolment code, its secret (shown once) and its organization.
pub struct Redeemed {
    pub key: api_key::Model,
    pub secret: String,
    pub organization: organization::Model,
}

/// Trades a code's random part (`secret::enrollment_code_body`) for a new `links` key of its
/// member. An unknown, used or expired code is the same `NotFound`; of two concurrent trades of
/// one code, one wins. A retry with the first trade's request id gets the same key.
pub async fn redeem(
    store: &Store,
    body: &str,
    request: Option<RequestId>,
) -> Result<Redeemed, ServiceError> {
    const UNKNOWN: ServiceError = ServiceError::NotFound("enrollment code");
    let hash = secret::enrollment_code_hash(body);
    let txn = store.write.begin().await?;
    let found = enrollment::Entity::find()
        .filter(enrollment::Column::CodeHash.eq(&hash))
        .one(&txn)
        .await?
        .ok_or(UNKNOWN)?;
    let organization = organization::Entity::find_by_id(found.org_id)
        .one(&txn)
        .await?
        .ok_or(UNKNOWN)?;
    let idempotency =
        request.map(|r| Idempotency::for_organization(found.org_id, "RedeemEnrollment", &r));
    if let Some(idempotency) = &idempotency {
        if let Some(replay) = idempotency.replay(&txn).await? {
            let key = api_key::Entity::find_by_id(replay.resource_id)
                .one(&txn)
                .await?
                .ok_or(UNKNOWN)?;
            let secret = replay.secret.ok_or_else(|| {
                ServiceError::Internal(anyhow::anyhow!("idempotent trade has no secret"))
            })?;
            return Ok(Redeemed {
                key,
                secret,
                organization,
            });
        }
    }
    let at = now();
    // Claimed by the one UPDATE that finds it unused and unexpired: a concurrent trade waits
    // for this one's row lock (PostgreSQL) or its turn at the writer (SQLite), then finds it used.
    let claimed = enrollment::Entity::update_many()
        .col_expr(enrollment::Column::RedeemedAt, Expr::value(at))
        .filter(enrollment::Column::Id.eq(found.id))
        .filter(enrollment::Column::RedeemedAt.is_null())
        .filter(enrollment::Column::ExpiresAt.gt(at))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(UNKNOWN);
    }
    let (secret, key) = insert_key(
        &txn,
        OrgId::from_uuid(found.org_id),
        &found.key_name,
        Scope::Links,
        Some(MemberId::from_uuid(found.member_id)),
    )
    .await?;
    let mut row: enrollment::ActiveModel = found.into();
    row.redeemed_at = Set(Some(at));
    row.api_key_id = Set(Some(key.id));
    row.update(&txn).await?;
    if let Some(idempotency) = &idempotency {
        idempotency.record(&txn, key.id, Some(&secret)).await?;
    }
    txn.commit().await?;
    Ok(Redeemed {
        key,
        secret,
        organization,
    })
}
