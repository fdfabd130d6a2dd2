//! A real server on a random port against a fresh database, with one user (and API token) for each
//! kind of party, and a small HTTP client.

use std::collections::BTreeSet;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use purl_app::{App, Clock, WriteOptions};
use purl_core::command::Command;
use purl_core::ids::{Name, ParticipantCode, Username};
use purl_core::participant::{Membership, Party};
use purl_core::user::{Actor, Role};
use purl_server::{AnyStore, Ctx, ServerConfig};
use purl_store::Store as _;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// The parties the tests act as, each with one user.
pub const REQUESTER: &str = "ukr.planner";
pub const COORDINATOR: &str = "nato.cell";
pub const SUPPLIER: &str = "usa.dod";
/// Contributes to the package of the round (NLD).
pub const FUNDER: &str = "nld.mod";
/// A contributor that funds nothing in the round (DEU).
pub const OTHER: &str = "deu.mod";
/// One of the joint pledge's contributors (NOR).
pub const JOINT: &str = "nor.fd";
pub const AUDITOR: &str = "iban.audit";

const USERS: [(&str, &str, &[Role]); 7] = [
    (REQUESTER, "UKR", &[Role::Editor, Role::Approver]),
    (
        COORDINATOR,
        "NATO",
        &[Role::Editor, Role::Approver, Role::Admin],
    ),
    (SUPPLIER, "USA", &[Role::Editor, Role::Approver]),
    (FUNDER, "NLD", &[Role::Editor]),
    (OTHER, "DEU", &[Role::Editor, Role::Admin]),
    (JOINT, "NOR", &[Role::Editor]),
    (AUDITOR, "IBAN", &[Role::Viewer]),
];

/// The password `Server::session` gives a user.
pub const PASSWORD: &str = "a long enough passphrase";

/// A clock the test moves forward (to expire tokens, sessions and lockouts).
#[derive(Clone)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn new() -> Self {
        TestClock(Arc::new(AtomicI64::new(purl_app::SystemClock.now_us())))
    }

    pub fn advance_minutes(&self, minutes: i64) {
        self.0.fetch_add(minutes * 60_000_000, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_us(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

pub enum Backend {
    Sqlite,
    Postgres(String),
}

pub struct Server {
    pub base: String,
    pub client: reqwest::Client,
    pub ctx: Ctx,
    tokens: std::collections::BTreeMap<String, String>,
    _dir: tempfile::TempDir,
    schema: Option<(String, String)>,
}

fn valid<T, E: std::fmt::Debug>(result: Result<T, E>) -> T {
    result.expect("test data is valid")
}

/// The backend this test binary runs the suite on: SQLite, or PostgreSQL when the binary is the
/// PostgreSQL one and `PURL_TEST_POSTGRES_URL` is set (else `None`, with the reason printed).
fn backend() -> Option<Backend> {
    if crate::ON_POSTGRES {
        postgres_url().map(Backend::Postgres)
    } else {
        Some(Backend::Sqlite)
    }
}

impl Server {
    /// A server on this binary's backend, or `None` when that backend is not available here.
    pub async fn start() -> Option<Server> {
        Some(Self::start_on(backend()?).await)
    }

    pub async fn start_with(config: ServerConfig) -> Option<Server> {
        Self::start_clocked(config, TestClock::new()).await
    }

    pub async fn start_clocked(config: ServerConfig, clock: TestClock) -> Option<Server> {
        Some(Self::start_serving(backend()?, config, clock, false).await)
    }

    /// A server on `backend`, whichever backend this binary runs its suite on.
    pub async fn start_on(backend: Backend) -> Server {
        Self::start_serving(backend, ServerConfig::default(), TestClock::new(), false).await
    }

    /// Serves HTTPS with a fresh self-signed certificate for `localhost`, which the client trusts.
    pub async fn start_tls(config: ServerConfig) -> Option<Server> {
        Some(Self::start_serving(backend()?, config, TestClock::new(), true).await)
    }

    async fn start_serving(
        backend: Backend,
        config: ServerConfig,
        clock: TestClock,
        tls: bool,
    ) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, schema) = match backend {
            Backend::Sqlite => {
                let store = purl_store_sqlite::SqliteStore::create(&dir.path().join("purl.sqlite"))
                    .await
                    .expect("sqlite store");
                (AnyStore::Sqlite(store), None)
            }
            Backend::Postgres(url) => {
                let schema = format!("purl_api_{:016x}", rand::random::<u64>());
                let admin = purl_store_postgres::PostgresStore::connect(&url, None)
                    .await
                    .expect("postgres");
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(admin.pool())
                    .await
                    .expect("schema");
                admin.pool().close().await;
                let store = purl_store_postgres::PostgresStore::connect(&url, Some(&schema))
                    .await
                    .expect("postgres store");
                store.migrate().await.expect("migrate");
                (AnyStore::Postgres(store), Some((url, schema)))
            }
        };
        let app = App::new(store, Box::new(clock));
        let mut commands: Vec<Command> = Command::add_reference_participants();
        commands.push(Command::AddParticipant {
            code: valid(ParticipantCode::parse("IBAN")),
            alpha2: None,
            name: valid(Name::parse("International Board of Auditors for NATO")),
            membership: Membership::Organisation,
            party: Party::Auditor,
        });
        for (username, participant, roles) in USERS {
            commands.push(Command::AddUser {
                username: valid(Username::parse(username)),
                participant: valid(ParticipantCode::parse(participant)),
                name: valid(Name::parse(username)),
                roles: roles.iter().copied().collect::<BTreeSet<_>>(),
            });
        }
        let options = WriteOptions {
            request: "test setup".into(),
            ..WriteOptions::default()
        };
        app.execute_all(&Actor::Operator, commands, options)
            .await
            .expect("setup is accepted");
        let state = app.state().await.expect("state");
        let mut tokens = std::collections::BTreeMap::new();
        for (username, _, _) in USERS {
            let actor = purl_app::auth::actor_of(&state, username).expect("user exists");
            let (_, token) = app
                .create_token(&actor, "tests", 30, None)
                .await
                .expect("token");
            let token = token.expect("a new token has its secret");
            tokens.insert(username.to_owned(), token);
        }
        let signer = purl_core::checkpoint::SignerKey::from_seed("purl.test/ledger", [7; 32])
            .expect("a signer");
        app.store()
            .set_setting(
                purl_app::ledger::VERIFIER_KEY_SETTING,
                &signer.verifier().encode(),
            )
            .await
            .expect("verifier key");
        app.sign_checkpoint(&signer)
            .await
            .expect("first checkpoint");
        let ctx = Ctx::new(app, config).with_signer(signer);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("address").port();
        let served = ctx.clone();
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        let (base, client) = if tls {
            let certified = rcgen::generate_simple_self_signed(vec!["localhost".into()])
                .expect("a self-signed certificate");
            let certificate = dir.path().join("cert.pem");
            let key = dir.path().join("key.pem");
            std::fs::write(&certificate, certified.cert.pem()).expect("write cert");
            std::fs::write(&key, certified.key_pair.serialize_pem()).expect("write key");
            tokio::spawn(async move {
                purl_server::serve_tls(listener, &certificate, &key, served).await
            });
            let trusted = reqwest::Certificate::from_pem(certified.cert.pem().as_bytes())
                .expect("certificate");
            let client = client
                .tls_built_in_root_certs(false)
                .add_root_certificate(trusted);
            (format!("https://localhost:{port}"), client)
        } else {
            listener.set_nonblocking(true).expect("non-blocking");
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            tokio::spawn(async move { purl_server::serve(listener, served).await });
            (format!("http://127.0.0.1:{port}"), client)
        };
        Server {
            base,
            client: client.build().expect("client"),
            ctx,
            tokens,
            _dir: dir,
            schema,
        }
    }

    pub fn token(&self, username: &str) -> &str {
        &self.tokens[username]
    }

    /// Sends a request as `user` (None: the public) and returns status, headers and JSON body.
    pub async fn call(
        &self,
        user: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(user) = user {
            request = request.bearer_auth(self.token(user));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        match body {
            // A JSON string is sent as a CSV file.
            Some(Value::String(text)) => {
                request = request.header("content-type", "text/csv").body(text);
            }
            Some(body) => request = request.json(&body),
            None => {}
        }
        Reply::from(request.send().await.expect("the server answers")).await
    }

    pub async fn get(&self, user: Option<&str>, path: &str) -> Reply {
        self.call(user, Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, user: Option<&str>, path: &str, body: Value) -> Reply {
        self.call(user, Method::POST, path, Some(body), &[]).await
    }

    pub async fn put(&self, user: Option<&str>, path: &str, body: Value) -> Reply {
        self.call(user, Method::PUT, path, Some(body), &[]).await
    }

    /// Signs `username` in with a browser session (after giving it the password `PASSWORD`) and
    /// returns the session cookie (`name=value`) and CSRF token.
    pub async fn session(&self, username: &str) -> (String, String) {
        let app = &self.ctx.app;
        let once = app.issue_one_time_password(username).await.expect("a user");
        app.change_password(&self.ctx.config.auth, username, &once, PASSWORD, None)
            .await
            .expect("the password is changed");
        let reply = self
            .post(
                None,
                "/api/v1/session",
                serde_json::json!({"username": username, "password": PASSWORD}),
            )
            .await
            .expect(200);
        let cookie = reply.header("set-cookie").expect("a cookie");
        let cookie = cookie.split(';').next().unwrap_or_default().to_owned();
        let csrf = reply.json["csrf_token"].as_str().unwrap_or_default();
        (cookie, csrf.to_owned())
    }

    /// Drops the PostgreSQL schema the server used, if any.
    pub async fn finish(self) {
        if let Some((url, schema)) = &self.schema {
            let admin = purl_store_postgres::PostgresStore::connect(url, None)
                .await
                .expect("postgres");
            sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
                .execute(admin.pool())
                .await
                .expect("drop schema");
            admin.pool().close().await;
        }
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Reply {
    async fn from(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    /// Asserts the status, showing the body if it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Reply {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The PostgreSQL URL for tests, or None with the reason printed.
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("PURL_TEST_POSTGRES_URL").ok();
    if url.is_none() {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: PURL_TEST_POSTGRES_URL is not set (CI sets it; e.g. postgres://postgres@127.0.0.1:5432/test)"
        );
    }
    url
}
