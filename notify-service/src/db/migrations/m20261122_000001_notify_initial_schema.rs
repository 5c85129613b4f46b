use sea_orm_migration::{prelude::*, schema::*};

pub struct InitialSchema;

impl MigrationName for InitialSchema {
    fn name(&self) -> &str {
        "m20261122_000001_notify_initial_schema"
    }
}

#[derive(DeriveIden)]
enum NotifyDeliveries {
    Table,
    Id,
    IdempotencyKey,
    OrgId,
    Kind,
    Recipient,
    RecipientName,
    Variables,
    InviteId,
    CohortId,
    State,
    Attempts,
    LastError,
    MessageId,
    NextAttemptAt,
    PublishedAt,
    LeaseUntil,
    CreatedAt,
    UpdatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum NotifySuppressions {
    Table,
    Address,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NotifyTemplates {
    Table,
    OrgId,
    Kind,
    Subject,
    TextBody,
    HtmlBody,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for InitialSchema {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(NotifyDeliveries::Table)
                .col(uuid(NotifyDeliveries::Id).primary_key())
                .col(string_uniq(NotifyDeliveries::IdempotencyKey))
                .col(uuid(NotifyDeliveries::OrgId))
                .col(string(NotifyDeliveries::Kind))
                .col(string(NotifyDeliveries::Recipient))
                .col(string(NotifyDeliveries::RecipientName))
                .col(text(NotifyDeliveries::Variables))
                .col(string(NotifyDeliveries::InviteId))
                .col(string(NotifyDeliveries::CohortId))
                .col(string(NotifyDeliveries::State))
                .col(integer(NotifyDeliveries::Attempts))
                .col(text(NotifyDeliveries::LastError))
                .col(string(NotifyDeliveries::MessageId))
                .col(timestamp_with_time_zone(NotifyDeliveries::NextAttemptAt))
                .col(timestamp_with_time_zone(NotifyDeliveries::PublishedAt))
                .col(timestamp_with_time_zone_null(NotifyDeliveries::LeaseUntil))
                .col(timestamp_with_time_zone(NotifyDeliveries::CreatedAt))
                .col(timestamp_with_time_zone(NotifyDeliveries::UpdatedAt))
                .col(timestamp_with_time_zone_null(NotifyDeliveries::SentAt))
                .to_owned(),
        )
        .await?;
        for (name, column) in [
            ("notify_deliveries_org_invite", NotifyDeliveries::InviteId),
            ("notify_deliveries_org_cohort", NotifyDeliveries::CohortId),
            ("notify_deliveries_org_state", NotifyDeliveries::State),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(NotifyDeliveries::Table)
                    .col(NotifyDeliveries::OrgId)
                    .col(column)
                    .to_owned(),
            )
            .await?;
        }
        // The reconciler's scan: unfinished deliveries by when they were last published.
        m.create_index(
            Index::create()
                .name("notify_deliveries_state_published")
                .table(NotifyDeliveries::Table)
                .col(NotifyDeliveries::State)
                .col(NotifyDeliveries::PublishedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(NotifySuppressions::Table)
                .col(string(NotifySuppressions::Address).primary_key())
                .col(text(NotifySuppressions::Reason))
                .col(timestamp_with_time_zone(NotifySuppressions::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(NotifyTemplates::Table)
                .col(uuid(NotifyTemplates::OrgId))
                .col(string(NotifyTemplates::Kind))
                .col(text(NotifyTemplates::Subject))
                .col(text(NotifyTemplates::TextBody))
                .col(text(NotifyTemplates::HtmlBody))
                .col(timestamp_with_time_zone(NotifyTemplates::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(NotifyTemplates::OrgId)
                        .col(NotifyTemplates::Kind),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
