//! Canary leaks (item 5): every confidential text and every per-contributor amount of a test
//! installation holds a unique marker; everything each party can reach is crawled (every GET of
//! the OpenAPI document with every known id and query value, every page reached by links, the
//! CSV, XLSX and JSON exports, evidence bundles and proofs with their base64 decoded, error bodies
//! and headers), and no marker may reach a party that the access matrix does not entitle to it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Read as _;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::measure::Run;
use crate::server::{Server, AUDITOR, COORDINATOR, FUNDER, JOINT, OTHER, REQUESTER, SUPPLIER};

const PERIOD: &str = "2026-12";
/// The public, as a party.
const PUBLIC: &str = "public";
const PARTIES: [&str; 8] = [
    REQUESTER,
    COORDINATOR,
    SUPPLIER,
    FUNDER,
    OTHER,
    JOINT,
    AUDITOR,
    PUBLIC,
];

/// A marker and the parties entitled to see it.
struct Canary {
    marker: &'static str,
    what: &'static str,
    entitled: &'static [&'static str],
}

/// Amounts are markers too: written so that no total or conversion of the installation can
/// produce them by chance, and searched for with digit separators removed.
const CANARIES: &[Canary] = &[
    Canary {
        marker: "CANARY-NLD-COND",
        what: "conditions of NLD's non-public pledge",
        entitled: &[FUNDER, COORDINATOR],
    },
    Canary {
        marker: "CANARY-NLD-NOTE",
        what: "note of NLD's non-public pledge",
        entitled: &[FUNDER, COORDINATOR],
    },
    Canary {
        marker: "7351113.37",
        what: "amount of NLD's non-public pledge",
        entitled: &[FUNDER, COORDINATOR],
    },
    Canary {
        marker: "CANARY-DEU-COND",
        what: "conditions of DEU's non-public pledge",
        entitled: &[OTHER, COORDINATOR],
    },
    Canary {
        marker: "4826195.53",
        what: "amount of DEU's non-public pledge",
        entitled: &[OTHER, COORDINATOR],
    },
    Canary {
        marker: "CANARY-NLD-PAY",
        what: "note of a payment against NLD's pledge",
        entitled: &[FUNDER, COORDINATOR],
    },
    Canary {
        marker: "2093847.61",
        what: "amount of a payment against NLD's pledge",
        entitled: &[FUNDER, COORDINATOR],
    },
    Canary {
        marker: "1938274.65",
        what: "amount of a payment against DEU's pledge",
        entitled: &[OTHER, COORDINATOR],
    },
    Canary {
        marker: "1357913.57",
        what: "NLD's contribution to package 1",
        entitled: &[FUNDER, COORDINATOR],
    },
    Canary {
        marker: "2468013.59",
        what: "DEU's contribution to package 2",
        entitled: &[OTHER, COORDINATOR],
    },
    Canary {
        marker: "CANARY-JUST-NLD",
        what: "justification of the line in the package NLD funds",
        entitled: &[REQUESTER, COORDINATOR, SUPPLIER, FUNDER],
    },
    Canary {
        marker: "CANARY-JUST-DEU",
        what: "justification of the line in the package DEU funds",
        entitled: &[REQUESTER, COORDINATOR, SUPPLIER, OTHER],
    },
    Canary {
        marker: "CANARY-JUST-NONE",
        what: "justification of a line no package holds",
        entitled: &[REQUESTER, COORDINATOR, SUPPLIER],
    },
    Canary {
        marker: "CANARY-PKG-NLD",
        what: "name of the package NLD funds",
        entitled: &[REQUESTER, COORDINATOR, SUPPLIER, FUNDER],
    },
    Canary {
        marker: "CANARY-PKG-DEU",
        what: "name of the package DEU funds",
        entitled: &[REQUESTER, COORDINATOR, SUPPLIER, OTHER],
    },
];

/// Ids the crawl fills path and query parameters with, by parameter name.
type Values = BTreeMap<&'static str, Vec<String>>;

/// Builds the installation through the API, each step by the party whose job it is; returns the
/// ids it made.
async fn install(server: &Server) -> Values {
    let s = server;
    for (code, category, lethal) in [
        ("CNRY-A", "air-defence", true),
        ("CNRY-B", "medical", false),
        ("CNRY-C", "drones", true),
    ] {
        s.post(
            Some(SUPPLIER),
            "/api/v1/catalogue",
            json!({"code": code, "name": format!("Item {code}"), "category": category,
                   "lethal": lethal, "unit_price": "1000.00", "lead_time_days": 90}),
        )
        .await
        .expect(201);
    }
    s.post(Some(REQUESTER), "/api/v1/lists", json!({"period": PERIOD}))
        .await
        .expect(201);
    for (item, justification) in [
        ("CNRY-A", "CANARY-JUST-NLD"),
        ("CNRY-B", "CANARY-JUST-DEU"),
        ("CNRY-C", "CANARY-JUST-NONE"),
    ] {
        s.post(
            Some(REQUESTER),
            &format!("/api/v1/lists/{PERIOD}/lines"),
            json!({"item": item, "quantity": 10, "needed_by": "2027-02-01",
                   "justification": justification}),
        )
        .await
        .expect(200);
    }
    s.post(
        Some(REQUESTER),
        &format!("/api/v1/lists/{PERIOD}/submit"),
        json!({}),
    )
    .await
    .expect(200);
    for party in [REQUESTER, COORDINATOR, SUPPLIER] {
        s.post(
            Some(party),
            &format!("/api/v1/lists/{PERIOD}/approve"),
            json!({"version": 1}),
        )
        .await
        .expect(200);
    }
    let list = s
        .get(Some(COORDINATOR), &format!("/api/v1/lists/{PERIOD}"))
        .await
        .expect(200);
    let lines: Vec<String> = list.json["versions"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|line| line["id"].as_str().unwrap().to_owned())
        .collect();
    s.post(
        Some(COORDINATOR),
        "/api/v1/fx-rates",
        json!({"rates": [
            {"currency": "EUR", "date": "2026-11-02", "usd_per_unit": "1.1", "source": "ECB"},
            {"currency": "NOK", "date": "2026-11-02", "usd_per_unit": "0.1", "source": "ECB"}]}),
    )
    .await
    .expect(200);
    for (user, reference, contributor, amount, conditions, note) in [
        (
            FUNDER,
            "NLD-SECRET",
            "NLD",
            "7351113.37",
            "CANARY-NLD-COND",
            "CANARY-NLD-NOTE",
        ),
        (
            OTHER,
            "DEU-SECRET",
            "DEU",
            "4826195.53",
            "CANARY-DEU-COND",
            "",
        ),
    ] {
        s.post(
            Some(user),
            "/api/v1/pledges",
            json!({"reference": reference, "contributors": [contributor], "amount": amount,
                   "currency": "EUR", "announced_on": "2026-11-03", "status": "committed",
                   "conditions": conditions, "note": note, "public": false}),
        )
        .await
        .expect(201);
    }
    s.post(
        Some(JOINT),
        "/api/v1/pledges",
        json!({"reference": "NORDIC-PUBLIC", "contributors": ["DNK", "NOR", "SWE"],
               "amount": "50000000.00", "currency": "NOK", "announced_on": "2026-11-04",
               "status": "committed", "public": true}),
    )
    .await
    .expect(201);
    for (pledge, amount, note) in [
        ("NLD-SECRET", "2093847.61", "CANARY-NLD-PAY"),
        ("DEU-SECRET", "1938274.65", ""),
    ] {
        s.post(
            Some(COORDINATOR),
            "/api/v1/payments",
            json!({"pledge": pledge, "amount": amount, "currency": "EUR",
                   "received_on": "2026-11-10", "note": note}),
        )
        .await
        .expect(200);
    }
    for (number, name, line, pledge, amount) in [
        (1, "CANARY-PKG-NLD", &lines[0], "NLD-SECRET", "1357913.57"),
        (2, "CANARY-PKG-DEU", &lines[1], "DEU-SECRET", "2468013.59"),
    ] {
        s.post(Some(COORDINATOR), "/api/v1/packages", json!({"name": name}))
            .await
            .expect(200);
        s.post(
            Some(COORDINATOR),
            &format!("/api/v1/packages/{number}/lines"),
            json!({"period": PERIOD, "line": line, "quantity": 1}),
        )
        .await
        .expect(200);
        s.post(
            Some(COORDINATOR),
            &format!("/api/v1/packages/{number}/contributions"),
            json!({"pledge": pledge, "amount": amount, "currency": "EUR"}),
        )
        .await
        .expect(200);
    }
    for status in ["funded", "released"] {
        s.put(
            Some(COORDINATOR),
            "/api/v1/packages/1/status",
            json!({"status": status}),
        )
        .await
        .expect(200);
    }
    s.put(
        Some(SUPPLIER),
        "/api/v1/packages/1/status",
        json!({"status": "contracted"}),
    )
    .await
    .expect(200);
    s.post(
        Some(SUPPLIER),
        "/api/v1/deliveries",
        json!({"package": 1, "line": &lines[0], "quantity": 1, "shipped_on": "2026-11-20"}),
    )
    .await
    .expect(200);
    // A checkpoint over everything, so proofs and evidence cover every record.
    let signer = purl_core::checkpoint::SignerKey::from_seed("purl.test/ledger", [7; 32]).unwrap();
    server.ctx.app.sign_checkpoint(&signer).await.unwrap();

    let ids = |path: &'static str, field: &'static str| async move {
        let reply = s.get(Some(COORDINATOR), path).await.expect(200);
        reply.json["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|item| item[field].as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let head = server.ctx.app.state().await.unwrap().head;
    let participants: Vec<String> = [
        "UKR", "NATO", "USA", "NLD", "DEU", "NOR", "DNK", "SWE", "IBAN",
    ]
    .map(String::from)
    .to_vec();
    let mut values = Values::new();
    let strings = |list: &[&str]| list.iter().map(|v| (*v).to_owned()).collect::<Vec<_>>();
    values.insert(
        "reference",
        strings(&["NLD-SECRET", "DEU-SECRET", "NORDIC-PUBLIC"]),
    );
    values.insert("pledge", strings(&["NLD-SECRET", "DEU-SECRET"]));
    values.insert("period", strings(&[PERIOD]));
    values.insert("number", strings(&["1", "2"]));
    values.insert("package", strings(&["1", "2"]));
    values.insert("code", {
        let mut codes = strings(&["CNRY-A", "CNRY-B", "CNRY-C"]);
        codes.extend(participants.clone());
        codes
    });
    values.insert("participant", participants);
    values.insert("line", lines);
    values.insert("id", {
        let mut found = ids("/api/v1/payments", "id").await;
        found.extend(ids("/api/v1/deliveries", "id").await);
        found
    });
    values.insert(
        "username",
        strings(&[
            REQUESTER,
            COORDINATOR,
            SUPPLIER,
            FUNDER,
            OTHER,
            JOINT,
            AUDITOR,
        ]),
    );
    values.insert(
        "kind",
        strings(&["pledges", "payments", "fx", "gdp", "requirements"]),
    );
    values.insert("format", strings(&["xlsx", "csv", "json"]));
    values.insert("seq", (1..=head).map(|seq| seq.to_string()).collect());
    values.insert("size", vec![head.to_string()]);
    values.insert("currency", strings(&["EUR", "USD"]));
    values
}

/// Every GET of the OpenAPI document, with path parameters filled with every known value, and
/// without a query, with each query parameter alone and with each next to `format=xlsx`.
fn requests(document: &Value, values: &Values) -> Vec<String> {
    let mut urls = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let Some(operation) = item.get("get") else {
            continue;
        };
        let parameters: Vec<(String, String)> = operation["parameters"]
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|p| {
                        (
                            p["name"].as_str().unwrap_or("").to_owned(),
                            p["in"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut paths = vec![format!("/api/v1{path}")];
        for (name, place) in &parameters {
            if place != "path" {
                continue;
            }
            let fill = values
                .get(name.as_str())
                .cloned()
                .unwrap_or_else(|| vec!["1".into()]);
            paths = paths
                .iter()
                .flat_map(|p| {
                    fill.iter()
                        .map(move |value| p.replace(&format!("{{{name}}}"), value))
                })
                .collect();
        }
        for path in paths {
            urls.insert(path.clone());
            for (name, place) in &parameters {
                if place != "query" {
                    continue;
                }
                for value in values.get(name.as_str()).cloned().unwrap_or_default() {
                    urls.insert(format!("{path}?{name}={value}"));
                    urls.insert(format!("{path}?{name}={value}&format=xlsx"));
                }
            }
        }
    }
    urls.into_iter().collect()
}

/// Everything a response shows its reader, as text: status, headers and body; a workbook's every
/// part unpacked; in JSON, every string that is base64 also decoded.
fn readable(status: u16, headers: &reqwest::header::HeaderMap, body: &[u8]) -> String {
    let mut text = format!("{status}\n");
    for (name, value) in headers {
        text.push_str(&format!(
            "{name}: {}\n",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    if body.starts_with(b"PK\x03\x04") {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(body)).unwrap();
        for index in 0..archive.len() {
            let mut part = archive.by_index(index).unwrap();
            let mut bytes = Vec::new();
            part.read_to_end(&mut bytes).unwrap();
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    } else {
        text.push_str(&String::from_utf8_lossy(body));
        if let Ok(json) = serde_json::from_slice::<Value>(body) {
            decode_base64_strings(&json, &mut text);
        }
    }
    text
}

fn decode_base64_strings(value: &Value, text: &mut String) {
    match value {
        Value::String(s) if s.len() >= 16 => {
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(s) {
                text.push('\n');
                text.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
        Value::Array(items) => items.iter().for_each(|v| decode_base64_strings(v, text)),
        Value::Object(members) => members
            .values()
            .for_each(|v| decode_base64_strings(v, text)),
        _ => {}
    }
}

/// The text with digit group separators removed, so `7,351,113.37` reads `7351113.37`.
fn without_separators(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    chars
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            let separator = matches!(c, ',' | ' ' | '\u{a0}' | '\u{202f}' | '\'' | '_');
            let between_digits = *i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(char::is_ascii_digit);
            !(separator && between_digits)
        })
        .map(|(_, c)| *c)
        .collect()
}

/// The links of a page that stay on the site.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with('/') && !href.starts_with("//"))
        .map(|href| href.replace("&amp;", "&"))
        .collect()
}

/// What one party read: by URL, the readable text.
struct Crawl {
    responses: usize,
    seen: Vec<(String, String)>,
}

async fn crawl(server: &Server, party: &str, api: &[String]) -> Crawl {
    let user = (party != PUBLIC).then_some(party);
    let cookie = match user {
        Some(user) => Some(server.session(user).await.0),
        None => None,
    };
    let fetch = |url: String, as_page: bool| {
        let mut request = server.client.get(format!("{}{url}", server.base));
        if let (Some(user), false) = (user, as_page) {
            request = request.bearer_auth(server.token(user));
        }
        if let (Some(cookie), true) = (&cookie, as_page) {
            request = request.header("cookie", cookie.as_str());
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let html = headers
                .get("content-type")
                .is_some_and(|t| t.to_str().unwrap_or("").starts_with("text/html"));
            let body = response.bytes().await.unwrap();
            (readable(status, &headers, &body), html)
        }
    };
    let mut seen = Vec::new();
    for url in api {
        let (text, _) = fetch(url.clone(), false).await;
        seen.push((url.clone(), text));
    }
    let mut visited = BTreeSet::new();
    let mut queue: VecDeque<String> = ["/", "/home", "/overview", "/sign-in"]
        .map(String::from)
        .into();
    while let Some(path) = queue.pop_front() {
        if visited.len() >= 800 || path.starts_with("/sign-out") || !visited.insert(path.clone()) {
            continue;
        }
        let (text, html) = fetch(path.clone(), true).await;
        if html {
            queue.extend(links(&text));
        }
        seen.push((format!("page {path}"), text));
    }
    Crawl {
        responses: seen.len(),
        seen,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_marker_reaches_a_party_not_entitled_to_it() {
    let run = Run::start("canary_leaks").await;
    let server = Server::start().await.unwrap();
    let values = install(&server).await;
    let document = server
        .get(None, "/api/v1/openapi.json")
        .await
        .expect(200)
        .json;
    let api = requests(&document, &values);
    let mut leaks = Vec::new();
    let mut responses = 0;
    let mut found_by: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for party in PARTIES {
        let crawl = crawl(&server, party, &api).await;
        responses += crawl.responses;
        for (url, text) in &crawl.seen {
            let text = without_separators(text);
            for canary in CANARIES {
                if !text.contains(canary.marker) {
                    continue;
                }
                found_by.entry(canary.marker).or_default().insert(party);
                if !canary.entitled.contains(&party) {
                    leaks.push(format!(
                        "{} ({}) reached {party} at {url}",
                        canary.marker, canary.what
                    ));
                }
            }
        }
    }
    for canary in CANARIES {
        let found = found_by.get(canary.marker).cloned().unwrap_or_default();
        assert!(
            found.contains(COORDINATOR),
            "the coordinator sees every record: {} ({}) was not found; the crawl misses it",
            canary.marker,
            canary.what
        );
    }
    run.figure(&format!(
        "{} markers ({} confidential texts, {} per-contributor amounts), {} parties, {responses} responses crawled ({} API URLs each, plus pages by links): {} markers reached a party not entitled to them",
        CANARIES.len(),
        CANARIES.iter().filter(|c| c.marker.starts_with("CANARY")).count(),
        CANARIES.iter().filter(|c| !c.marker.starts_with("CANARY")).count(),
        PARTIES.len(),
        api.len(),
        leaks.len()
    ));
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    server.finish().await;
}
