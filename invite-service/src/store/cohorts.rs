//! Bulk invites: a list is checked (the preview), stored as a cohort of members in one
//! transaction, and turned into invites in the background, a chunk per transaction. A member's
//! outcome and its invite are written in the same transaction, so a restart in the middle loses
//! nothing and invites nobody twice.
//!
//! A cohort that sends email has a second stage: each member's email is an outbox row that
//! names the member, and the relay writes its outcome to the member, with the cohort's counts,
//! in the transaction that writes it to the invite (`record_email`). The cohort is `sending`
//! until every member's email has a final outcome (sent, failed, suppressed), then `done`.
//!
//! Every writer of a cohort's members takes the cohort's row first (`lock`): outcome numbers
//! and counts are read and written under it, so the cohort worker, the relay and a retry never
//! hand out one number twice or lose a count, and never wait on each other in a cycle.
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
    idempotency::{Idempotency, RequestId},
    invites, jobs, now,
    outbox::{self, NewOutbox},
    paging::Page,
    Caller, Store,
};
use crate::{
    db::entities::{candidate, cohort, cohort_member, invite, invite_event, invite_label, job},
    domain::{
        roster::Entry, secret, CohortState, DeliveryStatus, EventKind, InviteStatus, JobState,
    },
    error::ServiceError,
};

/// Outcomes read per watch round.
const OUTCOMES_PER_READ: u64 = 500;
/// Valid rows listed in a preview (every problem row is listed).
const PREVIEW_VALID_ROWS: usize = 1000;

pub const PENDING: &str = "pending";
pub const INVITED: &str = "invited";
pub const FAILED: &str = "failed";

/// A cohort's members by the state of their email.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EmailCounts {
    pub queued: i32,
    pub deferred: i32,
    pub sent: i32,
    pub failed: i32,
    pub suppressed: i32,
}

impl EmailCounts {
    pub fn of(cohort: &cohort::Model) -> Self {
        Self {
            queued: cohort.emails_queued,
            deferred: cohort.emails_deferred,
            sent: cohort.emails_sent,
            failed: cohort.emails_failed,
            suppressed: cohort.emails_suppressed,
        }
    }

    fn slot(&mut self, status: DeliveryStatus) -> Option<&mut i32> {
        match status {
            DeliveryStatus::Queued => Some(&mut self.queued),
            DeliveryStatus::Deferred => Some(&mut self.deferred),
            DeliveryStatus::Sent => Some(&mut self.sent),
            DeliveryStatus::Failed => Some(&mut self.failed),
            DeliveryStatus::Suppressed => Some(&mut self.suppressed),
            DeliveryStatus::NotRequested => None,
        }
    }

    /// The counts after `count` members' emails went from `from` (none: no email yet) to `to`.
    fn moved(mut self, from: Option<DeliveryStatus>, to: DeliveryStatus, count: i32) -> Self {
        if let Some(slot) = from.and_then(|from| self.slot(from)) {
            *slot -= count;
        }
        if let Some(slot) = self.slot(to) {
            *slot += count;
        }
        self
    }

    /// Emails without a final outcome yet.
    pub fn in_flight(&self) -> i32 {
        self.queued + self.deferred
    }

    /// Emails that did not reach their member, which a retry sends again.
    pub fn undelivered(&self) -> i32 {
        self.failed + self.suppressed
    }

    fn write(
        self,
        update: sea_orm::UpdateMany<cohort::Entity>,
    ) -> sea_orm::UpdateMany<cohort::Entity> {
        update
            .col_expr(cohort::Column::EmailsQueued, Expr::value(self.queued))
            .col_expr(cohort::Column::EmailsDeferred, Expr::value(self.deferred))
            .col_expr(cohort::Column::EmailsSent, Expr::value(self.sent))
            .col_expr(cohort::Column::EmailsFailed, Expr::value(self.failed))
            .col_expr(
                cohort::Column::EmailsSuppressed,
                Expr::value(self.suppressed),
            )
    }
}

/// Where a cohort is once its members and emails are where they are now.
fn state_for(pending_members: u64, emails: &EmailCounts) -> CohortState {
    if pending_members > 0 {
        CohortState::Running
    } else if emails.in_flight() > 0 {
        CohortState::Sending
    } else {
        CohortState::Done
    }
}

/// The cohort's row, locked until the transaction ends (PostgreSQL locks the row a no-op
/// UPDATE touches; SQLite has one writer anyway), then read.
async fn lock(
    txn: &sea_orm::DatabaseTransaction,
    cohort_id: Uuid,
) -> Result<cohort::Model, ServiceError> {
    lock_if_any(txn, cohort_id)
        .await?
        .ok_or(ServiceError::NotFound("cohort"))
}

async fn lock_if_any(
    txn: &sea_orm::DatabaseTransaction,
    cohort_id: Uuid,
) -> Result<Option<cohort::Model>, ServiceError> {
    cohort::Entity::update_many()
        .col_expr(
            cohort::Column::LastSequence,
            Expr::col(cohort::Column::LastSequence).into(),
        )
        .filter(cohort::Column::Id.eq(cohort_id))
        .exec(txn)
        .await?;
    Ok(cohort::Entity::find_by_id(cohort_id).one(txn).await?)
}

/// A cohort member's email has a new state (from the relay, in the transaction that records
/// it on the outbox row and the invite): the member gets it, with the next outcome number, and
/// the cohort its counts; the last final outcome of a `sending` cohort makes it `done`.
pub(crate) async fn record_email(
    txn: &sea_orm::DatabaseTransaction,
    cohort_id: Uuid,
    row: i32,
    status: DeliveryStatus,
    error: &str,
) -> Result<(), ServiceError> {
    let Some(cohort) = lock_if_any(txn, cohort_id).await? else {
        return Ok(());
    };
    let Some(member) = cohort_member::Entity::find_by_id((cohort_id, row))
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let before = DeliveryStatus::parse(&member.delivery_status);
    if before == Some(status) {
        return Ok(());
    }
    let at = now();
    let sequence = cohort.last_sequence + 1;
    cohort_member::Entity::update_many()
        .col_expr(
            cohort_member::Column::DeliveryStatus,
            Expr::value(status.as_str()),
        )
        .col_expr(cohort_member::Column::DeliveryError, Expr::value(error))
        .col_expr(cohort_member::Column::Sequence, Expr::value(sequence))
        .col_expr(cohort_member::Column::UpdatedAt, Expr::value(at))
        .filter(cohort_member::Column::CohortId.eq(cohort_id))
        .filter(cohort_member::Column::Row.eq(row))
        .exec(txn)
        .await?;
    let emails = EmailCounts::of(&cohort).moved(before, status, 1);
    let was = CohortState::parse(&cohort.state);
    let state = match was {
        // Members still wait for their invites: the worker decides when that stage ends.
        Some(CohortState::Running) => CohortState::Running,
        _ => state_for(0, &emails),
    };
    let mut update = emails
        .write(cohort::Entity::update_many())
        .col_expr(cohort::Column::LastSequence, Expr::value(sequence))
        .col_expr(cohort::Column::State, Expr::value(state.as_str()))
        .filter(cohort::Column::Id.eq(cohort_id));
    if state == CohortState::Done && was != Some(CohortState::Done) {
        update = update.col_expr(cohort::Column::FinishedAt, Expr::value(at));
    }
    update.exec(txn).await?;
    Ok(())
}

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
                delivery_status: Set(String::new()),
                delivery_error: Set(String::new()),
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
            state: Set(if total == failed {
                CohortState::Done
            } else {
                CohortState::Running
            }
            .as_str()
            .into()),
            total: Set(total),
            succeeded: Set(0),
            failed: Set(failed),
            last_sequence: Set(sequence),
            created_at: Set(at),
            finished_at: Set((total == failed).then_some(at)),
            emails_queued: Set(0),
            emails_deferred: Set(0),
            emails_sent: Set(0),
            emails_failed: Set(0),
            emails_suppressed: Set(0),
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
        Err(ServiceError::UniqueViolation(_)) if idempotency.is_some() => attempt().await,
        other => other,
    }
}

/// Whether the cohort emails its invites (and so has a second stage).
pub fn sends_email(cohort: &cohort::Model) -> bool {
    serde_json::from_str::<CohortOptions>(&cohort.options).is_ok_and(|o| o.send_email)
}

/// The caller's cohort; another organization's answers like a missing one.
pub async fn get(store: &Store, caller: &Caller, id: Uuid) -> Result<cohort::Model, ServiceError> {
    find(&store.read, caller, id).await
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

/// Puts failed members back in line, with corrected addresses where given. A member whose
/// invite could not be made goes back to the worker, as a new row would. A member whose email
/// failed or was suppressed keeps its invite (and so its invite id and link, which reached no
/// one): with a corrected address the invite and its candidate take the new address, and the
/// invitation is emailed again, as the cohort's email, whose outcome the cohort follows. Members
/// whose invite was revoked or expired meanwhile are left as they are.
pub async fn retry_failures(
    store: &Store,
    caller: &Caller,
    cohort_id: Uuid,
    corrections: &HashMap<i32, String>,
) -> Result<cohort::Model, ServiceError> {
    let txn = store.write.begin().await?;
    find(&txn, caller, cohort_id).await?;
    let cohort = lock(&txn, cohort_id).await?;
    let undelivered = [DeliveryStatus::Failed, DeliveryStatus::Suppressed].map(|s| s.as_str());
    let failed = cohort_member::Entity::find()
        .filter(cohort_member::Column::CohortId.eq(cohort.id))
        .filter(
            sea_orm::Condition::any()
                .add(cohort_member::Column::State.eq(FAILED))
                .add(
                    sea_orm::Condition::all()
                        .add(cohort_member::Column::State.eq(INVITED))
                        .add(cohort_member::Column::DeliveryStatus.is_in(undelivered)),
                ),
        )
        .order_by_asc(cohort_member::Column::Row)
        .all(&txn)
        .await?;
    let invites = undelivered_invites(&txn, &cohort, &failed).await?;
    let mut violations = Vec::new();
    let mut rows: Vec<&i32> = corrections.keys().collect();
    rows.sort();
    for row in rows {
        let field = format!("corrected_emails[{row}]");
        match failed.iter().find(|m| m.row == *row) {
            None => violations.push(crate::error::FieldViolation {
                field,
                description: "is not a failed row of this cohort".into(),
            }),
            Some(member) if member.state == INVITED && !invites.contains_key(&member.row) => {
                violations.push(crate::error::FieldViolation {
                    field,
                    description: "its invite was revoked or expired; it cannot be emailed again"
                        .into(),
                })
            }
            Some(_) => {}
        }
    }
    if !violations.is_empty() {
        return Err(ServiceError::InvalidArgument(violations));
    }
    let at = now();
    let mut sequence = cohort.last_sequence;
    let mut emails = EmailCounts::of(&cohort);
    let (mut reinvited, mut resent) = (0, 0);
    for member in failed {
        let email = corrections.get(&member.row).cloned();
        if member.state == INVITED {
            let Some(invite) = invites.get(&member.row) else {
                continue;
            };
            sequence += 1;
            let before = DeliveryStatus::parse(&member.delivery_status);
            email_again(&txn, caller, invite, &member, email, sequence).await?;
            emails = emails.moved(before, DeliveryStatus::Queued, 1);
            resent += 1;
            continue;
        }
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
        row.delivery_status = Set(String::new());
        row.delivery_error = Set(String::new());
        row.updated_at = Set(at);
        row.update(&txn).await?;
        reinvited += 1;
    }
    if reinvited + resent > 0 {
        let state = if reinvited > 0 {
            CohortState::Running
        } else {
            CohortState::Sending
        };
        emails
            .write(cohort::Entity::update_many())
            .col_expr(
                cohort::Column::Failed,
                Expr::value(cohort.failed - reinvited),
            )
            .col_expr(cohort::Column::LastSequence, Expr::value(sequence))
            .col_expr(cohort::Column::State, Expr::value(state.as_str()))
            .col_expr(
                cohort::Column::FinishedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(cohort::Column::Id.eq(cohort.id))
            .exec(&txn)
            .await?;
    }
    let cohort = find(&txn, caller, cohort_id).await?;
    txn.commit().await?;
    Ok(cohort)
}

/// The live invites of members whose email did not arrive, by row.
async fn undelivered_invites(
    txn: &sea_orm::DatabaseTransaction,
    cohort: &cohort::Model,
    members: &[cohort_member::Model],
) -> Result<HashMap<i32, invite::Model>, ServiceError> {
    let emailed: Vec<&cohort_member::Model> =
        members.iter().filter(|m| m.state == INVITED).collect();
    if emailed.is_empty() {
        return Ok(HashMap::new());
    }
    let by_email = invite_ids_by_email(txn, cohort.id).await?;
    let ids: HashMap<Uuid, i32> = emailed
        .iter()
        .filter_map(|m| {
            m.invite_id
                .or_else(|| by_email.get(&m.email).copied())
                .map(|id| (id, m.row))
        })
        .collect();
    let mut found = HashMap::new();
    for chunk in ids.keys().copied().collect::<Vec<_>>().chunks(1000) {
        for invite in invite::Entity::find()
            .filter(invite::Column::OrgId.eq(cohort.org_id))
            .filter(invite::Column::Id.is_in(chunk.iter().copied()))
            .all(txn)
            .await?
        {
            let live = InviteStatus::parse(&invite.status)
                .is_some_and(|s| InviteStatus::LIVE.contains(&s));
            if let (true, Some(row)) = (live, ids.get(&invite.id)) {
                found.insert(*row, invite);
            }
        }
    }
    Ok(found)
}

/// Emails a member's invitation again (its link as it is now), to `corrected` if given: the
/// invite and its candidate take that address first.
async fn email_again(
    txn: &sea_orm::DatabaseTransaction,
    caller: &Caller,
    invite: &invite::Model,
    member: &cohort_member::Model,
    corrected: Option<String>,
    sequence: i64,
) -> Result<(), ServiceError> {
    let at = now();
    let email = corrected.unwrap_or_else(|| invite.candidate_email.clone());
    let mut invite = invite.clone();
    if email != invite.candidate_email {
        candidate::Entity::insert(candidate::ActiveModel {
            id: Set(Uuid::now_v7()),
            org_id: Set(caller.org_id),
            email: Set(email.clone()),
            name: Set(invite.candidate_name.clone()),
            external_id: Set(member.external_id.clone()),
            created_at: Set(at),
            updated_at: Set(at),
        })
        .on_conflict(
            OnConflict::columns([candidate::Column::OrgId, candidate::Column::Email])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
        let candidate_id: Option<Uuid> = candidate::Entity::find()
            .select_only()
            .column(candidate::Column::Id)
            .filter(candidate::Column::OrgId.eq(caller.org_id))
            .filter(candidate::Column::Email.eq(email.clone()))
            .into_tuple()
            .one(txn)
            .await?;
        super::invites::record_event(
            txn,
            &invite,
            EventKind::Resent,
            &caller.actor(),
            &format!(
                "cohort retry: address corrected from {} to {email}",
                invite.candidate_email
            ),
        )
        .await?;
        invite.candidate_email = email.clone();
        invite.candidate_id = candidate_id;
    } else {
        super::invites::record_event(
            txn,
            &invite,
            EventKind::Resent,
            &caller.actor(),
            &format!("cohort retry: emailed again to {email}"),
        )
        .await?;
    }
    invite::Entity::update_many()
        .col_expr(invite::Column::CandidateEmail, Expr::value(email.clone()))
        .col_expr(
            invite::Column::CandidateId,
            Expr::value(invite.candidate_id),
        )
        .col_expr(
            invite::Column::DeliveryStatus,
            Expr::value(DeliveryStatus::Queued.as_str()),
        )
        .col_expr(invite::Column::UpdatedAt, Expr::value(at))
        .filter(invite::Column::Id.eq(invite.id))
        .exec(txn)
        .await?;
    let message = NewOutbox::to_candidate(&invite, outbox::INVITE, invite.link_generation)
        .for_cohort_member(member.cohort_id, member.row);
    outbox::insert(txn, &invite, &[message]).await?;
    cohort_member::Entity::update_many()
        .col_expr(cohort_member::Column::Email, Expr::value(email))
        .col_expr(cohort_member::Column::InviteId, Expr::value(invite.id))
        .col_expr(
            cohort_member::Column::DeliveryStatus,
            Expr::value(DeliveryStatus::Queued.as_str()),
        )
        .col_expr(cohort_member::Column::DeliveryError, Expr::value(""))
        .col_expr(cohort_member::Column::Sequence, Expr::value(sequence))
        .col_expr(cohort_member::Column::UpdatedAt, Expr::value(at))
        .filter(cohort_member::Column::CohortId.eq(member.cohort_id))
        .filter(cohort_member::Column::Row.eq(member.row))
        .exec(txn)
        .await?;
    Ok(())
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
        // An outage is no member's fault: the chunk is tried again once the database is back.
        Err(err) if err.is_unavailable() => Err(err),
        Err(err) => {
            // One member at a time finds the one that cannot be invited.
            tracing::warn!(error = ?err, %cohort_id, "cohort chunk failed; going one by one");
            if let Err(err) = process_chunk(store, cohort_id, 1).await {
                if err.is_unavailable() {
                    return Err(err);
                }
                tracing::error!(error = ?err, %cohort_id, "cohort member failed");
                fail_next(store, cohort_id, "could not be invited: internal error").await?;
            }
            Ok(true)
        }
    }
}

async fn fail_next(store: &Store, cohort_id: Uuid, reason: &str) -> Result<(), ServiceError> {
    let txn = store.write.begin().await?;
    let cohort = lock(&txn, cohort_id).await?;
    let Some(member) = cohort_member::Entity::find()
        .filter(cohort_member::Column::CohortId.eq(cohort_id))
        .filter(cohort_member::Column::State.eq(PENDING))
        .order_by_asc(cohort_member::Column::Row)
        .one(&txn)
        .await?
    else {
        return Ok(());
    };
    let sequence = cohort.last_sequence + 1;
    let mut row: cohort_member::ActiveModel = member.into();
    row.state = Set(FAILED.into());
    row.reason = Set(reason.into());
    row.sequence = Set(Some(sequence));
    row.updated_at = Set(now());
    row.update(&txn).await?;
    finish_chunk(&txn, &cohort, 0, 1, sequence, 0).await?;
    txn.commit().await?;
    Ok(())
}

/// Counts the chunk's outcomes (and the emails it queued) on the locked cohort, and moves it
/// on when no member is pending: to `sending` while emails wait for their outcome, else `done`.
async fn finish_chunk(
    txn: &sea_orm::DatabaseTransaction,
    cohort: &cohort::Model,
    succeeded: i32,
    failed: i32,
    last_sequence: i64,
    emails_queued: i32,
) -> Result<(), ServiceError> {
    let pending = cohort_member::Entity::find()
        .filter(cohort_member::Column::CohortId.eq(cohort.id))
        .filter(cohort_member::Column::State.eq(PENDING))
        .count(txn)
        .await?;
    let emails = EmailCounts {
        queued: cohort.emails_queued + emails_queued,
        ..EmailCounts::of(cohort)
    };
    let state = state_for(pending, &emails);
    let mut update = emails
        .write(cohort::Entity::update_many())
        .col_expr(
            cohort::Column::Succeeded,
            Expr::value(cohort.succeeded + succeeded),
        )
        .col_expr(cohort::Column::Failed, Expr::value(cohort.failed + failed))
        .col_expr(cohort::Column::LastSequence, Expr::value(last_sequence))
        .col_expr(cohort::Column::State, Expr::value(state.as_str()))
        .filter(cohort::Column::Id.eq(cohort.id));
    if state == CohortState::Done {
        update = update.col_expr(cohort::Column::FinishedAt, Expr::value(now()));
    }
    update.exec(txn).await?;
    Ok(())
}

async fn process_chunk(store: &Store, cohort_id: Uuid, limit: u64) -> Result<(), ServiceError> {
    let txn = store.write.begin().await?;
    let cohort = lock(&txn, cohort_id).await?;
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
    // Every invite of a cohort that sends email gets one, queued in this transaction.
    let delivery = if options.send_email {
        DeliveryStatus::Queued.as_str()
    } else {
        ""
    };
    let claimed = cohort_member::Entity::update_many()
        .col_expr(cohort_member::Column::State, Expr::value(INVITED))
        .col_expr(
            cohort_member::Column::Sequence,
            Expr::col(cohort_member::Column::Row).add(base),
        )
        .col_expr(cohort_member::Column::DeliveryStatus, Expr::value(delivery))
        .col_expr(cohort_member::Column::DeliveryError, Expr::value(""))
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
        finish_chunk(&txn, &cohort, 0, members.len() as i32, last_sequence, 0).await?;
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
    let count = members.len() as i32;
    let emails = if options.send_email { count } else { 0 };
    finish_chunk(&txn, &cohort, count, 0, last_sequence, emails).await?;
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
        .col_expr(cohort_member::Column::DeliveryStatus, Expr::value(""))
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
            vec![
                NewOutbox::to_candidate(&existing, outbox::RESEND, existing.link_generation)
                    .for_cohort_member(member.cohort_id, member.row),
            ]
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
        // Invites were made in the members' order.
        let (created, messages): (Vec<invite::Model>, Vec<NewOutbox>) = invites
            .iter()
            .zip(members)
            .map(|(i, m)| {
                let invite = i.clone().try_into_model()?;
                let message = NewOutbox::to_candidate(&invite, outbox::INVITE, 0)
                    .for_cohort_member(m.cohort_id, m.row);
                Ok((invite, message))
            })
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()?
            .into_iter()
            .unzip();
        let pairs: Vec<_> = created.iter().zip(&messages).collect();
        outbox::insert_for_many(txn, &pairs).await?;
    }
    Ok(())
}
