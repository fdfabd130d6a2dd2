//! `purl serve`: opens the installation and serves the API until Ctrl-C or SIGTERM.

use anyhow::Context as _;
use purl_app::{App, SystemClock};
use purl_server::{AnyStore, Ctx, ServerConfig};

use crate::cli::{Cli, ServeArgs};
use crate::install;

pub async fn serve(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let store = match install::open(cli).await? {
        install::Opened::Sqlite(app) => AnyStore::Sqlite(app.into_store()),
        install::Opened::Postgres(app) => AnyStore::Postgres(app.into_store()),
    };
    let config = ServerConfig {
        secure_cookies: args.secure_cookies,
        ..ServerConfig::default()
    };
    let ctx = Ctx::new(App::new(store, Box::new(SystemClock)), config);
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("while binding {}", args.bind))?;
    let address = listener.local_addr()?;
    say!("serving PURL Ledger at http://{address}/api/v1 (OpenAPI document: /api/v1/openapi.json)");
    tracing::info!(%address, "listening");
    purl_server::serve(listener, ctx)
        .await
        .context("while serving")
}
