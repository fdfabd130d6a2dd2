//! The PostgreSQL backend: the same tables and contract as SQLite, for installations where several
//! `purl serve` processes share one database. Appends are serialised by a transaction-scoped
//! advisory lock, so the ledger has one sequence without gaps or forks.

use std::str::FromStr;
use std::time::Duration;

use purl_core::merkle::{Hash, NodeId};
use purl_core::state::RecordKind;
use purl_store::{
    migrations, AccessEntry, Commit, IdempotencyColumns, IdempotentResult, Store, StoreError,
    StoredCheckpoint, StoredEvent, StoredRecord,
};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

/// The advisory lock every append takes (an arbitrary constant: "PURL" in ASCII).
const APPEND_LOCK: i64 = 0x5055_524c;
/// Connections per process.
const POOL_CONNECTIONS_MAX: u32 = 8;
/// How long a request waits for a connection (a free one, or a new one while the server is
/// starting or unreachable) before it is answered "unavailable": long enough to ride out a quick
/// restart, short enough that callers learn of an outage soon and retry.
pub const ACQUIRE_TIMEOUT_S: u64 = 5;
/// A statement running longer than this is cancelled rather than holding the ledger.
const STATEMENT_TIMEOUT_MS: u64 = 30_000;
/// Rows read per query when scanning.
pub const PAGE_ROWS_MAX: u32 = 10_000;
/// This backend's schema, in version order (`purl migrate` applies what is pending).
const MIGRATIONS: migrations::Files = &[
    (
        "0001_ledger.sql",
        include_str!("../migrations/0001_ledger.sql"),
    ),
    (
        "0002_sign_in_and_access_log.sql",
        include_str!("../migrations/0002_sign_in_and_access_log.sql"),
    ),
    (
        "0003_idempotency_request.sql",
        include_str!("../migrations/0003_idempotency_request.sql"),
    ),
    (
        "0004_append_function.sql",
        include_str!("../migrations/0004_append_function.sql"),
    ),
];

#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::Unavailable(Box::new(error))
}

fn other(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict { what: "unique key" }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::Io(_)
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => unavailable(error),
        // Connection lost (08), out of disk or memory (53), the server shutting down (57), a
        // system error (58), a read-only transaction (25006): the database, not the request.
        sqlx::Error::Database(db)
            if db.code().is_some_and(|code| {
                ["08", "53", "57", "58"]
                    .iter()
                    .any(|class| code.starts_with(class))
                    || code == "25006"
            }) =>
        {
            unavailable(error)
        }
        _ => StoreError::Other(Box::new(error)),
    }
}

fn corrupt(detail: String) -> StoreError {
    StoreError::Corrupt { detail }
}

fn to_i64(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| corrupt(format!("{value} exceeds i64")))
}

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| corrupt(format!("{what} {value} is negative")))
}

fn to_hash(bytes: Vec<u8>, what: &str) -> Result<Hash, StoreError> {
    Hash::try_from(bytes).map_err(|_| corrupt(format!("{what} is not 32 bytes")))
}

impl PostgresStore {
    /// Connects with explicit options (pool size, statement timeout) and, if `search_path` is
    /// given, uses that schema.
    pub async fn connect(url: &str, search_path: Option<&str>) -> Result<Self, StoreError> {
        let mut options = PgConnectOptions::from_str(url).map_err(other)?;
        let timeout = format!("{STATEMENT_TIMEOUT_MS}");
        options = options.options([("statement_timeout", timeout.as_str())]);
        if let Some(schema) = search_path {
            options = options.options([("search_path", schema)]);
        }
        let pool = PgPoolOptions::new()
            .max_connections(POOL_CONNECTIONS_MAX)
            .acquire_timeout(Duration::from_secs(ACQUIRE_TIMEOUT_S))
            // No ping before every statement (sqlx's default): it doubled the round trips of
            // each request. A connection the server dropped fails its next statement instead, is
            // closed by the pool, and that one request is answered 503 (safe to retry).
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(unavailable)?;
        Ok(Self { pool })
    }

    /// Applies pending migrations (`purl migrate`).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrations::migrator(MIGRATIONS)
            .await
            .map_err(|error| StoreError::Other(Box::new(error)))?
            .run(&self.pool)
            .await
            .map_err(|error| StoreError::Other(Box::new(error)))
    }

    /// How many of this build's migrations the database has not applied (`purl migrate` applies
    /// them; the server refuses to start while any are pending).
    /// Settings of the server that would lose acknowledged writes in a crash (`fsync`,
    /// `synchronous_commit`, `full_page_writes` off), each named with its value.
    pub async fn durability_problems(&self) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        for setting in ["fsync", "synchronous_commit", "full_page_writes"] {
            let value: String = sqlx::query_scalar(&format!("SHOW {setting}"))
                .fetch_one(&self.pool)
                .await
                .map_err(other)?;
            if value == "off" || (setting == "synchronous_commit" && value == "local") {
                problems.push(format!("{setting} = {value}"));
            }
        }
        Ok(problems)
    }

    pub async fn pending_migrations(&self) -> Result<usize, StoreError> {
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await
            .map_err(other)?;
        let applied: Vec<i64> = if exists {
            sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
                .fetch_all(&self.pool)
                .await
                .map_err(other)?
        } else {
            Vec::new()
        };
        Ok(migrations::versions(MIGRATIONS)
            .filter(|version| !applied.contains(version))
            .count())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

type EventRow = (i64, i64, String, String, Vec<u8>, Vec<u8>, Vec<u8>);

impl Store for PostgresStore {
    async fn head(&self) -> Result<u64, StoreError> {
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0)::BIGINT FROM events")
            .fetch_one(&self.pool)
            .await
            .map_err(other)?;
        to_u64(head, "head")
    }

    async fn commit(&self, expected_head: u64, commit: Commit) -> Result<(), StoreError> {
        for (expected_seq, event) in (to_i64(expected_head)? + 1..).zip(&commit.events) {
            assert_eq!(
                to_i64(event.seq)?,
                expected_seq,
                "the app numbers a commit's events from the head on"
            );
        }
        let (events, records, nodes, kept) = (
            &commit.events,
            &commit.records,
            &commit.nodes,
            &commit.idempotency,
        );
        let seqs = events
            .iter()
            .map(|event| to_i64(event.seq))
            .collect::<Result<Vec<_>, _>>()?;
        let versions = records
            .iter()
            .map(|record| to_i64(record.version))
            .collect::<Result<Vec<_>, _>>()?;
        let levels = nodes
            .iter()
            .map(|(id, _)| i32::try_from(id.level).map_err(|_| corrupt("tree level".into())))
            .collect::<Result<Vec<_>, _>>()?;
        let indexes = nodes
            .iter()
            .map(|(id, _)| to_i64(id.index))
            .collect::<Result<Vec<_>, _>>()?;
        // One call, one round trip: the function (migration 0004) takes the append lock, checks
        // the head and writes everything, as its own transaction.
        let appended: bool = sqlx::query_scalar(
            "SELECT purl_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        )
        .bind(to_i64(expected_head)?)
        .bind(APPEND_LOCK)
        .bind(seqs)
        .bind(events.iter().map(|e| e.at_us).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.actor.as_str()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.bytes.as_slice()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.salt.as_slice()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.leaf_hash.as_slice()).collect::<Vec<_>>())
        .bind(records.iter().map(|r| r.key.kind.as_str()).collect::<Vec<_>>())
        .bind(records.iter().map(|r| r.key.id.as_str()).collect::<Vec<_>>())
        .bind(versions)
        .bind(records.iter().map(|r| r.body.as_str()).collect::<Vec<_>>())
        .bind(levels)
        .bind(indexes)
        .bind(nodes.iter().map(|(_, hash)| hash.as_slice()).collect::<Vec<_>>())
        .bind(kept.iter().map(|k| k.key.as_str()).collect::<Vec<_>>())
        .bind(kept.iter().map(|k| k.request_hash.as_str()).collect::<Vec<_>>())
        .bind(kept.iter().map(|k| k.response.as_str()).collect::<Vec<_>>())
        .bind(kept.iter().map(|k| k.at_us).collect::<Vec<_>>())
        .bind(kept.iter().map(|k| k.request.as_deref()).collect::<Vec<_>>())
        .fetch_one(&self.pool)
        .await
        .map_err(other)?;
        if appended {
            Ok(())
        } else {
            Err(StoreError::Conflict {
                what: "ledger head",
            })
        }
    }

    async fn events(&self, after: u64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as("SELECT seq, at_us, actor, kind, body, salt, leaf_hash FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(to_i64(after)?)
            .bind(i64::from(limit.min(PAGE_ROWS_MAX)))
            .fetch_all(&self.pool)
            .await
            .map_err(other)?;
        rows.into_iter()
            .map(|(seq, at_us, actor, kind, bytes, salt, leaf_hash)| {
                Ok(StoredEvent {
                    seq: to_u64(seq, "event sequence number")?,
                    at_us,
                    actor,
                    kind,
                    bytes,
                    salt,
                    leaf_hash,
                })
            })
            .collect()
    }

    async fn records(&self) -> Result<Vec<StoredRecord>, StoreError> {
        let rows: Vec<(String, String, i64, String)> =
            sqlx::query_as("SELECT kind, id, version, body FROM records ORDER BY kind COLLATE \"C\", id COLLATE \"C\"")
                .fetch_all(&self.pool)
                .await
                .map_err(other)?;
        rows.into_iter()
            .map(|(kind, id, version, body)| {
                let parsed = RecordKind::parse(&kind)
                    .ok_or_else(|| corrupt(format!("unknown record kind '{kind}'")))?;
                Ok(StoredRecord {
                    kind: parsed,
                    id,
                    version: to_u64(version, "record version")?,
                    body,
                })
            })
            .collect()
    }

    async fn find_idempotent(&self, key: &str) -> Result<Option<IdempotentResult>, StoreError> {
        let row: Option<IdempotencyColumns> = sqlx::query_as(
            "SELECT key, request_hash, response, at_us, request FROM idempotency WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(other)?;
        Ok(row.map(IdempotentResult::from))
    }

    async fn tree_nodes(&self, ids: &[NodeId]) -> Result<Vec<(NodeId, Hash)>, StoreError> {
        let levels: Vec<i32> = ids
            .iter()
            .map(|id| i32::try_from(id.level).unwrap_or(i32::MAX))
            .collect();
        let indexes: Vec<i64> = ids
            .iter()
            .map(|id| i64::try_from(id.index).unwrap_or(i64::MAX))
            .collect();
        let rows: Vec<(i32, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT t.level, t.idx, t.hash FROM tree_nodes t JOIN UNNEST($1::INTEGER[], $2::BIGINT[]) AS wanted (level, idx)
             ON t.level = wanted.level AND t.idx = wanted.idx",
        )
        .bind(&levels)
        .bind(&indexes)
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.into_iter()
            .map(|(level, index, hash)| node(level, index, hash))
            .collect()
    }

    async fn tree_nodes_page(
        &self,
        after: Option<NodeId>,
        limit: u32,
    ) -> Result<Vec<(NodeId, Hash)>, StoreError> {
        let (level, index) = after.map_or((-1, -1), |id| {
            (
                i32::try_from(id.level).unwrap_or(i32::MAX),
                i64::try_from(id.index).unwrap_or(i64::MAX),
            )
        });
        let rows: Vec<(i32, i64, Vec<u8>)> = sqlx::query_as("SELECT level, idx, hash FROM tree_nodes WHERE (level, idx) > ($1, $2) ORDER BY level, idx LIMIT $3")
            .bind(level)
            .bind(index)
            .bind(i64::from(limit.min(PAGE_ROWS_MAX * 2)))
            .fetch_all(&self.pool)
            .await
            .map_err(other)?;
        rows.into_iter()
            .map(|(level, index, hash)| node(level, index, hash))
            .collect()
    }

    async fn leaf_hashes(&self, after: u64, limit: u32) -> Result<Vec<(u64, Hash)>, StoreError> {
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT seq, leaf_hash FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(to_i64(after)?)
        .bind(i64::from(limit.min(PAGE_ROWS_MAX * 10)))
        .fetch_all(&self.pool)
        .await
        .map_err(other)?;
        rows.into_iter()
            .map(|(seq, hash)| {
                Ok((
                    to_u64(seq, "event")?,
                    to_hash(hash, &format!("the leaf hash of event {seq}"))?,
                ))
            })
            .collect()
    }

    async fn add_checkpoint(&self, checkpoint: StoredCheckpoint) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO checkpoints (size, root, note, at_us) VALUES ($1, $2, $3, $4)")
            .bind(to_i64(checkpoint.size)?)
            .bind(checkpoint.root.as_slice())
            .bind(&checkpoint.note)
            .bind(checkpoint.at_us)
            .execute(&self.pool)
            .await
            .map_err(other)?;
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
                Ok(StoredCheckpoint {
                    size: to_u64(size, "checkpoint size")?,
                    root: to_hash(root, "a checkpoint root")?,
                    note,
                    at_us,
                })
            })
            .collect()
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(other)
    }

    async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(other)?;
        if inserted.rows_affected() == 1 || self.setting(key).await?.as_deref() == Some(value) {
            Ok(())
        } else {
            Err(StoreError::Conflict {
                what: "setting already set",
            })
        }
    }

    async fn secret(&self, kind: &str, id: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT body FROM secrets WHERE kind = $1 AND id = $2")
            .bind(kind)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(other)
    }

    /// One statement, one round trip (both read in the same snapshot).
    async fn secret_and_head(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<(Option<String>, u64), StoreError> {
        let (body, head): (Option<String>, i64) = sqlx::query_as(
            "SELECT (SELECT body FROM secrets WHERE kind = $1 AND id = $2), (SELECT COALESCE(MAX(seq), 0)::BIGINT FROM events)",
        )
        .bind(kind)
        .bind(id)
        .fetch_one(&self.pool)
        .await
        .map_err(other)?;
        Ok((body, to_u64(head, "head")?))
    }

    async fn put_secret(&self, kind: &str, id: &str, body: &str) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO secrets (kind, id, body) VALUES ($1, $2, $3) ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body")
            .bind(kind)
            .bind(id)
            .bind(body)
            .execute(&self.pool)
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn delete_secret(&self, kind: &str, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM secrets WHERE kind = $1 AND id = $2")
            .bind(kind)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(other)?;
        Ok(())
    }

    async fn secrets(&self, kind: &str) -> Result<Vec<(String, String)>, StoreError> {
        sqlx::query_as("SELECT id, body FROM secrets WHERE kind = $1 ORDER BY id COLLATE \"C\"")
            .bind(kind)
            .fetch_all(&self.pool)
            .await
            .map_err(other)
    }

    async fn log_access(&self, entries: Vec<AccessEntry>) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(other)?;
        for entry in entries {
            sqlx::query("INSERT INTO access_log (at_us, actor, action, outcome, rows, request_id) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(entry.at_us)
                .bind(entry.actor)
                .bind(entry.action)
                .bind(entry.outcome)
                .bind(i64::try_from(entry.rows).unwrap_or(i64::MAX))
                .bind(entry.request_id)
                .execute(&mut *tx)
                .await
                .map_err(other)?;
        }
        tx.commit().await.map_err(other)
    }

    async fn access_log(&self, after: u64, limit: u32) -> Result<Vec<AccessEntry>, StoreError> {
        let rows: Vec<(i64, i64, String, String, String, i64, String)> = sqlx::query_as("SELECT seq, at_us, actor, action, outcome, rows, request_id FROM access_log WHERE seq > $1 ORDER BY seq LIMIT $2")
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

fn node(level: i32, index: i64, hash: Vec<u8>) -> Result<(NodeId, Hash), StoreError> {
    let id = NodeId {
        level: u32::try_from(level).map_err(|_| corrupt(format!("tree level {level}")))?,
        index: to_u64(index, "tree index")?,
    };
    Ok((id, to_hash(hash, "a tree node hash")?))
}

#[cfg(test)]
#[tokio::test]
async fn the_embedded_migrations_are_the_folders() {
    migrations::assert_same_as_folder(MIGRATIONS, env!("CARGO_MANIFEST_DIR")).await;
}
