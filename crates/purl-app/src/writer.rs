//! Group commit. Every write of this process queues, then waits for the turn to write; whoever
//! gets the turn decides every queued write in order against the current state and commits them
//! together — one transaction, one durable flush — then answers each. Writes of one command are
//! grouped; a write of several commands (an import) is committed on its own, all or nothing.
//! If another process moved the ledger head meanwhile, the group is decided again on the new state.
//!
//! While this process appears to be the only writer (its last few reads of the head found no one
//! else's events), a group is decided on the cached state without reading the head first: the
//! commit checks the head anyway, so a group decided on a state that turns out stale writes
//! nothing and is decided again on a fresh one. Against a database server that saves a round trip
//! per group; a refusal is only answered once the head is known to be the state's.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use purl_core::command::{decide, Command, Context};
use purl_core::event::Event;
use purl_core::merkle::{self, Hash};
use purl_core::state::{RecordKey, State};
use purl_core::user::Actor;
use purl_store::{Commit, IdempotentResult, Store, StoreError};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use crate::{replay, seal, to_hash, App, AppError, BatchError, WriteOptions, Written};

/// A group holds at most this many writes.
pub const GROUP_WRITES_MAX: usize = 256;

/// How many reads of the head in a row must find no other process's events before groups are
/// decided without reading it.
const QUIET_HEADS_FOR_TRUST: u32 = 16;

/// A write of at least this many events encodes its records on a second thread.
const PARALLEL_ENCODING_EVENTS: usize = 64;

type Answer = Result<Written, BatchError>;

/// A write waiting for its turn, with where to send its answer.
pub struct Pending {
    actor: Actor,
    commands: Vec<Command>,
    options: WriteOptions,
    request_hash: String,
    reply: oneshot::Sender<Answer>,
    queued_at: Instant,
}

impl Pending {
    pub(crate) fn new(
        actor: &Actor,
        commands: Vec<Command>,
        options: WriteOptions,
    ) -> (Pending, oneshot::Receiver<Answer>) {
        let (reply, answer) = oneshot::channel();
        let request_hash = hex::encode(Sha256::digest(options.request.as_bytes()));
        let pending = Pending {
            actor: actor.clone(),
            commands,
            options,
            request_hash,
            reply,
            queued_at: Instant::now(),
        };
        (pending, answer)
    }
}

/// What became of one write of a group while it was decided.
enum Outcome {
    Answered(Answer),
    /// Written (once the group commits).
    Wrote(Written),
    /// Carries the idempotency key of an earlier write of the same group.
    SameKeyAs(usize),
}

impl<S: Store> App<S> {
    /// Writes a batch taken from the queue: runs of one-command writes in groups, any other write
    /// alone; every write is answered.
    pub(crate) async fn write_batch(&self, batch: Vec<Pending>) {
        let mut group = Vec::new();
        for pending in batch {
            let alone = pending.commands.len() != 1;
            if (alone || group.len() >= GROUP_WRITES_MAX) && !group.is_empty() {
                self.write_group(std::mem::take(&mut group)).await;
            }
            if alone {
                self.write_group(vec![pending]).await;
            } else {
                group.push(pending);
            }
        }
        if !group.is_empty() {
            self.write_group(group).await;
        }
    }

    /// Answers at once, with the outage's failure, every write of `group` that was queued before
    /// an outage was last recorded: nothing was written, and it is not made to wait for the
    /// database a second time. Returns the others.
    fn fail_those_queued_before_an_outage(&self, group: Vec<Pending>) -> Vec<Pending> {
        let Some((outage_at, error)) = self.last_outage() else {
            return group;
        };
        let (before, after): (Vec<_>, Vec<_>) = group
            .into_iter()
            .partition(|pending| pending.queued_at <= outage_at);
        for pending in before {
            let _ = pending.reply.send(Err(BatchError::App(error.duplicate())));
        }
        after
    }

    async fn write_group(&self, group: Vec<Pending>) {
        let group = self.fail_those_queued_before_an_outage(group);
        if group.is_empty() {
            return;
        }
        let started = Instant::now();
        let mut last_error = None;
        for attempt in 0..crate::LEDGER_APPEND_ATTEMPTS_MAX {
            match self.try_group(&group, attempt == 0).await {
                Ok(Some(outcomes)) => return answer(group, outcomes),
                Ok(None) => {
                    tracing::debug!("lost the race for the ledger head; deciding again");
                }
                Err(error) => {
                    self.note_outage(started, &error);
                    last_error = Some(error);
                    break;
                }
            }
        }
        let error = last_error.unwrap_or_else(|| {
            AppError::Conflict(format!(
                "the ledger kept moving; gave up after {} attempts",
                crate::LEDGER_APPEND_ATTEMPTS_MAX
            ))
        });
        for pending in group {
            let _ = pending.reply.send(Err(BatchError::App(copy_error(&error))));
        }
    }

    /// The state to decide a group on, and whether it is trusted without reading the head: only
    /// on a first attempt, while the head reads found no other writer.
    async fn state_to_decide_on(&self, first_attempt: bool) -> Result<(State, bool), AppError> {
        let cached = self.cached_state();
        let quiet = self.quiet_heads.load(Ordering::Relaxed) >= QUIET_HEADS_FOR_TRUST;
        if let Some(cached) = cached.as_ref().filter(|_| first_attempt && quiet) {
            return Ok((State::clone(cached), true));
        }
        let head = self.store.head().await?;
        if cached.is_some_and(|cached| cached.head == head) {
            self.quiet_heads.fetch_add(1, Ordering::Relaxed);
        } else {
            self.quiet_heads.store(0, Ordering::Relaxed);
        }
        Ok((State::clone(&*self.state_at(head).await?), false))
    }

    /// Decides the group on the current state and commits it: the outcome of each write, or
    /// `None` if another writer moved the ledger head first.
    async fn try_group(
        &self,
        group: &[Pending],
        first_attempt: bool,
    ) -> Result<Option<Vec<Outcome>>, AppError> {
        let (mut state, trusted) = self.state_to_decide_on(first_attempt).await?;
        let head = state.head;
        let frontier = self.cached_frontier(head).await?;
        let at_us = self.clock.now_us();
        let today = self.clock.today();
        let mut events: Vec<Event> = Vec::new();
        let mut touched = BTreeSet::<RecordKey>::new();
        let mut idempotency = Vec::new();
        let mut outcomes = Vec::with_capacity(group.len());
        let mut keys: HashMap<&str, usize> = HashMap::new();
        for (index, pending) in group.iter().enumerate() {
            if let Some(key) = pending.options.idempotency_key.as_deref() {
                if let Some(&earlier) = keys.get(key) {
                    outcomes.push(Outcome::SameKeyAs(earlier));
                    continue;
                }
                if let Some(first) = self.store.find_idempotent(key).await? {
                    outcomes.push(Outcome::Answered(replay(
                        &first,
                        &pending.request_hash,
                        &pending.options.request,
                    )));
                    continue;
                }
                keys.insert(key, index);
            }
            let context = Context {
                actor: &pending.actor,
                today,
            };
            let first_new = events.len();
            let mut refused = Vec::new();
            for (position, command) in pending.commands.iter().enumerate() {
                let decided = decide(&state, &context, command, pending.options.expected_version);
                match decided {
                    Ok(payloads) => {
                        for payload in payloads {
                            let event = Event::new(
                                state.head + 1,
                                at_us,
                                pending.actor.ledger_name(),
                                payload,
                            );
                            let keys = state
                                .apply(&event)
                                .expect("events just decided on this state apply to it");
                            touched.extend(keys);
                            events.push(event);
                        }
                    }
                    Err(error) => refused.push((position, error)),
                }
            }
            if !refused.is_empty() {
                // A write of several commands is alone in its group: what it applied is discarded
                // with the group's state. A write of one command applied nothing.
                events.truncate(first_new);
                outcomes.push(Outcome::Answered(Err(BatchError::Refused(refused))));
                continue;
            }
            let mine = &events[first_new..];
            let written = Written {
                first_seq: mine.first().map(|e| e.seq),
                last_seq: mine.last().map(|e| e.seq),
                events: mine.len() as u64,
                replayed: false,
            };
            if let Some(key) = &pending.options.idempotency_key {
                idempotency.push(IdempotentResult {
                    key: key.clone(),
                    request_hash: pending.request_hash.clone(),
                    response: serde_json::to_string(&written).expect("Written serialises"),
                    at_us,
                    request: crate::idempotency::kept(&pending.options.request),
                });
            }
            outcomes.push(Outcome::Wrote(written));
        }
        if events.is_empty() && idempotency.is_empty() {
            // Nothing to commit, so no commit checks the head: a trusted state is checked here.
            if trusted && self.store.head().await? != head {
                self.quiet_heads.store(0, Ordering::Relaxed);
                return Ok(None);
            }
            return Ok(Some(outcomes));
        }
        let salts: Vec<_> = events.iter().map(|_| self.clock.salt()).collect();
        let seal_all = || -> Vec<_> {
            events
                .iter()
                .zip(&salts)
                .map(|(event, salt)| seal(event, *salt))
                .collect()
        };
        let record_all = || -> Vec<_> {
            touched
                .iter()
                .map(|key| state.record(key).expect("touched records exist"))
                .collect()
        };
        // Encoding a large write (an import) is the bulk of its work: the events and the records
        // are encoded side by side.
        let (stored, records) = if events.len() >= PARALLEL_ENCODING_EVENTS {
            std::thread::scope(|scope| {
                let records = scope.spawn(record_all);
                let stored = seal_all();
                (
                    stored,
                    records.join().expect("encoding records does not panic"),
                )
            })
        } else {
            (seal_all(), record_all())
        };
        let leaves: Vec<Hash> = stored.iter().map(|e| to_hash(&e.leaf_hash)).collect();
        let nodes = merkle::append_nodes(head, &leaves, &|id| frontier[&id]);
        let new_head = head + leaves.len() as u64;
        // The next frontier is made of the nodes just made and the old frontier's.
        let next_frontier: Option<HashMap<merkle::NodeId, Hash>> = merkle::frontier(new_head)
            .into_iter()
            .map(|id| {
                let hash = nodes
                    .iter()
                    .find(|(node, _)| *node == id)
                    .map(|(_, hash)| *hash)
                    .or_else(|| frontier.get(&id).copied())?;
                Some((id, hash))
            })
            .collect();
        let commit = Commit {
            events: stored,
            records,
            idempotency,
            nodes,
        };
        tracing::info!(writes = group.len(), events = events.len(), "writing");
        let committed = {
            let _turn = self.committing.read().await;
            self.store.commit(head, commit).await
        };
        match committed {
            Ok(()) => {
                tracing::info!(
                    writes = group.len(),
                    events = events.len(),
                    last_seq = state.head,
                    "committed"
                );
                self.remember(Arc::new(state));
                *self
                    .frontier_cache
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                    next_frontier.map(|nodes| (new_head, nodes));
                Ok(Some(outcomes))
            }
            Err(StoreError::Conflict { .. }) => {
                self.quiet_heads.store(0, Ordering::Relaxed);
                if self.store.head().await? < head {
                    // The ledger is shorter than the state kept (restored under a running
                    // server): it is read again rather than trusted.
                    self.forget_state();
                }
                Ok(None)
            }
            Err(other) => Err(other.into()),
        }
    }
}

impl<S: Store> App<S> {
    /// Decides `commands` as one write would, against the current state, and writes nothing: the
    /// number of events they would make, or every refused command.
    pub async fn dry_run(&self, actor: &Actor, commands: &[Command]) -> Result<u64, BatchError> {
        let mut state = State::clone(&*self.state().await?);
        let context = Context {
            actor,
            today: self.clock.today(),
        };
        let at_us = self.clock.now_us();
        let mut refused = Vec::new();
        let mut events = 0;
        for (position, command) in commands.iter().enumerate() {
            match decide(&state, &context, command, None) {
                Ok(payloads) => {
                    for payload in payloads {
                        let event = Event::new(state.head + 1, at_us, actor.ledger_name(), payload);
                        state
                            .apply(&event)
                            .expect("events just decided on this state apply to it");
                        events += 1;
                    }
                }
                Err(error) => refused.push((position, error)),
            }
        }
        if refused.is_empty() {
            Ok(events)
        } else {
            Err(BatchError::Refused(refused))
        }
    }

    /// The frontier at `head`: remembered from this process's last commit, else read.
    async fn cached_frontier(&self, head: u64) -> Result<HashMap<merkle::NodeId, Hash>, AppError> {
        let remembered = self
            .frontier_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .filter(|(at, _)| *at == head)
            .map(|(_, nodes)| nodes.clone());
        match remembered {
            Some(nodes) => Ok(nodes),
            None => self.frontier(head).await,
        }
    }
}

/// Sends each write of a committed group its answer.
fn answer(group: Vec<Pending>, outcomes: Vec<Outcome>) {
    let written: Vec<Option<Written>> = outcomes
        .iter()
        .map(|outcome| match outcome {
            Outcome::Wrote(written) => Some(written.clone()),
            Outcome::Answered(_) | Outcome::SameKeyAs(_) => None,
        })
        .collect();
    let hashes: Vec<String> = group.iter().map(|p| p.request_hash.clone()).collect();
    let requests: Vec<String> = group.iter().map(|p| p.options.request.clone()).collect();
    for ((pending, outcome), index) in group.into_iter().zip(outcomes).zip(0..) {
        let result = match outcome {
            Outcome::Answered(result) => result,
            Outcome::Wrote(written) => Ok(written),
            Outcome::SameKeyAs(earlier) => match &written[earlier] {
                Some(first) if hashes[earlier] == hashes[index] => Ok(Written {
                    replayed: true,
                    ..first.clone()
                }),
                Some(_) => Err(crate::key_reused(
                    Some(&requests[earlier]),
                    &pending.options.request,
                )
                .into()),
                None => Err(AppError::Conflict(
                    "a write with the same idempotency key was refused just now; retry".into(),
                )
                .into()),
            },
        };
        let _ = pending.reply.send(result);
    }
}

/// The same error for every write of a failed group (the storage cause stays in the log).
fn copy_error(error: &AppError) -> AppError {
    if let AppError::Store(source) = error {
        tracing::error!(error = %source, "a group of writes failed in storage");
    }
    error.duplicate()
}
