//! Commits of the ledger through one read-write rusqlite connection: the whole transaction —
//! head check, events, records, tree nodes, idempotency results — runs in one blocking call, where
//! through sqlx each statement was a hand-off to its worker thread and back (about seven per
//! commit, each costing more than the statement itself).
//!
//! The same task checkpoints the write-ahead log after a commit has been answered, at most every
//! [`CHECKPOINT_INTERVAL`]: with no other ledger commit running, the checkpoint copies every frame
//! back, so the next commit starts the log again from its beginning. (A checkpoint beside a steady
//! stream of commits never catches up: the log then grows without end, and each commit, which
//! extends the file, costs more to sync.)

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use purl_store::{Commit, StoreError};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::{rusqlite_failed as failed, to_i64, BUSY_TIMEOUT_MS};

/// The shortest time between two checkpoints made after commits.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(50);

#[derive(Debug, Clone)]
pub(crate) struct Writer {
    path: PathBuf,
    connection: Arc<Mutex<Option<Open>>>,
}

#[derive(Debug)]
struct Open {
    connection: Connection,
    checkpointed: Instant,
}

fn open(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
    connection
        .busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS))
        .map_err(failed)?;
    // The same settings as the pool's connections: durable at commit, no checkpoint inside a
    // commit (this writer makes its own after answering, see `Writer::commit`).
    connection
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;",
        )
        .map_err(failed)?;
    Ok(connection)
}

impl Writer {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            connection: Arc::new(Mutex::new(None)),
        }
    }

    /// Closes the connection, once a commit running on it has ended (a later commit opens it
    /// again).
    pub(crate) fn close(&self) {
        let mut guard = self
            .connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *guard = None;
    }

    /// Writes `commit` in one transaction if the ledger's head is still `expected_head`. Once
    /// started, it runs to its end even if the caller stops waiting.
    pub(crate) async fn commit(
        &self,
        expected_head: u64,
        commit: Commit,
    ) -> Result<(), StoreError> {
        let (path, connection) = (self.path.clone(), Arc::clone(&self.connection));
        let (answer, answered) = tokio::sync::oneshot::channel();
        tokio::task::spawn_blocking(move || {
            // A panic while the connection was held leaves it in doubt: it is opened again.
            let mut guard = connection.lock().unwrap_or_else(|poisoned| {
                let mut guard = poisoned.into_inner();
                *guard = None;
                guard
            });
            connection.clear_poison();
            let written = write_on(&mut guard, &path, expected_head, &commit);
            let committed = written.is_ok();
            let _ = answer.send(written);
            if let Some(open) = guard.as_mut().filter(|_| committed) {
                open.checkpoint_if_due();
            }
        });
        answered.await.unwrap_or_else(|_| {
            Err(StoreError::Other(
                "the commit's task ended without an answer".into(),
            ))
        })
    }
}

/// Writes `commit` on the connection in `slot`, opening one if there is none, and closes it
/// again if the failure leaves it in doubt: SQLite rolls back by itself on some errors (a full
/// disk, an I/O error), and the next commit then starts on a new connection.
fn write_on(
    slot: &mut Option<Open>,
    path: &Path,
    expected_head: u64,
    commit: &Commit,
) -> Result<(), StoreError> {
    if slot.is_none() {
        *slot = Some(Open {
            connection: open(path)?,
            checkpointed: Instant::now(),
        });
    }
    let connection = &mut slot.as_mut().expect("opened above").connection;
    let written = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(failed)
        .and_then(|transaction| {
            write_commit(&transaction, expected_head, commit)?;
            transaction.commit().map_err(failed)
        });
    if written.is_err()
        && (!connection.is_autocommit() || matches!(written, Err(StoreError::Unavailable(_))))
    {
        *slot = None;
    }
    written
}

impl Open {
    /// Checkpoints the log if the last checkpoint is [`CHECKPOINT_INTERVAL`] old. PASSIVE: copies
    /// what no reader still needs and never waits for anyone.
    fn checkpoint_if_due(&mut self) {
        if self.checkpointed.elapsed() < CHECKPOINT_INTERVAL {
            return;
        }
        if let Err(error) = self
            .connection
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
        {
            tracing::debug!(%error, "WAL checkpoint not made; a later commit retries");
        }
        self.checkpointed = Instant::now();
    }
}

/// Writes one commit inside `transaction`.
fn write_commit(
    transaction: &Transaction<'_>,
    expected_head: u64,
    commit: &Commit,
) -> Result<(), StoreError> {
    let head: i64 = transaction
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events")
        .and_then(|mut statement| statement.query_row([], |row| row.get(0)))
        .map_err(failed)?;
    if u64::try_from(head).ok() != Some(expected_head) {
        return Err(StoreError::Conflict {
            what: "ledger head",
        });
    }
    let mut last_seq = to_i64(expected_head)?;
    let mut insert = transaction
        .prepare_cached(
            "INSERT INTO events (seq, at_us, actor, kind, body, salt, leaf_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(failed)?;
    for event in &commit.events {
        let seq = to_i64(event.seq)?;
        assert_eq!(
            seq,
            last_seq + 1,
            "the app numbers a commit's events from the head on"
        );
        last_seq = seq;
        insert
            .execute((
                seq,
                event.at_us,
                &event.actor,
                &event.kind,
                &event.bytes,
                &event.salt,
                &event.leaf_hash,
            ))
            .map_err(failed)?;
    }
    let mut upsert = transaction
        .prepare_cached(
            "INSERT INTO records (kind, id, version, body, last_seq) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (kind, id) DO UPDATE SET version = excluded.version, body = excluded.body, last_seq = excluded.last_seq",
        )
        .map_err(failed)?;
    for record in &commit.records {
        upsert
            .execute((
                record.key.kind.as_str(),
                &record.key.id,
                to_i64(record.version)?,
                &record.body,
                last_seq,
            ))
            .map_err(failed)?;
    }
    let mut node = transaction
        .prepare_cached("INSERT INTO tree_nodes (level, idx, hash) VALUES (?1, ?2, ?3)")
        .map_err(failed)?;
    for (id, hash) in &commit.nodes {
        node.execute((i64::from(id.level), to_i64(id.index)?, hash.as_slice()))
            .map_err(failed)?;
    }
    let mut result = transaction
        .prepare_cached(
            "INSERT INTO idempotency (key, request_hash, response, at_us, request) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(failed)?;
    for kept in &commit.idempotency {
        result
            .execute((
                &kept.key,
                &kept.request_hash,
                &kept.response,
                kept.at_us,
                &kept.request,
            ))
            .map_err(failed)?;
    }
    Ok(())
}
