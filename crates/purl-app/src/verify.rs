//! `purl verify`: recompute every hash from the stored events, check every stored column against
//! the event's own bytes, replay the events into a fresh state and compare it with the read side.

use std::collections::BTreeMap;

use purl_core::checkpoint::VerifierKey;
use purl_core::event::{leaf_hash, Event};
use purl_core::merkle::{self, hash_children, Hash, NodeId};
use purl_core::state::State;
use purl_store::{Store, StoredEvent};
use serde::Serialize;

use crate::error::AppError;

/// Events read per page while verifying.
const VERIFY_PAGE_EVENTS: u32 = 5_000;

#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    pub events: u64,
    pub event_bytes: u64,
    pub records: u64,
    pub tree_nodes: u64,
    pub checkpoints: u64,
    /// Every problem found, each naming the event (by sequence number) or record it is in.
    pub problems: Vec<String>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Verifies the whole ledger and read side. `progress` is told how many events were checked of
/// how many.
pub async fn verify<S: Store>(
    store: &S,
    progress: &dyn Fn(u64, u64),
) -> Result<VerifyReport, AppError> {
    let head = store.head().await?;
    let mut report = VerifyReport::default();
    let mut state = State::default();
    let mut replayable = true;
    let mut expected_seq = 1u64;
    let mut leaves: Vec<Hash> = Vec::new();
    let mut after = 0u64;
    loop {
        let page = store.events(after, VERIFY_PAGE_EVENTS).await?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for stored in &page {
            if stored.seq != expected_seq {
                report.problems.push(format!(
                    "event {expected_seq}: missing; the next stored event is numbered {}",
                    stored.seq
                ));
                replayable = false;
            }
            expected_seq = stored.seq + 1;
            report.events += 1;
            report.event_bytes += stored.bytes.len() as u64;
            leaves.push(leaf_hash(&stored.bytes, &stored.salt));
            match check_event(stored) {
                Ok(event) if replayable => {
                    if let Err(error) = state.apply(&event) {
                        report
                            .problems
                            .push(format!("event {}: {}", stored.seq, error.reason));
                        replayable = false;
                    }
                }
                Ok(_) => {}
                Err(problems) => {
                    report.problems.extend(problems);
                    replayable = false;
                }
            }
        }
        progress(report.events, head);
    }
    if report.events != head {
        report.problems.push(format!(
            "the ledger head is {head} but {} events were read",
            report.events
        ));
    }
    let levels = tree_levels(leaves);
    compare_tree(store, &levels, &mut report).await?;
    check_checkpoints(store, &levels, &mut report).await?;
    if replayable {
        compare_records(store, &state, &mut report).await?;
    } else {
        report
            .problems
            .push("read side not compared: the events above could not be replayed".to_owned());
    }
    Ok(report)
}

/// Checks one stored event: its hash, its encoding, and that its columns say what its bytes say.
fn check_event(stored: &StoredEvent) -> Result<Event, Vec<String>> {
    let seq = stored.seq;
    let mut problems = Vec::new();
    if leaf_hash(&stored.bytes, &stored.salt).as_slice() != stored.leaf_hash.as_slice() {
        problems.push(format!(
            "event {seq}: leaf hash does not match the event's bytes and salt"
        ));
    }
    let event = match Event::from_canonical_bytes(&stored.bytes) {
        Ok(event) => event,
        Err(error) => {
            problems.push(format!("event {seq}: {error}"));
            return Err(problems);
        }
    };
    let columns = [
        ("seq", stored.seq.to_string(), event.seq.to_string()),
        ("at_us", stored.at_us.to_string(), event.at_us.to_string()),
        ("actor", stored.actor.clone(), event.actor.clone()),
        ("kind", stored.kind.clone(), event.event.kind()),
    ];
    for (column, stored_value, event_value) in columns {
        if stored_value != event_value {
            problems.push(format!(
                "event {seq}: column {column} holds '{stored_value}' but the event's bytes say '{event_value}'"
            ));
        }
    }
    if problems.is_empty() {
        Ok(event)
    } else {
        Err(problems)
    }
}

async fn compare_records<S: Store>(
    store: &S,
    state: &State,
    report: &mut VerifyReport,
) -> Result<(), AppError> {
    let rebuilt: BTreeMap<(String, String), (u64, String)> = state
        .records()
        .into_iter()
        .map(|r| {
            (
                (r.key.kind.as_str().to_owned(), r.key.id),
                (r.version, r.body),
            )
        })
        .collect();
    let mut stored: BTreeMap<(String, String), (u64, String)> = BTreeMap::new();
    for record in store.records().await? {
        stored.insert(
            (record.kind.as_str().to_owned(), record.id),
            (record.version, record.body),
        );
    }
    report.records = stored.len() as u64;
    for (key, value) in &rebuilt {
        match stored.get(key) {
            None => report.problems.push(format!("record {} {}: missing from the read side", key.0, key.1)),
            Some(found) if found != value => report.problems.push(format!(
                "record {} {}: differs from what the events say (stored version {}, rebuilt version {})",
                key.0, key.1, found.0, value.0
            )),
            Some(_) => {}
        }
    }
    for key in stored.keys().filter(|key| !rebuilt.contains_key(*key)) {
        report
            .problems
            .push(format!("record {} {}: no event created it", key.0, key.1));
    }
    Ok(())
}

/// Every level of the tree recomputed from the leaves: level 0 the leaves, level k the complete
/// subtrees of 2^k leaves.
fn tree_levels(leaves: Vec<Hash>) -> Vec<Vec<Hash>> {
    let mut levels = vec![leaves];
    while let Some(below) = levels.last().filter(|level| level.len() >= 2) {
        let above = below
            .chunks_exact(2)
            .map(|pair| hash_children(&pair[0], &pair[1]))
            .collect();
        levels.push(above);
    }
    levels
}

fn describe_node(id: NodeId) -> String {
    if id.level == 0 {
        return format!(
            "event {}: its leaf differs from leaf {} of the stored Merkle tree",
            id.index + 1,
            id.index
        );
    }
    let first = (id.index << id.level) + 1;
    let last = (id.index + 1) << id.level;
    format!(
        "the stored Merkle tree node over events {first}-{last} (level {}) differs from the events",
        id.level
    )
}

/// Compares every stored tree node with the tree recomputed from the events.
async fn compare_tree<S: Store>(
    store: &S,
    levels: &[Vec<Hash>],
    report: &mut VerifyReport,
) -> Result<(), AppError> {
    let mut after = None;
    let mut seen = 0u64;
    loop {
        let page = store.tree_nodes_page(after, VERIFY_PAGE_EVENTS * 2).await?;
        let Some(&(last, _)) = page.last() else { break };
        after = Some(last);
        for (id, hash) in page {
            seen += 1;
            let expected = levels
                .get(id.level as usize)
                .and_then(|level| level.get(usize::try_from(id.index).ok()?));
            match expected {
                Some(expected) if *expected == hash => {}
                Some(_) => report.problems.push(describe_node(id)),
                None => report.problems.push(format!(
                    "the stored Merkle tree has a node (level {}, index {}) that no event made",
                    id.level, id.index
                )),
            }
        }
    }
    let expected: u64 = levels.iter().map(|level| level.len() as u64).sum();
    if seen != expected && levels.first().is_some_and(|leaves| !leaves.is_empty()) {
        report.problems.push(format!(
            "the stored Merkle tree has {seen} nodes; the events make {expected}"
        ));
    }
    report.tree_nodes = seen;
    Ok(())
}

/// Checks every stored checkpoint: its signature, and its root against the recomputed tree.
async fn check_checkpoints<S: Store>(
    store: &S,
    levels: &[Vec<Hash>],
    report: &mut VerifyReport,
) -> Result<(), AppError> {
    let checkpoints = store.checkpoints().await?;
    report.checkpoints = checkpoints.len() as u64;
    if checkpoints.is_empty() {
        return Ok(());
    }
    let key = match store.setting(crate::ledger::VERIFIER_KEY_SETTING).await? {
        Some(text) => VerifierKey::parse(&text).map_err(|e| e.to_string()),
        None => Err("no verifier key is recorded".to_owned()),
    };
    let leaves = levels.first().map_or(0, Vec::len) as u64;
    for checkpoint in checkpoints {
        let size = checkpoint.size;
        match &key {
            Err(reason) => report.problems.push(format!(
                "checkpoint {size}: signature not checked: {reason}"
            )),
            Ok(key) => match key.open(&checkpoint.note) {
                Ok(signed) if signed.size == size && signed.root == checkpoint.root => {}
                Ok(_) => report.problems.push(format!(
                    "checkpoint {size}: the stored size or root differs from the signed note"
                )),
                Err(error) => report.problems.push(format!("checkpoint {size}: {error}")),
            },
        }
        if size > leaves {
            report.problems.push(format!(
                "checkpoint {size}: the ledger has only {leaves} events"
            ));
            continue;
        }
        let root = merkle::root(size, &|id| {
            levels[id.level as usize][usize::try_from(id.index).expect("in memory")]
        });
        if root != checkpoint.root {
            report.problems.push(format!("checkpoint {size}: its signed root is not the root of the first {size} events as stored now"));
        }
    }
    Ok(())
}
