//! Allocation on live data through the API: preview, commit, and packages formed from it.

use serde_json::json;

use crate::round;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_coordinator_allocates_the_money_at_hand_and_forms_packages_from_it() {
    let Some(server) = Server::start().await else {
        return;
    };
    let played = round::play(&server).await;
    // NLD has 2,727,272 EUR (3.0 million USD at 1.1) left after package 1, the Nordic pledge
    // 20 million NOK (2.0 million USD); the list still wants 8 PAC3 at 4 million and 5000 IFAK at 100.
    server
        .get(Some(FUNDER), "/api/v1/allocations/preview")
        .await
        .expect(403);
    let preview = server
        .get(Some(COORDINATOR), "/api/v1/allocations/preview")
        .await
        .expect(200);
    let lines = preview.json["lines"].as_array().unwrap();
    assert_eq!(lines[0]["id"], played.line.as_str());
    assert_eq!(lines[0]["wanted_quantity"], 8, "{}", preview.text);
    assert_eq!(lines[0]["funded_quantity"], 1);
    assert!(
        lines[0]["reason"].as_str().unwrap().contains("USD"),
        "{}",
        preview.text
    );
    assert_eq!(lines[1]["funded_quantity"], 5000);

    let committed = server
        .post(Some(COORDINATOR), "/api/v1/allocations", json!({}))
        .await
        .expect(201);
    assert_eq!(committed.json["lines"], preview.json["lines"]);
    server
        .get(Some(FUNDER), "/api/v1/allocations/1")
        .await
        .expect(404);
    let kept = server
        .get(Some(COORDINATOR), "/api/v1/allocations/1")
        .await
        .expect(200);
    assert_eq!(kept.json["lines"][0]["funded"], 1);

    // A target below a unit's price would make a package of each of the 5,001 units: refused
    // before anything is written.
    let before = server
        .get(Some(COORDINATOR), "/api/v1/packages")
        .await
        .expect(200);
    let refused = server
        .post(
            Some(COORDINATOR),
            "/api/v1/allocations/1/packages",
            json!({"target_usd": "0.01"}),
        )
        .await
        .expect(422);
    assert!(
        refused.text.contains("target_usd") && refused.text.contains("more than 1000 packages"),
        "{}",
        refused.text
    );
    let after = server
        .get(Some(COORDINATOR), "/api/v1/packages")
        .await
        .expect(200);
    assert_eq!(after.json["items"], before.json["items"]);

    let formed = server
        .post(
            Some(COORDINATOR),
            "/api/v1/allocations/1/packages",
            json!({"target_usd": "3000000.00"}),
        )
        .await
        .expect(201);
    let packages = formed.json["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 2, "{}", formed.text);
    assert_eq!(packages[0]["number"], 2);
    assert_eq!(packages[0]["value"]["amount"], "4000000.00");
    assert_eq!(packages[1]["value"]["amount"], "500000.00");
    // Each package is fully paid for, so the coordinator can mark it funded.
    for number in [2, 3] {
        server
            .put(
                Some(COORDINATOR),
                &format!("/api/v1/packages/{number}/status"),
                json!({"status": "funded"}),
            )
            .await
            .expect(200);
    }
    // The same units cannot be packaged twice.
    let again = server
        .post(
            Some(COORDINATOR),
            "/api/v1/allocations/1/packages",
            json!({}),
        )
        .await
        .expect(422);
    assert!(again.text.contains("not yet packaged"), "{}", again.text);
    server.finish().await;
}
