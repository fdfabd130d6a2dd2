//! Either backend behind one concrete type, so the HTTP handlers (and the OpenAPI document
//! generated from them) are written once.

use purl_core::merkle::{Hash, NodeId};
use purl_store::{
    AccessEntry, Commit, IdempotentResult, Store, StoreError, StoredCheckpoint, StoredEvent,
    StoredRecord,
};
use purl_store_postgres::PostgresStore;
use purl_store_sqlite::SqliteStore;

#[derive(Clone)]
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

macro_rules! delegate {
    ($self:ident, $method:ident ( $($arg:expr),* )) => {
        match $self {
            AnyStore::Sqlite(store) => store.$method($($arg),*).await,
            AnyStore::Postgres(store) => store.$method($($arg),*).await,
        }
    };
}

impl Store for AnyStore {
    async fn head(&self) -> Result<u64, StoreError> {
        delegate!(self, head())
    }

    async fn commit(&self, expected_head: u64, commit: Commit) -> Result<(), StoreError> {
        delegate!(self, commit(expected_head, commit))
    }

    async fn events(&self, after: u64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        delegate!(self, events(after, limit))
    }

    async fn records(&self) -> Result<Vec<StoredRecord>, StoreError> {
        delegate!(self, records())
    }

    async fn find_idempotent(&self, key: &str) -> Result<Option<IdempotentResult>, StoreError> {
        delegate!(self, find_idempotent(key))
    }

    async fn tree_nodes(&self, ids: &[NodeId]) -> Result<Vec<(NodeId, Hash)>, StoreError> {
        delegate!(self, tree_nodes(ids))
    }

    async fn tree_nodes_page(
        &self,
        after: Option<NodeId>,
        limit: u32,
    ) -> Result<Vec<(NodeId, Hash)>, StoreError> {
        delegate!(self, tree_nodes_page(after, limit))
    }

    async fn leaf_hashes(&self, after: u64, limit: u32) -> Result<Vec<(u64, Hash)>, StoreError> {
        delegate!(self, leaf_hashes(after, limit))
    }

    async fn add_checkpoint(&self, checkpoint: StoredCheckpoint) -> Result<(), StoreError> {
        delegate!(self, add_checkpoint(checkpoint))
    }

    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        delegate!(self, checkpoints())
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        delegate!(self, setting(key))
    }

    async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        delegate!(self, set_setting(key, value))
    }

    async fn secret_and_head(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<(Option<String>, u64), StoreError> {
        delegate!(self, secret_and_head(kind, id))
    }

    async fn secret(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        delegate!(self, secret(kind, id))
    }

    async fn put_secret(&self, kind: &str, id: &str, body: &str) -> Result<(), StoreError> {
        delegate!(self, put_secret(kind, id, body))
    }

    async fn delete_secret(&self, kind: &str, id: &str) -> Result<(), StoreError> {
        delegate!(self, delete_secret(kind, id))
    }

    async fn secrets(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        delegate!(self, secrets(kind))
    }

    async fn log_access(&self, entries: Vec<AccessEntry>) -> Result<(), StoreError> {
        delegate!(self, log_access(entries))
    }

    async fn access_log(&self, after: u64, limit: u32) -> Result<Vec<AccessEntry>, StoreError> {
        delegate!(self, access_log(after, limit))
    }
}
