use sea_orm_migration::{prelude::*, schema::*};

/// Whether a candidate's request for a new link, from one that expired, waits for the team's
/// approval (RenewInvite) instead of being sent at once.
pub struct JobRenewalApproval;

impl MigrationName for JobRenewalApproval {
    fn name(&self) -> &str {
        "m20261205_000001_job_renewal_approval"
    }
}

#[derive(DeriveIden)]
enum Jobs {
    Table,
    RenewalNeedsApproval,
}

#[async_trait::async_trait]
impl MigrationTrait for JobRenewalApproval {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Jobs::Table)
                .add_column(boolean(Jobs::RenewalNeedsApproval).default(false))
                .to_owned(),
        )
        .await
    }
}
