//! Row structs of this backend, converted into the store's types (and re-checked) on read.

use purl_store::{IdempotentResult, StoreError, StoredEvent, StoredRecord};

use crate::parse_kind;

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    seq: i64,
    at_us: i64,
    actor: String,
    kind: String,
    body: Vec<u8>,
    salt: Vec<u8>,
    leaf_hash: Vec<u8>,
}

impl TryFrom<EventRow> for StoredEvent {
    type Error = StoreError;
    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let seq = u64::try_from(row.seq).map_err(|_| StoreError::Corrupt {
            detail: format!("event sequence number {} is negative", row.seq),
        })?;
        Ok(StoredEvent {
            seq,
            at_us: row.at_us,
            actor: row.actor,
            kind: row.kind,
            bytes: row.body,
            salt: row.salt,
            leaf_hash: row.leaf_hash,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RecordRow {
    kind: String,
    id: String,
    version: i64,
    body: String,
}

impl TryFrom<RecordRow> for StoredRecord {
    type Error = StoreError;
    fn try_from(row: RecordRow) -> Result<Self, StoreError> {
        let version = u64::try_from(row.version).map_err(|_| StoreError::Corrupt {
            detail: format!("record {} {} has negative version", row.kind, row.id),
        })?;
        Ok(StoredRecord {
            kind: parse_kind(&row.kind)?,
            id: row.id,
            version,
            body: row.body,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct IdempotencyRow {
    key: String,
    request_hash: String,
    response: String,
    at_us: i64,
}

impl From<IdempotencyRow> for IdempotentResult {
    fn from(row: IdempotencyRow) -> Self {
        IdempotentResult {
            key: row.key,
            request_hash: row.request_hash,
            response: row.response,
            at_us: row.at_us,
        }
    }
}
