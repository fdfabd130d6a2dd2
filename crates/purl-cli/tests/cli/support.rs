//! Running `purl` against a temporary installation.

use std::path::{Path, PathBuf};
use std::process::Output;

use purl_store::Store;
use purl_store_sqlite::SqliteStore;

/// The events `purl demo` writes.
pub const DEMO_EVENTS: u64 = 153;

pub struct Installation {
    pub folder: tempfile::TempDir,
}

impl Installation {
    /// A fresh, empty installation (`purl init`).
    pub fn new() -> Self {
        let installation = Self {
            folder: tempfile::tempdir().unwrap(),
        };
        installation.ok(&["init"]);
        installation
    }

    /// A fresh installation with the demo data set.
    pub fn demo() -> Self {
        let installation = Self {
            folder: tempfile::tempdir().unwrap(),
        };
        installation.ok(&["demo"]);
        installation
    }

    pub fn data_dir(&self) -> PathBuf {
        self.folder.path().join("data")
    }

    pub fn database(&self) -> PathBuf {
        self.data_dir().join("purl.sqlite")
    }

    pub fn command(&self) -> std::process::Command {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("purl"));
        command
            .arg("--data-dir")
            .arg(self.data_dir())
            .env_remove("PURL_DATABASE_URL")
            .env_remove("RUST_LOG");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Runs and expects success; returns standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "purl {args:?} failed:\n{}{}",
            text(&output.stdout),
            text(&output.stderr)
        );
        text(&output.stdout)
    }

    /// `purl user add` of `username` (its display name too) for `participant` with `roles` (comma
    /// separated), after the global options in `before` (`--database-url …`); returns the
    /// one-time password it printed.
    pub fn add_user(
        &self,
        before: &[&str],
        username: &str,
        participant: &str,
        roles: &str,
    ) -> String {
        let add = [
            "user",
            "add",
            "--username",
            username,
            "--participant",
            participant,
            "--name",
            username,
            "--roles",
            roles,
        ];
        let args: Vec<&str> = before.iter().chain(&add).copied().collect();
        one_time_password(&self.ok(&args), username)
    }

    /// Runs and expects failure; returns standard output and error together.
    pub fn fails(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            !output.status.success(),
            "purl {args:?} succeeded but should fail:\n{}",
            text(&output.stdout)
        );
        format!("{}{}", text(&output.stdout), text(&output.stderr))
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    pub fn write_file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.folder.path().join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    pub async fn store(&self) -> SqliteStore {
        SqliteStore::open(&self.database()).await.unwrap()
    }

    /// Everything stored: the ledger head and every read-side record.
    pub async fn snapshot(&self) -> (u64, Vec<(String, String, u64, String)>) {
        let store = self.store().await;
        let head = store.head().await.unwrap();
        let records = store
            .records()
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.kind.as_str().to_owned(), r.id, r.version, r.body))
            .collect();
        store.close().await;
        (head, records)
    }
}

impl Installation {
    /// Starts `purl [ARGS] serve` on a free loopback port; returns the process and the address
    /// it prints (`127.0.0.1:PORT`).
    pub fn serve(&self, args: &[&str]) -> (std::process::Child, String) {
        self.serve_at(args, "127.0.0.1:0")
    }

    /// `serve` on the address `bind`.
    pub fn serve_at(&self, args: &[&str], bind: &str) -> (std::process::Child, String) {
        use std::io::BufRead as _;
        let mut server = self
            .command()
            .args(args)
            .args(["serve", "--bind", bind])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufReader::new(server.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let address = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("no address in: {first}"))
            .to_owned();
        (server, address)
    }

    /// `snapshot` from a synchronous test.
    pub fn snapshot_blocking(&self) -> (u64, Vec<(String, String, u64, String)>) {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(self.snapshot())
    }
}

/// Signs in with the one-time password, changes it, and returns an API token.
pub async fn api_token(client: &reqwest::Client, base: &str, username: &str, once: &str) -> String {
    let signed_in = client
        .post(format!("{}/api/v1/session", base))
        .json(&serde_json::json!({"username": username, "password": once}))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let me: serde_json::Value = signed_in.json().await.unwrap();
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();
    let changed = client
        .post(format!("{}/api/v1/session/password", base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"current_password": once, "new_password": "a long test passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 204);
    let created: serde_json::Value = client
        .post(format!("{}/api/v1/tokens", base))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"name": "load", "expires_in_days": 1}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    created["token"].as_str().unwrap().to_owned()
}

/// The one-time password `purl user add` printed for `username`.
pub fn one_time_password(output: &str, username: &str) -> String {
    let prefix = format!("one-time password for {username}: ");
    output
        .lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no one-time password in:\n{output}"))
        .trim()
        .to_owned()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn path(path: &Path) -> &str {
    path.to_str().unwrap()
}
