use sea_orm_migration::prelude::*;

/// Invites' assignees and labels, and cohort members' labels, become JSON columns: JSONB on
/// PostgreSQL, converted in place from the JSON text they already hold. SQLite keeps them as
/// text, which is how it stores JSON: its rows stay readable as they are.
pub struct JsonLists;

impl MigrationName for JsonLists {
    fn name(&self) -> &str {
        "m20261201_000001_json_lists"
    }
}

/// (table, column) of every list stored as JSON. Spelled out: this migration must not change if
/// the code's names do.
const LISTS: &[(&str, &str)] = &[
    ("invites", "assignee_ids"),
    ("invites", "labels"),
    ("cohort_members", "labels"),
];

#[async_trait::async_trait]
impl MigrationTrait for JsonLists {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        for (table, column) in LISTS {
            m.get_connection()
                .execute_unprepared(&format!(
                    "ALTER TABLE \"{table}\" ALTER COLUMN \"{column}\" TYPE jsonb \
                     USING \"{column}\"::jsonb"
                ))
                .await?;
        }
        Ok(())
    }
}
