#![allow(clippy::unwrap_used)] // tests fail loudly by design

//! The committed corpus of every fuzz target (`fuzz/corpus/<target>/`) replays here, so an input
//! that once crashed a parser keeps being tried on every change; and every import input is also
//! imported for real, which must be all or nothing.

use std::path::PathBuf;

use purl_app::import::ImportRequest;
use purl_app::{unwatched, App, FixedClock, WriteOptions};
use purl_core::command::Command;
use purl_core::ids::Period;
use purl_core::user::Actor;
use purl_fuzz::{PERIOD, TARGETS};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect()
}

#[test]
fn every_committed_input_of_every_target_replays_without_a_panic() {
    for (target, run) in TARGETS {
        let inputs = corpus(target);
        assert!(!inputs.is_empty(), "{target}: the corpus is empty");
        for (path, bytes) in &inputs {
            let outcome = std::panic::catch_unwind(|| run(bytes));
            assert!(outcome.is_ok(), "{target} panicked on {}", path.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_import_input_is_imported_all_or_nothing() {
    let folder = tempfile::tempdir().unwrap();
    let store = purl_store_sqlite::SqliteStore::create(&folder.path().join("corpus.sqlite"))
        .await
        .unwrap();
    let app = App::new(store, Box::new(FixedClock(purl_fuzz::NOW_US)));
    app.execute_all(
        &Actor::Operator,
        Command::add_reference_participants(),
        WriteOptions::default(),
    )
    .await
    .unwrap();
    app.execute(
        &Actor::Operator,
        Command::CreateList {
            period: Period::parse(PERIOD).unwrap(),
        },
        WriteOptions::default(),
    )
    .await
    .unwrap();
    let (mut imported, mut refused) = (0, 0);
    for (path, bytes) in corpus("import") {
        let Some((kind, source)) = purl_fuzz::import_input(&bytes) else {
            continue;
        };
        let before = app.state().await.unwrap();
        let request = ImportRequest {
            kind,
            file: "corpus",
            source,
            idempotency_key: None,
            dry_run: false,
        };
        let outcome = app
            .import_or_check(&Actor::Operator, request, &unwatched)
            .await;
        let after = app.state().await.unwrap();
        match outcome {
            Ok(summary) => {
                imported += 1;
                assert_eq!(
                    after.head - before.head,
                    summary.written.events,
                    "{}: every change the import reported, and no other",
                    path.display()
                );
            }
            Err(error) => {
                refused += 1;
                assert_eq!(after.head, before.head, "{}: {error}", path.display());
                assert_eq!(*after, *before, "{}: nothing changed", path.display());
            }
        }
    }
    let report = purl_app::verify::verify(app.store(), &|_, _| {})
        .await
        .unwrap();
    assert!(report.is_ok(), "{:?}", report.problems);
    assert!(
        imported > 0 && refused > 0,
        "{imported} imported, {refused} refused"
    );
}
