//! The preview: what a bulk call would do with each row of its list, before anything is written.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{CohortOptions, SubmittedPolicy};
use crate::{
    db::entities::{invite, job},
    domain::{roster::Entry, InviteStatus, JobState},
    error::ServiceError,
    store::{jobs, Caller, Store},
};

/// Valid rows listed in a preview (every problem row is listed).
const PREVIEW_VALID_ROWS: usize = 1000;

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
    pub(super) fn invites(&self, row: &PreviewRow) -> bool {
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
    if job.state != JobState::Open {
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
        let rows: Vec<(String, InviteStatus)> = invite::Entity::find()
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
