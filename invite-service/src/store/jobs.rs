//! Jobs: the positions or assessments candidates are invited to.
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use uuid::Uuid;

use super::{
    idempotency::{Idempotency, RequestId},
    now,
    paging::{Order, Page},
    Caller, Store,
};
use crate::{db::entities::job, domain::JobState, error::ServiceError};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobDefaults {
    pub expiry_days: i32,
    pub time_limit_minutes: i32,
    pub message: String,
}

#[derive(Clone, Debug)]
pub struct NewJob {
    pub title: String,
    pub state: JobState,
    pub assessment_url: String,
    pub defaults: JobDefaults,
    pub renewal_needs_approval: bool,
    pub locale: Option<String>,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct JobChanges {
    pub title: Option<String>,
    pub state: Option<JobState>,
    pub assessment_url: Option<String>,
    pub defaults: Option<JobDefaults>,
    pub renewal_needs_approval: Option<bool>,
    /// `Some(None)` clears it: the organization's default decides.
    pub locale: Option<Option<String>>,
}

pub async fn create(
    store: &Store,
    caller: &Caller,
    new: NewJob,
    request: Option<RequestId>,
) -> Result<job::Model, ServiceError> {
    let idempotency = request.map(|r| Idempotency::new(caller, "CreateJob", &r));
    match try_create(store, caller, &new, idempotency.as_ref()).await {
        Err(ServiceError::UniqueViolation(_)) if idempotency.is_some() => {
            try_create(store, caller, &new, idempotency.as_ref()).await
        }
        other => other,
    }
}

async fn try_create(
    store: &Store,
    caller: &Caller,
    new: &NewJob,
    idempotency: Option<&Idempotency>,
) -> Result<job::Model, ServiceError> {
    let txn = store.write.begin().await?;
    if let Some(idempotency) = idempotency {
        if let Some(replay) = idempotency.replay(&txn).await? {
            return find(&txn, caller, replay.resource_id).await;
        }
    }
    let at = now();
    let job = job::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(caller.org_id),
        title: Set(new.title.clone()),
        state: Set(new.state),
        assessment_url: Set(new.assessment_url.clone()),
        default_expiry_days: Set(new.defaults.expiry_days),
        default_time_limit_minutes: Set(new.defaults.time_limit_minutes),
        default_message: Set(new.defaults.message.clone()),
        created_at: Set(at),
        updated_at: Set(at),
        public_token_hash: Set(None),
        public_link_enabled: Set(false),
        renewal_needs_approval: Set(new.renewal_needs_approval),
        locale: Set(new.locale.clone()),
    }
    .insert(&txn)
    .await?;
    if let Some(idempotency) = idempotency {
        idempotency.record(&txn, job.id, None).await?;
    }
    txn.commit().await?;
    Ok(job)
}

pub async fn get(store: &Store, caller: &Caller, id: Uuid) -> Result<job::Model, ServiceError> {
    find(&store.read, caller, id).await
}

pub(crate) async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<job::Model, ServiceError> {
    job::Entity::find_by_id(id)
        .filter(job::Column::OrgId.eq(caller.org_id))
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("job"))
}

pub async fn list(
    store: &Store,
    caller: &Caller,
    state: Option<JobState>,
    page: &Page,
) -> Result<(Vec<job::Model>, String), ServiceError> {
    let mut query = job::Entity::find().filter(job::Column::OrgId.eq(caller.org_id));
    if let Some(state) = state {
        query = query.filter(job::Column::State.eq(state));
    }
    page.fetch(
        &store.read,
        query,
        job::Column::Id,
        Order::Descending,
        |j| j.id,
    )
    .await
}

pub async fn update(
    store: &Store,
    caller: &Caller,
    id: Uuid,
    changes: JobChanges,
) -> Result<job::Model, ServiceError> {
    let txn = store.write.begin().await?;
    let existing = find(&txn, caller, id).await?;
    let mut job: job::ActiveModel = existing.into();
    if let Some(title) = changes.title {
        job.title = Set(title);
    }
    if let Some(state) = changes.state {
        job.state = Set(state);
    }
    if let Some(url) = changes.assessment_url {
        job.assessment_url = Set(url);
    }
    if let Some(defaults) = changes.defaults {
        job.default_expiry_days = Set(defaults.expiry_days);
        job.default_time_limit_minutes = Set(defaults.time_limit_minutes);
        job.default_message = Set(defaults.message);
    }
    if let Some(approval) = changes.renewal_needs_approval {
        job.renewal_needs_approval = Set(approval);
    }
    if let Some(locale) = changes.locale {
        job.locale = Set(locale);
    }
    job.updated_at = Set(now());
    let job = job.update(&txn).await?;
    txn.commit().await?;
    Ok(job)
}
