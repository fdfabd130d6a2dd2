//! Where the installation lives, creating it (`purl init`) and opening it.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use purl_app::{App, Clock, SystemClock, WriteOptions};
use purl_core::command::Command;
use purl_core::participant::reference_participants;
use purl_core::user::Actor;
use purl_store_sqlite::SqliteStore;

use crate::cli::Cli;

/// The database file inside a data folder.
pub const DATABASE_FILE: &str = "purl.sqlite";

/// Where the database is: the `--database-url` if given, else the file in the data folder.
fn database_path(cli: &Cli) -> anyhow::Result<PathBuf> {
    let Some(url) = &cli.database_url else {
        return Ok(cli.data_dir.join(DATABASE_FILE));
    };
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        if path.is_empty() {
            bail!("the database URL '{url}' names no file");
        }
        return Ok(PathBuf::from(path));
    }
    let scheme = url.split(':').next().unwrap_or_default();
    if matches!(scheme, "postgres" | "postgresql") {
        bail!("PostgreSQL URLs are not supported by this build yet; use a sqlite: URL or the data folder");
    }
    bail!("unknown database URL scheme '{scheme}:'; expected sqlite:///path/to/purl.sqlite")
}

/// Opens an existing installation.
pub async fn open(cli: &Cli) -> anyhow::Result<App<SqliteStore>> {
    open_with(cli, Box::new(SystemClock)).await
}

/// Opens an existing installation with a given clock (the demo's is fixed in December 2025).
pub async fn open_with(cli: &Cli, clock: Box<dyn Clock>) -> anyhow::Result<App<SqliteStore>> {
    let path = database_path(cli)?;
    if !path.exists() {
        bail!(
            "no installation at {}; create one with `purl init` (or `purl demo`)",
            path.display()
        );
    }
    let store = SqliteStore::open(&path)
        .await
        .with_context(|| format!("while opening {}", path.display()))?;
    Ok(App::new(store, clock))
}

pub fn exists(cli: &Cli) -> anyhow::Result<bool> {
    Ok(database_path(cli)?.exists())
}

/// Creates the database and records the reference participants. Refuses to touch an existing one.
pub async fn init(cli: &Cli, clock: Box<dyn Clock>) -> anyhow::Result<App<SqliteStore>> {
    let path = database_path(cli)?;
    if path.exists() {
        bail!(
            "an installation already exists at {}; refusing to overwrite it",
            path.display()
        );
    }
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("while creating {}", folder.display()))?;
    }
    let store = SqliteStore::create(&path)
        .await
        .with_context(|| format!("while creating {}", path.display()))?;
    let app = App::new(store, clock);
    let commands = reference_participants()
        .into_iter()
        .map(|p| Command::AddParticipant {
            code: p.code,
            alpha2: p.alpha2,
            name: p.name,
            membership: p.membership,
            party: p.party,
        })
        .collect();
    let options = WriteOptions {
        request: "init".into(),
        ..WriteOptions::default()
    };
    app.execute_all(&Actor::Operator, commands, options)
        .await
        .map_err(purl_app::AppError::from)
        .context("while recording the reference participants")?;
    Ok(app)
}
