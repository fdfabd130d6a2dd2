//! WAL checkpoints off the write path. SQLite's own automatic checkpoint runs inside the commit
//! that crosses its threshold, so that writer waits while the log is copied into the database
//! file and the file is synced. Here it is turned off (`wal_autocheckpoint = 0` on every
//! connection) and a task checkpoints after the writes made through the pool instead, at most once
//! per [`CHECKPOINT_INTERVAL`], while the next writes go on. Ledger commits are checkpointed by
//! their own connection (`writer`). A commit is durable once its log frames are synced
//! (`synchronous = FULL`); checkpoints only keep the log short.

use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::mpsc;

/// The shortest time between two checkpoints: the commits in between share one.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);

/// Asks the checkpoint task for a checkpoint. The task ends when the last handle is dropped or
/// the pool is closed.
#[derive(Debug, Clone)]
pub(crate) struct Checkpointer {
    wake: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Starts the task (in the current Tokio runtime).
    pub(crate) fn start(pool: SqlitePool) -> Self {
        let (wake, mut woken) = mpsc::channel(1);
        tokio::spawn(async move {
            while woken.recv().await.is_some() {
                if pool.is_closed() {
                    break;
                }
                // PASSIVE: copies what no reader still needs, never waits for or blocks anyone.
                if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    tracing::debug!(%error, "WAL checkpoint not made; the next commit retries");
                }
                tokio::time::sleep(CHECKPOINT_INTERVAL).await;
            }
        });
        Self { wake }
    }

    /// Called after each write: a checkpoint follows soon (one already asked for covers it).
    pub(crate) fn after_write(&self) {
        let _ = self.wake.try_send(());
    }
}
