//! `invitectl invites`: one candidate's secret link to one job, and what happens to it.
use std::io::{self, Write};

use beckon_proto::invite::v1::{
    invite_service_client::InviteServiceClient, CompleteInviteRequest, CreateInviteRequest,
    DeliveryStatus, GetInviteRequest, Invite, InviteEvent, InviteStatus, ListInviteEventsRequest,
    ListInvitesRequest, LockInviteRequest, LookupInviteRequest, ReissueInviteRequest,
    RenewInviteRequest, ReopenInviteRequest, RescheduleInviteRequest, ResendInviteRequest,
    RevokeInviteRequest, UnlockInviteRequest,
};
use clap::{Args, Subcommand, ValueEnum};
use prost_types::Duration;
use serde_json::json;

use crate::{
    client::{all_pages, new_request_id, AuthChannel, Connector},
    output::{enum_name, print_json, timestamp, write_table, Format, Record},
    qr::{self, QrArgs},
};

const EVENT_COLUMNS: &[&str] = &["create_time", "kind", "actor", "detail"];

#[derive(Subcommand)]
pub enum Command {
    /// Create an invite and print its link, which is shown only now.
    Create {
        /// The job to invite the candidate to.
        #[arg(long = "job", value_name = "JOB_ID")]
        job_id: String,
        /// The candidate's email; required with --send-email unless --candidate is given.
        #[arg(long)]
        email: Option<String>,
        /// The candidate's name.
        #[arg(long)]
        name: Option<String>,
        /// An existing candidate to invite, instead of --email and --name.
        #[arg(long = "candidate", value_name = "CANDIDATE_ID", conflicts_with_all = ["email", "name"])]
        candidate_id: Option<String>,
        /// Your own id for the invite, e.g. the ATS application it belongs to. Only one live
        /// invite may carry it; find the invite again with `invites lookup`.
        #[arg(long)]
        external_id: Option<String>,
        #[command(flatten)]
        options: InviteOptions,
        #[command(flatten)]
        schedule: ScheduleArgs,
        /// Also print the link as a QR code, e.g. for a candidate on site to scan.
        #[arg(long)]
        qr: bool,
    },
    /// List invites, optionally only those matching every filter given.
    List {
        #[arg(long = "job", value_name = "JOB_ID")]
        job_id: Option<String>,
        #[arg(long, value_enum)]
        status: Option<Status>,
        #[arg(long)]
        label: Option<String>,
        /// The candidate's email.
        #[arg(long)]
        email: Option<String>,
        /// The external id given at create (revoked and expired invites included).
        #[arg(long)]
        external_id: Option<String>,
    },
    /// Show an invite and its audit trail.
    Show { id: String },
    /// Show the invite that carries an external id (the live one, else the newest) and its
    /// audit trail.
    Lookup {
        #[arg(value_name = "EXTERNAL_ID")]
        external_id: String,
    },
    /// Kill the link for good.
    Revoke {
        id: String,
        /// Recorded in the audit trail.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Kill the current link and print a new one for the same invite.
    Reissue {
        id: String,
        /// Email the new link to the candidate.
        #[arg(long)]
        send_email: bool,
        /// Also print the new link as a QR code.
        #[arg(long)]
        qr: bool,
    },
    /// Move a scheduled interview; the candidate is emailed the calendar update.
    Reschedule {
        id: String,
        #[command(flatten)]
        schedule: ScheduleArgs,
    },
    /// Bring an expired invite back with a new link and expiry, emailed to the candidate (what
    /// they asked for from the expired link's page, when the job wants the team to approve).
    Renew { id: String },
    /// Take a submitted invite back to started, on the same link.
    Reopen { id: String },
    /// Keep the candidate from starting until `invites unlock` (the link still opens).
    Lock { id: String },
    /// Let a locked invite be started.
    Unlock { id: String },
    /// Mark the invite submitted, as the assessment platform would.
    Complete { id: String },
    /// Email the same link to the candidate again.
    Resend { id: String },
    /// Print a link as a QR code in the terminal, or write it as a PNG or SVG image. Needs the
    /// link's URL: the server shows a link only when it is made.
    Qr(QrArgs),
}

/// A live interview's time: its emails carry a calendar invitation.
#[derive(Args)]
pub struct ScheduleArgs {
    /// When the interview starts, e.g. 2026-12-08T15:00:00+01:00.
    #[arg(long = "at", value_name = "RFC3339", value_parser = parse_time)]
    pub start: Option<prost_types::Timestamp>,
    /// How long it lasts (default 60).
    #[arg(long = "minutes", value_name = "MINUTES", requires = "start", value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub duration_minutes: Option<u32>,
}

fn parse_time(text: &str) -> Result<prost_types::Timestamp, String> {
    let at = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|err| format!("not an RFC 3339 time such as 2026-12-08T15:00:00+01:00: {err}"))?;
    Ok(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    })
}

/// What an invite is sent with: shared by `invites create` and `bulk send`.
#[derive(Args)]
pub struct InviteOptions {
    /// Email the link to the candidate; otherwise no email is sent (a single invite's link is
    /// printed, to share by hand).
    #[arg(long)]
    pub send_email: bool,
    /// Included in the email; defaults to the job's message.
    #[arg(long)]
    pub message: Option<String>,
    /// Hours until the link expires; defaults to the job's expiry.
    #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(1..))]
    pub ttl_hours: Option<u32>,
    /// The link opens, but the assessment cannot be started until `invites unlock`.
    #[arg(long)]
    pub locked: bool,
    /// A label to file the invite under; repeat for more.
    #[arg(long = "label", value_name = "LABEL")]
    pub labels: Vec<String>,
    /// A member told when the candidate starts or submits; repeat for more.
    #[arg(long = "assignee", value_name = "MEMBER_ID")]
    pub assignee_ids: Vec<String>,
    /// Email one reminder this many hours after the invite if the candidate has not started.
    #[arg(long, value_name = "HOURS", value_parser = clap::value_parser!(u32).range(1..))]
    pub remind_after_hours: Option<u32>,
    /// The candidates' IANA time zone (e.g. Europe/Berlin): the times they read are in it.
    #[arg(long, value_name = "ZONE")]
    pub time_zone: Option<String>,
    /// The candidates' language (en, de, fr, es, pt-BR): their emails and pages are in it.
    /// Unset: the job's, else the organization's default.
    #[arg(long, value_name = "TAG")]
    pub locale: Option<String>,
}

impl InviteOptions {
    pub fn ttl(&self) -> Option<Duration> {
        self.ttl_hours.map(hours)
    }

    pub fn remind_after(&self) -> Option<Duration> {
        self.remind_after_hours.map(hours)
    }
}

fn hours(hours: u32) -> Duration {
    Duration {
        seconds: i64::from(hours) * 3600,
        nanos: 0,
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Status {
    Created,
    Sent,
    Opened,
    Started,
    Submitted,
    Revoked,
    Expired,
}

impl From<Status> for InviteStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::Created => InviteStatus::Created,
            Status::Sent => InviteStatus::Sent,
            Status::Opened => InviteStatus::Opened,
            Status::Started => InviteStatus::Started,
            Status::Submitted => InviteStatus::Submitted,
            Status::Revoked => InviteStatus::Revoked,
            Status::Expired => InviteStatus::Expired,
        }
    }
}

pub async fn run(command: Command, connector: &Connector, format: Format) -> anyhow::Result<()> {
    match command {
        // Needs no server, and so no key.
        Command::Qr(args) => qr::run(args, format),
        command => call(command, connector.connect().await?.invites(), format).await,
    }
}

async fn call(
    command: Command,
    mut client: InviteServiceClient<AuthChannel>,
    format: Format,
) -> anyhow::Result<()> {
    match command {
        Command::Create {
            job_id,
            email,
            name,
            candidate_id,
            external_id,
            options,
            schedule,
            qr,
        } => {
            let request = CreateInviteRequest {
                scheduled_start_time: schedule.start,
                duration_minutes: schedule.duration_minutes.unwrap_or_default(),
                job_id,
                candidate_email: email.unwrap_or_default(),
                candidate_name: name.unwrap_or_default(),
                candidate_id: candidate_id.unwrap_or_default(),
                external_id: external_id.unwrap_or_default(),
                send_email: options.send_email,
                ttl: options.ttl(),
                remind_after: options.remind_after(),
                message: options.message.unwrap_or_default(),
                locked: options.locked,
                assignee_ids: options.assignee_ids,
                labels: options.labels,
                time_zone: options.time_zone.unwrap_or_default(),
                locale: options.locale.unwrap_or_default(),
                request_id: new_request_id(),
                ..Default::default()
            };
            let response = client.create_invite(request).await?.into_inner();
            print_with_link(
                format,
                response.invite.unwrap_or_default(),
                &response.link_url,
                qr,
            )
        }
        Command::List {
            job_id,
            status,
            label,
            email,
            external_id,
        } => {
            let status = status.map_or(InviteStatus::Unspecified, InviteStatus::from) as i32;
            let filter = ListInvitesRequest {
                job_id: job_id.unwrap_or_default(),
                status,
                label: label.unwrap_or_default(),
                candidate_email: email.unwrap_or_default(),
                external_id: external_id.unwrap_or_default(),
                ..Default::default()
            };
            let invites = all_pages(|page_size, page_token| {
                let mut client = client.clone();
                let request = ListInvitesRequest {
                    page_size,
                    page_token,
                    ..filter.clone()
                };
                async move {
                    let page = client.list_invites(request).await?.into_inner();
                    Ok((page.invites, page.next_page_token))
                }
            })
            .await?;
            let records: Vec<Record> = invites.iter().map(record).collect();
            let columns = [
                "id",
                "status",
                "delivery_status",
                "create_time",
                "candidate_email",
                "candidate_name",
                "external_id",
            ];
            format.print_list("invites", &records, &columns)
        }
        Command::Show { id } => {
            let invite = client
                .get_invite(GetInviteRequest { id })
                .await?
                .into_inner();
            show(client, format, invite).await
        }
        Command::Lookup { external_id } => {
            let invite = client
                .lookup_invite(LookupInviteRequest { external_id })
                .await?
                .into_inner();
            show(client, format, invite).await
        }
        Command::Revoke { id, reason } => {
            let request = RevokeInviteRequest {
                id,
                reason: reason.unwrap_or_default(),
            };
            let invite = client.revoke_invite(request).await?.into_inner();
            format.print_record(&record(&invite))
        }
        Command::Reissue { id, send_email, qr } => {
            let request = ReissueInviteRequest { id, send_email };
            let response = client.reissue_invite(request).await?.into_inner();
            print_with_link(
                format,
                response.invite.unwrap_or_default(),
                &response.link_url,
                qr,
            )
        }
        Command::Reschedule { id, schedule } => {
            if schedule.start.is_none() {
                anyhow::bail!("invites reschedule needs --at, the interview's new start");
            }
            let request = RescheduleInviteRequest {
                id,
                scheduled_start_time: schedule.start,
                duration_minutes: schedule.duration_minutes.unwrap_or_default(),
            };
            let invite = client.reschedule_invite(request).await?.into_inner();
            format.print_record(&record(&invite))
        }
        Command::Renew { id } => {
            let invite = client
                .renew_invite(RenewInviteRequest { id })
                .await?
                .into_inner();
            format.print_record(&record(&invite))
        }
        Command::Reopen { id } => {
            let invite = client
                .reopen_invite(ReopenInviteRequest { id })
                .await?
                .into_inner();
            format.print_record(&record(&invite))
        }
        Command::Lock { id } => {
            let invite = client
                .lock_invite(LockInviteRequest { id })
                .await?
                .into_inner();
            format.print_record(&record(&invite))
        }
        Command::Unlock { id } => {
            let invite = client
                .unlock_invite(UnlockInviteRequest { id })
                .await?
                .into_inner();
            format.print_record(&record(&invite))
        }
        Command::Complete { id } => {
            let invite = client
                .complete_invite(CompleteInviteRequest { id })
                .await?
                .into_inner();
            format.print_record(&record(&invite))
        }
        Command::Resend { id } => {
            let invite = client
                .resend_invite(ResendInviteRequest { id })
                .await?
                .into_inner();
            format.print_record(&record(&invite))
        }
        Command::Qr(args) => qr::run(args, format),
    }
}

/// An invite with its new link: `invite <id>` and `link <url>` first in text, then with `qr`
/// the link's QR code (`"qr"` in JSON).
fn print_with_link(
    format: Format,
    invite: Invite,
    link_url: &str,
    with_qr: bool,
) -> anyhow::Result<()> {
    let invite = record(&invite);
    // Encoded before printing: a failure must not leave half an answer on stdout.
    let code = with_qr.then(|| qr::encode(link_url)).transpose()?;
    match format {
        Format::Json => {
            let mut answer = json!({ "invite": invite.json(), "link_url": link_url });
            if let Some(code) = &code {
                answer["qr"] = qr::to_text(code, false).into();
            }
            print_json(&answer)
        }
        Format::Text => {
            {
                let mut out = io::stdout().lock();
                invite.write_headline(&mut out)?;
                writeln!(out, "link {link_url}")?;
                invite.write_fields(&mut out)?;
            }
            match &code {
                Some(code) => qr::print(link_url, code, format),
                None => Ok(()),
            }
        }
    }
}

/// An invite and its audit trail.
async fn show(
    client: InviteServiceClient<AuthChannel>,
    format: Format,
    invite: Invite,
) -> anyhow::Result<()> {
    let events = all_pages(|page_size, page_token| {
        let mut client = client.clone();
        let request = ListInviteEventsRequest {
            invite_id: invite.id.clone(),
            page_size,
            page_token,
        };
        async move {
            let page = client.list_invite_events(request).await?.into_inner();
            Ok((page.events, page.next_page_token))
        }
    })
    .await?;
    let invite = record(&invite);
    let events: Vec<Record> = events.iter().map(event_record).collect();
    match format {
        Format::Json => {
            let events: Vec<_> = events.iter().map(Record::json).collect();
            print_json(&json!({ "invite": invite.json(), "events": events }))
        }
        Format::Text => {
            let mut out = io::stdout().lock();
            invite.write_text(&mut out)?;
            writeln!(out)?;
            write_table(&mut out, "events", &events, EVENT_COLUMNS)?;
            Ok(())
        }
    }
}

fn record(invite: &Invite) -> Record {
    Record::new("invite", &invite.id)
        .field("job_id", invite.job_id.as_str())
        .field("candidate_id", invite.candidate_id.as_str())
        .field("candidate_email", invite.candidate_email.as_str())
        .field("candidate_name", invite.candidate_name.as_str())
        .field("external_id", invite.external_id.as_str())
        .field("time_zone", invite.time_zone.as_str())
        .field("locale", invite.locale.as_str())
        .field(
            "scheduled_start_time",
            timestamp(invite.scheduled_start_time.as_ref()),
        )
        .field("duration_minutes", invite.duration_minutes)
        .field("status", status_name(invite.status))
        .field("delivery_status", delivery_name(invite.delivery_status))
        .field("locked", invite.locked)
        .field("assignee_ids", invite.assignee_ids.clone())
        .field("labels", invite.labels.clone())
        .field("message", invite.message.as_str())
        .field("time_limit_minutes", invite.time_limit_minutes)
        .field("expire_time", timestamp(invite.expire_time.as_ref()))
        .field("open_count", invite.open_count)
        .field("send_count", invite.send_count)
        .field("source", invite.source.as_str())
        .field("created_by_key_id", invite.created_by_key_id.as_str())
        .field("inviter_id", invite.inviter_id.as_str())
        .field("cohort_id", invite.cohort_id.as_str())
        .field("remind_time", timestamp(invite.remind_time.as_ref()))
        .field("last_send_time", timestamp(invite.last_send_time.as_ref()))
        .field("create_time", timestamp(invite.create_time.as_ref()))
        .field("update_time", timestamp(invite.update_time.as_ref()))
        .field(
            "first_open_time",
            timestamp(invite.first_open_time.as_ref()),
        )
        .field("start_time", timestamp(invite.start_time.as_ref()))
        .field("submit_time", timestamp(invite.submit_time.as_ref()))
}

fn event_record(event: &InviteEvent) -> Record {
    Record::new("event", &event.id)
        .field("invite_id", event.invite_id.as_str())
        .field("kind", event.kind.as_str())
        .field("actor", event.actor.as_str())
        .field("detail", event.detail.as_str())
        .field("create_time", timestamp(event.create_time.as_ref()))
}

fn status_name(status: i32) -> String {
    let name = InviteStatus::try_from(status).ok().map(|s| s.as_str_name());
    enum_name(name, "INVITE_STATUS_", status)
}

fn delivery_name(delivery: i32) -> String {
    let name = DeliveryStatus::try_from(delivery)
        .ok()
        .map(|d| d.as_str_name());
    enum_name(name, "DELIVERY_STATUS_", delivery)
}
