//! What each fuzz target of `fuzz/` runs on one input, so `cargo fuzz` and the replay of the
//! committed corpus in `cargo test` run the same code. Each function accepts any bytes: it may
//! refuse them, it must never panic, and it checks what must hold of whatever it accepted.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Method, Request};
use purl_app::import::{check_file, ImportKind, Source};
use purl_app::ledger::{decode_hashes, ConsistencyProof, InclusionProof};
use purl_app::{App, FixedClock, WriteOptions};
use purl_core::checkpoint::{Checkpoint, SignerKey, VerifierKey};
use purl_core::command::{decide, Command, Context};
use purl_core::event::Event;
use purl_core::evidence::{verify_bundle, EvidenceBundle};
use purl_core::ids::{Name, ParticipantCode, Period, Username};
use purl_core::merkle::{self, Hash};
use purl_core::state::State;
use purl_core::user::{Actor, Role};
use tower::ServiceExt as _;

/// The name and seed of the key the corpus's checkpoints and bundles are signed with.
pub const KEY_NAME: &str = "purl.fuzz/ledger";
pub const KEY_SEED: [u8; 32] = [7; 32];
/// The period of the list requirement imports go to.
pub const PERIOD: &str = "2027-03";

/// 2026-11-30, the day the fuzzed installation lives on.
pub const NOW_US: i64 = 1_764_460_800_000_000;

pub fn signer() -> SignerKey {
    SignerKey::from_seed(KEY_NAME, KEY_SEED).expect("a valid key name")
}

/// What a fuzz target runs on one input.
pub type Target = fn(&[u8]);

/// The fuzz targets, by the name of their corpus folder.
pub const TARGETS: [(&str, Target); 5] = [
    ("import", import),
    ("checkpoint", checkpoint),
    ("proof", proof),
    ("evidence", evidence),
    ("json_body", json_body),
];

/// The kinds of import, each as CSV and as XLSX: the first byte chooses one, the rest is the file.
pub fn import(data: &[u8]) {
    let Some((kind, source)) = import_input(data) else {
        return;
    };
    match check_file(kind, &source, world(), "fuzz") {
        Ok(_) => {}
        Err(problems) => assert!(!problems.is_empty(), "a refusal says why"),
    }
}

/// The import an input stands for: its first byte picks the kind and the format (CSV or XLSX),
/// the rest is the file.
pub fn import_input(data: &[u8]) -> Option<(ImportKind, Source<'_>)> {
    let (&choice, file) = data.split_first()?;
    let kinds = [
        ImportKind::Pledges,
        ImportKind::Payments,
        ImportKind::Fx,
        ImportKind::Gdp,
        ImportKind::Requirements {
            period: Period::parse(PERIOD).expect("a valid period"),
        },
    ];
    let kind = kinds[usize::from(choice) % kinds.len()];
    let source = if choice / 5 % 2 == 0 {
        Source::Csv(file)
    } else {
        Source::Xlsx {
            bytes: file,
            sheet: None,
        }
    };
    Some((kind, source))
}

/// The checkpoint note parser and the signed-note keys: a key (before the first NUL) and a note
/// (after it), opened with the corpus key; anything opened must say what was signed.
pub fn checkpoint(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (key, note) = text.split_once('\0').unwrap_or(("", &text));
    let _ = VerifierKey::parse(key);
    let _ = SignerKey::parse(key);
    let _ = Checkpoint::parse_text(note);
    let verifier = signer().verifier();
    if let Ok(opened) = verifier.open(note) {
        assert!(
            note.starts_with(&opened.text()),
            "what was opened is what was signed"
        );
    }
}

/// Proof decoding and checking: an inclusion or a consistency proof (JSON, as handed out) against
/// the roots of a small tree; a proof that checks must be the true one.
pub fn proof(data: &[u8]) {
    let leaves: Vec<Hash> = (0u8..16).map(|n| merkle::hash_leaf(&[n])).collect();
    let root = |size: u64| merkle::root_of(&leaves[..usize::try_from(size.min(16)).unwrap_or(16)]);
    if let Ok(proof) = serde_json::from_slice::<ConsistencyProof>(data) {
        if let Ok(hashes) = decode_hashes(&proof.proof) {
            let checks = merkle::verify_consistency(
                proof.old_size,
                proof.new_size,
                &root(proof.old_size),
                &root(proof.new_size),
                &hashes,
            );
            if checks.is_ok() && proof.new_size <= 16 && proof.old_size > 0 {
                assert_eq!(
                    hashes,
                    merkle::consistency_proof(proof.old_size, proof.new_size, &|id| {
                        node(&leaves, id)
                    }),
                    "only the true consistency proof checks"
                );
            }
        }
    }
    if let Ok(proof) = serde_json::from_slice::<InclusionProof>(data) {
        if let Ok(hashes) = decode_hashes(&proof.proof) {
            let leaf = leaves[usize::try_from(proof.leaf_index % 16).unwrap_or(0)];
            let checks = merkle::verify_inclusion(
                &leaf,
                proof.leaf_index,
                proof.tree_size,
                &hashes,
                &root(proof.tree_size),
            );
            if checks.is_ok() && proof.tree_size <= 16 {
                assert!(
                    proof.leaf_index < proof.tree_size,
                    "an included leaf is in the tree"
                );
            }
        }
    }
}

/// The hash of a complete subtree of `leaves`.
fn node(leaves: &[Hash], id: merkle::NodeId) -> Hash {
    let width = 1usize << id.level;
    let start = usize::try_from(id.index).unwrap_or(0) * width;
    merkle::root_of(&leaves[start..start + width])
}

/// Evidence bundle decoding and checking with the corpus key: every event of an accepted bundle
/// decodes and lies inside the checkpoint's tree.
pub fn evidence(data: &[u8]) {
    let Ok(bundle) = serde_json::from_slice::<EvidenceBundle>(data) else {
        return;
    };
    if let Ok((checkpoint, events)) = verify_bundle(&bundle, &signer().verifier()) {
        assert_eq!(events.len(), bundle.entries.len());
        for event in &events {
            assert!(
                event.seq >= 1 && event.seq <= checkpoint.size,
                "{}",
                event.seq
            );
        }
    }
}

/// A JSON request body sent to a writing operation of the API (the first byte chooses which) by a
/// signed-in coordinator, through the whole service: it may be refused, never with a 5xx.
pub fn json_body(data: &[u8]) {
    let Some((&choice, body)) = data.split_first() else {
        return;
    };
    let service = service();
    let (method, path) = &service.operations[usize::from(choice) % service.operations.len()];
    let request = Request::builder()
        .method(method.clone())
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {}", service.token))
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))))
        .body(Body::from(body.to_vec()))
        .expect("a request");
    let status = service.runtime.block_on(async {
        let response = service
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        response.status()
    });
    assert!(
        !status.is_server_error(),
        "{method} {path} answered {status} to {}",
        String::from_utf8_lossy(body)
    );
}

/// A small installation's state: the reference participants, an item, a list, rates and a
/// pledge, so imports get past the first checks.
fn world() -> &'static State {
    static WORLD: OnceLock<State> = OnceLock::new();
    WORLD.get_or_init(|| {
        let mut state = State::default();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("a date");
        let mut all = Command::add_reference_participants();
        all.extend(seed_commands());
        for command in all {
            let context = Context {
                actor: &Actor::Operator,
                today,
            };
            for payload in decide(&state, &context, &command, None).expect("seed commands apply") {
                let event = Event::new(state.head + 1, 0, "operator".into(), payload);
                state.apply(&event).expect("decided events apply");
            }
        }
        state
    })
}

fn seed_commands() -> Vec<Command> {
    use purl_core::command::NewPledge;
    use purl_core::fx::FxRate;
    use purl_core::ids::{Category, ItemCode, Reference, Text};
    use purl_core::money::{Currency, Money, Ratio};
    use purl_core::pledge::{Earmark, PledgeStatus};
    let eur = Currency::parse("EUR").expect("EUR");
    let usd = Currency::parse("USD").expect("USD");
    let date = |text: &str| chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date");
    vec![
        Command::AddItem {
            code: ItemCode::parse("IFAK").expect("a code"),
            name: Name::parse("First aid kit").expect("a name"),
            category: Category::parse("medical").expect("a category"),
            lethal: false,
            unit_price: Money::parse("150.00", usd).expect("money"),
            lead_time_days: 30,
        },
        Command::CreateList {
            period: Period::parse(PERIOD).expect("a period"),
        },
        Command::RecordRates {
            rates: vec![FxRate {
                currency: eur,
                date: date("2026-11-02"),
                usd_per_unit: Ratio::parse_decimal("1.08").expect("a rate"),
                source: "fuzz".into(),
            }],
        },
        Command::RecordPledge {
            pledge: NewPledge {
                reference: Reference::parse("NLD-1").expect("a reference"),
                contributors: vec![ParticipantCode::parse("NLD").expect("NLD")],
                amount: Some(Money::parse("1000000.00", eur).expect("money")),
                currency: Some(eur),
                announced_on: date("2026-11-01"),
                status: PledgeStatus::Committed,
                part_of: None,
                earmark: Earmark::default(),
                conditions: Text::default(),
                public: true,
                note: Text::default(),
            },
        },
    ]
}

/// The whole service on SQLite in a temporary folder, with a coordinator's API token and every
/// writing operation of its OpenAPI document.
struct Service {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    token: String,
    operations: Vec<(Method, String)>,
    _folder: tempfile::TempDir,
}

fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let folder = tempfile::tempdir().expect("a temporary folder");
        let (router, token, operations) = runtime.block_on(async {
            let store = purl_store_sqlite::SqliteStore::create(&folder.path().join("fuzz.sqlite"))
                .await
                .expect("a store");
            let app = App::new(
                purl_server::AnyStore::Sqlite(store),
                Box::new(FixedClock(NOW_US)),
            );
            let mut commands = Command::add_reference_participants();
            commands.extend(seed_commands());
            commands.push(Command::AddUser {
                username: Username::parse("nato.cell").expect("a user name"),
                participant: ParticipantCode::parse("NATO").expect("NATO"),
                name: Name::parse("Coordinator").expect("a name"),
                roles: [Role::Editor, Role::Approver, Role::Admin]
                    .into_iter()
                    .collect::<BTreeSet<_>>(),
            });
            app.execute_all(&Actor::Operator, commands, WriteOptions::default())
                .await
                .expect("the seed is accepted");
            let state = app.state().await.expect("the state");
            let actor = purl_app::auth::actor_of(&state, "nato.cell").expect("the coordinator");
            let (_, token) = app
                .create_token(&actor, "fuzz", 30, None)
                .await
                .expect("a token");
            let ctx = purl_server::Ctx::new(app, purl_server::ServerConfig::default())
                .with_signer(signer());
            let (_, document) = purl_server::api(ctx.clone());
            let operations = writing_operations(&document);
            (
                purl_server::router(ctx),
                token.expect("a new token"),
                operations,
            )
        });
        Service {
            runtime,
            router,
            token,
            operations,
            _folder: folder,
        }
    })
}

/// Every operation that takes a body, its path parameters filled with a value that may or may not
/// name a record.
fn writing_operations(document: &utoipa::openapi::OpenApi) -> Vec<(Method, String)> {
    let mut operations = Vec::new();
    for (path, item) in &document.paths.paths {
        let path = fill_parameters(path);
        for (method, operation) in [
            (Method::POST, &item.post),
            (Method::PUT, &item.put),
            (Method::PATCH, &item.patch),
        ] {
            if operation.is_some() {
                operations.push((method, path.clone()));
            }
        }
    }
    operations
}

fn fill_parameters(path: &str) -> String {
    path.split('/')
        .map(|part| {
            if part.starts_with('{') {
                match part {
                    "{period}" => PERIOD,
                    "{reference}" => "NLD-1",
                    "{code}" => "IFAK",
                    _ => "1",
                }
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
