//! sea-orm entities: one module per table. Enum-like columns hold the types of `super::values`,
//! stored as short text so the database stays readable; `crate::domain` owns their meaning.
#![allow(clippy::empty_docs)]

pub mod organization {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "organizations")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub created_at: ChronoDateTimeUtc,
        /// The language (a shipped locale's BCP 47 tag) every chain of preferences ends in.
        pub default_locale: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod api_key {
    use sea_orm::entity::prelude::*;

    use crate::db::values::Scope;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        pub name: String,
        pub scope: Scope,
        /// The public start of the key, e.g. `bk_1a2b3c4d5e6f`: how a presented key is found.
        #[sea_orm(unique)]
        pub prefix: String,
        /// SHA-256 of the secret part, hex.
        pub secret_hash: String,
        pub created_at: ChronoDateTimeUtc,
        pub revoked_at: Option<ChronoDateTimeUtc>,
        /// The member the key belongs to (a recruiter's extension key): invites it makes are
        /// theirs.
        pub owner_member_id: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod enrollment {
    use sea_orm::entity::prelude::*;

    /// A one-time code that the browser extension trades for a `links` key of `member_id`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "enrollments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        pub member_id: Uuid,
        /// SHA-256 of the code, hex; the code itself is never stored.
        #[sea_orm(unique)]
        pub code_hash: String,
        /// The name the key gets.
        pub key_name: String,
        /// Who made it (`key:<id>`).
        pub created_by: String,
        pub created_at: ChronoDateTimeUtc,
        pub expires_at: ChronoDateTimeUtc,
        pub redeemed_at: Option<ChronoDateTimeUtc>,
        /// The key it was traded for.
        pub api_key_id: Option<Uuid>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod member {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "members")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        pub email: String,
        pub name: String,
        pub notify_started: bool,
        pub notify_submitted: bool,
        pub created_at: ChronoDateTimeUtc,
        /// Administers the organization's integrations: emailed when Beckon turns a webhook
        /// endpoint off.
        pub admin: bool,
        /// The IANA time zone the member reads times in (checked when written); none: UTC.
        pub time_zone: Option<String>,
        /// The language of the member's notifications (checked when written); none: the
        /// organization's default.
        pub locale: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod job {
    use sea_orm::entity::prelude::*;

    use crate::db::values::JobState;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "jobs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        pub title: String,
        pub state: JobState,
        pub assessment_url: String,
        pub default_expiry_days: i32,
        pub default_time_limit_minutes: i32,
        pub default_message: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
        /// SHA-256 of the public registration link's token, hex; `None` when the job has no
        /// public link. Unique.
        pub public_token_hash: Option<String>,
        pub public_link_enabled: bool,
        /// A candidate's request for a new link, from one that expired, waits for the team.
        pub renewal_needs_approval: bool,
        /// The language of its candidates' emails and pages when an invite sets none (checked
        /// when written); none: the organization's default.
        pub locale: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod candidate {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "candidates")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        /// Lower-cased; unique per organization.
        pub email: String,
        pub name: String,
        pub external_id: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod invite {
    use sea_orm::entity::prelude::*;

    use crate::db::values::{AssigneeIds, DeliveryStatus, InviteSource, InviteStatus, Labels};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invites")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        pub job_id: Uuid,
        pub candidate_id: Option<Uuid>,
        pub candidate_email: String,
        pub candidate_name: String,
        /// SHA-256 of the link token, hex. The token itself is never stored.
        #[sea_orm(unique)]
        pub token_hash: String,
        pub status: InviteStatus,
        pub delivery_status: DeliveryStatus,
        pub locked: bool,
        #[sea_orm(column_type = "JsonBinary")]
        pub assignee_ids: AssigneeIds,
        #[sea_orm(column_type = "JsonBinary")]
        pub labels: Labels,
        pub message: String,
        pub time_limit_minutes: i32,
        pub expires_at: Option<ChronoDateTimeUtc>,
        pub open_count: i32,
        pub send_count: i32,
        pub source: InviteSource,
        pub created_by_key_id: Option<Uuid>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
        pub first_opened_at: Option<ChronoDateTimeUtc>,
        pub started_at: Option<ChronoDateTimeUtc>,
        pub submitted_at: Option<ChronoDateTimeUtc>,
        /// Bumped by each reissue; the link token is derived from the invite id and this.
        pub link_generation: i32,
        /// The member told when the candidate starts or submits, if no assignees are set.
        pub inviter_member_id: Option<Uuid>,
        pub last_sent_at: Option<ChronoDateTimeUtc>,
        pub cohort_id: Option<Uuid>,
        pub remind_at: Option<ChronoDateTimeUtc>,
        pub reminded_at: Option<ChronoDateTimeUtc>,
        /// The caller's own id (e.g. an ATS application id); unique per organization among
        /// live invites (index `invites_live_external_id`).
        pub external_id: Option<String>,
        /// The candidate's IANA time zone (checked when written): the times they read are shown
        /// in it. None: UTC.
        pub time_zone: Option<String>,
        /// A live interview's start; its calendar invitation goes with the candidate's emails.
        pub scheduled_at: Option<ChronoDateTimeUtc>,
        pub duration_minutes: Option<i32>,
        /// The iCalendar SEQUENCE: raised on every reschedule, reissue and cancellation, so a
        /// calendar takes the newest.
        pub calendar_sequence: i32,
        /// The candidate's language (checked when written); none: the job's, else the
        /// organization's default.
        pub locale: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod invite_label {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invite_labels")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub invite_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub label: String,
        pub org_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod invite_event {
    use sea_orm::entity::prelude::*;

    use crate::db::values::EventKind;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "invite_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        pub invite_id: Uuid,
        pub kind: EventKind,
        pub actor: String,
        pub detail: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod idempotency_key {
    use sea_orm::entity::prelude::*;

    /// One row per create call that carried a request_id.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        /// SHA-256 over organization, method and request_id, hex.
        #[sea_orm(primary_key, auto_increment = false)]
        pub key_hash: String,
        pub org_id: Uuid,
        /// SHA-256 of the request body, to refuse the same request_id with another body.
        pub request_hash: String,
        pub resource_id: Uuid,
        /// The secret of the first answer (a link token or an API key), sealed with a pad that
        /// only the request_id can recreate; hex. Empty when the answer had no secret.
        pub sealed_secret: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod outbox {
    use sea_orm::entity::prelude::*;

    use crate::db::values::{MessageKind, OutboxState, ReportedDelivery};

    /// A message to send, written in the same transaction as the change that causes it, and
    /// kept until notify-service reports a final outcome: nothing accepted is lost.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        /// The invite the message is about; none for a message about the organization's
        /// integrations (`webhook_endpoint_id`).
        pub invite_id: Option<Uuid>,
        pub kind: MessageKind,
        pub recipient: String,
        pub recipient_name: String,
        /// The link generation to put in the email; the link itself is derived when sending.
        /// Zero for messages without a link.
        pub link_generation: i32,
        pub state: OutboxState,
        pub delivery_state: ReportedDelivery,
        pub attempts: i32,
        pub next_attempt_at: ChronoDateTimeUtc,
        pub last_error: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
        /// The cohort member this email is for, when a cohort sent it: its outcome is the
        /// member's email outcome.
        pub cohort_id: Option<Uuid>,
        pub cohort_row: Option<i32>,
        /// The webhook endpoint a `webhook_disabled` message is about.
        pub webhook_endpoint_id: Option<Uuid>,
        /// The W3C `traceparent` of the request that wrote the row: sending it continues
        /// that trace.
        pub traceparent: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod cohort {
    use sea_orm::entity::prelude::*;

    use crate::db::values::{CohortOptions, CohortState};

    /// One bulk call: its options, and counts kept up to date as its members are processed.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cohorts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        pub job_id: Uuid,
        /// The options every invite gets.
        #[sea_orm(column_type = "JsonBinary")]
        pub options: CohortOptions,
        pub created_by_key_id: Uuid,
        pub state: CohortState,
        pub total: i32,
        pub succeeded: i32,
        pub failed: i32,
        /// The last outcome number handed out: outcomes are numbered in the order they happen.
        pub last_sequence: i64,
        pub created_at: ChronoDateTimeUtc,
        pub finished_at: Option<ChronoDateTimeUtc>,
        /// Members by the state of their email (cohorts that send email).
        pub emails_queued: i32,
        pub emails_deferred: i32,
        pub emails_sent: i32,
        pub emails_failed: i32,
        pub emails_suppressed: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod cohort_member {
    use sea_orm::entity::prelude::*;

    use crate::db::values::{Labels, MemberDelivery, MemberState};

    /// One candidate of a cohort, from pending to invited or failed.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cohort_members")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub cohort_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub row: i32,
        pub org_id: Uuid,
        pub email: String,
        pub name: String,
        pub external_id: String,
        /// The labels from the row (the cohort's labels are added to its invite).
        #[sea_orm(column_type = "JsonBinary")]
        pub labels: Labels,
        pub state: MemberState,
        pub invite_id: Option<Uuid>,
        pub reason: String,
        /// Set when an outcome is recorded (of the invite, then of its email); orders the watch
        /// stream.
        pub sequence: Option<i64>,
        pub updated_at: ChronoDateTimeUtc,
        pub delivery_status: MemberDelivery,
        /// Why the email failed, was suppressed or is deferred.
        pub delivery_error: String,
        /// The row's own language and time zone (checked); `None`: the cohort's.
        pub locale: Option<String>,
        pub time_zone: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod webhook_endpoint {
    use sea_orm::entity::prelude::*;

    use crate::db::values::EventTypes;

    /// Where an organization's events are posted, and the secret they are signed with.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_endpoints")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        pub url: String,
        pub description: String,
        /// Empty: every event type.
        pub event_types: EventTypes,
        pub enabled: bool,
        /// Why Beckon turned the endpoint off; empty otherwise.
        pub disabled_reason: String,
        /// Empty: the server's default rate.
        pub rate_limit: String,
        /// The signing secret, sealed under a key derived from the link key, which lives
        /// outside the database (`domain::webhook_secret`).
        pub secret_sealed: String,
        /// The secret before the last rotation, signing beside the new one until
        /// `previous_secret_until`.
        pub previous_secret_sealed: Option<String>,
        pub previous_secret_until: Option<ChronoDateTimeUtc>,
        /// When the current run of failed attempts began; none while deliveries succeed.
        pub failing_since: Option<ChronoDateTimeUtc>,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod webhook_message {
    use sea_orm::entity::prelude::*;

    /// One event as sent: written in the transaction of the change it tells of, with the body
    /// every endpoint receives.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_messages")]
    pub struct Model {
        /// `msg_` + this id (simple form) is the `webhook-id`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        pub event_type: String,
        pub invite_id: Option<Uuid>,
        /// The JSON body, byte for byte as signed and sent.
        pub payload: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod webhook_delivery {
    use sea_orm::entity::prelude::*;

    use crate::db::values::WebhookDeliveryStatus;

    /// One message to one endpoint: kept until delivered or given up, so nothing is lost.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        /// The order messages were written in; an invite's go out to an endpoint in it.
        #[sea_orm(primary_key)]
        pub seq: i64,
        pub message_id: Uuid,
        pub endpoint_id: Uuid,
        pub org_id: Uuid,
        pub invite_id: Option<Uuid>,
        pub status: WebhookDeliveryStatus,
        pub attempt_count: i32,
        /// When the next attempt is due; while an attempt is under way, when it may be taken
        /// again if its sender died.
        pub next_attempt_at: ChronoDateTimeUtc,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod webhook_attempt {
    use sea_orm::entity::prelude::*;

    /// One try to deliver a message, as the endpoint answered it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_attempts")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        pub endpoint_id: Uuid,
        pub message_id: Uuid,
        pub attempted_at: ChronoDateTimeUtc,
        /// Zero when there was no answer.
        pub response_status: i32,
        pub response_excerpt: String,
        pub error: String,
        pub latency_ms: i32,
        pub succeeded: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ats_interview {
    use sea_orm::entity::prelude::*;

    use crate::db::values::Ats;

    /// An invite an applicant tracking system asked for, and where it wants to hear back.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ats_interviews")]
    pub struct Model {
        /// The invite's id is the ATS's interview (Greenhouse) or assessment (Ashby) id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub invite_id: Uuid,
        pub org_id: Uuid,
        pub ats: Ats,
        /// The ATS's test (Greenhouse) or assessment type (Ashby): the job's id.
        pub test_id: String,
        /// Ashby's application id; empty for Greenhouse.
        pub application_id: String,
        /// Where Greenhouse wants its `PATCH` on completion; empty for Ashby.
        pub callback_url: String,
        /// The candidate's profile in the ATS.
        pub profile_url: String,
        /// Greenhouse: the key it presented, sealed, sent back with the `PATCH` as its docs
        /// show. `None` for Ashby (the organization's Ashby key is in `ats_connections`).
        pub credential_sealed: Option<String>,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ats_callback {
    use sea_orm::entity::prelude::*;

    use crate::db::values::{Ats, AtsProgress, WebhookDeliveryStatus};

    /// One call back to an ATS about an invite, written with the change it tells of and sent
    /// until the ATS takes it, each invite's in the order written (`seq`).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ats_callbacks")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// How the API names it.
        pub id: Uuid,
        pub org_id: Uuid,
        pub invite_id: Uuid,
        pub ats: Ats,
        pub progress: AtsProgress,
        /// Why, for a cancellation or an undeliverable email; empty otherwise.
        pub detail: String,
        pub happened_at: ChronoDateTimeUtc,
        /// Pending until the ATS takes it (it is never given up), then delivered.
        pub status: WebhookDeliveryStatus,
        pub attempt_count: i32,
        /// When the next attempt is due; while one is under way, when it may be taken again.
        pub next_attempt_at: ChronoDateTimeUtc,
        pub last_response_status: Option<i32>,
        pub last_error: String,
        pub created_at: ChronoDateTimeUtc,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ats_connection {
    use sea_orm::entity::prelude::*;

    use crate::db::values::Ats;

    /// An organization's credential for calling an ATS's API.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ats_connections")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub org_id: Uuid,
        #[sea_orm(primary_key, auto_increment = false)]
        pub ats: Ats,
        /// Sealed under a key derived from the link key (`domain::seal`).
        pub api_key_sealed: String,
        pub updated_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ats_error {
    use sea_orm::entity::prelude::*;

    use crate::db::values::Ats;

    /// An error an ATS reported about one of Beckon's answers (Greenhouse's `response_error`).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ats_errors")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub org_id: Uuid,
        pub ats: Ats,
        /// Which of Beckon's answers it was about, e.g. `test_status`.
        pub api_call: String,
        pub invite_id: Option<Uuid>,
        /// The report as the ATS sent it (JSON), cut to a few KiB.
        pub report: String,
        pub created_at: ChronoDateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
