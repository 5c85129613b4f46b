//! Rows to protobuf messages and protobuf enums to domain ones.
use beckon_i18n::Locale;
use beckon_proto::notify::v1 as pb;
use chrono::{DateTime, Utc};
use prost_types::Timestamp;
use uuid::Uuid;

use crate::{
    db::entities::delivery,
    domain::{DeliveryState, MessageKind},
    templates::TemplateSource,
};

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

pub fn from_timestamp(ts: &Timestamp) -> Option<DateTime<Utc>> {
    u32::try_from(ts.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(ts.seconds, nanos))
}

pub fn kind(value: i32) -> Option<MessageKind> {
    Some(match pb::MessageKind::try_from(value).ok()? {
        pb::MessageKind::Unspecified => return None,
        pb::MessageKind::Invite => MessageKind::Invite,
        pb::MessageKind::Resend => MessageKind::Resend,
        pb::MessageKind::TeamStarted => MessageKind::TeamStarted,
        pb::MessageKind::TeamSubmitted => MessageKind::TeamSubmitted,
        pb::MessageKind::PublicRegistration => MessageKind::PublicRegistration,
        pb::MessageKind::InviterCopy => MessageKind::InviterCopy,
        pb::MessageKind::Reminder => MessageKind::Reminder,
        pb::MessageKind::WebhookDisabled => MessageKind::WebhookDisabled,
        pb::MessageKind::TeamRenewalRequested => MessageKind::TeamRenewalRequested,
        pb::MessageKind::Rescheduled => MessageKind::Rescheduled,
        pb::MessageKind::Cancelled => MessageKind::Cancelled,
    })
}

fn kind_to_pb(kind: MessageKind) -> pb::MessageKind {
    match kind {
        MessageKind::Invite => pb::MessageKind::Invite,
        MessageKind::Resend => pb::MessageKind::Resend,
        MessageKind::TeamStarted => pb::MessageKind::TeamStarted,
        MessageKind::TeamSubmitted => pb::MessageKind::TeamSubmitted,
        MessageKind::PublicRegistration => pb::MessageKind::PublicRegistration,
        MessageKind::InviterCopy => pb::MessageKind::InviterCopy,
        MessageKind::Reminder => pb::MessageKind::Reminder,
        MessageKind::WebhookDisabled => pb::MessageKind::WebhookDisabled,
        MessageKind::TeamRenewalRequested => pb::MessageKind::TeamRenewalRequested,
        MessageKind::Rescheduled => pb::MessageKind::Rescheduled,
        MessageKind::Cancelled => pb::MessageKind::Cancelled,
    }
}

pub fn state(value: i32) -> Option<DeliveryState> {
    Some(match pb::DeliveryState::try_from(value).ok()? {
        pb::DeliveryState::Unspecified => return None,
        pb::DeliveryState::Queued => DeliveryState::Queued,
        pb::DeliveryState::Sent => DeliveryState::Sent,
        pb::DeliveryState::Deferred => DeliveryState::Deferred,
        pb::DeliveryState::Failed => DeliveryState::Failed,
        pb::DeliveryState::Suppressed => DeliveryState::Suppressed,
    })
}

fn state_to_pb(state: DeliveryState) -> pb::DeliveryState {
    match state {
        DeliveryState::Queued => pb::DeliveryState::Queued,
        DeliveryState::Sent => pb::DeliveryState::Sent,
        DeliveryState::Deferred => pb::DeliveryState::Deferred,
        DeliveryState::Failed => pb::DeliveryState::Failed,
        DeliveryState::Suppressed => pb::DeliveryState::Suppressed,
    }
}

pub fn delivery(row: delivery::Model) -> pb::Delivery {
    pb::Delivery {
        id: row.id.to_string(),
        idempotency_key: row.idempotency_key,
        organization_id: row.org_id.to_string(),
        kind: kind_to_pb(row.kind) as i32,
        recipient: row.recipient,
        state: state_to_pb(row.state) as i32,
        attempts: row.attempts.max(0) as u32,
        last_error: row.last_error,
        message_id: row.message_id,
        invite_id: row.invite_id,
        cohort_id: row.cohort_id,
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        sent_time: row.sent_at.map(timestamp),
        next_attempt_time: (!row.state.is_final()).then(|| timestamp(row.next_attempt_at)),
    }
}

pub fn template(
    org_id: Uuid,
    kind: MessageKind,
    source: TemplateSource,
    is_default: bool,
    locale: Option<Locale>,
) -> pb::Template {
    pb::Template {
        organization_id: org_id.to_string(),
        kind: kind_to_pb(kind) as i32,
        subject: source.subject,
        text_body: source.text_body,
        html_body: source.html_body,
        is_default,
        locale: locale.map_or("", Locale::tag).to_string(),
    }
}
