//! `invitectl org`: the organization itself: its name and the language everything falls back to.
use beckon_proto::invite::v1::{GetOrganizationRequest, Organization, UpdateOrganizationRequest};
use clap::Subcommand;

use crate::{
    client::Connector,
    output::{Format, Record},
};

#[derive(Subcommand)]
pub enum Command {
    /// Show the organization.
    Show,
    /// Change the organization: only the fields given change (admin keys only).
    #[command(group(clap::ArgGroup::new("changes").required(true).multiple(true)))]
    Update {
        #[arg(long, group = "changes")]
        name: Option<String>,
        /// The language of candidate emails, pages and team notifications when the invite,
        /// the job or the member sets none: en, de, fr, es or pt-BR (or a regional variant).
        #[arg(long, value_name = "TAG", group = "changes")]
        default_locale: Option<String>,
    },
}

pub async fn run(command: Command, connector: &Connector, format: Format) -> anyhow::Result<()> {
    let mut client = connector.connect().await?.organization();
    let organization = match command {
        Command::Show => client
            .get_organization(GetOrganizationRequest {})
            .await?
            .into_inner(),
        Command::Update {
            name,
            default_locale,
        } => {
            let mut organization = Organization::default();
            let mut paths = Vec::new();
            if let Some(name) = name {
                organization.name = name;
                paths.push("name".to_string());
            }
            if let Some(default_locale) = default_locale {
                organization.default_locale = default_locale;
                paths.push("default_locale".to_string());
            }
            let request = UpdateOrganizationRequest {
                organization: Some(organization),
                update_mask: Some(prost_types::FieldMask { paths }),
            };
            client.update_organization(request).await?.into_inner()
        }
    };
    format.print_record(&record(&organization))
}

fn record(organization: &Organization) -> Record {
    Record::new("organization", &organization.id)
        .field("name", organization.name.as_str())
        .field("default_locale", organization.default_locale.as_str())
}
