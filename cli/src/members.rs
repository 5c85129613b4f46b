//! `invitectl members`: the people of the organization, who can be assigned to invites.
use beckon_proto::invite::v1::{
    CreateMemberRequest, ListMembersRequest, Member, UpdateMemberRequest,
};
use clap::Subcommand;

use crate::{
    client::{all_pages, new_request_id, Connector},
    output::{timestamp, Format, Record},
};

#[derive(Subcommand)]
pub enum Command {
    /// Add a member.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// The member administers the organization's integrations: emailed when Beckon turns
        /// a webhook endpoint off.
        #[arg(long)]
        admin: bool,
        /// The IANA time zone the member reads times in (e.g. America/New_York); UTC if unset.
        #[arg(long, value_name = "ZONE")]
        time_zone: Option<String>,
        /// The language of the member's notifications (en, de, fr, es, pt-BR); the
        /// organization's default if unset.
        #[arg(long, value_name = "TAG")]
        locale: Option<String>,
    },
    /// List every member.
    List,
    /// Change a member: only the fields given change.
    #[command(group(clap::ArgGroup::new("changes").required(true).multiple(true)))]
    Update {
        id: String,
        #[arg(long, group = "changes")]
        name: Option<String>,
        /// Whether the member administers the organization's integrations.
        #[arg(long, value_name = "true|false", group = "changes")]
        admin: Option<bool>,
        /// The IANA time zone the member reads times in; an empty one means UTC.
        #[arg(long, value_name = "ZONE", group = "changes")]
        time_zone: Option<String>,
        /// The language of the member's notifications; an empty one means the organization's
        /// default.
        #[arg(long, value_name = "TAG", group = "changes")]
        locale: Option<String>,
    },
}

pub async fn run(command: Command, connector: &Connector, format: Format) -> anyhow::Result<()> {
    let mut client = connector.connect().await?.organization();
    match command {
        Command::Create {
            email,
            name,
            admin,
            time_zone,
            locale,
        } => {
            let request = CreateMemberRequest {
                member: Some(Member {
                    email,
                    name: name.unwrap_or_default(),
                    admin,
                    time_zone: time_zone.unwrap_or_default(),
                    locale: locale.unwrap_or_default(),
                    ..Default::default()
                }),
                request_id: new_request_id(),
            };
            let member = client.create_member(request).await?.into_inner();
            format.print_record(&record(&member))
        }
        Command::List => {
            let members = all_pages(|page_size, page_token| {
                let mut client = client.clone();
                async move {
                    let request = ListMembersRequest {
                        page_size,
                        page_token,
                    };
                    let page = client.list_members(request).await?.into_inner();
                    Ok((page.members, page.next_page_token))
                }
            })
            .await?;
            let records: Vec<Record> = members.iter().map(record).collect();
            format.print_list("members", &records, &["id", "email", "name", "admin"])
        }
        Command::Update {
            id,
            name,
            admin,
            time_zone,
            locale,
        } => {
            let mut member = Member {
                id,
                ..Default::default()
            };
            let mut paths = Vec::new();
            if let Some(name) = name {
                member.name = name;
                paths.push("name".to_string());
            }
            if let Some(admin) = admin {
                member.admin = admin;
                paths.push("admin".to_string());
            }
            if let Some(time_zone) = time_zone {
                member.time_zone = time_zone;
                paths.push("time_zone".to_string());
            }
            if let Some(locale) = locale {
                member.locale = locale;
                paths.push("locale".to_string());
            }
            let request = UpdateMemberRequest {
                member: Some(member),
                update_mask: Some(prost_types::FieldMask { paths }),
            };
            let member = client.update_member(request).await?.into_inner();
            format.print_record(&record(&member))
        }
    }
}

fn record(member: &Member) -> Record {
    Record::new("member", &member.id)
        .field("email", member.email.as_str())
        .field("name", member.name.as_str())
        .field("notify_started", member.notify_started)
        .field("notify_submitted", member.notify_submitted)
        .field("admin", member.admin)
        .field("time_zone", member.time_zone.as_str())
        .field("locale", member.locale.as_str())
        .field("create_time", timestamp(member.create_time.as_ref()))
}
