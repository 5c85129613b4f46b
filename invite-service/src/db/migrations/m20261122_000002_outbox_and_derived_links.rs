use sea_orm_migration::{prelude::*, schema::*};

use super::m20261122_000001_initial_schema::org_fk;

pub struct OutboxAndDerivedLinks;

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
