#![allow(clippy::unwrap_used)] // tests fail loudly by design

//! Two processes on one database: each one's cached state catches up with the other's writes and
//! equals a state loaded afresh.

use purl_app::{App, FixedClock, WriteOptions};
use purl_core::command::Command;
use purl_core::participant::reference_participants;
use purl_core::user::Actor;
use purl_store::Store as _;
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

/// Two applications on one SQLite file, as two processes would be (the folder lives as long as
/// they are used).
async fn two_processes() -> (tempfile::TempDir, App<SqliteStore>, App<SqliteStore>) {
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
    (folder, first, second)
}

fn options() -> WriteOptions {
    WriteOptions {
        request: "test".into(),
        ..WriteOptions::default()
    }
}

#[tokio::test]
async fn a_cached_state_catches_up_with_another_processs_writes() {
    let (_folder, first, second) = two_processes().await;
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

fn add_user(username: &str, participant: &str) -> Command {
    Command::AddUser {
        username: purl_core::ids::Username::parse(username).unwrap(),
        participant: purl_core::ids::ParticipantCode::parse(participant).unwrap(),
        name: purl_core::ids::Name::parse("Someone").unwrap(),
        roles: std::collections::BTreeSet::from([purl_core::user::Role::Editor]),
    }
}

/// A process that wrote alone for a while decides its writes on its cached state without reading
/// the head; once another process writes, that state is stale. A write decided on it must not be
/// committed (the head moved: it is decided again, and refused on the fresh state) nor refused
/// (it is checked against the head and decided again, and accepted on the fresh state).
#[tokio::test]
async fn a_process_that_wrote_alone_still_decides_on_the_other_processs_writes() {
    let (_folder, first, second) = two_processes().await;
    // Enough writes alone for the first process to stop reading the head before deciding.
    let write_alone = |from: u8| {
        let first = &first;
        async move {
            for n in 0..20u8 {
                let code = format!("{}{}A", char::from(from), char::from(b'A' + n));
                first
                    .execute(&Actor::Operator, add(&code), options())
                    .await
                    .unwrap();
            }
        }
    };
    write_alone(b'A').await;
    second
        .execute(&Actor::Operator, add("ZZZ"), options())
        .await
        .unwrap();
    // Accepted on the stale state, refused on the fresh one: nothing is written.
    let twice = first.execute(&Actor::Operator, add("ZZZ"), options()).await;
    assert!(
        matches!(&twice, Err(purl_app::AppError::Conflict(message)) if message.contains("ZZZ")),
        "the participant exists: {twice:?}"
    );
    assert_eq!(first.store().head().await.unwrap(), 21);

    write_alone(b'B').await;
    second
        .execute(&Actor::Operator, add("YYY"), options())
        .await
        .unwrap();
    // Refused on the stale state (no such participant), accepted on the fresh one.
    let written = first
        .execute(&Actor::Operator, add_user("new.user", "YYY"), options())
        .await
        .unwrap();
    assert_eq!(written.last_seq, Some(43));
    assert_eq!(
        *first.state().await.unwrap(),
        first.load_state().await.unwrap()
    );
}

/// Counts the log events whose message is `message`.
struct CountEvents {
    message: &'static str,
    seen: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for CountEvents {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        if message.0 == self.message {
            self.seen.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// A process just started has no state yet: callers who arrive together wait for one load of the
/// read side and share it, instead of each loading it again in turn.
#[tokio::test]
async fn callers_who_arrive_together_share_one_load_of_the_state() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let (_folder, first, second) = two_processes().await;
    // Enough records that a load takes a while, so the callers are all waiting before it ends.
    let codes = (0..26 * 26).map(|n| {
        format!(
            "Q{}{}",
            char::from(b'A' + (n / 26) as u8),
            char::from(b'A' + (n % 26) as u8)
        )
    });
    let written = first
        .execute_all(
            &Actor::Operator,
            codes.map(|code| add(&code)).collect(),
            options(),
        )
        .await
        .unwrap();
    let loads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = CountEvents {
        message: "state loaded from the read side",
        seen: loads.clone(),
    };
    // This test's runtime runs every task on this thread, where the subscriber is set.
    let _logs = tracing::subscriber::set_default(tracing_subscriber::registry().with(counter));
    let states = futures::future::join_all((0..16).map(|_| second.state())).await;
    for state in states {
        assert_eq!(Some(state.unwrap().head), written.last_seq);
    }
    assert_eq!(
        loads.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "one load for 16 callers"
    );
}
