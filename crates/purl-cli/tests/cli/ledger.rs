//! Tamper evidence: any changed byte of a stored event is found and named by `purl verify`.

use purl_store::Store;

use crate::support::{Installation, DEMO_EVENTS};

async fn drop_triggers(installation: &Installation) -> sqlx::SqlitePool {
    let store = installation.store().await;
    let pool = store.pool().clone();
    for trigger in [
        "events_are_append_only_update",
        "events_are_append_only_delete",
    ] {
        sqlx::query(&format!("DROP TRIGGER {trigger}"))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool
}

fn flip(bytes: &[u8], index: usize) -> Vec<u8> {
    let mut changed = bytes.to_vec();
    changed[index] ^= 0x01;
    changed
}

#[tokio::test]
async fn changing_one_byte_of_a_stored_event_makes_verify_fail_naming_the_event() {
    let installation = Installation::demo();
    let pool = drop_triggers(&installation).await;
    let (body,): (Vec<u8>,) = sqlx::query_as("SELECT body FROM events WHERE seq = 100")
        .fetch_one(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE events SET body = ? WHERE seq = 100")
        .bind(flip(&body, body.len() / 2))
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let report = installation.fails(&["verify"]);
    assert!(report.contains("FAILED"), "{report}");
    assert!(
        report.contains("event 100: leaf hash does not match"),
        "{report}"
    );
}

/// Every byte of the body, salt and leaf hash of several events, and every other column, each
/// changed alone: the in-process verifier must report a problem naming exactly that event.
#[tokio::test]
async fn every_single_byte_change_of_sampled_events_is_detected_and_named() {
    let installation = Installation::demo();
    let pool = drop_triggers(&installation).await;
    let store = installation.store().await;
    let head = store.head().await.unwrap();
    let clean = purl_app::verify::verify(&store, &|_, _| {}).await.unwrap();
    assert!(clean.is_ok(), "{:?}", clean.problems);
    let mut checked = 0;
    for seq in [1, head / 2, head] {
        let seq = i64::try_from(seq).unwrap();
        for column in ["body", "salt", "leaf_hash"] {
            let (original,): (Vec<u8>,) =
                sqlx::query_as(&format!("SELECT {column} FROM events WHERE seq = ?"))
                    .bind(seq)
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            for index in 0..original.len() {
                sqlx::query(&format!("UPDATE events SET {column} = ? WHERE seq = ?"))
                    .bind(flip(&original, index))
                    .bind(seq)
                    .execute(&pool)
                    .await
                    .unwrap();
                let report = purl_app::verify::verify(&store, &|_, _| {}).await.unwrap();
                let named = format!("event {seq}:");
                assert!(
                    report.problems.iter().any(|p| p.starts_with(&named)),
                    "{column}[{index}] of event {seq}: {:?}",
                    report.problems
                );
                checked += 1;
            }
            sqlx::query(&format!("UPDATE events SET {column} = ? WHERE seq = ?"))
                .bind(&original)
                .bind(seq)
                .execute(&pool)
                .await
                .unwrap();
        }
        for (column, change) in [
            ("actor", "actor || 'x'"),
            ("kind", "kind || 'x'"),
            ("at_us", "at_us + 1"),
        ] {
            sqlx::query(&format!(
                "UPDATE events SET {column} = {change} WHERE seq = ?"
            ))
            .bind(seq)
            .execute(&pool)
            .await
            .unwrap();
            let report = purl_app::verify::verify(&store, &|_, _| {}).await.unwrap();
            assert!(
                report
                    .problems
                    .iter()
                    .any(|p| p.starts_with(&format!("event {seq}: column {column}"))),
                "{column}: {:?}",
                report.problems
            );
            let restore = change.replace(" || 'x'", "").replace(" + 1", "");
            let undo = if column == "at_us" {
                "at_us - 1".to_owned()
            } else {
                format!("substr({restore}, 1, length({restore}) - 1)")
            };
            sqlx::query(&format!(
                "UPDATE events SET {column} = {undo} WHERE seq = ?"
            ))
            .bind(seq)
            .execute(&pool)
            .await
            .unwrap();
        }
    }
    assert!(checked > 300, "checked {checked} byte changes");
    let restored = purl_app::verify::verify(&store, &|_, _| {}).await.unwrap();
    assert!(restored.is_ok(), "{:?}", restored.problems);
}

#[tokio::test]
async fn a_deleted_or_renumbered_event_and_a_changed_record_are_reported() {
    let installation = Installation::demo();
    let pool = drop_triggers(&installation).await;
    sqlx::query("UPDATE events SET seq = 1000 WHERE seq = 50")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE records SET body = replace(body, '500000000.00', '600000000.00') WHERE kind = 'pledge' AND id = 'DEU-2025-08'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let report = installation.fails(&["verify"]);
    assert!(report.contains("event 50: missing"), "{report}");
    let installation2 = Installation::demo();
    let pool = drop_triggers(&installation2).await;
    sqlx::query("UPDATE records SET body = replace(body, '500000000.00', '600000000.00') WHERE kind = 'pledge' AND id = 'DEU-2025-08'")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let report = installation2.fails(&["verify"]);
    assert!(
        report.contains("record pledge DEU-2025-08: differs from what the events say"),
        "{report}"
    );
}

#[tokio::test]
async fn a_backup_and_an_export_reimported_into_sqlite_verify() {
    let installation = Installation::demo();
    let backup = installation.folder.path().join("backup.sqlite");
    installation.ok(&["backup", "--output", crate::support::path(&backup)]);
    let restored = Installation {
        folder: tempfile::tempdir().unwrap(),
    };
    let restored_url = format!("sqlite://{}", backup.display());
    let verify = restored.ok(&["--database-url", &restored_url, "verify"]);
    assert!(
        verify.starts_with(&format!("ok: {DEMO_EVENTS} events")),
        "{verify}"
    );

    let export = installation.folder.path().join("export.jsonl");
    installation.ok(&["export-db", "--output", crate::support::path(&export)]);
    let copy = Installation {
        folder: tempfile::tempdir().unwrap(),
    };
    copy.ok(&["import-db", crate::support::path(&export)]);
    assert_eq!(copy.ok(&["verify"]), installation.ok(&["verify"]));
    let output = copy.run(&["pledge", "commit", "LVA-2025-10"]);
    assert!(
        output.status.success(),
        "a write succeeds without the signing key copied over"
    );
    let warning = crate::support::text(&output.stderr);
    assert!(
        warning.contains("warning: the write is recorded, but no checkpoint can be signed"),
        "{warning}"
    );
    assert_eq!(
        copy.json(&["pledge", "show", "LVA-2025-10"])["pledge"]["status"],
        "committed"
    );

    let text = std::fs::read_to_string(&export).unwrap();
    let tampered = installation.write_file(
        "tampered.jsonl",
        &text.replacen("\"actor\":\"operator\"", "\"actor\":\"mallory\"", 1),
    );
    let refused = Installation {
        folder: tempfile::tempdir().unwrap(),
    };
    let error = refused.fails(&["import-db", crate::support::path(&tampered)]);
    assert!(error.contains("line 2"), "{error}");
    let database = refused.database();
    let name = database.file_name().unwrap().to_str().unwrap().to_owned();
    let left: Vec<_> = std::fs::read_dir(database.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|file| file.starts_with(&name))
        .collect();
    assert!(
        left.is_empty(),
        "a refused import leaves no database behind: {left:?}"
    );
}
