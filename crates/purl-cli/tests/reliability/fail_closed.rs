//! Fail closed on SQLite (item 10): the installation lives on a small file system the test mounts
//! itself, under a running `purl serve`: a tmpfs filled up to the last byte, twice, and an ext4
//! image that the kernel turns read-only (an error raised in the file system, mounted
//! `errors=remount-ro`, as a failing disk does). (Linux refuses a plain remount read-only while a
//! process has files open on it for writing; PostgreSQL's read-only database is tested in
//! `crash`.) Every request that needs storage must get a generic 503, no write may be
//! acknowledged, and once storage returns the service goes on without losing what it acknowledged
//! before. Mounting needs root; elsewhere the test says so and is skipped. (SQLite is embedded:
//! there is no database server to stop; PostgreSQL's stopped database is tested in `crash`.)

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::measure::Run;
use crate::postgres_cluster::Cluster;
use crate::support::{api_token, Installation};

/// A file system mounted for the test, unmounted when dropped: a tmpfs, or an ext4 image file
/// on a loop device.
struct Mount {
    folder: PathBuf,
    image: Option<PathBuf>,
}

fn succeeds(command: &mut Command) -> bool {
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

impl Mount {
    fn tmpfs(size: &str) -> Option<Mount> {
        let folder = tempfile::tempdir().unwrap().keep();
        let mounted = succeeds(
            Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(&folder),
        );
        mounted.then_some(Mount {
            folder,
            image: None,
        })
    }

    /// An ext4 file system of `mib` MiB in an image file, mounted so that an error in it turns it
    /// read-only.
    fn ext4(mib: u64) -> Option<Mount> {
        let folder = tempfile::tempdir().unwrap().keep();
        let image = folder.with_extension("img");
        std::fs::File::create(&image)
            .unwrap()
            .set_len(mib << 20)
            .unwrap();
        let mount = Mount {
            folder,
            image: Some(image.clone()),
        };
        let made = succeeds(Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&image));
        (made && mount.mount_image()).then_some(mount)
    }

    fn mount_image(&self) -> bool {
        let image = self.image.as_deref().expect("an image");
        succeeds(
            Command::new("mount")
                .args(["-o", "loop,errors=remount-ro"])
                .arg(image)
                .arg(&self.folder),
        )
    }

    /// The block device the file system is on (`loop3`).
    fn device(&self) -> String {
        let mounts = std::fs::read_to_string("/proc/mounts").unwrap();
        let folder = self.folder.to_string_lossy();
        let source = mounts
            .lines()
            .find_map(|line| {
                let mut fields = line.split(' ');
                let source = fields.next()?;
                (fields.next()? == folder).then_some(source)
            })
            .expect("mounted");
        Path::new(source)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    /// Raises an error in the ext4 file system, which the kernel answers by making it read-only
    /// for everyone, files already open for writing included.
    fn turn_read_only(&self) {
        let trigger = format!("/sys/fs/ext4/{}/trigger_fs_error", self.device());
        std::fs::write(trigger, "1").unwrap();
        let probe = self.folder.join("probe");
        let refused = std::fs::File::create(&probe).expect_err("read-only");
        assert_eq!(
            refused.raw_os_error(),
            Some(30),
            "EROFS expected: {refused}"
        );
    }

    /// What an operator does once the disk is back: unmount, check and repair, mount again.
    fn repair(&self) {
        let image = self.image.as_deref().expect("an image");
        assert!(succeeds(Command::new("umount").arg(&self.folder)), "umount");
        let checked = Command::new("e2fsck")
            .args(["-f", "-y"])
            .arg(image)
            .output()
            .unwrap();
        // 0: nothing to do, 1: errors corrected.
        assert!(
            matches!(checked.status.code(), Some(0 | 1)),
            "e2fsck: {}",
            String::from_utf8_lossy(&checked.stdout)
        );
        assert!(self.mount_image(), "mounted again");
    }

    /// Fills the file system up to the last byte with a file; returns it.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let filler = self.folder.join("filler");
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
        let _ = Command::new("umount").arg(&self.folder).status();
        let _ = std::fs::remove_dir(&self.folder);
        if let Some(image) = &self.image {
            let _ = std::fs::remove_file(image);
        }
    }
}

fn pledge(index: usize) -> Value {
    json!({"reference": format!("FULL-{index:04}"), "contributors": ["NLD"],
           "amount": format!("{}.00", 1000 + index), "currency": "EUR",
           "announced_on": "2026-11-01"})
}

/// Writes the pledges numbered `indices`, each until acknowledged: once storage is back, a 503 may
/// still answer while the service notices, and the client retries as `Retry-After` says, with the
/// same key (50 tries at most). Returns their references.
async fn write_pledges(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    indices: std::ops::Range<usize>,
) -> Vec<String> {
    let mut written = Vec::new();
    for index in indices {
        let mut tries = 0;
        loop {
            tries += 1;
            let reply = client
                .post(format!("{base}/api/v1/pledges"))
                .bearer_auth(token)
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

/// What the service answered while storage was gone.
#[derive(Default)]
struct Probed {
    /// Writes answered with the generic 503 (code `unavailable`, `Retry-After`, nothing more).
    writes_refused: usize,
    writes_acknowledged: usize,
    /// The references of the acknowledged writes.
    acknowledged: Vec<String>,
    /// Confidential reads (recorded in the access log): the generic 503, or 200 where the log
    /// entry still fitted in space the database file already had.
    reads_refused: usize,
    reads_answered: usize,
    other: Vec<String>,
}

impl Probed {
    fn add(&mut self, more: Probed) {
        self.writes_refused += more.writes_refused;
        self.writes_acknowledged += more.writes_acknowledged;
        self.acknowledged.extend(more.acknowledged);
        self.reads_refused += more.reads_refused;
        self.reads_answered += more.reads_answered;
        self.other.extend(more.other);
    }
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
                (true, false, 200 | 201) => {
                    probed.writes_acknowledged += 1;
                    probed.acknowledged.push(format!("FULL-{next:04}"));
                }
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

/// `purl serve` of an installation with an editor of NLD, who holds an API token.
struct Service {
    _server: Serving,
    base: String,
    client: reqwest::Client,
    token: String,
}

impl Service {
    /// Initialises `installation` (after the global options `before`), adds the editor, serves.
    async fn start(installation: &Installation, before: &[&str]) -> Service {
        installation.ok(&[before, &["init"]].concat());
        let once = installation.add_user(before, "nld.mod", "NLD", "editor");
        let mut service = Service::serve(installation, before, String::new());
        service.token = api_token(&service.client, &service.base, "nld.mod", &once).await;
        service
    }

    fn serve(installation: &Installation, before: &[&str], token: String) -> Service {
        let (server, address) = installation.serve(before);
        Service {
            _server: Serving(server),
            base: format!("http://{address}"),
            client: reqwest::Client::new(),
            token,
        }
    }

    async fn write(&self, indices: std::ops::Range<usize>) -> Vec<String> {
        write_pledges(&self.client, &self.base, &self.token, indices).await
    }

    async fn probe(&self, next: &mut usize, rounds: usize) -> Probed {
        probe(&self.client, &self.base, &self.token, next, rounds).await
    }

    /// Asserts that the service holds exactly the `acknowledged` pledges.
    async fn holds_exactly(&self, acknowledged: &[String], when: &str) {
        let stored = references(&self.client, &self.base, &self.token).await;
        let mut expected = acknowledged.to_vec();
        expected.sort();
        assert_eq!(
            stored, expected,
            "{when}: every acknowledged write, nothing else"
        );
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

/// Whether the test may mount its own file systems (as root); says why it is skipped otherwise.
fn may_mount() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| String::from_utf8_lossy(&output.stdout).trim() == "0");
    if !root {
        eprintln!("skipped: mounting the test's own file system needs root");
    }
    root
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_file_system_gets_503_and_loses_nothing() {
    if !may_mount() {
        return;
    }
    let run = Run::start("fail_closed_sqlite").await;
    let mount = Mount::tmpfs("16m").expect("root mounts a tmpfs");
    let installation = Installation {
        folder: tempfile::tempdir_in(&mount.folder).unwrap(),
    };
    let service = Service::start(&installation, &[]).await;
    let mut acknowledged = service.write(1..21).await;

    let mut figures = Vec::new();
    let mut probe_next = 10_000;
    for state in ["full", "full again"] {
        let filler = mount.fill();
        // Until a write needs space the database does not hold yet, writes still land (the log
        // reuses its file once checkpointed), each acknowledged only once stored; the first that
        // needs more must be refused, and so must the next ones.
        let mut probed = service.probe(&mut probe_next, 1).await;
        while probed.writes_refused == 0 {
            assert!(
                probed.writes_acknowledged < 2_000,
                "{state}: 2,000 writes were acknowledged on a full file system"
            );
            probed.add(service.probe(&mut probe_next, 1).await);
        }
        let landed = probed.writes_acknowledged;
        let after = service.probe(&mut probe_next, 10).await;
        let refused_after = after.writes_refused;
        probed.add(after);
        std::fs::remove_file(filler).unwrap();
        assert!(
            probed.other.is_empty(),
            "{state}: other answers: {:?}",
            probed.other
        );
        assert_eq!(
            refused_after, 10,
            "{state}: writes after the first refusal were acknowledged"
        );
        figures.push(format!(
            "{state}: {landed} writes landed in space the database already held, then that write and the 10 after it answered a generic 503, confidential reads {} generic 503 and {} answered with their access recorded",
            probed.reads_refused, probed.reads_answered
        ));
        acknowledged.extend(probed.acknowledged);
        let first = acknowledged.len() + 1;
        acknowledged.extend(service.write(first..first + 5).await);
        service.holds_exactly(&acknowledged, state).await;
    }
    drop(service);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_file_system_turned_read_only_gets_503_and_loses_nothing() {
    if !may_mount() {
        return;
    }
    let Some(mount) = Mount::ext4(64) else {
        eprintln!("skipped: no ext4 image could be made and mounted on a loop device here");
        return;
    };
    let run = Run::start("fail_closed_sqlite_read_only").await;
    let installation = Installation {
        folder: tempfile::tempdir_in(&mount.folder).unwrap(),
    };
    let service = Service::start(&installation, &[]).await;
    let mut acknowledged = service.write(1..21).await;

    mount.turn_read_only();
    let probed = service.probe(&mut 10_000, 10).await;
    assert!(probed.other.is_empty(), "other answers: {:?}", probed.other);
    assert_eq!(
        probed.writes_acknowledged, 0,
        "writes acknowledged on a read-only file system"
    );
    // The kernel will not make an aborted file system writable again while it is mounted: the
    // operator stops the service, repairs and remounts, and starts it again.
    let token = service.token.clone();
    drop(service);
    mount.repair();
    let service = Service::serve(&installation, &[], token);
    acknowledged.extend(service.write(21..26).await);
    service.holds_exactly(&acknowledged, "after repair").await;
    drop(service);
    let verified = installation.ok(&["verify"]);
    assert!(verified.contains("ok"), "{verified}");
    run.figure(&format!(
        "SQLite on an ext4 image made read-only by the kernel (errors=remount-ro) under purl serve: {} of 10 writes answered a generic 503 (0 acknowledged), confidential reads {} generic 503 and {} answered; after repair and restart {} acknowledged writes all stored once, purl verify ok",
        probed.writes_refused,
        probed.reads_refused,
        probed.reads_answered,
        acknowledged.len()
    ));
    drop(installation);
    drop(mount);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_postgresql_disk_gets_503_and_loses_nothing() {
    if !may_mount() {
        return;
    }
    let mount = Mount::tmpfs("160m").expect("root mounts a tmpfs");
    let Some(cluster) = Cluster::start_in(tempfile::tempdir_in(&mount.folder).unwrap()) else {
        return;
    };
    let run = Run::start("fail_closed_postgres_full").await;
    let url = cluster.url();
    // Every new segment of PostgreSQL's log is a file of its own (none kept to be reused), so
    // once the disk is full the log cannot grow.
    let admin = sqlx::PgPool::connect(&url).await.unwrap();
    for setting in [
        "ALTER SYSTEM SET wal_recycle = off",
        "SELECT pg_reload_conf()",
    ] {
        sqlx::query(setting).execute(&admin).await.unwrap();
    }
    let database = ["--database-url", url.as_str()];
    let installation = Installation {
        folder: tempfile::tempdir().unwrap(),
    };
    let service = Service::start(&installation, &database).await;
    let mut acknowledged = service.write(1..21).await;

    let filler = mount.fill();
    // The log moves on to a new segment, which no longer fits.
    let _ = sqlx::query("SELECT pg_switch_wal()").execute(&admin).await;
    admin.close().await;
    // Each request waits for a connection up to the pool's 10 s while the database is down.
    let rounds = 5;
    let probed = service.probe(&mut 10_000, rounds).await;
    std::fs::remove_file(filler).unwrap();
    assert!(probed.other.is_empty(), "other answers: {:?}", probed.other);
    assert_eq!(
        probed.writes_acknowledged, 0,
        "writes acknowledged while the disk was full"
    );
    // PostgreSQL stops itself when it cannot write its log; the operator starts it again.
    let had_stopped = cluster.start_if_stopped();
    acknowledged.extend(service.write(21..26).await);
    service
        .holds_exactly(&acknowledged, "once space was freed")
        .await;
    drop(service);
    let verified = installation.ok(&[&database[..], &["verify"]].concat());
    assert!(verified.contains("ok"), "{verified}");
    run.figure(&format!(
        "PostgreSQL with its cluster on a 160 MiB tmpfs, filled to the last byte under purl serve: {} of {rounds} writes answered a generic 503 (0 acknowledged), confidential reads {} generic 503 and {} answered; PostgreSQL {}; once space was freed {} acknowledged writes all stored once, purl verify ok",
        probed.writes_refused,
        probed.reads_refused,
        probed.reads_answered,
        if had_stopped {
            "stopped itself (its log could not grow) and was started again"
        } else {
            "kept running"
        },
        acknowledged.len()
    ));
    drop(installation);
    drop(cluster);
    drop(mount);
}
