//! Where the installation lives, creating it (`purl init`) and opening it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use purl_app::ledger::VERIFIER_KEY_SETTING;
use purl_app::{App, Clock, SystemClock, WriteOptions};
use purl_core::checkpoint::SignerKey;
use purl_core::command::Command;
use purl_core::participant::reference_participants;
use purl_core::user::Actor;
use purl_store::Store as _;
use purl_store_sqlite::SqliteStore;

use crate::cli::Cli;

/// The database file inside a data folder.
pub const DATABASE_FILE: &str = "purl.sqlite";
/// The checkpoint signing key, readable by its owner only; never in the database.
pub const SIGNING_KEY_FILE: &str = "ledger-signing.key";
/// The verifier key, for auditors.
pub const VERIFIER_KEY_FILE: &str = "ledger-verifier.pub";

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
pub async fn init(
    cli: &Cli,
    clock: Box<dyn Clock>,
    origin: Option<&str>,
) -> anyhow::Result<App<SqliteStore>> {
    let path = database_path(cli)?;
    if path.exists() {
        bail!(
            "an installation already exists at {}; refusing to overwrite it",
            path.display()
        );
    }
    let key_path = cli.data_dir.join(SIGNING_KEY_FILE);
    if key_path.exists() {
        bail!(
            "a signing key already exists at {}; refusing to overwrite it",
            key_path.display()
        );
    }
    let origin = origin.map_or_else(
        || format!("purl-ledger/{}", hex::encode(rand::random::<[u8; 8]>())),
        str::to_owned,
    );
    let signer = SignerKey::from_seed(&origin, rand::random())
        .map_err(|e| anyhow::anyhow!("--origin: {e}"))?;
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("while creating {}", folder.display()))?;
    }
    std::fs::create_dir_all(&cli.data_dir)
        .with_context(|| format!("while creating {}", cli.data_dir.display()))?;
    write_private(&key_path, &signer.encode())?;
    let verifier = signer.verifier().encode();
    std::fs::write(
        cli.data_dir.join(VERIFIER_KEY_FILE),
        format!("{verifier}\n"),
    )
    .context("while writing the verifier key")?;
    let store = SqliteStore::create(&path)
        .await
        .with_context(|| format!("while creating {}", path.display()))?;
    store
        .set_setting(VERIFIER_KEY_SETTING, &verifier)
        .await
        .context("while recording the verifier key")?;
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
    app.sign_checkpoint(&signer)
        .await
        .map_err(crate::run::explain)
        .context("while signing the first checkpoint")?;
    Ok(app)
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
