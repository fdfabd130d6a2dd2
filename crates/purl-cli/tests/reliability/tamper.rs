//! Tamper evidence: edits of the stored ledger behind the application's back (its append-only
//! triggers dropped), each checked with what `purl verify` runs (`purl_app::verify::verify`):
//! every byte of every stored column flipped, random one-byte edits, and events deleted, inserted,
//! swapped and truncated. A rewritten tail with recomputed hashes and a freshly signed checkpoint
//! is given to `purl audit consistency` holding an older checkpoint.

use std::path::{Path, PathBuf};

use purl_core::checkpoint::{Checkpoint, SignerKey};
use purl_core::event::leaf_hash;
use purl_core::merkle::{self, Hash, NodeId};
use purl_store::Store as _;
use purl_store_sqlite::SqliteStore;
use rand::seq::SliceRandom;
use rand::Rng;
use sqlx::{Row, SqlitePool};

use crate::measure::{count, Run};
use crate::support::{path, Installation};

/// A ledger of `events` events with a checkpoint at its head, saved as one database file.
struct Ledger {
    installation: Installation,
    pristine: PathBuf,
    head: u64,
}

impl Ledger {
    async fn new(events: u64) -> Ledger {
        let installation = Installation::new();
        let store = installation.store().await;
        let initial = store.head().await.unwrap();
        store.close().await;
        let extra = events
            .checked_sub(initial)
            .expect("more events than `purl init` writes");
        if extra > 0 {
            let mut csv = String::from("reference,contributors,amount,currency,announced_on,status,part_of,categories,lethal_allowed,package,conditions,public,note\n");
            for n in 0..extra {
                csv.push_str(&format!(
                    "T-{n:06},NL,{}.{:02},EUR,2026-01-15,committed,,,true,,,false,row {n}\n",
                    1_000 + n,
                    n % 100
                ));
            }
            let file = installation.write_file("pledges.csv", &csv);
            installation.ok(&["import", "pledges", path(&file)]);
        }
        installation.ok(&["checkpoint", "create"]);
        let store = installation.store().await;
        let head = store.head().await.unwrap();
        assert_eq!(head, events, "the ledger has the events asked for");
        for trigger in [
            "events_are_append_only_update",
            "events_are_append_only_delete",
            "tree_nodes_are_append_only_update",
            "tree_nodes_are_append_only_delete",
        ] {
            sqlx::query(&format!("DROP TRIGGER IF EXISTS {trigger}"))
                .execute(store.pool())
                .await
                .unwrap();
        }
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
        let pristine = installation.folder.path().join("pristine.sqlite");
        std::fs::copy(installation.database(), &pristine).unwrap();
        Ledger {
            installation,
            pristine,
            head,
        }
    }

    /// Removes a copy made by `copy`.
    fn discard(&self, name: &str) {
        let file = self
            .installation
            .folder
            .path()
            .join(format!("{name}.sqlite"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }

    /// A fresh copy of the ledger to tamper with.
    async fn copy(&self, name: &str) -> SqliteStore {
        let file = self
            .installation
            .folder
            .path()
            .join(format!("{name}.sqlite"));
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
        std::fs::copy(&self.pristine, &file).unwrap();
        SqliteStore::open(&file).await.unwrap()
    }
}

/// What `purl verify` reports, or the error it stops with.
async fn verify(store: &SqliteStore) -> Result<Vec<String>, String> {
    purl_app::verify::verify(store, &|_, _| {})
        .await
        .map(|report| report.problems)
        .map_err(|error| error.to_string())
}

/// The first event `problems` names, if any.
fn first_event_named(problems: &[String]) -> Option<u64> {
    problems.iter().find_map(|problem| {
        problem
            .strip_prefix("event ")
            .and_then(|rest| rest.split(':').next())
            .and_then(|seq| seq.parse().ok())
    })
}

/// A stored column and how to write a changed value into it.
#[derive(Debug, Clone, Copy)]
enum Column {
    Integer(&'static str),
    Text(&'static str),
    Blob(&'static str),
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::Integer(name) | Column::Text(name) | Column::Blob(name) => name,
        }
    }
}

const EVENT_COLUMNS: [Column; 7] = [
    Column::Integer("seq"),
    Column::Integer("at_us"),
    Column::Text("actor"),
    Column::Text("kind"),
    Column::Blob("body"),
    Column::Blob("salt"),
    Column::Blob("leaf_hash"),
];

/// A column's stored bytes (an integer as its 8 little-endian bytes).
async fn cell(pool: &SqlitePool, table: &str, column: Column, key: &str) -> Vec<u8> {
    let sql = format!("SELECT {} FROM {table} WHERE {key}", column.name());
    let row = sqlx::query(&sql).fetch_one(pool).await.unwrap();
    match column {
        Column::Integer(_) => row.get::<i64, _>(0).to_le_bytes().to_vec(),
        Column::Text(_) | Column::Blob(_) => row.get::<Vec<u8>, _>(0),
    }
}

/// Writes `bytes` into the cell; false when the database refuses it (a key or check constraint).
async fn set_cell(pool: &SqlitePool, table: &str, column: Column, key: &str, bytes: &[u8]) -> bool {
    let value = match column {
        Column::Integer(_) => "?",
        Column::Text(_) => "CAST(? AS TEXT)",
        Column::Blob(_) => "?",
    };
    let sql = format!("UPDATE {table} SET {} = {value} WHERE {key}", column.name());
    let query = sqlx::query(&sql);
    let query = match column {
        Column::Integer(_) => query.bind(i64::from_le_bytes(bytes.try_into().unwrap())),
        Column::Text(_) | Column::Blob(_) => query.bind(bytes.to_vec()),
    };
    query.execute(pool).await.is_ok()
}

/// One edit of one byte: where, and with what mask.
#[derive(Debug, Clone)]
struct Edit {
    table: &'static str,
    column: Column,
    /// The row's key, as SQL.
    key: String,
    /// For an event: its sequence number.
    seq: Option<u64>,
    byte: usize,
    mask: u8,
}

/// Every byte of every stored column of the ledger's tables, with both masks.
async fn every_byte(pool: &SqlitePool, head: u64) -> Vec<Edit> {
    let mut edits = Vec::new();
    let mut add = |table, column, key: String, seq, len: usize| {
        for byte in 0..len {
            for mask in [0x01, 0x80] {
                edits.push(Edit {
                    table,
                    column,
                    key: key.clone(),
                    seq,
                    byte,
                    mask,
                });
            }
        }
    };
    for seq in 1..=head {
        for column in EVENT_COLUMNS {
            let key = format!("seq = {seq}");
            let len = cell(pool, "events", column, &key).await.len();
            add("events", column, key, Some(seq), len);
        }
    }
    let nodes: Vec<(i64, i64)> = sqlx::query_as("SELECT level, idx FROM tree_nodes")
        .fetch_all(pool)
        .await
        .unwrap();
    for (level, idx) in nodes {
        add(
            "tree_nodes",
            Column::Blob("hash"),
            format!("level = {level} AND idx = {idx}"),
            None,
            32,
        );
    }
    let checkpoints: Vec<(i64, i64)> =
        sqlx::query_as("SELECT size, length(CAST(note AS BLOB)) FROM checkpoints")
            .fetch_all(pool)
            .await
            .unwrap();
    for (size, note_len) in checkpoints {
        add(
            "checkpoints",
            Column::Blob("root"),
            format!("size = {size}"),
            None,
            32,
        );
        add(
            "checkpoints",
            Column::Text("note"),
            format!("size = {size}"),
            None,
            note_len as usize,
        );
    }
    edits
}

/// Applies the edit, runs verify, puts the byte back. None when the database refused the edit.
async fn detected(store: &SqliteStore, edit: &Edit) -> Option<Result<(), String>> {
    let pool = store.pool();
    let original = cell(pool, edit.table, edit.column, &edit.key).await;
    let mut changed = original.clone();
    changed[edit.byte] ^= edit.mask;
    if !set_cell(pool, edit.table, edit.column, &edit.key, &changed).await {
        return None;
    }
    let outcome = verify(store).await;
    // The key of a changed `seq` is its new value.
    let key_now = match (edit.column, edit.seq) {
        (Column::Integer("seq"), Some(_)) => {
            format!(
                "seq = {}",
                i64::from_le_bytes(changed.as_slice().try_into().unwrap())
            )
        }
        _ => edit.key.clone(),
    };
    assert!(set_cell(pool, edit.table, edit.column, &key_now, &original).await);
    let named = match (outcome, edit.seq) {
        (Err(error), _) => Err(format!("verify stopped: {error}")),
        (Ok(problems), _) if problems.is_empty() => Err("not detected".into()),
        (Ok(problems), Some(seq)) => {
            let new_seq = match edit.column {
                Column::Integer("seq") => {
                    u64::try_from(i64::from_le_bytes(changed.as_slice().try_into().unwrap())).ok()
                }
                _ => None,
            };
            let first_bad = new_seq.map_or(seq, |new| new.min(seq));
            if first_event_named(&problems) == Some(first_bad) {
                Ok(())
            } else {
                Err(format!(
                    "named {:?}, not event {first_bad}: {}",
                    first_event_named(&problems),
                    problems[0]
                ))
            }
        }
        (Ok(_), None) => Ok(()),
    };
    Some(named.map_err(|why| format!("{edit:?}: {why}")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_flipped_byte_of_a_64_event_ledger_is_detected_and_named() {
    let run = Run::start("tamper_every_byte").await;
    let ledger = Ledger::new(64).await;
    let store = ledger.copy("bytes").await;
    let mut edits = every_byte(store.pool(), ledger.head).await;
    let all = edits.len();
    let sample = count(2_000, all);
    edits.shuffle(&mut run.rng());
    edits.truncate(sample);
    let (mut applied, mut refused, mut missed) = (0, 0, Vec::new());
    for edit in &edits {
        match detected(&store, edit).await {
            None => refused += 1,
            Some(Ok(())) => applied += 1,
            Some(Err(why)) => {
                applied += 1;
                missed.push(why);
            }
        }
    }
    run.figure(&format!(
        "{} of the {all} single-byte flips (0x01 and 0x80 of every byte of every column of events, tree_nodes, checkpoints) tried: {applied} stored, {} detected with the first bad event named ({:.1} %), {refused} refused by the database itself (key or check constraint)",
        edits.len(),
        applied - missed.len(),
        100.0 * (applied - missed.len()) as f64 / applied as f64,
    ));
    assert!(
        missed.is_empty(),
        "{} missed, e.g.:\n{}",
        missed.len(),
        missed
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_one_byte_edits_of_a_10000_event_ledger_are_detected_and_named() {
    let run = Run::start("tamper_random_edits").await;
    let mut rng = run.rng();
    let ledger = Ledger::new(10_000).await;
    let store = ledger.copy("random").await;
    let trials = count(100, 10_000);
    let (mut applied, mut refused, mut missed) = (0, 0, Vec::new());
    let started = std::time::Instant::now();
    while applied + refused < trials {
        let seq = rng.gen_range(1..=ledger.head);
        let column = *EVENT_COLUMNS.choose(&mut rng).unwrap();
        let key = format!("seq = {seq}");
        let len = cell(store.pool(), "events", column, &key).await.len();
        let edit = Edit {
            table: "events",
            column,
            key,
            seq: Some(seq),
            byte: rng.gen_range(0..len),
            mask: rng.gen_range(1..=255),
        };
        match detected(&store, &edit).await {
            None => refused += 1,
            Some(Ok(())) => applied += 1,
            Some(Err(why)) => {
                applied += 1;
                missed.push(why);
            }
        }
    }
    run.figure(&format!(
        "{trials} random one-byte edits of a {}-event ledger in {:.0} s: {applied} stored, {} detected with the first bad event named, {refused} refused by the database itself",
        ledger.head,
        started.elapsed().as_secs_f64(),
        applied - missed.len(),
    ));
    assert!(
        missed.is_empty(),
        "{} missed, e.g.:\n{}",
        missed.len(),
        missed
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    store.close().await;
}

/// Every column of an event row, in table order.
const ROW: &str = "seq, at_us, actor, kind, body, salt, leaf_hash";

async fn shift_up_from(pool: &mut sqlx::SqliteConnection, seq: u64) {
    // Two steps, so no intermediate row collides with another's key.
    for sql in [
        "UPDATE events SET seq = seq + 1000000 WHERE seq >= ?",
        "UPDATE events SET seq = seq - 999999 WHERE seq >= 1000000 + ?",
    ] {
        sqlx::query(sql)
            .bind(seq as i64)
            .execute(&mut *pool)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_inserted_swapped_and_truncated_events_are_detected() {
    let run = Run::start("tamper_structure").await;
    let mut rng = run.rng();
    let ledger = Ledger::new(64).await;
    let trials = count(1_000, 1_000);
    let head = ledger.head;
    for kind in ["delete", "insert", "swap", "truncate"] {
        let mut missed = Vec::new();
        for trial in 0..trials {
            let store = ledger.copy(&format!("{kind}-{trial}")).await;
            // One connection, without the read side's foreign keys on the events.
            let mut connection = store.pool().acquire().await.unwrap();
            sqlx::query("PRAGMA foreign_keys = OFF")
                .execute(&mut *connection)
                .await
                .unwrap();
            let pool = &mut *connection;
            let expected_first = match kind {
                "delete" => {
                    let seq = rng.gen_range(1..=head);
                    // Deleting the last event is a truncation: the checkpoint at the head names it.
                    let named = (seq < head).then_some(seq);
                    sqlx::query("DELETE FROM events WHERE seq = ?")
                        .bind(seq as i64)
                        .execute(&mut *pool)
                        .await
                        .unwrap();
                    named
                }
                "insert" => {
                    // A copy of another event's row, slipped in at `seq`; later events move up.
                    let seq = rng.gen_range(1..=head + 1);
                    let copied = rng.gen_range(1..=head);
                    sqlx::query(&format!(
                        "CREATE TEMP TABLE copied AS SELECT {ROW} FROM events WHERE seq = ?"
                    ))
                    .bind(copied as i64)
                    .execute(&mut *pool)
                    .await
                    .unwrap();
                    shift_up_from(&mut *pool, seq).await;
                    sqlx::query(&format!("INSERT INTO events ({ROW}) SELECT ?, at_us, actor, kind, body, salt, leaf_hash FROM copied"))
                        .bind(seq as i64).execute(&mut *pool).await.unwrap();
                    // A copy of event `seq` itself put at `seq` is genuine: the next one is the first bad.
                    Some(if copied == seq { seq + 1 } else { seq })
                }
                "swap" => {
                    let mut pair = [rng.gen_range(1..=head), rng.gen_range(1..=head)];
                    while pair[0] == pair[1] {
                        pair[1] = rng.gen_range(1..=head);
                    }
                    pair.sort();
                    let [a, b] = pair;
                    for (from, to) in [(a, 0i64), (b, a as i64), (0, b as i64)] {
                        // Through a spare number: (a, b) -> (b, a), every column moving with it.
                        let from = if from == 0 { 3_000_000 } else { from as i64 };
                        let to = if to == 0 { 3_000_000 } else { to };
                        sqlx::query("UPDATE events SET seq = ? WHERE seq = ?")
                            .bind(to)
                            .bind(from)
                            .execute(&mut *pool)
                            .await
                            .unwrap();
                    }
                    Some(a)
                }
                _ => {
                    let cut = rng.gen_range(1..head);
                    sqlx::query("DELETE FROM events WHERE seq > ?")
                        .bind(cut as i64)
                        .execute(&mut *pool)
                        .await
                        .unwrap();
                    None
                }
            };
            drop(connection);
            let outcome = verify(&store).await;
            let ok = match (&outcome, expected_first) {
                (Ok(problems), Some(seq)) => first_event_named(problems) == Some(seq),
                (Ok(problems), None) => !problems.is_empty(),
                (Err(_), _) => false,
            };
            if !ok {
                missed.push(format!(
                    "trial {trial}: expected event {expected_first:?}: {outcome:?}"
                ));
            }
            store.close().await;
            ledger.discard(&format!("{kind}-{trial}"));
        }
        run.figure(&format!(
            "{kind}: {trials} trials on a {head}-event ledger, {} detected{}",
            trials - missed.len(),
            if kind == "truncate" {
                " (against the checkpoint at the old head)"
            } else {
                " with the first bad event named"
            }
        ));
        assert!(
            missed.is_empty(),
            "{kind}: {} missed, e.g.:\n{}",
            missed.len(),
            missed
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// The leaves of a ledger's events, in order.
async fn leaves(store: &SqliteStore) -> Vec<(Vec<u8>, Vec<u8>)> {
    sqlx::query_as("SELECT body, salt FROM events ORDER BY seq")
        .fetch_all(store.pool())
        .await
        .unwrap()
}

fn consistency_file(folder: &Path, old_size: u64, leaves: &[Hash]) -> PathBuf {
    let nodes = node_table(leaves);
    let proof = merkle::consistency_proof(old_size, leaves.len() as u64, &|id: NodeId| nodes(id));
    let encoded: Vec<String> = proof
        .iter()
        .map(|hash| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, hash))
        .collect();
    let file = folder.join("consistency.json");
    std::fs::write(
        &file,
        serde_json::json!({"old_size": old_size, "new_size": leaves.len(), "proof": encoded})
            .to_string(),
    )
    .unwrap();
    file
}

/// The hash of any complete subtree over `leaves`.
fn node_table(leaves: &[Hash]) -> impl Fn(NodeId) -> Hash + '_ {
    move |id: NodeId| {
        let width = 1usize << id.level;
        let start = id.index as usize * width;
        merkle::root_of(&leaves[start..(start + width).min(leaves.len())])
    }
}

fn checkpoint_file(folder: &Path, name: &str, signer: &SignerKey, leaves: &[Hash]) -> PathBuf {
    let note = signer.sign(&Checkpoint {
        origin: signer.name().to_owned(),
        size: leaves.len() as u64,
        root: merkle::root_of(leaves),
    });
    let file = folder.join(name);
    std::fs::write(&file, note).unwrap();
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewritten_tail_with_recomputed_hashes_fails_the_auditors_consistency_check() {
    let run = Run::start("tamper_rewritten_tail").await;
    let mut rng = run.rng();
    let ledger = Ledger::new(64).await;
    let store = ledger.copy("tail").await;
    let events = leaves(&store).await;
    store.close().await;
    let honest: Vec<Hash> = events
        .iter()
        .map(|(body, salt)| leaf_hash(body, salt))
        .collect();
    let installation = &ledger.installation;
    let key_text =
        std::fs::read_to_string(installation.data_dir().join("ledger-signing.key")).unwrap();
    let signer = SignerKey::parse(key_text.trim()).unwrap();
    let verifier = signer.verifier().encode();
    let folder = installation.folder.path();
    let trials = count(1_000, 1_000);
    let mut missed = Vec::new();
    let mut honest_accepted = 0;
    // `purl audit consistency` of the auditor's checkpoint `old` against a newly signed
    // checkpoint of `leaves`, with the consistency proof the operator computes from them.
    let audit_extension = |old: &Path, leaves: &[Hash]| {
        let kept = std::fs::read_to_string(old).unwrap();
        let kept: u64 = kept.lines().nth(1).unwrap().parse().unwrap();
        let new = checkpoint_file(folder, "new.txt", &signer, leaves);
        let proof = consistency_file(folder, kept, leaves);
        installation.run(&[
            "audit",
            "consistency",
            "--key",
            &verifier,
            "--old",
            path(old),
            "--new",
            path(&new),
            "--proof",
            path(&proof),
        ])
    };
    for trial in 0..trials {
        // The auditor kept the checkpoint at `kept`; the operator rewrites events from `from`
        // (at or before `kept`), recomputes every hash, appends, and signs a new checkpoint.
        let kept = rng.gen_range(1..=honest.len());
        let from = rng.gen_range(0..kept);
        let appended = rng.gen_range(0..4);
        let old = checkpoint_file(folder, "old.txt", &signer, &honest[..kept]);
        let mut forged: Vec<Hash> = honest[..from].to_vec();
        for (body, salt) in &events[from..] {
            let mut body = body.clone();
            let at = rng.gen_range(0..body.len());
            body[at] ^= rng.gen_range(1..=255u8);
            forged.push(leaf_hash(&body, salt));
        }
        for n in 0..appended {
            forged.push(leaf_hash(format!("appended {n}").as_bytes(), &[0; 32]));
        }
        let output = audit_extension(&old, &forged);
        if output.status.success() {
            missed.push(format!(
                "trial {trial}: kept {kept}, rewritten from {}",
                from + 1
            ));
        }
        if trial % 100 == 0 {
            // The honest ledger, extended the same way, passes the same check.
            let mut extended = honest.clone();
            extended.extend(forged[honest.len()..].iter().copied());
            let output = audit_extension(&old, &extended);
            assert!(
                output.status.success(),
                "an honest extension passes: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            honest_accepted += 1;
        }
    }
    run.figure(&format!(
        "{trials} rewritten tails (from a random event at or before the auditor's checkpoint, hashes recomputed, checkpoint re-signed with the real key): {} refused by `purl audit consistency`; {honest_accepted} honest extensions accepted",
        trials - missed.len()
    ));
    assert!(
        missed.is_empty(),
        "{} accepted: {:?}",
        missed.len(),
        &missed[..missed.len().min(3)]
    );
}
