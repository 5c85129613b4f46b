use sea_orm_migration::{prelude::*, schema::*};

/// Webhook endpoints, the messages written with the changes they tell of (the webhook outbox),
/// their deliveries to each endpoint, and every delivery attempt.
pub struct Webhooks;

impl MigrationName for Webhooks {
    fn name(&self) -> &str {
        "m20261201_000002_webhooks"
    }
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    OrgId,
    Url,
    Description,
    EventTypes,
    Enabled,
    DisabledReason,
    RateLimit,
    SecretSealed,
    PreviousSecretSealed,
    PreviousSecretUntil,
    FailingSince,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookMessages {
    Table,
    Id,
    OrgId,
    EventType,
    InviteId,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Seq,
    MessageId,
    EndpointId,
    OrgId,
    InviteId,
    Status,
    AttemptCount,
    NextAttemptAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookAttempts {
    Table,
    Id,
    OrgId,
    EndpointId,
    MessageId,
    AttemptedAt,
    ResponseStatus,
    ResponseExcerpt,
    Error,
    LatencyMs,
    Succeeded,
}

#[async_trait::async_trait]
impl MigrationTrait for Webhooks {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WebhookEndpoints::Table)
                .col(uuid(WebhookEndpoints::Id).primary_key())
                .col(uuid(WebhookEndpoints::OrgId))
                .col(text(WebhookEndpoints::Url))
                .col(text(WebhookEndpoints::Description))
                .col(json_binary(WebhookEndpoints::EventTypes))
                .col(boolean(WebhookEndpoints::Enabled))
                .col(text(WebhookEndpoints::DisabledReason))
                .col(text(WebhookEndpoints::RateLimit))
                .col(text(WebhookEndpoints::SecretSealed))
                .col(text_null(WebhookEndpoints::PreviousSecretSealed))
                .col(timestamp_with_time_zone_null(
                    WebhookEndpoints::PreviousSecretUntil,
                ))
                .col(timestamp_with_time_zone_null(
                    WebhookEndpoints::FailingSince,
                ))
                .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhook_endpoints_org")
                .table(WebhookEndpoints::Table)
                .col(WebhookEndpoints::OrgId)
                .col(WebhookEndpoints::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookMessages::Table)
                .col(uuid(WebhookMessages::Id).primary_key())
                .col(uuid(WebhookMessages::OrgId))
                .col(text(WebhookMessages::EventType))
                .col(uuid_null(WebhookMessages::InviteId))
                .col(text(WebhookMessages::Payload))
                .col(timestamp_with_time_zone(WebhookMessages::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                // The order messages were written in: an invite's messages go out in it.
                .col(
                    big_integer(WebhookDeliveries::Seq)
                        .primary_key()
                        .auto_increment(),
                )
                .col(uuid(WebhookDeliveries::MessageId))
                .col(uuid(WebhookDeliveries::EndpointId))
                .col(uuid(WebhookDeliveries::OrgId))
                .col(uuid_null(WebhookDeliveries::InviteId))
                .col(text(WebhookDeliveries::Status))
                .col(integer(WebhookDeliveries::AttemptCount))
                .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                .col(timestamp_with_time_zone(WebhookDeliveries::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhook_deliveries_endpoint_message")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::EndpointId)
                .col(WebhookDeliveries::MessageId)
                .unique()
                .to_owned(),
        )
        .await?;
        // The delivery loop's scan: pending and due.
        m.create_index(
            Index::create()
                .name("webhook_deliveries_status_due")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        // The claim: pending deliveries oldest first, so it stops after a batch instead of
        // sorting every due one.
        m.create_index(
            Index::create()
                .name("webhook_deliveries_pending_order")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::Seq)
                .to_owned(),
        )
        .await?;
        // Whether an earlier message of the same invite still waits for the same endpoint.
        m.create_index(
            Index::create()
                .name("webhook_deliveries_invite_order")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::EndpointId)
                .col(WebhookDeliveries::InviteId)
                .col(WebhookDeliveries::Seq)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookAttempts::Table)
                .col(uuid(WebhookAttempts::Id).primary_key())
                .col(uuid(WebhookAttempts::OrgId))
                .col(uuid(WebhookAttempts::EndpointId))
                .col(uuid(WebhookAttempts::MessageId))
                .col(timestamp_with_time_zone(WebhookAttempts::AttemptedAt))
                .col(integer(WebhookAttempts::ResponseStatus))
                .col(text(WebhookAttempts::ResponseExcerpt))
                .col(text(WebhookAttempts::Error))
                .col(integer(WebhookAttempts::LatencyMs))
                .col(boolean(WebhookAttempts::Succeeded))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("webhook_attempts_endpoint")
                .table(WebhookAttempts::Table)
                .col(WebhookAttempts::EndpointId)
                .col(WebhookAttempts::Id)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
