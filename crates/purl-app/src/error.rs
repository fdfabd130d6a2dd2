//! Errors of the application layer, each keeping its source.

use purl_core::error::DomainError;
use purl_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Invalid(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    /// The record moved on since the version the caller based its update on.
    #[error("conflict: {0}")]
    Stale(String),
    #[error("not permitted")]
    Denied,
    /// An idempotency key came back with another request: `field` is the first that differs,
    /// when both requests were kept.
    #[error("conflict: this idempotency key was already used for a different request{}", .field.as_ref().map(|f| format!(" (its field '{f}' differs)")).unwrap_or_default())]
    KeyReused { field: Option<String> },
    /// An import or batch failed: every problem, each naming where it is.
    #[error("{} problem(s):\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Rejected(Vec<crate::import::ImportProblem>),
    #[error("storage failed")]
    Store(#[from] StoreError),
}

impl AppError {
    /// The same error for another caller: a storage failure becomes "unavailable" with the
    /// first's message (its cause, which cannot be copied, stays with the first caller).
    pub(crate) fn duplicate(&self) -> AppError {
        match self {
            AppError::Invalid(message) => AppError::Invalid(message.clone()),
            AppError::NotFound(message) => AppError::NotFound(message.clone()),
            AppError::Conflict(message) => AppError::Conflict(message.clone()),
            AppError::Stale(message) => AppError::Stale(message.clone()),
            AppError::KeyReused { field } => AppError::KeyReused {
                field: field.clone(),
            },
            AppError::Denied => AppError::Denied,
            AppError::Rejected(problems) => AppError::Rejected(problems.clone()),
            AppError::Store(source) => {
                AppError::Store(StoreError::Unavailable(source.to_string().into()))
            }
        }
    }
}

impl From<DomainError> for AppError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::Denied => AppError::Denied,
            DomainError::NotFound { .. } => AppError::NotFound(error.to_string()),
            DomainError::StaleVersion { .. } => AppError::Stale(error.to_string()),
            DomainError::AlreadyExists { .. } => AppError::Conflict(error.to_string()),
            other => AppError::Invalid(other.to_string()),
        }
    }
}
