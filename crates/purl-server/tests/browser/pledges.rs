//! A contributor records a pledge, is told exactly what is wrong with a bad one, and makes it
//! public — by typing and clicking; another contributor's pledge never shows.

use serde_json::json;

use crate::browser::{set_password, Browser};
use crate::support::{Server, FUNDER, OTHER};

#[tokio::test]
async fn a_contributor_records_a_pledge_and_makes_it_public_in_pages() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let server = Server::start().await.unwrap();
    server
        .post(
            Some(OTHER),
            "/api/v1/pledges",
            json!({"reference": "DEU-2026-8", "contributors": ["DEU"], "amount": "2718281.00",
                   "currency": "USD", "announced_on": "2026-11-05", "public": false}),
        )
        .await
        .expect(201);
    set_password(&server, FUNDER).await;
    browser.sign_in(&server.base, FUNDER).await;
    browser.follow("Pledges").await;
    assert_eq!(browser.path_after_navigation("/pledges").await, "/pledges");
    let listed = browser.text_with("Record a pledge").await;
    assert!(listed.contains("0 pledge(s) you may see"), "{listed}");

    browser.fill("reference", "NLD-2026-9").await;
    browser.fill("amount", "2500000.005").await;
    browser.fill("currency", "usd").await;
    browser.press("Record pledge").await;
    let refused = browser.text_with("amount: ").await;
    let problem = browser
        .client
        .find(fantoccini::Locator::Id("amount-problem"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        problem.starts_with("amount:"),
        "next to the field: {problem} / {refused}"
    );
    // What was typed is kept; only the amount is corrected.
    browser.fill("amount", "2500000.00").await;
    browser.press("Record pledge").await;
    let recorded = browser.text_with("NLD-2026-9").await;
    assert!(recorded.contains("USD 2,500,000.00"), "{recorded}");
    assert!(recorded.contains("1 pledge(s) you may see"), "{recorded}");
    for hidden in ["DEU-2026-8", "2,718,281"] {
        assert!(!recorded.contains(hidden), "NLD sees {hidden}: {recorded}");
    }
    browser.screenshot("contributor-pledges").await;

    browser.press("Make public").await;
    let public = browser.text_with("Make private").await;
    assert!(public.contains("Make private"), "{public}");
    browser
        .client
        .goto(&format!("{}/", server.base))
        .await
        .unwrap();
    let overview = browser.text().await;
    assert!(overview.contains("NLD-2026-9"), "public now: {overview}");
    assert!(!overview.contains("DEU-2026-8"), "{overview}");
    let pledge = server
        .get(Some(FUNDER), "/api/v1/pledges/NLD-2026-9")
        .await
        .expect(200);
    assert_eq!(pledge.json["public"], true, "{}", pledge.text);

    // The ledger page: checkpoints, and the evidence of NLD's records only.
    browser.follow("Ledger").await;
    let ledger = browser.text_with("Signed checkpoints").await;
    assert!(ledger.contains("Verifier key"), "{ledger}");
    assert!(!ledger.contains("0 checkpoint(s)"), "{ledger}");
    let fetched = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             fetch('/api/v1/ledger/evidence?participant=NLD').then(r => r.text()).then(done);",
            Vec::new(),
        )
        .await
        .unwrap();
    let bundle: serde_json::Value = serde_json::from_str(fetched.as_str().unwrap()).unwrap();
    assert_eq!(bundle["participant"], "NLD", "{bundle}");
    let entries = bundle["entries"].as_array().unwrap();
    assert!(!entries.is_empty(), "NLD's own records are there: {bundle}");
    for entry in entries {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(entry["event"].as_str().unwrap())
            .unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("DEU-2026-8") && !text.contains("2718281"),
            "{text}"
        );
    }
    browser.close().await;
}
