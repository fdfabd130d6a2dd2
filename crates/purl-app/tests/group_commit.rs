#![allow(clippy::unwrap_used)] // tests fail loudly by design

//! Concurrent writes of one process are committed in groups: each is answered as if alone, a
//! refused one takes nothing with it, and idempotency keys hold inside a group too.

use std::sync::Arc;

use purl_app::{App, AppError, SystemClock, WriteOptions};
use purl_core::command::Command;
use purl_core::ids::{Name, ParticipantCode};
use purl_core::participant::{Membership, Party};
use purl_core::user::Actor;
use purl_store::Store;
use purl_store_sqlite::SqliteStore;

fn add(code: &str) -> Command {
    Command::AddParticipant {
        code: ParticipantCode::parse(code).unwrap(),
        alpha2: None,
        name: Name::parse(code).unwrap(),
        membership: Membership::Organisation,
        party: Party::Contributor,
    }
}

fn code(n: usize) -> String {
    format!("P{n:03}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_are_grouped_and_each_is_answered_as_if_alone() {
    let folder = tempfile::tempdir().unwrap();
    let store = SqliteStore::create(&folder.path().join("purl.sqlite"))
        .await
        .unwrap();
    let app = Arc::new(App::new(store, Box::new(SystemClock)));
    let first = WriteOptions {
        request: "first".into(),
        ..WriteOptions::default()
    };
    app.execute(&Actor::Operator, add("EXISTS"), first)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for n in 0..200 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            // Every tenth write repeats the one before with the same key; the 25th, 75th, ...
            // adds a participant that exists (refused); the rest are new.
            let (command, key, request) = if n % 10 == 9 {
                (add(&code(n - 1)), Some(format!("k{}", n - 1)), code(n - 1))
            } else if n % 25 == 24 {
                (add("EXISTS"), None, format!("again {n}"))
            } else {
                (add(&code(n)), Some(format!("k{n}")), code(n))
            };
            let options = WriteOptions {
                idempotency_key: key,
                request,
                expected_version: None,
            };
            (n, app.execute(&Actor::Operator, command, options).await)
        }));
    }
    let mut written = Vec::new();
    let mut replayed = 0;
    let mut refused = 0;
    for task in tasks {
        let (n, result) = task.await.unwrap();
        match result {
            Ok(answer) if answer.replayed => replayed += 1,
            Ok(answer) => written.push(answer.first_seq.unwrap()),
            Err(AppError::Conflict(message)) if n % 25 == 24 => {
                assert!(message.contains("already exists"), "{message}");
                refused += 1;
            }
            Err(AppError::Conflict(message)) if n % 10 == 9 => {
                // The first of the pair was still being written: a retry gets the replay.
                assert!(
                    message.contains("retry") || message.contains("idempotency"),
                    "{message}"
                );
                replayed += 1;
            }
            Err(other) => panic!("write {n}: {other}"),
        }
    }
    written.sort_unstable();
    let head = app.store().head().await.unwrap();
    assert_eq!(
        written,
        (2..=head).collect::<Vec<_>>(),
        "one event per write, no gap"
    );
    assert_eq!(refused, 4);
    assert_eq!(replayed, 20);
    assert_eq!(written.len(), 200 - 20 - 4);
    let state = app.load_state().await.unwrap();
    assert_eq!(state.participants.len(), written.len() + 1);
    let report = purl_app::verify::verify(app.store(), &|_, _| {})
        .await
        .unwrap();
    assert!(report.is_ok(), "{report:?}");
}
