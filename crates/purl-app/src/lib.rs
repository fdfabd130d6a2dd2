//! PURL Ledger's use cases. Every change goes through [`App::execute`]: the command is authorised
//! and decided in the core against the current state, its events are numbered, salted and hashed,
//! and events and read-side records are committed in one transaction before the caller hears back.

pub mod access_log;
pub mod allocation_file;
pub mod allocation_live;
pub mod auth;
pub mod clock;
pub mod error;
pub mod export;
pub mod idempotency;
pub mod import;
pub mod ledger;
pub mod open_data;
pub mod read;
pub mod report_book;
pub mod transfer;
pub mod verify;
pub mod workbook;
pub mod writer;

use std::sync::{Arc, Mutex};

use purl_core::command::Command;
use purl_core::error::DomainError;
use purl_core::event::{leaf_hash, Event};
use purl_core::merkle::Hash;
use purl_core::state::State;
use purl_core::user::Actor;
use purl_store::{IdempotentResult, Store, StoreError, StoredEvent};
use serde::{Deserialize, Serialize};

pub use crate::clock::{Clock, FixedClock, SystemClock};
pub use crate::error::AppError;

/// A write that loses the race for the ledger head is decided again on the new state, at most
/// this many times in all.
pub const LEDGER_APPEND_ATTEMPTS_MAX: u32 = 8;

/// A cached state more than this many events behind is loaded afresh instead of caught up.
const CATCH_UP_EVENTS_MAX: u64 = 10_000;
/// A failure that came only after waiting this long for the database (it could not be reached) is
/// shared with the callers queued behind it instead of each waiting again; a quicker one (a
/// connection the database dropped, replaced for the next caller) is not.
const SHARED_FAILURE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);
/// Reads of the whole read side repeated while writes keep coming in, at most.
const LOAD_ATTEMPTS_MAX: u32 = 20;

/// Options every write may carry.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// A retry with the same key returns the first answer and writes nothing.
    pub idempotency_key: Option<String>,
    /// What the request was, as JSON text (`idempotency::describe`), so a key reused for another
    /// request is refused, naming the first field that differs, rather than answered wrongly.
    pub request: String,
    /// The version of the target record the caller based this update on.
    pub expected_version: Option<u64>,
}

/// The answer to a write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Written {
    /// The ledger sequence numbers of the events written (`None` when nothing changed).
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub events: u64,
    /// True when this answer repeats the first answer to the same idempotency key.
    #[serde(default)]
    pub replayed: bool,
}

pub struct App<S: Store> {
    store: S,
    clock: Box<dyn Clock>,
    /// The state at the last head seen, shared by reads until the ledger moves.
    cache: Mutex<Option<Arc<State>>>,
    /// Writes of this process take turns, so they never race each other for the ledger head
    /// (other processes still may: the store's commit detects it and the write is decided again).
    writing: tokio::sync::Mutex<()>,
    /// Held (shared) by this process's commits and (exclusive) by a load of the whole state, so a
    /// load under a steady stream of writes is not outrun by them forever.
    committing: tokio::sync::RwLock<()>,
    /// Held while the state is loaded afresh: one load at a time (see [`App::load_shared`]).
    loading: tokio::sync::Mutex<()>,
    /// Writes waiting for their turn; whoever has the turn writes all of them in one commit.
    queue: Mutex<Vec<writer::Pending>>,
    /// When a load or a group of writes last found the storage unreachable after a long wait, and
    /// the error it got (see [`App::note_outage`]).
    outage: Mutex<Option<(std::time::Instant, AppError)>>,
    /// How many reads of the head in a row found only this process's events (see [`writer`]).
    quiet_heads: std::sync::atomic::AtomicU32,
    /// The Merkle tree's frontier (the nodes an append needs) at the head of the last commit.
    frontier_cache: Mutex<
        Option<(
            u64,
            std::collections::HashMap<purl_core::merkle::NodeId, Hash>,
        )>,
    >,
    /// Password checks per account name, to refuse guessing before any hash runs.
    throttle: auth::throttle::Throttle,
    hashing: auth::Hashing,
    /// Held while a sign-in's failure count is read and written.
    credential_updates: tokio::sync::Mutex<()>,
}

impl<S: Store> App<S> {
    pub fn new(store: S, clock: Box<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            cache: Mutex::new(None),
            writing: tokio::sync::Mutex::new(()),
            committing: tokio::sync::RwLock::new(()),
            loading: tokio::sync::Mutex::new(()),
            queue: Mutex::new(Vec::new()),
            outage: Mutex::new(None),
            quiet_heads: std::sync::atomic::AtomicU32::new(0),
            frontier_cache: Mutex::new(None),
            throttle: auth::throttle::Throttle::default(),
            hashing: auth::Hashing::default(),
            credential_updates: tokio::sync::Mutex::new(()),
        }
    }

    /// The password hashing this application did so far.
    pub fn password_hashing(&self) -> auth::HashingFigures {
        self.hashing.figures()
    }

    pub fn now_us(&self) -> i64 {
        self.clock.now_us()
    }

    /// The current state: the cached one while the ledger head has not moved past it (a commit of
    /// this process may even have moved it on since the head was read); when another process
    /// moved it, the cached state caught up by applying the new events; else loaded afresh.
    pub async fn state(&self) -> Result<Arc<State>, AppError> {
        self.state_at(self.store.head().await?).await
    }

    /// The current state as of `head`, a head just read (see [`App::state`]).
    pub(crate) async fn state_at(&self, head: u64) -> Result<Arc<State>, AppError> {
        let cached = self.cached_state();
        if let Some(cached) = &cached {
            if cached.head >= head {
                return Ok(cached.clone());
            }
            if cached.head < head && head - cached.head <= CATCH_UP_EVENTS_MAX {
                if let Some(state) = self.catch_up(cached, head).await? {
                    let state = Arc::new(state);
                    self.remember(state.clone());
                    return Ok(state);
                }
            }
        }
        self.load_shared(head).await
    }

    /// Loads the state afresh and keeps it, one load at a time. Whoever waited for another
    /// caller's load takes what it found instead of loading again: its state, if that is as new
    /// as `head`, or its failure if that came after a long wait — so while the database is
    /// unreachable, callers who arrived together are all answered after one wait for it, not one
    /// after another.
    async fn load_shared(&self, head: u64) -> Result<Arc<State>, AppError> {
        let waiting_since = std::time::Instant::now();
        let _turn = self.loading.lock().await;
        if let Some(cached) = self.cached_state().filter(|cached| cached.head >= head) {
            return Ok(cached);
        }
        if let Some((_, error)) = self.last_outage().filter(|(at, _)| *at >= waiting_since) {
            return Err(error);
        }
        let started = std::time::Instant::now();
        let state = Arc::new(
            self.load_state()
                .await
                .inspect_err(|error| self.note_outage(started, error))?,
        );
        self.remember(state.clone());
        Ok(state)
    }

    /// Records `error` as an outage if it says the storage could not be reached and came after a
    /// wait of at least [`SHARED_FAILURE_WAIT`] since `started`: the callers queued meanwhile are
    /// then answered with it (see [`App::last_outage`]) instead of each waiting again.
    pub(crate) fn note_outage(&self, started: std::time::Instant, error: &AppError) {
        if matches!(error, AppError::Store(StoreError::Unavailable(_)))
            && started.elapsed() >= SHARED_FAILURE_WAIT
        {
            *self
                .outage
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some((std::time::Instant::now(), error.duplicate()));
        }
    }

    /// When the last outage was recorded (see [`App::note_outage`]), and its failure.
    pub(crate) fn last_outage(&self) -> Option<(std::time::Instant, AppError)> {
        self.outage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(|(at, error)| (*at, error.duplicate()))
    }

    /// `cached` with the events after its head applied, up to `head`; `None` if they do not apply
    /// (the caller then loads the state afresh).
    async fn catch_up(&self, cached: &State, head: u64) -> Result<Option<State>, AppError> {
        let mut state = cached.clone();
        while state.head < head {
            let wanted = u32::try_from(head - state.head).unwrap_or(u32::MAX);
            let page = self.store.events(state.head, wanted).await?;
            if page.is_empty() {
                return Ok(None);
            }
            for stored in page {
                let Ok(event) = Event::from_canonical_bytes(&stored.bytes) else {
                    return Ok(None);
                };
                if state.apply(&event).is_err() {
                    return Ok(None);
                }
            }
        }
        Ok(Some(state))
    }

    fn cached_state(&self) -> Option<Arc<State>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn forget_state(&self) {
        *self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// Keeps `state` for the next reads, unless a newer one is kept already (a read that loaded
    /// the state while a write committed must not put the older state back).
    fn remember(&self, state: Arc<State>) {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.as_ref().is_none_or(|kept| kept.head <= state.head) {
            *cache = Some(state);
        }
    }

    /// Gives the store back (e.g. to serve it behind another type).
    pub fn into_store(self) -> S {
        self.store
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    pub fn today(&self) -> chrono::NaiveDate {
        self.clock.today()
    }

    /// The current state, loaded from the read-side records. The head is read first, so a
    /// concurrent write can only make the state newer than the head, which the commit then catches.
    pub async fn load_state(&self) -> Result<State, AppError> {
        // The records are read in one statement (a consistent snapshot); the head read before and
        // after tells whether a commit came in between, in which case the read is repeated.
        // This process's commits wait while the state is read (another node's may still come in).
        let _no_local_commits = self.committing.write().await;
        let mut head = self.store.head().await?;
        for _attempt in 0..LOAD_ATTEMPTS_MAX {
            let mut state = State::default();
            let records = self.store.records().await?;
            let count = records.len();
            for record in records {
                state
                    .load_record(record.kind, &record.body)
                    .map_err(|error| StoreError::Corrupt {
                        detail: format!("record {} {}: {error}", record.kind.as_str(), record.id),
                    })?;
            }
            let after = self.store.head().await?;
            state.head = head;
            if after == head {
                tracing::info!(records = count, head, "state loaded from the read side");
                return Ok(state);
            }
            head = after;
        }
        Err(AppError::Conflict(format!(
            "the ledger kept moving while the state was read; gave up after {LOAD_ATTEMPTS_MAX} attempts"
        )))
    }

    /// Executes one command.
    pub async fn execute(
        &self,
        actor: &Actor,
        command: Command,
        options: WriteOptions,
    ) -> Result<Written, AppError> {
        self.execute_all(actor, vec![command], options)
            .await
            .map_err(|error| match error {
                BatchError::Refused(mut problems) if problems.len() == 1 => {
                    AppError::from(problems.remove(0).1)
                }
                other => other.into(),
            })
    }

    /// Executes several commands as one: all are written, or none. Every refused command is
    /// reported with its index, not just the first. Concurrent writes of this process are
    /// committed together (see [`writer`]).
    pub async fn execute_all(
        &self,
        actor: &Actor,
        commands: Vec<Command>,
        options: WriteOptions,
    ) -> Result<Written, BatchError> {
        let (pending, answer) = writer::Pending::new(actor, commands, options);
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(pending);
        let turn = self.writing.lock().await;
        let mut answer = answer;
        if let Ok(result) = answer.try_recv() {
            return result;
        }
        let batch = std::mem::take(
            &mut *self
                .queue
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        self.write_batch(batch).await;
        drop(turn);
        answer.await.unwrap_or_else(|_| {
            Err(AppError::Conflict("the write was dropped before it was decided".into()).into())
        })
    }
}

/// Told, as a long piece of work goes, its step, how much of the step is done and how much there
/// is (the units are the step's own: bytes, rows, changes).
pub type Progress<'a> = &'a (dyn Fn(&'static str, u64, u64) + Sync);

/// A progress that nobody watches.
pub fn unwatched(_: &'static str, _: u64, _: u64) {}

/// Encodes an event canonically, with its salt and leaf hash, as the store keeps it.
pub fn seal(event: &Event, salt: [u8; purl_core::event::SALT_BYTES]) -> StoredEvent {
    let bytes = event.canonical_bytes();
    let hash = leaf_hash(&bytes, &salt);
    StoredEvent {
        seq: event.seq,
        at_us: event.at_us,
        actor: event.actor.clone(),
        kind: event.event.kind().to_owned(),
        bytes,
        salt: salt.to_vec(),
        leaf_hash: hash.to_vec(),
    }
}

fn to_hash(bytes: &[u8]) -> Hash {
    Hash::try_from(bytes).expect("leaf hashes are SHA-256 digests")
}

fn replay(
    first: &IdempotentResult,
    request_hash: &str,
    request: &str,
) -> Result<Written, BatchError> {
    if first.request_hash != request_hash {
        return Err(key_reused(first.request.as_deref(), request).into());
    }
    let mut written: Written = serde_json::from_str(&first.response).map_err(|error| {
        AppError::from(StoreError::Corrupt {
            detail: format!("idempotency response: {error}"),
        })
    })?;
    written.replayed = true;
    Ok(written)
}

/// The refusal of a request that reuses the key of `first` (kept, if it was small enough).
fn key_reused(first: Option<&str>, request: &str) -> AppError {
    AppError::KeyReused {
        field: first.and_then(|first| idempotency::first_difference(first, request)),
    }
}

/// Why a batch was not written.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{} command(s) refused", .0.len())]
    Refused(Vec<(usize, DomainError)>),
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<BatchError> for AppError {
    fn from(error: BatchError) -> Self {
        match error {
            BatchError::App(error) => error,
            BatchError::Refused(problems) => AppError::Rejected(
                problems
                    .into_iter()
                    .map(|(index, error)| import::ImportProblem::command(index, &error))
                    .collect(),
            ),
        }
    }
}
