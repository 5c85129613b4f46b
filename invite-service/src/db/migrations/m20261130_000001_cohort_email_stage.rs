use sea_orm_migration::{prelude::*, schema::*};

/// A cohort that sends email follows each member's email to its final outcome: the outbox row
/// names the member it is for, the member keeps its email's state, the cohort counts them.
pub struct CohortEmailStage;

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
