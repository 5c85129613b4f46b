use sea_orm_migration::prelude::*;

/// The delivery loop takes due webhook deliveries by when they fell due, through
/// `webhook_deliveries_status_due`, so the index of pending deliveries by sequence number goes:
/// walking it stepped over every pending delivery not yet due (scheduled retries, deliveries
/// held for a turned-off endpoint) on every claim, and it cost every delivery's writes.
pub struct ClaimByDueTime;

impl MigrationName for ClaimByDueTime {
    fn name(&self) -> &str {
        "m20261201_000004_claim_by_due_time"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for ClaimByDueTime {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("webhook_deliveries_pending_order")
                .table(Alias::new("webhook_deliveries"))
                .to_owned(),
        )
        .await
    }
}
