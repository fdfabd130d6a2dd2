//! The same product on PostgreSQL: runs when PURL_TEST_POSTGRES_URL is set (always in CI).

use crate::support::{Installation, DEMO_EVENTS};

/// A fresh database on the test server, dropped when the guard goes.
pub struct Database {
    admin_url: String,
    name: String,
}

impl Database {
    pub async fn create() -> Option<Self> {
        let Ok(admin_url) = std::env::var("PURL_TEST_POSTGRES_URL") else {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "skipped: PURL_TEST_POSTGRES_URL is not set"
            );
            return None;
        };
        let name = format!("purl_cli_{:016x}", rand::random::<u64>());
        let pool = sqlx::PgPool::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        Some(Self { admin_url, name })
    }

    pub fn url(&self) -> String {
        let (server, _) = self.admin_url.rsplit_once('/').unwrap();
        format!("{server}/{}", self.name)
    }

    pub async fn drop(self) {
        let pool = sqlx::PgPool::connect(&self.admin_url).await.unwrap();
        sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
}

#[tokio::test]
async fn the_demo_on_postgresql_gives_the_same_reports_as_on_sqlite_and_verifies() {
    let Some(database) = Database::create().await else {
        return;
    };
    let url = database.url();
    let on_postgres = Installation {
        folder: tempfile::tempdir().unwrap(),
    };
    let postgres = |args: &[&str]| {
        let mut all = vec!["--database-url", url.as_str()];
        all.extend(args);
        on_postgres.ok(&all)
    };
    postgres(&["demo"]);
    let on_sqlite = Installation::demo();
    for args in [
        ["report", "overview", "--as-of", "2025-12-03"],
        ["pledge", "list", "--format", "json"],
        ["package", "list", "--format", "json"],
    ] {
        let mut json_args = args.to_vec();
        if !json_args.contains(&"--format") {
            json_args.extend(["--format", "json"]);
        }
        assert_eq!(postgres(&json_args), on_sqlite.ok(&json_args), "{args:?}");
    }
    let verify = postgres(&["verify"]);
    assert!(
        verify.starts_with(&format!("ok: {DEMO_EVENTS} events")),
        "{verify}"
    );
    assert!(postgres(&["migrate"]).contains("0 migration(s) applied"));
    let refused = on_postgres.fails(&["--database-url", url.as_str(), "init"]);
    assert!(refused.contains("refusing to overwrite"), "{refused}");
    assert!(
        !refused.contains(&url),
        "an error never prints the database URL"
    );
    database.drop().await;
}

#[tokio::test]
async fn the_demo_moves_from_sqlite_to_postgresql_with_every_event_and_checkpoint_intact() {
    let Some(database) = Database::create().await else {
        return;
    };
    let url = database.url();
    let source = Installation::demo();
    let export = source.folder.path().join("export.jsonl");
    source.ok(&["export-db", "--output", crate::support::path(&export)]);
    let target = Installation {
        folder: tempfile::tempdir().unwrap(),
    };
    let on_target = |args: &[&str]| {
        let mut all = vec!["--database-url", url.as_str()];
        all.extend(args);
        target.ok(&all)
    };
    on_target(&["import-db", crate::support::path(&export)]);
    for args in [
        [
            "report",
            "overview",
            "--as-of",
            "2025-12-03",
            "--format",
            "json",
        ],
        ["checkpoint", "list", "--format", "json", "", ""],
    ] {
        let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
        assert_eq!(on_target(&args), source.ok(&args), "{args:?}");
    }
    let verify = on_target(&["verify"]);
    assert!(
        verify.starts_with(&format!("ok: {DEMO_EVENTS} events"))
            && verify.contains("2 signed checkpoint(s)"),
        "{verify}"
    );
    database.drop().await;
}
