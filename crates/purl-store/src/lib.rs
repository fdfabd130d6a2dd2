//! The storage trait of PURL Ledger. A backend keeps the ledger of events and the read-side records
//! projected from them, and writes both in one transaction. It speaks only domain types.

#[cfg(feature = "contract")]
pub mod contract;
#[cfg(feature = "migrations")]
pub mod migrations;

use std::future::Future;

use purl_core::merkle::{Hash, NodeId};
use purl_core::state::{Record, RecordKind};

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// Another writer appended first (the ledger head moved), or a unique key is taken.
    #[error("conflict on {what}")]
    Conflict { what: &'static str },
    #[error("stored data is invalid: {detail}")]
    Corrupt { detail: String },
    #[error("database unavailable")]
    Unavailable(#[source] BoxError),
    #[error(transparent)]
    Other(BoxError),
}

/// One event as stored: its canonical bytes, salt and leaf hash, plus columns for queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: u64,
    pub at_us: i64,
    pub actor: String,
    pub kind: String,
    pub bytes: Vec<u8>,
    pub salt: Vec<u8>,
    pub leaf_hash: Vec<u8>,
}

/// The first answer to a write that carried an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentResult {
    pub key: String,
    /// SHA-256 of the request, so the same key with another request is refused.
    pub request_hash: String,
    /// The response given the first time, as JSON.
    pub response: String,
    /// The request itself as JSON text, when small enough to keep (see `REQUEST_KEPT_MAX`).
    pub request: Option<String>,
    pub at_us: i64,
}

/// The columns `key, request_hash, response, at_us, request` of a stored idempotency result, in
/// that order, as a backend's row reads them.
pub type IdempotencyColumns = (String, String, String, i64, Option<String>);

impl From<IdempotencyColumns> for IdempotentResult {
    fn from((key, request_hash, response, at_us, request): IdempotencyColumns) -> Self {
        Self {
            key,
            request_hash,
            response,
            request,
            at_us,
        }
    }
}

/// Everything one command writes, atomically.
#[derive(Debug, Clone, Default)]
pub struct Commit {
    pub events: Vec<StoredEvent>,
    /// Read-side records to insert or replace, as projected after the events.
    pub records: Vec<Record>,
    /// The first answers of the writes in this commit that carried an idempotency key.
    pub idempotency: Vec<IdempotentResult>,
    /// Merkle tree nodes the events complete.
    pub nodes: Vec<(NodeId, Hash)>,
}

/// A signed checkpoint as kept by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    /// The signed note, as given to auditors.
    pub note: String,
    pub at_us: i64,
}

/// A stored read-side record, as read back (the kind is parsed, the body is not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub kind: RecordKind,
    pub id: String,
    pub version: u64,
    pub body: String,
}

/// One line of the access log: a read of confidential data, or a denied request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    /// Assigned by the store on append (ignored when appending).
    pub seq: u64,
    pub at_us: i64,
    /// Who asked, as recorded in the ledger (`user:NAME@PARTICIPANT`, `operator`, `public`).
    pub actor: String,
    /// What was asked, e.g. `read pledge NLD-2025-001` or `list payments`.
    pub action: String,
    /// `allowed` or `denied`.
    pub outcome: String,
    /// How many records the answer held.
    pub rows: u64,
    /// The request id, to match the server's log.
    pub request_id: String,
}

pub trait Store: Clone + Send + Sync + 'static {
    /// The sequence number of the last event (0 when the ledger is empty).
    fn head(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Appends the commit's events after `expected_head` and writes its records and idempotency
    /// result in the same transaction. `Conflict` if the head is no longer `expected_head` or the
    /// idempotency key was taken meanwhile. Returns once the transaction is durable.
    fn commit(
        &self,
        expected_head: u64,
        commit: Commit,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Events with `seq > after`, at most `limit`, in order.
    fn events(
        &self,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredEvent>, StoreError>> + Send;

    /// Every read-side record, ordered by kind and id.
    fn records(&self) -> impl Future<Output = Result<Vec<StoredRecord>, StoreError>> + Send;

    fn find_idempotent(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<IdempotentResult>, StoreError>> + Send;

    /// The stored tree nodes among `ids` (missing ones are simply absent).
    fn tree_nodes(
        &self,
        ids: &[NodeId],
    ) -> impl Future<Output = Result<Vec<(NodeId, Hash)>, StoreError>> + Send;

    /// Stored tree nodes after `after` in (level, index) order, at most `limit`.
    fn tree_nodes_page(
        &self,
        after: Option<NodeId>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(NodeId, Hash)>, StoreError>> + Send;

    /// Leaf hashes of events with `seq > after`, at most `limit`, in order.
    fn leaf_hashes(
        &self,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(u64, Hash)>, StoreError>> + Send;

    /// Adds a checkpoint; `Conflict` if one of that size exists.
    fn add_checkpoint(
        &self,
        checkpoint: StoredCheckpoint,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every checkpoint, by size.
    fn checkpoints(&self)
        -> impl Future<Output = Result<Vec<StoredCheckpoint>, StoreError>> + Send;

    fn setting(&self, key: &str)
        -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Sets a setting once; `Conflict` if it is already set to something else.
    fn set_setting(
        &self,
        key: &str,
        value: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Sign-in data kept beside the ledger, never in it (credentials, sessions, API tokens): a
    /// JSON body by kind and id, which the application gives meaning to.
    fn secret(
        &self,
        kind: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// A secret and the ledger's head read together: what an authenticated request needs before
    /// anything else (the token or session, then the state at that head for the user's roles).
    /// A store that can answer both in one round trip does so.
    fn secret_and_head(
        &self,
        kind: &str,
        id: &str,
    ) -> impl Future<Output = Result<(Option<String>, u64), StoreError>> + Send {
        async move { Ok((self.secret(kind, id).await?, self.head().await?)) }
    }

    /// Inserts or replaces a secret.
    fn put_secret(
        &self,
        kind: &str,
        id: &str,
        body: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a secret (nothing happens if there is none).
    fn delete_secret(
        &self,
        kind: &str,
        id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every secret of a kind as (id, body), by id.
    fn secrets(
        &self,
        kind: &str,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;

    /// Appends to the access log (append-only), in order.
    fn log_access(
        &self,
        entries: Vec<AccessEntry>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Access log entries with `seq > after`, at most `limit`, in order.
    fn access_log(
        &self,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AccessEntry>, StoreError>> + Send;
}
