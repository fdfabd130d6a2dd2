//! CSV imports: every bad file gets a precise error and changes nothing; a good file imported
//! twice changes nothing the second time.

use crate::support::{path, Installation};

const PLEDGE_HEADER: &str = "reference,contributors,amount,currency,announced_on,status,part_of,categories,lethal_allowed,package,conditions,public,note";

fn pledges(rows: &[&str]) -> String {
    let mut text = PLEDGE_HEADER.to_owned();
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text.push('\n');
    text
}

const GOOD: &str =
    "NLD-1,NL,500000000,EUR,2025-08-04,committed,,air-defence,true,,,true,First package";

/// Imports `content` as `kind` into a demo installation and expects it refused with every one of
/// `expected` in the message, and nothing changed.
async fn refused(kind: &[&str], content: &str, expected: &[&str]) {
    let installation = Installation::demo();
    let before = installation.snapshot().await;
    let file = installation.write_file("bad.csv", content);
    let mut args = vec!["import"];
    args.extend(kind);
    args.push(path(&file));
    let error = installation.fails(&args);
    for needle in expected {
        assert!(error.contains(needle), "expected {needle:?} in:\n{error}");
    }
    assert!(
        error.contains("bad.csv"),
        "the error names the file:\n{error}"
    );
    assert_eq!(
        installation.snapshot().await,
        before,
        "a refused import changes nothing"
    );
}

#[tokio::test]
async fn a_wrong_column_is_named() {
    let content = pledges(&[GOOD]).replace("announced_on", "announced");
    refused(
        &["pledges"],
        &content,
        &[
            "row 1, column announced: unknown column 'announced'",
            "column announced_on: missing column 'announced_on'",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_bad_date_is_named_with_row_and_column() {
    let content = pledges(&[GOOD, "NLD-2,NL,5,EUR,03/12/2025,announced,,,,,,,"]);
    refused(
        &["pledges"],
        &content,
        &["row 3, column announced_on: date '03/12/2025' is invalid"],
    )
    .await;
}

#[tokio::test]
async fn an_unknown_currency_is_named() {
    let content = pledges(&["NLD-2,NL,5,EUX,2025-12-01,announced,,,,,,,"]);
    refused(
        &["pledges"],
        &content,
        &["row 2, column currency: unknown currency 'EUX'"],
    )
    .await;
}

#[tokio::test]
async fn an_unknown_country_is_named() {
    let content = pledges(&[
        "X-1,DK;XX,5,EUR,2025-12-01,announced,,,,,,,",
        "X-2,BRA,5,EUR,2025-12-01,announced,,,,,,,",
    ]);
    refused(
        &["pledges"],
        &content,
        &[
            "row 2, column contributors: unknown country 'XX'",
            "row 3, column contributors: unknown country or participant 'BRA'",
        ],
    )
    .await;
}

#[tokio::test]
async fn negative_and_malformed_amounts_are_named() {
    let content = pledges(&[
        "X-1,NL,-5,EUR,2025-12-01,announced,,,,,,,",
        "X-2,NL,\"1,000.00\",EUR,2025-12-01,announced,,,,,,,",
        "X-3,NL,12.345,EUR,2025-12-01,announced,,,,,,,",
        "X-4,NL,ten,EUR,2025-12-01,announced,,,,,,,",
    ]);
    refused(
        &["pledges"],
        &content,
        &[
            "row 2, column amount: amount '-5' must be greater than zero",
            "row 3, column amount: amount '1,000.00' has a thousands separator",
            "row 4, column amount: amount '12.345' has more decimals than EUR allows (2)",
            "row 5, column amount: amount 'ten' is not a decimal number",
        ],
    )
    .await;
}

#[tokio::test]
async fn a_duplicate_reference_is_named_with_both_rows() {
    let content = pledges(&[GOOD, "NLD-1,NL,5,EUR,2025-12-01,announced,,,,,,,"]);
    refused(
        &["pledges"],
        &content,
        &["row 3, column reference: duplicate reference 'NLD-1' (also on row 2)"],
    )
    .await;
}

#[tokio::test]
async fn part_of_pointing_nowhere_is_named() {
    let content = pledges(&["SWE-1,SE,5,USD,2025-12-01,announced,NOWHERE,,,,,,"]);
    refused(
        &["pledges"],
        &content,
        &["row 2, column part_of: part_of 'NOWHERE' points to no pledge"],
    )
    .await;
}

#[tokio::test]
async fn a_rule_broken_deep_in_the_file_refuses_the_whole_file() {
    // Row 3 is a share naming a contributor that is not in the joint pledge: only the domain
    // rules see it, after rows 2 parsed fine; still nothing is written.
    let content = pledges(&[
        "J-1,DK;NO,5,USD,2025-12-01,announced,,,,,,,",
        "S-1,PL,1,USD,2025-12-01,announced,J-1,,,,,,",
    ]);
    refused(
        &["pledges"],
        &content,
        &[
            "row 3",
            "POL is not one of the contributors of the joint pledge J-1",
        ],
    )
    .await;
}

#[tokio::test]
async fn bad_payments_rates_and_requirements_are_named() {
    let payments = "pledge_reference,amount,currency,received_on,note\nNOPE,5,EUR,2025-12-01,\nNLD-2025-08,5,EUR,2025-02-30,\n";
    refused(
        &["payments"],
        payments,
        &[
            "row 2, column pledge_reference: pledge 'NOPE' does not exist",
            "row 3, column received_on",
        ],
    )
    .await;
    let overpaid =
        "pledge_reference,amount,currency,received_on,note\nNLD-2025-08,1,EUR,2025-12-01,\n";
    refused(
        &["payments"],
        overpaid,
        &["row 2, column amount", "more than its 500000000.00 EUR"],
    )
    .await;
    let ecb = "Date,USD,JPY,\n2025-12-01,1.1610,abc,\n";
    refused(
        &["fx"],
        ecb,
        &["row 2, column JPY: rate 'abc' is not a positive decimal"],
    )
    .await;
    let changed_rate = "date,currency,usd_per_unit\n2025-12-01,EUR,1.2\n";
    refused(
        &["fx"],
        changed_rate,
        &["a rate for EUR on 2025-12-01 is already recorded"],
    )
    .await;
    let requirements = "rank,item_code,item_name,category,lethal,unit_price_usd,quantity,needed_by,justification\n1,PAC-3-MSE,Patriot PAC-3 MSE interceptor,air-defence,true,4200000.00,0,2026-01-01,\n1,KIT-X,Kit,medical,false,1,5,2026-01-01,\n2,JAV,Javelin,armour,maybe,1,5,2026-01-01,\n";
    refused(
        &["requirements", "--period", "2026-01"],
        requirements,
        &[
            "row 2, column quantity: quantity must be at least 1",
            "row 4, column lethal: 'maybe' is not true or false",
            "row 3, column rank: rank 1 is given twice (also on row 2)",
        ],
    )
    .await;
}

#[tokio::test]
async fn importing_the_same_files_again_changes_nothing() {
    let installation = Installation::demo();
    let before = installation.snapshot().await;
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo");
    for (kind, file) in [
        ("pledges", "pledges.csv"),
        ("payments", "payments.csv"),
        ("fx", "fx.csv"),
    ] {
        let output = installation.ok(&["import", kind, path(&demo.join(file))]);
        assert!(
            output.contains("0 change(s)") || output.contains("nothing to change"),
            "{kind}: {output}"
        );
    }
    let list = installation.ok(&[
        "import",
        "requirements",
        path(&demo.join("requirements-2025-12-v2.csv")),
        "--period",
        "2025-12",
    ]);
    assert!(list.contains("nothing to change"), "{list}");
    assert_eq!(installation.snapshot().await, before);
}

#[tokio::test]
async fn a_reimported_pledge_file_applies_status_and_publicity_changes_only() {
    let installation = Installation::new();
    let file = installation.write_file(
        "p.csv",
        &pledges(&["NLD-1,NL,5,EUR,2025-12-01,announced,,,,,,false,"]),
    );
    installation.ok(&["import", "pledges", path(&file)]);
    let file = installation.write_file(
        "p.csv",
        &pledges(&["NLD-1,NL,5,EUR,2025-12-01,committed,,,,,,true,"]),
    );
    installation.ok(&["import", "pledges", path(&file)]);
    let pledge = installation.json(&["pledge", "show", "NLD-1"]);
    assert_eq!(pledge["pledge"]["status"], "committed");
    assert_eq!(pledge["pledge"]["public"], true);
    let file = installation.write_file(
        "p.csv",
        &pledges(&["NLD-1,NL,6,EUR,2025-12-01,committed,,,,,,true,"]),
    );
    let error = installation.fails(&["import", "pledges", path(&file)]);
    assert!(
        error.contains(
            "row 2, column amount: pledge 'NLD-1' is already recorded with a different amount"
        ),
        "{error}"
    );
}

#[tokio::test]
async fn the_ecb_file_as_published_gives_exact_cross_rates() {
    let installation = Installation::new();
    let ecb = "Date,USD,JPY,CYP,NOK,\n2025-12-02,1.1610,181.05,N/A,11.7420,\n2025-12-01,1.1605,180.90,N/A,N/A,\n";
    let file = installation.write_file("eurofxref-hist.csv", ecb);
    let output = installation.ok(&["import", "fx", path(&file)]);
    assert!(
        output.contains("skipped columns of currencies no longer in ISO 4217: CYP"),
        "{output}"
    );
    let nok = installation.json(&["fx", "list", "--currency", "NOK"]);
    assert_eq!(nok.as_array().unwrap().len(), 1, "N/A is a gap, not a rate");
    assert_eq!(
        nok[0]["usd_per_unit"], "387/3914",
        "1.1610 / 11.7420 exactly, reduced"
    );
    // 5 billion NOK on 2025-12-03 uses the rate of 2025-12-02: 5e9 * 1.1610 / 11.7420.
    let converted = installation.json(&[
        "fx",
        "convert",
        "--amount",
        "5000000000",
        "--currency",
        "NOK",
        "--date",
        "2025-12-03",
    ]);
    assert_eq!(converted["usd"]["amount"], "494379151.76");
    assert_eq!(converted["rate_date"], "2025-12-02");
    let missing = installation.fails(&[
        "fx",
        "convert",
        "--amount",
        "5",
        "--currency",
        "NOK",
        "--date",
        "2025-11-30",
    ]);
    assert!(
        missing.contains("no exchange rate for NOK to USD on or before 2025-11-30"),
        "{missing}"
    );
}
