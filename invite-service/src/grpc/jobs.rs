use beckon_proto::invite::v1::{self as pb, job_service_server::JobService};
use tonic::{Request, Response, Status};

use super::{convert, mask_paths, request_id, Api};
use crate::{
    domain::{validate::*, Action, JobState},
    store::{
        jobs::{self, JobChanges, JobDefaults, NewJob},
        paging::Page,
    },
};

const MAX_EXPIRY_DAYS: u32 = 3650;
const MAX_TIME_LIMIT_MINUTES: u32 = 7 * 24 * 60;

fn defaults(v: &mut Violations, field: &str, d: Option<pb::InviteDefaults>) -> JobDefaults {
    let d = d.unwrap_or_default();
    if d.expiry_days > MAX_EXPIRY_DAYS {
        v.add(
            format!("{field}.expiry_days"),
            format!("must be at most {MAX_EXPIRY_DAYS}"),
        );
    }
    if d.time_limit_minutes > MAX_TIME_LIMIT_MINUTES {
        v.add(
            format!("{field}.time_limit_minutes"),
            format!("must be at most {MAX_TIME_LIMIT_MINUTES}"),
        );
    }
    JobDefaults {
        expiry_days: d.expiry_days.min(MAX_EXPIRY_DAYS) as i32,
        time_limit_minutes: d.time_limit_minutes.min(MAX_TIME_LIMIT_MINUTES) as i32,
        message: v.text(&format!("{field}.message"), &d.message, MAX_MESSAGE),
    }
}

#[tonic::async_trait]
impl JobService for Api {
    async fn set_job_public_link(
        &self,
        request: Request<pb::SetJobPublicLinkRequest>,
    ) -> Result<Response<pb::SetJobPublicLinkResponse>, Status> {
        super::public::set_job_public_link(self, request).await
    }

    async fn rotate_job_public_link(
        &self,
        request: Request<pb::RotateJobPublicLinkRequest>,
    ) -> Result<Response<pb::SetJobPublicLinkResponse>, Status> {
        super::public::rotate_job_public_link(self, request).await
    }

    async fn create_job(
        &self,
        request: Request<pb::CreateJobRequest>,
    ) -> Result<Response<pb::Job>, Status> {
        self.call(request, Action::WriteJobs, |caller, req| async move {
            let mut v = Violations::new();
            let request = request_id(&mut v, &req, &req.request_id, |r| r.request_id.clear());
            let job = req.job.unwrap_or_default();
            let new = NewJob {
                title: v.required_line("job.title", &job.title, MAX_TITLE),
                state: convert::parse_job_state(&mut v, "job.state", job.state)
                    .unwrap_or(JobState::Open),
                assessment_url: v.http_url("job.assessment_url", &job.assessment_url),
                defaults: defaults(&mut v, "job.defaults", job.defaults),
                renewal_needs_approval: job.renewal_needs_approval,
                locale: v.locale("job.locale", &job.locale),
            };
            v.finish()?;
            jobs::create(&self.store, &caller, new, request)
                .await
                .map(convert::job)
        })
        .await
    }

    async fn get_job(
        &self,
        request: Request<pb::GetJobRequest>,
    ) -> Result<Response<pb::Job>, Status> {
        self.call(request, Action::ReadJobs, |caller, req| async move {
            let mut v = Violations::new();
            let id = v.id("id", &req.id);
            v.finish()?;
            jobs::get(&self.store, &caller, id).await.map(convert::job)
        })
        .await
    }

    async fn list_jobs(
        &self,
        request: Request<pb::ListJobsRequest>,
    ) -> Result<Response<pb::ListJobsResponse>, Status> {
        self.call(request, Action::ReadJobs, |caller, req| async move {
            let mut v = Violations::new();
            let state = convert::parse_job_state(&mut v, "state", req.state);
            let page = Page::parse(
                &mut v,
                req.page_size,
                &req.page_token,
                format!("jobs|{state:?}"),
            );
            v.finish()?;
            let (rows, next_page_token) = jobs::list(&self.store, &caller, state, &page).await?;
            Ok(pb::ListJobsResponse {
                jobs: rows.into_iter().map(convert::job).collect(),
                next_page_token,
            })
        })
        .await
    }

    async fn update_job(
        &self,
        request: Request<pb::UpdateJobRequest>,
    ) -> Result<Response<pb::Job>, Status> {
        self.call(request, Action::WriteJobs, |caller, req| async move {
            let mut v = Violations::new();
            let job = req.job.unwrap_or_default();
            let id = v.id("job.id", &job.id);
            let paths = mask_paths(
                &mut v,
                req.update_mask,
                &[
                    "title",
                    "state",
                    "assessment_url",
                    "defaults",
                    "renewal_needs_approval",
                    "locale",
                ],
                || {
                    let mut populated = Vec::new();
                    if !job.title.is_empty() {
                        populated.push("title");
                    }
                    if job.state != 0 {
                        populated.push("state");
                    }
                    if !job.assessment_url.is_empty() {
                        populated.push("assessment_url");
                    }
                    if job.defaults.is_some() {
                        populated.push("defaults");
                    }
                    if job.renewal_needs_approval {
                        populated.push("renewal_needs_approval");
                    }
                    if !job.locale.is_empty() {
                        populated.push("locale");
                    }
                    populated
                },
            );
            let has = |p: &str| paths.iter().any(|path| path == p);
            let mut changes = JobChanges::default();
            if has("title") {
                changes.title = Some(v.required_line("job.title", &job.title, MAX_TITLE));
            }
            if has("state") {
                changes.state = convert::parse_job_state(&mut v, "job.state", job.state);
                if changes.state.is_none() {
                    v.add("job.state", "must be OPEN or CLOSED");
                }
            }
            if has("assessment_url") {
                changes.assessment_url =
                    Some(v.http_url("job.assessment_url", &job.assessment_url));
            }
            if has("defaults") {
                changes.defaults = Some(defaults(&mut v, "job.defaults", job.defaults.clone()));
            }
            if has("renewal_needs_approval") {
                changes.renewal_needs_approval = Some(job.renewal_needs_approval);
            }
            if has("locale") {
                changes.locale = Some(v.locale("job.locale", &job.locale));
            }
            if paths.is_empty() {
                v.add("update_mask", "names no field to update");
            }
            v.finish()?;
            jobs::update(&self.store, &caller, id, changes)
                .await
                .map(convert::job)
        })
        .await
    }
}
