//! A PostgreSQL cluster of the test's own, in a temporary folder on a free port, so the test may
//! stop it the hard way (`pg_ctl stop -m immediate`) and start it again.

use std::path::PathBuf;
use std::process::Command;

pub struct Cluster {
    folder: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// PostgreSQL refuses to run as root: its commands then run as the `postgres` user.
    as_postgres: bool,
}

/// The folder of PostgreSQL's server programs (Debian keeps one per major version).
fn server_programs() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop()
}

impl Cluster {
    /// A new cluster, started; `None` (with the reason printed) where PostgreSQL's server
    /// programs are not installed.
    pub fn start() -> Option<Cluster> {
        Self::start_in(tempfile::tempdir().unwrap())
    }

    /// A new cluster in `folder` (on a file system of the test's choosing), started.
    pub fn start_in(folder: tempfile::TempDir) -> Option<Cluster> {
        let Some(bin) = server_programs() else {
            println!("skipped: PostgreSQL's server programs (initdb, pg_ctl) are not installed");
            return None;
        };
        let as_postgres = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
        if as_postgres {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(folder.path())
                .status()
                .unwrap();
            assert!(chown.success());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster {
            folder,
            bin,
            port,
            as_postgres,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        cluster.start_server();
        Some(cluster)
    }

    fn data(&self) -> String {
        self.folder.path().join("data").display().to_string()
    }

    /// One of PostgreSQL's server programs, as the user that owns the cluster.
    fn program(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn run(&self, program: &str, args: &[&str]) {
        let output = self.program(program).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn start_server(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.folder.path().display()
        );
        let log = self.folder.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &log,
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    /// Starts the cluster again after a stop.
    pub fn restart(&self) {
        self.start_server();
    }

    /// Starts the cluster again if it is not running (PostgreSQL shuts itself down when it cannot
    /// write its log); says whether it had to.
    pub fn start_if_stopped(&self) -> bool {
        let running = self
            .program("pg_ctl")
            .args(["-D", &self.data(), "status"])
            .output()
            .unwrap()
            .status
            .success();
        if !running {
            self.start_server();
        }
        !running
    }

    /// Stops the cluster without a checkpoint, as a power cut would: recovery replays the WAL
    /// at the next start.
    pub fn stop_immediately(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
    }
}
