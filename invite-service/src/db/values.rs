//! The values of enum-like and list columns. Enum-like ones are stored as the short text given
//! here so the database stays readable. sea-orm reads them back checked: a row holding text that is none of them
//! fails to load (an internal error naming the value), so no code past the store meets one.
//! The stored texts must never change: rows written by earlier versions hold them.
//! `crate::domain` re-exports these types and owns their meaning.
use sea_orm::{entity::prelude::*, FromJsonQueryResult};
use serde::{Deserialize, Serialize};

/// An invite's labels, or a cohort member's: a JSON array of text (JSONB on PostgreSQL). Also in
/// `invite_labels`, one row each, for filtering.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
#[serde(transparent)]
pub struct Labels(pub Vec<String>);

/// The members an invite is assigned to: a JSON array of their ids (JSONB on PostgreSQL).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
#[serde(transparent)]
pub struct AssigneeIds(pub Vec<Uuid>);

/// The event types an endpoint takes: a JSON array of their names (JSONB on PostgreSQL); empty
/// for all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, FromJsonQueryResult)]
#[serde(transparent)]
pub struct EventTypes(pub Vec<String>);

/// Where one webhook message to one endpoint is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum WebhookDeliveryStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "delivered")]
    Delivered,
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// What a cohort does with a candidate who already submitted to the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SubmittedPolicy {
    #[default]
    Skip,
    Reopen,
    Retake,
}

/// The options every invite of a cohort gets: a JSON object (JSONB on PostgreSQL). A field added
/// later takes its default in cohorts stored before.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default, FromJsonQueryResult)]
#[serde(default)]
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
    /// The candidates' IANA time zone, checked; `None`: UTC.
    pub time_zone: Option<String>,
    /// The candidates' language, checked; `None`: the job's.
    pub locale: Option<String>,
}

/// How an invite came to be: the word the API shows as `Invite.source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum InviteSource {
    /// CreateInvite by a service or invitectl.
    #[sea_orm(string_value = "api")]
    Api,
    /// CreateInvite from the browser extension.
    #[sea_orm(string_value = "extension")]
    Extension,
    /// A member of a cohort (BulkCreateInvites).
    #[sea_orm(string_value = "bulk")]
    Bulk,
    /// The candidate registered through the job's public link.
    #[sea_orm(string_value = "public")]
    Public,
    /// Greenhouse asked for it as an assessment partner.
    #[sea_orm(string_value = "greenhouse")]
    Greenhouse,
    /// Ashby asked for it as an assessment partner.
    #[sea_orm(string_value = "ashby")]
    Ashby,
}

impl InviteSource {
    /// The word stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            InviteSource::Api => "api",
            InviteSource::Extension => "extension",
            InviteSource::Bulk => "bulk",
            InviteSource::Public => "public",
            InviteSource::Greenhouse => "greenhouse",
            InviteSource::Ashby => "ashby",
        }
    }
}

/// The applicant tracking systems Beckon is an assessment partner of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Ats {
    #[sea_orm(string_value = "greenhouse")]
    Greenhouse,
    #[sea_orm(string_value = "ashby")]
    Ashby,
}

/// What an ATS is told of an interview (`domain::ats`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum AtsProgress {
    #[sea_orm(string_value = "started")]
    Started,
    #[sea_orm(string_value = "reopened")]
    Reopened,
    #[sea_orm(string_value = "completed")]
    Completed,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    #[sea_orm(string_value = "email_undeliverable")]
    EmailUndeliverable,
}

/// Whether a job takes new invites.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum JobState {
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "closed")]
    Closed,
}

/// Where a bulk invite is: making invites, then (when it sends email) waiting until every
/// member's email has a final outcome, then done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum CohortState {
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "sending")]
    Sending,
    #[sea_orm(string_value = "done")]
    Done,
}

/// Where a cohort member is: waiting for its invite, invited, or failed (with a reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum MemberState {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "invited")]
    Invited,
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// Where an invite is in its life. `Revoked` and `Expired` are ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum InviteStatus {
    #[sea_orm(string_value = "created")]
    Created,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "opened")]
    Opened,
    #[sea_orm(string_value = "started")]
    Started,
    #[sea_orm(string_value = "submitted")]
    Submitted,
    #[sea_orm(string_value = "revoked")]
    Revoked,
    #[sea_orm(string_value = "expired")]
    Expired,
}

/// What happened to the invite's email, tracked beside its status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum DeliveryStatus {
    #[sea_orm(string_value = "not_requested")]
    NotRequested,
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "deferred")]
    Deferred,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "suppressed")]
    Suppressed,
}

/// A cohort member's email: `NotAsked` (stored as empty text) while no email was asked for,
/// then its `DeliveryStatus`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, DeriveValueType)]
#[sea_orm(
    value_type = "String",
    from_str = "MemberDelivery::from_stored",
    to_str = "MemberDelivery::stored_text"
)]
pub enum MemberDelivery {
    NotAsked,
    Tracked(DeliveryStatus),
}

impl MemberDelivery {
    pub fn status(self) -> Option<DeliveryStatus> {
        match self {
            MemberDelivery::NotAsked => None,
            MemberDelivery::Tracked(status) => Some(status),
        }
    }

    fn stored_text(&self) -> String {
        match self {
            MemberDelivery::NotAsked => String::new(),
            MemberDelivery::Tracked(status) => status.to_value(),
        }
    }

    fn from_stored(text: &str) -> Result<Self, DbErr> {
        if text.is_empty() {
            return Ok(MemberDelivery::NotAsked);
        }
        DeliveryStatus::try_from_value(&text.to_string()).map(MemberDelivery::Tracked)
    }
}

impl From<DeliveryStatus> for MemberDelivery {
    fn from(status: DeliveryStatus) -> Self {
        MemberDelivery::Tracked(status)
    }
}

/// What an API key may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum Scope {
    #[sea_orm(string_value = "admin")]
    Admin,
    #[sea_orm(string_value = "invites")]
    Invites,
    #[sea_orm(string_value = "links")]
    Links,
    #[sea_orm(string_value = "ats")]
    Ats,
}

/// Entries of an invite's audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum EventKind {
    #[sea_orm(string_value = "created")]
    Created,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "opened")]
    Opened,
    #[sea_orm(string_value = "started")]
    Started,
    #[sea_orm(string_value = "submitted")]
    Submitted,
    #[sea_orm(string_value = "revoked")]
    Revoked,
    #[sea_orm(string_value = "reissued")]
    Reissued,
    #[sea_orm(string_value = "reopened")]
    Reopened,
    #[sea_orm(string_value = "unlocked")]
    Unlocked,
    #[sea_orm(string_value = "resent")]
    Resent,
    #[sea_orm(string_value = "expired")]
    Expired,
    #[sea_orm(string_value = "delivery_failed")]
    DeliveryFailed,
    #[sea_orm(string_value = "reminded")]
    Reminded,
    #[sea_orm(string_value = "locked")]
    Locked,
    #[sea_orm(string_value = "renewal_requested")]
    RenewalRequested,
    #[sea_orm(string_value = "renewed")]
    Renewed,
    #[sea_orm(string_value = "rescheduled")]
    Rescheduled,
}

/// Kinds of outbox message, as notify-service names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum MessageKind {
    #[sea_orm(string_value = "invite")]
    Invite,
    #[sea_orm(string_value = "resend")]
    Resend,
    /// To a candidate who registered through a job's public link: their own invite's link.
    #[sea_orm(string_value = "public_registration")]
    PublicRegistration,
    #[sea_orm(string_value = "reminder")]
    Reminder,
    #[sea_orm(string_value = "team_started")]
    TeamStarted,
    #[sea_orm(string_value = "team_submitted")]
    TeamSubmitted,
    /// To the organization's admins: Beckon turned a webhook endpoint off. About the endpoint,
    /// not an invite.
    #[sea_orm(string_value = "webhook_disabled")]
    WebhookDisabled,
    /// To the invite's team: the candidate asks for a new link to an expired invite.
    #[sea_orm(string_value = "team_renewal_requested")]
    TeamRenewalRequested,
    /// To the candidate: their interview's new time (a calendar update).
    #[sea_orm(string_value = "rescheduled")]
    Rescheduled,
    /// To the candidate: their interview is off (a calendar cancellation). Sent with the link
    /// dead.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

/// Where an outbox row is: to hand over, handed over (notify-service has it), or done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum OutboxState {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "done")]
    Done,
}

/// An outbox row's delivery as notify-service last reported it, or `Skipped` when the message
/// was not handed over because it must not go out any more.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ReportedDelivery {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "deferred")]
    Deferred,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "failed")]
    Failed,
    #[sea_orm(string_value = "suppressed")]
    Suppressed,
    #[sea_orm(string_value = "skipped")]
    Skipped,
}

beckon_common::display_as_stored!(
    JobState,
    CohortState,
    MemberState,
    InviteStatus,
    DeliveryStatus,
    Scope,
    EventKind,
    MessageKind,
    OutboxState,
    ReportedDelivery,
    WebhookDeliveryStatus
);

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Iterable};

    use super::*;

    #[test]
    fn an_invite_source_shows_the_word_it_is_stored_as() {
        for source in InviteSource::iter() {
            assert_eq!(source.as_str(), source.to_value());
        }
    }

    /// The texts rows already hold: changing one would strand them.
    #[test]
    fn stored_texts_stay_as_they_were() {
        let texts = |values: Vec<String>| values.join(" ");
        assert_eq!(
            texts(InviteStatus::iter().map(|s| s.to_value()).collect()),
            "created sent opened started submitted revoked expired"
        );
        assert_eq!(
            texts(DeliveryStatus::iter().map(|s| s.to_value()).collect()),
            "not_requested queued sent deferred failed suppressed"
        );
        assert_eq!(
            texts(EventKind::iter().map(|s| s.to_value()).collect()),
            "created sent opened started submitted revoked reissued reopened unlocked resent \
             expired delivery_failed reminded locked renewal_requested renewed rescheduled"
        );
        assert_eq!(
            texts(MessageKind::iter().map(|s| s.to_value()).collect()),
            "invite resend public_registration reminder team_started team_submitted webhook_disabled \
             team_renewal_requested rescheduled cancelled"
        );
        assert_eq!(
            texts(ReportedDelivery::iter().map(|s| s.to_value()).collect()),
            "queued deferred sent failed suppressed skipped"
        );
        assert_eq!(
            Scope::try_from_value(&"admin".into()).ok(),
            Some(Scope::Admin)
        );
        assert!(Scope::try_from_value(&"root".into()).is_err());
    }

    #[test]
    fn a_member_without_email_is_stored_as_empty_text() {
        assert_eq!(MemberDelivery::NotAsked.stored_text(), "");
        assert_eq!(
            MemberDelivery::from_stored("").ok(),
            Some(MemberDelivery::NotAsked)
        );
        let queued = MemberDelivery::Tracked(DeliveryStatus::Queued);
        assert_eq!(
            MemberDelivery::from_stored(&queued.stored_text()).ok(),
            Some(queued)
        );
        assert!(MemberDelivery::from_stored("lost").is_err());
    }
}
