//! The embedded backend: one SQLite file in WAL mode with `synchronous = FULL`, so an
//! acknowledged write survives a crash or power loss.

mod checkpoint;
mod point;
mod reader;
mod writer;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use purl_core::merkle::{Hash, NodeId};
use purl_core::state::RecordKind;
use purl_store::{
    migrations, AccessEntry, Commit, IdempotencyColumns, IdempotentResult, Store, StoreError,
    StoredCheckpoint, StoredEvent, StoredRecord,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection as _, Sqlite, SqliteConnection, SqlitePool};

/// How long a writer waits for another to finish before giving up.
pub(crate) const BUSY_TIMEOUT_MS: u64 = 5_000;
/// One writer at a time is all SQLite allows; a few readers beside it.
const POOL_CONNECTIONS_MAX: u32 = 4;
/// Events read per query when streaming the ledger.
pub const EVENTS_PAGE_MAX: u32 = 10_000;
/// This backend's schema, in version order (applied when a store is opened).
const MIGRATIONS: migrations::Files = &[
    (
        "0001_ledger.sql",
        include_str!("../migrations/0001_ledger.sql"),
    ),
    (
        "0002_merkle_tree.sql",
        include_str!("../migrations/0002_merkle_tree.sql"),
    ),
    (
        "0003_sign_in_and_access_log.sql",
        include_str!("../migrations/0003_sign_in_and_access_log.sql"),
    ),
    (
        "0004_idempotency_request.sql",
        include_str!("../migrations/0004_idempotency_request.sql"),
    ),
];

#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    reader: reader::Reader,
    writer: writer::Writer,
    point_reads: std::sync::Arc<point::PointReads>,
    checkpointer: checkpoint::Checkpointer,
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

fn other(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict { what: "unique key" }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            unavailable(error)
        }
        sqlx::Error::Database(db)
            if db
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(crate::storage_unavailable) =>
        {
            unavailable(error)
        }
        _ => StoreError::Other(Box::new(error)),
    }
}

/// A failed rusqlite call as a store error: a broken unique key is a conflict, a storage failure
/// (busy, read-only, I/O, full) says the store is unavailable.
pub(crate) fn rusqlite_failed(error: rusqlite::Error) -> StoreError {
    match error.sqlite_error().map(|e| e.extended_code) {
        // SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE
        Some(1555 | 2067) => StoreError::Conflict { what: "unique key" },
        Some(code) if storage_unavailable(code) => StoreError::Unavailable(Box::new(error)),
        _ => StoreError::Other(Box::new(error)),
    }
}

/// Whether an SQLite result code says the storage, not the request, failed: busy or locked,
/// read-only, I/O error, disk full, cannot open (the primary code of an extended one).
pub(crate) fn storage_unavailable(code: i32) -> bool {
    matches!(code & 0xff, 5 | 6 | 8 | 10 | 13 | 14)
}

impl SqliteStore {
    /// Opens an existing database file (never creates one: that is `purl init`'s job) and
    /// applies pending migrations.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::NotFound);
        }
        Self::connect(path, false).await
    }

    /// Creates a new database file and its schema. Refuses if the file exists.
    pub async fn create(path: &Path) -> Result<Self, StoreError> {
        if path.exists() {
            return Err(StoreError::Conflict {
                what: "database file already exists",
            });
        }
        Self::connect(path, true).await
    }

    /// Opens a `sqlite:` URL (`sqlite:///path/to/file` or `sqlite:relative.db`).
    pub async fn open_url(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url).map_err(other)?;
        Self::open(options.get_filename()).await
    }

    async fn connect(path: &Path, create: bool) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Checkpoints are made by `checkpoint::Checkpointer`, not inside commits.
            .pragma("wal_autocheckpoint", "0")
            .busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS));
        let pool = SqlitePoolOptions::new()
            .max_connections(POOL_CONNECTIONS_MAX)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        migrations::migrator(MIGRATIONS)
            .await
            .map_err(|error| StoreError::Other(Box::new(error)))?
            .run(&pool)
            .await
            .map_err(|error| StoreError::Other(Box::new(error)))?;
        Ok(Self {
            checkpointer: checkpoint::Checkpointer::start(pool.clone()),
            pool,
            reader: reader::Reader::new(path),
            writer: writer::Writer::new(path),
            point_reads: std::sync::Arc::new(point::PointReads::new(path)),
        })
    }

    /// Runs SQLite's own consistency check of the file.
    pub async fn integrity_check(&self) -> Result<String, StoreError> {
        sqlx::query_scalar::<_, String>("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await
            .map_err(other)
    }

    /// A consistent copy of the database in a new file, taken while others keep reading and
    /// writing (`VACUUM INTO`).
    pub async fn backup(&self, path: &Path) -> Result<(), StoreError> {
        if path.exists() {
            return Err(StoreError::Conflict {
                what: "backup file already exists",
            });
        }
        let target = path.to_str().ok_or_else(|| StoreError::Corrupt {
            detail: "the backup path is not UTF-8".into(),
        })?;
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.pool)
            .await
            .map_err(other)?;
        Ok(())
    }

    /// For tests and tools that must reach below the trait (e.g. to tamper with a copy).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection to the file: the pool's and those of the writer and readers.
    pub async fn close(&self) {
        self.writer.close();
        self.reader.close();
        self.point_reads.close();
        self.pool.close().await;
    }
}

impl Store for SqliteStore {
    async fn head(&self) -> Result<u64, StoreError> {
        let head: i64 = match self.point_reads.head() {
            Some(head) => head,
            None => sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
                .fetch_one(&self.pool)
                .await
                .map_err(other)?,
        };
        u64::try_from(head).map_err(|_| StoreError::Corrupt {
            detail: format!("negative head {head}"),
        })
    }

    async fn commit(&self, expected_head: u64, commit: Commit) -> Result<(), StoreError> {
        self.writer.commit(expected_head, commit).await
    }

    async fn events(&self, after: u64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        self.reader
            .events(to_i64(after)?, limit.min(EVENTS_PAGE_MAX))
            .await
    }

    async fn records(&self) -> Result<Vec<StoredRecord>, StoreError> {
        self.reader.records().await
    }

    async fn find_idempotent(&self, key: &str) -> Result<Option<IdempotentResult>, StoreError> {
        let row: Option<IdempotencyColumns> = sqlx::query_as(
            "SELECT key, request_hash, response, at_us, request FROM idempotency WHERE key = ?",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(other)?;
        Ok(row.map(IdempotentResult::from))
    }

    async fn tree_nodes(&self, ids: &[NodeId]) -> Result<Vec<(NodeId, Hash)>, StoreError> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            let row: Option<(Vec<u8>,)> =
                sqlx::query_as("SELECT hash FROM tree_nodes WHERE level = ? AND idx = ?")
                    .bind(i64::from(id.level))
                    .bind(to_i64(id.index)?)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(other)?;
            if let Some((hash,)) = row {
                found.push((*id, to_hash(hash, "a tree node hash")?));
            }
        }
        Ok(found)
    }

    async fn tree_nodes_page(
        &self,
        after: Option<NodeId>,
        limit: u32,
    ) -> Result<Vec<(NodeId, Hash)>, StoreError> {
        let (level, index) = after.map_or((-1, -1), |id| {
            (
                i64::from(id.level),
                i64::try_from(id.index).unwrap_or(i64::MAX),
            )
        });
        self.reader
            .tree_nodes_page(level, index, limit.min(EVENTS_PAGE_MAX * 2))
            .await
    }

    async fn leaf_hashes(&self, after: u64, limit: u32) -> Result<Vec<(u64, Hash)>, StoreError> {
        self.reader
            .leaf_hashes(to_i64(after)?, limit.min(EVENTS_PAGE_MAX * 10))
            .await
    }

    async fn add_checkpoint(&self, checkpoint: StoredCheckpoint) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO checkpoints (size, root, note, at_us) VALUES (?, ?, ?, ?)")
            .bind(to_i64(checkpoint.size)?)
            .bind(checkpoint.root.as_slice())
            .bind(&checkpoint.note)
            .bind(checkpoint.at_us)
            .execute(&self.pool)
            .await
            .map_err(other)?;
        self.checkpointer.after_write();
        Ok(())
    }

    async fn checkpoints(&self) -> Result<Vec<StoredCheckpoint>, StoreError> {
        let rows: Vec<(i64, Vec<u8>, String, i64)> =
            sqlx::query_as("SELECT size, root, note, at_us FROM checkpoints ORDER BY size")
                .fetch_all(&self.pool)
                .await
                .map_err(other)?;
        rows.into_iter()
            .map(|(size, root, note, at_us)| {
                let size = u64::try_from(size).map_err(|_| StoreError::Corrupt {
                    detail: format!("checkpoint size {size}"),
                })?;
                Ok(StoredCheckpoint {
                    size,
                    root: to_hash(root, "a checkpoint root")?,
                    note,
                    at_us,
                })
            })
            .collect()
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(other)
    }

    async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        if let Some(existing) = self.setting(key).await? {
            return if existing == value {
                Ok(())
            } else {
                Err(StoreError::Conflict {
                    what: "setting already set",
                })
            };
        }
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?)")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(other)?;
        self.checkpointer.after_write();
        Ok(())
    }

    async fn secret(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        if let Some(found) = self.point_reads.secret(kind, id) {
            return Ok(found);
        }
        sqlx::query_scalar("SELECT body FROM secrets WHERE kind = ? AND id = ?")
            .bind(kind)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(other)
    }

    async fn put_secret(&self, kind: &str, id: &str, body: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO secrets (kind, id, body) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body")
            .bind(kind)
            .bind(id)
            .bind(body)
            .execute(&self.pool)
            .await
            .map_err(other)?;
        self.checkpointer.after_write();
        Ok(())
    }

    async fn delete_secret(&self, kind: &str, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM secrets WHERE kind = ? AND id = ?")
            .bind(kind)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(other)?;
        self.checkpointer.after_write();
        Ok(())
    }

    async fn secrets(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query_as("SELECT id, body FROM secrets WHERE kind = ? ORDER BY id")
            .bind(kind)
            .fetch_all(&self.pool)
            .await
            .map_err(other)
    }

    async fn log_access(&self, entries: Vec<AccessEntry>) -> Result<(), StoreError> {
        let mut connection = begin(&self.pool).await?;
        let written = write_access_log(&mut connection, entries).await;
        end(connection, written).await?;
        self.checkpointer.after_write();
        Ok(())
    }

    async fn access_log(&self, after: u64, limit: u32) -> Result<Vec<AccessEntry>, StoreError> {
        let rows: Vec<(i64, i64, String, String, String, i64, String)> = sqlx::query_as("SELECT seq, at_us, actor, action, outcome, rows, request_id FROM access_log WHERE seq > ? ORDER BY seq LIMIT ?")
            .bind(i64::try_from(after).unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(other)?;
        rows.into_iter()
            .map(|(seq, at_us, actor, action, outcome, rows, request_id)| {
                let count = |value: i64, what: &str| {
                    u64::try_from(value).map_err(|_| StoreError::Corrupt {
                        detail: format!("access log {what} {value} is negative"),
                    })
                };
                Ok(AccessEntry {
                    seq: count(seq, "sequence number")?,
                    at_us,
                    actor,
                    action,
                    outcome,
                    rows: count(rows, "row count")?,
                    request_id,
                })
            })
            .collect()
    }
}

fn to_hash(bytes: Vec<u8>, what: &str) -> Result<Hash, StoreError> {
    Hash::try_from(bytes).map_err(|_| StoreError::Corrupt {
        detail: format!("{what} is not 32 bytes"),
    })
}

pub(crate) fn to_node(level: i64, index: i64, hash: Vec<u8>) -> Result<(NodeId, Hash), StoreError> {
    let corrupt = || StoreError::Corrupt {
        detail: format!("tree node ({level}, {index}) has a negative position"),
    };
    let id = NodeId {
        level: u32::try_from(level).map_err(|_| corrupt())?,
        index: u64::try_from(index).map_err(|_| corrupt())?,
    };
    Ok((id, to_hash(hash, "a tree node hash")?))
}

fn to_i64(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Corrupt {
        detail: format!("{value} exceeds i64"),
    })
}

/// Parses a stored kind name, reporting an unknown one as corrupt data.
pub(crate) fn parse_kind(kind: &str) -> Result<RecordKind, StoreError> {
    RecordKind::parse(kind).ok_or_else(|| StoreError::Corrupt {
        detail: format!("unknown record kind '{kind}'"),
    })
}

async fn write_access_log(
    transaction: &mut SqliteConnection,
    entries: Vec<AccessEntry>,
) -> Result<(), StoreError> {
    for entry in entries {
        sqlx::query("INSERT INTO access_log (at_us, actor, action, outcome, rows, request_id) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(entry.at_us)
            .bind(entry.actor)
            .bind(entry.action)
            .bind(entry.outcome)
            .bind(i64::try_from(entry.rows).unwrap_or(i64::MAX))
            .bind(entry.request_id)
            .execute(&mut *transaction)
            .await
            .map_err(other)?;
    }
    Ok(())
}

/// A connection with a write transaction open on it.
async fn begin(pool: &SqlitePool) -> Result<Writing, StoreError> {
    let mut connection = Writing(Some(pool.acquire().await.map_err(other)?));
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *connection)
        .await
        .map_err(other)?;
    Ok(connection)
}

/// A pooled connection with a write transaction open on it. If it is dropped before `end` (the
/// write's future was cancelled), the connection is closed, which rolls the transaction back,
/// rather than given back to the pool still inside it.
struct Writing(Option<sqlx::pool::PoolConnection<Sqlite>>);

impl std::ops::Deref for Writing {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.0.as_ref().expect("a connection until the write ends")
    }
}

impl std::ops::DerefMut for Writing {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.0.as_mut().expect("a connection until the write ends")
    }
}

impl Drop for Writing {
    fn drop(&mut self) {
        if let Some(connection) = self.0.take() {
            drop(connection.detach());
        }
    }
}

/// Commits what was `written` on `connection`, or rolls it back if writing failed.
async fn end(mut writing: Writing, written: Result<(), StoreError>) -> Result<(), StoreError> {
    let committed = match written {
        Ok(()) => sqlx::query("COMMIT")
            .execute(&mut *writing)
            .await
            .map(|_| ())
            .map_err(other),
        Err(error) => Err(error),
    };
    let connection = writing.0.take().expect("a connection until the write ends");
    if committed.is_err() {
        roll_back(connection).await;
    }
    committed
}

/// Ends a failed write's transaction. SQLite rolls a transaction back by itself on some errors (a
/// full disk, an I/O error), so `ROLLBACK` may fail then; a connection whose state is in doubt is
/// closed rather than given back to the pool, so one failed write never poisons the ones after it.
async fn roll_back(mut connection: sqlx::pool::PoolConnection<Sqlite>) {
    if sqlx::query("ROLLBACK")
        .execute(&mut *connection)
        .await
        .is_err()
    {
        let _ = connection.detach().close().await;
    }
}

#[cfg(test)]
#[tokio::test]
async fn the_embedded_migrations_are_the_folders() {
    migrations::assert_same_as_folder(MIGRATIONS, env!("CARGO_MANIFEST_DIR")).await;
}
