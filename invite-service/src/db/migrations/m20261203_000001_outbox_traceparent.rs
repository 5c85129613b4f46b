use sea_orm_migration::{prelude::*, schema::*};

/// An outbox row keeps the W3C `traceparent` of the request that wrote it, so the email it
/// becomes continues that request's trace in notify-service.
pub struct OutboxTraceparent;

impl MigrationName for OutboxTraceparent {
    fn name(&self) -> &str {
        "m20261203_000001_outbox_traceparent"
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Traceparent,
}

#[async_trait::async_trait]
impl MigrationTrait for OutboxTraceparent {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Outbox::Table)
                .add_column(string_null(Outbox::Traceparent))
                .to_owned(),
        )
        .await
    }
}
