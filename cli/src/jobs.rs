//! `invitectl jobs`: the positions or assessments candidates are invited to.
use std::io::{self, Write};

use beckon_proto::invite::v1::{
    CreateJobRequest, GetJobRequest, InviteDefaults, Job, JobState, ListJobsRequest,
    RotateJobPublicLinkRequest, SetJobPublicLinkRequest, UpdateJobRequest,
};
use clap::{Subcommand, ValueEnum};
use prost_types::FieldMask;
use serde_json::json;

use crate::{
    client::{all_pages, new_request_id, Connector},
    output::{enum_name, print_json, timestamp, Format, Record},
    qr,
};

#[derive(Subcommand)]
pub enum Command {
    /// Create a job; its id is printed first.
    Create {
        /// 1 to 200 characters.
        #[arg(long)]
        title: String,
        /// Where a candidate is sent on pressing Start: an absolute http(s) URL.
        #[arg(long, value_name = "URL")]
        assessment_url: String,
        /// Days until a new invite's link expires; 0 means links do not expire.
        #[arg(long, value_name = "DAYS", default_value_t = 0)]
        expiry_days: u32,
        /// Minutes a candidate has once started; 0 means no limit.
        #[arg(long, value_name = "MINUTES", default_value_t = 0)]
        time_limit_minutes: u32,
        /// Included in invite emails unless an invite sets its own.
        #[arg(long)]
        message: Option<String>,
        /// A candidate whose link expired and who asks for a new one waits for the team
        /// (`invites renew`) instead of getting it at once.
        #[arg(long)]
        renewal_needs_approval: bool,
        /// The language of its candidates' emails and pages when an invite sets none (en, de,
        /// fr, es, pt-BR); the organization's default if unset.
        #[arg(long, value_name = "TAG")]
        locale: Option<String>,
    },
    /// List jobs, all of them unless --state is given.
    List {
        #[arg(long, value_enum)]
        state: Option<State>,
    },
    /// Show one job.
    Show { id: String },
    /// Stop the job accepting new invites; existing links keep working.
    Close { id: String },
    /// Let the job accept new invites again.
    Open { id: String },
    /// Whether a candidate asking for a new link from an expired one waits for the team
    /// (`invites renew`): `on`, or `off` (the new link is emailed at once).
    RenewalApproval {
        #[arg(value_enum)]
        setting: Switch,
        id: String,
    },
    /// Set the language of the job's candidate emails and pages (en, de, fr, es, pt-BR); an
    /// empty one ("") means the organization's default.
    Locale { id: String, tag: String },
    /// Turn the job's public registration link on or off, or replace it (`rotate`: the old URL
    /// stops working). The URL is printed when the link is made or rotated, and only then.
    Public {
        #[arg(value_enum)]
        action: PublicAction,
        id: String,
        /// Also print a new URL as a QR code, e.g. for a poster.
        #[arg(long)]
        qr: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PublicAction {
    /// Turn the link on, making one if the job has none.
    On,
    /// Turn the link off; turning it on again makes the same URL work again.
    Off,
    /// Replace the link with a new one; the old URL stops working.
    Rotate,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Switch {
    On,
    Off,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum State {
    Open,
    Closed,
}

impl From<State> for JobState {
    fn from(state: State) -> Self {
        match state {
            State::Open => JobState::Open,
            State::Closed => JobState::Closed,
        }
    }
}

pub async fn run(command: Command, connector: &Connector, format: Format) -> anyhow::Result<()> {
    let mut client = connector.connect().await?.jobs();
    match command {
        Command::Create {
            title,
            assessment_url,
            expiry_days,
            time_limit_minutes,
            message,
            renewal_needs_approval,
            locale,
        } => {
            let job = Job {
                title,
                assessment_url,
                renewal_needs_approval,
                locale: locale.unwrap_or_default(),
                defaults: Some(InviteDefaults {
                    expiry_days,
                    time_limit_minutes,
                    message: message.unwrap_or_default(),
                }),
                ..Default::default()
            };
            let request = CreateJobRequest {
                job: Some(job),
                request_id: new_request_id(),
            };
            let job = client.create_job(request).await?.into_inner();
            format.print_record(&record(&job))
        }
        Command::List { state } => {
            let state = state.map_or(JobState::Unspecified, JobState::from) as i32;
            let jobs = all_pages(|page_size, page_token| {
                let mut client = client.clone();
                async move {
                    let request = ListJobsRequest {
                        page_size,
                        page_token,
                        state,
                    };
                    let page = client.list_jobs(request).await?.into_inner();
                    Ok((page.jobs, page.next_page_token))
                }
            })
            .await?;
            let records: Vec<Record> = jobs.iter().map(record).collect();
            format.print_list("jobs", &records, &["id", "state", "title"])
        }
        Command::Show { id } => {
            let job = client.get_job(GetJobRequest { id }).await?.into_inner();
            format.print_record(&record(&job))
        }
        Command::Close { id } => {
            let job = client
                .update_job(set_state(id, JobState::Closed))
                .await?
                .into_inner();
            format.print_record(&record(&job))
        }
        Command::Open { id } => {
            let job = client
                .update_job(set_state(id, JobState::Open))
                .await?
                .into_inner();
            format.print_record(&record(&job))
        }
        Command::RenewalApproval { setting, id } => {
            let request = UpdateJobRequest {
                job: Some(Job {
                    id,
                    renewal_needs_approval: matches!(setting, Switch::On),
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["renewal_needs_approval".into()],
                }),
            };
            let job = client.update_job(request).await?.into_inner();
            format.print_record(&record(&job))
        }
        Command::Locale { id, tag } => {
            let request = UpdateJobRequest {
                job: Some(Job {
                    id,
                    locale: tag,
                    ..Default::default()
                }),
                update_mask: Some(FieldMask {
                    paths: vec!["locale".into()],
                }),
            };
            let job = client.update_job(request).await?.into_inner();
            format.print_record(&record(&job))
        }
        Command::Public { action, id, qr } => {
            let response = match action {
                PublicAction::On | PublicAction::Off => {
                    let enabled = matches!(action, PublicAction::On);
                    let request = SetJobPublicLinkRequest {
                        job_id: id,
                        enabled,
                    };
                    client.set_job_public_link(request).await?.into_inner()
                }
                PublicAction::Rotate => {
                    let request = RotateJobPublicLinkRequest { job_id: id };
                    client.rotate_job_public_link(request).await?.into_inner()
                }
            };
            let job = response.job.unwrap_or_default();
            print_public(format, &job, &response.public_url, qr)
        }
    }
}

/// A job with its public URL, if one was just made: `job <id>` then `public_url <url>` in
/// text, like an invite and its link.
fn print_public(format: Format, job: &Job, public_url: &str, with_qr: bool) -> anyhow::Result<()> {
    let record = record(job);
    let code = match (with_qr, public_url) {
        (true, url) if !url.is_empty() => Some(qr::encode(url)?),
        _ => None,
    };
    if job.public_link_enabled && public_url.is_empty() {
        // On stderr: a note for the person, not part of the answer.
        eprintln!(
            "note: the public link is on; its URL was shown only when it was made. \
             `invitectl jobs public rotate {}` makes a new one (the old one stops working).",
            job.id
        );
    }
    match format {
        Format::Json => {
            let mut answer = json!({ "job": record.json(), "public_url": public_url });
            if let Some(code) = &code {
                answer["qr"] = qr::to_text(code, false).into();
            }
            print_json(&answer)
        }
        Format::Text => {
            {
                let mut out = io::stdout().lock();
                record.write_headline(&mut out)?;
                if !public_url.is_empty() {
                    writeln!(out, "public_url {public_url}")?;
                }
                record.write_fields(&mut out)?;
            }
            match &code {
                Some(code) => qr::print(public_url, code, format),
                None => Ok(()),
            }
        }
    }
}

/// Changes only the state: the mask keeps the other, unset fields from being cleared.
fn set_state(id: String, state: JobState) -> UpdateJobRequest {
    UpdateJobRequest {
        job: Some(Job {
            id,
            state: state as i32,
            ..Default::default()
        }),
        update_mask: Some(FieldMask {
            paths: vec!["state".into()],
        }),
    }
}

fn record(job: &Job) -> Record {
    let defaults = job.defaults.clone().unwrap_or_default();
    Record::new("job", &job.id)
        .field("title", job.title.as_str())
        .field("state", state_name(job.state))
        .field("assessment_url", job.assessment_url.as_str())
        .field("public_link_enabled", job.public_link_enabled)
        .field("renewal_needs_approval", job.renewal_needs_approval)
        .field("locale", job.locale.as_str())
        .field("expiry_days", defaults.expiry_days)
        .field("time_limit_minutes", defaults.time_limit_minutes)
        .field("message", defaults.message)
        .field("create_time", timestamp(job.create_time.as_ref()))
        .field("update_time", timestamp(job.update_time.as_ref()))
}

fn state_name(state: i32) -> String {
    let name = JobState::try_from(state).ok().map(|s| s.as_str_name());
    enum_name(name, "JOB_STATE_", state)
}
