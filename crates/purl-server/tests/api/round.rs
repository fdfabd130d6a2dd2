//! A full PURL round through the API, each step by the party whose job it is.

use serde_json::{json, Value};

use crate::support::*;

pub const PERIOD: &str = "2026-12";

/// What the round created, for later checks.
pub struct Round {
    pub delivery: String,
    pub line: String,
}

/// Plays the round: list drafted, submitted and approved by the three parties; two pledges (one
/// joint); payments; a package formed, funded and released; delivered; receipt confirmed.
pub async fn play(server: &Server) -> Round {
    let s = server;
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
        s.post(
            Some(SUPPLIER),
            "/api/v1/catalogue",
            json!({"code": code, "name": name, "category": category, "lethal": lethal,
                   "unit_price": price, "lead_time_days": 90}),
        )
        .await
        .expect(201);
    }
    s.post(Some(REQUESTER), "/api/v1/lists", json!({"period": PERIOD}))
        .await
        .expect(201);
    for (item, quantity) in [("PAC3", 10), ("IFAK", 5000)] {
        s.post(
            Some(REQUESTER),
            &format!("/api/v1/lists/{PERIOD}/lines"),
            json!({"item": item, "quantity": quantity, "needed_by": "2027-02-01",
                   "justification": "winter"}),
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
    assert_eq!(
        list.json["versions"][0]["status"], "approved",
        "{}",
        list.text
    );
    let line = list.json["versions"][0]["lines"][0]["id"]
        .as_str()
        .expect("a line id")
        .to_owned();
    assert_eq!(list.json["versions"][0]["lines"][0]["rank"], 1);

    s.post(
        Some(COORDINATOR),
        "/api/v1/fx-rates",
        json!({"rates": [
            {"currency": "EUR", "date": "2026-11-02", "usd_per_unit": "1.1", "source": "ECB"},
            {"currency": "NOK", "date": "2026-11-02", "usd_per_unit": "0.1", "source": "ECB"}]}),
    )
    .await
    .expect(200);
    s.post(
        Some(FUNDER),
        "/api/v1/pledges",
        json!({"reference": "NLD-2026-1", "contributors": ["NLD"], "amount": "10000000.00",
               "currency": "EUR", "announced_on": "2026-11-03", "status": "committed",
               "conditions": "air defence first", "public": false}),
    )
    .await
    .expect(201);
    s.post(
        Some(JOINT),
        "/api/v1/pledges",
        json!({"reference": "NORDIC-2026-1", "contributors": ["DNK", "NOR", "SWE"],
               "amount": "50000000.00", "currency": "NOK", "announced_on": "2026-11-04",
               "status": "committed", "public": true}),
    )
    .await
    .expect(201);
    for (pledge, amount, currency) in [
        ("NLD-2026-1", "10000000.00", "EUR"),
        ("NORDIC-2026-1", "20000000.00", "NOK"),
    ] {
        s.post(
            Some(COORDINATOR),
            "/api/v1/payments",
            json!({"pledge": pledge, "amount": amount, "currency": currency,
                   "received_on": "2026-11-10"}),
        )
        .await
        .expect(200);
    }

    s.post(
        Some(COORDINATOR),
        "/api/v1/packages",
        json!({"name": "Package 1"}),
    )
    .await
    .expect(200);
    s.post(
        Some(COORDINATOR),
        "/api/v1/packages/1/lines",
        json!({"period": PERIOD, "line": line, "quantity": 2}),
    )
    .await
    .expect(200);
    s.post(
        Some(COORDINATOR),
        "/api/v1/packages/1/contributions",
        json!({"pledge": "NLD-2026-1", "amount": "7272728.00", "currency": "EUR"}),
    )
    .await
    .expect(200);
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
        json!({"package": 1, "line": line, "quantity": 2, "shipped_on": "2026-11-20"}),
    )
    .await
    .expect(200);
    let deliveries = s
        .get(Some(SUPPLIER), "/api/v1/deliveries?package=1")
        .await
        .expect(200);
    let delivery = deliveries.json["items"][0]["id"]
        .as_str()
        .expect("a delivery id")
        .to_owned();
    s.post(
        Some(REQUESTER),
        &format!("/api/v1/deliveries/{delivery}/receipt"),
        json!({"received_on": "2026-11-25", "quantity": 2}),
    )
    .await
    .expect(200);
    s.put(
        Some(SUPPLIER),
        "/api/v1/packages/1/status",
        json!({"status": "delivered"}),
    )
    .await
    .expect(200);
    Round { delivery, line }
}

async fn round_on(server: Server) {
    let round = play(&server).await;
    let package = server
        .get(Some(FUNDER), "/api/v1/packages/1")
        .await
        .expect(200);
    assert_eq!(package.json["status"], "delivered", "{}", package.text);
    assert_eq!(package.json["value"]["amount"], "8000000.00");
    let receipt = server
        .get(
            Some(REQUESTER),
            &format!("/api/v1/deliveries/{}", round.delivery),
        )
        .await
        .expect(200);
    assert_eq!(receipt.json["received_quantity"], 2);
    let overview: Value = server
        .get(None, "/api/v1/public/overview")
        .await
        .expect(200)
        .json;
    assert_eq!(overview["packages"]["count"], 1);
    assert_eq!(overview["packages"]["delivered_value"], "8000000.00");
    assert_eq!(
        overview["contributors"], 4,
        "NLD and the joint DNK, NOR, SWE"
    );
    // The timeline and runway: USD 16 M committed (EUR 10 M at 1.1, NOK 50 M at 0.1); at USD 5 M
    // a month from November the need passes it in February.
    let timeline = server
        .get(
            None,
            "/api/v1/reports/timeline?as_of=2026-11-30&monthly_need=5000000.00",
        )
        .await
        .expect(200);
    let points = &timeline.json["timeline"]["points"];
    assert_eq!(points[0]["month"], "2026-11", "{}", timeline.text);
    assert_eq!(points[0]["committed"], "16000000.00");
    assert_eq!(timeline.json["runway"]["runs_out"], "2027-02");
    let csv = server
        .get(
            None,
            "/api/v1/reports/timeline?as_of=2026-11-30&monthly_need=5000000.00&format=csv",
        )
        .await
        .expect(200);
    assert_eq!(
        csv.text.lines().count(),
        5,
        "a header and four months: {}",
        csv.text
    );
    server
        .get(None, "/api/v1/reports/timeline?monthly_need=-5")
        .await
        .expect(422);
    let coverage = server
        .get(Some(COORDINATOR), "/api/v1/reports/coverage")
        .await
        .expect(200);
    assert_eq!(
        coverage.json["required"], "40500000.00",
        "{}",
        coverage.text
    );
    assert_eq!(coverage.json["by_category"][1]["name"], "medical");
    let report = purl_app::verify::verify(server.ctx.app.store(), &|_, _| {})
        .await
        .expect("verify runs");
    assert!(report.is_ok(), "{report:?}");

    server.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_round_through_the_api() {
    let Some(server) = Server::start().await else {
        return;
    };
    round_on(server).await;
}
