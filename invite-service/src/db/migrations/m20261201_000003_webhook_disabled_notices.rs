use sea_orm_migration::{prelude::*, schema::*, sea_orm::TransactionTrait};

use super::m20261122_000001_initial_schema::org_fk;

/// When Beckon turns a webhook endpoint off, the organization's admins are emailed: members
/// gain an `admin` flag (set for the owners of admin keys), and an outbox row may be about an
/// endpoint instead of an invite (`invite_id` may be null, `webhook_endpoint_id` names it).
pub struct WebhookDisabledNotices;

impl MigrationName for WebhookDisabledNotices {
    fn name(&self) -> &str {
        "m20261201_000003_webhook_disabled_notices"
    }
}

#[derive(DeriveIden)]
enum Members {
    Table,
    Admin,
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
    CohortId,
    CohortRow,
    WebhookEndpointId,
}

/// The outbox's columns before this migration, in order: what the SQLite rebuild copies.
/// Spelled out: this migration must not change if the code's names do.
const OUTBOX_COLUMNS: &str = "id, org_id, invite_id, kind, recipient, recipient_name, \
     link_generation, state, delivery_state, attempts, next_attempt_at, last_error, created_at, \
     updated_at, cohort_id, cohort_row";

#[async_trait::async_trait]
impl MigrationTrait for WebhookDisabledNotices {
    async fn up(&self, outer: &SchemaManager) -> Result<(), DbErr> {
        // SQLite runs migrations outside a transaction, and this one drops a table and renames
        // another: a stop half-way must leave the schema as it was (PostgreSQL: a savepoint).
        let txn = outer.get_connection().begin().await?;
        let m = &SchemaManager::new(&txn);
        m.alter_table(
            Table::alter()
                .table(Members::Table)
                .add_column(boolean(Members::Admin).default(false))
                .to_owned(),
        )
        .await?;
        // Whoever already holds an admin key of their own administers the organization.
        m.get_connection()
            .execute_unprepared(
                "UPDATE members SET admin = TRUE WHERE id IN (SELECT owner_member_id \
                 FROM api_keys WHERE scope = 'admin' AND revoked_at IS NULL \
                 AND owner_member_id IS NOT NULL)",
            )
            .await?;

        if m.get_database_backend() == sea_orm::DbBackend::Postgres {
            let db = m.get_connection();
            db.execute_unprepared("ALTER TABLE outbox ALTER COLUMN invite_id DROP NOT NULL")
                .await?;
            db.execute_unprepared("ALTER TABLE outbox ADD COLUMN webhook_endpoint_id uuid NULL")
                .await?;
            return txn.commit().await;
        }
        // SQLite cannot drop a NOT NULL: the table is made again and its rows copied over.
        m.create_table(
            Table::create()
                .table(Alias::new("outbox_rebuilt"))
                .col(uuid(Outbox::Id).primary_key())
                .col(uuid(Outbox::OrgId))
                .col(uuid_null(Outbox::InviteId))
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
                .col(uuid_null(Outbox::CohortId))
                .col(integer_null(Outbox::CohortRow))
                .col(uuid_null(Outbox::WebhookEndpointId))
                .foreign_key(&mut org_fk(
                    Alias::new("outbox_rebuilt"),
                    Alias::new("org_id"),
                ))
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        db.execute_unprepared(&format!(
            "INSERT INTO outbox_rebuilt ({OUTBOX_COLUMNS}) SELECT {OUTBOX_COLUMNS} FROM outbox"
        ))
        .await?;
        db.execute_unprepared("DROP TABLE outbox").await?;
        db.execute_unprepared("ALTER TABLE outbox_rebuilt RENAME TO outbox")
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
        txn.commit().await
    }
}
