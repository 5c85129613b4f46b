//! Organizations, their members and their API keys.
use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{
    idempotency::{Idempotency, RequestId},
    key_cache, now,
    paging::{Order, Page},
    Caller, Store,
};
use crate::domain::{
    email::Email,
    ids::{MemberId, OrgId},
};
use crate::{
    db::entities::{api_key, member, organization},
    domain::{secret, Scope},
    error::ServiceError,
};

/// A new organization with its first admin key, shown once.
pub struct Bootstrapped {
    pub organization: organization::Model,
    pub admin_key: String,
}

/// Creates an organization and an admin key for it.
pub async fn bootstrap(store: &Store, name: &str) -> Result<Bootstrapped, ServiceError> {
    let txn = store.write.begin().await?;
    let organization = organization::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.to_string()),
        created_at: Set(now()),
        default_locale: Set(beckon_i18n::Locale::FALLBACK.tag().to_string()),
    }
    .insert(&txn)
    .await?;
    let (admin_key, _) = insert_key(
        &txn,
        OrgId::from_uuid(organization.id),
        "bootstrap admin key",
        Scope::Admin,
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(Bootstrapped {
        organization,
        admin_key,
    })
}

/// On an empty database, makes the first organization and its admin key; otherwise nothing.
pub async fn bootstrap_if_empty(store: &Store) -> Result<Option<Bootstrapped>, ServiceError> {
    if organization::Entity::find().count(&store.read).await? > 0 {
        return Ok(None);
    }
    bootstrap(store, "My organization").await.map(Some)
}

pub(super) async fn insert_key(
    db: &impl ConnectionTrait,
    org_id: OrgId,
    name: &str,
    scope: Scope,
    owner_member_id: Option<MemberId>,
) -> Result<(String, api_key::Model), ServiceError> {
    let (key, prefix, secret_hash) = secret::new_api_key();
    let row = api_key::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(org_id.uuid()),
        name: Set(name.to_string()),
        scope: Set(scope),
        prefix: Set(prefix),
        secret_hash: Set(secret_hash),
        created_at: Set(now()),
        revoked_at: Set(None),
        owner_member_id: Set(owner_member_id.map(MemberId::uuid)),
    }
    .insert(db)
    .await?;
    Ok((key, row))
}

/// Resolves a presented API key. Every failure is the same `Unauthenticated`. A key verified
/// lately is checked against its cached hash, without a read.
pub async fn authenticate(store: &Store, presented: &str) -> Result<Caller, ServiceError> {
    let Some((prefix, secret)) = secret::split_api_key(presented) else {
        return Err(ServiceError::Unauthenticated);
    };
    if let Some((secret_hash, caller)) = store.keys.get(prefix) {
        return if secret::secret_matches(secret, &secret_hash) {
            Ok(caller)
        } else {
            Err(ServiceError::Unauthenticated)
        };
    }
    let generation = store.keys.generation();
    let row = api_key::Entity::find()
        .filter(api_key::Column::Prefix.eq(prefix))
        .one(&store.read)
        .await?;
    let Some(row) = row else {
        // Compare anyway, so an unknown prefix takes as long as a wrong secret.
        let _ = secret::secret_matches(secret, &"0".repeat(64));
        return Err(ServiceError::Unauthenticated);
    };
    if !secret::secret_matches(secret, &row.secret_hash) || row.revoked_at.is_some() {
        return Err(ServiceError::Unauthenticated);
    }
    let caller = Caller {
        org_id: row.org_id,
        key_id: row.id,
        scope: row.scope,
        owner_member_id: row.owner_member_id,
    };
    store
        .keys
        .insert(generation, prefix, &row.secret_hash, &caller);
    Ok(caller)
}

pub async fn caller_details(
    store: &Store,
    caller: &Caller,
) -> Result<(organization::Model, api_key::Model), ServiceError> {
    let organization = organization::Entity::find_by_id(caller.org_id)
        .one(&store.read)
        .await?
        .ok_or(ServiceError::NotFound("organization"))?;
    let key = find_key(&store.read, caller, caller.key_id).await?;
    Ok((organization, key))
}

/// Fields of the organization to change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct OrganizationChanges {
    pub name: Option<String>,
    /// A shipped locale's tag, checked.
    pub default_locale: Option<String>,
}

pub async fn get_organization(
    store: &Store,
    caller: &Caller,
) -> Result<organization::Model, ServiceError> {
    organization::Entity::find_by_id(caller.org_id)
        .one(&store.read)
        .await?
        .ok_or(ServiceError::NotFound("organization"))
}

/// Organizations' default languages, kept a short while: a link page that knows no closer
/// language (no invite's, browser's or job's, as for link scanners) then costs no second read.
/// A change on this replica shows at once, on the others within `DEFAULT_LOCALE_TTL`.
#[derive(Default)]
pub struct DefaultLocales(Mutex<HashMap<Uuid, (String, Instant)>>);

const DEFAULT_LOCALE_TTL: Duration = Duration::from_secs(60);
/// At most this many organizations are kept; a full map starts again.
const DEFAULT_LOCALES_KEPT: usize = 10_000;

impl DefaultLocales {
    fn get(&self, org_id: Uuid) -> Option<String> {
        let kept = self.0.lock().ok()?;
        kept.get(&org_id)
            .filter(|(_, at)| at.elapsed() < DEFAULT_LOCALE_TTL)
            .map(|(locale, _)| locale.clone())
    }

    fn put(&self, org_id: Uuid, locale: &str) {
        if let Ok(mut kept) = self.0.lock() {
            if kept.len() >= DEFAULT_LOCALES_KEPT {
                kept.clear();
            }
            kept.insert(org_id, (locale.to_string(), Instant::now()));
        }
    }
}

/// An organization's default language, for a page that knows no closer one.
pub async fn default_locale(store: &Store, org_id: Uuid) -> Result<Option<String>, ServiceError> {
    if let Some(locale) = store.default_locales.get(org_id) {
        return Ok(Some(locale));
    }
    let found = organization::Entity::find_by_id(org_id)
        .one(&store.read)
        .await?
        .map(|o| o.default_locale);
    if let Some(locale) = &found {
        store.default_locales.put(org_id, locale);
    }
    Ok(found)
}

pub async fn update_organization(
    store: &Store,
    caller: &Caller,
    changes: OrganizationChanges,
) -> Result<organization::Model, ServiceError> {
    let txn = store.write.begin().await?;
    let mut row: organization::ActiveModel = organization::Entity::find_by_id(caller.org_id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("organization"))?
        .into();
    if let Some(name) = changes.name {
        row.name = Set(name);
    }
    if let Some(locale) = changes.default_locale {
        row.default_locale = Set(locale);
    }
    let row = row.update(&txn).await?;
    txn.commit().await?;
    store.default_locales.put(row.id, &row.default_locale);
    Ok(row)
}

#[derive(Clone, Debug)]
pub struct NewMember {
    pub email: Email,
    pub name: String,
    pub notify_started: bool,
    pub notify_submitted: bool,
    pub admin: bool,
    /// An IANA name, checked; `None`: UTC.
    pub time_zone: Option<String>,
    /// A shipped locale's tag, checked; `None`: the organization's default.
    pub locale: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct MemberChanges {
    pub name: Option<String>,
    pub notify_started: Option<bool>,
    pub notify_submitted: Option<bool>,
    pub admin: Option<bool>,
    /// `Some(None)` clears it.
    pub time_zone: Option<Option<String>>,
    /// `Some(None)` clears it.
    pub locale: Option<Option<String>>,
}

pub async fn create_member(
    store: &Store,
    caller: &Caller,
    new: NewMember,
    request: Option<RequestId>,
) -> Result<member::Model, ServiceError> {
    let idempotency = request.map(|r| Idempotency::new(caller, "CreateMember", &r));
    let attempt = || async {
        let txn = store.write.begin().await?;
        if let Some(idempotency) = &idempotency {
            if let Some(replay) = idempotency.replay(&txn).await? {
                return find_member(&txn, caller, replay.resource_id).await;
            }
        }
        let taken = member::Entity::find()
            .filter(member::Column::OrgId.eq(caller.org_id))
            .filter(member::Column::Email.eq(new.email.as_str()))
            .count(&txn)
            .await?
            > 0;
        if taken {
            return Err(ServiceError::AlreadyExists(format!(
                "a member with email {} already exists",
                new.email
            )));
        }
        let row = member::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(caller.org_id),
            email: Set(new.email.to_string()),
            name: Set(new.name.clone()),
            notify_started: Set(new.notify_started),
            notify_submitted: Set(new.notify_submitted),
            admin: Set(new.admin),
            time_zone: Set(new.time_zone.clone()),
            locale: Set(new.locale.clone()),
            created_at: Set(now()),
        }
        .insert(&txn)
        .await?;
        if let Some(idempotency) = &idempotency {
            idempotency.record(&txn, row.id, None).await?;
        }
        txn.commit().await?;
        Ok(row)
    };
    match attempt().await {
        Err(ServiceError::UniqueViolation(_)) => attempt().await,
        other => other,
    }
}

async fn find_member(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<member::Model, ServiceError> {
    member::Entity::find_by_id(id)
        .filter(member::Column::OrgId.eq(caller.org_id))
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("member"))
}

pub async fn list_members(
    store: &Store,
    caller: &Caller,
    page: &Page,
) -> Result<(Vec<member::Model>, String), ServiceError> {
    let query = member::Entity::find().filter(member::Column::OrgId.eq(caller.org_id));
    page.fetch(
        &store.read,
        query,
        member::Column::Id,
        Order::Descending,
        |m| m.id,
    )
    .await
}

pub async fn update_member(
    store: &Store,
    caller: &Caller,
    id: Uuid,
    changes: MemberChanges,
) -> Result<member::Model, ServiceError> {
    let txn = store.write.begin().await?;
    let mut row: member::ActiveModel = find_member(&txn, caller, id).await?.into();
    if let Some(name) = changes.name {
        row.name = Set(name);
    }
    if let Some(on) = changes.notify_started {
        row.notify_started = Set(on);
    }
    if let Some(on) = changes.notify_submitted {
        row.notify_submitted = Set(on);
    }
    if let Some(admin) = changes.admin {
        row.admin = Set(admin);
    }
    if let Some(time_zone) = changes.time_zone {
        row.time_zone = Set(time_zone);
    }
    if let Some(locale) = changes.locale {
        row.locale = Set(locale);
    }
    let row = row.update(&txn).await?;
    txn.commit().await?;
    Ok(row)
}

/// A new key and its secret, which is never stored and never shown again.
pub struct CreatedKey {
    pub key: api_key::Model,
    pub secret: String,
}

pub async fn create_key(
    store: &Store,
    caller: &Caller,
    name: String,
    scope: Scope,
    owner_member_id: Option<Uuid>,
    request: Option<RequestId>,
) -> Result<CreatedKey, ServiceError> {
    let idempotency = request.map(|r| Idempotency::new(caller, "CreateApiKey", &r));
    let attempt = || async {
        let txn = store.write.begin().await?;
        if let Some(idempotency) = &idempotency {
            if let Some(replay) = idempotency.replay(&txn).await? {
                let key = find_key(&txn, caller, replay.resource_id).await?;
                let secret = replay.secret.ok_or_else(|| {
                    ServiceError::Internal(anyhow::anyhow!("idempotent key answer has no secret"))
                })?;
                return Ok(CreatedKey { key, secret });
            }
        }
        if let Some(owner) = owner_member_id {
            find_member(&txn, caller, owner).await.map_err(|_| {
                ServiceError::invalid("member_id", "is not a member of this organization")
            })?;
        }
        let (secret, key) = insert_key(
            &txn,
            OrgId::from_uuid(caller.org_id),
            &name,
            scope,
            owner_member_id.map(MemberId::from_uuid),
        )
        .await?;
        if let Some(idempotency) = &idempotency {
            idempotency.record(&txn, key.id, Some(&secret)).await?;
        }
        txn.commit().await?;
        Ok(CreatedKey { key, secret })
    };
    match attempt().await {
        Err(ServiceError::UniqueViolation(_)) => attempt().await,
        other => other,
    }
}

async fn find_key(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<api_key::Model, ServiceError> {
    api_key::Entity::find_by_id(id)
        .filter(api_key::Column::OrgId.eq(caller.org_id))
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("API key"))
}

pub async fn list_keys(
    store: &Store,
    caller: &Caller,
    page: &Page,
) -> Result<(Vec<api_key::Model>, String), ServiceError> {
    let query = api_key::Entity::find().filter(api_key::Column::OrgId.eq(caller.org_id));
    page.fetch(
        &store.read,
        query,
        api_key::Column::Id,
        Order::Descending,
        |k| k.id,
    )
    .await
}

/// Revokes a key; revoking a revoked key changes nothing. Answers only once no replica can
/// still take the key from its cache.
pub async fn revoke_key(
    store: &Store,
    caller: &Caller,
    id: Uuid,
) -> Result<api_key::Model, ServiceError> {
    let postgres = store.write.get_database_backend() == DbBackend::Postgres;
    let confirmations = if postgres {
        Some(
            store
                .keys
                .subscribe()
                .await
                .map_err(ServiceError::Unavailable)?,
        )
    } else {
        None
    };
    let txn = store.write.begin().await?;
    let mut key = find_key(&txn, caller, id).await?;
    if key.revoked_at.is_none() {
        let mut row: api_key::ActiveModel = key.into();
        row.revoked_at = Set(Some(now()));
        key = row.update(&txn).await?;
    }
    if postgres {
        // Told again on a repeat too: the first call may have failed before every replica heard.
        txn.execute(key_cache::revoked_notice(id)).await?;
    }
    txn.commit().await?;
    store.keys.forget(id);
    if let Some(confirmations) = confirmations {
        key_cache::await_confirmations(
            store.write.get_postgres_connection_pool(),
            id,
            confirmations,
        )
        .await
        .map_err(ServiceError::Unavailable)?;
    }
    Ok(key)
}
