use sea_orm_migration::{prelude::*, schema::*};

/// Messages in the reader's language: a delivery keeps the locale it is rendered in (retries
/// read alike), and an organization's template is per language (`''`: for every language
/// without one of its own, which is what the templates written before were). The old
/// `notify_templates` stays for replicas of the previous version during a rolling upgrade.
/// Each step can run again: SQLite runs a migration outside a transaction.
pub struct Languages;

impl MigrationName for Languages {
    fn name(&self) -> &str {
        "m20261206_000001_languages"
    }
}

#[derive(DeriveIden)]
enum NotifyDeliveries {
    Table,
    Locale,
}

#[derive(DeriveIden)]
enum NotifyLanguageTemplates {
    Table,
    OrgId,
    Kind,
    Locale,
    Subject,
    TextBody,
    HtmlBody,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Languages {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !m.has_column("notify_deliveries", "locale").await? {
            m.alter_table(
                Table::alter()
                    .table(NotifyDeliveries::Table)
                    .add_column(string(NotifyDeliveries::Locale).default("en"))
                    .to_owned(),
            )
            .await?;
        }
        // A new primary key: a new table (SQLite cannot change a key in place).
        m.create_table(
            Table::create()
                .table(NotifyLanguageTemplates::Table)
                .if_not_exists()
                .col(uuid(NotifyLanguageTemplates::OrgId))
                .col(string(NotifyLanguageTemplates::Kind))
                .col(string(NotifyLanguageTemplates::Locale))
                .col(text(NotifyLanguageTemplates::Subject))
                .col(text(NotifyLanguageTemplates::TextBody))
                .col(text(NotifyLanguageTemplates::HtmlBody))
                .col(timestamp_with_time_zone(NotifyLanguageTemplates::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(NotifyLanguageTemplates::OrgId)
                        .col(NotifyLanguageTemplates::Kind)
                        .col(NotifyLanguageTemplates::Locale),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO notify_language_templates \
                 (org_id, kind, locale, subject, text_body, html_body, updated_at) \
                 SELECT org_id, kind, '', subject, text_body, html_body, updated_at \
                 FROM notify_templates WHERE true ON CONFLICT DO NOTHING",
            )
            .await?;
        Ok(())
    }
}
