//! The one place where `NotifyError` becomes a gRPC status.
use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::error::NotifyError;

pub const ERROR_DOMAIN: &str = "notify.beckon.dev";

pub fn to_status(err: NotifyError) -> Status {
    let mut details = ErrorDetails::new();
    let (code, reason, message) = match err {
        NotifyError::InvalidArgument(violations) => {
            for v in &violations {
                details.add_bad_request_violation(&v.field, &v.description);
            }
            let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
            (
                Code::InvalidArgument,
                "INVALID_FIELDS",
                format!("invalid fields: {}", fields.join(", ")),
            )
        }
        err @ NotifyError::NotFound(_) => (Code::NotFound, "NOT_FOUND", err.to_string()),
        err @ NotifyError::Unauthenticated => {
            (Code::Unauthenticated, "TOKEN_INVALID", err.to_string())
        }
        NotifyError::Unavailable(reason) => {
            tracing::warn!(%reason, "backing service unavailable");
            details.set_retry_info(Some(std::time::Duration::from_secs(1)));
            (
                Code::Unavailable,
                "BACKEND_UNAVAILABLE",
                "the queue is unavailable; nothing was lost, retry shortly".to_string(),
            )
        }
        NotifyError::Internal(err) => {
            tracing::error!(error = ?err, "internal error");
            (Code::Internal, "INTERNAL", "internal error".to_string())
        }
    };
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(code, message, details)
}
