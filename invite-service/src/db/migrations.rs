//! Schema migrations, one set for SQLite and PostgreSQL. Run on start, or by `invite-service
//! migrate`. Never edit a migration that has shipped: add a new one.
use sea_orm_migration::{prelude::*, schema::*};

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(InitialSchema),
            Box::new(OutboxAndDerivedLinks),
            Box::new(CohortsPublicLinksReminders),
            Box::new(CohortEmailStage),
            Box::new(InviteExternalIds),
        ]
    }
}

struct InitialSchema;

impl MigrationName for InitialSchema {
    fn name(&self) -> &str {
        "m20261122_000001_initial_schema"
    }
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    OrgId,
    Name,
    Scope,
    Prefix,
    SecretHash,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
    OrgId,
    Email,
    Name,
    NotifyStarted,
    NotifySubmitted,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    OrgId,
    Title,
    State,
    AssessmentUrl,
    DefaultExpiryDays,
    DefaultTimeLimitMinutes,
    DefaultMessage,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Candidates {
    Table,
    Id,
    OrgId,
    Email,
    Name,
    ExternalId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Invites {
    Table,
    Id,
    OrgId,
    JobId,
    CandidateId,
    CandidateEmail,
    CandidateName,
    TokenHash,
    Status,
    DeliveryStatus,
    Locked,
    AssigneeIds,
    Labels,
    Message,
    TimeLimitMinutes,
    ExpiresAt,
    OpenCount,
    SendCount,
    Source,
    CreatedByKeyId,
    CreatedAt,
    UpdatedAt,
    FirstOpenedAt,
    StartedAt,
    SubmittedAt,
}

#[derive(DeriveIden)]
enum InviteLabels {
    Table,
    InviteId,
    Label,
    OrgId,
}

#[derive(DeriveIden)]
enum InviteEvents {
    Table,
    Id,
    OrgId,
    InviteId,
    Kind,
    Actor,
    Detail,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    KeyHash,
    OrgId,
    RequestHash,
    ResourceId,
    SealedSecret,
    CreatedAt,
}

fn org_fk<T: IntoIden + 'static>(table: T, column: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Organizations::Table, Organizations::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for InitialSchema {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Organizations::Table)
                .col(uuid(Organizations::Id).primary_key())
                .col(string(Organizations::Name))
                .col(timestamp_with_time_zone(Organizations::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApiKeys::Table)
                .col(uuid(ApiKeys::Id).primary_key())
                .col(uuid(ApiKeys::OrgId))
                .col(string(ApiKeys::Name))
                .col(string(ApiKeys::Scope))
                .col(string_uniq(ApiKeys::Prefix))
                .col(string(ApiKeys::SecretHash))
                .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiKeys::RevokedAt))
                .foreign_key(&mut org_fk(ApiKeys::Table, ApiKeys::OrgId))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Members::Table)
                .col(uuid(Members::Id).primary_key())
                .col(uuid(Members::OrgId))
                .col(string(Members::Email))
                .col(string(Members::Name))
                .col(boolean(Members::NotifyStarted))
                .col(boolean(Members::NotifySubmitted))
                .col(timestamp_with_time_zone(Members::CreatedAt))
                .foreign_key(&mut org_fk(Members::Table, Members::OrgId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("members_org_email")
                .table(Members::Table)
                .col(Members::OrgId)
                .col(Members::Email)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Jobs::Table)
                .col(uuid(Jobs::Id).primary_key())
                .col(uuid(Jobs::OrgId))
                .col(string(Jobs::Title))
                .col(string(Jobs::State))
                .col(text(Jobs::AssessmentUrl))
                .col(integer(Jobs::DefaultExpiryDays))
                .col(integer(Jobs::DefaultTimeLimitMinutes))
                .col(text(Jobs::DefaultMessage))
                .col(timestamp_with_time_zone(Jobs::CreatedAt))
                .col(timestamp_with_time_zone(Jobs::UpdatedAt))
                .foreign_key(&mut org_fk(Jobs::Table, Jobs::OrgId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("jobs_org")
                .table(Jobs::Table)
                .col(Jobs::OrgId)
                .col(Jobs::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Candidates::Table)
                .col(uuid(Candidates::Id).primary_key())
                .col(uuid(Candidates::OrgId))
                .col(string(Candidates::Email))
                .col(string(Candidates::Name))
                .col(string(Candidates::ExternalId))
                .col(timestamp_with_time_zone(Candidates::CreatedAt))
                .col(timestamp_with_time_zone(Candidates::UpdatedAt))
                .foreign_key(&mut org_fk(Candidates::Table, Candidates::OrgId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("candidates_org_email")
                .table(Candidates::Table)
                .col(Candidates::OrgId)
                .col(Candidates::Email)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Invites::Table)
                .col(uuid(Invites::Id).primary_key())
                .col(uuid(Invites::OrgId))
                .col(uuid(Invites::JobId))
                .col(uuid_null(Invites::CandidateId))
                .col(string(Invites::CandidateEmail))
                .col(string(Invites::CandidateName))
                .col(string_uniq(Invites::TokenHash))
                .col(string(Invites::Status))
                .col(string(Invites::DeliveryStatus))
                .col(boolean(Invites::Locked))
                .col(text(Invites::AssigneeIds))
                .col(text(Invites::Labels))
                .col(text(Invites::Message))
                .col(integer(Invites::TimeLimitMinutes))
                .col(timestamp_with_time_zone_null(Invites::ExpiresAt))
                .col(integer(Invites::OpenCount))
                .col(integer(Invites::SendCount))
                .col(string(Invites::Source))
                .col(uuid_null(Invites::CreatedByKeyId))
                .col(timestamp_with_time_zone(Invites::CreatedAt))
                .col(timestamp_with_time_zone(Invites::UpdatedAt))
                .col(timestamp_with_time_zone_null(Invites::FirstOpenedAt))
                .col(timestamp_with_time_zone_null(Invites::StartedAt))
                .col(timestamp_with_time_zone_null(Invites::SubmittedAt))
                .foreign_key(&mut org_fk(Invites::Table, Invites::OrgId))
                .foreign_key(
                    ForeignKey::create()
                        .from(Invites::Table, Invites::JobId)
                        .to(Jobs::Table, Jobs::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, column) in [
            ("invites_org_job", Invites::JobId),
            ("invites_org_status", Invites::Status),
            ("invites_org_email", Invites::CandidateEmail),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Invites::Table)
                    .col(Invites::OrgId)
                    .col(column)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(InviteLabels::Table)
                .col(uuid(InviteLabels::InviteId))
                .col(string(InviteLabels::Label))
                .col(uuid(InviteLabels::OrgId))
                .primary_key(
                    Index::create()
                        .col(InviteLabels::InviteId)
                        .col(InviteLabels::Label),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(InviteLabels::Table, InviteLabels::InviteId)
                        .to(Invites::Table, Invites::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("invite_labels_org_label")
                .table(InviteLabels::Table)
                .col(InviteLabels::OrgId)
                .col(InviteLabels::Label)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(InviteEvents::Table)
                .col(uuid(InviteEvents::Id).primary_key())
                .col(uuid(InviteEvents::OrgId))
                .col(uuid(InviteEvents::InviteId))
                .col(string(InviteEvents::Kind))
                .col(string(InviteEvents::Actor))
                .col(text(InviteEvents::Detail))
                .col(timestamp_with_time_zone(InviteEvents::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(InviteEvents::Table, InviteEvents::InviteId)
                        .to(Invites::Table, Invites::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("invite_events_invite")
                .table(InviteEvents::Table)
                .col(InviteEvents::InviteId)
                .col(InviteEvents::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .col(string(IdempotencyKeys::KeyHash).primary_key())
                .col(uuid(IdempotencyKeys::OrgId))
                .col(string(IdempotencyKeys::RequestHash))
                .col(uuid(IdempotencyKeys::ResourceId))
                .col(string(IdempotencyKeys::SealedSecret))
                .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                .foreign_key(&mut org_fk(IdempotencyKeys::Table, IdempotencyKeys::OrgId))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

struct OutboxAndDerivedLinks;

impl MigrationName for OutboxAndDerivedLinks {
    fn name(&self) -> &str {
        "m20261122_000002_outbox_and_derived_links"
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    OrgId,
    InviteId,
    Kind,
    Recipient,
    RecipientName,
    LinkGeneration,
    State,
    DeliveryState,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InviteAdditions {
    #[sea_orm(iden = "invites")]
    Table,
    LinkGeneration,
    InviterMemberId,
    LastSentAt,
}

#[derive(DeriveIden)]
enum ApiKeyAdditions {
    #[sea_orm(iden = "api_keys")]
    Table,
    OwnerMemberId,
}

#[async_trait::async_trait]
impl MigrationTrait for OutboxAndDerivedLinks {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            integer(InviteAdditions::LinkGeneration)
                .default(0)
                .to_owned(),
            uuid_null(InviteAdditions::InviterMemberId),
            timestamp_with_time_zone_null(InviteAdditions::LastSentAt),
        ] {
            m.alter_table(
                Table::alter()
                    .table(InviteAdditions::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.alter_table(
            Table::alter()
                .table(ApiKeyAdditions::Table)
                .add_column(uuid_null(ApiKeyAdditions::OwnerMemberId))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .col(uuid(Outbox::Id).primary_key())
                .col(uuid(Outbox::OrgId))
                .col(uuid(Outbox::InviteId))
                .col(string(Outbox::Kind))
                .col(string(Outbox::Recipient))
                .col(string(Outbox::RecipientName))
                .col(integer(Outbox::LinkGeneration))
                .col(string(Outbox::State))
                .col(string(Outbox::DeliveryState))
                .col(integer(Outbox::Attempts))
                .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                .col(text(Outbox::LastError))
                .col(timestamp_with_time_zone(Outbox::CreatedAt))
                .col(timestamp_with_time_zone(Outbox::UpdatedAt))
                .foreign_key(&mut org_fk(Outbox::Table, Outbox::OrgId))
                .to_owned(),
        )
        .await?;
        // The relay's scan: unfinished rows by when they are due.
        m.create_index(
            Index::create()
                .name("outbox_state_due")
                .table(Outbox::Table)
                .col(Outbox::State)
                .col(Outbox::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}

struct CohortsPublicLinksReminders;

impl MigrationName for CohortsPublicLinksReminders {
    fn name(&self) -> &str {
        "m20261122_000003_cohorts_public_links_reminders"
    }
}

#[derive(DeriveIden)]
enum JobAdditions {
    #[sea_orm(iden = "jobs")]
    Table,
    PublicTokenHash,
    PublicLinkEnabled,
}

#[derive(DeriveIden)]
enum InviteCohortAdditions {
    #[sea_orm(iden = "invites")]
    Table,
    CohortId,
    RemindAt,
    RemindedAt,
}

#[derive(DeriveIden)]
enum Cohorts {
    Table,
    Id,
    OrgId,
    JobId,
    Options,
    CreatedByKeyId,
    State,
    Total,
    Succeeded,
    Failed,
    LastSequence,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum CohortMembers {
    Table,
    CohortId,
    Row,
    OrgId,
    Email,
    Name,
    ExternalId,
    Labels,
    State,
    InviteId,
    Reason,
    Sequence,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for CohortsPublicLinksReminders {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            string_null(JobAdditions::PublicTokenHash),
            boolean(JobAdditions::PublicLinkEnabled)
                .default(false)
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(JobAdditions::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("jobs_public_token_hash")
                .table(JobAdditions::Table)
                .col(JobAdditions::PublicTokenHash)
                .unique()
                .to_owned(),
        )
        .await?;
        for column in [
            uuid_null(InviteCohortAdditions::CohortId),
            timestamp_with_time_zone_null(InviteCohortAdditions::RemindAt),
            timestamp_with_time_zone_null(InviteCohortAdditions::RemindedAt),
        ] {
            m.alter_table(
                Table::alter()
                    .table(InviteCohortAdditions::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        // The reminder sweep's scan.
        m.create_index(
            Index::create()
                .name("invites_remind_at")
                .table(InviteCohortAdditions::Table)
                .col(InviteCohortAdditions::RemindAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Cohorts::Table)
                .col(uuid(Cohorts::Id).primary_key())
                .col(uuid(Cohorts::OrgId))
                .col(uuid(Cohorts::JobId))
                .col(text(Cohorts::Options))
                .col(uuid(Cohorts::CreatedByKeyId))
                .col(string(Cohorts::State))
                .col(integer(Cohorts::Total))
                .col(integer(Cohorts::Succeeded))
                .col(integer(Cohorts::Failed))
                .col(big_integer(Cohorts::LastSequence))
                .col(timestamp_with_time_zone(Cohorts::CreatedAt))
                .col(timestamp_with_time_zone_null(Cohorts::FinishedAt))
                .foreign_key(&mut org_fk(Cohorts::Table, Cohorts::OrgId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("cohorts_org_created")
                .table(Cohorts::Table)
                .col(Cohorts::OrgId)
                .col(Cohorts::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(CohortMembers::Table)
                .col(uuid(CohortMembers::CohortId))
                .col(integer(CohortMembers::Row))
                .col(uuid(CohortMembers::OrgId))
                .col(string(CohortMembers::Email))
                .col(string(CohortMembers::Name))
                .col(string(CohortMembers::ExternalId))
                .col(text(CohortMembers::Labels))
                .col(string(CohortMembers::State))
                .col(uuid_null(CohortMembers::InviteId))
                .col(text(CohortMembers::Reason))
                .col(big_integer_null(CohortMembers::Sequence))
                .col(timestamp_with_time_zone(CohortMembers::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(CohortMembers::CohortId)
                        .col(CohortMembers::Row),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CohortMembers::Table, CohortMembers::CohortId)
                        .to(Cohorts::Table, Cohorts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        for (name, column) in [
            ("cohort_members_state", CohortMembers::State),
            ("cohort_members_sequence", CohortMembers::Sequence),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(CohortMembers::Table)
                    .col(CohortMembers::CohortId)
                    .col(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// A cohort that sends email follows each member's email to its final outcome: the outbox row
/// names the member it is for, the member keeps its email's state, the cohort counts them.
struct CohortEmailStage;

impl MigrationName for CohortEmailStage {
    fn name(&self) -> &str {
        "m20261130_000001_cohort_email_stage"
    }
}

#[derive(DeriveIden)]
enum CohortEmailCounts {
    #[sea_orm(iden = "cohorts")]
    Table,
    EmailsQueued,
    EmailsDeferred,
    EmailsSent,
    EmailsFailed,
    EmailsSuppressed,
}

#[derive(DeriveIden)]
enum CohortMemberEmail {
    #[sea_orm(iden = "cohort_members")]
    Table,
    DeliveryStatus,
    DeliveryError,
}

#[derive(DeriveIden)]
enum OutboxCohortMember {
    #[sea_orm(iden = "outbox")]
    Table,
    CohortId,
    CohortRow,
}

#[async_trait::async_trait]
impl MigrationTrait for CohortEmailStage {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            CohortEmailCounts::EmailsQueued,
            CohortEmailCounts::EmailsDeferred,
            CohortEmailCounts::EmailsSent,
            CohortEmailCounts::EmailsFailed,
            CohortEmailCounts::EmailsSuppressed,
        ] {
            m.alter_table(
                Table::alter()
                    .table(CohortEmailCounts::Table)
                    .add_column(integer(column).default(0).to_owned())
                    .to_owned(),
            )
            .await?;
        }
        for column in [
            string(CohortMemberEmail::DeliveryStatus)
                .default("")
                .to_owned(),
            text(CohortMemberEmail::DeliveryError)
                .default("")
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(CohortMemberEmail::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        for column in [
            uuid_null(OutboxCohortMember::CohortId),
            integer_null(OutboxCohortMember::CohortRow),
        ] {
            m.alter_table(
                Table::alter()
                    .table(OutboxCohortMember::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

/// Invites carry the caller's own id (an ATS application), one live invite per id.
struct InviteExternalIds;

impl MigrationName for InviteExternalIds {
    fn name(&self) -> &str {
        "m20261130_000002_invite_external_ids"
    }
}

#[derive(DeriveIden)]
enum InviteExternalIdAdditions {
    #[sea_orm(iden = "invites")]
    Table,
    OrgId,
    Status,
    ExternalId,
}

#[async_trait::async_trait]
impl MigrationTrait for InviteExternalIds {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(InviteExternalIdAdditions::Table)
                .add_column(string_null(InviteExternalIdAdditions::ExternalId))
                .to_owned(),
        )
        .await?;
        // One live invite per external id and organization, held by the database so that
        // concurrent creates cannot both win. Revoked and expired invites never come back to
        // life, so their ids are free again. The statuses are spelled out: this migration must
        // not change if the code's names do.
        m.create_index(
            Index::create()
                .name("invites_live_external_id")
                .table(InviteExternalIdAdditions::Table)
                .col(InviteExternalIdAdditions::OrgId)
                .col(InviteExternalIdAdditions::ExternalId)
                .unique()
                .and_where(Expr::col(InviteExternalIdAdditions::ExternalId).is_not_null())
                .and_where(
                    Expr::col(InviteExternalIdAdditions::Status).is_not_in(["revoked", "expired"]),
                )
                .to_owned(),
        )
        .await?;
        // Lookups and list filters, which also see dead invites.
        m.create_index(
            Index::create()
                .name("invites_org_external_id")
                .table(InviteExternalIdAdditions::Table)
                .col(InviteExternalIdAdditions::OrgId)
                .col(InviteExternalIdAdditions::ExternalId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
