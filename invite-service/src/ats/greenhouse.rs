//! Greenhouse's Assessment Partner API (grnhse/greenhouse-api-docs, "Assessment"): Greenhouse
//! lists the partner's tests, sends one to a candidate, asks for its status, and reports
//! answers it could not use. When the candidate submits, Beckon `PATCH`es the URL Greenhouse
//! gave with `send_test` (no body; `callbacks.rs`), and Greenhouse then asks `test_status`.
use std::collections::BTreeMap;

use axum::{
    extract::{Query, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{authenticate, message_of, presented_key, start_interview, status_of, Ask};
use crate::{
    domain::{
        ats::{greenhouse_status, Ats},
        validate::{Violations, MAX_NAME},
        InviteStatus,
    },
    error::ServiceError,
    store::{
        ats::{self as store_ats, AtsReference},
        Store,
    },
};

pub fn router(store: Store) -> axum::Router {
    Router::new()
        .route("/list_tests", get(list_tests))
        .route("/send_test", post(send_test))
        .route("/test_status", get(test_status))
        .route("/response_error", post(response_error))
        .with_state(store)
}

/// Greenhouse's error answers: only the status matters to it; the body says why, for people.
fn refuse(err: ServiceError) -> Response {
    let status = status_of(&err, Ats::Greenhouse);
    (
        status,
        Json(json!({"errors": [message_of(&err, Ats::Greenhouse)]})),
    )
        .into_response()
}

/// `GET list_tests`: the organization's open jobs.
async fn list_tests(State(store): State<Store>, headers: HeaderMap) -> Response {
    let answer = async {
        let caller = authenticate(&store, &headers).await?;
        let jobs = store_ats::open_jobs(&store, &caller).await?;
        Ok::<_, ServiceError>(
            jobs.into_iter()
                .map(|job| json!({"partner_test_id": job.id.to_string(), "partner_test_name": job.title}))
                .collect::<Vec<_>>(),
        )
    };
    match answer.await {
        Ok(tests) => Json(tests).into_response(),
        Err(err) => refuse(err),
    }
}

#[derive(Deserialize)]
struct SendTest {
    #[serde(default)]
    partner_test_id: String,
    candidate: Candidate,
    #[serde(default)]
    url: String,
}

/// Greenhouse sends `null` for empty properties.
#[derive(Deserialize)]
struct Candidate {
    first_name: Option<String>,
    last_name: Option<String>,
    preferred_name: Option<String>,
    email: Option<String>,
    greenhouse_profile_url: Option<String>,
}

/// `POST send_test`: invites the candidate to the test's job and emails the link. The same
/// test, email and URL again answer the same interview while its invite is live.
async fn send_test(
    State(store): State<Store>,
    headers: HeaderMap,
    body: Result<Json<SendTest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let answer = async {
        let caller = authenticate(&store, &headers).await?;
        let Json(body) =
            body.map_err(|rejection| ServiceError::invalid("body", rejection.body_text()))?;
        let ask = read_send_test(&store, body)?;
        let ask = Ask {
            reference: AtsReference {
                credential: presented_key(&headers),
                ..ask.reference
            },
            ..ask
        };
        start_interview(&store, &caller, ask).await
    };
    match answer.await {
        Ok(id) => Json(json!({"partner_interview_id": id.to_string()})).into_response(),
        Err(err) => refuse(err),
    }
}

fn read_send_test(store: &Store, body: SendTest) -> Result<Ask, ServiceError> {
    // A test that is not one of ours is not found, as another organization's is.
    let job_id =
        Uuid::parse_str(body.partner_test_id.trim()).map_err(|_| ServiceError::NotFound("test"))?;
    let mut v = Violations::new();
    let candidate = body.candidate;
    let text = |value: &Option<String>| value.as_deref().unwrap_or("").trim().to_string();
    let email = v.required_email("candidate.email", &text(&candidate.email));
    let first = v.single_line(
        "candidate.first_name",
        &text(&candidate.first_name),
        MAX_NAME,
    );
    let last = v.single_line("candidate.last_name", &text(&candidate.last_name), MAX_NAME);
    let name = match (first.is_empty(), text(&candidate.preferred_name)) {
        (true, preferred) if !preferred.is_empty() => {
            v.single_line("candidate.preferred_name", &preferred, MAX_NAME)
        }
        _ => format!("{first} {last}").trim().to_string(),
    };
    let profile_url = match text(&candidate.greenhouse_profile_url) {
        url if url.is_empty() => String::new(),
        url => v.http_url("candidate.greenhouse_profile_url", &url),
    };
    let url = body.url.trim().to_string();
    match store.config.webhook_destinations() {
        Ok(policy) => {
            if let Err(refused) = policy.check_url(&url) {
                v.add("url", refused.to_string());
            }
        }
        Err(problem) => v.add("url", problem),
    }
    let email = v.finish_with("candidate.email", email)?;
    // The same test, email and URL again are the same interview.
    let digest = Sha256::digest(format!("{job_id}\n{}\n{url}", email.as_str()));
    Ok(Ask {
        job_id,
        email,
        name,
        external_id: format!("greenhouse:{}", hex::encode(&digest[..16])),
        reference: AtsReference {
            ats: Ats::Greenhouse,
            test_id: job_id.to_string(),
            application_id: String::new(),
            callback_url: url,
            profile_url,
            credential: None,
        },
    })
}

#[derive(Deserialize)]
struct StatusQuery {
    #[serde(default)]
    partner_interview_id: String,
}

/// `GET test_status`: `complete` once submitted, with where the work is and when each step
/// happened.
async fn test_status(
    State(store): State<Store>,
    headers: HeaderMap,
    Query(query): Query<StatusQuery>,
) -> Response {
    let answer = async {
        let caller = authenticate(&store, &headers).await?;
        let id = Uuid::parse_str(query.partner_interview_id.trim())
            .map_err(|_| ServiceError::NotFound("interview"))?;
        store_ats::interview(&store, &caller, Ats::Greenhouse, id).await
    };
    let interview = match answer.await {
        Ok(interview) => interview,
        Err(err) => return refuse(err),
    };
    let invite = &interview.invite;
    let complete = invite.status == InviteStatus::Submitted;
    let mut metadata = BTreeMap::new();
    metadata.insert("Status", Value::from(greenhouse_status(invite.status)));
    for (label, at) in [
        ("Sent At", invite.last_sent_at),
        ("Opened At", invite.first_opened_at),
        ("Started At", invite.started_at),
        ("Completed At", invite.submitted_at),
    ] {
        if let Some(at) = at {
            metadata.insert(label, Value::from(at.to_rfc3339()));
        }
    }
    Json(json!({
        "partner_status": greenhouse_status(invite.status),
        // Where the candidate's work is: the job's assessment.
        "partner_profile_url": complete.then(|| interview.job.assessment_url.clone()),
        "partner_score": Value::Null,
        "metadata": metadata,
    }))
    .into_response()
}

/// `POST response_error`: Greenhouse could not use one of Beckon's answers. Logged, and kept
/// for the organization's admins (`ListAtsErrors`).
async fn response_error(
    State(store): State<Store>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let answer = async {
        let caller = authenticate(&store, &headers).await?;
        let report: Value = serde_json::from_slice(&body)
            .map_err(|err| ServiceError::invalid("body", format!("not JSON: {err}")))?;
        let api_call = report["api_call"].as_str().unwrap_or("").to_string();
        let invite_id = report["partner_interview_id"]
            .as_str()
            .and_then(|id| Uuid::parse_str(id.trim()).ok());
        // Only an interview of this organization is named; anything else is kept as text.
        let invite_id = match invite_id {
            Some(id) => store_ats::interview(&store, &caller, Ats::Greenhouse, id)
                .await
                .ok()
                .map(|i| i.invite.id),
            None => None,
        };
        tracing::warn!(
            org_id = %caller.org_id,
            api_call,
            invite_id = ?invite_id,
            errors = %report["errors"],
            "Greenhouse reported an error in one of Beckon's answers"
        );
        store_ats::record_error(
            &store,
            &caller,
            Ats::Greenhouse,
            &api_call,
            invite_id,
            &report.to_string(),
        )
        .await
    };
    match answer.await {
        Ok(()) => Json(json!({"status": 200})).into_response(),
        Err(err) => refuse(err),
    }
}
