//! The auditor's view: evidence and checkpoints verified offline with only the public key; a
//! rewritten history is caught.

use purl_core::event::leaf_hash;

use crate::support::{path, Installation, DEMO_EVENTS};

struct Files {
    folder: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        Self {
            folder: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> String {
        path(&self.folder.path().join(name)).to_owned()
    }
}

fn size_of(checkpoint: &str) -> String {
    std::fs::read_to_string(checkpoint)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_owned()
}

/// Runs `purl audit ...` outside any installation, as an auditor would.
fn audit(args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(assert_cmd::cargo::cargo_bin("purl"))
        .arg("--data-dir")
        .arg("/nonexistent/no-installation-here")
        .arg("audit")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn an_auditor_verifies_evidence_offline_and_catches_a_rewritten_history() {
    let installation = Installation::demo();
    let files = Files::new();
    let key = files.path("purl.pub");
    std::fs::write(&key, installation.ok(&["key", "show-public"])).unwrap();
    let (first, evidence) = (
        files.path("checkpoint-1.txt"),
        files.path("nld-evidence.json"),
    );
    installation.ok(&["checkpoint", "show", "--output", &first]);
    installation.ok(&[
        "evidence",
        "export",
        "--participant",
        "NLD",
        "--output",
        &evidence,
    ]);

    let (ok, report) = audit(&["checkpoint", "--key", &key, &first]);
    assert!(ok, "{report}");
    let (ok, report) = audit(&["evidence", "--key", &key, &evidence]);
    assert!(ok && report.contains("\"records_verified\":"), "{report}");

    installation.ok(&["pledge", "commit", "LVA-2025-10"]);
    installation.ok(&["pledge", "publish", "HRV-2025-11"]);
    let second = files.path("checkpoint-2.txt");
    installation.ok(&["checkpoint", "create"]);
    installation.ok(&["checkpoint", "show", "--output", &second]);
    let consistency = files.path("consistency-1-2.json");
    installation.ok(&[
        "proof",
        "consistency",
        "--from",
        &size_of(&first),
        "--to",
        &size_of(&second),
        "--output",
        &consistency,
    ]);
    let (ok, report) = audit(&[
        "consistency",
        "--key",
        &key,
        "--old",
        &first,
        "--new",
        &second,
        "--proof",
        &consistency,
    ]);
    assert!(
        ok,
        "the honest ledger extends the checkpoint the auditor kept: {report}"
    );

    // The operator rewrites the Netherlands' first pledge, recomputing its leaf hash.
    let store = installation.store().await;
    let pool = store.pool().clone();
    sqlx::query("DROP TRIGGER events_are_append_only_update")
        .execute(&pool)
        .await
        .unwrap();
    let (seq, body, salt): (i64, Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT seq, body, salt FROM events WHERE kind = 'pledge_recorded' AND instr(body, CAST('\"NLD-2025-08\"' AS BLOB)) > 0")
            .fetch_one(&pool)
            .await
            .unwrap();
    let forged = replace_bytes(&body, b"\"500000000.00\"", b"\"50000000.00\"");
    sqlx::query("UPDATE events SET body = ?, leaf_hash = ? WHERE seq = ?")
        .bind(&forged)
        .bind(leaf_hash(&forged, &salt).as_slice())
        .bind(seq)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    installation.ok(&["pledge", "publish", "BGR-2025-11"]);
    let third = files.path("checkpoint-3.txt");
    installation.ok(&["checkpoint", "create"]);
    installation.ok(&["checkpoint", "show", "--output", &third]);
    let (ok, report) = audit(&["checkpoint", "--key", &key, &third]);
    assert!(ok, "the new checkpoint is properly signed: {report}");
    let proof = files.path("consistency-1-3.json");
    installation.ok(&[
        "proof",
        "consistency",
        "--from",
        &size_of(&first),
        "--to",
        &size_of(&third),
        "--output",
        &proof,
    ]);
    let (ok, report) = audit(&[
        "consistency",
        "--key",
        &key,
        "--old",
        &first,
        "--new",
        &third,
        "--proof",
        &proof,
    ]);
    assert!(
        !ok && report.contains("does not extend the older one"),
        "the rewrite is caught: {report}"
    );

    let verify = installation.fails(&["verify"]);
    assert!(
        verify.contains(&format!(
            "event {seq}: its leaf differs from leaf {} of the stored Merkle tree",
            seq - 1
        )),
        "{verify}"
    );
}

#[test]
fn a_tampered_evidence_bundle_or_checkpoint_is_refused() {
    let installation = Installation::demo();
    let files = Files::new();
    let key = files.path("purl.pub");
    std::fs::write(&key, installation.ok(&["key", "show-public"])).unwrap();
    let (checkpoint, evidence) = (files.path("cp.txt"), files.path("ev.json"));
    installation.ok(&["checkpoint", "show", "--output", &checkpoint]);
    installation.ok(&[
        "evidence",
        "export",
        "--participant",
        "DEU",
        "--output",
        &evidence,
    ]);
    let original = std::fs::read_to_string(&evidence).unwrap();
    let mut bundle: serde_json::Value = serde_json::from_str(&original).unwrap();
    let event = bundle["entries"][1]["event"].as_str().unwrap().to_owned();
    let mut bytes = base64_decode(&event);
    bytes[10] ^= 1;
    bundle["entries"][1]["event"] = base64_encode(&bytes).into();
    std::fs::write(&evidence, bundle.to_string()).unwrap();
    let (ok, report) = audit(&["evidence", "--key", &key, &evidence]);
    assert!(!ok && report.contains("entry for event"), "{report}");

    let note = std::fs::read_to_string(&checkpoint).unwrap();
    std::fs::write(
        &checkpoint,
        note.replacen(
            &format!("\n{DEMO_EVENTS}\n"),
            &format!("\n{}\n", DEMO_EVENTS - 1),
            1,
        ),
    )
    .unwrap();
    let (ok, report) = audit(&["checkpoint", "--key", &key, &checkpoint]);
    assert!(!ok && report.contains("signature"), "{report}");
    let (ok, report) = audit(&["checkpoint", "--key", "someone+12345678+AQ==", &checkpoint]);
    assert!(!ok, "{report}");
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn one_contributors_evidence_holds_nothing_readable_of_another() {
    let installation = Installation::demo();
    let files = Files::new();
    let pledges = installation.json(&["pledge", "list"]);
    for participant in ["NLD", "DEU", "NZL"] {
        let evidence = files.path(&format!("{participant}.json"));
        installation.ok(&[
            "evidence",
            "export",
            "--participant",
            participant,
            "--output",
            &evidence,
        ]);
        let bundle: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&evidence).unwrap()).unwrap();
        let entries = bundle["entries"].as_array().unwrap();
        assert!(entries.len() >= 3, "{participant} has its own records");
        let mut readable = String::new();
        for entry in entries {
            readable.push_str(&String::from_utf8_lossy(&base64_decode(
                entry["event"].as_str().unwrap(),
            )));
            for hash in entry["proof"].as_array().unwrap() {
                assert_eq!(
                    base64_decode(hash.as_str().unwrap()).len(),
                    32,
                    "proofs hold only hashes"
                );
            }
        }
        for pledge in pledges.as_array().unwrap() {
            let contributors: Vec<&str> = pledge["contributors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .collect();
            let reference = pledge["reference"].as_str().unwrap();
            let own = contributors.contains(&participant);
            assert_eq!(
                readable.contains(&format!("\"{reference}\"")),
                own,
                "{participant}'s evidence and pledge {reference}"
            );
        }
        for other_user in ["deu.bmvg", "nld.mod", "can.dnd", "nor.fd"] {
            let own = other_user.starts_with(&participant.to_lowercase());
            assert_eq!(
                readable.contains(other_user),
                own,
                "{participant}'s evidence and user {other_user}"
            );
        }
        let (ok, report) = {
            let key = files.path("k.pub");
            std::fs::write(&key, installation.ok(&["key", "show-public"])).unwrap();
            audit(&["evidence", "--key", &key, &evidence])
        };
        assert!(ok, "{report}");
    }
}

fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = haystack
        .windows(from.len())
        .position(|w| w == from)
        .expect("the text to replace is there");
    [&haystack[..at], to, &haystack[at + from.len()..]].concat()
}
