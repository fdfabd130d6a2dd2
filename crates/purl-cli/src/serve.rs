//! `purl serve`: opens the installation and serves the API until Ctrl-C or SIGTERM.

use anyhow::Context as _;
use purl_app::{App, SystemClock};
use purl_server::{AnyStore, Ctx, ServerConfig};

use crate::cli::{Cli, ServeArgs};
use crate::install;

pub async fn serve(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let store = match install::open(cli).await? {
        install::Opened::Sqlite(app) => AnyStore::Sqlite(app.into_store()),
        install::Opened::Postgres(app) => {
            let store = app.into_store();
            let problems = store.durability_problems().await?;
            if !problems.is_empty() {
                anyhow::bail!(
                    "refusing to serve: this PostgreSQL server could lose acknowledged writes in a crash ({}); turn these settings on",
                    problems.join(", ")
                );
            }
            AnyStore::Postgres(store)
        }
    };
    let tls = args.tls_cert.as_ref().zip(args.tls_key.as_ref());
    let config = ServerConfig {
        secure_cookies: args.secure_cookies || tls.is_some(),
        ..ServerConfig::default()
    };
    let mut ctx = Ctx::new(App::new(store, Box::new(SystemClock)), config);
    match install::signer(cli) {
        Ok(signer) => ctx = ctx.with_signer(signer),
        Err(error) => {
            tracing::warn!("serving without signing checkpoints: {error:#}");
        }
    }
    let listener = std::net::TcpListener::bind(args.bind)
        .with_context(|| format!("while binding {}", args.bind))?;
    let address = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    say!("serving PURL Ledger at {scheme}://{address}/api/v1 (OpenAPI document: /api/v1/openapi.json)");
    tracing::info!(%address, scheme, "listening");
    match tls {
        Some((certificate, key)) => purl_server::serve_tls(listener, certificate, key, ctx)
            .await
            .with_context(|| {
                format!(
                    "while serving TLS with {} and {}",
                    certificate.display(),
                    key.display()
                )
            }),
        None => {
            listener.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(listener)?;
            purl_server::serve(listener, ctx)
                .await
                .context("while serving")
        }
    }
}
