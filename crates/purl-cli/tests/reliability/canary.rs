//! Canary leaks (item 5): every confidential text and every per-contributor amount of a test
//! installation holds a unique marker; everything each party can reach is crawled (every GET of
//! the OpenAPI document with every known id and query value, every page reached by links, the
//! CSV, XLSX and JSON exports, evidence bundles and proofs with their base64 decoded, error bodies
//! and headers), and no marker may reach a party that the access matrix does not entitle to it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::crawl::{crawl, requests, Values};
use crate::measure::Run;
use crate::server::{Server, AUDITOR, COORDINATOR, FUNDER, JOINT, OTHER, REQUESTER, SUPPLIER};

const PERIOD: &str = "2026-12";
/// The public, as a party.
pub const PUBLIC: &str = "public";
/// Every party of the access matrix, and the public.
pub const PARTIES: [&str; 8] = [
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

/// The free texts of the installation, field by field.
pub struct Texts {
    pub item_names: [&'static str; 3],
    /// Of the line in the package NLD funds, in the package DEU funds, and in none.
    pub justifications: [&'static str; 3],
    /// Of NLD's and DEU's non-public pledges.
    pub conditions: [&'static str; 2],
    pub notes: [&'static str; 2],
    /// Of the payments against NLD's and DEU's pledges.
    pub payment_notes: [&'static str; 2],
    /// Of the packages NLD and DEU fund.
    pub package_names: [&'static str; 2],
    pub rate_source: &'static str,
}

/// The texts that carry this test's markers.
const MARKED: Texts = Texts {
    item_names: ["Interceptor", "First aid kit", "Drone"],
    justifications: ["CANARY-JUST-NLD", "CANARY-JUST-DEU", "CANARY-JUST-NONE"],
    conditions: ["CANARY-NLD-COND", "CANARY-DEU-COND"],
    notes: ["CANARY-NLD-NOTE", ""],
    payment_notes: ["CANARY-NLD-PAY", ""],
    package_names: ["CANARY-PKG-NLD", "CANARY-PKG-DEU"],
    rate_source: "ECB",
};

/// Builds the installation through the API, each step by the party whose job it is, with `texts`
/// in its free text fields; returns the ids it made.
pub async fn install(server: &Server, texts: &Texts) -> Values {
    let s = server;
    for ((code, category, lethal), name) in [
        ("CNRY-A", "air-defence", true),
        ("CNRY-B", "medical", false),
        ("CNRY-C", "drones", true),
    ]
    .into_iter()
    .zip(texts.item_names)
    {
        s.post(
            Some(SUPPLIER),
            "/api/v1/catalogue",
            json!({"code": code, "name": name, "category": category,
                   "lethal": lethal, "unit_price": "1000.00", "lead_time_days": 90}),
        )
        .await
        .expect(201);
    }
    s.post(Some(REQUESTER), "/api/v1/lists", json!({"period": PERIOD}))
        .await
        .expect(201);
    for (item, justification) in ["CNRY-A", "CNRY-B", "CNRY-C"]
        .into_iter()
        .zip(texts.justifications)
    {
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
            {"currency": "EUR", "date": "2026-11-02", "usd_per_unit": "1.1", "source": texts.rate_source},
            {"currency": "NOK", "date": "2026-11-02", "usd_per_unit": "0.1", "source": texts.rate_source}]}),
    )
    .await
    .expect(200);
    for (user, reference, contributor, amount, conditions, note) in [
        (
            FUNDER,
            "NLD-SECRET",
            "NLD",
            "7351113.37",
            texts.conditions[0],
            texts.notes[0],
        ),
        (
            OTHER,
            "DEU-SECRET",
            "DEU",
            "4826195.53",
            texts.conditions[1],
            texts.notes[1],
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
        ("NLD-SECRET", "2093847.61", texts.payment_notes[0]),
        ("DEU-SECRET", "1938274.65", texts.payment_notes[1]),
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
        (
            1,
            texts.package_names[0],
            &lines[0],
            "NLD-SECRET",
            "1357913.57",
        ),
        (
            2,
            texts.package_names[1],
            &lines[1],
            "DEU-SECRET",
            "2468013.59",
        ),
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_marker_reaches_a_party_not_entitled_to_it() {
    let run = Run::start("canary_leaks").await;
    let server = Server::start().await.unwrap();
    let values = install(&server, &MARKED).await;
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
        let seen = crawl(&server, party, &api).await;
        responses += seen.len();
        if party == COORDINATOR {
            let answered = seen.iter().filter(|r| r.status == 200).count();
            assert!(
                answered * 2 > seen.len(),
                "the coordinator's crawl mostly reads records ({answered} of {} answered 200)",
                seen.len()
            );
        }
        for response in &seen {
            let url = &response.url;
            let text = without_separators(&response.text);
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
