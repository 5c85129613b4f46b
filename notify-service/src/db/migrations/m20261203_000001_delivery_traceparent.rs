use sea_orm_migration::{prelude::*, schema::*};

/// A delivery keeps the W3C `traceparent` its sender gave, so that sending it continues the
/// sender's trace.
pub struct DeliveryTraceparent;

impl MigrationName for DeliveryTraceparent {
    fn name(&self) -> &str {
        "m20261203_000001_delivery_traceparent"
    }
}

#[derive(DeriveIden)]
enum NotifyDeliveries {
    Table,
    Traceparent,
}

#[async_trait::async_trait]
impl MigrationTrait for DeliveryTraceparent {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(NotifyDeliveries::Table)
                .add_column(string_null(NotifyDeliveries::Traceparent))
                .to_owned(),
        )
        .await
    }
}
