//! Where the installation lives, creating it (`purl init`) and opening it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use purl_app::ledger::VERIFIER_KEY_SETTING;
use purl_app::{App, Clock, SystemClock, WriteOptions};
use purl_core::checkpoint::SignerKey;
use purl_core::command::Command;
use purl_core::user::Actor;
use purl_store::Store;
use purl_store_postgres::PostgresStore;
use purl_store_sqlite::SqliteStore;

use crate::cli::Cli;

/// The database file inside a data folder.
pub const DATABASE_FILE: &str = "purl.sqlite";
/// The checkpoint signing key, readable by its owner only; never in the database.
pub const SIGNING_KEY_FILE: &str = "ledger-signing.key";
/// The verifier key, for auditors.
pub const VERIFIER_KEY_FILE: &str = "ledger-verifier.pub";

/// Where the database is.
enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

/// An opened installation on one of the two backends.
pub enum Opened {
    Sqlite(App<SqliteStore>),
    Postgres(App<PostgresStore>),
}

/// The `--database-url` if given, else the SQLite file in the data folder.
fn location(cli: &Cli) -> anyhow::Result<Location> {
    let Some(url) = &cli.database_url else {
        return Ok(Location::Sqlite(cli.data_dir.join(DATABASE_FILE)));
    };
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        if path.is_empty() {
            bail!("the database URL names no file");
        }
        return Ok(Location::Sqlite(PathBuf::from(path)));
    }
    let scheme = url.split(':').next().unwrap_or_default();
    if matches!(scheme, "postgres" | "postgresql") {
        return Ok(Location::Postgres(url.clone()));
    }
    bail!("unknown database URL scheme '{scheme}:'; expected sqlite:///path/to/purl.sqlite or postgres://user@host/database")
}

async fn connect_postgres(url: &str) -> anyhow::Result<PostgresStore> {
    // The URL may hold a password: errors name the database, never the URL.
    PostgresStore::connect(url, None)
        .await
        .context("while connecting to PostgreSQL")
}

/// Opens an existing installation.
pub async fn open(cli: &Cli) -> anyhow::Result<Opened> {
    open_with(cli, Box::new(SystemClock)).await
}

/// Opens an existing installation with a given clock (the demo's is fixed in December 2025).
pub async fn open_with(cli: &Cli, clock: Box<dyn Clock>) -> anyhow::Result<Opened> {
    match location(cli)? {
        Location::Sqlite(path) => {
            if !path.exists() {
                bail!(
                    "no installation at {}; create one with `purl init` (or `purl demo`)",
                    path.display()
                );
            }
            let store = SqliteStore::open(&path)
                .await
                .with_context(|| format!("while opening {}", path.display()))?;
            Ok(Opened::Sqlite(App::new(store, clock)))
        }
        Location::Postgres(url) => {
            let store = connect_postgres(&url).await?;
            let pending = store.pending_migrations().await?;
            if pending > 0 {
                bail!("the PostgreSQL schema is behind this build by {pending} migration(s); run `purl migrate` first");
            }
            if store.setting(VERIFIER_KEY_SETTING).await?.is_none() {
                bail!("no installation in this PostgreSQL database; create one with `purl init` (or `purl demo`)");
            }
            Ok(Opened::Postgres(App::new(store, clock)))
        }
    }
}

/// Whether an installation exists where the options point.
pub async fn exists(cli: &Cli) -> anyhow::Result<bool> {
    match location(cli)? {
        Location::Sqlite(path) => Ok(path.exists()),
        Location::Postgres(url) => {
            let store = connect_postgres(&url).await?;
            Ok(store.pending_migrations().await? == 0
                && store.setting(VERIFIER_KEY_SETTING).await?.is_some())
        }
    }
}

/// `purl migrate`: applies pending PostgreSQL migrations (SQLite migrates when opened).
pub async fn migrate(cli: &Cli) -> anyhow::Result<String> {
    match location(cli)? {
        Location::Sqlite(path) => {
            SqliteStore::open(&path)
                .await
                .with_context(|| format!("while opening {}", path.display()))?;
            Ok(format!(
                "ok: {} is up to date (SQLite migrates when opened)",
                path.display()
            ))
        }
        Location::Postgres(url) => {
            let store = connect_postgres(&url).await?;
            let pending = store.pending_migrations().await?;
            store
                .migrate()
                .await
                .context("while migrating PostgreSQL")?;
            Ok(format!(
                "ok: {pending} migration(s) applied; the schema is up to date"
            ))
        }
    }
}

/// Creates a new installation: database, checkpoint key, reference participants, first
/// checkpoint. Refuses to touch an existing one.
pub async fn init(
    cli: &Cli,
    clock: Box<dyn Clock>,
    origin: Option<&str>,
) -> anyhow::Result<Opened> {
    let key_path = cli.data_dir.join(SIGNING_KEY_FILE);
    if key_path.exists() {
        bail!(
            "a signing key already exists at {}; refusing to overwrite it",
            key_path.display()
        );
    }
    match location(cli)? {
        Location::Sqlite(path) => {
            if path.exists() {
                bail!(
                    "an installation already exists at {}; refusing to overwrite it",
                    path.display()
                );
            }
            create_parent(&path)?;
            let signer = new_signer(cli, origin)?;
            let store = SqliteStore::create(&path)
                .await
                .with_context(|| format!("while creating {}", path.display()))?;
            let app = App::new(store, clock);
            set_up(&app, &signer).await?;
            Ok(Opened::Sqlite(app))
        }
        Location::Postgres(url) => {
            let store = connect_postgres(&url).await?;
            store
                .migrate()
                .await
                .context("while creating the PostgreSQL schema")?;
            if store.head().await? > 0 || store.setting(VERIFIER_KEY_SETTING).await?.is_some() {
                bail!("this PostgreSQL database already holds an installation; refusing to overwrite it");
            }
            let signer = new_signer(cli, origin)?;
            let app = App::new(store, clock);
            set_up(&app, &signer).await?;
            Ok(Opened::Postgres(app))
        }
    }
}

/// Draws the checkpoint key and writes it (owner-only) and its verifier key to the data folder.
fn new_signer(cli: &Cli, origin: Option<&str>) -> anyhow::Result<SignerKey> {
    let origin = origin.map_or_else(
        || format!("purl-ledger/{}", hex::encode(rand::random::<[u8; 8]>())),
        str::to_owned,
    );
    let signer = SignerKey::from_seed(&origin, rand::random())
        .map_err(|e| anyhow::anyhow!("--origin: {e}"))?;
    std::fs::create_dir_all(&cli.data_dir)
        .with_context(|| format!("while creating {}", cli.data_dir.display()))?;
    write_private(&cli.data_dir.join(SIGNING_KEY_FILE), &signer.encode())?;
    let verifier = signer.verifier().encode();
    std::fs::write(
        cli.data_dir.join(VERIFIER_KEY_FILE),
        format!("{verifier}\n"),
    )
    .context("while writing the verifier key")?;
    Ok(signer)
}

/// Records the verifier key, the reference participants and the first checkpoint.
async fn set_up<S: Store>(app: &App<S>, signer: &SignerKey) -> anyhow::Result<()> {
    app.store()
        .set_setting(VERIFIER_KEY_SETTING, &signer.verifier().encode())
        .await
        .context("while recording the verifier key")?;
    let commands = Command::add_reference_participants();
    let options = WriteOptions {
        request: purl_app::idempotency::describe(&"init"),
        ..WriteOptions::default()
    };
    app.execute_all(&Actor::Operator, commands, options)
        .await
        .map_err(purl_app::AppError::from)
        .context("while recording the reference participants")?;
    app.sign_checkpoint(signer)
        .await
        .map_err(crate::run::explain)
        .context("while signing the first checkpoint")?;
    Ok(())
}

/// Creates the folder a new database file goes in.
fn create_parent(path: &Path) -> anyhow::Result<()> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("while creating {}", folder.display()))?;
    }
    Ok(())
}

/// Writes a file only its owner may read.
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("while creating {}", path.display()))?;
    writeln!(file, "{content}").with_context(|| format!("while writing {}", path.display()))
}

/// The checkpoint signing key of the installation; refused if others may read its file.
pub fn signer(cli: &Cli) -> anyhow::Result<SignerKey> {
    use std::os::unix::fs::PermissionsExt as _;
    let path = cli.data_dir.join(SIGNING_KEY_FILE);
    let metadata = std::fs::metadata(&path)
        .with_context(|| format!("no signing key at {}", path.display()))?;
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "{} may be read by others (mode {mode:o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("while reading {}", path.display()))?;
    SignerKey::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// `purl backup`: SQLite only (PostgreSQL has its own tools, see the README).
pub async fn backup(cli: &Cli, output: &Path) -> anyhow::Result<String> {
    match location(cli)? {
        Location::Sqlite(path) => {
            let store = SqliteStore::open(&path).await.with_context(|| format!("while opening {}", path.display()))?;
            store.backup(output).await.with_context(|| format!("while writing {}", output.display()))?;
            Ok(format!("ok: a consistent copy of {} written to {}", path.display(), output.display()))
        }
        Location::Postgres(_) => bail!("back up PostgreSQL with pg_dump or your provider's backups (see the README); `purl export-db` also works"),
    }
}

/// `purl import-db FILE`: into a new SQLite file or an empty PostgreSQL database.
pub async fn import_db(cli: &Cli, file: &Path) -> anyhow::Result<String> {
    let reader =
        std::fs::File::open(file).with_context(|| format!("while opening {}", file.display()))?;
    let mut reader = std::io::BufReader::new(reader);
    let name = file.display().to_string();
    let events = match location(cli)? {
        Location::Sqlite(path) => {
            if path.exists() {
                bail!(
                    "an installation already exists at {}; import only into a new one",
                    path.display()
                );
            }
            create_parent(&path)?;
            let store = SqliteStore::create(&path)
                .await
                .with_context(|| format!("while creating {}", path.display()))?;
            let imported = purl_app::transfer::import(&store, &mut reader, &|_, _| {}).await;
            if imported.is_err() {
                // Nothing half-imported is left behind.
                store.close().await;
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            imported.map_err(|e| anyhow::anyhow!("{name}: {e}"))?
        }
        Location::Postgres(url) => {
            let store = connect_postgres(&url).await?;
            store
                .migrate()
                .await
                .context("while creating the PostgreSQL schema")?;
            purl_app::transfer::import(&store, &mut reader, &|_, _| {})
                .await
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?
        }
    };
    Ok(format!("ok: {events} events imported; copy the ledger keys into the data folder and run `purl verify`"))
}
