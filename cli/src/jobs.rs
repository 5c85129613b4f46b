//! `invitectl jobs`: the positions or assessments candidates are invited to.
use beckon_proto::invite::v1::{
    CreateJobRequest, GetJobRequest, InviteDefaults, Job, JobState, ListJobsRequest,
    UpdateJobRequest,
};
use clap::{Subcommand, ValueEnum};
use prost_types::FieldMask;

use crate::{
    client::{all_pages, new_request_id, Connection},
    output::{enum_name, timestamp, Format, Record},
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

pub async fn run(command: Command, connection: &Connection, format: Format) -> anyhow::Result<()> {
    let mut client = connection.jobs();
    match command {
        Command::Create {
            title,
            assessment_url,
            expiry_days,
            time_limit_minutes,
            message,
        } => {
            let job = Job {
                title,
                assessment_url,
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
