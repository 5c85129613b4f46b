//! Schema migrations, one set for SQLite and PostgreSQL. Run on start, or by `invite-service
//! migrate`. Never edit a migration that has shipped: add a new one.
use sea_orm_migration::prelude::*;

mod m20261122_000001_initial_schema;
mod m20261122_000002_outbox_and_derived_links;
mod m20261122_000003_cohorts_public_links_reminders;
mod m20261130_000001_cohort_email_stage;
mod m20261130_000002_invite_external_ids;
mod m20261201_000001_json_lists;
mod m20261201_000002_webhooks;
mod m20261201_000003_webhook_disabled_notices;
mod m20261201_000004_claim_by_due_time;
mod m20261202_000001_ats_partners;
mod m20261203_000001_outbox_traceparent;
mod m20261204_000001_enrollments;
mod m20261204_000002_cohort_options_json;
mod m20261205_000001_job_renewal_approval;
mod m20261205_000002_time_zones;
mod m20261205_000003_scheduled_interviews;
mod m20261206_000001_languages;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_initial_schema::InitialSchema),
            Box::new(m20261122_000002_outbox_and_derived_links::OutboxAndDerivedLinks),
            Box::new(m20261122_000003_cohorts_public_links_reminders::CohortsPublicLinksReminders),
            Box::new(m20261130_000001_cohort_email_stage::CohortEmailStage),
            Box::new(m20261130_000002_invite_external_ids::InviteExternalIds),
            Box::new(m20261201_000001_json_lists::JsonLists),
            Box::new(m20261201_000002_webhooks::Webhooks),
            Box::new(m20261201_000003_webhook_disabled_notices::WebhookDisabledNotices),
            Box::new(m20261201_000004_claim_by_due_time::ClaimByDueTime),
            Box::new(m20261202_000001_ats_partners::AtsPartners),
            Box::new(m20261203_000001_outbox_traceparent::OutboxTraceparent),
            Box::new(m20261204_000001_enrollments::EnrollmentCodes),
            Box::new(m20261204_000002_cohort_options_json::CohortOptionsJson),
            Box::new(m20261205_000001_job_renewal_approval::JobRenewalApproval),
            Box::new(m20261205_000002_time_zones::TimeZones),
            Box::new(m20261205_000003_scheduled_interviews::ScheduledInterviews),
            Box::new(m20261206_000001_languages::Languages),
        ]
    }
}
