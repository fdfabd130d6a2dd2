#![allow(clippy::unwrap_used)] // tests fail loudly by design

//! The store contract on PostgreSQL: runs when PURL_TEST_POSTGRES_URL is set (always in CI), each
//! store in a fresh schema; otherwise says why it is skipped.

use purl_store::Store;
use purl_store_postgres::PostgresStore;

fn url() -> Option<String> {
    let url = std::env::var("PURL_TEST_POSTGRES_URL").ok();
    if url.is_none() {
        // Written to the stream itself, not through eprintln!, so the test harness shows it.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: PURL_TEST_POSTGRES_URL is not set (CI sets it; e.g. postgres://postgres@127.0.0.1:5432/test)"
        );
    }
    url
}

/// The schemas one test made, dropped when it ends.
#[derive(Default)]
struct Schemas(std::sync::Mutex<Vec<String>>);

async fn drop_schemas(url: &str, made: &Schemas) {
    let schemas: Vec<String> = made.0.lock().unwrap().drain(..).collect();
    let admin = PostgresStore::connect(url, None).await.unwrap();
    for schema in schemas {
        sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
            .execute(admin.pool())
            .await
            .unwrap();
    }
    admin.pool().close().await;
}

/// A store in a new schema of its own.
async fn fresh(url: &str, made: &Schemas) -> PostgresStore {
    let schema = format!("purl_test_{:016x}", rand::random::<u64>());
    made.0.lock().unwrap().push(schema.clone());
    let admin = PostgresStore::connect(url, None).await.unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(admin.pool())
        .await
        .unwrap();
    admin.pool().close().await;
    let store = PostgresStore::connect(url, Some(&schema)).await.unwrap();
    store.migrate().await.unwrap();
    store
}

#[tokio::test]
async fn postgres_meets_the_store_contract() {
    let Some(url) = url() else { return };
    let made = Schemas::default();
    purl_store::contract::run(|| fresh(&url, &made)).await;
    drop_schemas(&url, &made).await;
}

#[tokio::test]
async fn events_tree_nodes_and_checkpoints_refuse_update_delete_and_truncate() {
    let Some(url) = url() else { return };
    let made = Schemas::default();
    let store = fresh(&url, &made).await;
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
    sqlx::query(
        "INSERT INTO tree_nodes (level, idx, hash) VALUES (0, 0, decode(repeat('00', 32), 'hex'))",
    )
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("INSERT INTO checkpoints (size, root, note, at_us) VALUES (1, decode(repeat('00', 32), 'hex'), 'n', 0)").execute(store.pool()).await.unwrap();
    for statement in [
        "UPDATE events SET actor = 'mallory'",
        "DELETE FROM events",
        "TRUNCATE events CASCADE",
        "UPDATE tree_nodes SET idx = 5",
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
    assert_eq!(store.head().await.unwrap(), 1);
    store.pool().close().await;
    drop_schemas(&url, &made).await;
}

#[tokio::test]
async fn the_ledger_on_postgres_verifies_and_names_a_changed_event() {
    use purl_core::command::Command;
    use purl_core::user::Actor;
    let Some(url) = url() else { return };
    let made = Schemas::default();
    let store = fresh(&url, &made).await;
    let app = purl_app::App::new(
        store.clone(),
        Box::new(purl_app::FixedClock(1_764_763_200_000_000)),
    );
    let commands = Command::add_reference_participants();
    app.execute_all(
        &Actor::Operator,
        commands,
        purl_app::WriteOptions::default(),
    )
    .await
    .unwrap();
    let signer = purl_core::checkpoint::SignerKey::from_seed("purl.test/ledger", [3; 32]).unwrap();
    store
        .set_setting(
            purl_app::ledger::VERIFIER_KEY_SETTING,
            &signer.verifier().encode(),
        )
        .await
        .unwrap();
    let checkpoint = app.sign_checkpoint(&signer).await.unwrap();
    assert_eq!(checkpoint.size, 40);
    let report = purl_app::verify::verify(&store, &|_, _| {}).await.unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert_eq!((report.events, report.checkpoints), (40, 1));
    let proof = app.consistency_proof(10, 40).await.unwrap();
    assert!(!proof.proof.is_empty());

    sqlx::query("ALTER TABLE events DISABLE TRIGGER events_are_append_only")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE events SET body = overlay(body placing '\\x58'::bytea from 60 for 1) WHERE seq = 17").execute(store.pool()).await.unwrap();
    let report = purl_app::verify::verify(&store, &|_, _| {}).await.unwrap();
    assert!(
        report.problems.iter().any(|p| p.starts_with("event 17:")),
        "{:?}",
        report.problems
    );
    store.pool().close().await;
    drop_schemas(&url, &made).await;
}
