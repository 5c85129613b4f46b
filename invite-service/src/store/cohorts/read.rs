//! Reading cohorts, their members and their outcomes in order.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::find;
use crate::{
    db::entities::{cohort, cohort_member, invite},
    domain::MemberState,
    error::ServiceError,
    store::{
        paging::{Order, Page},
        Caller, Store,
    },
};

/// Outcomes read per watch round.
const OUTCOMES_PER_READ: u64 = 500;

/// A member with its invite, when it has one.
#[derive(Clone, Debug)]
pub struct MemberView {
    pub member: cohort_member::Model,
    pub invite_id: Option<Uuid>,
}

/// The cohort's members by row, with the invites they got.
pub async fn members(
    store: &Store,
    caller: &Caller,
    cohort_id: Uuid,
) -> Result<(cohort::Model, Vec<MemberView>), ServiceError> {
    let cohort = find(&store.read, caller, cohort_id).await?;
    let members = cohort_member::Entity::find()
        .filter(cohort_member::Column::CohortId.eq(cohort.id))
        .order_by_asc(cohort_member::Column::Row)
        .all(&store.read)
        .await?;
    let invite_ids = invite_ids_by_email(&store.read, cohort.id).await?;
    Ok((
        cohort,
        members
            .into_iter()
            .map(|m| MemberView {
                invite_id: m.invite_id.or_else(|| {
                    (m.state == MemberState::Invited)
                        .then(|| invite_ids.get(&m.email).copied())
                        .flatten()
                }),
                member: m,
            })
            .collect(),
    ))
}

/// Invites of a cohort by candidate email (unique within a cohort).
pub(super) async fn invite_ids_by_email(
    db: &impl ConnectionTrait,
    cohort_id: Uuid,
) -> Result<HashMap<String, Uuid>, ServiceError> {
    let rows: Vec<(String, Uuid)> = invite::Entity::find()
        .select_only()
        .column(invite::Column::CandidateEmail)
        .column(invite::Column::Id)
        .filter(invite::Column::CohortId.eq(cohort_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Outcomes after `after_sequence`, in the order they happened.
pub async fn outcomes_after(
    store: &Store,
    caller: &Caller,
    cohort_id: Uuid,
    after_sequence: i64,
) -> Result<(cohort::Model, Vec<MemberView>), ServiceError> {
    let cohort = find(&store.read, caller, cohort_id).await?;
    let members = cohort_member::Entity::find()
        .filter(cohort_member::Column::CohortId.eq(cohort.id))
        .filter(cohort_member::Column::Sequence.gt(after_sequence))
        .order_by_asc(cohort_member::Column::Sequence)
        .limit(OUTCOMES_PER_READ)
        .all(&store.read)
        .await?;
    let needs_lookup = members
        .iter()
        .any(|m| m.state == MemberState::Invited && m.invite_id.is_none());
    let invite_ids = if needs_lookup {
        invite_ids_by_email(&store.read, cohort.id).await?
    } else {
        HashMap::new()
    };
    Ok((
        cohort,
        members
            .into_iter()
            .map(|m| MemberView {
                invite_id: m.invite_id.or_else(|| invite_ids.get(&m.email).copied()),
                member: m,
            })
            .collect(),
    ))
}

pub async fn list(
    store: &Store,
    caller: &Caller,
    since: DateTime<Utc>,
    page: &Page,
) -> Result<(Vec<cohort::Model>, String), ServiceError> {
    let query = cohort::Entity::find()
        .filter(cohort::Column::OrgId.eq(caller.org_id))
        .filter(cohort::Column::CreatedAt.gte(since));
    page.fetch(
        &store.read,
        query,
        cohort::Column::Id,
        Order::Descending,
        |c| c.id,
    )
    .await
}
