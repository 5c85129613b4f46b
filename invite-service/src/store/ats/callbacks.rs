//! Calls back to an ATS about its interviews: an outbox of their own. Each is written in the
//! transaction of the change it tells of (from `webhooks::emit::invites`, which every change
//! of an invite goes through), so it exists exactly when the change commits; the callback loop
//! (`ats::callbacks`) sends it until the ATS takes it, each invite's in the order written.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, LockBehavior, LockType},
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Set, TransactionTrait,
};
use uuid::Uuid;

use super::connection_owner;
use crate::{
    db::entities::{api_key, ats_callback, ats_connection, ats_interview, invite, job},
    domain::{
        ats::{Ats, Progress},
        Scope, WebhookDeliveryStatus,
    },
    error::ServiceError,
    store::{now, webhooks::emit::InviteHappening, Caller, Store},
};

/// Bounded statements: SQLite binds at most 32766 values per statement.
const CHUNK: usize = 1000;

/// Writes the calls back that these changes owe, in the caller's transaction. Changes no ATS
/// hears of cost nothing; the rest one indexed read.
pub(crate) async fn emit(
    db: &impl ConnectionTrait,
    happenings: &[InviteHappening],
) -> Result<(), ServiceError> {
    let heard: Vec<&InviteHappening> = happenings
        .iter()
        .filter(|h| Progress::any_hears(h.event))
        .collect();
    if heard.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<Uuid> = heard.iter().map(|h| h.invite_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut references = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let rows = ats_interview::Entity::find()
            .filter(ats_interview::Column::InviteId.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        references.extend(rows.into_iter().map(|r| (r.invite_id, r)));
    }
    if references.is_empty() {
        return Ok(());
    }
    let by_the_ats = changed_by_an_ats(db, &heard).await?;
    let at = now();
    let mut rows = Vec::new();
    for happening in heard {
        let Some(reference) = references.get(&happening.invite_id) else {
            continue;
        };
        let Some(progress) = Progress::of(reference.ats, happening.event) else {
            continue;
        };
        // The ATS made this change itself (Ashby's assessment.cancel): nothing to tell it.
        if by_the_ats.contains(happening.actor.as_str()) {
            continue;
        }
        rows.push(ats_callback::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(reference.org_id),
            invite_id: Set(reference.invite_id),
            ats: Set(reference.ats),
            progress: Set(progress),
            detail: Set(Progress::detail(happening.event, &happening.detail)),
            happened_at: Set(at),
            status: Set(WebhookDeliveryStatus::Pending),
            attempt_count: Set(0),
            next_attempt_at: Set(at),
            last_response_status: Set(None),
            last_error: Set(String::new()),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        });
    }
    // In the order of the happenings: `seq` keeps it.
    for chunk in rows.chunks(CHUNK) {
        ats_callback::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The actors among `heard` that are ATS keys (`key:<id>` of the `ats` scope).
async fn changed_by_an_ats(
    db: &impl ConnectionTrait,
    heard: &[&InviteHappening],
) -> Result<HashSet<String>, ServiceError> {
    let key_ids: HashSet<Uuid> = heard
        .iter()
        .filter_map(|h| h.actor.strip_prefix("key:"))
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect();
    if key_ids.is_empty() {
        return Ok(HashSet::new());
    }
    let ats_keys: Vec<Uuid> = api_key::Entity::find()
        .select_only()
        .column(api_key::Column::Id)
        .filter(api_key::Column::Id.is_in(key_ids))
        .filter(api_key::Column::Scope.eq(Scope::Ats))
        .into_tuple()
        .all(db)
        .await?;
    Ok(ats_keys.into_iter().map(|id| format!("key:{id}")).collect())
}

/// A call back that is due, with what sending it needs.
#[derive(Clone)]
pub struct DueCallback {
    pub seq: i64,
    pub id: Uuid,
    pub invite_id: Uuid,
    pub ats: Ats,
    pub progress: Progress,
    pub detail: String,
    pub happened_at: DateTime<Utc>,
    pub job_title: String,
    /// Where the candidate's work is: the job's assessment.
    pub assessment_url: String,
    /// Greenhouse: where the PATCH goes. Empty for Ashby (its API's address is configured).
    pub callback_url: String,
    /// The key to present: the one Greenhouse gave for this interview, or the organization's
    /// Ashby key; `None` when there is none (or it does not open).
    pub credential: Option<String>,
    pub attempt_count: i32,
    /// This claim's hold: the call's outcome is recorded only while it lasts.
    pub held_until: DateTime<Utc>,
}

impl std::fmt::Debug for DueCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueCallback")
            .field("id", &self.id)
            .field("invite_id", &self.invite_id)
            .field("ats", &self.ats)
            .field("progress", &self.progress)
            .field("attempt_count", &self.attempt_count)
            .finish_non_exhaustive()
    }
}

/// Pending calls due at `at`, each the first of its invite still pending, the longest due
/// first (the `ats_callbacks_status_due` index's order).
fn due_query(at: DateTime<Utc>) -> sea_orm::Select<ats_callback::Entity> {
    ats_callback::Entity::find()
        .filter(ats_callback::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .filter(ats_callback::Column::NextAttemptAt.lte(at))
        // In order per invite: nothing of an invite goes while an earlier call waits.
        .filter(Expr::cust(
            "NOT EXISTS (SELECT 1 FROM ats_callbacks earlier \
             WHERE earlier.invite_id = ats_callbacks.invite_id \
             AND earlier.status = 'pending' AND earlier.seq < ats_callbacks.seq)",
        ))
        .order_by_asc(ats_callback::Column::NextAttemptAt)
}

/// Takes up to `limit` due calls back, found and held for `lease` in one statement (a replica
/// that dies mid-call lets another send it when the lease ends).
pub async fn claim_due(
    store: &Store,
    limit: u64,
    lease: chrono::Duration,
) -> Result<Vec<DueCallback>, ServiceError> {
    let at = now();
    let postgres = store.write.get_database_backend() == DbBackend::Postgres;
    // Most rounds find nothing: on SQLite a reader says so without taking the single writer.
    if !postgres && due_query(at).one(&store.read).await?.is_none() {
        return Ok(Vec::new());
    }
    let txn = store.write.begin().await?;
    let mut due = due_query(at)
        .select_only()
        .column(ats_callback::Column::Seq)
        .limit(limit);
    if postgres {
        due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let held_until = at + lease;
    let mut claimed = ats_callback::Entity::update_many()
        .col_expr(ats_callback::Column::NextAttemptAt, Expr::value(held_until))
        .filter(ats_callback::Column::Seq.in_subquery(due.into_query()))
        .exec_with_returning(&txn)
        .await?;
    txn.commit().await?;
    claimed.sort_by_key(|c| c.seq);
    let mut due = Vec::with_capacity(claimed.len());
    for callback in claimed {
        let (callback_url, credential) = credential(store, &callback).await?;
        let invite = invite::Entity::find_by_id(callback.invite_id)
            .one(&store.read)
            .await?;
        let job = match &invite {
            Some(invite) => {
                job::Entity::find_by_id(invite.job_id)
                    .one(&store.read)
                    .await?
            }
            None => None,
        };
        let (job_title, assessment_url) =
            job.map(|j| (j.title, j.assessment_url)).unwrap_or_default();
        due.push(DueCallback {
            seq: callback.seq,
            id: callback.id,
            invite_id: callback.invite_id,
            ats: callback.ats,
            progress: callback.progress,
            detail: callback.detail,
            happened_at: callback.happened_at,
            job_title,
            assessment_url,
            callback_url,
            credential,
            attempt_count: callback.attempt_count,
            held_until,
        });
    }
    Ok(due)
}

/// Where a call back goes and the key it presents.
async fn credential(
    store: &Store,
    callback: &ats_callback::Model,
) -> Result<(String, Option<String>), ServiceError> {
    let seal = store.link_key.ats_seal();
    let open = |sealed: &str, owner: Uuid| {
        seal.open(sealed, owner)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
    };
    match callback.ats {
        Ats::Greenhouse => {
            let reference = ats_interview::Entity::find_by_id(callback.invite_id)
                .one(&store.read)
                .await?;
            Ok(match reference {
                Some(r) => {
                    let key = r
                        .credential_sealed
                        .as_deref()
                        .and_then(|s| open(s, r.invite_id));
                    (r.callback_url, key)
                }
                None => (String::new(), None),
            })
        }
        Ats::Ashby => {
            let connection = ats_connection::Entity::find_by_id((callback.org_id, Ats::Ashby))
                .one(&store.read)
                .await?;
            let key = connection.and_then(|c| {
                open(
                    &c.api_key_sealed,
                    connection_owner(callback.org_id, Ats::Ashby),
                )
            });
            Ok((String::new(), key))
        }
    }
}

/// What became of one attempt.
#[derive(Clone, Debug)]
pub enum CallbackAttempt {
    Delivered {
        response_status: Option<u16>,
    },
    /// Not taken: tried again at `retry_at`.
    NotTaken {
        response_status: Option<u16>,
        error: String,
        retry_at: DateTime<Utc>,
    },
}

/// Records an attempt, only while this claim still holds the call (a claimer that outlived
/// its lease records nothing: the call is someone else's by then).
pub async fn record(
    store: &Store,
    callback: &DueCallback,
    attempt: CallbackAttempt,
) -> Result<(), ServiceError> {
    let at = now();
    let (status, response_status, error, next) = match attempt {
        CallbackAttempt::Delivered { response_status } => (
            WebhookDeliveryStatus::Delivered,
            response_status,
            String::new(),
            at,
        ),
        CallbackAttempt::NotTaken {
            response_status,
            error,
            retry_at,
        } => (
            WebhookDeliveryStatus::Pending,
            response_status,
            error,
            retry_at,
        ),
    };
    ats_callback::Entity::update_many()
        .col_expr(ats_callback::Column::Status, Expr::value(status))
        .col_expr(
            ats_callback::Column::AttemptCount,
            Expr::value(callback.attempt_count.saturating_add(1)),
        )
        .col_expr(ats_callback::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            ats_callback::Column::LastResponseStatus,
            Expr::value(response_status.map(i32::from)),
        )
        .col_expr(ats_callback::Column::LastError, Expr::value(error))
        .col_expr(ats_callback::Column::UpdatedAt, Expr::value(at))
        .filter(ats_callback::Column::Seq.eq(callback.seq))
        .filter(ats_callback::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .filter(ats_callback::Column::NextAttemptAt.eq(callback.held_until))
        .exec(&store.write)
        .await?;
    Ok(())
}

/// The caller's organization's calls back, newest first: of one invite, in one state.
pub async fn list(
    store: &Store,
    caller: &Caller,
    invite_id: Option<Uuid>,
    status: Option<WebhookDeliveryStatus>,
    limit: u64,
) -> Result<Vec<ats_callback::Model>, ServiceError> {
    let mut query =
        ats_callback::Entity::find().filter(ats_callback::Column::OrgId.eq(caller.org_id));
    if let Some(invite_id) = invite_id {
        query = query.filter(ats_callback::Column::InviteId.eq(invite_id));
    }
    if let Some(status) = status {
        query = query.filter(ats_callback::Column::Status.eq(status));
    }
    Ok(query
        .order_by_desc(ats_callback::Column::Seq)
        .limit(limit)
        .all(&store.read)
        .await?)
}

/// Tries a pending call back of the caller's organization again now, on a fresh schedule (the
/// ATS is fixed; no need to wait for the next try). A delivered one is answered as it is.
pub async fn retry_now(
    store: &Store,
    caller: &Caller,
    id: Uuid,
) -> Result<ats_callback::Model, ServiceError> {
    let at = now();
    ats_callback::Entity::update_many()
        .col_expr(ats_callback::Column::AttemptCount, Expr::value(0))
        .col_expr(ats_callback::Column::NextAttemptAt, Expr::value(at))
        .col_expr(ats_callback::Column::UpdatedAt, Expr::value(at))
        .filter(ats_callback::Column::Id.eq(id))
        .filter(ats_callback::Column::OrgId.eq(caller.org_id))
        .filter(ats_callback::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .exec(&store.write)
        .await?;
    ats_callback::Entity::find()
        .filter(ats_callback::Column::Id.eq(id))
        .filter(ats_callback::Column::OrgId.eq(caller.org_id))
        .one(&store.write)
        .await?
        .ok_or(ServiceError::NotFound("ATS callback"))
}

/// Forgets delivered calls back last changed before `before`; pending ones are kept until
/// delivered. How many went.
pub async fn forget_delivered_before(
    store: &Store,
    before: DateTime<Utc>,
) -> Result<u64, ServiceError> {
    Ok(ats_callback::Entity::delete_many()
        .filter(ats_callback::Column::Status.eq(WebhookDeliveryStatus::Delivered))
        .filter(ats_callback::Column::UpdatedAt.lt(before))
        .exec(&store.write)
        .await?
        .rows_affected)
}
