//! Bulk reads (the ledger, the tree, the read side) through one read-only rusqlite connection:
//! sqlx hands each row through a channel, which makes scanning a million events twenty times
//! slower. Reads see only committed transactions (WAL), so they may run beside sqlx's writes.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use purl_core::merkle::{Hash, NodeId};
use purl_store::{StoreError, StoredEvent, StoredRecord};
use rusqlite::{Connection, OpenFlags};

use crate::{parse_kind, rusqlite_failed as failed, BUSY_TIMEOUT_MS};

#[derive(Debug, Clone)]
pub(crate) struct Reader {
    path: PathBuf,
    connection: Arc<Mutex<Option<Connection>>>,
}

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt { detail }
}

impl Reader {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            connection: Arc::new(Mutex::new(None)),
        }
    }

    /// Closes the connection, once a read running on it has ended (a later read opens it again).
    pub(crate) fn close(&self) {
        if let Ok(mut guard) = self.connection.lock() {
            *guard = None;
        }
    }

    /// Runs `read` on the reader connection in a blocking thread.
    async fn with<T: Send + 'static>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (path, connection) = (self.path.clone(), Arc::clone(&self.connection));
        tokio::task::spawn_blocking(move || {
            let mut guard = connection
                .lock()
                .map_err(|_| corrupt("the reader connection was poisoned".into()))?;
            if guard.is_none() {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let opened = Connection::open_with_flags(&path, flags)
                    .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
                opened
                    .busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))
                    .map_err(failed)?;
                *guard = Some(opened);
            }
            read(guard.as_ref().expect("opened above"))
        })
        .await
        .map_err(|e| StoreError::Other(Box::new(e)))?
    }

    pub(crate) async fn events(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.with(move |connection| {
            let mut statement = connection
                .prepare_cached("SELECT seq, at_us, actor, kind, body, salt, leaf_hash FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2")
                .map_err(failed)?;
            let rows = statement
                .query_map((after, limit), |row| {
                    Ok((row.get::<_, i64>(0)?, row.get(1)?, lossy_text(row, 2)?, lossy_text(row, 3)?, row.get(4)?, row.get(5)?, row.get(6)?))
                })
                .map_err(failed)?;
            rows.map(|row| {
                let (seq, at_us, actor, kind, bytes, salt, leaf_hash) = row.map_err(failed)?;
                let seq = u64::try_from(seq).map_err(|_| corrupt(format!("event sequence number {seq} is negative")))?;
                Ok(StoredEvent { seq, at_us, actor, kind, bytes, salt, leaf_hash })
            })
            .collect()
        })
        .await
    }

    pub(crate) async fn leaf_hashes(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<(u64, Hash)>, StoreError> {
        self.with(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT seq, leaf_hash FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                )
                .map_err(failed)?;
            let rows = statement
                .query_map((after, limit), |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, Vec<u8>>(1)?))
                })
                .map_err(failed)?;
            rows.map(|row| {
                let (seq, hash) = row.map_err(failed)?;
                let hash = Hash::try_from(hash).map_err(|_| {
                    corrupt(format!("the leaf hash of event {seq} is not 32 bytes"))
                })?;
                Ok((
                    u64::try_from(seq).map_err(|_| corrupt(format!("event {seq} is negative")))?,
                    hash,
                ))
            })
            .collect()
        })
        .await
    }

    pub(crate) async fn tree_nodes_page(
        &self,
        level: i64,
        index: i64,
        limit: u32,
    ) -> Result<Vec<(NodeId, Hash)>, StoreError> {
        self.with(move |connection| {
            let mut statement = connection
                .prepare_cached("SELECT level, idx, hash FROM tree_nodes WHERE (level, idx) > (?1, ?2) ORDER BY level, idx LIMIT ?3")
                .map_err(failed)?;
            let rows = statement
                .query_map((level, index, limit), |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, Vec<u8>>(2)?)))
                .map_err(failed)?;
            rows.map(|row| {
                let (level, index, hash) = row.map_err(failed)?;
                crate::to_node(level, index, hash)
            })
            .collect()
        })
        .await
    }

    pub(crate) async fn records(&self) -> Result<Vec<StoredRecord>, StoreError> {
        self.with(move |connection| {
            let mut statement = connection
                .prepare_cached("SELECT kind, id, version, body FROM records ORDER BY kind, id")
                .map_err(failed)?;
            let rows = statement
                .query_map((), |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, i64>(2)?,
                        row.get::<_, String>(3)?,
                    ))
                })
                .map_err(failed)?;
            rows.map(|row| {
                let (kind, id, version, body) = row.map_err(failed)?;
                let version = u64::try_from(version)
                    .map_err(|_| corrupt(format!("record {kind} {id} has a negative version")))?;
                Ok(StoredRecord {
                    kind: parse_kind(&kind)?,
                    id,
                    version,
                    body,
                })
            })
            .collect()
        })
        .await
    }
}

/// A text column as stored, invalid UTF-8 replaced: `purl verify` then reports the column as not
/// matching the event's own bytes, naming the event, instead of failing to read the ledger.
fn lossy_text(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<String> {
    match row.get_ref(index)? {
        rusqlite::types::ValueRef::Text(bytes) | rusqlite::types::ValueRef::Blob(bytes) => {
            Ok(String::from_utf8_lossy(bytes).into_owned())
        }
        _ => row.get(index),
    }
}
