//! The one place where `ServiceError` becomes a gRPC status (AIP-193: an ErrorInfo reason on
//! every error, BadRequest field violations for bad input, RetryInfo with a rate limit's
//! refusal). Internal errors are logged with their chain and answered with a bare "internal
//! error".
use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::ServiceError;

pub const ERROR_DOMAIN: &str = "invite.beckon.dev";

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
        ServiceError::Internal(err) => {
            tracing::error!(error = ?err, "internal error");
            details.set_error_info("INTERNAL", ERROR_DOMAIN, HashMap::new());
            return Status::with_error_details(Code::Internal, "internal error", details);
        }
    };
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(code, message, details)
}
