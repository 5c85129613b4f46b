//! Candidates: people invited, one per email address within an organization.
use std::collections::HashMap;

use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    TransactionTrait,
};
use uuid::Uuid;

use super::{
    now,
    paging::{Order, Page},
    Caller, Store,
};
use crate::domain::email::Email;
use crate::{db::entities::candidate, error::ServiceError};

#[derive(Clone, Debug)]
pub struct CandidateInput {
    pub email: Email,
    /// Empty: keep the stored name.
    pub name: String,
    /// Empty: keep the stored id.
    pub external_id: String,
}

/// Creates the candidate with this email or updates the one that exists.
pub async fn upsert(
    store: &Store,
    caller: &Caller,
    input: CandidateInput,
) -> Result<candidate::Model, ServiceError> {
    let attempt = || async {
        let txn = store.write.begin().await?;
        let candidate = upsert_in(&txn, caller, &input).await?;
        txn.commit().await?;
        Ok(candidate)
    };
    match attempt().await {
        Err(ServiceError::UniqueViolation(_)) => attempt().await,
        other => other,
    }
}

/// The upsert inside a caller's transaction, for invites that name a candidate.
pub(crate) async fn upsert_in(
    db: &impl ConnectionTrait,
    caller: &Caller,
    input: &CandidateInput,
) -> Result<candidate::Model, ServiceError> {
    let existing = candidate::Entity::find()
        .filter(candidate::Column::OrgId.eq(caller.org_id))
        .filter(candidate::Column::Email.eq(input.email.as_str()))
        .one(db)
        .await?;
    let at = now();
    match existing {
        Some(existing) => {
            let name_changes = !input.name.is_empty() && input.name != existing.name;
            let external_changes =
                !input.external_id.is_empty() && input.external_id != existing.external_id;
            if !name_changes && !external_changes {
                return Ok(existing);
            }
            let mut row: candidate::ActiveModel = existing.into();
            if name_changes {
                row.name = Set(input.name.clone());
            }
            if external_changes {
                row.external_id = Set(input.external_id.clone());
            }
            row.updated_at = Set(at);
            Ok(row.update(db).await?)
        }
        None => Ok(candidate::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(caller.org_id),
            email: Set(input.email.to_string()),
            name: Set(input.name.clone()),
            external_id: Set(input.external_id.clone()),
            created_at: Set(at),
            updated_at: Set(at),
        }
        .insert(db)
        .await?),
    }
}

/// A candidate named by an invite: its organization, its email (lower-cased, validated) and a
/// name (empty: keep the stored one).
pub(crate) struct Named<'a> {
    pub org_id: Uuid,
    pub email: &'a str,
    pub name: &'a str,
}

/// `upsert_in` for many candidates in one statement (their external ids are left alone): each
/// is made, or its name updated when a new one is given. Returns each candidate's id by
/// organization and email. When an email is named twice, the last name given wins, as if they
/// had been upserted one after the other.
pub(crate) async fn upsert_many(
    db: &impl ConnectionTrait,
    named: &[Named<'_>],
) -> Result<HashMap<(Uuid, String), Uuid>, ServiceError> {
    let mut names: HashMap<(Uuid, &str), &str> = HashMap::new();
    for n in named {
        let name = names.entry((n.org_id, n.email)).or_insert(n.name);
        if !n.name.is_empty() {
            *name = n.name;
        }
    }
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    // In key order, so that concurrent writers lock the rows they share in the same order.
    let mut names: Vec<_> = names.into_iter().collect();
    names.sort_unstable();
    let at = now();
    let renamed = "excluded.name <> '' AND excluded.name <> candidates.name";
    let mut ids = HashMap::with_capacity(names.len());
    // Bounded statements: SQLite binds at most 32766 values per statement.
    for chunk in names.chunks(1000) {
        let rows = candidate::Entity::insert_many(chunk.iter().map(|((org_id, email), name)| {
            candidate::ActiveModel {
                id: Set(Uuid::now_v7()),
                org_id: Set(*org_id),
                email: Set(email.to_string()),
                name: Set(name.to_string()),
                external_id: Set(String::new()),
                created_at: Set(at),
                updated_at: Set(at),
            }
        }))
        .on_conflict(
            OnConflict::columns([candidate::Column::OrgId, candidate::Column::Email])
                .value(
                    candidate::Column::Name,
                    Expr::cust(format!(
                        "CASE WHEN {renamed} THEN excluded.name ELSE candidates.name END"
                    )),
                )
                .value(
                    candidate::Column::UpdatedAt,
                    Expr::cust(format!(
                        "CASE WHEN {renamed} THEN excluded.updated_at \
                         ELSE candidates.updated_at END"
                    )),
                )
                .to_owned(),
        )
        .exec_with_returning_many(db)
        .await?;
        ids.extend(rows.into_iter().map(|c| ((c.org_id, c.email), c.id)));
    }
    Ok(ids)
}

pub async fn get(
    store: &Store,
    caller: &Caller,
    id: Uuid,
) -> Result<candidate::Model, ServiceError> {
    find(&store.read, caller, id).await
}

/// The caller's candidates among `ids`, by id; another organization's are left out.
pub async fn find_many(
    store: &Store,
    caller: &Caller,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, candidate::Model>, ServiceError> {
    let mut found = HashMap::with_capacity(ids.len());
    // Bounded statements: SQLite binds at most 32766 values per statement.
    for chunk in ids.chunks(1000) {
        for c in candidate::Entity::find()
            .filter(candidate::Column::OrgId.eq(caller.org_id))
            .filter(candidate::Column::Id.is_in(chunk.iter().copied()))
            .all(&store.read)
            .await?
        {
            found.insert(c.id, c);
        }
    }
    Ok(found)
}

/// The caller's candidate; another organization's answers like a missing one.
pub(crate) async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<candidate::Model, ServiceError> {
    candidate::Entity::find_by_id(id)
        .filter(candidate::Column::OrgId.eq(caller.org_id))
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("candidate"))
}

pub async fn list(
    store: &Store,
    caller: &Caller,
    email: Option<Email>,
    page: &Page,
) -> Result<(Vec<candidate::Model>, String), ServiceError> {
    let mut query = candidate::Entity::find().filter(candidate::Column::OrgId.eq(caller.org_id));
    if let Some(email) = email {
        query = query.filter(candidate::Column::Email.eq(email.into_string()));
    }
    page.fetch(
        &store.read,
        query,
        candidate::Column::Id,
        Order::Descending,
        |c| c.id,
    )
    .await
}
