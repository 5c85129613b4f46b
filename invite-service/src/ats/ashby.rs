//! Ashby's assessments integration (developers.ashbyhq.com, "Creating an assessments
//! integration"): Ashby lists the partner's assessment types, starts one for an application,
//! and may cancel it; every call is a `POST` of JSON. Beckon reports each change back to
//! Ashby's `assessment.update` with the organization's Ashby API key (`callbacks.rs`).
use axum::{
    extract::{rejection::JsonRejection, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::{authenticate, message_of, start_interview, status_of, Ask};
use crate::{
    domain::{
        ats::{ashby_status, Ats, Progress},
        validate::{Violations, MAX_NAME},
        InviteStatus,
    },
    error::ServiceError,
    store::{
        ats::{self as store_ats, callbacks::DueCallback, AtsReference},
        invites, Store,
    },
};

pub fn router(store: Store) -> axum::Router {
    Router::new()
        .route("/assessment.list", post(list))
        .route("/assessment.start", post(start))
        .route("/assessment.cancel", post(cancel))
        .with_state(store)
}

/// Ashby shows a 422's `message` to its user; 401 and 404 carry its usual error envelope; its
/// contract gives 409 no body.
fn refuse(err: ServiceError) -> Response {
    let status = status_of(&err, Ats::Ashby);
    let message = message_of(&err, Ats::Ashby);
    match status {
        StatusCode::CONFLICT => StatusCode::CONFLICT.into_response(),
        StatusCode::UNPROCESSABLE_ENTITY => {
            (status, Json(json!({"message": message}))).into_response()
        }
        _ => (
            status,
            Json(json!({
                "success": false,
                "errorInfo": {"code": code_of(status), "message": message},
            })),
        )
            .into_response(),
    }
}

fn code_of(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "unauthenticated",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        _ => "internal_error",
    }
}

/// One value in Ashby's typed form.
fn value(identifier: &str, label: &str, kind: &str, value: &str) -> serde_json::Value {
    json!({"identifier": identifier, "label": label, "type": kind, "value": value})
}

/// The body of Ashby's `assessment.update` for a call back: the status, with the result and
/// the profile URL on completion; the reason on cancellation. Values are strings and URLs:
/// Beckon tracks that the work was submitted, not a score.
pub(super) fn update_body(callback: &DueCallback) -> serde_json::Value {
    let mut body = json!({
        "assessment_id": callback.invite_id.to_string(),
        "timestamp": callback.happened_at.timestamp_millis(),
        "metadata": [value("beckon_job", "Job", "string", &callback.job_title)],
    });
    let status = value(
        "beckon_status",
        "Status",
        "string",
        ashby_status(callback.progress),
    );
    match callback.progress {
        Progress::Cancelled => {
            body["cancelled_reason"] = value(
                "beckon_cancelled_reason",
                "Cancelled",
                "string",
                &callback.detail,
            );
        }
        Progress::Completed => {
            body["assessment_status"] = status;
            body["assessment_result"] = value("beckon_result", "Result", "string", "Submitted");
            body["assessment_profile_url"] = value(
                "beckon_profile",
                "Assessment",
                "url",
                &callback.assessment_url,
            );
        }
        Progress::EmailUndeliverable => {
            body["assessment_status"] = status;
            if let Some(metadata) = body["metadata"].as_array_mut() {
                metadata.push(value(
                    "beckon_email",
                    "Invite email",
                    "string",
                    &callback.detail,
                ));
            }
        }
        Progress::Started | Progress::Reopened => {
            body["assessment_status"] = status;
        }
    }
    body
}

fn success(results: serde_json::Value) -> Response {
    Json(json!({"success": true, "results": results})).into_response()
}

/// `POST assessment.list`: the organization's open jobs.
async fn list(State(store): State<Store>, headers: HeaderMap) -> Response {
    let answer = async {
        let caller = authenticate(&store, &headers).await?;
        store_ats::open_jobs(&store, &caller).await
    };
    match answer.await {
        Ok(jobs) => success(
            jobs.into_iter()
                .map(|job| {
                    json!({
                        "assessment_type_id": job.id.to_string(),
                        "name": job.title,
                        "description": format!("A Beckon invite to the assessment for {}", job.title),
                    })
                })
                .collect(),
        ),
        Err(err) => refuse(err),
    }
}

#[derive(Deserialize)]
struct Start {
    #[serde(default)]
    assessment_type_id: String,
    candidate: Candidate,
    application: Application,
}

#[derive(Deserialize)]
struct Candidate {
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    ashby_profile_url: String,
}

#[derive(Deserialize)]
struct Application {
    #[serde(default)]
    ashby_id: String,
}

/// `POST assessment.start`: invites the candidate to the assessment type's job and emails the
/// link. A retry for the same application and type answers the same assessment; another type
/// while one is still in progress (not submitted, revoked or expired) is 409; a closed job, a
/// refused address or no Ashby key to report with is 422 with the reason.
async fn start(
    State(store): State<Store>,
    headers: HeaderMap,
    body: Result<Json<Start>, JsonRejection>,
) -> Response {
    let answer = async {
        let caller = authenticate(&store, &headers).await?;
        let Json(body) =
            body.map_err(|rejection| ServiceError::invalid("body", rejection.body_text()))?;
        let ask = read_start(body)?;
        // Its updates need the organization's Ashby key: better said now than never sent.
        if store_ats::api_key_set_at(&store, &caller, Ats::Ashby)
            .await?
            .is_none()
        {
            return Err(ServiceError::precondition(
                "NO_ASHBY_KEY",
                "Beckon has no Ashby API key for this organization, so it could not report \
                 progress: an admin sets it with `invitectl ats set-key ashby`",
            ));
        }
        let reference = &ask.reference;
        if store_ats::in_progress_elsewhere(
            &store,
            &caller,
            Ats::Ashby,
            &reference.application_id,
            &reference.test_id,
        )
        .await?
        {
            return Ok(None);
        }
        start_interview(&store, &caller, ask).await.map(Some)
    };
    match answer.await {
        Ok(Some(id)) => success(json!({"assessment_id": id.to_string()})),
        // The application is being assessed with another assessment type.
        Ok(None) => StatusCode::CONFLICT.into_response(),
        Err(err) => refuse(err),
    }
}

fn read_start(body: Start) -> Result<Ask, ServiceError> {
    let job_id = Uuid::parse_str(body.assessment_type_id.trim())
        .map_err(|_| ServiceError::NotFound("assessment type"))?;
    let mut v = Violations::new();
    let email = v.required_email("candidate.email", &body.candidate.email);
    let first = v.single_line("candidate.first_name", &body.candidate.first_name, MAX_NAME);
    let last = v.single_line("candidate.last_name", &body.candidate.last_name, MAX_NAME);
    let application_id = v.required_line("application.ashby_id", &body.application.ashby_id, 200);
    let profile_url = match body.candidate.ashby_profile_url.trim() {
        "" => String::new(),
        url => v.http_url("candidate.ashby_profile_url", url),
    };
    let email = v.finish_with("candidate.email", email)?;
    Ok(Ask {
        job_id,
        email,
        name: format!("{first} {last}").trim().to_string(),
        // One assessment of a type per application: a retry of the start finds it.
        external_id: format!("ashby:{application_id}:{job_id}"),
        reference: AtsReference {
            ats: Ats::Ashby,
            test_id: job_id.to_string(),
            application_id,
            callback_url: String::new(),
            profile_url,
            credential: None,
        },
    })
}

#[derive(Deserialize)]
struct Cancel {
    #[serde(default)]
    assessment_id: String,
}

/// `POST assessment.cancel`: revokes the invite (a link already dead stays as it is).
async fn cancel(
    State(store): State<Store>,
    headers: HeaderMap,
    body: Result<Json<Cancel>, JsonRejection>,
) -> Response {
    let answer = async {
        let caller = authenticate(&store, &headers).await?;
        let Json(body) =
            body.map_err(|rejection| ServiceError::invalid("body", rejection.body_text()))?;
        let id = Uuid::parse_str(body.assessment_id.trim())
            .map_err(|_| ServiceError::NotFound("assessment"))?;
        let interview = store_ats::interview(&store, &caller, Ats::Ashby, id).await?;
        if interview.invite.status != InviteStatus::Expired {
            invites::revoke(&store, &caller, id, "cancelled in Ashby".into()).await?;
        }
        Ok::<_, ServiceError>(id)
    };
    match answer.await {
        Ok(id) => success(json!({"assessment_id": id.to_string()})),
        Err(err) => refuse(err),
    }
}
