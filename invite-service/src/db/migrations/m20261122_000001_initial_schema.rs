use sea_orm_migration::{prelude::*, schema::*};

pub struct InitialSchema;

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

pub(super) fn org_fk<T: IntoIden + 'static>(table: T, column: T) -> ForeignKeyCreateStatement {
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
