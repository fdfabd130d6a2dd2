//! `purl verify`: recompute every hash from the stored events, check every stored column against
//! the event's own bytes, replay the events into a fresh state and compare it with the read side.

use purl_core::checkpoint::VerifierKey;
use purl_core::event::{leaf_hash, Event, EventHeader};
use purl_core::merkle::{self, hash_children, Hash, NodeId};
use purl_core::state::State;
use std::time::Instant;

use purl_store::{Store, StoredEvent};
use serde::Serialize;

use crate::error::AppError;

/// Events read per page while verifying.
const VERIFY_PAGE_EVENTS: u32 = 8_192;

#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    pub events: u64,
    pub event_bytes: u64,
    pub records: u64,
    pub tree_nodes: u64,
    pub checkpoints: u64,
    /// Every problem found, each naming the event (by sequence number) or record it is in.
    pub problems: Vec<String>,
    pub timings: VerifyTimings,
}

/// Where the time went, in seconds: reading the events, checking their hashes and headers, the
/// tree and checkpoints, and replaying the events to compare the read side. Each page of events
/// is read while the one before is checked and replayed: `read_s` is only the waiting for pages
/// that checking did not hide.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyTimings {
    pub read_s: f64,
    pub integrity_s: f64,
    pub tree_s: f64,
    pub replay_s: f64,
    pub records_s: f64,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What the integrity pass makes of one stored event.
struct Checked {
    leaf: Hash,
    problems: Vec<String>,
}

/// What the pass over the events has found so far.
struct Pass {
    report: VerifyReport,
    state: State,
    /// Whether every event so far was in place and applied, so the read side can be compared.
    replayable: bool,
    expected_seq: u64,
    leaves: Vec<Hash>,
}

impl Pass {
    /// Checks one page of events (hashes and headers on every core), then replays it.
    fn check_page(&mut self, page: &[StoredEvent]) {
        let started = Instant::now();
        let checked = in_parallel(page, check_integrity);
        for (stored, checked) in page.iter().zip(checked) {
            if stored.seq != self.expected_seq {
                self.report.problems.push(format!(
                    "event {}: missing; the next stored event is numbered {}",
                    self.expected_seq, stored.seq
                ));
                self.replayable = false;
            }
            self.expected_seq = stored.seq + 1;
            self.report.events += 1;
            self.report.event_bytes += stored.bytes.len() as u64;
            self.leaves.push(checked.leaf);
            if !checked.problems.is_empty() {
                self.report.problems.extend(checked.problems);
                self.replayable = false;
            }
        }
        self.report.timings.integrity_s += started.elapsed().as_secs_f64();
        if self.replayable {
            let started = Instant::now();
            replay(
                page,
                &mut self.state,
                &mut self.report,
                &mut self.replayable,
            );
            self.report.timings.replay_s += started.elapsed().as_secs_f64();
        }
    }
}

/// Verifies the whole ledger and read side. `progress` is told how many events were checked of
/// how many.
pub async fn verify<S: Store>(
    store: &S,
    progress: &dyn Fn(u64, u64),
) -> Result<VerifyReport, AppError> {
    let head = store.head().await?;
    let mut pass = Pass {
        report: VerifyReport::default(),
        state: State::default(),
        replayable: true,
        expected_seq: 1,
        leaves: Vec::new(),
    };
    let started = Instant::now();
    let mut page = store.events(0, VERIFY_PAGE_EVENTS).await?;
    pass.report.timings.read_s += started.elapsed().as_secs_f64();
    while let Some(last) = page.last() {
        // The next page is read (on the store's own thread, or by the database server) while
        // this one is checked.
        let started = Instant::now();
        let (next, checking_s) = tokio::join!(store.events(last.seq, VERIFY_PAGE_EVENTS), async {
            let started = Instant::now();
            pass.check_page(&page);
            started.elapsed().as_secs_f64()
        });
        pass.report.timings.read_s += (started.elapsed().as_secs_f64() - checking_s).max(0.0);
        page = next?;
        progress(pass.report.events, head);
    }
    let Pass {
        mut report,
        state,
        replayable,
        leaves,
        ..
    } = pass;
    if report.events != head {
        report.problems.push(format!(
            "the ledger head is {head} but {} events were read",
            report.events
        ));
    }
    let started = Instant::now();
    let levels = tree_levels(leaves);
    compare_tree(store, &levels, &mut report).await?;
    check_checkpoints(store, &levels, &mut report).await?;
    report.timings.tree_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    if replayable {
        compare_records(store, &state, &mut report).await?;
    } else {
        report
            .problems
            .push("read side not compared: the events above could not be replayed".to_owned());
    }
    report.timings.records_s = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Runs `check` over `items` on every core, keeping the order.
fn in_parallel<T: Sync, R: Send>(items: &[T], check: fn(&T) -> R) -> Vec<R> {
    in_parallel_with(items, check)
}

fn in_parallel_with<T: Sync, R: Send>(items: &[T], check: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(8);
    if threads == 1 || items.len() < 64 {
        return items.iter().map(check).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let check = &check;
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(check).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("a verification thread does not panic"))
            .collect()
    })
}

/// Checks one stored event without parsing its payload: the leaf hash recomputed from its bytes
/// and salt, and its stored columns against its header.
fn check_integrity(stored: &StoredEvent) -> Checked {
    let seq = stored.seq;
    let leaf = leaf_hash(&stored.bytes, &stored.salt);
    let mut problems = Vec::new();
    if leaf.as_slice() != stored.leaf_hash.as_slice() {
        problems.push(format!(
            "event {seq}: leaf hash does not match the event's bytes and salt"
        ));
    }
    match EventHeader::parse(&stored.bytes) {
        Err(error) => problems.push(format!("event {seq}: {error}")),
        Ok(header) => {
            let columns = [
                ("seq", stored.seq.to_string(), header.seq.to_string()),
                ("at_us", stored.at_us.to_string(), header.at_us.to_string()),
                ("actor", stored.actor.clone(), header.actor.to_owned()),
                ("kind", stored.kind.clone(), header.kind.to_owned()),
            ];
            for (column, stored_value, event_value) in columns {
                if stored_value != event_value {
                    problems.push(format!("event {seq}: column {column} holds '{stored_value}' but the event's bytes say '{event_value}'"));
                }
            }
        }
    }
    Checked { leaf, problems }
}

/// Decodes a page's payloads on every core, then applies them in order.
fn replay(
    page: &[StoredEvent],
    state: &mut State,
    report: &mut VerifyReport,
    replayable: &mut bool,
) {
    let decoded = in_parallel(page, |stored| Event::from_canonical_bytes(&stored.bytes));
    for (stored, event) in page.iter().zip(decoded) {
        let outcome = event.map_err(|error| error.to_string()).and_then(|event| {
            state
                .apply(&event)
                .map(|_| ())
                .map_err(|error| error.reason)
        });
        if let Err(reason) = outcome {
            report
                .problems
                .push(format!("event {}: {reason}", stored.seq));
            *replayable = false;
            return;
        }
    }
}

async fn compare_records<S: Store>(
    store: &S,
    state: &State,
    report: &mut VerifyReport,
) -> Result<(), AppError> {
    // The stored records are read while the replayed ones are encoded.
    let (stored, rebuilt) = tokio::join!(store.records(), async {
        let keys = state.record_keys();
        let mut rebuilt: Vec<(&'static str, String, u64, String)> =
            in_parallel_with(&keys, |key| {
                let record = state.record(key).expect("keys listed from the state exist");
                (
                    key.kind.as_str(),
                    record.key.id,
                    record.version,
                    record.body,
                )
            });
        rebuilt.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        rebuilt
    });
    let stored = stored?;
    report.records = stored.len() as u64;
    let (mut r, mut s) = (rebuilt.iter().peekable(), stored.iter().peekable());
    loop {
        let order = match (r.peek(), s.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(a), Some(b)) => (a.0, a.1.as_str()).cmp(&(b.kind.as_str(), b.id.as_str())),
        };
        match order {
            std::cmp::Ordering::Less => {
                let a = r.next().expect("peeked");
                report.problems.push(format!(
                    "record {} {}: missing from the read side",
                    a.0, a.1
                ));
            }
            std::cmp::Ordering::Greater => {
                let b = s.next().expect("peeked");
                report.problems.push(format!(
                    "record {} {}: no event created it",
                    b.kind.as_str(),
                    b.id
                ));
            }
            std::cmp::Ordering::Equal => {
                let (a, b) = (r.next().expect("peeked"), s.next().expect("peeked"));
                if a.2 != b.version || a.3 != b.body {
                    report.problems.push(format!(
                        "record {} {}: differs from what the events say (stored version {}, rebuilt version {})",
                        a.0, a.1, b.version, a.2
                    ));
                }
            }
        }
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
