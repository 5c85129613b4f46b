use sea_orm_migration::{prelude::*, schema::*};

/// A live interview's time: when it starts and for how long, and the iCalendar SEQUENCE its
/// calendar invitations carry (raised on every reschedule, reissue and cancellation).
pub struct ScheduledInterviews;

impl MigrationName for ScheduledInterviews {
    fn name(&self) -> &str {
        "m20261205_000003_scheduled_interviews"
    }
}

#[derive(DeriveIden)]
enum Invites {
    Table,
    ScheduledAt,
    DurationMinutes,
    CalendarSequence,
}

#[async_trait::async_trait]
impl MigrationTrait for ScheduledInterviews {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            timestamp_with_time_zone_null(Invites::ScheduledAt),
            integer_null(Invites::DurationMinutes),
            integer(Invites::CalendarSequence).default(0).to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Invites::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
