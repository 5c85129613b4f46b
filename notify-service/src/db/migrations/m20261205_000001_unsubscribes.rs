use sea_orm_migration::{prelude::*, schema::*};

/// Addresses that asked an organization for no more mail (List-Unsubscribe): unlike a bounce,
/// which suppresses an address for everyone, one organization's unsubscribe is its own.
pub struct Unsubscribes;

impl MigrationName for Unsubscribes {
    fn name(&self) -> &str {
        "m20261205_000001_unsubscribes"
    }
}

#[derive(DeriveIden)]
enum NotifyUnsubscribes {
    Table,
    OrgId,
    Address,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Unsubscribes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(NotifyUnsubscribes::Table)
                .col(uuid(NotifyUnsubscribes::OrgId))
                .col(string(NotifyUnsubscribes::Address))
                .col(timestamp_with_time_zone(NotifyUnsubscribes::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(NotifyUnsubscribes::OrgId)
                        .col(NotifyUnsubscribes::Address),
                )
                .to_owned(),
        )
        .await
    }
}
