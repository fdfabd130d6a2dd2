//! Ukraine's planner imports the list from a file in the list editor — a wrong file is refused
//! with every problem by row and column and changes nothing — then, once approved, starts a new
//! version, changes a quantity and compares the two versions.

use serde_json::json;

use crate::browser::{set_password, Browser};
use crate::support::{Server, COORDINATOR, REQUESTER, SUPPLIER};

const HEADER: &str =
    "rank,item_code,item_name,category,lethal,unit_price_usd,quantity,needed_by,justification";

#[tokio::test]
async fn the_planner_imports_a_list_edits_a_new_version_and_compares_them() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let server = Server::start().await.unwrap();
    let base = server.base.clone();
    // The supplier's catalogue the list's items must be in.
    for (code, name, category, lethal, price) in [
        (
            "PAC3",
            "Patriot PAC-3 MSE interceptor",
            "air-defence",
            true,
            "4000000.00",
        ),
        (
            "IFAK",
            "Individual first aid kit",
            "medical",
            false,
            "100.00",
        ),
    ] {
        server
            .post(
                Some(SUPPLIER),
                "/api/v1/catalogue",
                json!({"code": code, "name": name, "category": category, "lethal": lethal,
                       "unit_price": price, "lead_time_days": 90}),
            )
            .await
            .expect(201);
    }
    set_password(&server, REQUESTER).await;
    browser.sign_in(&base, REQUESTER).await;
    browser.follow("Lists").await;
    browser
        .submit(&[("create-period", "2027-01")], "Create list", "0 line(s)")
        .await;

    let folder = tempfile::tempdir().unwrap();
    let wrong = folder.path().join("wrong.csv");
    std::fs::write(
        &wrong,
        format!(
            "{HEADER}\n1,PAC3,Patriot PAC-3 MSE interceptor,air-defence,true,4000000.00,10,2027-02-01,winter\n\
             2,IFAK,Individual first aid kit,medical,false,100.00,lots,2027-13-01,\n"
        ),
    )
    .unwrap();
    let field = browser
        .client
        .find(fantoccini::Locator::Id("import-file"))
        .await
        .unwrap();
    field.send_keys(wrong.to_str().unwrap()).await.unwrap();
    browser.press("Import").await;
    let refused = browser.text_with("was not imported").await;
    let problems = browser
        .client
        .find(fantoccini::Locator::Id("import-problems"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "wrong.csv",
        "row 3, column quantity",
        "row 3, column needed_by",
    ] {
        assert!(problems.contains(expected), "{expected}: {problems}");
    }
    assert!(refused.contains("0 line(s)"), "nothing changed: {refused}");

    let right = folder.path().join("list.csv");
    std::fs::write(
        &right,
        format!(
            "{HEADER}\n1,PAC3,Patriot PAC-3 MSE interceptor,air-defence,true,4000000.00,10,2027-02-01,winter\n\
             2,IFAK,Individual first aid kit,medical,false,100.00,5000,2027-02-15,\n"
        ),
    )
    .unwrap();
    let field = browser
        .client
        .find(fantoccini::Locator::Id("import-file"))
        .await
        .unwrap();
    field.send_keys(right.to_str().unwrap()).await.unwrap();
    browser.press("Import").await;
    let imported = browser.text_with("2 line(s)").await;
    assert!(imported.contains("USD 40,000,000.00"), "{imported}");

    browser.press("Submit for approval").await;
    browser.text_with("is submitted").await;
    browser.press("Approve version 1 as requester").await;
    browser.text_with("Approved by requester").await;
    for party in [COORDINATOR, SUPPLIER] {
        server
            .post(
                Some(party),
                "/api/v1/lists/2027-01/approve",
                json!({"version": 1}),
            )
            .await
            .expect(200);
    }
    browser.open(&base, "/lists/2027-01").await;
    browser.press("Start a new version").await;
    browser.text_with("Version 2 is draft").await;
    browser
        .click_css("#lines tbody tr:nth-child(1) summary")
        .await;
    browser
        .submit(
            &[("edit-L0001-quantity", "12")],
            "Save",
            "USD 48,000,000.00",
        )
        .await;

    browser.choose("diff-from", "1").await;
    browser.choose("diff-to", "2").await;
    browser.press("Compare").await;
    let diff = browser.text_with("quantity: 10 → 12").await;
    assert!(diff.contains("L0001"), "{diff}");
    assert!(
        !diff.contains("L0002"),
        "unchanged lines are not listed: {diff}"
    );
    browser.screenshot("list-diff").await;
    browser.close().await;
    server.finish().await;
}
