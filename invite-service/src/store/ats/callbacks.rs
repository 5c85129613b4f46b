//! Calls back to an ATS about its interviews: an outbox of their own. Each is written in the
//! transaction of the change it tells of (from `webhooks::emit::invites`, which every change
//! of an invite goes through), so it exists exactly when the change commits; the caller loop
//! (`ats::callbacks`) sends it until the ATS takes it, each invite's in the order written.
use std::collections::HashMap;

use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::connection_owner;
use crate::{
    db::entities::{ats_callback, ats_connection, ats_interview, invite, job},
    domain::{
        ats::{ashby_status, Ats, Progress},
        WebhookDeliveryStatus,
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
    let known: Vec<Uuid> = references.keys().copied().collect();
    let mut invites = HashMap::new();
    for chunk in known.chunks(CHUNK) {
        let rows = invite::Entity::find()
            .filter(invite::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        invites.extend(rows.into_iter().map(|i| (i.id, i)));
    }
    let mut job_ids: Vec<Uuid> = invites.values().map(|i| i.job_id).collect();
    job_ids.sort_unstable();
    job_ids.dedup();
    let mut jobs = HashMap::new();
    for chunk in job_ids.chunks(CHUNK) {
        let rows = job::Entity::find()
            .filter(job::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        jobs.extend(rows.into_iter().map(|j| (j.id, j)));
    }
    let at = now();
    let mut rows = Vec::new();
    for happening in heard {
        let Some(reference) = references.get(&happening.invite_id) else {
            continue;
        };
        let Some(progress) = Progress::of(reference.ats, happening.event) else {
            continue;
        };
        let (Some(invite), Some(job)) = (
            invites.get(&happening.invite_id),
            invites
                .get(&happening.invite_id)
                .and_then(|i| jobs.get(&i.job_id)),
        ) else {
            continue;
        };
        let body = match reference.ats {
            // Greenhouse's PATCH has no body: it then asks `test_status`.
            Ats::Greenhouse => String::new(),
            Ats::Ashby => ashby_update(invite, job, progress, at).to_string(),
        };
        rows.push(ats_callback::ActiveModel {
            // Distinct and increasing within the transaction: the per-invite order.
            id: Set(Uuid::now_v7()),
            org_id: Set(invite.org_id),
            invite_id: Set(invite.id),
            ats: Set(reference.ats),
            body: Set(body),
            status: Set(WebhookDeliveryStatus::Pending),
            attempt_count: Set(0),
            next_attempt_at: Set(at),
            last_response_status: Set(None),
            last_error: Set(String::new()),
            created_at: Set(at),
            updated_at: Set(at),
        });
    }
    for chunk in rows.chunks(CHUNK) {
        ats_callback::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// One value in Ashby's typed form.
fn value(identifier: &str, label: &str, kind: &str, value: &str) -> serde_json::Value {
    json!({"identifier": identifier, "label": label, "type": kind, "value": value})
}

/// The body of Ashby's `assessment.update` for this change: the status always, the result and
/// the profile URL on completion, the reason on cancellation.
fn ashby_update(
    invite: &invite::Model,
    job: &job::Model,
    progress: Progress,
    at: chrono::DateTime<chrono::Utc>,
) -> serde_json::Value {
    let mut body = json!({
        "assessment_id": invite.id.to_string(),
        "timestamp": at.timestamp_millis(),
        "metadata": [value("beckon_job", "Job", "string", &job.title)],
    });
    let status = match progress {
        Progress::Started => "Started",
        Progress::Reopened => "Reopened",
        Progress::Completed | Progress::Cancelled { .. } => ashby_status(invite.status),
    };
    match progress {
        Progress::Cancelled { reason } => {
            body["cancelled_reason"] =
                value("beckon_cancelled_reason", "Cancelled", "string", reason);
        }
        Progress::Completed => {
            body["assessment_status"] = value("beckon_status", "Status", "string", status);
            body["assessment_result"] = value("beckon_result", "Result", "string", "Submitted");
            body["assessment_profile_url"] =
                value("beckon_profile", "Assessment", "url", &job.assessment_url);
        }
        Progress::Started | Progress::Reopened => {
            body["assessment_status"] = value("beckon_status", "Status", "string", status);
        }
    }
    body
}

/// A call back that is due, with what sending it needs.
#[derive(Clone)]
pub struct DueCallback {
    pub id: Uuid,
    pub org_id: Uuid,
    pub invite_id: Uuid,
    pub ats: Ats,
    pub body: String,
    /// Greenhouse: where the PATCH goes. Empty for Ashby (its API's address is configured).
    pub callback_url: String,
    /// The key to present: the one Greenhouse gave for this interview, or the organization's
    /// Ashby key; `None` when there is none (or it does not open).
    pub credential: Option<String>,
    pub attempt_count: i32,
}

impl std::fmt::Debug for DueCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DueCallback")
            .field("id", &self.id)
            .field("invite_id", &self.invite_id)
            .field("ats", &self.ats)
            .field("attempt_count", &self.attempt_count)
            .finish_non_exhaustive()
    }
}

/// Takes up to `limit` due calls back, each the earliest pending one of its invite, holding
/// each for `lease` (so a replica that dies mid-call lets another send it after that).
pub async fn claim_due(
    store: &Store,
    limit: u64,
    lease: chrono::Duration,
) -> Result<Vec<DueCallback>, ServiceError> {
    let at = now();
    let due = ats_callback::Entity::find()
        .filter(ats_callback::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .filter(ats_callback::Column::NextAttemptAt.lte(at))
        .order_by_asc(ats_callback::Column::NextAttemptAt)
        .order_by_asc(ats_callback::Column::Id)
        .limit(limit)
        .all(&store.read)
        .await?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let invite_ids: Vec<Uuid> = due.iter().map(|c| c.invite_id).collect();
    let mut first: HashMap<Uuid, Uuid> = HashMap::new();
    let pending: Vec<(Uuid, Uuid)> = ats_callback::Entity::find()
        .select_only()
        .column(ats_callback::Column::InviteId)
        .column(ats_callback::Column::Id)
        .filter(ats_callback::Column::Status.eq(WebhookDeliveryStatus::Pending))
        .filter(ats_callback::Column::InviteId.is_in(invite_ids))
        .into_tuple()
        .all(&store.read)
        .await?;
    for (invite_id, id) in pending {
        let earliest = first.entry(invite_id).or_insert(id);
        *earliest = (*earliest).min(id);
    }
    let held_until = at + lease;
    let mut claimed = Vec::new();
    for callback in due {
        if first.get(&callback.invite_id) != Some(&callback.id) {
            // An earlier one of the same invite is still to go.
            continue;
        }
        // Taken only if nobody else took it since it was read.
        let taken = ats_callback::Entity::update_many()
            .col_expr(ats_callback::Column::NextAttemptAt, Expr::value(held_until))
            .col_expr(ats_callback::Column::UpdatedAt, Expr::value(at))
            .filter(ats_callback::Column::Id.eq(callback.id))
            .filter(ats_callback::Column::Status.eq(WebhookDeliveryStatus::Pending))
            .filter(ats_callback::Column::NextAttemptAt.eq(callback.next_attempt_at))
            .exec(&store.write)
            .await?
            .rows_affected
            == 1;
        if taken {
            claimed.push(callback);
        }
    }
    let mut due = Vec::with_capacity(claimed.len());
    for callback in claimed {
        let (callback_url, credential) = credential(store, &callback).await?;
        due.push(DueCallback {
            id: callback.id,
            org_id: callback.org_id,
            invite_id: callback.invite_id,
            ats: callback.ats,
            body: callback.body,
            callback_url,
            credential,
            attempt_count: callback.attempt_count,
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
pub struct CallbackAttempt {
    pub response_status: Option<u16>,
    pub error: String,
    /// `Some`: not taken; try again then. `None` with `delivered` false: given up.
    pub retry_at: Option<chrono::DateTime<chrono::Utc>>,
    pub delivered: bool,
}

/// Records an attempt of a call back this process holds.
pub async fn record(
    store: &Store,
    callback: &DueCallback,
    attempt: CallbackAttempt,
) -> Result<(), ServiceError> {
    let at = now();
    let status = if attempt.delivered {
        WebhookDeliveryStatus::Delivered
    } else if attempt.retry_at.is_some() {
        WebhookDeliveryStatus::Pending
    } else {
        WebhookDeliveryStatus::Failed
    };
    ats_callback::Entity::update_many()
        .col_expr(ats_callback::Column::Status, Expr::value(status))
        .col_expr(
            ats_callback::Column::AttemptCount,
            Expr::value(callback.attempt_count + 1),
        )
        .col_expr(
            ats_callback::Column::NextAttemptAt,
            Expr::value(attempt.retry_at.unwrap_or(at)),
        )
        .col_expr(
            ats_callback::Column::LastResponseStatus,
            Expr::value(attempt.response_status.map(i32::from)),
        )
        .col_expr(ats_callback::Column::LastError, Expr::value(attempt.error))
        .col_expr(ats_callback::Column::UpdatedAt, Expr::value(at))
        .filter(ats_callback::Column::Id.eq(callback.id))
        .filter(ats_callback::Column::Status.eq(WebhookDeliveryStatus::Pending))
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
        .order_by_desc(ats_callback::Column::Id)
        .limit(limit)
        .all(&store.read)
        .await?)
}

/// Puts a failed call back of the caller's organization on a fresh schedule, due now. A call
/// that is pending or delivered is answered as it is.
pub async fn retry(
    store: &Store,
    caller: &Caller,
    id: Uuid,
) -> Result<ats_callback::Model, ServiceError> {
    let at = now();
    ats_callback::Entity::update_many()
        .col_expr(
            ats_callback::Column::Status,
            Expr::value(WebhookDeliveryStatus::Pending),
        )
        .col_expr(ats_callback::Column::AttemptCount, Expr::value(0))
        .col_expr(ats_callback::Column::NextAttemptAt, Expr::value(at))
        .col_expr(ats_callback::Column::UpdatedAt, Expr::value(at))
        .filter(ats_callback::Column::Id.eq(id))
        .filter(ats_callback::Column::OrgId.eq(caller.org_id))
        .filter(ats_callback::Column::Status.eq(WebhookDeliveryStatus::Failed))
        .exec(&store.write)
        .await?;
    ats_callback::Entity::find_by_id(id)
        .filter(ats_callback::Column::OrgId.eq(caller.org_id))
        .one(&store.write)
        .await?
        .ok_or(ServiceError::NotFound("ATS callback"))
}
