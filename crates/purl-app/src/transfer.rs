//! Moving an installation between backends (SQLite to PostgreSQL and back) through a file of JSON
//! lines: the verifier key, every event exactly as stored (bytes, salt, leaf hash) and every signed
//! checkpoint. Importing replays the events to rebuild the read side and the tree, so the target
//! is checked while it is written, and `purl verify` passes on it.

use std::io::{BufRead, Write};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use purl_core::event::{leaf_hash, Event, EventHeader};
use purl_core::merkle::{self, Hash};
use purl_core::state::State;
use purl_store::{Commit, Store, StoredCheckpoint, StoredEvent};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::ledger::VERIFIER_KEY_SETTING;

/// Events per transaction while importing.
const IMPORT_BATCH_EVENTS: usize = 5_000;

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum Line {
    Installation {
        format: String,
        verifier_key: Option<String>,
        events: u64,
    },
    Event {
        seq: u64,
        at_us: i64,
        actor: String,
        kind: String,
        bytes: String,
        salt: String,
        leaf_hash: String,
    },
    Checkpoint {
        size: u64,
        root: String,
        note: String,
        at_us: i64,
    },
}

const FORMAT: &str = "purl-export/1";

fn corrupt(line: usize, what: impl std::fmt::Display) -> AppError {
    AppError::Invalid(format!("line {line}: {what}"))
}

/// Writes the whole installation; returns the number of events written.
pub async fn export<S: Store>(
    store: &S,
    out: &mut dyn Write,
    progress: &dyn Fn(u64, u64),
) -> Result<u64, AppError> {
    let head = store.head().await?;
    let io = |e: std::io::Error| AppError::Invalid(format!("cannot write the export: {e}"));
    let header = Line::Installation {
        format: FORMAT.into(),
        verifier_key: store.setting(VERIFIER_KEY_SETTING).await?,
        events: head,
    };
    writeln!(
        out,
        "{}",
        serde_json::to_string(&header).expect("serialisable")
    )
    .map_err(io)?;
    let mut after = 0;
    while after < head {
        let page = store.events(after, 5_000).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for e in page {
            let line = Line::Event {
                seq: e.seq,
                at_us: e.at_us,
                actor: e.actor,
                kind: e.kind,
                bytes: BASE64.encode(&e.bytes),
                salt: hex::encode(&e.salt),
                leaf_hash: hex::encode(&e.leaf_hash),
            };
            writeln!(
                out,
                "{}",
                serde_json::to_string(&line).expect("serialisable")
            )
            .map_err(io)?;
        }
        progress(after, head);
    }
    for c in store.checkpoints().await? {
        let line = Line::Checkpoint {
            size: c.size,
            root: hex::encode(c.root),
            note: c.note,
            at_us: c.at_us,
        };
        writeln!(
            out,
            "{}",
            serde_json::to_string(&line).expect("serialisable")
        )
        .map_err(io)?;
    }
    Ok(head)
}

/// Reads an export into an empty store; returns the number of events imported.
pub async fn import<S: Store>(
    store: &S,
    input: &mut dyn BufRead,
    progress: &dyn Fn(u64, u64),
) -> Result<u64, AppError> {
    if store.head().await? > 0 {
        return Err(AppError::Conflict(
            "the target already holds an installation; import only into an empty one".into(),
        ));
    }
    let mut state = State::default();
    let mut batch: Vec<StoredEvent> = Vec::new();
    let mut checkpoints = Vec::new();
    let mut expected = 0;
    for (index, text) in input.lines().enumerate() {
        let number = index + 1;
        let text = text.map_err(|e| corrupt(number, e))?;
        match serde_json::from_str::<Line>(&text).map_err(|e| corrupt(number, e))? {
            Line::Installation {
                format,
                verifier_key,
                events,
            } => {
                if format != FORMAT || number != 1 {
                    return Err(corrupt(
                        number,
                        format!("expected a {FORMAT} header on the first line"),
                    ));
                }
                if let Some(key) = verifier_key {
                    store.set_setting(VERIFIER_KEY_SETTING, &key).await?;
                }
                expected = events;
            }
            Line::Event {
                seq,
                at_us,
                actor,
                kind,
                bytes,
                salt,
                leaf_hash: hash,
            } => {
                let bytes = BASE64.decode(bytes).map_err(|e| corrupt(number, e))?;
                let salt = hex::decode(salt).map_err(|e| corrupt(number, e))?;
                let hash = hex::decode(hash).map_err(|e| corrupt(number, e))?;
                if leaf_hash(&bytes, &salt).as_slice() != hash.as_slice() {
                    return Err(corrupt(
                        number,
                        format!("event {seq}: the leaf hash does not match its bytes and salt"),
                    ));
                }
                let header = EventHeader::parse(&bytes)
                    .map_err(|e| corrupt(number, format!("event {seq}: {e}")))?;
                if (header.seq, header.at_us, header.actor, header.kind)
                    != (seq, at_us, actor.as_str(), kind.as_str())
                {
                    return Err(corrupt(
                        number,
                        format!("event {seq}: the line's fields differ from the event's own bytes"),
                    ));
                }
                batch.push(StoredEvent {
                    seq,
                    at_us,
                    actor,
                    kind,
                    bytes,
                    salt,
                    leaf_hash: hash,
                });
                if batch.len() >= IMPORT_BATCH_EVENTS {
                    write_batch(store, &mut state, std::mem::take(&mut batch)).await?;
                    progress(state.head, expected);
                }
            }
            Line::Checkpoint {
                size,
                root,
                note,
                at_us,
            } => {
                let root = hex::decode(root)
                    .ok()
                    .and_then(|r| Hash::try_from(r).ok())
                    .ok_or_else(|| corrupt(number, "a checkpoint root is not 32 bytes of hex"))?;
                checkpoints.push(StoredCheckpoint {
                    size,
                    root,
                    note,
                    at_us,
                });
            }
        }
    }
    write_batch(store, &mut state, batch).await?;
    if state.head != expected {
        return Err(AppError::Invalid(format!(
            "the export announces {expected} events but holds {}",
            state.head
        )));
    }
    for checkpoint in checkpoints {
        store.add_checkpoint(checkpoint).await?;
    }
    Ok(state.head)
}

/// Appends events as they were, with the tree nodes they complete and the records they touch.
async fn write_batch<S: Store>(
    store: &S,
    state: &mut State,
    events: Vec<StoredEvent>,
) -> Result<(), AppError> {
    if events.is_empty() {
        return Ok(());
    }
    let head = state.head;
    let frontier: std::collections::HashMap<_, _> = store
        .tree_nodes(&merkle::frontier(head))
        .await?
        .into_iter()
        .collect();
    let mut touched = std::collections::BTreeSet::new();
    for stored in &events {
        let event = Event::from_canonical_bytes(&stored.bytes)
            .map_err(|e| AppError::Invalid(format!("event {}: {e}", stored.seq)))?;
        touched.extend(
            state
                .apply(&event)
                .map_err(|e| AppError::Invalid(e.to_string()))?,
        );
    }
    let leaves: Vec<Hash> = events
        .iter()
        .map(|e| Hash::try_from(e.leaf_hash.as_slice()).expect("checked when read"))
        .collect();
    let nodes = merkle::append_nodes(head, &leaves, &|id| frontier[&id]);
    let records = touched
        .iter()
        .map(|key| state.record(key).expect("touched records exist"))
        .collect();
    store
        .commit(
            head,
            Commit {
                events,
                records,
                idempotency: Vec::new(),
                nodes,
            },
        )
        .await?;
    Ok(())
}
