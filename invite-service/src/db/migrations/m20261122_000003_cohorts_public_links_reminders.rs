use sea_orm_migration::{prelude::*, schema::*};

use super::m20261122_000001_initial_schema::org_fk;

pub struct CohortsPublicLinksReminders;

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
