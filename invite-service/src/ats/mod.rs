//! The edge toward applicant tracking systems that use Beckon as an assessment partner:
//! Greenhouse's Assessment Partner API (`greenhouse.rs`) and Ashby's assessments integration
//! (`ashby.rs`), served on the same port as everything else under `/ats/...`, and the loop
//! that calls them back (`callbacks.rs`). Both adapters are thin over one mapping
//! (`domain::ats`): a test or assessment type is an open job, an interview or assessment an
//! invite, progress a change of its state. Another ATS is one more module here.
//!
//! The ATS authenticates with an API key of the `ats` scope as the HTTP Basic user name and a
//! blank password, as Greenhouse's contract has it; Ashby is given the same. Any other key,
//! or none, is 401; another organization's ids are 404.
mod ashby;
pub mod callbacks;
mod greenhouse;

use axum::{
    extract::Request,
    http::{header, HeaderMap, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    Json, Router,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;

use crate::{
    domain::{ats::Ats, email::Email, ids::JobId, Scope},
    error::ServiceError,
    store::{
        ats::{self as store_ats, AtsReference},
        invites::{self, Expiry, InviteeInput, NewInvite},
        organization, Caller, Store,
    },
};

/// An ATS's requests are small JSON documents.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub use callbacks::AtsCallbacks;

/// The `/ats/...` routes.
pub fn router(store: Store) -> Router {
    let allowed = store.config.ats_routes_allowed();
    Router::new()
        .nest("/ats/greenhouse", greenhouse::router(store.clone()))
        .nest("/ats/ashby", ashby::router(store))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            require_https(allowed, request, next)
        }))
}

/// The key travels in every request: the routes are served only behind HTTPS, unless the
/// operator allowed plain HTTP (`ats_allow_http`).
async fn require_https(allowed: bool, request: Request, next: Next) -> Response {
    if allowed {
        return next.run(request).await;
    }
    (
        StatusCode::FORBIDDEN,
        Json(json!({
            "message": "the ATS partner API is served only when public_base_url is https:// \
                        (or ats_allow_http is set)"
        })),
    )
        .into_response()
}

/// The caller behind `Authorization: Basic base64(<ats key>:)`. Anything else, including a
/// key of another scope or a password, is `Unauthenticated`.
async fn authenticate(store: &Store, headers: &HeaderMap) -> Result<Caller, ServiceError> {
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Basic ")
                .or_else(|| value.strip_prefix("basic "))
        })
        .and_then(|encoded| STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .ok_or(ServiceError::Unauthenticated)?;
    let key = match credentials.split_once(':') {
        Some((key, "")) => key,
        _ => return Err(ServiceError::Unauthenticated),
    };
    let caller = organization::authenticate(store, key).await?;
    if caller.scope == Scope::Ats {
        Ok(caller)
    } else {
        Err(ServiceError::Unauthenticated)
    }
}

/// The presented key, to be sent back with Greenhouse's callback (its docs show the same
/// Basic header there).
fn presented_key(headers: &HeaderMap) -> Option<String> {
    let encoded = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')?
        .1;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    Some(decoded.split_once(':')?.0.to_string())
}

/// What an ATS asked for, read by its adapter.
struct Ask {
    job_id: uuid::Uuid,
    email: Email,
    name: String,
    /// Names the interview among the organization's live invites: the same ask again (a retry,
    /// or a twin racing it) finds it.
    external_id: String,
    reference: AtsReference,
}

/// Makes the invite an ATS asks for and emails it, or answers with the live one the same ask
/// made before. The live-external-id index decides races: the loser finds the winner's.
async fn start_interview(
    store: &Store,
    caller: &Caller,
    ask: Ask,
) -> Result<uuid::Uuid, ServiceError> {
    let ats = ask.reference.ats;
    if let Some(found) = store_ats::live_interview(store, caller, ats, &ask.external_id).await? {
        if let Some(key) = &ask.reference.credential {
            store_ats::keep_credential(store, found.invite.id, key).await?;
        }
        return Ok(found.invite.id);
    }
    // The ATS shows why no email can go (Ashby's 422), instead of an invite that fails later.
    // Without notify-service, a suppressed address is found when its email fails.
    let suppressed = crate::relay::suppressed_among(
        &store.config,
        caller.org_id,
        vec![ask.email.as_str().to_string()],
    )
    .await
    .unwrap_or_else(|err| {
        tracing::warn!(error = ?err, "could not check suppressions for an ATS invite");
        Default::default()
    });
    if suppressed.contains(ask.email.as_str()) {
        return Err(ServiceError::precondition(
            "ADDRESS_SUPPRESSED",
            format!(
                "{} is on the suppression list (an earlier email bounced or was marked as \
                 spam), so Beckon will not email it",
                ask.email.as_str()
            ),
        ));
    }
    let new = NewInvite {
        job_id: JobId::from_uuid(ask.job_id),
        invitee: InviteeInput::Named {
            email: Some(ask.email.clone()),
            name: ask.name.clone(),
        },
        external_id: Some(ask.external_id.clone()),
        send_email: true,
        message: None,
        expiry: Expiry::JobDefault,
        locked: false,
        assignee_ids: Vec::new(),
        labels: Vec::new(),
        time_limit_minutes: None,
        source: ats.invite_source(),
        inviter_member_id: None,
        remind_after: None,
        ats: Some(ask.reference.clone()),
        // Neither ATS's contract gives the candidate's.
        time_zone: None,
        // Nor the candidate's language: the job's decides.
        locale: None,
        schedule: None,
    };
    match invites::create(store, caller, new, None).await {
        Ok(created) => Ok(created.invite.id),
        Err(ServiceError::ExternalIdInUse { invite_id }) => {
            // A twin won the race; or the id is held by an invite no ATS made.
            match store_ats::live_interview(store, caller, ats, &ask.external_id).await? {
                Some(found) => Ok(found.invite.id),
                None => Err(ServiceError::ExternalIdInUse { invite_id }),
            }
        }
        Err(err) => Err(err),
    }
}

/// The HTTP status of a refusal. A request that cannot succeed as it is: Ashby's 422, whose
/// message it shows its user; Greenhouse's contract knows 400 for it. Each adapter words the
/// body its own way.
fn status_of(err: &ServiceError, ats: Ats) -> StatusCode {
    let unprocessable = match ats {
        Ats::Greenhouse => StatusCode::BAD_REQUEST,
        Ats::Ashby => StatusCode::UNPROCESSABLE_ENTITY,
    };
    match err {
        ServiceError::MissingKey | ServiceError::Unauthenticated => StatusCode::UNAUTHORIZED,
        ServiceError::PermissionDenied(_) => StatusCode::UNAUTHORIZED,
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::InvalidArgument(_)
        | ServiceError::TooLarge(_)
        | ServiceError::FailedPrecondition { .. } => unprocessable,
        ServiceError::AlreadyExists(_) | ServiceError::ExternalIdInUse { .. } => {
            StatusCode::CONFLICT
        }
        ServiceError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ServiceError::Unavailable(_) | ServiceError::ShuttingDown => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ServiceError::UniqueViolation(_) | ServiceError::Internal(_) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The text of a refusal for the ATS's user; internal errors are logged and said plainly.
fn message_of(err: &ServiceError, ats: Ats) -> String {
    match err {
        ServiceError::InvalidArgument(violations) => violations
            .iter()
            .map(|v| format!("{}: {}", v.field, v.description))
            .collect::<Vec<_>>()
            .join("; "),
        ServiceError::UniqueViolation(_) | ServiceError::Internal(_) => {
            tracing::error!(ats = ats.name(), error = ?err, "ATS request failed");
            "internal error".into()
        }
        other => other.to_string(),
    }
}
