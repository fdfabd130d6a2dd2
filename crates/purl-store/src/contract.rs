//! The one specification every backend meets: `run` exercises every method of [`Store`].

use std::future::Future;

use purl_core::state::{Record, RecordKey, RecordKind};

use purl_core::merkle::NodeId;

use crate::{
    AccessEntry, Commit, IdempotentResult, Store, StoreError, StoredCheckpoint, StoredEvent,
};

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
    tree_nodes_are_kept_with_their_events(fresh().await).await;
    checkpoints_and_settings_are_kept_once(fresh().await).await;
    secrets_are_kept_replaced_and_deleted(fresh().await).await;
    a_secret_is_read_with_the_head(fresh().await).await;
    the_access_log_is_appended_and_read_in_order(fresh().await).await;
}

async fn secrets_are_kept_replaced_and_deleted<S: Store>(store: S) {
    assert_eq!(store.secret("token", "a").await.expect("read"), None);
    store
        .put_secret("token", "b", "{\"n\":1}")
        .await
        .expect("put");
    store
        .put_secret("token", "a", "{\"n\":2}")
        .await
        .expect("put");
    store.put_secret("session", "a", "{}").await.expect("put");
    store
        .put_secret("token", "a", "{\"n\":3}")
        .await
        .expect("replace");
    assert_eq!(
        store.secret("token", "a").await.expect("read").as_deref(),
        Some("{\"n\":3}")
    );
    let tokens = store.secrets("token").await.expect("list");
    assert_eq!(
        tokens,
        vec![
            ("a".to_owned(), "{\"n\":3}".to_owned()),
            ("b".to_owned(), "{\"n\":1}".to_owned())
        ]
    );
    store.delete_secret("token", "a").await.expect("delete");
    store
        .delete_secret("token", "missing")
        .await
        .expect("deleting nothing");
    assert_eq!(store.secret("token", "a").await.expect("read"), None);
    assert_eq!(store.secrets("session").await.expect("list").len(), 1);
}

async fn a_secret_is_read_with_the_head<S: Store>(store: S) {
    assert_eq!(
        store.secret_and_head("token", "a").await.expect("read"),
        (None, 0)
    );
    store
        .put_secret("token", "a", "{\"n\":1}")
        .await
        .expect("put");
    let commit = Commit {
        events: vec![event(1), event(2)],
        records: Vec::new(),
        idempotency: Vec::new(),
        nodes: Vec::new(),
    };
    store.commit(0, commit).await.expect("commit");
    assert_eq!(
        store.secret_and_head("token", "a").await.expect("read"),
        (Some("{\"n\":1}".to_owned()), 2)
    );
    assert_eq!(
        store.secret_and_head("session", "a").await.expect("read"),
        (None, 2),
        "another kind's secret of the same id is not this one"
    );
}

async fn the_access_log_is_appended_and_read_in_order<S: Store>(store: S) {
    let entry = |n: u64| AccessEntry {
        seq: 0,
        at_us: 5_000 + i64::try_from(n).expect("small"),
        actor: format!("user:u{n}@NLD"),
        action: format!("read pledge P{n}"),
        outcome: if n.is_multiple_of(2) {
            "allowed"
        } else {
            "denied"
        }
        .to_owned(),
        rows: n,
        request_id: format!("req-{n}"),
    };
    store
        .log_access(vec![entry(1), entry(2)])
        .await
        .expect("append");
    store.log_access(vec![entry(3)]).await.expect("append");
    let all = store.access_log(0, 10).await.expect("read");
    assert_eq!(all.len(), 3);
    let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    for (n, read) in (1..).zip(&all) {
        assert_eq!(
            AccessEntry {
                seq: read.seq,
                ..entry(n)
            },
            *read
        );
    }
    let rest = store.access_log(all[0].seq, 1).await.expect("page");
    assert_eq!(rest, vec![all[1].clone()]);
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
        idempotency: Vec::new(),
        nodes: Vec::new(),
    };
    store.commit(0, commit).await.expect("first commit");
    let update = Commit {
        events: vec![event(3)],
        records: vec![record("A", 2), record("B", 1)],
        idempotency: Vec::new(),
        nodes: Vec::new(),
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
        idempotency: Vec::new(),
        nodes: Vec::new(),
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
        request: Some(r#"{"a":1}"#.into()),
    };
    let first = Commit {
        events: vec![event(1)],
        records: vec![],
        idempotency: vec![result.clone()],
        nodes: Vec::new(),
    };
    store.commit(0, first).await.expect("first");
    assert_eq!(
        store.find_idempotent("k1").await.expect("find"),
        Some(result.clone())
    );
    let again = Commit {
        events: vec![event(2)],
        records: vec![record("Y", 1)],
        idempotency: vec![result],
        nodes: Vec::new(),
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

async fn tree_nodes_are_kept_with_their_events<S: Store>(store: S) {
    let leaf = |n: u8| [n; 32];
    let nodes = vec![
        (NodeId { level: 0, index: 0 }, leaf(1)),
        (NodeId { level: 0, index: 1 }, leaf(2)),
        (NodeId { level: 1, index: 0 }, leaf(3)),
    ];
    let commit = Commit {
        events: vec![event(1), event(2)],
        nodes: nodes.clone(),
        ..Commit::default()
    };
    store.commit(0, commit).await.expect("commit");
    let ids: Vec<NodeId> = nodes
        .iter()
        .map(|(id, _)| *id)
        .chain([NodeId { level: 5, index: 0 }])
        .collect();
    let mut found = store.tree_nodes(&ids).await.expect("nodes");
    found.sort();
    assert_eq!(found, nodes, "a missing node is simply absent");
    let page = store
        .tree_nodes_page(Some(NodeId { level: 0, index: 0 }), 10)
        .await
        .expect("page");
    assert_eq!(page, nodes[1..].to_vec());
    let stale = Commit {
        events: vec![event(1)],
        nodes: vec![(NodeId { level: 0, index: 0 }, leaf(9))],
        ..Commit::default()
    };
    assert!(store.commit(0, stale).await.is_err());
    let mut found = store.tree_nodes(&ids).await.expect("nodes");
    found.sort();
    assert_eq!(found, nodes, "a failed commit writes no node");
    let leaves = store.leaf_hashes(1, 10).await.expect("leaves");
    assert_eq!(leaves, vec![(2, [7; 32])]);
}

async fn checkpoints_and_settings_are_kept_once<S: Store>(store: S) {
    let checkpoint = |size: u64| StoredCheckpoint {
        size,
        root: [u8::try_from(size).expect("small"); 32],
        note: format!("note {size}"),
        at_us: 9,
    };
    store.add_checkpoint(checkpoint(2)).await.expect("first");
    store.add_checkpoint(checkpoint(1)).await.expect("second");
    assert!(
        store.add_checkpoint(checkpoint(2)).await.is_err(),
        "one checkpoint per size"
    );
    assert_eq!(
        store.checkpoints().await.expect("list"),
        vec![checkpoint(1), checkpoint(2)]
    );
    assert_eq!(store.setting("key").await.expect("get"), None);
    store.set_setting("key", "a").await.expect("set");
    store
        .set_setting("key", "a")
        .await
        .expect("the same value again is fine");
    assert!(matches!(
        store.set_setting("key", "b").await,
        Err(StoreError::Conflict { .. })
    ));
    assert_eq!(
        store.setting("key").await.expect("get"),
        Some("a".to_owned())
    );
}
