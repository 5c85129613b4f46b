//! Bulk invites: a list is checked (the preview), stored as a cohort of members in one
//! transaction, and turned into invites in the background, a chunk per transaction. A member's
//! outcome and its invite are written in the same transaction, so a restart in the middle loses
//! nothing and invites nobody twice.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait, TryIntoModel,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    idempotency::{is_unique_violation, Idempotency, RequestId},
    invites, jobs, now,
    outbox::{self, NewOutbox},
    paging::Page,
    Caller, Store,
};
use crate::{
    db::entities::{candidate, cohort, cohort_member, invite, invite_event, invite_label, job},
    domain::{roster::Entry, secret, DeliveryStatus, EventKind, InviteStatus, JobState},
    error::ServiceError,
};

/// Outcomes read per watch round.
const OUTCOMES_PER_READ: u64 = 500;
/// Valid rows listed in a preview (every problem row is listed).
const PREVIEW_VALID_ROWS: usize = 1000;

pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const PENDING: &str = "pending";
pub const INVITED: &str = "invited";
pub const FAILED: &str = "failed";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SubmittedPolicy {
    #[default]
    Skip,
    Reopen,
    Retake,
}

/// The options every invite of a cohort gets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CohortOptions {
    pub send_email: bool,
    pub message: Option<String>,
    pub ttl_seconds: Option<i64>,
    pub locked: bool,
    pub assignee_ids: Vec<Uuid>,
    pub labels: Vec<String>,
    pub time_limit_minutes: Option<i32>,
    pub remind_after_seconds: Option<i64>,
    pub inviter_member_id: Option<Uuid>,
    pub include_pending: bool,
    pub submitted_policy: SubmittedPolicy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowOutcome {
    Valid,
    Malformed,
    Duplicate,
    Pending,
    Submitted,
    Suppressed,
}

#[derive(Clone, Debug)]
pub struct PreviewRow {
    pub entry: Entry,
    pub outcome: RowOutcome,
    pub reason: String,
}

/// What a bulk call would do, row by row.
#[derive(Clone, Debug, Default)]
pub struct Preview {
    pub rows: Vec<PreviewRow>,
    pub options_include_pending: bool,
    pub submitted_policy: SubmittedPolicy,
}

impl Preview {
    pub fn count(&self, outcome: RowOutcome) -> usize {
        self.rows.iter().filter(|r| r.outcome == outcome).count()
    }

    /// Whether the row becomes an invite.
    fn invites(&self, row: &PreviewRow) -> bool {
        match row.outcome {
            RowOutcome::Valid => true,
            RowOutcome::Pending => self.options_include_pending,
            RowOutcome::Submitted => self.submitted_policy != SubmittedPolicy::Skip,
            _ => false,
        }
    }

    pub fn to_invite(&self) -> usize {
        self.rows.iter().filter(|r| self.invites(r)).count()
    }

    /// The rows to show: every problem row, and valid ones up to a limit.
    pub fn shown_rows(&self) -> impl Iterator<Item = &PreviewRow> {
        let mut valid = 0;
        self.rows.iter().filter(move |r| {
            if r.outcome == RowOutcome::Valid {
                valid += 1;
                valid <= PREVIEW_VALID_ROWS
            } else {
                true
            }
        })
    }
}

/// Checks the list against the job and what the organization already has. Writes nothing.
pub async fn preview(
    store: &Store,
    caller: &Caller,
    job_id: Uuid,
    entries: Vec<Entry>,
    suppressed: &HashSet<String>,
    options: &CohortOptions,
) -> Result<(job::Model, Preview), ServiceError> {
    let job = jobs::find(&store.read, caller, job_id).await?;
    if job.state != JobState::Open.as_str() {
        return Err(ServiceError::precondition(
            "JOB_CLOSED",
            "the job is closed and takes no new invites; reopen it first",
        ));
    }
    let emails: Vec<String> = entries
        .iter()
        .filter(|e| e.problem.is_none())
        .map(|e| e.email.clone())
        .collect();
    let mut existing: HashMap<String, InviteStatus> = HashMap::new();
    for chunk in emails.chunks(1000) {
        let rows: Vec<(String, String)> = invite::Entity::find()
            .select_only()
            .column(invite::Column::CandidateEmail)
            .column(invite::Column::Status)
            .filter(invite::Column::OrgId.eq(caller.org_id))
            .filter(invite::Column::JobId.eq(job.id))
            .filter(invite::Column::CandidateEmail.is_in(chunk.iter().cloned()))
            .into_tuple()
            .all(&store.read)
            .await?;
        for (email, status) in rows {
            let Some(status) = InviteStatus::parse(&status) else {
                continue;
            };
            // A live invite outweighs a submitted one, which outweighs dead ones.
            let rank = |s: InviteStatus| match s {
                s if InviteStatus::LIVE.contains(&s) => 2,
                InviteStatus::Submitted => 1,
                _ => 0,
            };
            let entry = existing.entry(email).or_insert(status);
            if rank(status) > rank(*entry) {
                *entry = status;
            }
        }
    }
    let mut seen = HashSet::new();
    let rows = entries
        .into_iter()
        .map(|entry| {
            let (outcome, reason) = if let Some(problem) = &entry.problem {
                (RowOutcome::Malformed, problem.clone())
            } else if !seen.insert(entry.email.clone()) {
                (
                    RowOutcome::Duplicate,
                    "appears earlier in the list".to_string(),
                )
            } else if suppressed.contains(&entry.email) {
                (
                    RowOutcome::Suppressed,
                    "the address is on the suppression list (it bounced before)".to_string(),
                )
            } else {
                match existing.get(&entry.email) {
                    Some(s) if InviteStatus::LIVE.contains(s) => (
                        RowOutcome::Pending,
                        format!("already has a {s} invite for this job"),
                    ),
                    Some(InviteStatus::Submitted) => (
                        RowOutcome::Submitted,
                        "already submitted for this job".to_string(),
                    ),
                    _ => (RowOutcome::Valid, String::new()),
                }
            };
            PreviewRow {
                entry,
                outcome,
                reason,
            }
        })
        .collect();
    Ok((
        job,
        Preview {
            rows,
            options_include_pending: options.include_pending,
            submitted_policy: options.submitted_policy,
        },
    ))
}

/// Stores the cohort and its members; the background worker makes the invites.
pub async fn create(
    store: &Store,
    caller: &Caller,
    job: &job::Model,
    preview: &Preview,
    options: &CohortOptions,
    request: Option<RequestId>,
) -> Result<cohort::Model, ServiceError> {
    let idempotency = request.map(|r| Idempotency::new(caller, "BulkCreateInvites", &r));
    let attempt = || async {
        let txn = store.write.begin().await?;
        if let Some(idempotency) = &idempotency {
            if let Some(replay) = idempotency.replay(&txn).await? {
                return find(&txn, caller, replay.resource_id).await;
            }
        }
        let at = now();
        let id = Uuid::now_v7();
        // Rows that cannot be invited but were meant to be are failed members, so they can be
        // retried with a corrected address; duplicates and skipped rows are not members.
        let mut members = Vec::new();
        let mut sequence = 0i64;
        for row in &preview.rows {
            let (state, reason) = if preview.invites(row) {
                (PENDING, String::new())
            } else if matches!(row.outcome, RowOutcome::Malformed | RowOutcome::Suppressed) {
                (FAILED, row.reason.clone())
            } else {
                continue;
            };
            let failed = state == FAILED;
            if failed {
                sequence += 1;
            }
            members.push(cohort_member::ActiveModel {
                cohort_id: Set(id),
                row: Set(row.entry.row as i32),
                org_id: Set(caller.org_id),
                email: Set(row.entry.email.clone()),
                name: Set(row.entry.name.clone()),
                external_id: Set(row.entry.external_id.clone()),
                labels: Set(
                    serde_json::to_string(&row.entry.labels).unwrap_or_else(|_| "[]".into())
                ),
                state: Set(state.into()),
                invite_id: Set(None),
                reason: Set(reason),
                sequence: Set(failed.then_some(sequence)),
                updated_at: Set(at),
            });
        }
        let failed = members
            .iter()
            .filter(|m| m.state.as_ref() == FAILED)
            .count() as i32;
        let total = members.len() as i32;
        let cohort = cohort::ActiveModel {
            id: Set(id),
            org_id: Set(caller.org_id),
            job_id: Set(job.id),
            options: Set(
                serde_json::to_string(options).map_err(|e| ServiceError::Internal(e.into()))?
            ),
            created_by_key_id: Set(caller.key_id),
            state: Set(if total == failed { DONE } else { RUNNING }.into()),
            total: Set(total),
            succeeded: Set(0),
            failed: Set(failed),
            last_sequence: Set(sequence),
            created_at: Set(at),
            finished_at: Set((total == failed).then_some(at)),
        }
        .insert(&txn)
        .await?;
        // SQLite binds at most 32766 values per statement.
        for chunk in members.chunks(1000) {
            cohort_member::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
        if let Some(idempotency) = &idempotency {
            idempotency.record(&txn, cohort.id, None).await?;
        }
        txn.commit().await?;
        Ok(cohort)
    };
    match attempt().await {
        Err(err) if idempotency.is_some() && is_unique_violation(&err) => attempt().await,
        other => other,
    }
}

pub async fn find(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<cohort::Model, ServiceError> {
    cohort::Entity::find_by_id(id)
        .filter(cohort::Column::OrgId.eq(caller.org_id))
        .one(db)
        .await?
        .ok_or(ServiceError::NotFound("cohort"))
}

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
                    (m.state == INVITED)
                        .then(|| invite_ids.get(&m.email).copied())
                        .flatten()
                }),
                member: m,
            })
            .collect(),
    ))
}

/// Invites of a cohort by candidate email (unique within a cohort).
async fn invite_ids_by_email(
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
        .any(|m| m.state == INVITED && m.invite_id.is_none());
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
    let mut query = cohort::Entity::find()
        .filter(cohort::Column::OrgId.eq(caller.org_id))
        .filter(cohort::Column::CreatedAt.gte(since))
        .order_by_desc(cohort::Column::Id)
        .limit(page.fetch_limit());
    if let Some(after) = page.after {
        query = query.filter(cohort::Column::Id.lt(after));
    }
    let mut rows = query.all(&store.read).await?;
    let next = page.finish(&mut rows, |c| c.id);
    Ok((rows, next))
}

/// Puts failed members back in line, with corrected addresses where given.
pub async fn retry_failures(
    store: &Store,
    caller: &Caller,
    cohort_id: Uuid,
    corrections: &HashMap<i32, String>,
) -> Result<cohort::Model, ServiceError> {
    let txn = store.write.begin().await?;
    let cohort = find(&txn, caller, cohort_id).await?;
    let failed = cohort_member::Entity::find()
        .filter(cohort_member::Column::CohortId.eq(cohort.id))
        .filter(cohort_member::Column::State.eq(FAILED))
        .all(&txn)
        .await?;
    let failed_rows: HashSet<i32> = failed.iter().map(|m| m.row).collect();
    let unknown: Vec<_> = corrections
        .keys()
        .filter(|row| !failed_rows.contains(row))
        .map(|row| crate::error::FieldViolation {
            field: format!("corrected_emails[{row}]"),
            description: "is not a failed row of this cohort".into(),
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ServiceError::InvalidArgument(unknown));
    }
    let at = now();
    let mut retried = 0;
    for member in failed {
        let email = corrections.get(&member.row).cloned();
        // A row whose address never parsed can only come back with a correction.
        if email.is_none() && member.reason.contains("not an email address") {
            continue;
        }
        let mut row: cohort_member::ActiveModel = member.clone().into();
        if let Some(email) = email {
            row.email = Set(email);
        }
        row.state = Set(PENDING.into());
        row.reason = Set(String::new());
        row.sequence = Set(None);
        row.invite_id = Set(None);
        row.updated_at = Set(at);
        row.update(&txn).await?;
        retried += 1;
    }
    let cohort = if retried > 0 {
        let mut update: cohort::ActiveModel = cohort.into();
        update.failed = Set(update.failed.as_ref() - retried);
        update.state = Set(RUNNING.into());
        update.finished_at = Set(None);
        update.update(&txn).await?
    } else {
        cohort
    };
    txn.commit().await?;
    Ok(cohort)
}

/// The next cohort with pending members, if any.
async fn next_pending(store: &Store) -> Result<Option<Uuid>, ServiceError> {
    Ok(cohort_member::Entity::find()
        .select_only()
        .column(cohort_member::Column::CohortId)
        .filter(cohort_member::Column::State.eq(PENDING))
        .limit(1)
        .into_tuple()
        .one(&store.read)
        .await?)
}

/// Turns the next chunk of pending members into invites. False when there was nothing to do.
pub async fn process_next_chunk(store: &Store) -> Result<bool, ServiceError> {
    let Some(cohort_id) = next_pending(store).await? else {
        return Ok(false);
    };
    match process_chunk(store, cohort_id, store.config.cohort_chunk_size).await {
        Ok(()) => Ok(true),
        Err(err) => {
            // One member at a time finds the one that cannot be invited.
            tracing::warn!(error = ?err, %cohort_id, "cohort chunk failed; going one by one");
            if let Err(err) = process_chunk(store, cohort_id, 1).await {
                tracing::error!(error = ?err, %cohort_id, "cohort member failed");
                fail_next(store, cohort_id, "could not be invited: internal error").await?;
            }
            Ok(true)
        }
    }
}

async fn fail_next(store: &Store, cohort_id: Uuid, reason: &str) -> Result<(), ServiceError> {
    let txn = store.write.begin().await?;
    let Some(member) = cohort_member::Entity::find()
        .filter(cohort_member::Column::CohortId.eq(cohort_id))
        .filter(cohort_member::Column::State.eq(PENDING))
        .order_by_asc(cohort_member::Column::Row)
        .one(&txn)
        .await?
    else {
        return Ok(());
    };
    let cohort = cohort::Entity::find_by_id(cohort_id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("cohort"))?;
    let sequence = cohort.last_sequence + 1;
    let mut row: cohort_member::ActiveModel = member.into();
    row.state = Set(FAILED.into());
    row.reason = Set(reason.into());
    row.sequence = Set(Some(sequence));
    row.updated_at = Set(now());
    row.update(&txn).await?;
    finish_chunk(&txn, &cohort, 0, 1, sequence).await?;
    txn.commit().await?;
    Ok(())
}

/// Counts the chunk's outcomes on the cohort and closes it when nothing is pending.
async fn finish_chunk(
    txn: &sea_orm::DatabaseTransaction,
    cohort: &cohort::Model,
    succeeded: i32,
    failed: i32,
    last_sequence: i64,
) -> Result<(), ServiceError> {
    let pending = cohort_member::Entity::find()
        .filter(cohort_member::Column::CohortId.eq(cohort.id))
        .filter(cohort_member::Column::State.eq(PENDING))
        .count(txn)
        .await?;
    let mut update = cohort::Entity::update_many()
        .col_expr(
            cohort::Column::Succeeded,
            Expr::col(cohort::Column::Succeeded).add(succeeded),
        )
        .col_expr(
            cohort::Column::Failed,
            Expr::col(cohort::Column::Failed).add(failed),
        )
        .col_expr(cohort::Column::LastSequence, Expr::value(last_sequence))
        .filter(cohort::Column::Id.eq(cohort.id));
    if pending == 0 {
        update = update
            .col_expr(cohort::Column::State, Expr::value(DONE))
            .col_expr(cohort::Column::FinishedAt, Expr::value(now()));
    }
    update.exec(txn).await?;
    Ok(())
}

async fn process_chunk(store: &Store, cohort_id: Uuid, limit: u64) -> Result<(), ServiceError> {
    let txn = store.write.begin().await?;
    let cohort = cohort::Entity::find_by_id(cohort_id)
        .one(&txn)
        .await?
        .ok_or(ServiceError::NotFound("cohort"))?;
    let members = cohort_member::Entity::find()
        .filter(cohort_member::Column::CohortId.eq(cohort.id))
        .filter(cohort_member::Column::State.eq(PENDING))
        .order_by_asc(cohort_member::Column::Row)
        .limit(limit)
        .all(&txn)
        .await?;
    let (Some(first), Some(last)) = (members.first(), members.last()) else {
        return Ok(());
    };
    let options: CohortOptions = serde_json::from_str(&cohort.options)
        .map_err(|e| ServiceError::Internal(anyhow::Error::new(e).context("cohort options")))?;
    let caller = Caller {
        org_id: cohort.org_id,
        key_id: cohort.created_by_key_id,
        scope: crate::domain::Scope::Invites,
        owner_member_id: options.inviter_member_id,
    };
    // Outcomes are numbered by row after the cohort's last number: monotonic across chunks.
    let base = cohort.last_sequence + 1 - i64::from(first.row);
    let rows: Vec<i32> = members.iter().map(|m| m.row).collect();
    let claimed = cohort_member::Entity::update_many()
        .col_expr(cohort_member::Column::State, Expr::value(INVITED))
        .col_expr(
            cohort_member::Column::Sequence,
            Expr::col(cohort_member::Column::Row).add(base),
        )
        .col_expr(cohort_member::Column::UpdatedAt, Expr::value(now()))
        .filter(cohort_member::Column::CohortId.eq(cohort.id))
        .filter(cohort_member::Column::State.eq(PENDING))
        .filter(cohort_member::Column::Row.is_in(rows.clone()))
        .exec(&txn)
        .await?
        .rows_affected;
    if claimed != members.len() as u64 {
        // Another replica is on these members: leave them to it.
        return Ok(());
    }
    let last_sequence = base + i64::from(last.row);
    let job = jobs::find(&txn, &caller, cohort.job_id).await?;
    if job.state != JobState::Open.as_str() {
        fail_members(&txn, &cohort, &rows, "the job was closed").await?;
        finish_chunk(&txn, &cohort, 0, members.len() as i32, last_sequence).await?;
        txn.commit().await?;
        return Ok(());
    }
    let reopened = if options.submitted_policy == SubmittedPolicy::Reopen {
        reopen_submitted(&txn, &caller, &job, &members, &options).await?
    } else {
        HashSet::new()
    };
    let fresh: Vec<&cohort_member::Model> = members
        .iter()
        .filter(|m| !reopened.contains(&m.row))
        .collect();
    create_invites(store, &txn, &caller, &cohort, &job, &fresh, &options).await?;
    finish_chunk(&txn, &cohort, members.len() as i32, 0, last_sequence).await?;
    txn.commit().await?;
    Ok(())
}

async fn fail_members(
    txn: &sea_orm::DatabaseTransaction,
    cohort: &cohort::Model,
    rows: &[i32],
    reason: &str,
) -> Result<(), ServiceError> {
    cohort_member::Entity::update_many()
        .col_expr(cohort_member::Column::State, Expr::value(FAILED))
        .col_expr(cohort_member::Column::Reason, Expr::value(reason))
        .filter(cohort_member::Column::CohortId.eq(cohort.id))
        .filter(cohort_member::Column::Row.is_in(rows.iter().copied()))
        .exec(txn)
        .await?;
    Ok(())
}

/// Members who already submitted go back to `started` on their own link (and get it again by
/// email when the cohort sends email). Returns their rows.
async fn reopen_submitted(
    txn: &sea_orm::DatabaseTransaction,
    caller: &Caller,
    job: &job::Model,
    members: &[cohort_member::Model],
    options: &CohortOptions,
) -> Result<HashSet<i32>, ServiceError> {
    let emails: Vec<String> = members.iter().map(|m| m.email.clone()).collect();
    let submitted = invite::Entity::find()
        .filter(invite::Column::OrgId.eq(caller.org_id))
        .filter(invite::Column::JobId.eq(job.id))
        .filter(invite::Column::Status.eq(InviteStatus::Submitted.as_str()))
        .filter(invite::Column::CandidateEmail.is_in(emails))
        .all(txn)
        .await?;
    let mut rows = HashSet::new();
    for existing in submitted {
        let Some(member) = members.iter().find(|m| m.email == existing.candidate_email) else {
            continue;
        };
        let outbox = if options.send_email {
            vec![NewOutbox::to_candidate(
                &existing,
                outbox::RESEND,
                existing.link_generation,
            )]
        } else {
            Vec::new()
        };
        let transition = invites::reopen_transition("reopened by a bulk invite".into(), outbox);
        if invites::apply(txn, &existing, transition, &caller.actor())
            .await?
            .is_some()
        {
            cohort_member::Entity::update_many()
                .col_expr(cohort_member::Column::InviteId, Expr::value(existing.id))
                .filter(cohort_member::Column::CohortId.eq(member.cohort_id))
                .filter(cohort_member::Column::Row.eq(member.row))
                .exec(txn)
                .await?;
            rows.insert(member.row);
        }
    }
    Ok(rows)
}

/// The bulk path of CreateInvite: candidates, invites, labels, events and outbox rows for a
/// whole chunk, a few statements each.
async fn create_invites(
    store: &Store,
    txn: &sea_orm::DatabaseTransaction,
    caller: &Caller,
    cohort: &cohort::Model,
    job: &job::Model,
    members: &[&cohort_member::Model],
    options: &CohortOptions,
) -> Result<(), ServiceError> {
    if members.is_empty() {
        return Ok(());
    }
    let at = now();
    // Candidates: make the missing ones, then read every id.
    let emails: Vec<String> = members.iter().map(|m| m.email.clone()).collect();
    candidate::Entity::insert_many(members.iter().map(|m| candidate::ActiveModel {
        id: Set(Uuid::now_v7()),
        org_id: Set(caller.org_id),
        email: Set(m.email.clone()),
        name: Set(m.name.clone()),
        external_id: Set(m.external_id.clone()),
        created_at: Set(at),
        updated_at: Set(at),
    }))
    .on_conflict(
        OnConflict::columns([candidate::Column::OrgId, candidate::Column::Email])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let candidate_ids: HashMap<String, Uuid> = candidate::Entity::find()
        .select_only()
        .column(candidate::Column::Email)
        .column(candidate::Column::Id)
        .filter(candidate::Column::OrgId.eq(caller.org_id))
        .filter(candidate::Column::Email.is_in(emails))
        .into_tuple::<(String, Uuid)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();

    let expires_at = match options.ttl_seconds {
        Some(seconds) => Some(at + chrono::Duration::seconds(seconds)),
        None if job.default_expiry_days > 0 => {
            Some(at + chrono::Duration::days(i64::from(job.default_expiry_days)))
        }
        None => None,
    };
    let (status, delivery) = if options.send_email {
        (InviteStatus::Created, DeliveryStatus::Queued)
    } else {
        (InviteStatus::Sent, DeliveryStatus::NotRequested)
    };
    let assignees = serde_json::to_string(&options.assignee_ids).unwrap_or_else(|_| "[]".into());
    let mut invites = Vec::with_capacity(members.len());
    let mut labels = Vec::new();
    let mut events = Vec::with_capacity(members.len());
    for member in members {
        let id = Uuid::now_v7();
        let mut member_labels: Vec<String> =
            serde_json::from_str(&member.labels).unwrap_or_default();
        member_labels.extend(options.labels.iter().cloned());
        member_labels.sort();
        member_labels.dedup();
        for label in &member_labels {
            labels.push(invite_label::ActiveModel {
                invite_id: Set(id),
                label: Set(label.clone()),
                org_id: Set(caller.org_id),
            });
        }
        let token = store.link_key.token(id, 0);
        invites.push(invite::ActiveModel {
            id: Set(id),
            org_id: Set(caller.org_id),
            job_id: Set(job.id),
            candidate_id: Set(candidate_ids.get(&member.email).copied()),
            candidate_email: Set(member.email.clone()),
            candidate_name: Set(member.name.clone()),
            token_hash: Set(secret::link_token_hash(&token)),
            status: Set(status.as_str().into()),
            delivery_status: Set(delivery.as_str().into()),
            locked: Set(options.locked),
            assignee_ids: Set(assignees.clone()),
            labels: Set(serde_json::to_string(&member_labels).unwrap_or_else(|_| "[]".into())),
            message: Set(options
                .message
                .clone()
                .unwrap_or_else(|| job.default_message.clone())),
            time_limit_minutes: Set(options
                .time_limit_minutes
                .unwrap_or(job.default_time_limit_minutes)),
            expires_at: Set(expires_at),
            open_count: Set(0),
            send_count: Set(0),
            source: Set("bulk".into()),
            created_by_key_id: Set(Some(caller.key_id)),
            created_at: Set(at),
            updated_at: Set(at),
            first_opened_at: Set(None),
            started_at: Set(None),
            submitted_at: Set(None),
            link_generation: Set(0),
            inviter_member_id: Set(options.inviter_member_id),
            last_sent_at: Set(None),
            cohort_id: Set(Some(cohort.id)),
            remind_at: Set(options
                .remind_after_seconds
                .map(|s| at + chrono::Duration::seconds(s))),
            reminded_at: Set(None),
            external_id: Set(None),
        });
        events.push(invite_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(caller.org_id),
            invite_id: Set(id),
            kind: Set(EventKind::Created.as_str().into()),
            actor: Set(caller.actor()),
            detail: Set(format!("bulk invite, cohort {}", cohort.id)),
            created_at: Set(at),
        });
    }
    // Bounded statements: SQLite binds at most 32766 values per statement.
    for chunk in invites.chunks(500) {
        invite::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in labels.chunks(2000) {
        invite_label::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in events.chunks(2000) {
        invite_event::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    if options.send_email {
        let created: Vec<invite::Model> = invites
            .iter()
            .filter_map(|i| i.clone().try_into_model().ok())
            .collect();
        let messages: Vec<NewOutbox> = created
            .iter()
            .map(|i| NewOutbox::to_candidate(i, outbox::INVITE, 0))
            .collect();
        let pairs: Vec<_> = created.iter().zip(&messages).collect();
        outbox::insert_for_many(txn, &pairs).await?;
    }
    Ok(())
}
