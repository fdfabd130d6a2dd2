//! Point reads every request makes (the ledger's head, an API token) run in place on a read-only
//! rusqlite connection: an indexed look-up in WAL mode takes microseconds and never waits for a
//! writer, where handing it to a connection thread and back costs far more. The connection has no
//! busy timeout, so a read that would have to wait (the rare moment another process recovers the
//! log) is not made here: the caller makes it the usual way instead, where waiting is allowed.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

#[derive(Debug)]
pub(crate) struct PointReads {
    path: PathBuf,
    connection: Mutex<Option<Connection>>,
}

impl PointReads {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            connection: Mutex::new(None),
        }
    }

    /// Closes the connection (a later read opens it again).
    pub(crate) fn close(&self) {
        if let Ok(mut guard) = self.connection.lock() {
            *guard = None;
        }
    }

    /// Runs `read` now, or `None` if it cannot run without waiting (or failed: the caller's
    /// usual path then reports the error).
    fn now<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Option<T> {
        let mut guard = self.connection.lock().ok()?;
        if guard.is_none() {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            *guard = Some(Connection::open_with_flags(&self.path, flags).ok()?);
        }
        read(guard.as_ref()?).ok()
    }

    /// The highest sequence number in the ledger (0 when empty).
    pub(crate) fn head(&self) -> Option<i64> {
        self.now(|connection| {
            connection
                .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events")?
                .query_row([], |row| row.get(0))
        })
    }

    /// The body of secret `id` of `kind`, if there is one.
    pub(crate) fn secret(&self, kind: &str, id: &str) -> Option<Option<String>> {
        self.now(|connection| {
            connection
                .prepare_cached("SELECT body FROM secrets WHERE kind = ?1 AND id = ?2")?
                .query_row((kind, id), |row| row.get(0))
                .optional()
        })
    }
}
