//! Two `purl serve` processes on one PostgreSQL database: concurrent writes through both, retries
//! sent to the other node, and one ledger with no gap, no duplicate and the same proofs on both.

use std::process::Child;

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use crate::postgres::Database;
use crate::support::{api_token, Installation};

const WRITES: usize = 2_000;
const CLIENTS: usize = 32;

struct Node {
    process: Child,
    base: String,
}

impl Node {
    fn start(installation: &Installation, url: &str) -> Node {
        let (process, address) = installation.serve(&["--database-url", url]);
        Node {
            process,
            base: format!("http://{address}"),
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// One pledge write with its key; retried (same key) while the server answers a conflict.
async fn write(client: &reqwest::Client, base: &str, token: &str, index: usize) -> (u16, Value) {
    loop {
        let reply = client
            .post(format!("{base}/api/v1/pledges"))
            .bearer_auth(token)
            .header("Idempotency-Key", format!("pledge-{index}"))
            .json(
                &json!({"reference": format!("NLD-LOAD-{index:05}"), "contributors": ["NLD"],
                          "amount": format!("{}.00", 1000 + index), "currency": "EUR",
                          "announced_on": "2026-11-01"}),
            )
            .send()
            .await
            .unwrap();
        let status = reply.status().as_u16();
        let body: Value = reply.json().await.unwrap_or(Value::Null);
        if status != 409
            || body["code"] != "conflict"
            || body["detail"].to_string().contains("different request")
        {
            return (status, body);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_on_one_database_keep_one_ledger() {
    let Some(database) = Database::create().await else {
        return;
    };
    let url = database.url();
    let signing = Installation {
        folder: tempfile::tempdir().unwrap(),
    };
    signing.ok(&["--database-url", &url, "init"]);
    let once = signing.add_user(&["--database-url", &url], "nld.mod", "NLD", "editor");
    // Only the first node holds the signing key; the second serves without signing.
    let other = Installation {
        folder: tempfile::tempdir().unwrap(),
    };
    let nodes = [Node::start(&signing, &url), Node::start(&other, &url)];
    let client = reqwest::Client::new();
    let token = api_token(&client, &nodes[0].base, "nld.mod", &once).await;

    let answers: Vec<(usize, u16, Value)> = stream::iter(0..WRITES)
        .map(|index| {
            let client = client.clone();
            let token = token.clone();
            let first = nodes[index % 2].base.clone();
            let second = nodes[(index + 1) % 2].base.clone();
            async move {
                let (status, body) = write(&client, &first, &token, index).await;
                assert_eq!(status, 201, "write {index}: {body}");
                if index % 10 == 0 {
                    // The client did not hear the answer and retries on the other node.
                    let (again, replay) = write(&client, &second, &token, index).await;
                    assert_eq!(again, 200, "retry {index}: {replay}");
                    assert_eq!(replay["replayed"], true);
                    assert_eq!(replay["first_seq"], body["first_seq"], "retry {index}");
                }
                (index, status, body)
            }
        })
        .buffer_unordered(CLIENTS)
        .collect()
        .await;
    assert_eq!(answers.len(), WRITES);

    // Every acknowledged write is in the ledger exactly once, at the sequence number it was given.
    let mut seqs: Vec<u64> = answers
        .iter()
        .map(|(_, _, body)| body["first_seq"].as_u64().unwrap())
        .collect();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), WRITES, "no two writes share a sequence number");
    let pledges: Value = client
        .get(format!(
            "{}/api/v1/pledges?limit=1000&offset=0",
            nodes[1].base
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pledges["total"], WRITES);

    signing.ok(&["--database-url", &url, "checkpoint", "create"]);
    let verify = signing.ok(&["--database-url", &url, "verify"]);
    assert!(verify.starts_with("ok:"), "{verify}");
    let head = seqs.last().copied().unwrap();
    assert!(
        verify.starts_with(&format!("ok: {head} events")),
        "the last write is the head: no gap, nothing else: {verify}"
    );

    // Both nodes serve the same checkpoint and the same proofs.
    let same = |path: String| {
        let client = client.clone();
        let token = token.clone();
        let bases: Vec<String> = nodes.iter().map(|n| n.base.clone()).collect();
        async move {
            let mut answers = Vec::new();
            for base in bases {
                let reply = client
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reply.status(), 200, "{path}");
                answers.push(reply.text().await.unwrap());
            }
            assert_eq!(answers[0], answers[1], "{path}");
        }
    };
    same("/api/v1/ledger/checkpoint".into()).await;
    same(format!(
        "/api/v1/ledger/proofs/inclusion?seq={}",
        seqs[WRITES / 2]
    ))
    .await;
    same(format!(
        "/api/v1/ledger/proofs/consistency?from={}",
        seqs[0]
    ))
    .await;
    drop(nodes);
    database.drop().await;
}

#[tokio::test]
async fn serve_refuses_a_schema_that_is_behind_and_settings_that_lose_writes() {
    let Some(database) = Database::create().await else {
        return;
    };
    let url = database.url();
    let installation = Installation {
        folder: tempfile::tempdir().unwrap(),
    };
    installation.ok(&["--database-url", &url, "init"]);
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    sqlx::query(&format!(
        "ALTER DATABASE {} SET synchronous_commit = off",
        url.rsplit('/').next().unwrap()
    ))
    .execute(&pool)
    .await
    .unwrap();
    let refused = installation.fails(&["--database-url", &url, "serve", "--bind", "127.0.0.1:0"]);
    assert!(refused.contains("synchronous_commit = off"), "{refused}");
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let behind = installation.fails(&["--database-url", &url, "serve", "--bind", "127.0.0.1:0"]);
    assert!(
        behind.contains("behind this build by 1 migration") && behind.contains("purl migrate"),
        "{behind}"
    );
    database.drop().await;
}
