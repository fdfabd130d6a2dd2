//! The access log: every read of confidential data and every denied request, for coordinator
//! admins and auditors.

use purl_core::access::{self, Visibility};
use purl_core::user::Actor;
use purl_store::{AccessEntry, Store};

use crate::{App, AppError};

/// Who reads, and the request it is part of (so the log can be matched to the server's log).
#[derive(Debug, Clone, Copy)]
pub struct Reader<'a> {
    /// `None` is the public (no sign-in).
    pub actor: Option<&'a Actor>,
    pub request_id: &'a str,
}

impl<'a> Reader<'a> {
    pub fn new(actor: Option<&'a Actor>, request_id: &'a str) -> Self {
        Self { actor, request_id }
    }

    /// The operator at the installation's own command line.
    pub fn operator() -> Reader<'static> {
        Reader {
            actor: Some(&Actor::Operator),
            request_id: "cli",
        }
    }

    pub fn name(&self) -> String {
        self.actor
            .map_or_else(|| "public".to_owned(), Actor::ledger_name)
    }
}

/// How a logged request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allowed,
    /// The record exists but the reader may not see it (answered as "not found").
    Denied,
    NotFound,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Denied => "denied",
            Outcome::NotFound => "not-found",
        }
    }
}

impl<S: Store> App<S> {
    /// Appends one line to the access log.
    pub async fn log_access(
        &self,
        reader: &Reader<'_>,
        action: String,
        outcome: Outcome,
        rows: u64,
    ) -> Result<(), AppError> {
        let entry = AccessEntry {
            seq: 0,
            at_us: self.now_us(),
            actor: reader.name(),
            action,
            outcome: outcome.as_str().to_owned(),
            rows,
            request_id: reader.request_id.to_owned(),
        };
        Ok(self.store().log_access(vec![entry]).await?)
    }

    /// The access log after `after`, for those who may read it; anyone else is told it does not
    /// exist (and the attempt is logged).
    pub async fn access_log(
        &self,
        reader: &Reader<'_>,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AccessEntry>, AppError> {
        if access::access_log(reader.actor) != Visibility::Full {
            self.log_access(reader, "read access log".into(), Outcome::Denied, 0)
                .await?;
            return Err(AppError::NotFound("access log".into()));
        }
        let entries = self.store().access_log(after, limit).await?;
        self.log_access(
            reader,
            "read access log".into(),
            Outcome::Allowed,
            entries.len() as u64,
        )
        .await?;
        Ok(entries)
    }
}
