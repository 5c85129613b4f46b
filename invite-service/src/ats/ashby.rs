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

use super::{authenticate, message_of, start_interview, status_of, Ask, Started};
use crate::{
    domain::{
        ats::Ats,
        validate::{Violations, MAX_NAME},
        InviteStatus,
    },
    error::ServiceError,
    store::{
        ats::{self as store_ats, AtsReference},
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
    let status = status_of(&err);
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
/// while one is live is 409; a closed job or a refused address is 422 with the reason.
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
        start_interview(&store, &caller, ask).await
    };
    match answer.await {
        Ok(Started::Interview(id)) => success(json!({"assessment_id": id.to_string()})),
        Ok(Started::AlreadyAssessed) => StatusCode::CONFLICT.into_response(),
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
