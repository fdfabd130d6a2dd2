//! Fail closed on SQLite (item 10): the installation lives on a small file system the test mounts
//! itself (tmpfs), which it then fills up under a running `purl serve`, twice. (Linux refuses to
//! remount a file system read-only while a process has files open on it for writing, so a
//! read-only database is tested on PostgreSQL, in `crash`.)
//! Every request that needs storage must get a generic 503, no write may be acknowledged, and
//! once storage returns the service goes on without losing what it acknowledged before. Mounting
//! needs root; elsewhere the test says so and is skipped. (SQLite is embedded: there is no database
//! server to stop; PostgreSQL's stopped database is tested in `crash`.)

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

use crate::measure::Run;
use crate::support::{api_token, one_time_password, Installation};

/// A tmpfs mounted for the test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn new(size: &str) -> Option<Mount> {
        let folder = tempfile::tempdir().unwrap().keep();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&folder)
            .status()
            .is_ok_and(|status| status.success());
        mounted.then_some(Mount(folder))
    }

    /// Fills the file system up to the last byte with a file; returns it.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let filler = self.0.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        for _ in 0..64 {
            let _ = file.write_all(&[0]);
        }
        filler
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn pledge(index: usize) -> Value {
    json!({"reference": format!("FULL-{index:04}"), "contributors": ["NLD"],
           "amount": format!("{}.00", 1000 + index), "currency": "EUR",
           "announced_on": "2026-11-01"})
}

/// What the service answered while storage was gone.
#[derive(Default)]
struct Probed {
    /// Writes answered with the generic 503 (code `unavailable`, `Retry-After`, nothing more).
    writes_refused: usize,
    writes_acknowledged: usize,
    /// Confidential reads (recorded in the access log): the generic 503, or 200 where the log
    /// entry still fitted in space the database file already had.
    reads_refused: usize,
    reads_answered: usize,
    other: Vec<String>,
}

/// A write and a confidential read, `rounds` times each.
async fn probe(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    next: &mut usize,
    rounds: usize,
) -> Probed {
    let mut probed = Probed::default();
    for _ in 0..rounds {
        *next += 1;
        let requests = [
            client
                .post(format!("{base}/api/v1/pledges"))
                .header("Idempotency-Key", format!("full-{next}"))
                .json(&pledge(*next)),
            client.get(format!("{base}/api/v1/pledges?limit=1")),
        ];
        for (index, request) in requests.into_iter().enumerate() {
            let write = index == 0;
            let reply = request.bearer_auth(token).send().await.unwrap();
            let status = reply.status().as_u16();
            let retry = reply.headers().get("retry-after").is_some();
            let body: Value = reply.json().await.unwrap_or(Value::Null);
            let generic = status == 503 && retry && body["code"] == "unavailable";
            match (write, generic, status) {
                (true, true, _) => probed.writes_refused += 1,
                (true, false, 200 | 201) => probed.writes_acknowledged += 1,
                (false, true, _) => probed.reads_refused += 1,
                (false, false, 200) => probed.reads_answered += 1,
                _ => probed.other.push(format!(
                    "{status} {}",
                    body.to_string().chars().take(300).collect::<String>()
                )),
            }
        }
    }
    probed
}

/// `purl serve`, killed when dropped (before the file system it uses is unmounted).
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn references(client: &reqwest::Client, base: &str, token: &str) -> Vec<String> {
    let list: Value = client
        .get(format!("{base}/api/v1/pledges?limit=1000"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut found: Vec<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["reference"].as_str().map(str::to_owned))
        .collect();
    found.sort();
    found
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_file_system_gets_503_and_loses_nothing() {
    if !is_root() {
        eprintln!("skipped: mounting the test's own file system needs root");
        return;
    }
    let run = Run::start("fail_closed_sqlite").await;
    let mount = Mount::new("16m").expect("root mounts a tmpfs");
    let installation = Installation {
        folder: tempfile::tempdir_in(&mount.0).unwrap(),
    };
    installation.ok(&["init"]);
    let added = installation.ok(&[
        "user",
        "add",
        "--username",
        "nld.mod",
        "--participant",
        "NLD",
        "--name",
        "NL desk",
        "--roles",
        "editor",
    ]);
    let once = one_time_password(&added, "nld.mod");
    let (server, address) = installation.serve(&[]);
    let server = Serving(server);
    let base = format!("http://{address}");
    let client = reqwest::Client::new();
    let token = api_token(&client, &base, "nld.mod", &once).await;
    let mut next = 0;
    let mut acknowledged = Vec::new();
    let mut write_some = |count: usize| {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let first = next + 1;
        next += count;
        async move {
            let mut written = Vec::new();
            for index in first..first + count {
                // Once storage is back, a 503 may still answer while the service notices (the
                // client retries as `Retry-After` says, with the same key); 50 tries at most.
                let mut tries = 0;
                loop {
                    tries += 1;
                    let reply = client
                        .post(format!("{base}/api/v1/pledges"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", format!("ok-{index}"))
                        .json(&pledge(index))
                        .send()
                        .await
                        .unwrap();
                    let status = reply.status().as_u16();
                    if status == 503 && tries < 50 {
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        continue;
                    }
                    assert_eq!(status, 201, "{}", reply.text().await.unwrap());
                    break;
                }
                written.push(format!("FULL-{index:04}"));
            }
            written
        }
    };
    acknowledged.extend(write_some(20).await);

    let mut figures = Vec::new();
    let mut probe_next = 10_000;
    for state in ["full", "full again"] {
        let filler = mount.fill();
        let probed = probe(&client, &base, &token, &mut probe_next, 10).await;
        std::fs::remove_file(filler).unwrap();
        assert!(
            probed.other.is_empty(),
            "{state}: other answers: {:?}",
            probed.other
        );
        assert_eq!(
            probed.writes_acknowledged, 0,
            "{state}: writes acknowledged while storage was {state}"
        );
        figures.push(format!(
            "{state}: {} of 10 writes answered a generic 503 (0 acknowledged), confidential reads {} generic 503 and {} answered with their access recorded",
            probed.writes_refused, probed.reads_refused, probed.reads_answered
        ));
        acknowledged.extend(write_some(5).await);
        let stored = references(&client, &base, &token).await;
        let mut expected = acknowledged.clone();
        expected.sort();
        assert_eq!(
            stored, expected,
            "{state}: every acknowledged write, nothing else"
        );
    }
    drop(server);
    let verified = installation.ok(&["verify"]);
    assert!(verified.contains("ok"), "{verified}");
    run.figure(&format!(
        "SQLite on a 16 MiB tmpfs under purl serve: {}; after each the service resumed: {} acknowledged writes all stored once, purl verify ok",
        figures.join("; "),
        acknowledged.len()
    ));
    drop(installation);
    drop(mount);
}
