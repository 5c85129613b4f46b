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

impl From<sea_orm::DbErr> for NotifyError {
    fn from(err: sea_orm::DbErr) -> Self {
        NotifyError::Internal(anyhow::Error::new(err).context("database"))
    }
}

impl From<crate::queue::QueueError> for NotifyError {
    fn from(err: crate::queue::QueueError) -> Self {
        NotifyError::Unavailable(err.to_string())
    }
}
