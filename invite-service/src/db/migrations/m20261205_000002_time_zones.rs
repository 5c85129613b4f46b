use sea_orm_migration::{prelude::*, schema::*};

/// IANA time zones: an invite's candidate's, in which the times they read are shown, and a
/// member's, for the times in the team's notifications. None: UTC.
pub struct TimeZones;

impl MigrationName for TimeZones {
    fn name(&self) -> &str {
        "m20261205_000002_time_zones"
    }
}

#[derive(DeriveIden)]
enum Invites {
    Table,
    TimeZone,
}

#[derive(DeriveIden)]
enum Members {
    Table,
    TimeZone,
}

#[async_trait::async_trait]
impl MigrationTrait for TimeZones {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Invites::Table)
                .add_column(string_null(Invites::TimeZone))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Members::Table)
                .add_column(string_null(Members::TimeZone))
                .to_owned(),
        )
        .await
    }
}
