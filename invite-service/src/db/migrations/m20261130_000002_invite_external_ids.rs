use sea_orm_migration::{prelude::*, schema::*};

/// Invites carry the caller's own id (an ATS application), one live invite per id.
pub struct InviteExternalIds;

impl MigrationName for InviteExternalIds {
    fn name(&self) -> &str {
        "m20261130_000002_invite_external_ids"
    }
}

#[derive(DeriveIden)]
enum InviteExternalIdAdditions {
    #[sea_orm(iden = "invites")]
    Table,
    OrgId,
    Status,
    ExternalId,
}

#[async_trait::async_trait]
impl MigrationTrait for InviteExternalIds {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(InviteExternalIdAdditions::Table)
                .add_column(string_null(InviteExternalIdAdditions::ExternalId))
                .to_owned(),
        )
        .await?;
        // One live invite per external id and organization, held by the database so that
        // concurrent creates cannot both win. Revoked and expired invites never come back to
        // life, so their ids are free again. The statuses are spelled out: this migration must
        // not change if the code's names do.
        m.create_index(
            Index::create()
                .name("invites_live_external_id")
                .table(InviteExternalIdAdditions::Table)
                .col(InviteExternalIdAdditions::OrgId)
                .col(InviteExternalIdAdditions::ExternalId)
                .unique()
                .and_where(Expr::col(InviteExternalIdAdditions::ExternalId).is_not_null())
                .and_where(
                    Expr::col(InviteExternalIdAdditions::Status).is_not_in(["revoked", "expired"]),
                )
                .to_owned(),
        )
        .await?;
        // Lookups and list filters, which also see dead invites.
        m.create_index(
            Index::create()
                .name("invites_org_external_id")
                .table(InviteExternalIdAdditions::Table)
                .col(InviteExternalIdAdditions::OrgId)
                .col(InviteExternalIdAdditions::ExternalId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
