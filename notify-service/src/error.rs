//! notify-service's one error type; `grpc::status` maps it to `tonic::Status`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("the request has invalid fields")]
    InvalidArgument(Vec<FieldViolation>),
    #[error("{0} not found, or it might not exist")]
    NotFound(&'static str),
    #[error("a valid service token is required")]
    Unauthenticated,
    /// A backing service (Redis) is down; the caller should retry later. Nothing was lost.
    #[error("{0}")]
    Unavailable(String),
    /// The database cannot be reached (or no connection came free in time); the same call may
    /// succeed shortly. Keeps its cause for the log.
    #[error("the database is unavailable; retry shortly")]
    DatabaseUnavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl NotifyError {
    pub fn invalid(field: &str, description: impl Into<String>) -> Self {
        NotifyError::InvalidArgument(vec![FieldViolation {
            field: field.to_string(),
            description: description.into(),
        }])
    }
}

/// True when the database could not be reached, anywhere in an `anyhow` chain. The database
/// watcher reports an outage once, so loops that meet it round after round need not.
pub fn is_database_unavailable(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<NotifyError>(),
            Some(NotifyError::DatabaseUnavailable(_))
        )
    })
}

impl From<crate::queue::QueueError> for NotifyError {
    fn from(err: crate::queue::QueueError) -> Self {
        NotifyError::Unavailable(err.to_string())
    }
}
