//! Rows to protobuf messages, and protobuf enums to domain ones.
use beckon_proto::invite::v1 as pb;
use chrono::{DateTime, Utc};
use prost_types::Timestamp;
use uuid::Uuid;

use crate::{
    db::entities::{
        api_key, candidate, invite, invite_event, job, member, organization, webhook_attempt,
        webhook_endpoint,
    },
    domain::{
        validate::Violations, DeliveryStatus, InviteStatus, JobState, Scope, WebhookDeliveryStatus,
    },
    store::webhooks::delivery::EndpointMessage,
    webhooks::message_id,
};

pub fn timestamp(at: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: at.timestamp(),
        nanos: at.timestamp_subsec_nanos() as i32,
    }
}

pub fn from_timestamp(v: &mut Violations, field: &str, ts: &Timestamp) -> Option<DateTime<Utc>> {
    let at = u32::try_from(ts.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(ts.seconds, nanos));
    if at.is_none() {
        v.add(field, "is not a valid timestamp");
    }
    at
}

pub fn job_state(state: JobState) -> pb::JobState {
    match state {
        JobState::Open => pb::JobState::Open,
        JobState::Closed => pb::JobState::Closed,
    }
}

/// A job state from the wire; `None` for UNSPECIFIED. Unknown numbers are a field violation.
pub fn parse_job_state(v: &mut Violations, field: &str, value: i32) -> Option<JobState> {
    match pb::JobState::try_from(value) {
        Ok(pb::JobState::Unspecified) => None,
        Ok(pb::JobState::Open) => Some(JobState::Open),
        Ok(pb::JobState::Closed) => Some(JobState::Closed),
        Err(_) => {
            v.add(field, format!("{value} is not a JobState"));
            None
        }
    }
}

pub fn invite_status(status: InviteStatus) -> pb::InviteStatus {
    match status {
        InviteStatus::Created => pb::InviteStatus::Created,
        InviteStatus::Sent => pb::InviteStatus::Sent,
        InviteStatus::Opened => pb::InviteStatus::Opened,
        InviteStatus::Started => pb::InviteStatus::Started,
        InviteStatus::Submitted => pb::InviteStatus::Submitted,
        InviteStatus::Revoked => pb::InviteStatus::Revoked,
        InviteStatus::Expired => pb::InviteStatus::Expired,
    }
}

pub fn parse_invite_status(v: &mut Violations, field: &str, value: i32) -> Option<InviteStatus> {
    let status = match pb::InviteStatus::try_from(value) {
        Ok(pb::InviteStatus::Unspecified) => return None,
        Ok(pb::InviteStatus::Created) => InviteStatus::Created,
        Ok(pb::InviteStatus::Sent) => InviteStatus::Sent,
        Ok(pb::InviteStatus::Opened) => InviteStatus::Opened,
        Ok(pb::InviteStatus::Started) => InviteStatus::Started,
        Ok(pb::InviteStatus::Submitted) => InviteStatus::Submitted,
        Ok(pb::InviteStatus::Revoked) => InviteStatus::Revoked,
        Ok(pb::InviteStatus::Expired) => InviteStatus::Expired,
        Err(_) => {
            v.add(field, format!("{value} is not an InviteStatus"));
            return None;
        }
    };
    Some(status)
}

pub fn delivery_status(status: DeliveryStatus) -> pb::DeliveryStatus {
    match status {
        DeliveryStatus::NotRequested => pb::DeliveryStatus::NotRequested,
        DeliveryStatus::Queued => pb::DeliveryStatus::Queued,
        DeliveryStatus::Sent => pb::DeliveryStatus::Sent,
        DeliveryStatus::Deferred => pb::DeliveryStatus::Deferred,
        DeliveryStatus::Failed => pb::DeliveryStatus::Failed,
        DeliveryStatus::Suppressed => pb::DeliveryStatus::Suppressed,
    }
}

pub fn scope(scope: Scope) -> pb::ApiKeyScope {
    match scope {
        Scope::Admin => pb::ApiKeyScope::Admin,
        Scope::Invites => pb::ApiKeyScope::Invites,
        Scope::Links => pb::ApiKeyScope::Links,
        Scope::Ats => pb::ApiKeyScope::Ats,
    }
}

pub fn parse_scope(v: &mut Violations, field: &str, value: i32) -> Option<Scope> {
    match pb::ApiKeyScope::try_from(value) {
        Ok(pb::ApiKeyScope::Admin) => Some(Scope::Admin),
        Ok(pb::ApiKeyScope::Invites) => Some(Scope::Invites),
        Ok(pb::ApiKeyScope::Links) => Some(Scope::Links),
        Ok(pb::ApiKeyScope::Ats) => Some(Scope::Ats),
        Ok(pb::ApiKeyScope::Unspecified) => {
            v.add(field, "is required: ADMIN, INVITES, LINKS or ATS");
            None
        }
        Err(_) => {
            v.add(field, format!("{value} is not an ApiKeyScope"));
            None
        }
    }
}

pub fn job(row: job::Model) -> pb::Job {
    pb::Job {
        id: row.id.to_string(),
        title: row.title,
        state: job_state(row.state) as i32,
        assessment_url: row.assessment_url,
        defaults: Some(pb::InviteDefaults {
            expiry_days: row.default_expiry_days.max(0) as u32,
            time_limit_minutes: row.default_time_limit_minutes.max(0) as u32,
            message: row.default_message,
        }),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        public_link_enabled: row.public_link_enabled,
        renewal_needs_approval: row.renewal_needs_approval,
        locale: row.locale.unwrap_or_default(),
    }
}

pub fn organization(row: organization::Model) -> pb::Organization {
    pb::Organization {
        id: row.id.to_string(),
        name: row.name,
        default_locale: row.default_locale,
    }
}

pub fn candidate(row: candidate::Model) -> pb::Candidate {
    pb::Candidate {
        id: row.id.to_string(),
        email: row.email,
        name: row.name,
        external_id: row.external_id,
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
    }
}

pub fn invite(row: invite::Model) -> pb::Invite {
    pb::Invite {
        id: row.id.to_string(),
        job_id: row.job_id.to_string(),
        candidate_id: row
            .candidate_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        candidate_email: row.candidate_email,
        candidate_name: row.candidate_name,
        status: invite_status(row.status) as i32,
        delivery_status: delivery_status(row.delivery_status) as i32,
        locked: row.locked,
        assignee_ids: row.assignee_ids.0.iter().map(Uuid::to_string).collect(),
        labels: row.labels.0,
        message: row.message,
        time_limit_minutes: row.time_limit_minutes.max(0) as u32,
        expire_time: row.expires_at.map(timestamp),
        open_count: row.open_count.max(0) as u32,
        source: row.source.as_str().into(),
        created_by_key_id: row
            .created_by_key_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
        first_open_time: row.first_opened_at.map(timestamp),
        start_time: row.started_at.map(timestamp),
        submit_time: row.submitted_at.map(timestamp),
        send_count: row.send_count.max(0) as u32,
        inviter_id: row
            .inviter_member_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        last_send_time: row.last_sent_at.map(timestamp),
        remind_time: row.remind_at.map(timestamp),
        cohort_id: row.cohort_id.map(|id| id.to_string()).unwrap_or_default(),
        external_id: row.external_id.unwrap_or_default(),
        time_zone: row.time_zone.unwrap_or_default(),
        scheduled_start_time: row.scheduled_at.map(timestamp),
        duration_minutes: row.duration_minutes.map_or(0, |m| m.max(0) as u32),
        locale: row.locale.unwrap_or_default(),
    }
}

pub fn event(row: invite_event::Model) -> pb::InviteEvent {
    pb::InviteEvent {
        id: row.id.to_string(),
        invite_id: row.invite_id.to_string(),
        kind: row.kind.to_string(),
        actor: row.actor,
        detail: row.detail,
        create_time: Some(timestamp(row.created_at)),
    }
}

pub fn member(row: member::Model) -> pb::Member {
    pb::Member {
        id: row.id.to_string(),
        email: row.email,
        name: row.name,
        notify_started: row.notify_started,
        notify_submitted: row.notify_submitted,
        admin: row.admin,
        create_time: Some(timestamp(row.created_at)),
        time_zone: row.time_zone.unwrap_or_default(),
        locale: row.locale.unwrap_or_default(),
    }
}

pub fn api_key(row: api_key::Model) -> pb::ApiKey {
    pb::ApiKey {
        id: row.id.to_string(),
        name: row.name,
        scope: scope(row.scope) as i32,
        prefix: row.prefix,
        create_time: Some(timestamp(row.created_at)),
        revoke_time: row.revoked_at.map(timestamp),
        member_id: row
            .owner_member_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
    }
}

pub fn webhook_endpoint(row: webhook_endpoint::Model) -> pb::WebhookEndpoint {
    pb::WebhookEndpoint {
        id: row.id.to_string(),
        url: row.url,
        description: row.description,
        event_types: row.event_types.0,
        enabled: row.enabled,
        disabled_reason: row.disabled_reason,
        rate_limit: row.rate_limit,
        failing_since: row.failing_since.map(timestamp),
        previous_secret_expire_time: row.previous_secret_until.map(timestamp),
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
    }
}

pub fn webhook_message(sent: EndpointMessage) -> pb::WebhookMessage {
    let EndpointMessage { delivery, message } = sent;
    let status = match delivery.status {
        WebhookDeliveryStatus::Pending => pb::WebhookMessageStatus::Pending,
        WebhookDeliveryStatus::Delivered => pb::WebhookMessageStatus::Delivered,
        WebhookDeliveryStatus::Failed => pb::WebhookMessageStatus::Failed,
    };
    pb::WebhookMessage {
        id: message_id(message.id),
        endpoint_id: delivery.endpoint_id.to_string(),
        event_type: message.event_type,
        invite_id: message
            .invite_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        status: status as i32,
        attempt_count: delivery.attempt_count.max(0) as u32,
        next_attempt_time: (delivery.status == WebhookDeliveryStatus::Pending)
            .then(|| timestamp(delivery.next_attempt_at)),
        payload: message.payload,
        create_time: Some(timestamp(message.created_at)),
    }
}

pub fn webhook_attempt(row: webhook_attempt::Model) -> pb::WebhookAttempt {
    pb::WebhookAttempt {
        id: row.id.to_string(),
        message_id: message_id(row.message_id),
        endpoint_id: row.endpoint_id.to_string(),
        attempt_time: Some(timestamp(row.attempted_at)),
        response_status: row.response_status.max(0) as u32,
        response_excerpt: row.response_excerpt,
        error: row.error,
        latency_ms: row.latency_ms.max(0) as u32,
        succeeded: row.succeeded,
    }
}
