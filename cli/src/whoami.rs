//! `invitectl whoami`: which organization and key the CLI is calling as.
use std::io;

use beckon_proto::invite::v1::GetCallerRequest;
use serde_json::json;

use crate::{
    client::Connector,
    keys,
    output::{print_json, write_aligned, Format},
};

pub async fn run(connector: &Connector, format: Format) -> anyhow::Result<()> {
    let caller = connector
        .connect()
        .await?
        .organization()
        .get_caller(GetCallerRequest {})
        .await?
        .into_inner();
    let key = caller.api_key.unwrap_or_default();
    match format {
        Format::Json => print_json(&json!({
            "organization_id": caller.organization_id,
            "organization_name": caller.organization_name,
            "api_key": keys::record(&key).json(),
            "api_version": caller.api_version,
        })),
        Format::Text => {
            let lines = [
                ("organization", caller.organization_name),
                ("organization id", caller.organization_id),
                ("key", key.name),
                ("key id", key.id),
                ("scope", keys::scope_name(key.scope)),
                ("prefix", key.prefix),
                ("api version", caller.api_version),
            ]
            .map(|(label, value)| (label.to_string(), value));
            Ok(write_aligned(&mut io::stdout().lock(), "", &lines)?)
        }
    }
}
