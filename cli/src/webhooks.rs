//! `invitectl webhooks`: endpoints that receive the organization's events as signed HTTP POSTs
//! (Standard Webhooks), their signing secrets, and the messages and attempts sent to them.
use std::{
    io::{self, Write},
    time::Duration,
};

use beckon_proto::invite::v1::{
    CreateWebhookEndpointRequest, DeleteWebhookEndpointRequest, GetWebhookEndpointRequest,
    ListWebhookAttemptsRequest, ListWebhookEndpointsRequest, ListWebhookMessagesRequest,
    ReplayFailedWebhookMessagesRequest, ReplayWebhookMessageRequest, RotateWebhookSecretRequest,
    SendWebhookPingRequest, UpdateWebhookEndpointRequest, WebhookAttempt, WebhookEndpoint,
    WebhookMessage, WebhookMessageStatus,
};
use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Subcommand, ValueEnum};
use prost_types::{FieldMask, Timestamp};
use serde_json::{json, Value};

use crate::{
    client::{all_pages, new_request_id, Connector},
    error::{self, CliError},
    output::{enum_name, print_json, timestamp, Format, Record},
};

#[derive(Subcommand)]
pub enum Command {
    /// Add an endpoint and print its signing secret, which is shown only now.
    Create {
        /// Where events are POSTed: an https URL (http only if the server allows it).
        url: String,
        /// What the endpoint is for, e.g. "ATS".
        #[arg(long)]
        description: Option<String>,
        /// An event type to send, e.g. invite.submitted; repeat it or separate with commas.
        /// Without it, every event type is sent.
        #[arg(long = "event", value_name = "TYPE", value_delimiter = ',')]
        events: Vec<String>,
        /// Deliveries per time to this endpoint, e.g. "50/second burst 50" [default: the
        /// server's]
        #[arg(long, value_name = "RATE")]
        rate: Option<String>,
        /// The idempotency key: the same create again with it makes no second endpoint
        /// [default: a new one]
        #[arg(long, value_name = "UUID", value_parser = parse_request_id)]
        request_id: Option<String>,
    },
    /// List every endpoint.
    List,
    /// Show one endpoint.
    Get { id: String },
    /// Change an endpoint: only the fields given change.
    Update {
        id: String,
        #[command(flatten)]
        changes: Changes,
    },
    /// Delete an endpoint; messages not yet delivered to it are dropped.
    Delete { id: String },
    /// Make a new signing secret and print it, shown only now.
    ///
    /// The old secret keeps signing beside the new one during the overlap (each request then
    /// carries both signatures), so receivers can be switched over without a failed delivery.
    RotateSecret {
        id: String,
        /// How long the old secret keeps signing too, e.g. 30m, 24h, 7d (at most); 0s ends it
        /// at once [default: 24h]
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        overlap: Option<Duration>,
    },
    /// Send a `ping` message to the endpoint.
    Ping { id: String },
    /// List the messages sent or due to an endpoint, newest first.
    Messages {
        id: String,
        #[arg(long, value_enum)]
        status: Option<MessageStatus>,
    },
    /// List the attempts to deliver to an endpoint, newest first.
    Attempts {
        id: String,
        /// Only the attempts of this message (msg_…).
        #[arg(long = "message", value_name = "MSG_ID")]
        message: Option<String>,
    },
    /// Send one message to the endpoint again, now, with the same webhook-id.
    Replay { id: String, message_id: String },
    /// Send again every message to the endpoint that failed, created since a time.
    ReplayFailed {
        id: String,
        /// An RFC 3339 time (2026-12-01T09:00:00Z), or how long ago, e.g. 2h or 3d.
        #[arg(long, value_name = "TIME", value_parser = parse_since)]
        since: Since,
    },
}

/// `webhooks update`'s changes: at least one.
#[derive(Args, Debug, Default)]
#[group(required = true, multiple = true)]
pub struct Changes {
    /// Where events are POSTed from now on.
    #[arg(long)]
    url: Option<String>,
    /// "" clears it.
    #[arg(long)]
    description: Option<String>,
    /// Send only these event types from now on; repeat it or separate with commas.
    #[arg(
        long = "event",
        value_name = "TYPE",
        value_delimiter = ',',
        conflicts_with = "all_events"
    )]
    events: Vec<String>,
    /// Send every event type.
    #[arg(long)]
    all_events: bool,
    /// Turn the endpoint on, e.g. after Beckon turned it off.
    #[arg(long, conflicts_with = "disable")]
    enable: bool,
    /// Turn the endpoint off: no messages are kept for it while off.
    #[arg(long)]
    disable: bool,
    /// Deliveries per time to this endpoint, e.g. "50/second burst 50".
    #[arg(long, value_name = "RATE", conflicts_with = "default_rate")]
    rate: Option<String>,
    /// Go back to the server's default rate.
    #[arg(long)]
    default_rate: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MessageStatus {
    /// Waiting for its turn or its next attempt.
    Pending,
    Delivered,
    /// Every attempt failed, or the endpoint was turned off first.
    Failed,
}

impl From<MessageStatus> for WebhookMessageStatus {
    fn from(status: MessageStatus) -> Self {
        match status {
            MessageStatus::Pending => WebhookMessageStatus::Pending,
            MessageStatus::Delivered => WebhookMessageStatus::Delivered,
            MessageStatus::Failed => WebhookMessageStatus::Failed,
        }
    }
}

/// `--since`: a time, or how long before now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Since {
    At(DateTime<Utc>),
    Ago(Duration),
}

impl Since {
    fn resolve(self, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
        match self {
            Since::At(time) => Ok(time),
            Since::Ago(ago) => chrono::Duration::from_std(ago)
                .ok()
                .and_then(|ago| now.checked_sub_signed(ago))
                .ok_or_else(|| CliError::usage("--since: that is too long ago")),
        }
    }
}

const SECRET_WARNING: &str = "warning: the signing secret is shown only now; Beckon cannot show \
     it again. Store it where your receiver can read it.";

pub async fn run(command: Command, connector: &Connector, format: Format) -> anyhow::Result<()> {
    let mut client = connector.connect().await?.webhooks();
    match command {
        Command::Create {
            url,
            description,
            events,
            rate,
            request_id,
        } => {
            let request_id = request_id.unwrap_or_else(new_request_id);
            let request = CreateWebhookEndpointRequest {
                endpoint: Some(WebhookEndpoint {
                    url,
                    description: description.unwrap_or_default(),
                    event_types: events,
                    rate_limit: rate.unwrap_or_default(),
                    ..Default::default()
                }),
                request_id: request_id.clone(),
            };
            let response = match client.create_webhook_endpoint(request).await {
                Ok(response) => response.into_inner(),
                Err(status) => {
                    if error::exit_code(status.code()) == 7 {
                        // The endpoint may have been made all the same; the same key makes sure
                        // a second try does not make another.
                        eprintln!("note: to try again safely, add --request-id {request_id}");
                    }
                    return Err(status.into());
                }
            };
            let endpoint = response.endpoint.unwrap_or_default();
            print_with_secret(format, &endpoint, &response.secret)
        }
        Command::List => {
            let endpoints = all_pages(|page_size, page_token| {
                let mut client = client.clone();
                async move {
                    let request = ListWebhookEndpointsRequest {
                        page_size,
                        page_token,
                    };
                    let page = client.list_webhook_endpoints(request).await?.into_inner();
                    Ok((page.endpoints, page.next_page_token))
                }
            })
            .await?;
            let records: Vec<Record> = endpoints.iter().map(record).collect();
            let columns = ["id", "enabled", "failing_since", "event_types", "url"];
            format.print_list("endpoints", &records, &columns)
        }
        Command::Get { id } => {
            let endpoint = client
                .get_webhook_endpoint(GetWebhookEndpointRequest { id })
                .await?
                .into_inner();
            format.print_record(&record(&endpoint))
        }
        Command::Update { id, changes } => {
            let endpoint = client
                .update_webhook_endpoint(update_request(id, changes))
                .await?
                .into_inner();
            format.print_record(&record(&endpoint))
        }
        Command::Delete { id } => {
            // Read first, so that what was deleted can be shown: the answer to a delete is
            // empty. A wrong id fails here, before anything is deleted.
            let endpoint = client
                .get_webhook_endpoint(GetWebhookEndpointRequest { id: id.clone() })
                .await?
                .into_inner();
            client
                .delete_webhook_endpoint(DeleteWebhookEndpointRequest { id })
                .await?;
            format.print_record(&record(&endpoint).field("deleted", true))
        }
        Command::RotateSecret { id, overlap } => {
            let request = RotateWebhookSecretRequest {
                id,
                overlap: overlap.map(to_proto_duration),
            };
            let response = client.rotate_webhook_secret(request).await?.into_inner();
            let endpoint = response.endpoint.unwrap_or_default();
            print_with_secret(format, &endpoint, &response.secret)
        }
        Command::Ping { id } => {
            let request = SendWebhookPingRequest { endpoint_id: id };
            let message = client.send_webhook_ping(request).await?.into_inner();
            format.print_record(&message_record(&message))
        }
        Command::Messages { id, status } => {
            let status = status.map_or(WebhookMessageStatus::Unspecified, Into::into) as i32;
            let messages = all_pages(|page_size, page_token| {
                let mut client = client.clone();
                let endpoint_id = id.clone();
                async move {
                    let request = ListWebhookMessagesRequest {
                        endpoint_id,
                        status,
                        page_size,
                        page_token,
                    };
                    let page = client.list_webhook_messages(request).await?.into_inner();
                    Ok((page.messages, page.next_page_token))
                }
            })
            .await?;
            let records: Vec<Record> = messages.iter().map(message_record).collect();
            let columns = [
                "id",
                "event_type",
                "status",
                "attempt_count",
                "next_attempt_time",
                "create_time",
            ];
            format.print_list("messages", &records, &columns)
        }
        Command::Attempts { id, message } => {
            let message_id = message.unwrap_or_default();
            let attempts = all_pages(|page_size, page_token| {
                let mut client = client.clone();
                let endpoint_id = id.clone();
                let message_id = message_id.clone();
                async move {
                    let request = ListWebhookAttemptsRequest {
                        endpoint_id,
                        message_id,
                        page_size,
                        page_token,
                    };
                    let page = client.list_webhook_attempts(request).await?.into_inner();
                    Ok((page.attempts, page.next_page_token))
                }
            })
            .await?;
            match format {
                // Everything, the whole response excerpt included.
                Format::Json => {
                    let records: Vec<Record> = attempts.iter().map(attempt_record).collect();
                    format.print_list("attempts", &records, &[])
                }
                // One short line each.
                Format::Text => {
                    let rows: Vec<Record> = attempts.iter().map(attempt_row).collect();
                    let columns = [
                        "attempt_time",
                        "message_id",
                        "status",
                        "latency",
                        "succeeded",
                        "detail",
                    ];
                    format.print_list("attempts", &rows, &columns)
                }
            }
        }
        Command::Replay { id, message_id } => {
            let request = ReplayWebhookMessageRequest {
                endpoint_id: id,
                message_id,
            };
            let message = client.replay_webhook_message(request).await?.into_inner();
            format.print_record(&message_record(&message))
        }
        Command::ReplayFailed { id, since } => {
            let since = since.resolve(Utc::now())?;
            let request = ReplayFailedWebhookMessagesRequest {
                endpoint_id: id,
                since: Some(to_proto_timestamp(since)),
            };
            let replayed = client
                .replay_failed_webhook_messages(request)
                .await?
                .into_inner()
                .replayed;
            let since = since.to_rfc3339_opts(SecondsFormat::Secs, true);
            match format {
                Format::Json => print_json(&json!({ "replayed": replayed, "since": since })),
                Format::Text => {
                    let noun = if replayed == 1 { "message" } else { "messages" };
                    println!("{replayed} failed {noun} since {since} due again");
                    Ok(())
                }
            }
        }
    }
}

/// An endpoint with its new secret: `webhook <id>` then `secret <secret>` in text, like a new
/// API key.
fn print_with_secret(
    format: Format,
    endpoint: &WebhookEndpoint,
    secret: &str,
) -> anyhow::Result<()> {
    let endpoint = record(endpoint);
    // On stderr, so that stdout holds only the answer.
    eprintln!("{SECRET_WARNING}");
    match format {
        Format::Json => print_json(&json!({ "endpoint": endpoint.json(), "secret": secret })),
        Format::Text => {
            let mut out = io::stdout().lock();
            endpoint.write_headline(&mut out)?;
            writeln!(out, "secret {secret}")?;
            endpoint.write_fields(&mut out)?;
            Ok(())
        }
    }
}

/// The request for `webhooks update`: the mask names exactly the fields given, so that the
/// others are left as they are.
fn update_request(id: String, changes: Changes) -> UpdateWebhookEndpointRequest {
    let mut endpoint = WebhookEndpoint {
        id,
        ..Default::default()
    };
    let mut paths = Vec::new();
    if let Some(url) = changes.url {
        endpoint.url = url;
        paths.push("url");
    }
    if let Some(description) = changes.description {
        endpoint.description = description;
        paths.push("description");
    }
    // Empty event types mean all of them.
    if changes.all_events || !changes.events.is_empty() {
        endpoint.event_types = changes.events;
        paths.push("event_types");
    }
    if changes.enable || changes.disable {
        endpoint.enabled = changes.enable;
        paths.push("enabled");
    }
    // An empty rate means the server's default.
    if changes.default_rate || changes.rate.is_some() {
        endpoint.rate_limit = changes.rate.unwrap_or_default();
        paths.push("rate_limit");
    }
    UpdateWebhookEndpointRequest {
        endpoint: Some(endpoint),
        update_mask: Some(FieldMask {
            paths: paths.into_iter().map(String::from).collect(),
        }),
    }
}

/// `--request-id`: a UUID, as the API's idempotency keys are.
fn parse_request_id(value: &str) -> Result<String, String> {
    uuid::Uuid::parse_str(value.trim())
        .map(|id| id.to_string())
        .map_err(|_| "must be a UUID, e.g. 0190f0f0-0000-7000-8000-000000000000".into())
}

/// A duration such as `30m`, `24h`, `7d`, `0s` or `1h30m`: whole numbers, each with a unit of
/// s, m, h or d.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let invalid = || format!("`{value}` is not a duration such as 30m, 24h, 3d or 0s");
    let text = value.trim();
    if text.is_empty() {
        return Err(invalid());
    }
    let mut seconds: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (number, after) = rest.split_at(digits);
        let mut units = after.chars();
        let unit = match units.next() {
            Some('s') => 1,
            Some('m') => 60,
            Some('h') => 3600,
            Some('d') => 86_400,
            _ => return Err(invalid()),
        };
        let number: u64 = number.parse().map_err(|_| invalid())?;
        seconds = number
            .checked_mul(unit)
            .and_then(|part| seconds.checked_add(part))
            .ok_or_else(|| format!("`{value}` is too long"))?;
        rest = units.as_str();
    }
    Ok(Duration::from_secs(seconds))
}

/// `--since`: an RFC 3339 time, or a duration meaning that long ago.
pub fn parse_since(value: &str) -> Result<Since, String> {
    let text = value.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(Since::At(time.with_timezone(&Utc)));
    }
    parse_duration(text).map(Since::Ago).map_err(|_| {
        format!(
            "`{value}` is neither an RFC 3339 time (e.g. 2026-12-01T09:00:00Z) nor a time ago \
             such as 2h or 3d"
        )
    })
}

fn to_proto_duration(duration: Duration) -> prost_types::Duration {
    prost_types::Duration {
        seconds: i64::try_from(duration.as_secs()).unwrap_or(i64::MAX),
        nanos: 0,
    }
}

fn to_proto_timestamp(time: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: time.timestamp(),
        nanos: i32::try_from(time.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn record(endpoint: &WebhookEndpoint) -> Record {
    Record::new("webhook", &endpoint.id)
        .field("url", endpoint.url.as_str())
        .field("description", endpoint.description.as_str())
        .field("enabled", endpoint.enabled)
        .field("disabled_reason", endpoint.disabled_reason.as_str())
        // Empty: every event type.
        .field("event_types", endpoint.event_types.clone())
        .field("rate_limit", endpoint.rate_limit.as_str())
        .field("failing_since", timestamp(endpoint.failing_since.as_ref()))
        .field(
            "previous_secret_expire_time",
            timestamp(endpoint.previous_secret_expire_time.as_ref()),
        )
        .field("create_time", timestamp(endpoint.create_time.as_ref()))
        .field("update_time", timestamp(endpoint.update_time.as_ref()))
}

fn message_record(message: &WebhookMessage) -> Record {
    // The body as JSON when it is JSON, so that scripts need not parse it twice.
    let payload = serde_json::from_str(&message.payload)
        .unwrap_or_else(|_| Value::String(message.payload.clone()));
    Record::new("message", &message.id)
        .field("endpoint_id", message.endpoint_id.as_str())
        .field("event_type", message.event_type.as_str())
        .field("invite_id", message.invite_id.as_str())
        .field("status", message_status_name(message.status))
        .field("attempt_count", message.attempt_count)
        .field(
            "next_attempt_time",
            timestamp(message.next_attempt_time.as_ref()),
        )
        .field("create_time", timestamp(message.create_time.as_ref()))
        .field("payload", payload)
}

fn attempt_record(attempt: &WebhookAttempt) -> Record {
    Record::new("attempt", &attempt.id)
        .field("message_id", attempt.message_id.as_str())
        .field("endpoint_id", attempt.endpoint_id.as_str())
        .field("attempt_time", timestamp(attempt.attempt_time.as_ref()))
        .field("response_status", attempt.response_status)
        .field("latency_ms", attempt.latency_ms)
        .field("succeeded", attempt.succeeded)
        .field("error", attempt.error.as_str())
        .field("response_excerpt", attempt.response_excerpt.as_str())
}

/// An attempt as a table row: no status code when there was no answer, and the error (else
/// the start of the response) shortened to one line.
fn attempt_row(attempt: &WebhookAttempt) -> Record {
    let status = match attempt.response_status {
        0 => Value::Null,
        code => code.into(),
    };
    let detail = match attempt.error.as_str() {
        "" => attempt.response_excerpt.as_str(),
        error => error,
    };
    Record::new("attempt", &attempt.id)
        .field("attempt_time", timestamp(attempt.attempt_time.as_ref()))
        .field("message_id", attempt.message_id.as_str())
        .field("status", status)
        .field("latency", format!("{} ms", attempt.latency_ms))
        .field("succeeded", attempt.succeeded)
        .field("detail", excerpt(detail, DETAIL_CHARS))
}

/// How much of an attempt's error or response a table shows.
const DETAIL_CHARS: usize = 80;

/// `text` on one line, runs of white space made one space, cut to `max` characters.
fn excerpt(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.push('\u{2026}');
    cut
}

pub fn message_status_name(status: i32) -> String {
    let name = WebhookMessageStatus::try_from(status)
        .ok()
        .map(|s| s.as_str_name());
    enum_name(name, "WEBHOOK_MESSAGE_STATUS_", status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// `webhooks …` on its own, as the real command line nests it.
    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: Command,
    }

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("webhooks").chain(args.iter().copied()))
            .map(|cli| cli.command)
    }

    fn mask(args: &[&str]) -> Vec<String> {
        match parse(&[&["update", "wh1"][..], args].concat()) {
            Ok(Command::Update { id, changes }) => {
                let request = update_request(id, changes);
                assert_eq!(request.endpoint.map(|e| e.id).as_deref(), Some("wh1"));
                request.update_mask.map(|m| m.paths).unwrap_or_default()
            }
            Ok(_) => panic!("not an update: {args:?}"),
            Err(err) => panic!("{args:?}: {err}"),
        }
    }

    #[test]
    fn durations_take_a_unit_and_may_combine() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration(" 1h30m "), Ok(Duration::from_secs(5400)));
        for bad in ["", "24", "h", "1.5h", "-1h", "1w", "1h 30m", "24hours"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(parse_duration("99999999999999999999d").is_err());
        assert!(parse_duration("999999999999999999d").is_err());
    }

    #[test]
    fn since_is_a_time_or_how_long_ago() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .map(|t| t.with_timezone(&Utc))
            .ok();
        let Some(now) = now else {
            panic!("a valid time")
        };
        let ago = |value: &str| parse_since(value).ok().and_then(|s| s.resolve(now).ok());
        assert_eq!(
            ago("2h").map(|t| t.to_rfc3339()),
            Some("2026-12-01T10:00:00+00:00".into())
        );
        assert_eq!(
            ago("3d").map(|t| t.to_rfc3339()),
            Some("2026-11-28T12:00:00+00:00".into())
        );
        assert_eq!(
            ago("2026-11-30T09:15:00+01:00").map(|t| t.to_rfc3339()),
            Some("2026-11-30T08:15:00+00:00".into())
        );
        for bad in ["yesterday", "2026-11-30", "2h ago", ""] {
            assert!(parse_since(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Since::Ago(Duration::from_secs(u64::MAX))
            .resolve(now)
            .is_err());
    }

    #[test]
    fn the_update_mask_names_exactly_the_fields_given() {
        assert_eq!(mask(&["--url", "https://a.example"]), ["url"]);
        assert_eq!(mask(&["--description", ""]), ["description"]);
        assert_eq!(
            mask(&["--event", "invite.sent,invite.submitted", "--disable"]),
            ["event_types", "enabled"]
        );
        assert_eq!(mask(&["--all-events"]), ["event_types"]);
        assert_eq!(
            mask(&["--enable", "--default-rate"]),
            ["enabled", "rate_limit"]
        );
        assert_eq!(
            mask(&[
                "--rate",
                "50/second burst 50",
                "--url",
                "https://b.example",
                "--description",
                "ATS",
            ]),
            ["url", "description", "rate_limit"]
        );
    }

    #[test]
    fn update_values_reach_the_endpoint() {
        let Ok(Command::Update { id, changes }) = parse(&[
            "update",
            "wh1",
            "--event",
            "invite.sent",
            "--event",
            "ping",
            "--enable",
            "--rate",
            "5/minute",
        ]) else {
            panic!("update did not parse")
        };
        let endpoint = update_request(id, changes).endpoint.unwrap_or_default();
        assert_eq!(endpoint.event_types, ["invite.sent", "ping"]);
        assert!(endpoint.enabled);
        assert_eq!(endpoint.rate_limit, "5/minute");

        let Ok(Command::Update { id, changes }) = parse(&["update", "wh1", "--disable"]) else {
            panic!("update did not parse")
        };
        let endpoint = update_request(id, changes).endpoint.unwrap_or_default();
        assert!(!endpoint.enabled);
    }

    #[test]
    fn an_update_needs_one_change_and_no_contradictions() {
        for args in [
            &["update", "wh1"][..],
            &["update", "wh1", "--enable", "--disable"],
            &["update", "wh1", "--event", "ping", "--all-events"],
            &["update", "wh1", "--rate", "1/second", "--default-rate"],
        ] {
            assert!(parse(args).is_err(), "{args:?} was accepted");
        }
    }

    #[test]
    fn create_checks_the_request_id_and_collects_events() {
        let Ok(Command::Create {
            events, request_id, ..
        }) = parse(&[
            "create",
            "https://hooks.example.com",
            "--event",
            "invite.sent,invite.opened",
            "--request-id",
            "0190F0F0-0000-7000-8000-000000000000",
        ])
        else {
            panic!("create did not parse")
        };
        assert_eq!(events, ["invite.sent", "invite.opened"]);
        assert_eq!(
            request_id.as_deref(),
            Some("0190f0f0-0000-7000-8000-000000000000")
        );
        assert!(parse(&["create", "https://x.example", "--request-id", "abc"]).is_err());
    }

    #[test]
    fn rotate_and_replay_failed_parse_their_times() {
        let Ok(Command::RotateSecret { overlap, .. }) =
            parse(&["rotate-secret", "wh1", "--overlap", "0s"])
        else {
            panic!("rotate-secret did not parse")
        };
        assert_eq!(overlap.map(to_proto_duration).map(|d| d.seconds), Some(0));
        assert!(matches!(
            parse(&["rotate-secret", "wh1"]),
            Ok(Command::RotateSecret { overlap: None, .. })
        ));
        assert!(parse(&["rotate-secret", "wh1", "--overlap", "soon"]).is_err());
        assert!(matches!(
            parse(&["replay-failed", "wh1", "--since", "2h"]),
            Ok(Command::ReplayFailed {
                since: Since::Ago(ago),
                ..
            }) if ago == Duration::from_secs(7200)
        ));
        assert!(parse(&["replay-failed", "wh1"]).is_err());
    }

    #[test]
    fn attempt_rows_are_short_and_show_no_status_without_an_answer() {
        let attempt = WebhookAttempt {
            id: "att1".into(),
            response_status: 0,
            error: "connection refused".into(),
            response_excerpt: "ignored".into(),
            ..Default::default()
        };
        let row = attempt_row(&attempt).json();
        assert_eq!(row["status"], Value::Null);
        assert_eq!(row["detail"], "connection refused");
        let answered = WebhookAttempt {
            response_status: 500,
            response_excerpt: format!("<html>\n  {}", "x".repeat(200)),
            ..attempt
        };
        let row = attempt_row(&WebhookAttempt {
            error: String::new(),
            ..answered
        })
        .json();
        assert_eq!(row["status"], 500);
        let detail = row["detail"].as_str().unwrap_or_default();
        assert!(detail.starts_with("<html> xx"), "{detail}");
        assert_eq!(detail.chars().count(), DETAIL_CHARS);
    }

    #[test]
    fn message_statuses_read_plainly() {
        assert_eq!(
            message_status_name(WebhookMessageStatus::Failed as i32),
            "failed"
        );
        assert_eq!(message_status_name(42), "42");
    }
}
