//! Crash safety on SQLite: sixteen writers send pledges through the HTTP API with idempotency
//! keys while `purl serve` is killed with SIGKILL at a random moment, cycle after cycle; each
//! writer keeps its own log of acknowledged writes and retries what was not acknowledged after the
//! restart. After every kill: nothing acknowledged is lost, nothing is written twice, SQLite's
//! `integrity_check` is ok, the money per currency adds up and `purl verify` passes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{json, Value};

use crate::measure::Run;
use crate::support::{api_token, one_time_password, Installation};

const WRITERS: usize = 16;
const CURRENCIES: [&str; 3] = ["EUR", "USD", "GBP"];

/// One writer's next write: its key, reference, amount in minor units and currency.
#[derive(Debug, Clone)]
struct Write {
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
struct Writer {
    id: usize,
    acknowledged: Vec<(Write, u64)>,
    pending: Write,
    next: usize,
    /// Retries answered as a replay of a write that was committed before the kill.
    replays: usize,
}

impl Writer {
    /// Sends writes until the server stops answering, or `limit` more are acknowledged. Panics on
    /// any answer but 201 or a replay.
    async fn run(
        &mut self,
        client: &reqwest::Client,
        base: &str,
        token: &str,
        rng: &mut impl Rng,
        limit: usize,
    ) {
        let target = self.acknowledged.len().saturating_add(limit);
        while self.acknowledged.len() < target {
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
                _ => panic!(
                    "writer {}: {} answered {status}: {body}",
                    self.id, self.pending.key
                ),
            }
        }
    }
}

/// The pledges stored, by reference: (amount in minor units, currency).
async fn stored_pledges(installation: &Installation) -> BTreeMap<String, (i64, String)> {
    let store = installation.store().await;
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, body FROM records WHERE kind = 'pledge'")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(integrity, "ok", "SQLite integrity_check");
    store.close().await;
    rows.into_iter()
        .filter(|(id, _)| id.starts_with("CRASH-"))
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_servers_lose_no_acknowledged_write_and_write_none_twice() {
    let run = Run::start("crash_sqlite").await;
    let mut rng = run.rng();
    let installation = Installation::new();
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
    let bind = format!("127.0.0.1:{}", free_port());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let (mut server, address) = installation.serve_at(&[], &bind);
    let base = format!("http://{address}");
    let token = Arc::new(api_token(&client, &base, "nld.mod", &once).await);
    let mut writers: Vec<Writer> = (0..WRITERS)
        .map(|id| Writer {
            id,
            acknowledged: Vec::new(),
            pending: Write::new(id, 0, rng.gen_range(1..10_000_000)),
            next: 0,
            replays: 0,
        })
        .collect();
    let cycles = 100;
    let started = Instant::now();
    let mut verified = 0;
    for cycle in 0..cycles {
        let kill_after = Duration::from_millis(rng.gen_range(20..400));
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
        tokio::time::sleep(kill_after).await;
        // SIGKILL: no destructor, no flush, no rollback by the process itself.
        server.kill().unwrap();
        server.wait().unwrap();
        for task in tasks {
            writers.push(task.await.unwrap());
        }

        // Every acknowledged write is stored once, as acknowledged; the only other writes stored
        // are each writer's pending one, committed before its answer was lost.
        let stored = stored_pledges(&installation).await;
        let mut expected = 0;
        for writer in &writers {
            for (write, _) in &writer.acknowledged {
                let found = stored.get(&write.reference);
                assert_eq!(
                    found,
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
        let verify = installation.ok(&["verify"]);
        assert!(verify.starts_with("ok:"), "cycle {cycle}: {verify}");
        verified += 1;
        (server, _) = installation.serve_at(&[], &bind);
    }
    // The last round: each writer gets its pending write acknowledged (a retry, if it was
    // committed before the last kill), then the server stops and everything must add up.
    let tasks: Vec<_> = std::mem::take(&mut writers)
        .into_iter()
        .map(|mut writer| {
            let (client, base, token) = (client.clone(), base.clone(), token.clone());
            tokio::spawn(async move {
                let mut rng =
                    <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(writer.id as u64);
                writer.run(&client, &base, &token, &mut rng, 1).await;
                writer
            })
        })
        .collect();
    for task in tasks {
        writers.push(task.await.unwrap());
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let stored = stored_pledges(&installation).await;
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
    let distinct = {
        let mut d = seqs.clone();
        d.dedup();
        d.len()
    };
    let replays: usize = writers.iter().map(|w| w.replays).sum();
    run.figure(&format!(
        "{cycles} kill -9 cycles in {:.0} s with {WRITERS} writers: {acknowledged} writes acknowledged, 0 lost, 0 duplicates ({distinct} distinct sequence numbers), {replays} retries answered as replays of writes committed before the kill; integrity_check ok and purl verify passed after every kill ({verified}); sums per currency (acknowledged = stored): {sums:?}",
        started.elapsed().as_secs_f64()
    ));
    assert_eq!(
        distinct, acknowledged,
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
    installation.ok(&["verify"]);
}
