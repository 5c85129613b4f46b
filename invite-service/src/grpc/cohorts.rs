//! Bulk invites and cohorts at the gRPC edge.
use std::{collections::HashMap, pin::Pin, time::Duration};

use beckon_proto::invite::v1 as pb;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{convert, request_id, Api};
use crate::domain::email::Email;
use crate::{
    db::entities::{cohort, cohort_member},
    domain::{
        roster::{self, Entry},
        validate::*,
        Action, CohortState, DeliveryStatus, MemberDelivery, MemberState,
    },
    error::ServiceError,
    relay,
    store::{
        candidates,
        cohorts::{
            self, CohortOptions, EmailCounts, MemberView, Preview, RowOutcome, SubmittedPolicy,
        },
        now,
        paging::Page,
        Caller,
    },
};

pub type WatchStream =
    Pin<Box<dyn futures_core::Stream<Item = Result<pb::CohortUpdate, Status>> + Send + 'static>>;

/// How often a watch looks for new outcomes.
const WATCH_POLL: Duration = Duration::from_millis(100);

fn options(v: &mut Violations, req: &pb::BulkCreateInvitesRequest) -> CohortOptions {
    let ttl_seconds = req.ttl.as_ref().and_then(|ttl| {
        if ttl.seconds <= 0 || ttl.seconds > 10 * 365 * 24 * 3600 {
            v.add("ttl", "must be between 1 second and 10 years");
            None
        } else {
            Some(ttl.seconds)
        }
    });
    let remind_after_seconds = req.remind_after.as_ref().and_then(|d| {
        if d.seconds <= 0 || d.seconds > 365 * 24 * 3600 {
            v.add("remind_after", "must be between 1 second and a year");
            None
        } else {
            Some(d.seconds)
        }
    });
    if req.assignee_ids.len() > MAX_ASSIGNEES {
        v.add("assignee_ids", format!("at most {MAX_ASSIGNEES}"));
    }
    let submitted_policy = match pb::SubmittedPolicy::try_from(req.submitted_policy) {
        Ok(pb::SubmittedPolicy::Unspecified | pb::SubmittedPolicy::Skip) => SubmittedPolicy::Skip,
        Ok(pb::SubmittedPolicy::Reopen) => SubmittedPolicy::Reopen,
        Ok(pb::SubmittedPolicy::Retake) => SubmittedPolicy::Retake,
        Err(_) => {
            v.add(
                "submitted_policy",
                format!("{} is not a SubmittedPolicy", req.submitted_policy),
            );
            SubmittedPolicy::Skip
        }
    };
    if req.time_limit_minutes > 7 * 24 * 60 {
        v.add("time_limit_minutes", "must be at most 10080");
    }
    CohortOptions {
        send_email: req.send_email,
        message: Some(v.text("message", &req.message, MAX_MESSAGE)).filter(|m| !m.is_empty()),
        ttl_seconds,
        locked: req.locked,
        assignee_ids: req
            .assignee_ids
            .iter()
            .enumerate()
            .map(|(i, id)| v.id(&format!("assignee_ids[{i}]"), id))
            .collect(),
        labels: v.labels("labels", &req.labels),
        time_limit_minutes: (req.time_limit_minutes > 0).then_some(req.time_limit_minutes as i32),
        remind_after_seconds,
        inviter_member_id: (!req.inviter_id.trim().is_empty())
            .then(|| v.id("inviter_id", &req.inviter_id)),
        include_pending: req.include_pending,
        submitted_policy,
        time_zone: v.time_zone("time_zone", &req.time_zone),
        locale: v.locale("locale", &req.locale),
    }
}

/// The candidates named by the request, read from whichever source it used.
async fn entries(
    api: &Api,
    caller: &Caller,
    req: &pb::BulkCreateInvitesRequest,
) -> Result<Vec<Entry>, ServiceError> {
    let given = [
        !req.pasted_list.trim().is_empty(),
        !req.csv.trim().is_empty(),
        !req.candidate_ids.is_empty(),
    ];
    match given.iter().filter(|g| **g).count() {
        0 => {
            return Err(ServiceError::invalid(
                "pasted_list",
                "the list has no candidates: give pasted_list, csv or candidate_ids",
            ))
        }
        1 => {}
        _ => {
            return Err(ServiceError::invalid(
                "csv",
                "give only one of pasted_list, csv and candidate_ids",
            ))
        }
    }
    let limit = api.store.config.max_bulk_rows;
    if req.candidate_ids.len() > limit {
        return Err(ServiceError::TooLarge(format!(
            "at most {limit} candidates per call; split the list"
        )));
    }
    let entries = if given[0] {
        roster::parse_pasted(&req.pasted_list)
    } else if given[1] {
        roster::parse_csv(&req.csv).map_err(|problem| ServiceError::invalid("csv", problem))?
    } else {
        let mut v = Violations::new();
        let ids: Vec<Uuid> = req
            .candidate_ids
            .iter()
            .enumerate()
            .map(|(i, id)| v.id(&format!("candidate_ids[{i}]"), id))
            .collect();
        v.finish()?;
        let found = candidates::find_many(&api.store, caller, &ids).await?;
        let mut v = Violations::new();
        let entries = ids
            .iter()
            .enumerate()
            .filter_map(|(i, id)| match found.get(id) {
                Some(c) => Some(Entry {
                    row: i as u32 + 1,
                    email: c.email.clone(),
                    name: c.name.clone(),
                    external_id: c.external_id.clone(),
                    labels: Vec::new(),
                    locale: None,
                    time_zone: None,
                    problem: None,
                }),
                None => {
                    v.add(format!("candidate_ids[{i}]"), "no such candidate");
                    None
                }
            })
            .collect();
        v.finish()?;
        entries
    };
    if entries.is_empty() {
        return Err(ServiceError::invalid(
            if given[1] { "csv" } else { "pasted_list" },
            "the list has no candidates",
        ));
    }
    if entries.len() > limit {
        return Err(ServiceError::TooLarge(format!(
            "at most {limit} candidates per call, and this list has {}; split it",
            entries.len()
        )));
    }
    Ok(entries)
}

fn row_outcome(outcome: RowOutcome) -> pb::RowOutcome {
    match outcome {
        RowOutcome::Valid => pb::RowOutcome::Valid,
        RowOutcome::Malformed => pb::RowOutcome::Malformed,
        RowOutcome::Duplicate => pb::RowOutcome::Duplicate,
        RowOutcome::Pending => pb::RowOutcome::Pending,
        RowOutcome::Submitted => pb::RowOutcome::Submitted,
        RowOutcome::Suppressed => pb::RowOutcome::Suppressed,
    }
}

fn preview_message(preview: &Preview) -> pb::BulkPreview {
    let count = |o| preview.count(o) as u32;
    pb::BulkPreview {
        total: preview.rows.len() as u32,
        valid: count(RowOutcome::Valid),
        malformed: count(RowOutcome::Malformed),
        duplicates: count(RowOutcome::Duplicate),
        pending: count(RowOutcome::Pending),
        submitted: count(RowOutcome::Submitted),
        suppressed: count(RowOutcome::Suppressed),
        to_invite: preview.to_invite() as u32,
        rows: preview
            .shown_rows()
            .map(|r| pb::BulkRow {
                row: r.entry.row,
                email: r.entry.email.clone(),
                name: r.entry.name.clone(),
                outcome: row_outcome(r.outcome) as i32,
                reason: r.reason.clone(),
            })
            .collect(),
    }
}

pub fn cohort_message(row: &cohort::Model) -> pb::Cohort {
    let pending = (row.total - row.succeeded - row.failed).max(0) as u32;
    let mut summary = format!("{} invited, {} failed", row.succeeded, row.failed);
    if pending > 0 {
        summary.push_str(&format!(", {pending} pending"));
    }
    let emails = cohorts::sends_email(row).then(|| EmailCounts::of(row));
    if let Some(emails) = &emails {
        summary.push_str(&format!("; emails: {}", emails_summary(emails)));
    }
    let count = |n: i32| n.max(0) as u32;
    pb::Cohort {
        id: row.id.to_string(),
        job_id: row.job_id.to_string(),
        state: match row.state {
            CohortState::Running => pb::CohortState::Running,
            CohortState::Sending => pb::CohortState::Sending,
            CohortState::Done => pb::CohortState::Done,
        } as i32,
        total: count(row.total),
        pending,
        succeeded: count(row.succeeded),
        failed: count(row.failed),
        create_time: Some(convert::timestamp(row.created_at)),
        finish_time: row.finished_at.map(convert::timestamp),
        summary,
        emails: emails.map(|e| pb::CohortEmails {
            queued: count(e.queued),
            deferred: count(e.deferred),
            sent: count(e.sent),
            failed: count(e.failed),
            suppressed: count(e.suppressed),
        }),
    }
}

/// "94 sent, 4 failed, 2 suppressed": sent and failed always, the others when there are some.
fn emails_summary(emails: &EmailCounts) -> String {
    let mut parts = Vec::new();
    if emails.queued > 0 {
        parts.push(format!("{} queued", emails.queued));
    }
    parts.push(format!("{} sent", emails.sent));
    if emails.deferred > 0 {
        parts.push(format!("{} deferred", emails.deferred));
    }
    parts.push(format!("{} failed", emails.failed));
    if emails.suppressed > 0 {
        parts.push(format!("{} suppressed", emails.suppressed));
    }
    parts.join(", ")
}

/// UNSPECIFIED is the wire's word for a member whose email was never asked for.
fn member_delivery(delivery: MemberDelivery) -> pb::DeliveryStatus {
    match delivery {
        MemberDelivery::NotAsked => pb::DeliveryStatus::Unspecified,
        MemberDelivery::Tracked(status) => convert::delivery_status(status),
    }
}

fn member_message(view: &MemberView) -> pb::CohortMember {
    let m = &view.member;
    pb::CohortMember {
        row: m.row.max(0) as u32,
        email: m.email.clone(),
        name: m.name.clone(),
        state: match m.state {
            MemberState::Pending => pb::MemberState::Pending,
            MemberState::Invited => pb::MemberState::Invited,
            MemberState::Failed => pb::MemberState::Failed,
        } as i32,
        invite_id: view.invite_id.map(|id| id.to_string()).unwrap_or_default(),
        reason: m.reason.clone(),
        sequence: m.sequence.unwrap_or(0).max(0) as u64,
        delivery_status: member_delivery(m.delivery_status) as i32,
        delivery_error: m.delivery_error.clone(),
    }
}

/// Which list of CohortDetails a member is in: by its invite, then by its email, if any.
enum Standing {
    Pending,
    Succeeded,
    Failed,
}

fn standing(member: &cohort_member::Model) -> Standing {
    match member.state {
        MemberState::Pending => Standing::Pending,
        MemberState::Failed => Standing::Failed,
        MemberState::Invited => match member.delivery_status.status() {
            Some(DeliveryStatus::Queued | DeliveryStatus::Deferred) => Standing::Pending,
            Some(DeliveryStatus::Failed | DeliveryStatus::Suppressed) => Standing::Failed,
            Some(DeliveryStatus::Sent | DeliveryStatus::NotRequested) | None => Standing::Succeeded,
        },
    }
}

pub async fn bulk_create_invites(
    api: &Api,
    request: Request<pb::BulkCreateInvitesRequest>,
) -> Result<Response<pb::BulkCreateInvitesResponse>, Status> {
    api.call(request, Action::ManageInvites, |caller, req| async move {
        let mut v = Violations::new();
        let request = request_id(&mut v, &req, &req.request_id, |r| r.request_id.clear());
        let job_id = v.id("job_id", &req.job_id);
        let options = options(&mut v, &req);
        v.finish()?;
        let entries = entries(api, &caller, &req).await?;
        let emails: Vec<String> = entries
            .iter()
            .filter(|e| e.problem.is_none())
            .map(|e| e.email.clone())
            .collect();
        // Without notify-service, suppressed addresses are found when their email fails.
        let suppressed = relay::suppressed_among(&api.store.config, caller.org_id, emails)
            .await
            .unwrap_or_else(|err| {
                tracing::warn!(error = ?err, "could not check suppressions for a bulk invite");
                Default::default()
            });
        let (job, preview) =
            cohorts::preview(&api.store, &caller, job_id, entries, &suppressed, &options).await?;
        let cohort = if req.validate_only {
            None
        } else {
            let cohort =
                cohorts::create(&api.store, &caller, &job, &preview, &options, request).await?;
            api.cohort_work.notify_one();
            Some(cohort_message(&cohort))
        };
        Ok(pb::BulkCreateInvitesResponse {
            cohort,
            preview: Some(preview_message(&preview)),
        })
    })
    .await
}

pub async fn get_cohort(
    api: &Api,
    request: Request<pb::GetCohortRequest>,
) -> Result<Response<pb::CohortDetails>, Status> {
    api.call(request, Action::ReadInvites, |caller, req| async move {
        let mut v = Violations::new();
        let id = v.id("id", &req.id);
        v.finish()?;
        let (cohort, members) = cohorts::members(&api.store, &caller, id).await?;
        let mut details = pb::CohortDetails {
            cohort: Some(cohort_message(&cohort)),
            ..Default::default()
        };
        for view in &members {
            let message = member_message(view);
            match standing(&view.member) {
                Standing::Succeeded => details.succeeded.push(message),
                Standing::Failed => details.failed.push(message),
                Standing::Pending => details.pending.push(message),
            }
        }
        Ok(details)
    })
    .await
}

pub async fn list_cohorts(
    api: &Api,
    request: Request<pb::ListCohortsRequest>,
) -> Result<Response<pb::ListCohortsResponse>, Status> {
    api.call(request, Action::ReadInvites, |caller, req| async move {
        let mut v = Violations::new();
        let hours = match req.within_hours {
            0 => api.store.config.cohort_window_hours,
            h @ 1..=720 => h,
            _ => {
                v.add(
                    "within_hours",
                    "must be between 1 and 720, or 0 for the default",
                );
                48
            }
        };
        let page = Page::parse(
            &mut v,
            req.page_size,
            &req.page_token,
            format!("cohorts|{hours}"),
        );
        v.finish()?;
        let since = now() - chrono::Duration::hours(i64::from(hours));
        let (rows, next_page_token) = cohorts::list(&api.store, &caller, since, &page).await?;
        Ok(pb::ListCohortsResponse {
            cohorts: rows.iter().map(cohort_message).collect(),
            next_page_token,
        })
    })
    .await
}

pub async fn watch_cohort(
    api: &Api,
    request: Request<pb::WatchCohortRequest>,
) -> Result<Response<WatchStream>, Status> {
    let answer = api
        .call(request, Action::ReadInvites, |caller, req| async move {
            let mut v = Violations::new();
            let id = v.id("id", &req.id);
            v.finish()?;
            // Found now, so a bad id is an error status rather than an empty stream.
            let first = cohorts::get(&api.store, &caller, id).await?;
            Ok((caller, first))
        })
        .await?;
    let api = api.clone();
    let (caller, first) = answer.into_inner();
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let send = |update| {
            tx.send(Ok(pb::CohortUpdate {
                update: Some(update),
            }))
        };
        if send(pb::cohort_update::Update::Progress(cohort_message(&first)))
            .await
            .is_err()
        {
            return;
        }
        let mut after = 0i64;
        loop {
            if *api.stopping.borrow() {
                let _ = tx
                    .send(Err(super::status::to_status(ServiceError::ShuttingDown)))
                    .await;
                return;
            }
            let (cohort, outcomes) =
                match cohorts::outcomes_after(&api.store, &caller, first.id, after).await {
                    Ok(found) => found,
                    Err(err) => {
                        let _ = tx.send(Err(super::status::to_status(err))).await;
                        return;
                    }
                };
            let caught_up = outcomes.is_empty();
            for view in &outcomes {
                after = view.member.sequence.unwrap_or(after);
                if send(pb::cohort_update::Update::Outcome(member_message(view)))
                    .await
                    .is_err()
                {
                    return; // The watcher went away.
                }
            }
            let done = cohort.state == CohortState::Done;
            if caught_up && done && after >= cohort.last_sequence {
                let _ = send(pb::cohort_update::Update::Progress(cohort_message(&cohort))).await;
                return;
            }
            if caught_up {
                let mut stopping = api.stopping.clone();
                let stopped = tokio::select! {
                    () = tokio::time::sleep(WATCH_POLL) => false,
                    // Told, or the server is gone.
                    _ = stopping.wait_for(|stopping| *stopping) => true,
                };
                if stopped {
                    // The client watches again, on a replica still serving.
                    let stopped = super::status::to_status(ServiceError::ShuttingDown);
                    let _ = tx.send(Err(stopped)).await;
                    return;
                }
            } else if !outcomes.is_empty() {
                let _ = send(pb::cohort_update::Update::Progress(cohort_message(&cohort))).await;
            }
        }
    });
    let stream: WatchStream = Box::pin(ReceiverStream::new(rx));
    Ok(Response::new(stream))
}

pub async fn retry_cohort_failures(
    api: &Api,
    request: Request<pb::RetryCohortFailuresRequest>,
) -> Result<Response<pb::Cohort>, Status> {
    api.call(request, Action::ManageInvites, |caller, req| async move {
        let mut v = Violations::new();
        let id = v.id("cohort_id", &req.cohort_id);
        // A refused address is left out here; its violation fails `finish` below.
        let corrections: HashMap<i32, Email> = req
            .corrected_emails
            .iter()
            .filter_map(|(row, email)| {
                let field = format!("corrected_emails[{row}]");
                Some((*row as i32, v.required_email(&field, email)?))
            })
            .collect();
        v.finish()?;
        let cohort = cohorts::retry_failures(&api.store, &caller, id, &corrections).await?;
        api.cohort_work.notify_one();
        Ok(cohort_message(&cohort))
    })
    .await
}
