use sea_orm_migration::{prelude::*, schema::*};

use super::m20261122_000001_initial_schema::org_fk;

/// One-time enrolment codes: an admin makes one for a member, and the browser extension trades
/// it once, before it expires, for a `links` key of that member. Only the code's hash is kept.
pub struct EnrollmentCodes;

impl MigrationName for EnrollmentCodes {
    fn name(&self) -> &str {
        "m20261204_000001_enrollments"
    }
}

#[derive(DeriveIden)]
enum Enrollments {
    Table,
    Id,
    OrgId,
    MemberId,
    CodeHash,
    KeyName,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    RedeemedAt,
    ApiKeyId,
}

#[async_trait::async_trait]
impl MigrationTrait for EnrollmentCodes {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Enrollments::Table)
                .col(uuid(Enrollments::Id).primary_key())
                .col(uuid(Enrollments::OrgId))
                .col(uuid(Enrollments::MemberId))
                .col(string_uniq(Enrollments::CodeHash))
                .col(string(Enrollments::KeyName))
                .col(string(Enrollments::CreatedBy))
                .col(timestamp_with_time_zone(Enrollments::CreatedAt))
                .col(timestamp_with_time_zone(Enrollments::ExpiresAt))
                .col(timestamp_with_time_zone_null(Enrollments::RedeemedAt))
                .col(uuid_null(Enrollments::ApiKeyId))
                .foreign_key(&mut org_fk(Enrollments::Table, Enrollments::OrgId))
                .to_owned(),
        )
        .await
    }
}
