#![allow(clippy::unwrap_used)] // tests fail loudly by design

//! Two processes on one database: each one's cached state catches up with the other's writes and
//! equals a state loaded afresh.

use purl_app::{App, FixedClock, WriteOptions};
use purl_core::command::Command;
use purl_core::participant::reference_participants;
use purl_core::user::Actor;
use purl_store_sqlite::SqliteStore;

fn add(code: &str) -> Command {
    let mut participant = reference_participants().into_iter().next().unwrap();
    participant.code = purl_core::ids::ParticipantCode::parse(code).unwrap();
    Command::AddParticipant {
        code: participant.code,
        alpha2: None,
        name: participant.name,
        membership: participant.membership,
        party: participant.party,
    }
}

#[tokio::test]
async fn a_cached_state_catches_up_with_another_processs_writes() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("purl.sqlite");
    let first = App::new(
        SqliteStore::create(&path).await.unwrap(),
        Box::new(FixedClock(1)),
    );
    let second = App::new(
        SqliteStore::open(&path).await.unwrap(),
        Box::new(FixedClock(2)),
    );
    let options = || WriteOptions {
        request: "test".into(),
        ..WriteOptions::default()
    };
    first
        .execute(&Actor::Operator, add("AAA"), options())
        .await
        .unwrap();
    let seen = second.state().await.unwrap();
    assert_eq!(seen.head, 1);
    for code in ["BBB", "CCC", "DDD"] {
        first
            .execute(&Actor::Operator, add(code), options())
            .await
            .unwrap();
    }
    second
        .execute(&Actor::Operator, add("EEE"), options())
        .await
        .unwrap();
    let caught_up = first.state().await.unwrap();
    assert_eq!(caught_up.head, 5);
    assert_eq!(*caught_up, first.load_state().await.unwrap());
    assert_eq!(*second.state().await.unwrap(), *caught_up);
}
