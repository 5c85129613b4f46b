//! The one way a new invite row is made, whichever path makes it: CreateInvite (a batch of the
//! writer's), a cohort's chunk (which the cohort retry puts failed members back into) or a
//! public registration. Each decides what differs; what every new invite shares is here.
use chrono::{DateTime, Utc};
use sea_orm::Set;
use uuid::Uuid;

use super::to_stored_precision;
use crate::{
    db::entities::{invite, job},
    domain::{
        secret::{self, LinkKey},
        AssigneeIds, DeliveryStatus, InviteSource, InviteStatus, Labels,
    },
};

/// When a new invite's link stops working.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expiry {
    /// The job's default.
    JobDefault,
    At(DateTime<Utc>),
}

/// A live interview's time: when it starts and how long it lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub start: DateTime<Utc>,
    pub duration_minutes: i32,
}

impl Schedule {
    pub fn end(&self) -> DateTime<Utc> {
        self.start + chrono::Duration::minutes(i64::from(self.duration_minutes))
    }

    /// A day after the interview ends: its link works at least until then.
    pub fn link_needed_until(&self) -> DateTime<Utc> {
        to_stored_precision(self.end() + chrono::Duration::days(1))
    }
}

/// A new invite, as its path decides it.
pub(crate) struct NewInviteRow<'a> {
    pub id: Uuid,
    pub job: &'a job::Model,
    pub candidate_id: Option<Uuid>,
    pub candidate_email: String,
    pub candidate_name: String,
    /// Emailed now; otherwise the link is handed straight back to be shared.
    pub send_email: bool,
    pub locked: bool,
    pub assignee_ids: Vec<Uuid>,
    pub labels: Vec<String>,
    /// `None`: the job's default.
    pub message: Option<String>,
    /// `None`: the job's default.
    pub time_limit_minutes: Option<i32>,
    pub expiry: Expiry,
    /// One reminder this long after creation, if the candidate has not started by then.
    pub remind_after: Option<chrono::Duration>,
    pub source: InviteSource,
    pub created_by_key_id: Option<Uuid>,
    pub inviter_member_id: Option<Uuid>,
    pub cohort_id: Option<Uuid>,
    pub external_id: Option<String>,
    /// The candidate's IANA time zone, checked; `None`: UTC.
    pub time_zone: Option<String>,
    /// The candidate's language, checked; `None`: the job's.
    pub locale: Option<String>,
    /// A live interview's time: its emails carry a calendar invitation.
    pub schedule: Option<Schedule>,
}

impl NewInviteRow<'_> {
    /// The row as made at `at`, in the job's organization, with its first link (generation 0),
    /// of which only the hash is stored.
    pub fn into_active_model(self, link_key: &LinkKey, at: DateTime<Utc>) -> invite::ActiveModel {
        let job = self.job;
        let expires_at = match self.expiry {
            Expiry::At(when) => Some(to_stored_precision(when)),
            Expiry::JobDefault if job.default_expiry_days > 0 => {
                Some(at + chrono::Duration::days(i64::from(job.default_expiry_days)))
            }
            Expiry::JobDefault => None,
        };
        // The link works until a day after the interview ends, whatever expiry was asked for:
        // an interview in the calendar with a dead link could not even be cancelled.
        let expires_at = match (expires_at, self.schedule) {
            (Some(expires_at), Some(schedule)) => {
                Some(expires_at.max(schedule.link_needed_until()))
            }
            (expires_at, _) => expires_at,
        };
        // A link that is not emailed is handed straight back to be shared: that is its sending.
        let (status, delivery) = if self.send_email {
            (InviteStatus::Created, DeliveryStatus::Queued)
        } else {
            (InviteStatus::Sent, DeliveryStatus::NotRequested)
        };
        invite::ActiveModel {
            id: Set(self.id),
            org_id: Set(job.org_id),
            job_id: Set(job.id),
            candidate_id: Set(self.candidate_id),
            candidate_email: Set(self.candidate_email),
            candidate_name: Set(self.candidate_name),
            token_hash: Set(secret::link_token_hash(&link_key.token(self.id, 0))),
            status: Set(status),
            delivery_status: Set(delivery),
            locked: Set(self.locked),
            assignee_ids: Set(AssigneeIds(self.assignee_ids)),
            labels: Set(Labels(self.labels)),
            message: Set(self.message.unwrap_or_else(|| job.default_message.clone())),
            time_limit_minutes: Set(self
                .time_limit_minutes
                .unwrap_or(job.default_time_limit_minutes)),
            expires_at: Set(expires_at),
            open_count: Set(0),
            send_count: Set(0),
            source: Set(self.source),
            created_by_key_id: Set(self.created_by_key_id),
            created_at: Set(at),
            updated_at: Set(at),
            first_opened_at: Set(None),
            started_at: Set(None),
            submitted_at: Set(None),
            link_generation: Set(0),
            inviter_member_id: Set(self.inviter_member_id),
            last_sent_at: Set(None),
            cohort_id: Set(self.cohort_id),
            remind_at: Set(self
                .remind_after
                .map(|after| to_stored_precision(at + after))),
            reminded_at: Set(None),
            external_id: Set(self.external_id),
            time_zone: Set(self.time_zone),
            locale: Set(self.locale),
            scheduled_at: Set(self.schedule.map(|s| to_stored_precision(s.start))),
            duration_minutes: Set(self.schedule.map(|s| s.duration_minutes)),
            calendar_sequence: Set(0),
        }
    }
}
