//! The one error type of invite-service. `grpc::status` maps it to `tonic::Status`; the link
//! pages map it to HTTP. Internal errors keep their chain for the log and never reach a caller.
use crate::domain::Action;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("the request has invalid fields")]
    InvalidArgument(Vec<FieldViolation>),
    /// AIP-193: the same answer whether the row is absent or another organization's.
    #[error("{0} not found, or it might not exist")]
    NotFound(&'static str),
    #[error("{message}")]
    FailedPrecondition {
        reason: &'static str,
        message: String,
    },
    #[error("{0}")]
    AlreadyExists(String),
    /// A live invite of the organization already carries the external id asked for.
    #[error(
        "a live invite ({invite_id}) already has this external_id; revoke it, or look it up \
         with LookupInvite"
    )]
    ExternalIdInUse { invite_id: uuid::Uuid },
    /// A request over a configured size limit (not a rate: nothing to wait for).
    #[error("{0}")]
    TooLarge(String),
    #[error("an API key is required: send `authorization: Bearer <key>`")]
    MissingKey,
    /// Unknown, mistyped and revoked keys are told apart by no one but the server's owner.
    #[error("the API key is not valid: it may be mistyped or revoked")]
    Unauthenticated,
    #[error("this API key's scope does not allow {}", .0.describe())]
    PermissionDenied(Action),
    /// An abuse limit refused the call; nothing was done. `what` names what is limited.
    #[error("too many {what}; try again in {} seconds", retry_after_secs(*.retry_after))]
    RateLimited {
        retry_after: std::time::Duration,
        what: &'static str,
    },
    /// The database cannot be reached (or no connection came free in time); the same call may
    /// succeed shortly. Keeps its cause for the log.
    #[error("the database is unavailable; retry shortly")]
    Unavailable(#[source] anyhow::Error),
    /// The server is stopping: a long call (a stream) ends so that the shutdown need not wait
    /// for it. The same call on another replica, or on this one restarted, goes on.
    #[error("the server is shutting down; call again")]
    ShuttingDown,
    /// Another writer won a race on a unique index. The store runs such an operation again
    /// (it then sees the winner's row); one that still clashes is internal.
    #[error("internal error")]
    UniqueViolation(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ServiceError {
    pub fn invalid(field: &str, description: impl Into<String>) -> Self {
        ServiceError::InvalidArgument(vec![FieldViolation {
            field: field.to_string(),
            description: description.into(),
        }])
    }

    /// True when the database could not be reached. The database watcher reports an outage
    /// once, so loops that meet it round after round need not.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, ServiceError::Unavailable(_))
    }

    pub fn precondition(reason: &'static str, message: impl Into<String>) -> Self {
        ServiceError::FailedPrecondition {
            reason,
            message: message.into(),
        }
    }
}

/// `is_unavailable` for an error somewhere in an `anyhow` chain.
pub fn is_database_unavailable(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<ServiceError>()
            .is_some_and(ServiceError::is_unavailable)
    })
}

/// Whole seconds to wait, rounded up, at least one (what an HTTP `Retry-After` can say).
pub fn retry_after_secs(wait: std::time::Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}
