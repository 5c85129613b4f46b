//! `invitectl ats`: Beckon as an applicant tracking system's assessment partner. The ATS calls
//! Beckon with a key of the `ats` scope (`invitectl keys create --scope ats`); these commands
//! set the organization's key for calling the ATS back, and show what the ATS reported.
use std::io::{self, BufRead};

use beckon_proto::invite::v1::{
    Ats as WireAts, AtsCallback, AtsConnection, GetAtsConnectionRequest, ListAtsCallbacksRequest,
    ListAtsErrorsRequest, RetryAtsCallbackRequest, SetAtsApiKeyRequest, WebhookMessageStatus,
};
use clap::{Subcommand, ValueEnum};

use crate::{
    client::Connector,
    error::CliError,
    output::{enum_name, timestamp, Format, Record},
    webhooks::{message_status_name, MessageStatus},
};

#[derive(Subcommand)]
pub enum Command {
    /// Set the organization's key for the ATS's API, read from standard input (one line), so it
    /// stays out of the shell's history. For Ashby: a key with the candidatesWrite permission.
    SetKey {
        #[arg(value_enum)]
        ats: Ats,
        /// Remove the key instead.
        #[arg(long)]
        clear: bool,
    },
    /// Whether the organization has a key for the ATS's API, and since when.
    Show {
        #[arg(value_enum)]
        ats: Ats,
    },
    /// Beckon's calls back to the ATS, newest first: taken, or waiting and why.
    Callbacks {
        /// Only this invite's.
        #[arg(long)]
        invite: Option<String>,
        #[arg(long, value_enum)]
        status: Option<MessageStatus>,
        /// How many, at most 1000.
        #[arg(long, default_value_t = 100)]
        limit: i32,
    },
    /// Try a pending call back again now, on a fresh retry schedule.
    Retry { id: String },
    /// Errors the ATS reported about Beckon's answers, newest first.
    Errors {
        /// How many, at most 1000.
        #[arg(long, default_value_t = 100)]
        limit: i32,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Ats {
    Greenhouse,
    Ashby,
}

impl From<Ats> for WireAts {
    fn from(ats: Ats) -> Self {
        match ats {
            Ats::Greenhouse => WireAts::Greenhouse,
            Ats::Ashby => WireAts::Ashby,
        }
    }
}

pub async fn run(command: Command, connector: &Connector, format: Format) -> anyhow::Result<()> {
    match command {
        Command::SetKey { ats, clear } => {
            // Local input first, then the call.
            let api_key = if clear {
                String::new()
            } else {
                let mut line = String::new();
                io::stdin().lock().read_line(&mut line)?;
                let key = line.trim().to_string();
                if key.is_empty() {
                    return Err(CliError::Usage(
                        "standard input is empty: give the key on it, or --clear to remove it"
                            .into(),
                    )
                    .into());
                }
                key
            };
            let request = SetAtsApiKeyRequest {
                ats: WireAts::from(ats) as i32,
                api_key,
            };
            let mut client = connector.connect().await?.ats();
            let connection = client.set_ats_api_key(request).await?.into_inner();
            format.print_record(&record(&connection))
        }
        Command::Show { ats } => {
            let request = GetAtsConnectionRequest {
                ats: WireAts::from(ats) as i32,
            };
            let mut client = connector.connect().await?.ats();
            let connection = client.get_ats_connection(request).await?.into_inner();
            format.print_record(&record(&connection))
        }
        Command::Callbacks {
            invite,
            status,
            limit,
        } => {
            let request = ListAtsCallbacksRequest {
                invite_id: invite.unwrap_or_default(),
                status: status.map_or(0, |s| WebhookMessageStatus::from(s) as i32),
                page_size: limit,
            };
            let mut client = connector.connect().await?.ats();
            let callbacks = client
                .list_ats_callbacks(request)
                .await?
                .into_inner()
                .callbacks;
            let records: Vec<Record> = callbacks.iter().map(callback_record).collect();
            let columns = [
                "id",
                "create_time",
                "ats",
                "invite_id",
                "status",
                "attempt_count",
                "last_response_status",
                "last_error",
            ];
            format.print_list("callbacks", &records, &columns)
        }
        Command::Retry { id } => {
            let mut client = connector.connect().await?.ats();
            let callback = client
                .retry_ats_callback(RetryAtsCallbackRequest { id })
                .await?
                .into_inner();
            format.print_record(&callback_record(&callback))
        }
        Command::Errors { limit } => {
            let request = ListAtsErrorsRequest { page_size: limit };
            let mut client = connector.connect().await?.ats();
            let errors = client.list_ats_errors(request).await?.into_inner().errors;
            let records: Vec<Record> = errors
                .iter()
                .map(|e| {
                    Record::new("ats_error", &e.id)
                        .field("ats", ats_name(e.ats))
                        .field("api_call", e.api_call.as_str())
                        .field("invite_id", e.invite_id.as_str())
                        .field("create_time", timestamp(e.create_time.as_ref()))
                        .field("report", e.report.as_str())
                })
                .collect();
            let columns = [
                "id",
                "create_time",
                "ats",
                "api_call",
                "invite_id",
                "report",
            ];
            format.print_list("errors", &records, &columns)
        }
    }
}

fn ats_name(ats: i32) -> String {
    let name = WireAts::try_from(ats).ok().map(|a| a.as_str_name());
    enum_name(name, "ATS_", ats)
}

fn callback_record(callback: &AtsCallback) -> Record {
    Record::new("ats_callback", &callback.id)
        .field("ats", ats_name(callback.ats))
        .field("invite_id", callback.invite_id.as_str())
        .field("status", message_status_name(callback.status))
        .field("attempt_count", callback.attempt_count)
        .field("last_response_status", callback.last_response_status)
        .field("last_error", callback.last_error.as_str())
        .field("create_time", timestamp(callback.create_time.as_ref()))
        .field(
            "next_attempt_time",
            timestamp(callback.next_attempt_time.as_ref()),
        )
}

fn record(connection: &AtsConnection) -> Record {
    Record::new("ats", &ats_name(connection.ats))
        .field("api_key_set", connection.api_key_set)
        .field("update_time", timestamp(connection.update_time.as_ref()))
}
