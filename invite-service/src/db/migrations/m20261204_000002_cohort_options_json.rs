use sea_orm_migration::prelude::*;

/// A cohort's options become a JSON column: JSONB on PostgreSQL, converted in place from the
/// JSON text it already holds. SQLite keeps it as text, which is how it stores JSON.
pub struct CohortOptionsJson;

impl MigrationName for CohortOptionsJson {
    fn name(&self) -> &str {
        "m20261204_000002_cohort_options_json"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CohortOptionsJson {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        m.get_connection()
            .execute_unprepared(
                "ALTER TABLE \"cohorts\" ALTER COLUMN \"options\" TYPE jsonb USING \"options\"::jsonb",
            )
            .await?;
        Ok(())
    }
}
