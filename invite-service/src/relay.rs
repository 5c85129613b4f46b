//! The outbox relay: hands outbox rows to notify-service over gRPC and follows each delivery to
//! its final outcome, which it writes back to the invite. Rows leave the outbox only then, so a
//! restart of either service, or a notify-service that lost its data, loses nothing: the rows
//! are handed over again, and notify-service's idempotency keys keep that from sending twice.
use std::{collections::HashMap, sync::Arc, time::Duration};

use beckon_common::progress::Progress;
use beckon_proto::notify::v1::{
    self as pb, notify_service_client::NotifyServiceClient, BatchGetDeliveriesRequest,
    EnqueueMessagesRequest, OutgoingMessage,
};
use tokio::sync::watch;
use tonic::{
    metadata::{Ascii, MetadataValue},
    service::{interceptor::InterceptedService, Interceptor},
    transport::Channel,
    Code,
};
use uuid::Uuid;

use beckon_i18n::{text, Locale};

use crate::{
    db::entities::{invite, job, organization, outbox as outbox_row},
    domain::{
        time_zone::{local_time, TimeZone},
        webhooks::{DISABLED_FAILING, DISABLED_GONE},
        MessageKind, ReportedDelivery,
    },
    store::{
        outbox::{self, Subjects},
        Store,
    },
};

const BATCH: u64 = 500;

/// Adds the service token to every call.
#[derive(Clone)]
pub struct ServiceToken(Option<MetadataValue<Ascii>>);

impl Interceptor for ServiceToken {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(token) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", token.clone());
        }
        Ok(request)
    }
}

pub type Client = NotifyServiceClient<InterceptedService<Channel, ServiceToken>>;

/// A client for the configured notify-service. Connects lazily: notify-service may be down now
/// and come up later.
pub fn client(config: &crate::config::Config) -> anyhow::Result<Client> {
    let addr = config
        .notify_addr
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no notify-service address"))?;
    let channel = Channel::from_shared(addr)?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .connect_lazy();
    let token = config
        .notify_token
        .as_ref()
        .map(|t| format!("Bearer {}", t.expose()).parse())
        .transpose()
        .map_err(|_| anyhow::anyhow!("notify_token is not valid in a header"))?;
    Ok(NotifyServiceClient::with_interceptor(
        channel,
        ServiceToken(token),
    ))
}

/// Which of `emails` no mail of the organization can reach: on notify-service's suppression
/// list, or unsubscribed from the organization's mail.
pub async fn suppressed_among(
    config: &crate::config::Config,
    org_id: Uuid,
    emails: Vec<String>,
) -> anyhow::Result<std::collections::HashSet<String>> {
    let mut client = client(config)?;
    let mut suppressed = std::collections::HashSet::new();
    for chunk in emails.chunks(10_000) {
        let answer = client
            .check_suppressions(pb::CheckSuppressionsRequest {
                addresses: chunk.to_vec(),
                organization_id: org_id.to_string(),
            })
            .await?;
        suppressed.extend(answer.into_inner().suppressed);
    }
    Ok(suppressed)
}

/// Tells notify-service that the address wants no more of the organization's mail.
pub async fn unsubscribe(
    config: &crate::config::Config,
    org_id: Uuid,
    address: &str,
) -> anyhow::Result<()> {
    client(config)?
        .unsubscribe(pb::UnsubscribeRequest {
            organization_id: org_id.to_string(),
            address: address.to_string(),
        })
        .await?;
    Ok(())
}

/// What a relay round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// A full batch of work: the next round should come at once.
    pub busy: bool,
    /// Rows handed over or followed up.
    pub rows: u64,
}

pub struct Relay {
    store: Store,
    client: Client,
    interval: Duration,
    progress: Progress,
    /// Rows are read, not claimed, before they are handed over: two rounds at once in one
    /// process would hand the same rows over twice, and the slower could write an older state
    /// over a newer one. So this process runs one round at a time (the loop's, or one run now).
    one_round_at_a_time: tokio::sync::Mutex<()>,
}

impl Relay {
    pub fn new(store: Store, progress: Progress) -> anyhow::Result<Self> {
        let interval = Duration::from_millis(store.config.relay_interval_ms);
        Ok(Self {
            client: client(&store.config)?,
            store,
            interval,
            progress,
            one_round_at_a_time: tokio::sync::Mutex::new(()),
        })
    }

    /// Runs rounds until `stop`: at once after a full batch, else every `relay_interval_ms`.
    pub fn spawn(self: Arc<Self>, mut stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while !*stop.borrow() {
                let busy = match self.run_round().await {
                    Ok(round) => round.busy,
                    // The database watcher reports an outage once.
                    Err(err) if crate::error::is_database_unavailable(&err) => {
                        tracing::debug!(error = ?err, "outbox relay round failed; retrying");
                        false
                    }
                    Err(err) => {
                        tracing::warn!(error = ?err, "outbox relay round failed; retrying");
                        false
                    }
                };
                if !busy {
                    tokio::select! {
                        _ = tokio::time::sleep(self.interval) => {},
                        _ = stop.changed() => {},
                    }
                }
            }
        })
    }

    /// One round: hand over what is due, then look at what notify-service has. Waits for a
    /// round already running in this process to finish first.
    pub async fn run_round(&self) -> anyhow::Result<Round> {
        let _only_round = self.one_round_at_a_time.lock().await;
        let due = outbox::due(&self.store, BATCH).await?;
        let handed = due.len() as u64;
        if !due.is_empty() {
            self.hand_over(due).await?;
        }
        let accepted = outbox::accepted(&self.store, BATCH).await?;
        let followed = accepted.len() as u64;
        if !accepted.is_empty() {
            self.follow(accepted).await?;
        }
        if handed + followed > 0 {
            self.progress.advance();
        }
        Ok(Round {
            busy: handed == BATCH || followed == BATCH,
            rows: handed + followed,
        })
    }

    async fn hand_over(&self, rows: Vec<outbox_row::Model>) -> anyhow::Result<()> {
        let subjects = outbox::subjects(&self.store, &rows).await?;
        let mut sendable = Vec::with_capacity(rows.len());
        let mut messages = Vec::with_capacity(rows.len());
        for row in rows {
            match message(&subjects, &self.store, &row) {
                Ok(message) => {
                    messages.push(message);
                    sendable.push(row);
                }
                Err(why) => outbox::skip(&self.store, &row, why).await?,
            }
        }
        if messages.is_empty() {
            return Ok(());
        }
        let mut client = self.client.clone();
        match client
            .enqueue_messages(EnqueueMessagesRequest {
                messages: messages.clone(),
            })
            .await
        {
            Ok(response) => {
                for (row, delivery) in sendable.iter().zip(response.into_inner().deliveries) {
                    self.record(row, &delivery).await?;
                }
            }
            // One refused message refuses the batch: send them one by one to find it.
            Err(status) if status.code() == Code::InvalidArgument && messages.len() > 1 => {
                for (row, message) in sendable.iter().zip(messages) {
                    let mut client = self.client.clone();
                    match client
                        .enqueue_messages(EnqueueMessagesRequest {
                            messages: vec![message],
                        })
                        .await
                    {
                        Ok(response) => {
                            for delivery in response.into_inner().deliveries {
                                self.record(row, &delivery).await?;
                            }
                        }
                        Err(status) => self.refused(std::slice::from_ref(row), &status).await?,
                    }
                }
            }
            Err(status) => self.refused(&sendable, &status).await?,
        }
        Ok(())
    }

    async fn refused(
        &self,
        rows: &[outbox_row::Model],
        status: &tonic::Status,
    ) -> anyhow::Result<()> {
        if status.code() == Code::InvalidArgument {
            // Will never be accepted as it is: fail it where people can see why.
            for row in rows {
                outbox::record(&self.store, row, ReportedDelivery::Failed, status.message())
                    .await?;
            }
            return Ok(());
        }
        tracing::warn!(code = ?status.code(), message = status.message(), rows = rows.len(), "notify-service did not take the outbox rows; will retry");
        let attempts = rows.iter().map(|r| r.attempts).max().unwrap_or(0);
        let wait = chrono::Duration::milliseconds((500i64 << attempts.clamp(0, 7)).min(60_000));
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        outbox::postpone(&self.store, &ids, wait, status.message()).await?;
        Ok(())
    }

    async fn follow(&self, rows: Vec<outbox_row::Model>) -> anyhow::Result<()> {
        let keys: Vec<String> = rows.iter().map(idempotency_key).collect();
        let mut client = self.client.clone();
        let deliveries = match client
            .batch_get_deliveries(BatchGetDeliveriesRequest { ids: keys })
            .await
        {
            Ok(response) => response.into_inner().deliveries,
            Err(status) => {
                tracing::warn!(code = ?status.code(), message = status.message(), "could not ask notify-service about deliveries");
                let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
                outbox::check_later(&self.store, &ids, chrono::Duration::seconds(5)).await?;
                return Ok(());
            }
        };
        let by_key: HashMap<&str, &pb::Delivery> = deliveries
            .iter()
            .map(|d| (d.idempotency_key.as_str(), d))
            .collect();
        let (mut unchanged, mut lost) = (Vec::new(), Vec::new());
        for row in &rows {
            match by_key.get(idempotency_key(row).as_str()) {
                Some(delivery) if delivery_state(delivery) != row.delivery_state => {
                    self.record(row, delivery).await?;
                }
                Some(_) => unchanged.push(row.id),
                None => lost.push(row.id),
            }
        }
        outbox::check_later(&self.store, &unchanged, chrono::Duration::seconds(1)).await?;
        if !lost.is_empty() {
            tracing::warn!(
                count = lost.len(),
                "notify-service lost deliveries; handing them over again"
            );
            outbox::hand_over_again(&self.store, &lost).await?;
        }
        Ok(())
    }

    async fn record(&self, row: &outbox_row::Model, delivery: &pb::Delivery) -> anyhow::Result<()> {
        outbox::record(
            &self.store,
            row,
            delivery_state(delivery),
            &delivery.last_error,
        )
        .await?;
        Ok(())
    }
}

/// The key notify-service knows the row by: stable, so a row handed over twice is one message.
fn idempotency_key(row: &outbox_row::Model) -> String {
    format!("beckon-outbox-{}", row.id)
}

/// A state notify-service did not name (UNSPECIFIED, or one newer than this build) counts as
/// still queued: the row is looked at again, never closed on a guess.
fn delivery_state(delivery: &pb::Delivery) -> ReportedDelivery {
    match pb::DeliveryState::try_from(delivery.state) {
        Ok(pb::DeliveryState::Sent) => ReportedDelivery::Sent,
        Ok(pb::DeliveryState::Deferred) => ReportedDelivery::Deferred,
        Ok(pb::DeliveryState::Failed) => ReportedDelivery::Failed,
        Ok(pb::DeliveryState::Suppressed) => ReportedDelivery::Suppressed,
        Ok(pb::DeliveryState::Queued | pb::DeliveryState::Unspecified) | Err(_) => {
            ReportedDelivery::Queued
        }
    }
}

/// The message for a row, or why it must not go out.
fn message(
    subjects: &Subjects,
    store: &Store,
    row: &outbox_row::Model,
) -> Result<OutgoingMessage, &'static str> {
    let organization = subjects.organizations.get(&row.org_id);
    let organization_name = organization.map(|o| o.name.clone()).unwrap_or_default();
    let locale = reader_locale(subjects, row, organization);
    let mut variables = HashMap::from([("organization_name".to_string(), organization_name)]);
    let (invite_id, cohort_id) = match row.invite_id {
        Some(invite_id) => {
            let invite = subjects
                .invites
                .get(&invite_id)
                .ok_or("the invite is gone")?;
            invite_variables(subjects, store, row, invite, locale, &mut variables)?;
            (invite.id.to_string(), invite.cohort_id)
        }
        None => {
            let endpoint = row
                .webhook_endpoint_id
                .and_then(|id| subjects.webhook_endpoints.get(&id))
                .ok_or("the webhook endpoint is gone")?;
            variables.extend([
                ("webhook_endpoint_id".to_string(), endpoint.id.to_string()),
                ("webhook_url".to_string(), endpoint.url.clone()),
                (
                    "webhook_description".to_string(),
                    endpoint.description.clone(),
                ),
                (
                    "webhook_disabled_reason".to_string(),
                    match endpoint.disabled_reason.as_str() {
                        DISABLED_GONE => text(locale, "webhook-disabled-gone", &[]),
                        DISABLED_FAILING => text(locale, "webhook-disabled-failing", &[]),
                        other => other.to_string(),
                    },
                ),
            ]);
            (String::new(), None)
        }
    };
    let kind = match row.kind {
        MessageKind::Invite => pb::MessageKind::Invite,
        MessageKind::Resend => pb::MessageKind::Resend,
        MessageKind::PublicRegistration => pb::MessageKind::PublicRegistration,
        MessageKind::Reminder => pb::MessageKind::Reminder,
        MessageKind::TeamStarted => pb::MessageKind::TeamStarted,
        MessageKind::TeamSubmitted => pb::MessageKind::TeamSubmitted,
        MessageKind::WebhookDisabled => pb::MessageKind::WebhookDisabled,
        MessageKind::TeamRenewalRequested => pb::MessageKind::TeamRenewalRequested,
        MessageKind::Rescheduled => pb::MessageKind::Rescheduled,
        MessageKind::Cancelled => pb::MessageKind::Cancelled,
    };
    Ok(OutgoingMessage {
        idempotency_key: idempotency_key(row),
        organization_id: row.org_id.to_string(),
        kind: kind as i32,
        recipient: row.recipient.clone(),
        recipient_name: row.recipient_name.clone(),
        variables,
        not_before: None,
        invite_id,
        cohort_id: cohort_id.map(|id| id.to_string()).unwrap_or_default(),
        traceparent: row.traceparent.clone().unwrap_or_default(),
        locale: locale.tag().to_string(),
    })
}

/// The language the row's reader reads: a candidate the invite's, else the job's; a member
/// their own; else the organization's default.
fn reader_locale(
    subjects: &Subjects,
    row: &outbox_row::Model,
    organization: Option<&organization::Model>,
) -> Locale {
    let default = organization.map(|o| o.default_locale.as_str());
    let chosen = if row.kind.is_to_candidate() {
        let invite = row.invite_id.and_then(|id| subjects.invites.get(&id));
        let job = invite.and_then(|i| subjects.jobs.get(&i.job_id));
        Locale::first_of([
            invite.and_then(|i| i.locale.as_deref()),
            job.and_then(|j| j.locale.as_deref()),
            default,
        ])
    } else {
        let member = subjects
            .team_members
            .get(&(row.org_id, row.recipient.clone()));
        Locale::first_of([member.and_then(|m| m.locale.as_deref()), default])
    };
    chosen.unwrap_or(Locale::FALLBACK)
}

/// A scheduled interview's time in the candidate's zone, and, for their own emails, its
/// calendar invitation: a UID for the invite, the current SEQUENCE, a fixed title (whether it is
/// a cancellation, notify-service reads from the message's kind).
fn calendar_variables(
    store: &Store,
    row: &outbox_row::Model,
    invite: &invite::Model,
    job: &job::Model,
    locale: Locale,
    variables: &mut HashMap<String, String>,
) {
    let (Some(start), Some(minutes)) = (invite.scheduled_at, invite.duration_minutes) else {
        return;
    };
    let zone = TimeZone::from_stored(invite.time_zone.as_deref());
    variables.insert(
        "scheduled_local".to_string(),
        local_time(start, zone, locale),
    );
    variables.insert("calendar_minutes".to_string(), minutes.to_string());
    if !row.kind.is_to_candidate() {
        return;
    }
    variables.extend([
        ("calendar_uid".to_string(), store.calendar_uid(invite.id)),
        (
            "calendar_start".to_string(),
            start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        ),
        (
            "calendar_sequence".to_string(),
            invite.calendar_sequence.to_string(),
        ),
        // The event's title stays the same whichever email carries it.
        (
            "calendar_summary".to_string(),
            text(
                locale,
                "calendar-summary",
                &[("position", job.title.as_str().into())],
            ),
        ),
    ]);
}

/// The variables of a message about an invite: its candidate and job, and for the candidate's
/// own emails the link, or why it must not go out.
fn invite_variables(
    subjects: &Subjects,
    store: &Store,
    row: &outbox_row::Model,
    invite: &invite::Model,
    locale: Locale,
    variables: &mut HashMap<String, String>,
) -> Result<(), &'static str> {
    let job = subjects.jobs.get(&invite.job_id).ok_or("the job is gone")?;
    let candidate_name = if invite.candidate_name.is_empty() {
        invite.candidate_email.clone()
    } else {
        invite.candidate_name.clone()
    };
    variables.extend([
        ("candidate_name".to_string(), candidate_name),
        (
            "candidate_first_name".to_string(),
            invite
                .candidate_name
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_string(),
        ),
        ("position_title".to_string(), job.title.clone()),
    ]);
    calendar_variables(store, row, invite, job, locale, variables);
    if row.kind.is_to_candidate() {
        let inviter = invite
            .inviter_member_id
            .and_then(|id| subjects.inviters.get(&id));
        variables.extend([
            (
                "inviter_name".to_string(),
                inviter.map(|m| m.name.clone()).unwrap_or_default(),
            ),
            // The candidate's answer goes to them (the Reply-To).
            (
                "inviter_email".to_string(),
                inviter.map(|m| m.email.clone()).unwrap_or_default(),
            ),
        ]);
    }
    if row.kind == MessageKind::Cancelled {
        // The link is dead by design: the candidate is told, with no link.
        return Ok(());
    }
    if row.kind.is_to_candidate() {
        if invite.status.link_is_dead() {
            return Err("the invite was revoked or expired before its email went out");
        }
        if row.link_generation != invite.link_generation {
            return Err("the link was reissued before this email went out");
        }
        variables.insert(
            "link".to_string(),
            store.link_url(invite.id, row.link_generation),
        );
        variables.insert("custom_message".to_string(), invite.message.clone());
        // In the candidate's own time zone, named, with its offset.
        if let Some(expires_at) = invite.expires_at {
            let zone = TimeZone::from_stored(invite.time_zone.as_deref());
            variables.insert(
                "link_expires".to_string(),
                local_time(expires_at, zone, locale),
            );
        }
        // Mail sent in bulk carries a way to stop it (List-Unsubscribe, RFC 8058).
        if invite.cohort_id.is_some() {
            variables.insert(
                "unsubscribe_url".to_string(),
                store.unsubscribe_url(invite.id),
            );
        }
    } else {
        // When it happened, in the member's own time zone.
        let member = subjects
            .team_members
            .get(&(row.org_id, row.recipient.clone()));
        let zone = member.and_then(|m| TimeZone::from_stored(m.time_zone.as_deref()));
        variables.insert(
            "event_time".to_string(),
            local_time(row.created_at, zone, locale),
        );
        if row.kind == MessageKind::TeamRenewalRequested {
            // What the team acts on.
            variables.insert("invite_id".to_string(), invite.id.to_string());
        }
    }
    Ok(())
}
