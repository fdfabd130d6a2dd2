//! Idempotency and atomicity (item 3): 5,000 writes through the API, 30 % exact retries (some
//! sent while the first is still in flight) and 5 % reusing a key with another body; and a fault
//! injected in the database before each step of the commit of every multi-step command.

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
use crate::server::{Reply, Server, COORDINATOR, FUNDER, REQUESTER, SUPPLIER};

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

/// Everything stored, as text, and every list each party reads through the API.
async fn snapshot(server: &Server) -> String {
    let mut text = String::new();
    for table in ["events", "tree_nodes", "idempotency", "checkpoints"] {
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(pool(server))
            .await
            .unwrap();
        text.push_str(&format!("{table}: {count}\n"));
    }
    let records: Vec<(String, String, i64, String)> =
        sqlx::query_as("SELECT kind, id, version, body FROM records ORDER BY kind, id")
            .fetch_all(pool(server))
            .await
            .unwrap();
    text.push_str(&format!("{records:?}\n"));
    for (user, path) in [
        (FUNDER, "/api/v1/pledges"),
        (COORDINATOR, "/api/v1/payments"),
        (COORDINATOR, "/api/v1/rates"),
        (COORDINATOR, "/api/v1/gdp"),
        (REQUESTER, "/api/v1/lists/2027-03"),
        (COORDINATOR, "/api/v1/catalogue"),
    ] {
        let reply = server.get(Some(user), path).await;
        text.push_str(&format!("{path}: {} {}\n", reply.status, reply.text));
    }
    text
}

/// One multi-step write: who sends it, where, and the CSV file.
struct MultiStep {
    name: &'static str,
    user: &'static str,
    path: &'static str,
    csv: String,
}

fn multi_step_writes() -> Vec<MultiStep> {
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
            csv: format!("reference,contributors,amount,currency,announced_on,status,part_of,categories,lethal_allowed,package,conditions,public,note\n{pledges}"),
        },
        MultiStep {
            name: "exchange rates import (3 rows)",
            user: COORDINATOR,
            path: "/api/v1/imports/fx",
            csv: "date,currency,usd_per_unit\n2026-11-02,EUR,1.08\n2026-11-02,GBP,1.27\n2026-11-03,EUR,1.09\n".into(),
        },
        MultiStep {
            name: "payments import (3 rows)",
            user: COORDINATOR,
            path: "/api/v1/imports/payments",
            csv: format!("pledge_reference,amount,currency,received_on,note\n{payments}"),
        },
        MultiStep {
            name: "GDP import (3 rows)",
            user: COORDINATOR,
            path: "/api/v1/imports/gdp",
            csv: "Country Code,Year,Value\nNLD,2025,1100000000000\nDEU,2025,4500000000000\nNOR,2025,480000000000\n".into(),
        },
        MultiStep {
            name: "requirements import (4 lines)",
            user: REQUESTER,
            path: "/api/v1/imports/requirements?period=2027-03",
            csv: format!("rank,item_code,item_name,category,lethal,unit_price_usd,quantity,needed_by,justification\n{requirements}"),
        },
    ]
}

async fn send(server: &Server, write: &MultiStep, key: &str) -> Reply {
    server
        .call(
            Some(write.user),
            Method::POST,
            write.path,
            Some(json!(write.csv)),
            &[("Idempotency-Key", key)],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_before_any_step_of_a_commit_leaves_nothing_written() {
    let run = Run::start("atomicity").await;
    let server = Server::start().await.unwrap();
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
    let mut faults = 0;
    let mut partial = 0;
    let writes = multi_step_writes();
    for write in &writes {
        let key = format!("fault-{}", write.path);
        for step in COMMIT_STEPS {
            let before = snapshot(&server).await;
            sqlx::query(&format!(
                "CREATE TRIGGER injected_fault BEFORE INSERT ON {step} BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
            ))
            .execute(pool(&server))
            .await
            .unwrap();
            let refused = send(&server, write, &key).await;
            sqlx::query("DROP TRIGGER injected_fault")
                .execute(pool(&server))
                .await
                .unwrap();
            assert!(
                refused.status.is_server_error(),
                "{} with a fault before {step}: {} {}",
                write.name,
                refused.status,
                refused.text
            );
            assert!(
                !refused.text.contains("injected"),
                "the cause stays in the log"
            );
            faults += 1;
            if snapshot(&server).await != before {
                partial += 1;
            }
        }
        let before = snapshot(&server).await;
        let written = send(&server, write, &key).await.expect(201);
        assert!(
            written.json["written"]["events"].as_u64().unwrap() > 0,
            "{}",
            written.text
        );
        assert_ne!(snapshot(&server).await, before, "{} wrote", write.name);
        let after = snapshot(&server).await;
        let again = send(&server, write, &key).await.expect(200);
        assert_eq!(again.json["written"]["replayed"], true, "{}", again.text);
        assert_eq!(snapshot(&server).await, after, "a retry writes nothing");
    }
    verified(&server).await;
    assert_eq!(partial, 0, "partial states after injected faults");
    run.figure(&format!(
        "{faults} faults injected before each step of the commit ({}) of {} multi-step writes ({}): {partial} partial states; each write then succeeded once and its retry wrote nothing; purl verify ok",
        COMMIT_STEPS.join(", "),
        writes.len(),
        writes.iter().map(|w| w.name).collect::<Vec<_>>().join("; ")
    ));
}
