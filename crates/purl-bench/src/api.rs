//! Durable write throughput through the HTTP API at several numbers of concurrent clients, on
//! SQLite and on PostgreSQL, next to the raw database's own one-row-transaction figure measured in
//! the same run.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use purl_app::{App, SystemClock, WriteOptions};
use purl_core::command::Command;
use purl_core::ids::{Name, ParticipantCode, Username};
use purl_core::user::{Actor, Role};
use purl_server::{AnyStore, Ctx, ServerConfig};

/// Sets up an installation on `store` with one contributor user, serves it on a random loopback
/// port, and returns the base URL and that user's API token.
async fn serve(store: AnyStore) -> anyhow::Result<(String, String)> {
    let app = App::new(store, Box::new(SystemClock));
    let mut commands: Vec<Command> = Command::add_reference_participants();
    commands.push(Command::AddUser {
        username: Username::parse("bench.nld")?,
        participant: ParticipantCode::parse("NLD")?,
        name: Name::parse("Benchmark")?,
        roles: BTreeSet::from([Role::Editor]),
    });
    let options = WriteOptions {
        request: "bench setup".into(),
        ..WriteOptions::default()
    };
    app.execute_all(&Actor::Operator, commands, options)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = app.state().await?;
    let actor = purl_app::auth::actor_of(&state, "bench.nld").context("the user exists")?;
    let (_, token) = app.create_token(&actor, "bench", 1, None).await?;
    let token = token.context("a new token has its secret")?;
    let config = ServerConfig {
        request_timeout: Duration::from_secs(120),
        ..ServerConfig::default()
    };
    let ctx = Ctx::new(app, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { purl_server::serve(listener, ctx).await });
    Ok((base, token))
}

/// What the clients send.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Load {
    /// New pledges, each acknowledged with 201 once durable.
    Writes,
    /// The same request with an amount that is not a number, refused with 422 before anything
    /// is decided or written: what HTTP, authentication and reading the body cost alone.
    Refused,
}

/// Answers per second (201 for writes, 422 for refused requests) with `clients` clients sending
/// for `seconds`.
async fn drive(
    base: &str,
    token: &str,
    clients: usize,
    seconds: f64,
    round: usize,
    load: Load,
) -> anyhow::Result<f64> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let acked = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..clients {
        let client = client.clone();
        let acked = acked.clone();
        let url = format!("{base}/api/v1/pledges");
        let token = token.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let amount = match load {
                    Load::Writes => "1000.00",
                    Load::Refused => "a thousand",
                };
                let body = serde_json::json!({
                    "reference": format!("NLD-R{round}-W{worker}-{n}"),
                    "contributors": ["NLD"], "amount": amount, "currency": "EUR",
                    "announced_on": "2026-11-01"});
                let expected = match load {
                    Load::Writes => 201,
                    Load::Refused => 422,
                };
                let reply = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await;
                if reply.is_ok_and(|r| r.status().as_u16() == expected) {
                    acked.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        task.await?;
    }
    Ok(acked.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

/// One-row transactions per second on SQLite with `synchronous=FULL` (one writer: SQLite has one).
fn raw_sqlite(folder: &std::path::Path, seconds: f64) -> anyhow::Result<f64> {
    let connection = rusqlite::Connection::open(folder.join("raw.sqlite"))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "FULL")?;
    connection.execute(
        "CREATE TABLE bench (id INTEGER PRIMARY KEY, v TEXT NOT NULL)",
        [],
    )?;
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed().as_secs_f64() < seconds {
        connection.execute_batch("BEGIN IMMEDIATE; INSERT INTO bench (v) VALUES ('x'); COMMIT;")?;
        count += 1;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// pgbench's transactions per second for a one-row insert script with `clients` clients.
fn raw_postgres(url: &str, schema: &str, clients: usize, seconds: u64) -> anyhow::Result<f64> {
    let folder = tempfile::tempdir()?;
    let script = folder.path().join("insert.sql");
    std::fs::write(&script, "INSERT INTO bench (v) VALUES ('x');\n")?;
    let output = std::process::Command::new("pgbench")
        .args([
            "-n",
            "-c",
            &clients.to_string(),
            "-j",
            &clients.min(4).to_string(),
        ])
        .args(["-T", &seconds.to_string(), "-f"])
        .arg(&script)
        .arg(url)
        .env("PGOPTIONS", format!("-c search_path={schema}"))
        .output()
        .context("while running pgbench (Debian: postgresql-client)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .with_context(|| {
            format!(
                "pgbench said: {text}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

pub async fn run(clients: &[usize], seconds: f64, postgres: Option<&str>) -> anyhow::Result<()> {
    println!("# durable writes per second (POST /api/v1/pledges, each acknowledged after COMMIT)");
    println!(
        "# {seconds} s per figure; clients = concurrent HTTP clients, each one request at a time"
    );
    let folder = tempfile::tempdir()?;
    let raw = raw_sqlite(folder.path(), seconds)?;
    println!("sqlite raw one-row transactions (synchronous=FULL, one writer): {raw:.0}/s");
    let store = purl_store_sqlite::SqliteStore::create(&folder.path().join("purl.sqlite")).await?;
    let (base, token) = serve(AnyStore::Sqlite(store)).await?;
    for (round, &count) in clients.iter().enumerate() {
        let rate = drive(&base, &token, count, seconds, round, Load::Writes).await?;
        let floor = drive(&base, &token, count, seconds, round, Load::Refused).await?;
        println!(
            "sqlite api, {count:>2} client(s): {rate:.0} writes/s ({:.2} of raw); refused before writing: {floor:.0}/s",
            rate / raw
        );
    }
    let Some(url) = postgres else {
        println!("postgres: skipped (pass --postgres URL or set PURL_TEST_POSTGRES_URL)");
        return Ok(());
    };
    let schema = format!("purl_bench_{:08x}", rand::random::<u32>());
    let admin = purl_store_postgres::PostgresStore::connect(url, None).await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(admin.pool())
        .await?;
    sqlx::query(&format!(
        "CREATE TABLE {schema}.bench (id BIGSERIAL PRIMARY KEY, v TEXT NOT NULL)"
    ))
    .execute(admin.pool())
    .await?;
    let store = purl_store_postgres::PostgresStore::connect(url, Some(&schema)).await?;
    store.migrate().await?;
    let (base, token) = serve(AnyStore::Postgres(store)).await?;
    for (round, &count) in clients.iter().enumerate() {
        let raw = raw_postgres(url, &schema, count, seconds.ceil() as u64)?;
        let rate = drive(&base, &token, count, seconds, 100 + round, Load::Writes).await?;
        let floor = drive(&base, &token, count, seconds, 100 + round, Load::Refused).await?;
        println!(
            "postgres, {count:>2} client(s): pgbench one-row inserts {raw:.0}/s, api {rate:.0} writes/s ({:.2} of raw); refused before writing: {floor:.0}/s",
            rate / raw
        );
    }
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(admin.pool())
        .await?;
    Ok(())
}
