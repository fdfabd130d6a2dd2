//! Why a command was refused.

use crate::fx::FxError;
use crate::ids::IdError;
use crate::money::AmountError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{what} '{id}' does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("{what} '{id}' already exists")]
    AlreadyExists { what: &'static str, id: String },
    #[error("{what} '{id}' is {status}: cannot {action}")]
    Transition {
        what: &'static str,
        id: String,
        status: String,
        action: String,
    },
    #[error("{what} '{id}' is at version {actual}, not the expected version {expected}")]
    StaleVersion {
        what: &'static str,
        id: String,
        expected: u64,
        actual: u64,
    },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Id(#[from] IdError),
    #[error(transparent)]
    Amount(#[from] AmountError),
    #[error(transparent)]
    Fx(#[from] FxError),
    /// The actor may not do this. Deliberately says nothing more.
    #[error("not permitted")]
    Denied,
}

impl DomainError {
    pub fn invalid(message: impl Into<String>) -> Self {
        DomainError::Invalid(message.into())
    }

    pub fn not_found(what: &'static str, id: impl ToString) -> Self {
        DomainError::NotFound {
            what,
            id: id.to_string(),
        }
    }

    pub fn transition(
        what: &'static str,
        id: impl ToString,
        status: impl ToString,
        action: impl ToString,
    ) -> Self {
        DomainError::Transition {
            what,
            id: id.to_string(),
            status: status.to_string(),
            action: action.to_string(),
        }
    }
}
