//! The authorisation matrix: every endpoint, as every kind of party, against records of its own and
//! of others, compared with the table below (design §4). List endpoints also show which rows each
//! caller got, so a leaked row is a difference too. The table is reviewed as an insta snapshot.

use reqwest::Method;
use serde_json::{json, Value};

use crate::round::{self, PERIOD};
use crate::support::*;

/// Who calls, in the table's column order (None: the public, no session).
const CALLERS: [(&str, Option<&str>); 7] = [
    ("requester", Some(REQUESTER)),
    ("coordinator", Some(COORDINATOR)),
    ("supplier", Some(SUPPLIER)),
    ("funder", Some(FUNDER)),
    ("other", Some(OTHER)),
    ("auditor", Some(AUDITOR)),
    ("public", None),
];

struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
}

fn case(method: Method, path: impl Into<String>, body: Option<Value>) -> Case {
    Case {
        method,
        path: path.into(),
        body,
    }
}

/// What a list answer held: each row's identity, and `~` for a reduced (summary) row.
fn rows(body: &Value) -> Option<String> {
    if body.get("leaf_hash").is_some() {
        let opened = body.get("opening").is_some();
        return Some(if opened { "opened" } else { "hash only" }.to_owned());
    }
    if let Some(entries) = body.get("entries").and_then(Value::as_array) {
        return Some(format!("{} events", entries.len()));
    }
    let items = body.get("items")?.as_array()?;
    let ids: Vec<String> = items
        .iter()
        .map(|item| {
            let id = [
                "reference",
                "username",
                "id",
                "code",
                "period",
                "number",
                "currency",
            ]
            .iter()
            .find_map(|key| {
                item.get(*key)
                    .map(|v| v.as_str().map_or(v.to_string(), str::to_owned))
            })
            .unwrap_or_else(|| "?".into());
            let reduced = (item.get("number").is_some() && item.get("lines").is_none())
                || item
                    .get("versions")
                    .is_some_and(|v| v[0].get("lines").is_none())
                || (item.get("reference").is_some() && item.get("conditions").is_none());
            if reduced {
                format!("~{id}")
            } else {
                id
            }
        })
        .collect();
    let shown = if ids.len() > 6 || ids.iter().any(|id| id == "?") {
        format!("{} rows", ids.len())
    } else {
        ids.join(",")
    };
    Some(shown)
}

/// The first cell of each row of a CSV download.
fn csv_rows(text: &str) -> String {
    let firsts: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap_or(""))
        .collect();
    if firsts.len() > 6 {
        format!("{} rows", firsts.len())
    } else {
        firsts.join(",")
    }
}

/// The pledges of each row of the contributions report (`~` where the payments are not shown),
/// and what the caller may not see as one sum.
fn contribution_rows(body: &Value) -> Option<String> {
    let rows = body.get("rows")?.as_array()?;
    let mut shown: Vec<String> = rows
        .iter()
        .map(|row| {
            let pledges = row["pledges"]
                .as_array()
                .map(|p| {
                    p.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("+")
                })
                .unwrap_or_default();
            if row["paid"].is_null() {
                format!("~{pledges}")
            } else {
                pledges
            }
        })
        .collect();
    shown.push(format!(
        "undisclosed {}",
        body["not_disclosed_to_reader"].as_str().unwrap_or("?")
    ));
    Some(shown.join(","))
}

/// The pledges an overview shows.
fn overview_rows(body: &Value) -> Option<String> {
    let pledges = body.get("pledges")?.as_array()?;
    Some(
        pledges
            .iter()
            .map(|p| {
                let reference = p["reference"].as_str().unwrap_or("?");
                if p.get("paid").is_some() {
                    reference.to_owned()
                } else {
                    format!("~{reference}")
                }
            })
            .collect::<Vec<_>>()
            .join(","),
    )
}

async fn setup(server: &Server) -> (round::Round, String, String) {
    let round = round::play(server).await;
    server
        .post(
            Some(OTHER),
            "/api/v1/pledges",
            json!({"reference": "DEU-2026-1", "contributors": ["DEU"], "amount": "3000000.00",
                   "currency": "EUR", "announced_on": "2026-11-05", "public": false}),
        )
        .await
        .expect(201);
    server
        .post(
            Some(COORDINATOR),
            "/api/v1/users",
            json!({"username": "nld.spare", "participant": "NLD", "name": "Spare", "roles": ["viewer"]}),
        )
        .await
        .expect(201);
    let state = server.ctx.app.state().await.unwrap();
    let spare = purl_app::auth::actor_of(&state, "nld.spare").unwrap();
    let (token, _) = server
        .ctx
        .app
        .create_token(&spare, "spare", 5, None)
        .await
        .unwrap();
    let payment = state
        .payments
        .values()
        .find(|p| p.pledge.as_str() == "NLD-2026-1")
        .unwrap()
        .id
        .clone();
    (round, token.id, payment)
}

fn cases(round: &round::Round, spare_token: &str, payment: &str) -> Vec<Case> {
    use Method as M;
    let line = &round.line;
    let delivery = &round.delivery;
    let list = format!("/api/v1/lists/{PERIOD}");
    vec![
        // Reads first, on the state the round left.
        case(M::GET, "/api/v1/session", None),
        case(M::GET, "/api/v1/participants", None),
        case(M::GET, "/api/v1/participants/NLD", None),
        case(M::GET, "/api/v1/users", None),
        case(M::GET, "/api/v1/users/nld.mod", None),
        case(M::GET, "/api/v1/users/deu.mod", None),
        case(M::GET, "/api/v1/catalogue", None),
        case(M::GET, "/api/v1/catalogue/PAC3", None),
        case(M::GET, "/api/v1/fx-rates", None),
        case(M::GET, "/api/v1/lists", None),
        case(M::GET, list.clone(), None),
        case(M::GET, format!("{list}/diff?from=1&to=1"), None),
        case(M::GET, "/api/v1/pledges", None),
        case(M::GET, "/api/v1/pledges/NLD-2026-1", None),
        case(M::GET, "/api/v1/pledges/DEU-2026-1", None),
        case(M::GET, "/api/v1/pledges/NORDIC-2026-1", None),
        case(M::GET, "/api/v1/pledges/NOPE-1", None),
        case(M::GET, "/api/v1/payments", None),
        case(M::GET, format!("/api/v1/payments/{payment}"), None),
        case(M::GET, "/api/v1/packages", None),
        case(M::GET, "/api/v1/packages/1", None),
        case(M::GET, "/api/v1/packages/9", None),
        case(M::GET, "/api/v1/deliveries", None),
        case(M::GET, format!("/api/v1/deliveries/{delivery}"), None),
        case(M::GET, "/api/v1/reports/overview?as_of=2026-11-30", None),
        case(
            M::GET,
            "/api/v1/reports/overview?as_of=2026-11-30&format=xlsx",
            None,
        ),
        case(
            M::GET,
            "/api/v1/reports/contributions?as_of=2026-11-30",
            None,
        ),
        case(M::GET, "/api/v1/reports/coverage", None),
        case(
            M::GET,
            "/api/v1/reports/timeline?as_of=2026-11-30&monthly_need=1000000.00",
            None,
        ),
        case(M::GET, "/api/v1/reports/coverage?format=csv", None),
        case(M::GET, "/api/v1/gdp", None),
        case(M::GET, "/api/v1/exports/pledges?format=csv", None),
        case(M::GET, "/api/v1/exports/payments?format=csv", None),
        case(M::GET, "/api/v1/exports/fx?format=csv", None),
        case(M::GET, "/api/v1/exports/gdp", None),
        case(
            M::GET,
            format!("/api/v1/exports/requirements?period={PERIOD}&format=csv"),
            None,
        ),
        case(M::GET, "/api/v1/public/overview?as_of=2026-11-30", None),
        case(M::GET, "/api/v1/public/pledges", None),
        case(M::GET, "/api/v1/tokens", None),
        case(M::GET, "/api/v1/access-log?limit=1", None),
        case(M::GET, "/api/v1/ledger/key", None),
        case(M::GET, "/api/v1/ledger/checkpoints", None),
        case(M::GET, "/api/v1/ledger/checkpoint", None),
        case(M::GET, "/api/v1/ledger/proofs/inclusion?seq=8", None),
        case(M::GET, "/api/v1/ledger/proofs/consistency?from=1", None),
        case(M::GET, "/api/v1/ledger/evidence?participant=NLD", None),
        case(M::GET, "/api/v1/ledger/evidence?participant=DEU", None),
        // Writes that pass authorisation are refused by the rules or change nothing that matters
        // to the rows after them, so each caller meets the same state.
        case(
            M::POST,
            "/api/v1/participants",
            Some(
                json!({"code": "NLD", "name": "Netherlands", "party": "contributor", "ally_since": "1949-04-04"}),
            ),
        ),
        case(
            M::POST,
            "/api/v1/users",
            Some(
                json!({"username": "nld.mod", "participant": "NLD", "name": "x", "roles": ["viewer"]}),
            ),
        ),
        case(
            M::PUT,
            "/api/v1/users/nld.spare/roles",
            Some(json!({"roles": ["viewer"]})),
        ),
        case(M::POST, "/api/v1/users/nld.spare/deactivate", None),
        case(M::POST, "/api/v1/users/nld.spare/activate", None),
        case(M::POST, "/api/v1/users/nld.spare/password-reset", None),
        case(
            M::POST,
            "/api/v1/catalogue",
            Some(
                json!({"code": "PAC3", "name": "x", "category": "air-defence", "lethal": true, "unit_price": "1.00", "lead_time_days": 1}),
            ),
        ),
        case(
            M::POST,
            "/api/v1/catalogue/PAC3/price",
            Some(json!({"unit_price": "4000000.00"})),
        ),
        case(
            M::POST,
            "/api/v1/fx-rates",
            Some(
                json!({"rates": [{"currency": "EUR", "date": "2026-11-02", "usd_per_unit": "1.1", "source": "ECB"}]}),
            ),
        ),
        case(M::POST, "/api/v1/lists", Some(json!({"period": PERIOD}))),
        case(
            M::POST,
            format!("{list}/lines"),
            Some(json!({"item": "IFAK", "quantity": 1, "needed_by": "2027-01-01"})),
        ),
        case(M::POST, format!("{list}/submit"), None),
        case(M::POST, format!("{list}/return"), None),
        case(
            M::POST,
            format!("{list}/approve"),
            Some(json!({"version": 1})),
        ),
        case(M::POST, format!("{list}/versions"), None),
        case(
            M::PATCH,
            format!("{list}/lines/{line}"),
            Some(json!({"quantity": 10})),
        ),
        case(
            M::POST,
            format!("{list}/lines/{line}/move"),
            Some(json!({"rank": 1})),
        ),
        case(
            M::PUT,
            format!("{list}/lines"),
            Some(
                json!({"lines": [{"item": "PAC3", "quantity": 10, "needed_by": "2027-02-01"}, {"item": "IFAK", "quantity": 5000, "needed_by": "2027-02-01"}]}),
            ),
        ),
        case(M::DELETE, format!("{list}/lines/L9999"), None),
        case(
            M::POST,
            "/api/v1/pledges",
            Some(
                json!({"reference": "NLD-2026-1", "contributors": ["NLD"], "amount": "1.00", "currency": "EUR", "announced_on": "2026-11-03"}),
            ),
        ),
        case(M::POST, "/api/v1/pledges/NLD-2026-1/commit", None),
        case(
            M::PUT,
            "/api/v1/pledges/NLD-2026-1/public",
            Some(json!({"public": false})),
        ),
        case(
            M::PUT,
            "/api/v1/pledges/NLD-2026-1/amount",
            Some(json!({"amount": "10000000.00", "currency": "EUR"})),
        ),
        case(M::POST, "/api/v1/pledges/DEU-2026-1/withdraw", None),
        case(
            M::POST,
            "/api/v1/payments",
            Some(
                json!({"pledge": "NORDIC-2026-1", "amount": "99000000.00", "currency": "NOK", "received_on": "2026-11-11"}),
            ),
        ),
        case(
            M::POST,
            "/api/v1/packages/1/lines",
            Some(json!({"period": PERIOD, "line": line, "quantity": 1})),
        ),
        case(
            M::POST,
            "/api/v1/packages/1/contributions",
            Some(json!({"pledge": "NLD-2026-1", "amount": "1.00", "currency": "EUR"})),
        ),
        case(
            M::PUT,
            "/api/v1/packages/1/status",
            Some(json!({"status": "forming"})),
        ),
        case(
            M::POST,
            "/api/v1/deliveries",
            Some(json!({"package": 1, "line": line, "quantity": 1, "shipped_on": "2026-11-21"})),
        ),
        case(
            M::POST,
            format!("/api/v1/deliveries/{delivery}/receipt"),
            Some(json!({"received_on": "2026-11-26", "quantity": 2})),
        ),
        case(
            M::POST,
            "/api/v1/packages",
            Some(json!({"name": "Package 2"})),
        ),
        case(
            M::POST,
            "/api/v1/imports/pledges",
            Some(json!(
                "reference,contributors,amount,currency,announced_on,status\nNLD-2026-1,NLD,5,EUR,2026-11-03,committed\n"
            )),
        ),
        case(M::GET, "/api/v1/allocations/preview", None),
        case(M::POST, "/api/v1/allocations", Some(json!({}))),
        case(M::GET, "/api/v1/allocations", None),
        case(M::GET, "/api/v1/allocations/1", None),
        case(
            M::POST,
            "/api/v1/allocations/1/packages",
            Some(json!({"target_usd": "1000000000.00"})),
        ),
        case(
            M::POST,
            "/api/v1/tokens",
            Some(json!({"name": "matrix", "expires_in_days": 1})),
        ),
        case(M::DELETE, format!("/api/v1/tokens/{spare_token}"), None),
        case(
            M::POST,
            "/api/v1/session/password",
            Some(
                json!({"current_password": "not the password", "new_password": "a new long password"}),
            ),
        ),
        case(
            M::POST,
            "/api/v1/session",
            Some(json!({"username": "nobody", "password": "wrong password!"})),
        ),
        case(M::DELETE, "/api/v1/session", None),
    ]
}

/// Every endpoint the matrix exercises, as (method, concrete path).
pub fn endpoints() -> Vec<(Method, String)> {
    let round = round::Round {
        delivery: "D-1".into(),
        line: "L0001".into(),
    };
    cases(&round, "token-id", "PAY-1")
        .into_iter()
        .map(|case| (case.method, case.path))
        .collect()
}

/// Plays every case as every caller and renders the answers as a table, with the ids that differ
/// from run to run named by `redact`.
async fn matrix(server: &Server, cases: &[Case], redact: &[(&str, &str)]) -> String {
    let hide = |text: String| {
        redact
            .iter()
            .fold(text, |text, (from, to)| text.replace(from, to))
    };
    let mut out = String::new();
    out.push_str(&format!("{:<58}", "endpoint"));
    for (name, _) in CALLERS {
        out.push_str(&format!(" | {name:<11}"));
    }
    out.push('\n');
    for case in cases {
        out.push_str(&format!(
            "{:<58}",
            hide(format!("{} {}", case.method, case.path))
        ));
        let mut listed = Vec::new();
        for (name, user) in CALLERS {
            let reply = server
                .call(
                    user,
                    case.method.clone(),
                    &case.path,
                    case.body.clone(),
                    &[],
                )
                .await;
            assert!(
                reply.json["code"] != "no-route" && reply.json["code"] != "method-not-allowed",
                "{} {} is not routed",
                case.method,
                case.path
            );
            assert!(
                reply.status.as_u16() < 500,
                "{} {} as {name}: {}",
                case.method,
                case.path,
                reply.text
            );
            out.push_str(&format!(" | {:<11}", reply.status.as_u16()));
            let shown = if case.path.contains("format=csv") {
                Some(csv_rows(&reply.text))
            } else if case.path.contains("format=") {
                None
            } else if case.path.contains("overview") {
                overview_rows(&reply.json)
            } else if case.path.contains("contributions") {
                contribution_rows(&reply.json)
            } else {
                rows(&reply.json)
            };
            if let Some(shown) = shown.filter(|_| reply.status.is_success()) {
                listed.push(hide(format!("{name}=[{shown}]")));
            }
        }
        out.push('\n');
        if !listed.is_empty() {
            out.push_str(&format!("    rows: {}\n", listed.join(" ")));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_every_party_as_the_access_matrix_says() {
    let Some(server) = Server::start().await else {
        return;
    };
    let (round, spare_token, payment) = setup(&server).await;
    let cases = cases(&round, &spare_token, &payment);
    let redact = [
        (round.line.as_str(), "<line>"),
        (round.delivery.as_str(), "<delivery>"),
        (payment.as_str(), "<payment>"),
        (spare_token.as_str(), "<token>"),
    ];
    let actual = matrix(&server, &cases, &redact).await;
    // One table for both backends: they must answer alike.
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/snapshots"));
    settings.bind(|| insta::assert_snapshot!("access_matrix", actual));
    server.finish().await;
}
