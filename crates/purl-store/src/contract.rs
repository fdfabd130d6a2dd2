//! The one specification every backend meets: `run` exercises every method of [`Store`].

use std::future::Future;

use purl_core::state::{Record, RecordKey, RecordKind};

use crate::{Commit, IdempotentResult, Store, StoreError, StoredEvent};

fn event(seq: u64) -> StoredEvent {
    StoredEvent {
        seq,
        at_us: 1_000 + i64::try_from(seq).expect("small"),
        actor: "operator".into(),
        kind: "test".into(),
        bytes: format!("event {seq}").into_bytes(),
        salt: vec![u8::try_from(seq % 256).expect("modulo"); 32],
        leaf_hash: vec![7; 32],
    }
}

fn record(id: &str, version: u64) -> Record {
    Record {
        key: RecordKey {
            kind: RecordKind::Pledge,
            id: id.into(),
        },
        version,
        body: format!("{{\"v\":{version}}}"),
    }
}

/// Runs the whole contract against fresh stores made by `fresh`.
pub async fn run<S, F, Fut>(fresh: F)
where
    S: Store,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    an_empty_store_has_head_zero_and_nothing_in_it(fresh().await).await;
    a_commit_appends_events_and_records_together(fresh().await).await;
    a_commit_on_a_stale_head_is_a_conflict_and_writes_nothing(fresh().await).await;
    an_idempotency_key_is_kept_and_cannot_be_taken_twice(fresh().await).await;
    events_are_read_in_pages_in_order(fresh().await).await;
}

async fn an_empty_store_has_head_zero_and_nothing_in_it<S: Store>(store: S) {
    assert_eq!(store.head().await.expect("head"), 0);
    assert!(store.events(0, 10).await.expect("events").is_empty());
    assert!(store.records().await.expect("records").is_empty());
    assert!(store.find_idempotent("nope").await.expect("find").is_none());
}

async fn a_commit_appends_events_and_records_together<S: Store>(store: S) {
    let commit = Commit {
        events: vec![event(1), event(2)],
        records: vec![record("A", 1)],
        idempotency: None,
    };
    store.commit(0, commit).await.expect("first commit");
    let update = Commit {
        events: vec![event(3)],
        records: vec![record("A", 2), record("B", 1)],
        idempotency: None,
    };
    store.commit(2, update).await.expect("second commit");
    assert_eq!(store.head().await.expect("head"), 3);
    assert_eq!(
        store.events(0, 10).await.expect("events"),
        vec![event(1), event(2), event(3)]
    );
    let records = store.records().await.expect("records");
    let summary: Vec<_> = records
        .iter()
        .map(|r| (r.id.as_str(), r.version, r.body.as_str()))
        .collect();
    assert_eq!(summary, vec![("A", 2, "{\"v\":2}"), ("B", 1, "{\"v\":1}")]);
}

async fn a_commit_on_a_stale_head_is_a_conflict_and_writes_nothing<S: Store>(store: S) {
    store
        .commit(
            0,
            Commit {
                events: vec![event(1)],
                ..Commit::default()
            },
        )
        .await
        .expect("commit");
    let stale = Commit {
        events: vec![event(1)],
        records: vec![record("X", 1)],
        idempotency: None,
    };
    let error = store.commit(0, stale).await.expect_err("stale head");
    assert!(matches!(error, StoreError::Conflict { .. }), "{error:?}");
    assert_eq!(store.head().await.expect("head"), 1);
    assert!(store.records().await.expect("records").is_empty());
}

async fn an_idempotency_key_is_kept_and_cannot_be_taken_twice<S: Store>(store: S) {
    let result = IdempotentResult {
        key: "k1".into(),
        request_hash: "h".into(),
        response: "{}".into(),
        at_us: 5,
    };
    let first = Commit {
        events: vec![event(1)],
        records: vec![],
        idempotency: Some(result.clone()),
    };
    store.commit(0, first).await.expect("first");
    assert_eq!(
        store.find_idempotent("k1").await.expect("find"),
        Some(result.clone())
    );
    let again = Commit {
        events: vec![event(2)],
        records: vec![record("Y", 1)],
        idempotency: Some(result),
    };
    let error = store.commit(1, again).await.expect_err("key taken");
    assert!(matches!(error, StoreError::Conflict { .. }), "{error:?}");
    assert_eq!(
        store.head().await.expect("head"),
        1,
        "the failed commit wrote no event"
    );
    assert!(
        store.records().await.expect("records").is_empty(),
        "nor any record"
    );
}

async fn events_are_read_in_pages_in_order<S: Store>(store: S) {
    let events: Vec<_> = (1..=25).map(event).collect();
    store
        .commit(
            0,
            Commit {
                events: events.clone(),
                ..Commit::default()
            },
        )
        .await
        .expect("commit");
    let mut read = Vec::new();
    let mut after = 0;
    loop {
        let page = store.events(after, 10).await.expect("page");
        let Some(last) = page.last() else { break };
        after = last.seq;
        read.extend(page);
    }
    assert_eq!(read, events);
}
