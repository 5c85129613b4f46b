use sea_orm_migration::{prelude::*, schema::*};

/// Languages (BCP 47 tags of shipped locales): an invite's candidate's, a job's, a member's
/// (for the team's notifications), and an organization's default, where every chain ends; a
/// cohort row's own language and time zone.
pub struct Languages;

impl MigrationName for Languages {
    fn name(&self) -> &str {
        "m20261206_000001_languages"
    }
}

#[derive(DeriveIden)]
enum Invites {
    Table,
    Locale,
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Locale,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Locale,
}

#[derive(DeriveIden)]
enum CohortMembers {
    Table,
    Locale,
    TimeZone,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    DefaultLocale,
}

#[async_trait::async_trait]
impl MigrationTrait for Languages {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Invites::Table)
                .add_column(string_null(Invites::Locale))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Jobs::Table)
                .add_column(string_null(Jobs::Locale))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Members::Table)
                .add_column(string_null(Members::Locale))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Organizations::Table)
                .add_column(string(Organizations::DefaultLocale).default("en"))
                .to_owned(),
        )
        .await?;
        // One column per statement: SQLite adds one at a time.
        for column in [CohortMembers::Locale, CohortMembers::TimeZone] {
            m.alter_table(
                Table::alter()
                    .table(CohortMembers::Table)
                    .add_column(string_null(column))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
