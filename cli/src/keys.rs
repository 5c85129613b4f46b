//! `invitectl keys`: the organization's API keys.
use std::io::{self, Write};

use beckon_proto::invite::v1::{
    ApiKey, ApiKeyScope, CreateApiKeyRequest, CreateEnrollmentRequest, ListApiKeysRequest,
    RevokeApiKeyRequest,
};
use clap::{Subcommand, ValueEnum};
use serde_json::json;

use crate::{
    client::{all_pages, new_request_id, Connector},
    output::{enum_name, print_json, timestamp, Format, Record},
};

#[derive(Subcommand)]
pub enum Command {
    /// Create a key and print its secret, which is shown only now.
    Create {
        /// What the key is for, e.g. "ATS integration".
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        scope: Scope,
    },
    /// Make a one-time enrolment link for a member's browser extension: pasted into the
    /// extension's options, it becomes a `links` key of that member, so nobody handles a key.
    Enroll {
        /// The member whose extension it connects (`invitectl members list`).
        #[arg(long)]
        member: String,
        /// The key's name [default: "Browser extension"].
        #[arg(long)]
        name: Option<String>,
        /// How long the link works, 1 to 168 hours.
        #[arg(long, default_value_t = 72)]
        valid_hours: i32,
    },
    /// List every key, revoked ones included.
    List,
    /// Revoke a key; calls made with it fail from now on.
    Revoke { id: String },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Scope {
    /// Everything, including members and keys.
    Admin,
    /// Jobs, candidates and invites.
    Invites,
    /// Read open jobs, create and read invites: what the browser extension needs.
    Links,
    /// For an applicant tracking system (Greenhouse, Ashby) calling Beckon as an assessment
    /// partner: its `/ats/...` routes only.
    Ats,
}

impl From<Scope> for ApiKeyScope {
    fn from(scope: Scope) -> Self {
        match scope {
            Scope::Admin => ApiKeyScope::Admin,
            Scope::Invites => ApiKeyScope::Invites,
            Scope::Links => ApiKeyScope::Links,
            Scope::Ats => ApiKeyScope::Ats,
        }
    }
}

pub async fn run(command: Command, connector: &Connector, format: Format) -> anyhow::Result<()> {
    let mut client = connector.connect().await?.organization();
    match command {
        Command::Create { name, scope } => {
            let request = CreateApiKeyRequest {
                name,
                scope: ApiKeyScope::from(scope) as i32,
                request_id: new_request_id(),
                ..Default::default()
            };
            let response = client.create_api_key(request).await?.into_inner();
            let key = record(&response.api_key.unwrap_or_default());
            // On stderr, so that stdout holds only the answer.
            eprintln!("warning: the secret is shown only now; Beckon keeps only its hash. Store it safely.");
            match format {
                Format::Json => {
                    print_json(&json!({ "api_key": key.json(), "secret": response.secret }))
                }
                Format::Text => {
                    let mut out = io::stdout().lock();
                    key.write_headline(&mut out)?;
                    writeln!(out, "secret {}", response.secret)?;
                    key.write_fields(&mut out)?;
                    Ok(())
                }
            }
        }
        Command::Enroll {
            member,
            name,
            valid_hours,
        } => {
            let request = CreateEnrollmentRequest {
                member_id: member,
                key_name: name.unwrap_or_default(),
                valid_hours,
                request_id: new_request_id(),
            };
            let response = client.create_enrollment(request).await?.into_inner();
            let enrollment = response.enrollment.unwrap_or_default();
            let record = Record::new("enrollment", &enrollment.id)
                .field("url", response.url.as_str())
                .field("member_id", enrollment.member_id.as_str())
                .field("key_name", enrollment.key_name.as_str())
                .field("expire_time", timestamp(enrollment.expire_time.as_ref()));
            eprintln!("warning: the link is shown only now and works once: send it to the member privately.");
            format.print_record(&record)
        }
        Command::List => {
            let keys = all_pages(|page_size, page_token| {
                let mut client = client.clone();
                async move {
                    let request = ListApiKeysRequest {
                        page_size,
                        page_token,
                    };
                    let page = client.list_api_keys(request).await?.into_inner();
                    Ok((page.api_keys, page.next_page_token))
                }
            })
            .await?;
            let records: Vec<Record> = keys.iter().map(record).collect();
            let columns = ["id", "prefix", "scope", "revoke_time", "name"];
            format.print_list("api_keys", &records, &columns)
        }
        Command::Revoke { id } => {
            let key = client
                .revoke_api_key(RevokeApiKeyRequest { id })
                .await?
                .into_inner();
            format.print_record(&record(&key))
        }
    }
}

pub fn record(key: &ApiKey) -> Record {
    Record::new("key", &key.id)
        .field("name", key.name.as_str())
        .field("scope", scope_name(key.scope))
        .field("prefix", key.prefix.as_str())
        .field("create_time", timestamp(key.create_time.as_ref()))
        .field("revoke_time", timestamp(key.revoke_time.as_ref()))
}

pub fn scope_name(scope: i32) -> String {
    let name = ApiKeyScope::try_from(scope).ok().map(|s| s.as_str_name());
    enum_name(name, "API_KEY_SCOPE_", scope)
}
