use sea_orm_migration::{prelude::*, schema::*};

/// Beckon as an applicant tracking system's assessment partner (Greenhouse, Ashby): which
/// invites an ATS asked for and where it wants to hear back, the calls back to it (an outbox of
/// their own), the organization's credentials for calling the ATS, and the errors an ATS
/// reported about Beckon's answers. Also an index the metrics' backlog count reads.
pub struct AtsPartners;

impl MigrationName for AtsPartners {
    fn name(&self) -> &str {
        "m20261202_000001_ats_partners"
    }
}

#[derive(DeriveIden)]
enum AtsInterviews {
    Table,
    InviteId,
    OrgId,
    Ats,
    TestId,
    ApplicationId,
    CallbackUrl,
    ProfileUrl,
    CredentialSealed,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AtsCallbacks {
    Table,
    Seq,
    Id,
    OrgId,
    InviteId,
    Ats,
    Progress,
    Detail,
    HappenedAt,
    Status,
    AttemptCount,
    NextAttemptAt,
    LastResponseStatus,
    LastError,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AtsConnections {
    Table,
    OrgId,
    Ats,
    ApiKeySealed,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CohortMembers {
    Table,
    State,
}

#[derive(DeriveIden)]
enum AtsErrors {
    Table,
    Id,
    OrgId,
    Ats,
    ApiCall,
    InviteId,
    Report,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for AtsPartners {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AtsInterviews::Table)
                .col(uuid(AtsInterviews::InviteId).primary_key())
                .col(uuid(AtsInterviews::OrgId))
                .col(text(AtsInterviews::Ats))
                .col(text(AtsInterviews::TestId))
                .col(text(AtsInterviews::ApplicationId))
                .col(text(AtsInterviews::CallbackUrl))
                .col(text(AtsInterviews::ProfileUrl))
                .col(text_null(AtsInterviews::CredentialSealed))
                .col(timestamp_with_time_zone(AtsInterviews::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AtsCallbacks::Table)
                // The order written, from the database: an invite's calls go in this order.
                .col(
                    big_integer(AtsCallbacks::Seq)
                        .primary_key()
                        .auto_increment(),
                )
                .col(uuid(AtsCallbacks::Id).unique_key())
                .col(uuid(AtsCallbacks::OrgId))
                .col(uuid(AtsCallbacks::InviteId))
                .col(text(AtsCallbacks::Ats))
                .col(text(AtsCallbacks::Progress))
                .col(text(AtsCallbacks::Detail))
                .col(timestamp_with_time_zone(AtsCallbacks::HappenedAt))
                .col(text(AtsCallbacks::Status))
                .col(integer(AtsCallbacks::AttemptCount))
                .col(timestamp_with_time_zone(AtsCallbacks::NextAttemptAt))
                .col(integer_null(AtsCallbacks::LastResponseStatus))
                .col(text(AtsCallbacks::LastError))
                .col(timestamp_with_time_zone(AtsCallbacks::CreatedAt))
                .col(timestamp_with_time_zone(AtsCallbacks::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ats_callbacks_status_due")
                .table(AtsCallbacks::Table)
                .col(AtsCallbacks::Status)
                .col(AtsCallbacks::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ats_callbacks_invite")
                .table(AtsCallbacks::Table)
                .col(AtsCallbacks::InviteId)
                .col(AtsCallbacks::Seq)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AtsConnections::Table)
                .col(uuid(AtsConnections::OrgId))
                .col(text(AtsConnections::Ats))
                .col(text(AtsConnections::ApiKeySealed))
                .col(timestamp_with_time_zone(AtsConnections::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(AtsConnections::OrgId)
                        .col(AtsConnections::Ats),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AtsErrors::Table)
                .col(uuid(AtsErrors::Id).primary_key())
                .col(uuid(AtsErrors::OrgId))
                .col(text(AtsErrors::Ats))
                .col(text(AtsErrors::ApiCall))
                .col(uuid_null(AtsErrors::InviteId))
                .col(text(AtsErrors::Report))
                .col(timestamp_with_time_zone(AtsErrors::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ats_errors_org")
                .table(AtsErrors::Table)
                .col(AtsErrors::OrgId)
                .col(AtsErrors::Id)
                .to_owned(),
        )
        .await?;
        // The metrics' count of members still waiting for their invite, at every scrape.
        m.create_index(
            Index::create()
                .name("cohort_members_by_state")
                .table(CohortMembers::Table)
                .col(CohortMembers::State)
                .to_owned(),
        )
        .await
    }
}
