//! Browser surface, hostile text (item 7): every free text field of an installation holds markup
//! that would run script if it were not escaped, starting with a character a spreadsheet takes
//! for a formula (`= + - @`); every party's crawl (pages, CSV and XLSX exports, JSON) must show it
//! escaped in every page and neutralised in every export.

use serde_json::json;

use crate::canary::{install, Texts, PARTIES};
use crate::crawl::{crawl, requests, Response};
use crate::measure::Run;
use crate::server::{Server, COORDINATOR};

/// Markup that runs `xss(n)` if a page puts it out unescaped, in text or in an attribute.
const MARKUP: [&str; 4] = [
    "<script>xss({n})</script>",
    "\"><img src=x onerror=xss({n})>",
    "'><svg onload=xss({n})>",
    "</textarea></title><script>xss({n})</script>",
];
/// What must never appear in a page: the start of each markup as written.
const RAW: [&str; 4] = [
    "<script>xss(",
    "<img src=x onerror=xss(",
    "<svg onload=xss(",
    "</title><script>xss(",
];
const FORMULA_STARTS: [char; 4] = ['=', '+', '-', '@'];

/// Payload `n`: a formula start, then markup, each carrying `xss(n)`.
fn payload(n: usize) -> &'static str {
    let markup = MARKUP[n % MARKUP.len()].replace("{n}", &n.to_string());
    let text = format!("{}{markup} {n}", FORMULA_STARTS[n % FORMULA_STARTS.len()]);
    Box::leak(text.into_boxed_str())
}

fn hostile() -> Texts {
    Texts {
        item_names: [payload(1), payload(2), payload(3)],
        justifications: [payload(4), payload(5), payload(6)],
        conditions: [payload(7), payload(8)],
        notes: [payload(9), payload(10)],
        payment_notes: [payload(11), payload(12)],
        package_names: [payload(13), payload(14)],
        rate_source: payload(15),
    }
}

/// The payloads put in other fields: a participant's name, a user's name, a token's name.
const MORE: [usize; 3] = [16, 17, 18];

/// What is wrong with one response.
fn problems(response: &Response) -> Vec<String> {
    let mut found = Vec::new();
    let body = String::from_utf8_lossy(&response.body);
    if response.content_type.starts_with("text/html") {
        for raw in RAW {
            if body.contains(raw) {
                found.push(format!("{}: unescaped '{raw}'", response.url));
            }
        }
    } else if response.content_type.starts_with("text/csv") {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(response.body.as_slice());
        for record in reader.records().flatten() {
            for field in record.iter().filter(|field| field.contains("xss(")) {
                if field.starts_with(FORMULA_STARTS) {
                    found.push(format!("{}: formula-like cell '{field}'", response.url));
                }
            }
        }
    } else if response.body.starts_with(b"PK\x03\x04") {
        // `text` holds every part unpacked: a formula is an `<f>` element of a sheet.
        if response.text.contains("<f>") || response.text.contains("<f ") {
            found.push(format!("{}: a workbook cell holds a formula", response.url));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_is_escaped_in_every_page_and_neutralised_in_every_export() {
    let run = Run::start("browser_surface_hostile_text").await;
    let server = Server::start().await.unwrap();
    let mut values = install(&server, &hostile()).await;
    server
        .post(
            Some(COORDINATOR),
            "/api/v1/participants",
            json!({"code": "XSS", "name": payload(MORE[0]), "party": "contributor"}),
        )
        .await
        .expect(201);
    server
        .post(
            Some(COORDINATOR),
            "/api/v1/users",
            json!({"username": "xss.user", "participant": "NLD", "name": payload(MORE[1]), "roles": ["viewer"]}),
        )
        .await
        .expect(201);
    server
        .post(
            Some(COORDINATOR),
            "/api/v1/tokens",
            json!({"name": payload(MORE[2]), "expires_in_days": 1}),
        )
        .await
        .expect(201);
    values.get_mut("code").unwrap().push("XSS".into());
    values.get_mut("username").unwrap().push("xss.user".into());
    let document = server
        .get(None, "/api/v1/openapi.json")
        .await
        .expect(200)
        .json;
    let api = requests(&document, &values);
    let mut found = Vec::new();
    let (mut pages, mut csv, mut xlsx, mut responses) = (0, 0, 0, 0);
    let mut shown = std::collections::BTreeSet::new();
    for party in PARTIES {
        for response in crawl(&server, party, &api).await {
            responses += 1;
            let body = String::from_utf8_lossy(&response.body);
            if response.content_type.starts_with("text/html") {
                pages += 1;
            } else if response.content_type.starts_with("text/csv") {
                csv += 1;
            } else if response.body.starts_with(b"PK\x03\x04") {
                xlsx += 1;
            }
            for n in 1..=MORE[2] {
                if body.contains(&format!("xss({n})"))
                    || response.text.contains(&format!("xss({n})"))
                {
                    shown.insert(n);
                }
            }
            found.extend(problems(&response));
        }
    }
    let missing: Vec<usize> = (1..=MORE[2]).filter(|n| !shown.contains(n)).collect();
    assert!(
        missing.is_empty(),
        "payloads never shown, so never checked: {missing:?}"
    );
    run.figure(&format!(
        "{} hostile texts (markup that runs script unless escaped, each starting = + - or @) in every free text field; 8 parties, {responses} responses ({pages} pages, {csv} CSV, {xlsx} XLSX): {} unescaped in a page or live in an export",
        MORE[2],
        found.len()
    ));
    assert!(
        found.is_empty(),
        "{} problems:\n{}",
        found.len(),
        found
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    server.finish().await;
}
