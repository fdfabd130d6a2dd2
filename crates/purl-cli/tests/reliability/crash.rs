//! Crash safety: sixteen writers send pledges through the HTTP API with idempotency keys while
//! `purl serve` is killed with SIGKILL at a random moment, cycle after cycle (on PostgreSQL the
//! database server is also stopped with `pg_ctl stop -m immediate`); each writer keeps its own log
//! of acknowledged writes and retries what was not acknowledged once the service is back. After
//! every blow: nothing acknowledged is lost, nothing is written twice, SQLite's `integrity_check`
//! is ok, the money per currency adds up and `purl verify` passes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{json, Value};

use crate::measure::Run;
use crate::postgres_cluster::Cluster;
use crate::support::{api_token, Installation};

const WRITERS: usize = 16;
const CURRENCIES: [&str; 3] = ["EUR", "USD", "GBP"];

/// One writer's next write: its key, reference, amount in minor units and currency.
#[derive(Debug, Clone)]
pub struct Write {
    key: String,
    reference: String,
    minor: i64,
    currency: &'static str,
}

impl Write {
    fn new(writer: usize, index: usize, minor: i64) -> Write {
        Write {
            key: format!("crash-{writer}-{index}"),
            reference: format!("CRASH-{writer:02}-{index:05}"),
            minor,
            currency: CURRENCIES[(writer + index) % CURRENCIES.len()],
        }
    }

    fn body(&self) -> Value {
        json!({"reference": self.reference, "contributors": ["NLD"],
               "amount": format!("{}.{:02}", self.minor / 100, self.minor % 100),
               "currency": self.currency, "announced_on": "2026-11-01"})
    }
}

/// What a writer knows: the writes the server acknowledged, and the one it is still sending.
pub struct Writer {
    id: usize,
    pub acknowledged: Vec<(Write, u64)>,
    pub pending: Write,
    next: usize,
    /// Retries answered as a replay of a write that was committed before the kill.
    pub replays: usize,
    /// Answers 503: the storage was unavailable and nothing was written.
    pub unavailable: usize,
    /// The longest a 503 took to come.
    pub slowest_unavailable: Duration,
}

impl Writer {
    pub fn new(id: usize, rng: &mut impl Rng) -> Writer {
        Writer {
            id,
            acknowledged: Vec::new(),
            pending: Write::new(id, 0, rng.gen_range(1..10_000_000)),
            next: 0,
            replays: 0,
            unavailable: 0,
            slowest_unavailable: Duration::ZERO,
        }
    }

    /// Sends writes until the server stops answering or answers 503, or `limit` more are
    /// acknowledged. Panics on any other answer but 201 or a replay.
    pub async fn run(
        &mut self,
        client: &reqwest::Client,
        base: &str,
        token: &str,
        rng: &mut impl Rng,
        limit: usize,
    ) {
        let target = self.acknowledged.len().saturating_add(limit);
        while self.acknowledged.len() < target {
            let sent_at = Instant::now();
            let sent = client
                .post(format!("{base}/api/v1/pledges"))
                .bearer_auth(token)
                .header("Idempotency-Key", &self.pending.key)
                .json(&self.pending.body())
                .send()
                .await;
            let Ok(reply) = sent else { return };
            let status = reply.status().as_u16();
            let Ok(body) = reply.json::<Value>().await else {
                return;
            };
            match status {
                201 | 200 => {
                    if body["replayed"] == true {
                        self.replays += 1;
                    }
                    let seq = body["first_seq"].as_u64().expect("a sequence number");
                    self.acknowledged.push((self.pending.clone(), seq));
                    self.next += 1;
                    self.pending = Write::new(self.id, self.next, rng.gen_range(1..10_000_000));
                }
                503 => {
                    assert_eq!(body["code"], "unavailable", "{body}");
                    self.unavailable += 1;
                    self.slowest_unavailable = self.slowest_unavailable.max(sent_at.elapsed());
                    return;
                }
                _ => panic!(
                    "writer {}: {} answered {status}: {body}",
                    self.id, self.pending.key
                ),
            }
        }
    }
}

/// Reads stored pledges whose reference starts with `prefix`, by reference: (amount in minor
/// units, currency).
pub fn pledges_of(rows: Vec<(String, String)>, prefix: &str) -> BTreeMap<String, (i64, String)> {
    rows.into_iter()
        .filter(|(id, _)| id.starts_with(prefix))
        .map(|(id, body)| {
            let body: Value = serde_json::from_str(&body).unwrap();
            let amount = &body["amount"];
            let text = amount["amount"]
                .as_str()
                .unwrap_or_else(|| panic!("{body}"));
            let (units, cents) = text.split_once('.').unwrap();
            let minor = units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap();
            let currency = amount["currency"].as_str().unwrap().to_owned();
            (id, (minor, currency))
        })
        .collect()
}

pub const PLEDGE_ROWS: &str = "SELECT id, body FROM records WHERE kind = 'pledge'";

/// Where the service keeps its data, and how the test reads it behind the service's back.
enum Backend {
    Sqlite,
    Postgres(Cluster),
}

impl Backend {
    fn args(&self) -> Vec<String> {
        match self {
            Backend::Sqlite => Vec::new(),
            Backend::Postgres(cluster) => vec!["--database-url".into(), cluster.url()],
        }
    }

    /// The stored pledges; on SQLite after `integrity_check` says ok.
    async fn pledges(&self, installation: &Installation) -> BTreeMap<String, (i64, String)> {
        match self {
            Backend::Sqlite => {
                let store = installation.store().await;
                let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
                assert_eq!(integrity, "ok", "SQLite integrity_check");
                let rows = sqlx::query_as(PLEDGE_ROWS)
                    .fetch_all(store.pool())
                    .await
                    .unwrap();
                store.close().await;
                pledges_of(rows, "CRASH-")
            }
            Backend::Postgres(cluster) => {
                let pool = sqlx::PgPool::connect(&cluster.url()).await.unwrap();
                let rows = sqlx::query_as(PLEDGE_ROWS).fetch_all(&pool).await.unwrap();
                pool.close().await;
                pledges_of(rows, "CRASH-")
            }
        }
    }
}

/// What happens to the service in one cycle.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Blow {
    /// `kill -9` of `purl serve`, then a restart.
    KillServer,
    /// `pg_ctl stop -m immediate` of the database; `purl serve` keeps running.
    StopDatabase,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs `blows.len()` cycles of writes and blows against an installation on `backend`, checking
/// after each; returns the figure.
async fn crash_cycles(run: &Run, backend: &Backend, blows: &[Blow]) -> String {
    let mut rng = run.rng();
    let installation = Installation {
        folder: tempfile::tempdir().unwrap(),
    };
    let args = backend.args();
    let with = |extra: &[&str]| -> Vec<String> {
        args.iter()
            .cloned()
            .chain(extra.iter().map(|s| s.to_string()))
            .collect()
    };
    let text = |all: &[String]| all.iter().map(String::as_str).collect::<Vec<_>>().join(" ");
    let ok = |extra: &[&str]| {
        let all = with(extra);
        installation.ok(&all.iter().map(String::as_str).collect::<Vec<_>>())
    };
    ok(&["init"]);
    let before: Vec<&str> = args.iter().map(String::as_str).collect();
    let once = installation.add_user(&before, "nld.mod", "NLD", "editor");
    let bind = format!("127.0.0.1:{}", free_port());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let serve_args = with(&[]);
    let serve_args: Vec<&str> = serve_args.iter().map(String::as_str).collect();
    let (mut server, address) = installation.serve_at(&serve_args, &bind);
    let base = format!("http://{address}");
    let token = Arc::new(api_token(&client, &base, "nld.mod", &once).await);
    let mut writers: Vec<Writer> = (0..WRITERS).map(|id| Writer::new(id, &mut rng)).collect();
    let started = Instant::now();
    let (mut refused_while_down, mut probes_while_down) = (0, 0);
    let mut slowest_probe = Duration::ZERO;
    for (cycle, blow) in blows.iter().enumerate() {
        let blow_after = Duration::from_millis(rng.gen_range(20..400));
        let seeds: Vec<u64> = (0..WRITERS).map(|_| rng.gen()).collect();
        let tasks: Vec<_> = std::mem::take(&mut writers)
            .into_iter()
            .zip(seeds)
            .map(|(mut writer, seed)| {
                let (client, base, token) = (client.clone(), base.clone(), token.clone());
                tokio::spawn(async move {
                    let mut rng =
                        <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed);
                    writer
                        .run(&client, &base, &token, &mut rng, usize::MAX)
                        .await;
                    writer
                })
            })
            .collect();
        tokio::time::sleep(blow_after).await;
        match (blow, backend) {
            (Blow::KillServer, _) => {
                // SIGKILL: no destructor, no flush, no rollback by the process itself.
                server.kill().unwrap();
                server.wait().unwrap();
            }
            (Blow::StopDatabase, Backend::Postgres(cluster)) => {
                cluster.stop_immediately();
                // While the database is down, a read and a write are refused with a generic
                // 503 and nothing is acknowledged.
                let write = client
                    .post(format!("{base}/api/v1/pledges"))
                    .json(&Write::new(99, cycle, 100).body())
                    .bearer_auth(token.as_str())
                    .send();
                let read = client
                    .get(format!("{base}/api/v1/participants"))
                    .bearer_auth(token.as_str())
                    .send();
                let probed_at = Instant::now();
                let (write, read) = tokio::join!(write, read);
                slowest_probe = slowest_probe.max(probed_at.elapsed());
                for (what, reply) in [("a write", write), ("a read", read)] {
                    let reply = reply.unwrap();
                    probes_while_down += 1;
                    let status = reply.status().as_u16();
                    let body: Value = reply.json().await.unwrap_or(Value::Null);
                    assert_eq!(status, 503, "{what} while the database is down: {body}");
                    assert_eq!(body["code"], "unavailable");
                    assert!(!body.to_string().contains("sqlx"), "generic: {body}");
                    refused_while_down += 1;
                }
            }
            (Blow::StopDatabase, Backend::Sqlite) => unreachable!("SQLite has no server to stop"),
        }
        for task in tasks {
            writers.push(task.await.unwrap());
        }
        if *blow == Blow::StopDatabase {
            if let Backend::Postgres(cluster) = backend {
                cluster.restart();
            }
        }

        // Every acknowledged write is stored once, as acknowledged; the only other writes stored
        // are each writer's pending one, committed before its answer was lost.
        let stored = backend.pledges(&installation).await;
        let mut expected = 0;
        for writer in &writers {
            for (write, _) in &writer.acknowledged {
                assert_eq!(
                    stored.get(&write.reference),
                    Some(&(write.minor, write.currency.to_owned())),
                    "cycle {cycle}: acknowledged {} lost or changed",
                    write.key
                );
                expected += 1;
            }
        }
        let pending_stored = writers
            .iter()
            .filter(|w| stored.contains_key(&w.pending.reference))
            .count();
        assert_eq!(
            stored.len(),
            expected + pending_stored,
            "cycle {cycle}: only acknowledged or pending writes are stored"
        );
        let verify = ok(&["verify"]);
        assert!(
            verify.starts_with("ok:"),
            "cycle {cycle} ({}): {verify}",
            text(&with(&["verify"]))
        );
        if *blow == Blow::KillServer {
            (server, _) = installation.serve_at(&serve_args, &bind);
        }
    }
    // A database turned read-only: writes are refused with a generic 503 and change nothing,
    // reads still answer; once it is writable again, writes resume.
    let mut read_only = String::new();
    if let Backend::Postgres(cluster) = backend {
        let set = |on: bool| {
            let url = cluster.url();
            async move {
                use sqlx::Connection as _;
                let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
                let value = if on { "on" } else { "off" };
                // This session may change the setting even while new sessions are read-only.
                sqlx::query("SET default_transaction_read_only = off")
                    .execute(&mut connection)
                    .await
                    .unwrap();
                sqlx::query(&format!(
                    "ALTER DATABASE postgres SET default_transaction_read_only = {value}"
                ))
                .execute(&mut connection)
                .await
                .unwrap();
                connection.close().await.unwrap();
            }
        };
        set(true).await;
        server.kill().unwrap();
        server.wait().unwrap();
        (server, _) = installation.serve_at(&serve_args, &bind);
        let before = backend.pledges(&installation).await.len();
        let write = client
            .post(format!("{base}/api/v1/pledges"))
            .json(&Write::new(98, 0, 100).body())
            .bearer_auth(token.as_str())
            .send()
            .await
            .unwrap();
        let write_status = write.status().as_u16();
        let body: Value = write.json().await.unwrap_or(Value::Null);
        assert_eq!(write_status, 503, "a write to a read-only database: {body}");
        assert_eq!(body["code"], "unavailable");
        // A confidential read must be recorded in the access log, which cannot be written now:
        // it is refused too (fail closed); the public figures still answer.
        let confidential = client
            .get(format!("{base}/api/v1/pledges"))
            .bearer_auth(token.as_str())
            .send()
            .await
            .unwrap();
        assert_eq!(confidential.status(), 503, "an unlogged confidential read");
        let public = client
            .get(format!("{base}/api/v1/public/pledges"))
            .send()
            .await
            .unwrap();
        assert_eq!(public.status(), 200, "public reads still answer");
        assert_eq!(
            backend.pledges(&installation).await.len(),
            before,
            "nothing was written"
        );
        set(false).await;
        server.kill().unwrap();
        server.wait().unwrap();
        (server, _) = installation.serve_at(&serve_args, &bind);
        read_only = "; a read-only database: a write and a confidential read (which must be written to the access log) answered a generic 503 and wrote nothing, the public pledge list answered 200, writes resumed once it was writable".into();
    }

    // The last round: each writer gets its pending write acknowledged (a retry, if it was
    // committed before the last blow), then the server stops and everything must add up.
    let tasks: Vec<_> = std::mem::take(&mut writers)
        .into_iter()
        .map(|mut writer| {
            let (client, base, token) = (client.clone(), base.clone(), token.clone());
            tokio::spawn(async move {
                let mut rng =
                    <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(writer.id as u64);
                let target = writer.acknowledged.len() + 1;
                for _ in 0..100 {
                    writer.run(&client, &base, &token, &mut rng, 1).await;
                    if writer.acknowledged.len() >= target {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                writer
            })
        })
        .collect();
    for task in tasks {
        writers.push(task.await.unwrap());
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let stored = backend.pledges(&installation).await;
    let mut sums: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let mut acknowledged = 0;
    for writer in &writers {
        for (write, _) in &writer.acknowledged {
            sums.entry(write.currency.to_owned()).or_default().0 += write.minor;
            acknowledged += 1;
        }
    }
    for (minor, currency) in stored.values() {
        sums.entry(currency.clone()).or_default().1 += minor;
    }
    let mut seqs: Vec<u64> = writers
        .iter()
        .flat_map(|w| w.acknowledged.iter().map(|(_, s)| *s))
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    let replays: usize = writers.iter().map(|w| w.replays).sum();
    let unavailable: usize = writers.iter().map(|w| w.unavailable).sum();
    // Callers learn of an outage after one wait for a connection, not one after another: a
    // request waits at most for its token's check and then for one try of its write or read.
    let slowest = writers
        .iter()
        .map(|w| w.slowest_unavailable)
        .chain([slowest_probe])
        .max()
        .unwrap_or_default();
    let bound = Duration::from_secs(2 * purl_store_postgres::ACQUIRE_TIMEOUT_S + 2);
    assert!(
        slowest <= bound,
        "a 503 took {slowest:?}, more than {bound:?}: callers waited for the database in turn"
    );
    assert_eq!(
        seqs.len(),
        acknowledged,
        "no two acknowledged writes share a sequence number"
    );
    assert_eq!(
        stored.len(),
        acknowledged,
        "every stored write was acknowledged once"
    );
    for (currency, (acked, in_store)) in &sums {
        assert_eq!(
            acked, in_store,
            "{currency}: acknowledged and stored sums agree"
        );
    }
    ok(&["verify"]);
    let kills = blows.iter().filter(|b| **b == Blow::KillServer).count();
    let stops = blows.len() - kills;
    format!(
        "{kills} kill -9 of purl serve and {stops} immediate database stops in {:.0} s with {WRITERS} writers: {acknowledged} writes acknowledged, 0 lost, 0 duplicates ({} distinct sequence numbers), {replays} retries answered as replays of writes committed before the blow, {unavailable} writes answered 503 (nothing written), the slowest after {:.1} s; while the database was down {refused_while_down} of {probes_while_down} probes answered a generic 503; purl verify passed after every blow; sums per currency (acknowledged = stored): {sums:?}{read_only}",
        started.elapsed().as_secs_f64(),
        seqs.len(),
        slowest.as_secs_f64(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_servers_lose_no_acknowledged_write_and_write_none_twice() {
    let run = Run::start("crash_sqlite").await;
    let figure = crash_cycles(&run, &Backend::Sqlite, &[Blow::KillServer; 100]).await;
    run.figure(&format!(
        "{figure}; SQLite integrity_check ok after every kill"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_killed_and_stopped_loses_no_acknowledged_write() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let run = Run::start("crash_postgres").await;
    let blows: Vec<Blow> = (0..40)
        .map(|n| {
            if n % 4 == 3 {
                Blow::StopDatabase
            } else {
                Blow::KillServer
            }
        })
        .collect();
    let backend = Backend::Postgres(cluster);
    let figure = crash_cycles(&run, &backend, &blows).await;
    run.figure(&figure);
}
