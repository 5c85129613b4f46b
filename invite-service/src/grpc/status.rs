//! The one place where `ServiceError` becomes a gRPC status (AIP-193: an ErrorInfo reason on
//! every error, BadRequest field violations for bad input, RetryInfo with a rate limit's
//! refusal). Internal errors are logged with their chain and answered with a bare "internal
//! error". Requests tonic refuses before a handler runs get the same kind of answer
//! (`answer_undecodable`).
use std::{collections::HashMap, time::Duration};

use axum::{extract::State, response::Response};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::ServiceError;

pub const ERROR_DOMAIN: &str = "invite.beckon.dev";

/// How long a caller is told to wait before retrying a call the database was unavailable for:
/// about how often the database is checked.
const DATABASE_RETRY_AFTER: Duration = Duration::from_secs(1);

pub fn to_status(err: ServiceError) -> Status {
    let message = err.to_string();
    let mut details = ErrorDetails::new();
    let (code, reason) = match err {
        ServiceError::InvalidArgument(violations) => {
            for v in &violations {
                details.add_bad_request_violation(&v.field, &v.description);
            }
            // The message names the fields; the BadRequest details say what is wrong with each.
            let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
            details.set_error_info("INVALID_FIELDS", ERROR_DOMAIN, HashMap::new());
            let message = format!("invalid fields: {}", fields.join(", "));
            return Status::with_error_details(Code::InvalidArgument, message, details);
        }
        ServiceError::NotFound(_) => (Code::NotFound, "NOT_FOUND"),
        ServiceError::FailedPrecondition { reason, .. } => (Code::FailedPrecondition, reason),
        ServiceError::AlreadyExists(_) => (Code::AlreadyExists, "ALREADY_EXISTS"),
        ServiceError::ExternalIdInUse { invite_id } => {
            let metadata = HashMap::from([("invite_id".to_string(), invite_id.to_string())]);
            details.set_error_info("EXTERNAL_ID_IN_USE", ERROR_DOMAIN, metadata);
            return Status::with_error_details(Code::AlreadyExists, message, details);
        }
        ServiceError::TooLarge(_) => (Code::ResourceExhausted, "REQUEST_TOO_LARGE"),
        ServiceError::MissingKey => (Code::Unauthenticated, "API_KEY_MISSING"),
        ServiceError::Unauthenticated => (Code::Unauthenticated, "API_KEY_INVALID"),
        ServiceError::PermissionDenied(_) => (Code::PermissionDenied, "SCOPE_INSUFFICIENT"),
        ServiceError::RateLimited { retry_after, .. } => {
            details.set_retry_info(Some(retry_after));
            (Code::ResourceExhausted, "RATE_LIMITED")
        }
        ServiceError::Unavailable(err) => {
            // One warning per outage comes from the database watcher, not one per call.
            tracing::debug!(error = ?err, "database unavailable");
            details.set_retry_info(Some(DATABASE_RETRY_AFTER));
            (Code::Unavailable, "DATABASE_UNAVAILABLE")
        }
        ServiceError::ShuttingDown => (Code::Unavailable, "SERVER_SHUTTING_DOWN"),
        ServiceError::Internal(err) | ServiceError::UniqueViolation(err) => {
            tracing::error!(error = ?err, "internal error");
            details.set_error_info("INTERNAL", ERROR_DOMAIN, HashMap::new());
            return Status::with_error_details(Code::Internal, "internal error", details);
        }
    };
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(code, message, details)
}

/// A message over `max_request_bytes`: RESOURCE_EXHAUSTED with the limit.
fn request_too_large(limit_bytes: usize) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(
        "REQUEST_TOO_LARGE",
        ERROR_DOMAIN,
        HashMap::from([("limit_bytes".to_string(), limit_bytes.to_string())]),
    );
    let message = format!("the request is larger than the limit of {limit_bytes} bytes");
    Status::with_error_details(Code::ResourceExhausted, message, details)
}

/// A body that is not the method's protobuf message.
fn malformed_request() -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info("MALFORMED_REQUEST", ERROR_DOMAIN, HashMap::new());
    let message = "the request is not a valid protobuf message for this method";
    Status::with_error_details(Code::InvalidArgument, message, details)
}

/// Rewrites the statuses tonic makes itself while decoding a request, before any handler or
/// authentication: a message over `limit_bytes` (OUT_OF_RANGE) and a body that does not decode
/// (INTERNAL), both without details and recognised by tonic's words.
pub async fn answer_undecodable(State(limit_bytes): State<usize>, response: Response) -> Response {
    if response.headers().contains_key("grpc-status-details-bin") {
        return response;
    }
    let Some(status) = Status::from_header_map(response.headers()) else {
        return response;
    };
    // tonic's own wording tells its decode errors from any other status without details
    // (e.g. one from the health or reflection services).
    let status = match status.code() {
        Code::OutOfRange
            if status
                .message()
                .starts_with("Error, decoded message length") =>
        {
            request_too_large(limit_bytes)
        }
        Code::Internal if status.message().starts_with("failed to decode") => malformed_request(),
        _ => return response,
    };
    status.into_http()
}
