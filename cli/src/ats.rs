//! `invitectl ats`: Beckon as an applicant tracking system's assessment partner. The ATS calls
//! Beckon with a key of the `ats` scope (`invitectl keys create --scope ats`); these commands
//! set the organization's key for calling the ATS back, and show what the ATS reported.
use std::io::{self, BufRead};

use beckon_proto::invite::v1::{
    Ats as WireAts, AtsConnection, GetAtsConnectionRequest, ListAtsErrorsRequest,
    SetAtsApiKeyRequest,
};
use clap::{Subcommand, ValueEnum};

use crate::{
    client::Connector,
    output::{enum_name, timestamp, Format, Record},
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
    let mut client = connector.connect().await?.ats();
    match command {
        Command::SetKey { ats, clear } => {
            let api_key = if clear {
                String::new()
            } else {
                let mut line = String::new();
                io::stdin().lock().read_line(&mut line)?;
                let key = line.trim().to_string();
                if key.is_empty() {
                    anyhow::bail!("no key on standard input (use --clear to remove the key)");
                }
                key
            };
            let request = SetAtsApiKeyRequest {
                ats: WireAts::from(ats) as i32,
                api_key,
            };
            let connection = client.set_ats_api_key(request).await?.into_inner();
            format.print_record(&record(&connection))
        }
        Command::Show { ats } => {
            let request = GetAtsConnectionRequest {
                ats: WireAts::from(ats) as i32,
            };
            let connection = client.get_ats_connection(request).await?.into_inner();
            format.print_record(&record(&connection))
        }
        Command::Errors { limit } => {
            let request = ListAtsErrorsRequest { page_size: limit };
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

fn record(connection: &AtsConnection) -> Record {
    Record::new("ats", &ats_name(connection.ats))
        .field("api_key_set", connection.api_key_set)
        .field("update_time", timestamp(connection.update_time.as_ref()))
}
