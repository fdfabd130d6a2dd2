//! The README's tour: init, demo, reports, writes with idempotency keys and expected versions.

use crate::support::{Installation, DEMO_EVENTS};

#[test]
fn init_creates_an_installation_and_refuses_to_overwrite_it() {
    let installation = Installation::new();
    let refused = installation.fails(&["init"]);
    assert!(refused.contains("already exists"), "{refused}");
    let participants = installation.json(&["participant", "list"]);
    assert_eq!(
        participants.as_array().unwrap().len(),
        40,
        "32 Allies, 6 partners, UKR and NATO"
    );
}

#[test]
fn commands_on_a_missing_installation_say_how_to_create_one() {
    let installation = Installation {
        folder: tempfile::tempdir().unwrap(),
    };
    let error = installation.fails(&["pledge", "list"]);
    assert!(
        error.contains("no installation at") && error.contains("purl init"),
        "{error}"
    );
    assert!(!installation.database().exists());
}

#[test]
fn unknown_database_url_schemes_are_refused() {
    let installation = Installation::new();
    let error = installation.fails(&["--database-url", "mysql://localhost/purl", "pledge", "list"]);
    assert!(
        error.contains("unknown database URL scheme 'mysql:'"),
        "{error}"
    );
}

#[test]
fn the_demo_gives_a_believable_overview_and_verifies() {
    let installation = Installation::demo();
    let overview = installation.json(&["report", "overview", "--as-of", "2025-12-03"]);
    assert_eq!(overview["currency"], "USD");
    assert_eq!(overview["as_of"], "2025-12-03");
    for field in ["pledged", "committed", "paid"] {
        let amount = overview[field].as_str().unwrap();
        let (whole, cents) = amount.split_once('.').unwrap();
        assert_eq!(cents.len(), 2, "{field} is a decimal string with cents");
        assert!(
            whole.parse::<u64>().unwrap() > 1_000_000_000,
            "{field} is in the billions: {amount}"
        );
    }
    let pledged: f64 = overview["pledged"].as_str().unwrap().parse().unwrap();
    let committed: f64 = overview["committed"].as_str().unwrap().parse().unwrap();
    let paid: f64 = overview["paid"].as_str().unwrap().parse().unwrap();
    assert!(pledged >= committed && committed >= paid);
    let allies = &overview["allies"];
    assert_eq!(allies["eligible"], 31);
    assert_eq!(allies["total"], 32);
    let participating = allies["participating"].as_u64().unwrap();
    assert_eq!(
        allies["codes"].as_array().unwrap().len() as u64,
        participating
    );
    assert!(participating * 3 > 31 * 2, "over two-thirds of Allies");
    assert_eq!(
        allies["fraction"].as_f64().unwrap(),
        (participating as f64 / 31.0 * 10_000.0).round() / 10_000.0
    );
    assert!(
        !allies["codes"].as_array().unwrap().contains(&"USA".into()),
        "the supplier is not eligible"
    );
    assert_eq!(overview["undisclosed_pledges"], 3);
    assert_eq!(
        overview["partners"]["codes"],
        serde_json::json!(["AUS", "NZL"])
    );
    assert_eq!(
        overview["contributors"].as_u64().unwrap(),
        participating + 2
    );
    assert_eq!(overview["packages"]["count"], 5);
    let verify = installation.ok(&["verify"]);
    assert!(verify.starts_with("ok:"), "{verify}");
    let again = installation.ok(&["demo"]);
    assert!(
        again.contains("already loaded"),
        "running the quick start twice is harmless: {again}"
    );
}

#[test]
fn an_earlier_as_of_date_counts_only_what_was_announced_by_then() {
    let installation = Installation::demo();
    let august = installation.json(&["report", "overview", "--as-of", "2025-08-31"]);
    // NLD (EUR 500m at 1.1590), the joint Nordic NOK 5bn at 0.0975, DEU USD 500m, CAN CAD 680m at 0.7290.
    assert_eq!(august["pledged"], "2062720000.00");
    assert_eq!(
        august["allies"]["codes"],
        serde_json::json!(["CAN", "DEU", "DNK", "NLD", "NOR", "SWE"])
    );
    assert_eq!(august["undisclosed_pledges"], 0);
}

#[test]
fn a_retried_write_with_the_same_idempotency_key_writes_once() {
    let installation = Installation::new();
    let add = [
        "--idempotency-key",
        "k-1",
        "catalogue",
        "add",
        "--code",
        "IFAK",
        "--name",
        "First aid kit",
        "--category",
        "medical",
        "--unit-price",
        "150",
    ];
    let first = installation.ok(&add);
    assert!(first.contains("1 event written"), "{first}");
    let again = installation.ok(&add);
    assert!(again.contains("a repeat of an earlier request"), "{again}");
    assert_eq!(
        installation
            .json(&["catalogue", "list"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let other = [
        "--idempotency-key",
        "k-1",
        "catalogue",
        "add",
        "--code",
        "JAV",
        "--name",
        "Javelin",
        "--category",
        "armour",
        "--lethal",
        "--unit-price",
        "240000",
    ];
    let refused = installation.fails(&other);
    assert!(
        refused.contains("already used for a different request (its field 'code' differs)"),
        "{refused}"
    );
}

#[test]
fn an_update_based_on_a_stale_version_is_refused() {
    let installation = Installation::demo();
    let pledge = installation.json(&["pledge", "show", "LVA-2025-10"]);
    let version = pledge["pledge"]["version"].as_u64().unwrap().to_string();
    installation.ok(&[
        "--expected-version",
        &version,
        "pledge",
        "commit",
        "LVA-2025-10",
    ]);
    let stale = installation.fails(&[
        "--expected-version",
        &version,
        "pledge",
        "unpublish",
        "LVA-2025-10",
    ]);
    assert!(
        stale.contains(&format!(
            "is at version {}, not the expected version {version}",
            version.parse::<u64>().unwrap() + 1
        )),
        "{stale}"
    );
}

#[test]
fn a_full_round_runs_from_the_command_line() {
    let installation = Installation::new();
    installation.ok(&[
        "catalogue",
        "add",
        "--code",
        "PAC-3-MSE",
        "--name",
        "Patriot PAC-3 MSE",
        "--category",
        "air-defence",
        "--lethal",
        "--unit-price",
        "3950000.00",
    ]);
    installation.ok(&["list", "create", "2025-12"]);
    installation.ok(&[
        "list",
        "add-line",
        "2025-12",
        "--item",
        "PAC-3-MSE",
        "--quantity",
        "40",
        "--needed-by",
        "2026-02-01",
    ]);
    installation.ok(&["list", "submit", "2025-12"]);
    for party in ["requester", "coordinator", "supplier"] {
        installation.ok(&[
            "list",
            "approve",
            "2025-12",
            "--version",
            "1",
            "--as",
            party,
        ]);
    }
    installation.ok(&[
        "fx",
        "add",
        "--date",
        "2025-12-01",
        "--currency",
        "EUR",
        "--usd-per-unit",
        "1.16",
    ]);
    installation.ok(&[
        "pledge",
        "add",
        "--reference",
        "NLD-1",
        "--contributors",
        "NL",
        "--amount",
        "200000000",
        "--currency",
        "EUR",
        "--announced-on",
        "2025-12-02",
        "--status",
        "committed",
        "--public",
    ]);
    installation.ok(&[
        "payment",
        "add",
        "--pledge",
        "NLD-1",
        "--amount",
        "200000000",
        "--currency",
        "EUR",
        "--received-on",
        "2025-12-05",
    ]);
    installation.ok(&["package", "create", "--name", "Patriot"]);
    installation.ok(&[
        "package",
        "add-line",
        "1",
        "--period",
        "2025-12",
        "--line",
        "L0001",
        "--quantity",
        "40",
    ]);
    installation.ok(&[
        "package",
        "fund",
        "1",
        "--pledge",
        "NLD-1",
        "--amount",
        "140000000",
        "--currency",
        "EUR",
    ]);
    for status in ["funded", "released", "contracted"] {
        installation.ok(&["package", "status", "1", status]);
    }
    installation.ok(&[
        "delivery",
        "ship",
        "--package",
        "1",
        "--line",
        "L0001",
        "--quantity",
        "40",
        "--shipped-on",
        "2026-01-10",
    ]);
    installation.ok(&[
        "delivery",
        "receive",
        "DLV-000001",
        "--received-on",
        "2026-01-15",
        "--quantity",
        "40",
    ]);
    installation.ok(&["package", "status", "1", "delivered"]);
    let package = installation.json(&["package", "show", "1"]);
    assert_eq!(package["package"]["status"], "delivered");
    assert_eq!(package["package"]["value"]["amount"], "158000000.00");
    let overview = installation.json(&["report", "overview", "--as-of", "2026-01-31"]);
    assert_eq!(overview["paid"], "232000000.00");
    assert_eq!(overview["packages"]["delivered_value"], "158000000.00");
    installation.ok(&["verify"]);
}

#[test]
fn every_command_explains_itself_with_an_example() {
    let installation = Installation::new();
    let groups = [
        "participant",
        "user",
        "catalogue",
        "list",
        "pledge",
        "payment",
        "fx",
        "package",
        "delivery",
        "import",
        "report",
    ];
    for group in groups {
        let help = installation.ok(&[group, "--help"]);
        let subcommands: Vec<String> = help
            .lines()
            .skip_while(|line| !line.starts_with("Commands:"))
            .skip(1)
            .take_while(|line| line.starts_with("  "))
            .filter(|line| !line.starts_with("   "))
            .map(|line| line.split_whitespace().next().unwrap().to_owned())
            .filter(|name| name != "help")
            .collect();
        assert!(!subcommands.is_empty(), "{group} lists its commands");
        for subcommand in subcommands {
            let help = installation.ok(&[group, &subcommand, "--help"]);
            assert!(
                help.contains("Example:\n  purl "),
                "purl {group} {subcommand} --help has an example:\n{help}"
            );
        }
    }
}

#[test]
fn allocate_funds_a_what_if_file_and_explains_every_gap() {
    let installation = Installation {
        folder: tempfile::tempdir().unwrap(),
    };
    let input = installation.write_file(
        "what-if.json",
        r#"{"currency": "USD",
 "requirements": [
   {"id": "R1", "rank": 1, "category": "medical", "lethal": false, "unit_price": "100.00", "quantity": 1},
   {"id": "R2", "rank": 2, "category": "air-defence", "lethal": true, "unit_price": "100.00", "quantity": 2}],
 "funds": [
   {"id": "ANY", "contributor": "NLD", "amount": "100.00"},
   {"id": "MED", "contributor": "NZL", "amount": "100.00", "categories": ["medical"], "lethal_allowed": false}]}"#,
    );
    let output = installation.ok(&["allocate", "--input", crate::support::path(&input)]);
    let result: serde_json::Value = serde_json::from_str(&output).unwrap();
    assert_eq!(
        result["lines"][0]["sources"],
        serde_json::json!([{"fund": "MED", "amount": "100.00"}])
    );
    assert_eq!(result["lines"][1]["funded_quantity"], 1);
    assert_eq!(
        result["lines"][1]["sources"],
        serde_json::json!([{"fund": "ANY", "amount": "100.00"}])
    );
    let reason = result["lines"][1]["reason"].as_str().unwrap();
    assert!(
        reason.contains("100.00 USD more for air-defence (lethal) would fund it fully"),
        "{reason}"
    );
    assert_eq!(
        result["funds"],
        serde_json::json!([{"id": "ANY", "remaining": "0.00"}, {"id": "MED", "remaining": "0.00"}])
    );

    let bad = installation.write_file(
        "bad.json",
        &std::fs::read_to_string(&input)
            .unwrap()
            .replace("\"100.00\", \"quantity\": 2", "\"-1\", \"quantity\": 2"),
    );
    let error = installation.fails(&["allocate", "--input", crate::support::path(&bad)]);
    assert!(
        error
            .contains("requirements[1] (id R2): unit_price: amount '-1' must be greater than zero"),
        "{error}"
    );

    let generated = installation.folder.path().join("generated.json");
    installation.ok(&[
        "allocate",
        "--generate",
        "--lines",
        "300",
        "--funds",
        "7",
        "--seed",
        "3",
        "--output",
        crate::support::path(&generated),
    ]);
    let result = installation.ok(&["allocate", "--input", crate::support::path(&generated)]);
    let result: serde_json::Value = serde_json::from_str(&result).unwrap();
    assert_eq!(result["lines"].as_array().unwrap().len(), 300);
    assert_eq!(result["funds"].as_array().unwrap().len(), 7);
}

#[test]
fn a_live_allocation_preview_funds_the_approved_list_from_money_at_hand_and_writes_nothing() {
    let installation = Installation::demo();
    let before = installation.ok(&["verify"]);
    let preview = installation.json(&["allocate", "--live", "--period", "2025-11"]);
    assert_eq!(preview["list_version"], 1);
    let catalogue = installation.json(&["catalogue", "list"]);
    let price_of = |item: &str| -> f64 {
        let entry = catalogue
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["code"] == item)
            .unwrap();
        entry["unit_price"]["amount"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    for line in preview["lines"].as_array().unwrap() {
        let funded = line["funded_quantity"].as_u64().unwrap();
        assert!(funded <= line["wanted_quantity"].as_u64().unwrap());
        let paid: f64 = line["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["amount"].as_str().unwrap().parse::<f64>().unwrap())
            .sum();
        assert!(
            (paid - funded as f64 * price_of(line["item"].as_str().unwrap())).abs() < 0.005,
            "{line}"
        );
        assert_eq!(
            line["reason"].is_null(),
            funded == line["wanted_quantity"].as_u64().unwrap(),
            "{line}"
        );
    }
    // PAC-3 (100) was packaged in full: nothing of it is left to fund.
    assert_eq!(preview["lines"][0]["wanted_quantity"], 0);
    let with_committed = installation.json(&[
        "allocate",
        "--live",
        "--period",
        "2025-11",
        "--include-committed",
    ]);
    let funded = |p: &serde_json::Value| {
        p["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["funded_quantity"].as_u64().unwrap())
            .sum::<u64>()
    };
    assert!(funded(&with_committed) >= funded(&preview));
    assert_eq!(
        installation.ok(&["verify"]),
        before,
        "a preview writes nothing"
    );
}

#[test]
fn a_committed_allocation_is_ledgered_and_verifies() {
    let installation = Installation::demo();
    let committed = installation.json(&[
        "allocate",
        "--live",
        "--period",
        "2025-12",
        "--include-committed",
        "--commit",
    ]);
    let seq = committed["written"]["last_seq"].as_u64().unwrap();
    assert!(seq > DEMO_EVENTS, "{committed}");
    installation.ok(&["checkpoint", "create"]);
    let proof = installation.ok(&["proof", "inclusion", "--seq", &seq.to_string()]);
    assert!(proof.contains("\"leaf_index\""), "{proof}");
    let verify = installation.ok(&["verify"]);
    assert!(verify.starts_with("ok:"), "{verify}");
    let again = installation.json(&["allocate", "--live", "--period", "2025-12", "--commit"]);
    assert_eq!(
        again["written"]["last_seq"].as_u64().unwrap(),
        seq + 1,
        "a second run is a second numbered allocation"
    );
    let refused = installation.fails(&["allocate", "--live", "--period", "2026-01", "--commit"]);
    assert!(
        refused.contains("list '2026-01' does not exist"),
        "{refused}"
    );
}

#[test]
fn packages_are_formed_from_a_committed_allocation_up_to_the_target_and_can_be_funded() {
    let installation = Installation::demo();
    installation.ok(&["allocate", "--live", "--commit"]);
    let formed = installation.json(&["package", "form", "--target-usd", "300000000"]);
    let packages = formed["packages"].as_array().unwrap();
    assert!(packages.len() >= 2, "{formed}");
    for package in packages {
        let value: f64 = package["value"]["amount"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(value <= 300_000_000.0, "{package}");
        let number = package["number"].as_u64().unwrap().to_string();
        for contribution in package["contributions"].as_array().unwrap() {
            let usd: f64 = contribution["usd"]["amount"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(usd > 0.0, "{contribution}");
        }
        installation.ok(&["package", "status", &number, "funded"]);
    }
    let refused = installation.fails(&["package", "form"]);
    assert!(refused.contains("not yet packaged"), "{refused}");
    assert!(installation.ok(&["verify"]).starts_with("ok:"));
}
