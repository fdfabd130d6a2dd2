//! The whole PURL round of the API suite again, purely by clicking and typing in pages, one
//! browser session per party: the supplier prices the catalogue; Ukraine's planner drafts,
//! reorders and submits the list; the three parties approve it; the coordinator records rates,
//! the Netherlands and Norway (for the joint Nordic pledge) record pledges, the coordinator records
//! payments, previews the allocation, forms, funds and releases a package; the
//! supplier contracts, ships and delivers; the planner confirms receipt. Then a contributor that
//! funds nothing sees the package only in summary, and no page shows it another's unpublished
//! pledge.

use crate::browser::{set_password, Browser};
use crate::support::{Server, COORDINATOR, FUNDER, JOINT, OTHER, REQUESTER, SUPPLIER};

const PERIOD: &str = "2026-12";

async fn signed_in(server: &Server, username: &str) -> Browser {
    let browser = Browser::start().await.unwrap();
    set_password(server, username).await;
    browser.sign_in(&server.base, username).await;
    browser
}

#[tokio::test]
async fn a_full_round_by_clicking_one_browser_per_party() {
    let Some(probe) = Browser::start().await else {
        return;
    };
    probe.close().await;
    let server = Server::start().await.unwrap();
    let base = server.base.clone();

    // The supplier adds and prices two items.
    let supplier = signed_in(&server, SUPPLIER).await;
    supplier.follow("Catalogue").await;
    for (code, name, category, lethal, price) in [
        (
            "PAC3",
            "Patriot PAC-3 MSE interceptor",
            "air-defence",
            "true",
            "4000000.00",
        ),
        (
            "IFAK",
            "Individual first aid kit",
            "medical",
            "false",
            "100.00",
        ),
    ] {
        supplier.text_with("Add an item").await;
        supplier.choose("item-category", category).await;
        supplier.choose("item-lethal", lethal).await;
        let catalogue = supplier
            .submit(
                &[
                    ("item-code", code),
                    ("item-name", name),
                    ("item-unit_price", price),
                ],
                "Add item",
                name,
            )
            .await;
        assert!(catalogue.contains(name), "{catalogue}");
    }
    let catalogue = supplier.text().await;
    assert!(catalogue.contains("USD 4,000,000.00"), "{catalogue}");
    // Tables sort by a column when its heading is pressed, and reverse when pressed again.
    let first_row = || async {
        supplier
            .client
            .find(fantoccini::Locator::Css("#catalogue tbody tr"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    supplier
        .click_css("#catalogue th:nth-child(5) button")
        .await;
    assert!(first_row().await.starts_with("IFAK"), "cheapest first");
    supplier
        .click_css("#catalogue th:nth-child(5) button")
        .await;
    assert!(first_row().await.starts_with("PAC3"), "dearest first");

    // Ukraine's planner drafts the list, puts the first-aid kits first, then back, and submits.
    let requester = signed_in(&server, REQUESTER).await;
    requester.follow("Lists").await;
    requester
        .submit(&[("create-period", PERIOD)], "Create list", "0 line(s)")
        .await;
    for (item, quantity) in [("PAC3", "10"), ("IFAK", "5000")] {
        requester.choose("add-item", item).await;
        requester
            .submit(
                &[
                    ("add-quantity", quantity),
                    ("add-needed_by", "2027-02-01"),
                    ("add-justification", "winter"),
                ],
                "Add line",
                &format!("{item} —"),
            )
            .await;
    }
    // A date that does not exist is named beside its field, and nothing changes.
    requester.choose("add-item", "IFAK").await;
    requester
        .submit(
            &[("add-quantity", "7"), ("add-needed_by", "2027-02-30")],
            "Add line",
            "needed_by",
        )
        .await;
    let problem = requester
        .client
        .find(fantoccini::Locator::Id("add-needed_by-problem"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(problem.contains("needed_by"), "{problem}");
    requester.open(&base, &format!("/lists/{PERIOD}")).await;
    let draft = requester.text_with("2 line(s)").await;
    assert!(draft.contains("2 line(s)"), "{draft}");
    assert!(draft.contains("USD 40,000,000.00"), "10 × PAC3: {draft}");
    requester.press_named("Move L0002 up").await;
    let moved = requester.text_with("Move L0001 up").await;
    let (first, second) = (moved.find("L0002").unwrap(), moved.find("L0001").unwrap());
    assert!(first < second, "IFAK now ranks first: {moved}");
    requester.screenshot("list-editor").await;
    requester.press_named("Move L0002 down").await;
    requester.text_with("Move L0002 up").await;
    requester.press("Submit for approval").await;
    requester.text_with("is submitted").await;
    requester.press("Approve version 1 as requester").await;
    let approved_once = requester.text_with("Approved by requester").await;
    assert!(
        approved_once.contains("Waiting for coordinator, supplier"),
        "{approved_once}"
    );

    // The coordinator and the supplier approve the same version.
    let coordinator = signed_in(&server, COORDINATOR).await;
    for (browser, party) in [(&coordinator, "coordinator"), (&supplier, "supplier")] {
        browser.open(&base, &format!("/lists/{PERIOD}")).await;
        browser
            .press(&format!("Approve version 1 as {party}"))
            .await;
        browser.text_with(&format!("{party}.")).await;
    }
    requester.open(&base, &format!("/lists/{PERIOD}")).await;
    let approved = requester.text_with("is approved").await;
    assert!(approved.contains("Version 1 is approved"), "{approved}");

    // The coordinator records rates, the joint Nordic pledge, and payments.
    coordinator.follow("Rates").await;
    for (currency, rate) in [("EUR", "1.1"), ("NOK", "0.1")] {
        coordinator
            .submit(
                &[
                    ("rate-currency", currency),
                    ("rate-date", "2026-11-02"),
                    ("rate-usd_per_unit", rate),
                ],
                "Record rate",
                &format!("{currency}\n"),
            )
            .await;
    }
    let funder = signed_in(&server, FUNDER).await;
    funder.follow("Pledges").await;
    funder.choose("status", "committed").await;
    funder
        .submit(
            &[
                ("reference", "NLD-2026-1"),
                ("amount", "10000000.00"),
                ("currency", "EUR"),
                ("announced_on", "2026-11-03"),
            ],
            "Record pledge",
            "1 pledge(s) you may see",
        )
        .await;
    // Norway's desk records the joint Nordic pledge, naming its partners.
    let joint = signed_in(&server, JOINT).await;
    joint.follow("Pledges").await;
    joint.choose("status", "committed").await;
    joint
        .submit(
            &[
                ("reference", "NORDIC-2026-1"),
                ("contributors", "DNK; NOR; SWE"),
                ("amount", "50000000.00"),
                ("currency", "NOK"),
                ("announced_on", "2026-11-04"),
            ],
            "Record pledge",
            "NORDIC-2026-1",
        )
        .await;
    joint.close().await;
    coordinator.follow("Payments").await;
    for (pledge, amount, currency, count) in [
        ("NLD-2026-1", "10000000.00", "EUR", "1 payment(s)"),
        ("NORDIC-2026-1", "20000000.00", "NOK", "2 payment(s)"),
    ] {
        coordinator.choose("payment-pledge", pledge).await;
        let payments = coordinator
            .submit(
                &[
                    ("payment-amount", amount),
                    ("payment-currency", currency),
                    ("payment-received_on", "2026-11-10"),
                ],
                "Record payment",
                count,
            )
            .await;
        assert!(payments.contains(count), "{payments}");
    }
    let payments = coordinator.text().await;
    assert!(
        payments.contains("USD 11,000,000.00"),
        "10 M EUR at 1.1: {payments}"
    );
    assert!(payments.contains("1.1 (2026-11-02, ECB)"), "{payments}");

    // The allocation preview: every line, the money paying for it, and why not more.
    coordinator.follow("Allocation").await;
    let preview = coordinator.text_with("Units funded").await;
    assert!(
        preview.contains("L0001") && preview.contains("L0002"),
        "{preview}"
    );
    assert!(preview.contains("NLD-2026-1"), "{preview}");
    coordinator.screenshot("allocation-preview").await;
    // On a tablet every page keeps to the screen's width: wide tables scroll inside themselves.
    coordinator.client.set_window_size(800, 1000).await.unwrap();
    for path in [
        "/allocation",
        "/reports/coverage",
        "/payments",
        "/pledges",
        &format!("/lists/{PERIOD}"),
    ] {
        coordinator.open(&base, path).await;
        let widths = coordinator
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                Vec::new(),
            )
            .await
            .unwrap();
        let (page, window) = (widths[0].as_u64().unwrap(), widths[1].as_u64().unwrap());
        assert!(
            page <= window,
            "{path} is {page} px wide in a {window} px window"
        );
    }
    coordinator.client.set_window_size(1280, 900).await.unwrap();
    coordinator.follow("Reports").await;
    coordinator.follow("Coverage").await;
    let coverage = coordinator.text_with("By rank band").await;
    for expected in [
        "ranks 1–10",
        "air-defence",
        "medical",
        "First lines not fully funded",
    ] {
        assert!(coverage.contains(expected), "{expected}: {coverage}");
    }
    let charts = coordinator
        .client
        .find_all(fantoccini::Locator::Css("svg.chart"))
        .await
        .unwrap();
    assert_eq!(charts.len(), 2, "a chart by band and one by category");
    coordinator.screenshot("coverage").await;

    // The coordinator forms, funds and releases package 1.
    coordinator.follow("Packages").await;
    coordinator
        .submit(
            &[("package-name", "Package 1")],
            "Create package",
            "Package 1",
        )
        .await;
    coordinator.open(&base, "/packages/1").await;
    coordinator.choose("line-line", "L0001").await;
    coordinator
        .submit(
            &[("line-quantity", "2")],
            "Add to package",
            "USD 8,000,000.00",
        )
        .await;
    coordinator
        .submit(
            &[
                ("contribution-pledge", "NLD-2026-1"),
                ("contribution-amount", "7272728.00"),
                ("contribution-currency", "EUR"),
            ],
            "Allocate",
            "EUR 7,272,728.00",
        )
        .await;
    coordinator.press("Mark funded").await;
    coordinator.text_with("Status: funded").await;
    coordinator.press("Mark released").await;
    let released = coordinator.text_with("Status: released").await;
    assert!(released.contains("Status: released"), "{released}");

    // The supplier contracts and ships; the planner confirms receipt; the supplier delivers.
    supplier.open(&base, "/packages/1").await;
    supplier.press("Mark contracted").await;
    supplier.text_with("Status: contracted").await;
    supplier.choose("shipment-line", "L0001").await;
    supplier
        .submit(
            &[
                ("shipment-quantity", "2"),
                ("shipment-shipped_on", "2026-11-20"),
            ],
            "Record shipment",
            "DLV-",
        )
        .await;
    requester.follow("Packages").await;
    requester.open(&base, "/packages/1").await;
    let delivery = requester.text_with("Confirm receipt").await;
    assert!(delivery.contains("not yet"), "{delivery}");
    let id = delivery
        .split_whitespace()
        .find(|word| word.starts_with("DLV-"))
        .unwrap()
        .to_owned();
    requester
        .submit(
            &[
                (&format!("receipt-{id}-received_on"), "2026-11-25"),
                (&format!("receipt-{id}-quantity"), "2"),
            ],
            "Confirm receipt",
            "2 on 2026-11-25",
        )
        .await;
    supplier.open(&base, "/packages/1").await;
    supplier.press("Mark delivered").await;
    let delivered = supplier.text_with("Status: delivered").await;
    assert!(delivered.contains("Status: delivered"), "{delivered}");

    // The timeline and the runway: NLD's EUR 10 M at 1.1 and the Nordic NOK 50 M at 0.1 are
    // USD 16 M committed; at USD 5 M a month from November the need passes it in February.
    supplier.follow("Reports").await;
    supplier.follow("Timeline and runway").await;
    supplier.text_with("Runway").await;
    let timeline = supplier
        .submit(
            &[("monthly_need", "5,000,000.00")],
            "Show runway",
            "USD 5,000,000.00 a month",
        )
        .await;
    assert!(timeline.contains("USD 16,000,000.00"), "{timeline}");
    assert!(
        timeline.contains("funding runs out in 2027-02"),
        "{timeline}"
    );
    supplier.screenshot("timeline").await;
    supplier.follow("Reports").await;
    supplier.follow("Package pipeline").await;
    let pipeline = supplier.text_with("days to delivered").await;
    assert!(pipeline.contains("Package 1"), "{pipeline}");

    // NLD funds package 1 and sees it in full; DEU funds nothing and sees a summary only, and
    // never NLD's unpublished pledge, in any page it can open.
    funder.open(&base, "/packages/1").await;
    let funded = funder.text_with("Contributions").await;
    assert!(
        funded.contains("NLD-2026-1") && funded.contains("L0001"),
        "{funded}"
    );
    let other = signed_in(&server, OTHER).await;
    for path in [
        "/home",
        "/pledges",
        "/payments",
        "/packages",
        "/packages/1",
        "/ledger",
        "/",
    ] {
        other.open(&base, path).await;
        let seen = other.text().await;
        for hidden in [
            "NLD-2026-1",
            "7,272,728",
            "10,000,000.00 EUR",
            "EUR 10,000,000.00",
            "L0001",
        ] {
            assert!(
                !seen.contains(hidden),
                "DEU sees {hidden} at {path}: {seen}"
            );
        }
    }
    other.open(&base, "/packages/1").await;
    let summary = other.text().await;
    assert!(summary.contains("in summary"), "{summary}");
    other.open(&base, "/reports/pipeline").await;
    let pipeline = other.text().await;
    assert!(
        pipeline.contains("1 other package(s) you see only in summary"),
        "{pipeline}"
    );
    other.open(&base, "/reports").await;
    assert!(
        !other.text().await.contains("Coverage"),
        "the coordinator's report only"
    );
    // The downloads offered on those pages hold no more than the pages.
    for download in [
        "/api/v1/pledges?format=csv",
        "/api/v1/payments?format=csv",
        "/api/v1/packages?format=csv",
        "/api/v1/reports/contributions?format=csv",
        "/api/v1/reports/overview?format=csv",
        "/api/v1/packages/1",
    ] {
        let fetched = other
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 fetch(arguments[0]).then(r => r.text()).then(done);",
                vec![serde_json::json!(download)],
            )
            .await
            .unwrap();
        let body = fetched.as_str().unwrap_or_default();
        assert!(!body.is_empty(), "{download} answered nothing");
        for hidden in ["NLD-2026-1", "7272728", "L0001"] {
            assert!(
                !body.contains(hidden),
                "DEU gets {hidden} from {download}: {body}"
            );
        }
    }

    // The coordinator commits the allocation of what is left.
    coordinator.follow("Allocation").await;
    coordinator.text_with("Units funded").await;
    coordinator.press("Commit this allocation").await;
    let committed = coordinator.text_with("1 allocation(s)").await;
    assert!(committed.contains("1 allocation(s)"), "{committed}");

    // The same state through the API, and a ledger that verifies.
    let package = server
        .get(Some(FUNDER), "/api/v1/packages/1")
        .await
        .expect(200);
    assert_eq!(package.json["status"], "delivered", "{}", package.text);
    assert_eq!(package.json["value"]["amount"], "8000000.00");
    let report = purl_app::verify::verify(server.ctx.app.store(), &|_, _| {})
        .await
        .unwrap();
    assert!(report.is_ok(), "{report:?}");
    for browser in [supplier, requester, coordinator, funder, other] {
        browser.close().await;
    }
    server.finish().await;
}
