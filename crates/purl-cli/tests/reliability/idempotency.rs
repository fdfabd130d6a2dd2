//! Idempotency and atomicity (item 3): 5,000 writes through the API, 30 % exact retries (some
//! sent while the first is still in flight) and 5 % reusing a key with another body; and a fault
//! injected in the database before each step of the commit of every multi-step command, and after
//! its last.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::SqlitePool;

use crate::crash::{pledges_of, PLEDGE_ROWS};
use crate::measure::Run;
use crate::server::{Backend, Reply, Server, COORDINATOR, FUNDER, REQUESTER, SUPPLIER};

const WRITES: usize = 5_000;
const TASKS: usize = 8;
const PREFIX: &str = "IDEM-";

/// A pledge as first sent under its key, and the answer it got.
#[derive(Clone)]
struct Sent {
    key: String,
    body: Value,
    first_seq: u64,
}

fn pledge(task: usize, index: usize, rng: &mut impl Rng) -> Value {
    let currency = ["EUR", "USD", "GBP"][rng.gen_range(0..3)];
    json!({"reference": format!("{PREFIX}{task:02}-{index:05}"), "contributors": ["NLD"],
           "amount": format!("{}.{:02}", rng.gen_range(1..1_000_000), rng.gen_range(0..100)),
           "currency": currency,
           "announced_on": "2026-11-01", "note": "first"})
}

/// The body with `field` changed to another valid value.
fn changed(body: &Value, field: &str) -> Value {
    let mut other = body.clone();
    other[field] = match field {
        "reference" => json!(format!("{}-X", body["reference"].as_str().unwrap())),
        "amount" => json!(format!(
            "{}1.00",
            body["amount"].as_str().unwrap().split('.').next().unwrap()
        )),
        "announced_on" => json!("2026-10-31"),
        "note" => json!("second"),
        _ => unreachable!("a field the test changes"),
    };
    other
}

const CHANGED_FIELDS: [&str; 4] = ["reference", "amount", "announced_on", "note"];

async fn post(server: &Server, key: &str, body: &Value) -> Reply {
    server
        .call(
            Some(FUNDER),
            Method::POST,
            "/api/v1/pledges",
            Some(body.clone()),
            &[("Idempotency-Key", key)],
        )
        .await
}

fn first_seq(reply: &Reply) -> u64 {
    reply.json["first_seq"]
        .as_u64()
        .unwrap_or_else(|| panic!("{}", reply.text))
}

/// What one task saw.
#[derive(Default)]
struct Tally {
    requests: usize,
    new: usize,
    retries: usize,
    in_flight_retries: usize,
    reused: usize,
    acknowledged: Vec<Sent>,
}

async fn task(server: Arc<Server>, task: usize, seed: u64) -> Tally {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_add(task as u64));
    let mut tally = Tally::default();
    let mut index = 0;
    while tally.requests < WRITES / TASKS {
        let draw: f64 = rng.gen();
        let earlier = tally.acknowledged.choose(&mut rng).cloned();
        match earlier {
            Some(sent) if draw < 0.30 => {
                let reply = post(&server, &sent.key, &sent.body).await.expect(200);
                assert_eq!(reply.json["replayed"], true, "{}", reply.text);
                assert_eq!(first_seq(&reply), sent.first_seq, "the first answer again");
                tally.requests += 1;
                tally.retries += 1;
            }
            Some(sent) if draw < 0.35 => {
                let field = *CHANGED_FIELDS.choose(&mut rng).unwrap();
                let reply = post(&server, &sent.key, &changed(&sent.body, field)).await;
                let reply = reply.expect(409);
                assert_eq!(
                    reply.json["code"], "idempotency-key-reused",
                    "{}",
                    reply.text
                );
                assert_eq!(reply.json["field"], field, "{}", reply.text);
                tally.requests += 1;
                tally.reused += 1;
            }
            _ => {
                index += 1;
                let key = format!("idem-{task}-{index}");
                let body = pledge(task, index, &mut rng);
                let replies = if rng.gen_bool(0.1) {
                    // The same write twice at once: one is written, the other repeats its answer.
                    let (a, b) =
                        tokio::join!(post(&server, &key, &body), post(&server, &key, &body));
                    tally.in_flight_retries += 1;
                    vec![a, b]
                } else {
                    vec![post(&server, &key, &body).await]
                };
                let seqs: Vec<u64> = replies.iter().map(first_seq).collect();
                let written = replies
                    .iter()
                    .filter(|reply| reply.status == 201 && reply.json["replayed"] == false)
                    .count();
                assert_eq!(written, 1, "exactly one write of {key}: {replies:?}");
                assert!(seqs.iter().all(|seq| *seq == seqs[0]), "{replies:?}");
                tally.requests += replies.len();
                tally.new += 1;
                tally.retries += replies.len() - 1;
                tally.acknowledged.push(Sent {
                    key,
                    body,
                    first_seq: seqs[0],
                });
            }
        }
    }
    tally
}

fn minor_of(amount: &str) -> i64 {
    let (units, cents) = amount.split_once('.').unwrap();
    units.parse::<i64>().unwrap() * 100 + cents.parse::<i64>().unwrap()
}

fn pool(server: &Server) -> &SqlitePool {
    match server.ctx.app.store() {
        purl_server::AnyStore::Sqlite(store) => store.pool(),
        purl_server::AnyStore::Postgres(_) => unreachable!("this target runs on SQLite"),
    }
}

async fn verified(server: &Server) {
    let report = purl_app::verify::verify(server.ctx.app.store(), &|_, _| {})
        .await
        .unwrap();
    assert!(report.is_ok(), "purl verify: {:?}", report.problems);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retried_writes_are_written_once_and_a_reused_key_is_refused_naming_the_field() {
    let run = Run::start("idempotency").await;
    let server = Arc::new(Server::start().await.unwrap());
    let head = server.ctx.app.state().await.unwrap().head;
    let tasks: Vec<_> = (0..TASKS)
        .map(|id| tokio::spawn(task(server.clone(), id, run.seed)))
        .collect();
    let mut tally = Tally::default();
    for handle in tasks {
        let one = handle.await.unwrap();
        tally.requests += one.requests;
        tally.new += one.new;
        tally.retries += one.retries;
        tally.in_flight_retries += one.in_flight_retries;
        tally.reused += one.reused;
        tally.acknowledged.extend(one.acknowledged);
    }
    let rows = sqlx::query_as(PLEDGE_ROWS)
        .fetch_all(pool(&server))
        .await
        .unwrap();
    let stored = pledges_of(rows, PREFIX);
    let expected: BTreeMap<String, (i64, String)> = tally
        .acknowledged
        .iter()
        .map(|sent| {
            let body = &sent.body;
            (
                body["reference"].as_str().unwrap().to_owned(),
                (
                    minor_of(body["amount"].as_str().unwrap()),
                    body["currency"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect();
    assert_eq!(
        stored, expected,
        "every acknowledged write exactly once, nothing else"
    );
    let now = server.ctx.app.state().await.unwrap().head;
    assert_eq!(
        now - head,
        tally.new as u64,
        "one event per new write, none per retry"
    );
    verified(&server).await;
    run.figure(&format!(
        "{} writes ({} new, {} exact retries of which {} in flight, {} reusing a key with another body): 0 duplicates, {} of {} reused keys refused with 409 naming the changed field, purl verify ok",
        tally.requests, tally.new, tally.retries, tally.in_flight_retries, tally.reused, tally.reused, tally.reused
    ));
}

/// The tables one commit writes, in the order it writes them.
const COMMIT_STEPS: [&str; 4] = ["events", "records", "tree_nodes", "idempotency"];

/// Where a fault is injected: before the insert into each table a commit writes, and after the
/// last (the idempotency row), just before the transaction would commit.
fn fault_points() -> Vec<(&'static str, &'static str)> {
    COMMIT_STEPS
        .iter()
        .map(|table| ("BEFORE", *table))
        .chain([("AFTER", "idempotency")])
        .collect()
}

/// The server's database, on either backend, for what the test does behind its back.
enum Db<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a sqlx::PgPool),
}

impl Db<'_> {
    fn of(server: &Server) -> Db<'_> {
        match server.ctx.app.store() {
            purl_server::AnyStore::Sqlite(store) => Db::Sqlite(store.pool()),
            purl_server::AnyStore::Postgres(store) => Db::Postgres(store.pool()),
        }
    }

    async fn execute(&self, statement: &str) {
        match self {
            Db::Sqlite(pool) => sqlx::query(statement).execute(*pool).await.map(drop),
            Db::Postgres(pool) => sqlx::query(statement).execute(*pool).await.map(drop),
        }
        .unwrap_or_else(|error| panic!("{statement}: {error}"));
    }

    async fn count(&self, table: &str) -> i64 {
        let statement = format!("SELECT COUNT(*) FROM {table}");
        match self {
            Db::Sqlite(pool) => sqlx::query_scalar(&statement).fetch_one(*pool).await,
            Db::Postgres(pool) => sqlx::query_scalar(&statement).fetch_one(*pool).await,
        }
        .unwrap()
    }

    async fn records(&self) -> Vec<(String, String, i64, String)> {
        let statement = "SELECT kind, id, version, body FROM records ORDER BY kind, id";
        match self {
            Db::Sqlite(pool) => sqlx::query_as(statement).fetch_all(*pool).await,
            Db::Postgres(pool) => sqlx::query_as(statement).fetch_all(*pool).await,
        }
        .unwrap()
    }

    /// Makes every insert into `table` fail, `when` (`BEFORE` or `AFTER`) it is made, as a fault in
    /// the database would.
    async fn inject_fault(&self, when: &str, table: &str) {
        match self {
            Db::Sqlite(_) => {
                self.execute(&format!(
                    "CREATE TRIGGER injected_fault {when} INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
                ))
                .await
            }
            Db::Postgres(_) => {
                self.execute(
                    "CREATE OR REPLACE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$",
                )
                .await;
                self.execute(&format!(
                    "CREATE TRIGGER injected_fault {when} INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION injected_fault()"
                ))
                .await;
            }
        }
    }

    async fn clear_fault(&self, table: &str) {
        match self {
            Db::Sqlite(_) => self.execute("DROP TRIGGER injected_fault").await,
            Db::Postgres(_) => {
                self.execute(&format!("DROP TRIGGER injected_fault ON {table}"))
                    .await
            }
        }
    }
}

/// Everything stored, as text, and every list each party reads through the API.
async fn snapshot(server: &Server) -> String {
    let db = Db::of(server);
    let mut text = String::new();
    for table in ["events", "tree_nodes", "idempotency", "checkpoints"] {
        text.push_str(&format!("{table}: {}\n", db.count(table).await));
    }
    text.push_str(&format!("{:?}\n", db.records().await));
    for (user, path) in [
        (FUNDER, "/api/v1/pledges"),
        (COORDINATOR, "/api/v1/payments"),
        (COORDINATOR, "/api/v1/rates"),
        (COORDINATOR, "/api/v1/gdp"),
        (REQUESTER, "/api/v1/lists/2027-03"),
        (COORDINATOR, "/api/v1/catalogue"),
        (COORDINATOR, "/api/v1/packages"),
        (FUNDER, "/api/v1/packages"),
    ] {
        let reply = server.get(Some(user), path).await;
        text.push_str(&format!("{path}: {} {}\n", reply.status, reply.text));
    }
    text
}

/// One multi-step write: who sends it, where, and the body (a JSON string is sent as a CSV file).
struct MultiStep {
    name: &'static str,
    user: &'static str,
    path: &'static str,
    body: Value,
}

/// The imports: each file is one write of a command per row.
fn imports() -> Vec<MultiStep> {
    let pledges: String = (1..=5)
        .map(|n| format!("FAULT-{n},NL,{n}00000,EUR,2026-11-0{n},committed,,,true,,,true,\n"))
        .collect();
    let payments: String = (1..=3)
        .map(|n| format!("FAULT-{n},{n}0000,EUR,2026-11-2{n},paid in part\n"))
        .collect();
    let requirements: String = (1..=4)
        .map(|n| {
            format!("{n},FLT-{n},Fault item {n},medical,false,{n}00,{n}0,2027-03-0{n},needed\n")
        })
        .collect();
    vec![
        MultiStep {
            name: "pledges import (5 rows)",
            user: FUNDER,
            path: "/api/v1/imports/pledges",
            body: json!(format!("reference,contributors,amount,currency,announced_on,status,part_of,categories,lethal_allowed,package,conditions,public,note\n{pledges}")),
        },
        MultiStep {
            name: "exchange rates import (3 rows)",
            user: COORDINATOR,
            path: "/api/v1/imports/fx",
            body: json!("date,currency,usd_per_unit\n2026-11-02,EUR,1.08\n2026-11-02,GBP,1.27\n2026-11-03,EUR,1.09\n"),
        },
        MultiStep {
            name: "payments import (3 rows)",
            user: COORDINATOR,
            path: "/api/v1/imports/payments",
            body: json!(format!("pledge_reference,amount,currency,received_on,note\n{payments}")),
        },
        MultiStep {
            name: "GDP import (3 rows)",
            user: COORDINATOR,
            path: "/api/v1/imports/gdp",
            body: json!("Country Code,Year,Value\nNLD,2025,1100000000000\nDEU,2025,4500000000000\nNOR,2025,480000000000\n"),
        },
        MultiStep {
            name: "requirements import (4 lines)",
            user: REQUESTER,
            path: "/api/v1/imports/requirements?period=2027-03",
            body: json!(format!("rank,item_code,item_name,category,lethal,unit_price_usd,quantity,needed_by,justification\n{requirements}")),
        },
    ]
}

/// Forming packages from a committed allocation: a package, its lines and its contributions for
/// every 4,000 USD of funded lines, in one write.
fn forming_packages() -> MultiStep {
    MultiStep {
        name: "forming packages from the allocation",
        user: COORDINATOR,
        path: "/api/v1/allocations/1/packages",
        body: json!({"target_usd": "4000.00"}),
    }
}

async fn send(server: &Server, write: &MultiStep, key: &str) -> Reply {
    server
        .call(
            Some(write.user),
            Method::POST,
            write.path,
            Some(write.body.clone()),
            &[("Idempotency-Key", key)],
        )
        .await
}

/// Sends `write` once with a fault at each point of its commit, then without; returns the
/// faults injected, the partial states they left, and the events the write then made.
async fn fault_each_step(server: &Server, write: &MultiStep) -> (usize, usize, u64) {
    let db = Db::of(server);
    let key = format!("fault-{}", write.path);
    let (mut faults, mut partial) = (0, 0);
    for (when, step) in fault_points() {
        let before = snapshot(server).await;
        db.inject_fault(when, step).await;
        let refused = send(server, write, &key).await;
        db.clear_fault(step).await;
        assert!(
            refused.status.is_server_error(),
            "{} with a fault {when} inserting into {step}: {} {}",
            write.name,
            refused.status,
            refused.text
        );
        assert!(
            !refused.text.contains("injected"),
            "the cause stays in the log"
        );
        faults += 1;
        if snapshot(server).await != before {
            partial += 1;
        }
    }
    let before = snapshot(server).await;
    let written = send(server, write, &key).await.expect(201);
    let events = written.json["written"]["events"].as_u64().unwrap();
    assert!(events > 0, "{}", written.text);
    assert_ne!(snapshot(server).await, before, "{} wrote", write.name);
    let after = snapshot(server).await;
    let again = send(server, write, &key).await;
    assert!(again.status.is_success(), "{} {}", again.status, again.text);
    assert_eq!(again.json["written"]["replayed"], true, "{}", again.text);
    assert_eq!(snapshot(server).await, after, "a retry writes nothing");
    (faults, partial, events)
}

/// The imports, then (on what they wrote) the list approved, an allocation committed, and
/// packages formed from it, each with a fault at each point of its commit.
async fn atomicity_on(server: &Server) -> (usize, usize, Vec<String>) {
    server
        .post(
            Some(REQUESTER),
            "/api/v1/lists",
            json!({"period": "2027-03"}),
        )
        .await
        .expect(201);
    for n in 1..=4 {
        server
            .post(
                Some(SUPPLIER),
                "/api/v1/catalogue",
                json!({"code": format!("FLT-{n}"), "name": format!("Fault item {n}"), "category": "medical",
                       "lethal": false, "unit_price": format!("{n}00.00"), "lead_time_days": 30}),
            )
            .await
            .expect(201);
    }
    let (mut faults, mut partial, mut names) = (0, 0, Vec::new());
    for write in imports() {
        let (f, p, events) = fault_each_step(server, &write).await;
        (faults, partial) = (faults + f, partial + p);
        names.push(format!("{}: {events} events", write.name));
    }
    server
        .post(Some(REQUESTER), "/api/v1/lists/2027-03/submit", json!({}))
        .await
        .expect(200);
    for party in [REQUESTER, COORDINATOR, SUPPLIER] {
        server
            .post(
                Some(party),
                "/api/v1/lists/2027-03/approve",
                json!({"version": 1}),
            )
            .await
            .expect(200);
    }
    server
        .post(
            Some(COORDINATOR),
            "/api/v1/allocations",
            json!({"period": "2027-03"}),
        )
        .await
        .expect(201);
    let write = forming_packages();
    let (f, p, events) = fault_each_step(server, &write).await;
    (faults, partial) = (faults + f, partial + p);
    names.push(format!("{}: {events} events", write.name));
    verified(server).await;
    (faults, partial, names)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_at_any_step_of_a_commit_leaves_nothing_written() {
    let run = Run::start("atomicity").await;
    let mut figures = Vec::new();
    let mut backends = vec![("SQLite", Backend::Sqlite)];
    match crate::server::postgres_url() {
        Some(url) => backends.push(("PostgreSQL", Backend::Postgres(url))),
        None => println!("atomicity on PostgreSQL skipped: PURL_TEST_POSTGRES_URL is not set"),
    }
    for (name, backend) in backends {
        let server = Server::start_on(backend).await;
        let (faults, partial, writes) = atomicity_on(&server).await;
        assert_eq!(partial, 0, "{name}: partial states after injected faults");
        figures.push(format!(
            "{name}: {faults} faults injected before each step of the commit ({}) and after the last, of {} multi-step writes ({}): {partial} partial states; each write then succeeded once and its retry wrote nothing; purl verify ok",
            COMMIT_STEPS.join(", "),
            writes.len(),
            writes.join("; ")
        ));
        server.finish().await;
    }
    run.figure(&figures.join("; "));
}
