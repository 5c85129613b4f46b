//! One-time enrolment codes: an admin makes one for a member; the browser extension trades it,
//! once and before it expires, for a `links` key of that member. Only the code's hash is kept.
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{now, organization::insert_key, Caller, Store};
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
) -> Result<CreatedEnrollment, ServiceError> {
    let txn = store.write.begin().await?;
    member::Entity::find_by_id(member_id)
        .filter(member::Column::OrgId.eq(caller.org_id))
        .one(&txn)
        .await?
        .ok_or_else(|| {
            ServiceError::invalid("member_id", "is not a member of this organization")
        })?;
    let code = secret::new_enrollment_code();
    let created_at = now();
    let enrollment = enrollment::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(caller.org_id),
        member_id: Set(member_id),
        code_hash: Set(secret::enrollment_code_hash(&code)),
        key_name: Set(key_name),
        created_by: Set(caller.actor()),
        created_at: Set(created_at),
        expires_at: Set(created_at + valid_for),
        redeemed_at: Set(None),
        api_key_id: Set(None),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(CreatedEnrollment { enrollment, code })
}

/// A key traded for an enrolment code, its secret (shown once) and its organization.
pub struct Redeemed {
    pub key: api_key::Model,
    pub secret: String,
    pub organization: organization::Model,
}

/// Trades a code for a new `links` key of its member. An unknown, used or expired code is the
/// same `NotFound`; of two concurrent trades of one code, one wins.
pub async fn redeem(store: &Store, code: &str) -> Result<Redeemed, ServiceError> {
    const UNKNOWN: ServiceError = ServiceError::NotFound("enrollment code");
    let hash = secret::enrollment_code_hash(code);
    let txn = store.write.begin().await?;
    let at = now();
    // Claimed by the one UPDATE that finds it unused and unexpired.
    let claimed = enrollment::Entity::update_many()
        .col_expr(enrollment::Column::RedeemedAt, Expr::value(at))
        .filter(enrollment::Column::CodeHash.eq(&hash))
        .filter(enrollment::Column::RedeemedAt.is_null())
        .filter(enrollment::Column::ExpiresAt.gt(at))
        .exec(&txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(UNKNOWN);
    }
    let enrollment = enrollment::Entity::find()
        .filter(enrollment::Column::CodeHash.eq(&hash))
        .one(&txn)
        .await?
        .ok_or(UNKNOWN)?;
    let organization = organization::Entity::find_by_id(enrollment.org_id)
        .one(&txn)
        .await?
        .ok_or(UNKNOWN)?;
    let (secret, key) = insert_key(
        &txn,
        OrgId::from_uuid(enrollment.org_id),
        &enrollment.key_name,
        Scope::Links,
        Some(MemberId::from_uuid(enrollment.member_id)),
    )
    .await?;
    let mut row: enrollment::ActiveModel = enrollment.into();
    row.api_key_id = Set(Some(key.id));
    row.update(&txn).await?;
    txn.commit().await?;
    Ok(Redeemed {
        key,
        secret,
        organization,
    })
}
