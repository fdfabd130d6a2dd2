#![allow(clippy::unwrap_used)] // tests fail loudly by design
use purl_store::Store;
use purl_store_sqlite::SqliteStore;

#[tokio::test]
async fn sqlite_meets_the_store_contract() {
    let folder = tempfile::tempdir().unwrap();
    let counter = std::sync::atomic::AtomicU32::new(0);
    purl_store::contract::run(|| {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = folder.path().join(format!("contract-{n}.sqlite"));
        async move { SqliteStore::create(&path).await.unwrap() }
    })
    .await;
}

#[tokio::test]
async fn the_event_table_refuses_update_and_delete() {
    let folder = tempfile::tempdir().unwrap();
    let store = SqliteStore::create(&folder.path().join("ledger.sqlite"))
        .await
        .unwrap();
    let event = purl_store::StoredEvent {
        seq: 1,
        at_us: 1,
        actor: "operator".into(),
        kind: "test".into(),
        bytes: b"x".to_vec(),
        salt: vec![0; 32],
        leaf_hash: vec![0; 32],
    };
    store
        .commit(
            0,
            purl_store::Commit {
                events: vec![event],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let update = sqlx::query("UPDATE events SET actor = 'mallory'")
        .execute(store.pool())
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM events")
        .execute(store.pool())
        .await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(store.head().await.unwrap(), 1);
}

#[tokio::test]
async fn tree_nodes_and_checkpoints_refuse_update_and_delete() {
    let folder = tempfile::tempdir().unwrap();
    let store = SqliteStore::create(&folder.path().join("ledger.sqlite"))
        .await
        .unwrap();
    sqlx::query("INSERT INTO tree_nodes (level, idx, hash) VALUES (0, 0, zeroblob(32))")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO checkpoints (size, root, note, at_us) VALUES (1, zeroblob(32), 'n', 0)",
    )
    .execute(store.pool())
    .await
    .unwrap();
    for statement in [
        "UPDATE tree_nodes SET hash = randomblob(32)",
        "DELETE FROM tree_nodes",
        "UPDATE checkpoints SET note = 'forged'",
        "DELETE FROM checkpoints",
    ] {
        let refused = sqlx::query(statement).execute(store.pool()).await;
        assert!(
            refused.unwrap_err().to_string().contains("append-only"),
            "{statement}"
        );
    }
}

#[tokio::test]
async fn opening_a_missing_file_does_not_create_it() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("missing.sqlite");
    assert!(matches!(
        SqliteStore::open(&path).await,
        Err(purl_store::StoreError::NotFound)
    ));
    assert!(!path.exists());
}
