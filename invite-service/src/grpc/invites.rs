use beckon_proto::invite::v1::{self as pb, invite_service_server::InviteService};
use tonic::{Request, Response, Status};

use super::{convert, request_id, Api};
use crate::{
    domain::{ids::JobId, validate::*, Action, InviteSource},
    error::ServiceError,
    store::{
        invite_row::Schedule,
        invites::{self, Expiry, InviteFilter, InviteeInput, NewInvite},
        now,
        paging::Page,
        renewals,
    },
};

const MAX_TIME_LIMIT_MINUTES: u32 = 7 * 24 * 60;
const MAX_REASON: usize = 500;
/// The sources a CreateInvite may name; the others are Beckon's own ways of making invites.
const SOURCES: &[InviteSource] = &[InviteSource::Api, InviteSource::Extension];
/// A scheduled interview's length when none is given.
const DEFAULT_DURATION_MINUTES: i32 = 60;

/// A live interview's start: a timestamp that reads, in the future.
fn scheduled_start(
    v: &mut Violations,
    at: &prost_types::Timestamp,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let start = convert::from_timestamp(v, "scheduled_start_time", at)?;
    if start <= now {
        v.add("scheduled_start_time", "must be in the future");
        return None;
    }
    Some(start)
}

#[tonic::async_trait]
impl InviteService for Api {
    type WatchCohortStream = super::cohorts::WatchStream;

    async fn bulk_create_invites(
        &self,
        request: Request<pb::BulkCreateInvitesRequest>,
    ) -> Result<Response<pb::BulkCreateInvitesResponse>, Status> {
        super::cohorts::bulk_create_invites(self, request).await
    }

    async fn get_cohort(
        &self,
        request: Request<pb::GetCohortRequest>,
    ) -> Result<Response<pb::CohortDetails>, Status> {
        super::cohorts::get_cohort(self, request).await
    }

    async fn list_cohorts(
        &self,
        request: Request<pb::ListCohortsRequest>,
    ) -> Result<Response<pb::ListCohortsResponse>, Status> {
        super::cohorts::list_cohorts(self, request).await
    }

    async fn watch_cohort(
        &self,
        request: Request<pb::WatchCohortRequest>,
    ) -> Result<Response<Self::WatchCohortStream>, Status> {
        super::cohorts::watch_cohort(self, request).await
    }

    async fn retry_cohort_failures(
        &self,
        request: Request<pb::RetryCohortFailuresRequest>,
    ) -> Result<Response<pb::Cohort>, Status> {
        super::cohorts::retry_cohort_failures(self, request).await
    }

    async fn create_invite(
        &self,
        request: Request<pb::CreateInviteRequest>,
    ) -> Result<Response<pb::CreateInviteResponse>, Status> {
        self.call(request, Action::CreateInvites, |caller, req| async move {
            let mut v = Violations::new();
            let request = request_id(&mut v, &req, &req.request_id, |r| r.request_id.clear());
            let job_id = v.id("job_id", &req.job_id);
            let invitee = invitee(&mut v, &req);
            let external_id = v.external_id("external_id", &req.external_id);
            let message =
                Some(v.text("message", &req.message, MAX_MESSAGE)).filter(|m| !m.is_empty());
            let at = now();
            let expiry = match (&req.expire_time, &req.ttl) {
                (Some(_), Some(_)) => {
                    v.add("ttl", "give expire_time or ttl, not both");
                    Expiry::JobDefault
                }
                (Some(ts), None) => match convert::from_timestamp(&mut v, "expire_time", ts) {
                    Some(when) => {
                        v.future_time("expire_time", when, at);
                        Expiry::At(when)
                    }
                    None => Expiry::JobDefault,
                },
                (None, Some(ttl)) => {
                    let seconds = ttl.seconds;
                    if seconds <= 0 || seconds > 10 * 365 * 24 * 3600 {
                        v.add("ttl", "must be between 1 second and 10 years");
                        Expiry::JobDefault
                    } else {
                        Expiry::At(at + chrono::Duration::seconds(seconds))
                    }
                }
                (None, None) => Expiry::JobDefault,
            };
            if req.assignee_ids.len() > MAX_ASSIGNEES {
                v.add("assignee_ids", format!("at most {MAX_ASSIGNEES}"));
            }
            let assignee_ids = req
                .assignee_ids
                .iter()
                .enumerate()
                .map(|(i, id)| v.id(&format!("assignee_ids[{i}]"), id))
                .collect();
            let labels = v.labels("labels", &req.labels);
            let remind_after = match &req.remind_after {
                None => None,
                Some(d) if d.seconds > 0 && d.seconds <= 365 * 24 * 3600 => {
                    Some(chrono::Duration::seconds(d.seconds))
                }
                Some(_) => {
                    v.add("remind_after", "must be between 1 second and a year");
                    None
                }
            };
            let inviter_member_id =
                (!req.inviter_id.trim().is_empty()).then(|| v.id("inviter_id", &req.inviter_id));
            if req.time_limit_minutes > MAX_TIME_LIMIT_MINUTES {
                v.add(
                    "time_limit_minutes",
                    format!("must be at most {MAX_TIME_LIMIT_MINUTES}"),
                );
            }
            let source = match req.source.trim() {
                "" => InviteSource::Api,
                named => SOURCES
                    .iter()
                    .copied()
                    .find(|s| s.as_str() == named)
                    .unwrap_or_else(|| {
                        let names: Vec<&str> = SOURCES.iter().map(|s| s.as_str()).collect();
                        v.add("source", format!("must be one of: {}", names.join(", ")));
                        InviteSource::Api
                    }),
            };
            let time_zone = v.time_zone("time_zone", &req.time_zone);
            let locale = v.locale("locale", &req.locale);
            let schedule = req.scheduled_start_time.as_ref().and_then(|start| {
                let start = scheduled_start(&mut v, start, at)?;
                let minutes = v.duration_minutes("duration_minutes", req.duration_minutes)?;
                Some(Schedule {
                    start,
                    duration_minutes: minutes.unwrap_or(DEFAULT_DURATION_MINUTES),
                })
            });
            if req.scheduled_start_time.is_none() && req.duration_minutes > 0 {
                v.add(
                    "duration_minutes",
                    "needs scheduled_start_time: only a scheduled interview has a length",
                );
            }
            v.finish()?;
            let new = NewInvite {
                job_id: JobId::from_uuid(job_id),
                invitee,
                external_id,
                send_email: req.send_email,
                message,
                expiry,
                locked: req.locked,
                assignee_ids,
                labels,
                time_limit_minutes: (req.time_limit_minutes > 0)
                    .then_some(req.time_limit_minutes as i32),
                source,
                inviter_member_id,
                remind_after,
                ats: None,
                time_zone,
                locale,
                schedule,
            };
            let created = invites::create(&self.store, &caller, new, request).await?;
            Ok(pb::CreateInviteResponse {
                invite: Some(convert::invite(created.invite)),
                link_url: created.link_url,
            })
        })
        .await
    }

    async fn get_invite(
        &self,
        request: Request<pb::GetInviteRequest>,
    ) -> Result<Response<pb::Invite>, Status> {
        self.call(request, Action::ReadInvites, |caller, req| async move {
            let mut v = Violations::new();
            let id = v.id("id", &req.id);
            v.finish()?;
            invites::get(&self.store, &caller, id)
                .await
                .map(convert::invite)
        })
        .await
    }

    async fn lookup_invite(
        &self,
        request: Request<pb::LookupInviteRequest>,
    ) -> Result<Response<pb::Invite>, Status> {
        self.call(request, Action::ReadInvites, |caller, req| async move {
            let mut v = Violations::new();
            let external_id = v.external_id("external_id", &req.external_id);
            v.finish()?;
            let external_id =
                external_id.ok_or_else(|| ServiceError::invalid("external_id", "is required"))?;
            invites::lookup(&self.store, &caller, &external_id)
                .await
                .map(convert::invite)
        })
        .await
    }

    async fn list_invites(
        &self,
        request: Request<pb::ListInvitesRequest>,
    ) -> Result<Response<pb::ListInvitesResponse>, Status> {
        self.call(request, Action::ReadInvites, |caller, req| async move {
            let mut v = Violations::new();
            let filter = InviteFilter {
                job_id: (!req.job_id.is_empty())
                    .then(|| JobId::from_uuid(v.id("job_id", &req.job_id))),
                status: convert::parse_invite_status(&mut v, "status", req.status),
                label: Some(v.single_line("label", &req.label, MAX_LABEL))
                    .filter(|l| !l.is_empty()),
                candidate_email: v.email("candidate_email", &req.candidate_email),
                external_id: v.external_id("external_id", &req.external_id),
            };
            let page = Page::parse(
                &mut v,
                req.page_size,
                &req.page_token,
                format!("invites|{filter:?}"),
            );
            v.finish()?;
            let (rows, next_page_token) =
                invites::list(&self.store, &caller, &filter, &page).await?;
            Ok(pb::ListInvitesResponse {
                invites: rows.into_iter().map(convert::invite).collect(),
                next_page_token,
            })
        })
        .await
    }

    async fn resend_invite(
        &self,
        request: Request<pb::ResendInviteRequest>,
    ) -> Result<Response<pb::Invite>, Status> {
        self.call(request, Action::ManageInvites, |caller, req| async move {
            let mut v = Violations::new();
            let id = v.id("id", &req.id);
            v.finish()?;
            invites::resend(&self.store, &caller, id)
                .await
                .map(convert::invite)
        })
        .await
    }

    async fn revoke_invite(
        &self,
        request: Request<pb::RevokeInviteRequest>,
    ) -> Result<Response<pb::Invite>, Status> {
        self.call(request, Action::ManageInvites, |caller, req| async move {
            let mut v = Violations::new();
            let id = v.id("id", &req.id);
            let reason = v.single_line("reason", &req.reason, MAX_REASON);
            v.finish()?;
            invites::revoke(&self.store, &caller, id, reason)
                .await
                .map(convert::invite)
        })
        .await
    }

    async fn reissue_invite(
        &self,
        request: Request<pb::ReissueInviteRequest>,
    ) -> Result<Response<pb::ReissueInviteResponse>, Status> {
        self.call(request, Action::ManageInvites, |caller, req| async move {
            let mut v = Violations::new();
            let id = v.id("id", &req.id);
            v.finish()?;
            let reissued = invites::reissue(&self.store, &caller, id, req.send_email).await?;
            Ok(pb::ReissueInviteResponse {
                invite: Some(convert::invite(reissued.invite)),
                link_url: reissued.link_url,
            })
        })
        .await
    }

    async fn reschedule_invite(
        &self,
        request: Request<pb::RescheduleInviteRequest>,
    ) -> Result<Response<pb::Invite>, Status> {
        self.call(request, Action::ManageInvites, |caller, req| async move {
            let mut v = Violations::new();
            let id = v.id("id", &req.id);
            let start = match &req.scheduled_start_time {
                Some(start) => scheduled_start(&mut v, start, now()),
                None => {
                    v.add("scheduled_start_time", "is required");
                    None
                }
            };
            let minutes = v
                .duration_minutes("duration_minutes", req.duration_minutes)
                .flatten();
            v.finish()?;
            let start = start
                .ok_or_else(|| ServiceError::invalid("scheduled_start_time", "is required"))?;
            invites::reschedule(&self.store, &caller, id, start, minutes)
                .await
                .map(convert::invite)
        })
        .await
    }

    async fn renew_invite(
        &self,
        request: Request<pb::RenewInviteRequest>,
    ) -> Result<Response<pb::Invite>, Status> {
        self.call(request, Action::ManageInvites, |caller, req| async move {
            let mut v = Violations::new();
            let id = v.id("id", &req.id);
            v.finish()?;
            renewals::renew(&self.store, &caller, id)
                .await
                .map(convert::invite)
        })
        .await
    }

    async fn reopen_invite(
        &self,
        request: Request<pb::ReopenInviteRequest>,
    ) -> Result<Response<pb::Invite>, Status> {
        self.call(request, Action::ManageInvites, |caller, req| async move {
            let mut v = Violations::new();
            let id = v.id("id", &req.id);
            v.finish()?;
            invites::reopen(&self.store, &caller, id)
                .await
                .map(convert::invite)
        })
        .await
    }

    async fn lock_invite(
        &self,
        request: Request<pb::LockInviteRequest>,
    ) -> Result<Response<pb::Invite>, Status> {
        self.call(request, Action::ManageInvites, |caller, req| async move {
            let mut v = Violations::new();
            let id = v.id("id", &req.id);
            v.finish()?;
            invites::lock(&self.store, &caller, id)
                .await
                .map(convert::invite)
        })
        .await
    }

    async fn unlock_invite(
        &self,
        request: Request<pb::UnlockInviteRequest>,
    ) -> Result<Response<pb::Invite>, Status> {
        self.call(request, Action::ManageInvites, |caller, req| async move {
            let mut v = Violations::new();
            let id = v.id("id", &req.id);
            v.finish()?;
            invites::unlock(&self.store, &caller, id)
                .await
                .map(convert::invite)
        })
        .await
    }

    async fn complete_invite(
        &self,
        request: Request<pb::CompleteInviteRequest>,
    ) -> Result<Response<pb::Invite>, Status> {
        self.call(request, Action::ManageInvites, |caller, req| async move {
            let mut v = Violations::new();
            let id = v.id("id", &req.id);
            v.finish()?;
            invites::complete(&self.store, &caller, id)
                .await
                .map(convert::invite)
        })
        .await
    }

    async fn list_invite_events(
        &self,
        request: Request<pb::ListInviteEventsRequest>,
    ) -> Result<Response<pb::ListInviteEventsResponse>, Status> {
        self.call(request, Action::ReadInvites, |caller, req| async move {
            let mut v = Violations::new();
            let invite_id = v.id("invite_id", &req.invite_id);
            let page = Page::parse(
                &mut v,
                req.page_size,
                &req.page_token,
                format!("events|{invite_id}"),
            );
            v.finish()?;
            let (rows, next_page_token) =
                invites::list_events(&self.store, &caller, invite_id, &page).await?;
            Ok(pb::ListInviteEventsResponse {
                events: rows.into_iter().map(convert::event).collect(),
                next_page_token,
            })
        })
        .await
    }
}

/// Who the invite is for: an existing candidate by id, or an email and/or a name.
fn invitee(v: &mut Violations, req: &pb::CreateInviteRequest) -> InviteeInput {
    let email_given = !req.candidate_email.trim().is_empty();
    if !req.candidate_id.trim().is_empty() {
        let id = v.id("candidate_id", &req.candidate_id);
        // The candidate's stored email and name are used: another here would be ambiguous.
        if email_given {
            v.add(
                "candidate_email",
                "give candidate_id or candidate_email, not both",
            );
        }
        if !req.candidate_name.trim().is_empty() {
            v.add(
                "candidate_name",
                "must be empty with candidate_id: the candidate's name is used",
            );
        }
        return InviteeInput::Candidate(id);
    }
    let email = v.email("candidate_email", &req.candidate_email);
    let name = v.single_line("candidate_name", &req.candidate_name, MAX_NAME);
    if !email_given && name.is_empty() {
        v.add(
            "candidate_email",
            "give the candidate's email, name, or both, or a candidate_id",
        );
    }
    if req.send_email && !email_given {
        v.add("candidate_email", "is required to send the invite email");
    }
    InviteeInput::Named { email, name }
}
