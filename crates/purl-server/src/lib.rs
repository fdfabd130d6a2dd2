//! `purl serve`: the versioned JSON API (`/api/v1`) over every command and read, with sign-in,
//! need-to-know access enforced by the application layer, RFC 9457 errors, and an OpenAPI document
//! generated from the handlers themselves.

pub mod any_store;
mod api_document;
mod export;
mod hardening;
mod identity;
mod input;
mod pages;
mod problem;
mod routes;
mod write;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use purl_app::auth::AuthSettings;
use purl_app::App;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use crate::any_store::AnyStore;
pub use crate::identity::{CSRF_HEADER, REQUEST_ID_HEADER, SECURE_SESSION_COOKIE, SESSION_COOKIE};
pub use crate::problem::Problem;

pub type ServerApp = App<AnyStore>;

/// How the server behaves; the defaults suit production.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub auth: AuthSettings,
    /// Mark cookies `Secure` (set when serving TLS, or behind a TLS-terminating proxy).
    pub secure_cookies: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    pub request_timeout: Duration,
    /// Sign-in attempts allowed per minute from one address (the socket's peer address, never a
    /// header a client can write). Per account name, `auth` bounds the password checks.
    pub sign_ins_per_minute_per_address: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            auth: AuthSettings::default(),
            secure_cookies: false,
            body_limit: 2 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            sign_ins_per_minute_per_address: 30,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct Ctx {
    pub app: Arc<ServerApp>,
    pub config: Arc<ServerConfig>,
    limits: Arc<SignInLimits>,
    /// The checkpoint signing key, when the server may sign checkpoints.
    signer: Option<Arc<purl_core::checkpoint::SignerKey>>,
    /// When it was last checked whether a checkpoint is due (at most once a second).
    checkpoint_checked: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
}

struct SignInLimits {
    by_address: DefaultKeyedRateLimiter<std::net::IpAddr>,
}

fn per_minute(count: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(count.max(1)).expect("at least one"))
}

impl Ctx {
    pub fn new(app: ServerApp, config: ServerConfig) -> Self {
        let limits = SignInLimits {
            by_address: RateLimiter::keyed(per_minute(config.sign_ins_per_minute_per_address)),
        };
        Self {
            app: Arc::new(app),
            config: Arc::new(config),
            limits: Arc::new(limits),
            signer: None,
            checkpoint_checked: Arc::new(std::sync::Mutex::new(None)),
        }
    }

    /// Lets the server sign checkpoints: after writes, once enough events or time have passed
    /// since the last one (and a background task signs late events when no write comes).
    pub fn with_signer(mut self, signer: purl_core::checkpoint::SignerKey) -> Self {
        self.signer = Some(Arc::new(signer));
        self
    }

    /// Signs a checkpoint if one is due; a failure is logged (the writes are already durable).
    pub(crate) async fn checkpoint_if_due(&self) {
        let Some(signer) = &self.signer else { return };
        {
            let mut checked = self
                .checkpoint_checked
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if checked.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
                return;
            }
            *checked = Some(std::time::Instant::now());
        }
        if let Err(error) = self.app.maybe_checkpoint(signer).await {
            tracing::error!(%error, "a checkpoint was due but could not be signed");
        }
    }

    /// Whether another sign-in attempt from `address` is allowed now.
    pub(crate) fn may_try_sign_in(&self, address: std::net::IpAddr) -> bool {
        self.limits.by_address.check_key(&address).is_ok()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PURL Ledger API",
        description = "The system of record for the Prioritised Ukraine Requirements List. Sign in with a session (cookie + CSRF header) or send a personal API token as `Authorization: Bearer <token>`. Errors are RFC 9457 problem documents.",
    ),
    components(schemas(crate::problem::ApiProblem)),
    modifiers(&SecuritySchemes),
    security(("token" = []), ("session" = []))
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "the browser session; named `__Host-purl_session` when the server marks cookies Secure (TLS)",
            ))),
        );
    }
}

/// The API's routes and the OpenAPI document describing exactly those routes.
pub fn api(ctx: Ctx) -> (Router, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", routes::all())
        .split_for_parts();
    api_document::complete(&mut doc);
    (router.with_state(ctx), doc)
}

/// The whole service: the API (its OpenAPI document among its routes) and the hardening layers
/// around it.
pub fn router(ctx: Ctx) -> Router {
    let (api, doc) = api(ctx.clone());
    let _ = routes::DOCUMENT.set(doc);
    let pages = pages::router().with_state(ctx.clone());
    hardening::wrap(api.merge(pages), ctx)
}

/// Signs due checkpoints every minute, so events written just before a quiet spell get signed.
fn sign_checkpoints_in_the_background(ctx: &Ctx) {
    if ctx.signer.is_none() {
        return;
    }
    let ctx = ctx.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            ctx.checkpoint_if_due().await;
        }
    });
}

/// How long a stopping server waits for the requests in flight (a write not yet committed is
/// not acknowledged, so none is lost by stopping without it).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight, for 30 s at most.
pub async fn serve(listener: tokio::net::TcpListener, ctx: Ctx) -> std::io::Result<()> {
    sign_checkpoints_in_the_background(&ctx);
    let service = router(ctx).into_make_service_with_connect_info::<SocketAddr>();
    let signalled = std::sync::Arc::new(tokio::sync::Notify::new());
    let stopping = signalled.clone();
    let serving = axum::serve(listener, service).with_graceful_shutdown(async move {
        shutdown_signal().await;
        stopping.notify_one();
    });
    tokio::select! {
        served = serving => served,
        () = async {
            signalled.notified().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!("requests still in flight after {} s: stopping without them", SHUTDOWN_GRACE.as_secs());
            Ok(())
        }
    }
}

/// Serves HTTPS with the certificate chain and key in PEM files, until Ctrl-C or SIGTERM.
pub async fn serve_tls(
    listener: std::net::TcpListener,
    certificate: &std::path::Path,
    key: &std::path::Path,
    ctx: Ctx,
) -> std::io::Result<()> {
    sign_checkpoints_in_the_background(&ctx);
    // Several servers in one process (tests) install the same provider; the first one wins.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(certificate, key).await?;
    let handle = axum_server::Handle::new();
    let stopping = handle.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stopping.graceful_shutdown(Some(SHUTDOWN_GRACE));
    });
    listener.set_nonblocking(true)?;
    axum_server::from_tcp_rustls(listener, tls)
        .handle(handle)
        .serve(router(ctx).into_make_service_with_connect_info::<SocketAddr>())
        .await
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
