//! Message bodies: `{"type": …, "timestamp": …, "data": {…}}`, the invite as the API returns
//! it (never its link). Field names are the API's; states are their stored words.
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    db::entities::{cohort, invite},
    domain::webhooks::WebhookEvent,
};

#[derive(Serialize)]
struct Body<'a, T: Serialize> {
    r#type: &'a str,
    timestamp: String,
    data: T,
}

pub(super) fn body(event: WebhookEvent, at: DateTime<Utc>, data: impl Serialize) -> String {
    let body = Body {
        r#type: event.name(),
        timestamp: time(at),
        data,
    };
    // Plain structs of strings and numbers: serializing them cannot fail.
    serde_json::to_string(&body).unwrap_or_default()
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn id(id: Option<Uuid>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

/// What an invite's event carries: the invite, who acted, and the event's own words.
#[derive(Serialize)]
pub(super) struct InviteData {
    invite: Invite,
    /// "key:<id>" for an API key, "candidate" for the person holding the link, "system".
    actor: String,
    detail: String,
}

impl InviteData {
    pub(super) fn new(invite: &invite::Model, actor: &str, detail: &str) -> Self {
        Self {
            invite: Invite::from(invite),
            actor: actor.into(),
            detail: detail.into(),
        }
    }
}

#[derive(Serialize)]
struct Invite {
    id: String,
    job_id: String,
    candidate_id: String,
    candidate_email: String,
    candidate_name: String,
    status: String,
    delivery_status: String,
    locked: bool,
    assignee_ids: Vec<String>,
    labels: Vec<String>,
    message: String,
    time_limit_minutes: i32,
    expire_time: Option<String>,
    open_count: i32,
    source: &'static str,
    created_by_key_id: String,
    create_time: String,
    update_time: String,
    first_open_time: Option<String>,
    start_time: Option<String>,
    submit_time: Option<String>,
    send_count: i32,
    inviter_id: String,
    last_send_time: Option<String>,
    remind_time: Option<String>,
    cohort_id: String,
    external_id: String,
}

impl From<&invite::Model> for Invite {
    fn from(row: &invite::Model) -> Self {
        Self {
            id: row.id.to_string(),
            job_id: row.job_id.to_string(),
            candidate_id: id(row.candidate_id),
            candidate_email: row.candidate_email.clone(),
            candidate_name: row.candidate_name.clone(),
            status: row.status.to_string(),
            delivery_status: row.delivery_status.to_string(),
            locked: row.locked,
            assignee_ids: row.assignee_ids.0.iter().map(Uuid::to_string).collect(),
            labels: row.labels.0.clone(),
            message: row.message.clone(),
            time_limit_minutes: row.time_limit_minutes,
            expire_time: row.expires_at.map(time),
            open_count: row.open_count,
            source: row.source.as_str(),
            created_by_key_id: id(row.created_by_key_id),
            create_time: time(row.created_at),
            update_time: time(row.updated_at),
            first_open_time: row.first_opened_at.map(time),
            start_time: row.started_at.map(time),
            submit_time: row.submitted_at.map(time),
            send_count: row.send_count,
            inviter_id: id(row.inviter_member_id),
            last_send_time: row.last_sent_at.map(time),
            remind_time: row.remind_at.map(time),
            cohort_id: id(row.cohort_id),
            external_id: row.external_id.clone().unwrap_or_default(),
        }
    }
}

/// A finished bulk invite and its counts.
#[derive(Serialize)]
pub(super) struct CohortData {
    cohort: Cohort,
}

#[derive(Serialize)]
struct Cohort {
    id: String,
    job_id: String,
    state: String,
    total: i32,
    succeeded: i32,
    failed: i32,
    emails_queued: i32,
    emails_sent: i32,
    emails_failed: i32,
    emails_suppressed: i32,
    create_time: String,
    finish_time: Option<String>,
}

impl CohortData {
    pub(super) fn new(row: &cohort::Model) -> Self {
        Self {
            cohort: Cohort {
                id: row.id.to_string(),
                job_id: row.job_id.to_string(),
                state: row.state.to_string(),
                total: row.total,
                succeeded: row.succeeded,
                failed: row.failed,
                emails_queued: row.emails_queued,
                emails_sent: row.emails_sent,
                emails_failed: row.emails_failed,
                emails_suppressed: row.emails_suppressed,
                create_time: time(row.created_at),
                finish_time: row.finished_at.map(time),
            },
        }
    }
}

/// A test message an admin asked for.
#[derive(Serialize)]
pub(super) struct PingData {
    pub endpoint_id: String,
}
