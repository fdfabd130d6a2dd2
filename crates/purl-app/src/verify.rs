//! `purl verify`: recompute every hash from the stored events, check every stored column against
//! the event's own bytes, replay the events into a fresh state and compare it with the read side.

use std::collections::BTreeMap;

use purl_core::event::{leaf_hash, Event};
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
