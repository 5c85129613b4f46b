//! notify-service's migrations, tracked in their own table so that notify-service can share a
//! database with invite-service.
use sea_orm_migration::prelude::*;

mod m20261122_000001_notify_initial_schema;
mod m20261203_000001_delivery_traceparent;
mod m20261205_000001_unsubscribes;
mod m20261206_000001_languages;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_notify_initial_schema::InitialSchema),
            Box::new(m20261203_000001_delivery_traceparent::DeliveryTraceparent),
            Box::new(m20261205_000001_unsubscribes::Unsubscribes),
            Box::new(m20261206_000001_languages::Languages),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("notify_migrations").into_iden()
    }
}
