//! Excel workbooks in: written here with another library (rust_xlsxwriter) the way Excel stores
//! them — numbers as floating point, dates as serial numbers — and read back exactly.

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};

use crate::support::{path, Installation};

const HEADER: [&str; 13] = [
    "reference",
    "contributors",
    "amount",
    "currency",
    "announced_on",
    "status",
    "part_of",
    "categories",
    "lethal_allowed",
    "package",
    "conditions",
    "public",
    "note",
];

/// A pledges workbook whose data rows are written by `fill` (row 1 is the header).
fn workbook(
    installation: &Installation,
    name: &str,
    fill: impl FnOnce(&mut rust_xlsxwriter::Worksheet),
) -> std::path::PathBuf {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Pledges").unwrap();
    for (column, title) in (0u16..).zip(HEADER) {
        sheet.write_string(0, column, title).unwrap();
    }
    fill(sheet);
    let file = installation.folder.path().join(name);
    book.save(&file).unwrap();
    file
}

fn date(sheet: &mut rust_xlsxwriter::Worksheet, row: u32, column: u16, y: u16, m: u8, d: u8) {
    let format = Format::new().set_num_format("dd/mm/yyyy");
    let value = ExcelDateTime::from_ymd(y, m, d).unwrap();
    sheet
        .write_datetime_with_format(row, column, &value, &format)
        .unwrap();
}

#[test]
fn numbers_dates_and_text_cells_of_a_workbook_import_exactly() {
    let installation = Installation::new();
    let file = workbook(&installation, "pledges.xlsx", |sheet| {
        sheet.write_string(1, 0, "NLD-X-1").unwrap();
        sheet.write_string(1, 1, "NL").unwrap();
        sheet.write_number(1, 2, 577_000_000.1).unwrap();
        sheet.write_string(1, 3, "EUR").unwrap();
        date(sheet, 1, 4, 2025, 8, 4);
        sheet.write_string(1, 5, "committed").unwrap();
        sheet.write_boolean(1, 11, true).unwrap();
        sheet.write_string(2, 0, "DEU-X-1").unwrap();
        sheet.write_string(2, 1, "DE").unwrap();
        sheet.write_number(2, 2, 500_000_000.0).unwrap();
        sheet.write_string(2, 3, "USD").unwrap();
        sheet.write_string(2, 4, "2025-08-13").unwrap();
        sheet.write_string(2, 5, "announced").unwrap();
        sheet.write_string(2, 11, "false").unwrap();
    });
    installation.ok(&["import", "pledges", path(&file), "--sheet", "Pledges"]);
    let pledge = installation.json(&["pledge", "show", "NLD-X-1"]);
    assert_eq!(
        pledge["pledge"]["amount"]["amount"], "577000000.10",
        "{pledge}"
    );
    assert_eq!(pledge["pledge"]["announced_on"], "2025-08-04");
    let other = installation.json(&["pledge", "show", "DEU-X-1"]);
    assert_eq!(other["pledge"]["amount"]["amount"], "500000000.00");
    let missing = installation.fails(&["import", "pledges", path(&file), "--sheet", "Nope"]);
    assert!(
        missing.contains("there is no sheet 'Nope' (the sheets are: Pledges)"),
        "{missing}"
    );
}

/// Writes the data rows of a test sheet.
type Fill = Box<dyn FnOnce(&mut rust_xlsxwriter::Worksheet)>;

#[test]
fn every_malformed_sheet_is_refused_with_its_place_and_imports_nothing() {
    let installation = Installation::new();
    let before = installation.snapshot_blocking();
    let cases: Vec<(&str, Fill, &str)> = vec![
        (
            "fraction-of-a-cent.xlsx",
            Box::new(|sheet| {
                sheet.write_string(1, 0, "NLD-X-2").unwrap();
                sheet.write_string(1, 1, "NL").unwrap();
                sheet.write_number(1, 2, 10.005).unwrap();
                sheet.write_string(1, 3, "EUR").unwrap();
                sheet.write_string(1, 4, "2025-08-04").unwrap();
            }),
            "row 2, column amount",
        ),
        (
            "text-in-amount.xlsx",
            Box::new(|sheet| {
                sheet.write_string(1, 0, "NLD-X-3").unwrap();
                sheet.write_string(1, 1, "NL").unwrap();
                sheet.write_string(1, 2, "five hundred").unwrap();
                sheet.write_string(1, 3, "EUR").unwrap();
                sheet.write_string(1, 4, "2025-08-04").unwrap();
            }),
            "row 2, column amount",
        ),
        (
            "date-as-text.xlsx",
            Box::new(|sheet| {
                sheet.write_string(1, 0, "NLD-X-4").unwrap();
                sheet.write_string(1, 1, "NL").unwrap();
                sheet.write_number(1, 2, 5.0).unwrap();
                sheet.write_string(1, 3, "EUR").unwrap();
                sheet.write_string(1, 4, "04/08/2025").unwrap();
            }),
            "row 2, column announced_on",
        ),
        (
            "formula.xlsx",
            Box::new(|sheet| {
                sheet.write_string(1, 0, "NLD-X-5").unwrap();
                sheet.write_string(1, 1, "NL").unwrap();
                sheet.write_formula(1, 2, Formula::new("=2+3")).unwrap();
                sheet.write_string(1, 3, "EUR").unwrap();
                sheet.write_string(1, 4, "2025-08-04").unwrap();
            }),
            "formula",
        ),
        (
            "merged-header.xlsx",
            Box::new(|sheet| {
                sheet
                    .merge_range(0, 11, 0, 12, "public and note", &Format::new())
                    .unwrap();
            }),
            "are merged",
        ),
    ];
    for (name, fill, expected) in cases {
        let file = workbook(&installation, name, fill);
        let refused = installation.fails(&["import", "pledges", path(&file)]);
        assert!(refused.contains(expected), "{name}: {refused}");
        assert!(
            refused.contains(name),
            "{name}: the file is named: {refused}"
        );
    }
    let mut empty = Workbook::new();
    empty.add_worksheet();
    let file = installation.folder.path().join("empty.xlsx");
    empty.save(&file).unwrap();
    let refused = installation.fails(&["import", "pledges", path(&file)]);
    assert!(refused.contains("is empty"), "{refused}");
    let mut headless = Workbook::new();
    let sheet = headless.add_worksheet();
    sheet.write_string(0, 0, "reference").unwrap();
    sheet.write_string(1, 0, "NLD-X-6").unwrap();
    let file = installation.folder.path().join("no-header.xlsx");
    headless.save(&file).unwrap();
    let refused = installation.fails(&["import", "pledges", path(&file)]);
    assert!(
        refused.contains("contributors"),
        "a missing column is named: {refused}"
    );
    assert_eq!(
        installation.snapshot_blocking(),
        before,
        "nothing was imported"
    );
}

#[test]
fn a_dry_run_reports_every_problem_of_the_file_and_writes_nothing() {
    let installation = Installation::new();
    let before = installation.snapshot_blocking();
    let header = HEADER.join(",");
    let bad = installation.write_file(
        "bad.csv",
        &format!(
            "{header}\nNLD-D-1,NL,12x,EUR,2025-08-04,committed,,,true,,,true,\nNLD-D-2,XX,5,EUR,2025-08-04,committed,,,true,,,true,\nNLD-D-3,NL,5,EUR,2025-13-04,committed,,,true,,,true,\n"
        ),
    );
    let refused = installation.fails(&["import", "pledges", path(&bad), "--dry-run"]);
    assert!(refused.contains("3 problem(s)"), "{refused}");
    for place in [
        "row 2, column amount",
        "row 3, column contributors",
        "row 4, column announced_on",
    ] {
        assert!(refused.contains(place), "{place}: {refused}");
    }
    let good = installation.write_file(
        "good.csv",
        &format!("{header}\nNLD-D-1,NL,12,EUR,2025-08-04,committed,,,true,,,true,\n"),
    );
    let checked = installation.ok(&["import", "pledges", path(&good), "--dry-run"]);
    assert!(checked.starts_with("ok (dry run)"), "{checked}");
    assert!(checked.contains("nothing was written"), "{checked}");
    assert_eq!(
        installation.snapshot_blocking(),
        before,
        "a dry run writes nothing"
    );
    installation.ok(&["import", "pledges", path(&good)]);
    assert_ne!(installation.snapshot_blocking(), before);
}

#[test]
fn a_template_explains_its_columns_and_filled_in_it_imports_cleanly() {
    use calamine::{Data, Reader, Xlsx};
    let installation = Installation::new();
    for kind in ["pledges", "payments", "fx", "requirements"] {
        let file = installation
            .folder
            .path()
            .join(format!("{kind}-template.xlsx"));
        installation.ok(&["template", kind, "--output", path(&file)]);
        let mut book: Xlsx<_> = calamine::open_workbook(&file).unwrap();
        assert_eq!(book.sheet_names()[..2], ["Data", "Columns"], "{kind}");
        let data = book.worksheet_range("Data").unwrap();
        let header: Vec<String> = data
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        let explained = book.worksheet_range("Columns").unwrap();
        for name in &header {
            assert!(
                explained
                    .rows()
                    .any(|row| row[0] == Data::String(name.clone())),
                "{kind}: column {name} is explained"
            );
        }
        if kind == "pledges" {
            assert_eq!(header, HEADER, "the template's header is the import's");
        }
    }
    let again = installation.fails(&[
        "template",
        "fx",
        "--output",
        path(&installation.folder.path().join("fx-template.xlsx")),
    ]);
    assert!(again.contains("never overwritten"), "{again}");

    // Filled in (here: a copy with the template's header and one row), it imports cleanly.
    let file = workbook(&installation, "filled.xlsx", |sheet| {
        for (column, cell) in (0u16..).zip([
            "NLD-T-1",
            "NL",
            "",
            "EUR",
            "",
            "committed",
            "",
            "air-defence;medical",
            "false",
            "",
            "defensive use only",
            "true",
            "from the template",
        ]) {
            sheet.write_string(1, column, cell).unwrap();
        }
        sheet.write_number(1, 2, 1_250_000.5).unwrap();
        date(sheet, 1, 4, 2025, 11, 20);
    });
    installation.ok(&["import", "pledges", path(&file), "--dry-run"]);
    installation.ok(&["import", "pledges", path(&file)]);
    let pledge = installation.json(&["pledge", "show", "NLD-T-1"]);
    assert_eq!(
        pledge["pledge"]["amount"]["amount"], "1250000.50",
        "{pledge}"
    );
    assert_eq!(pledge["pledge"]["earmark"]["lethal_allowed"], false);
}

/// The Data sheet of a workbook, as text cells.
fn data_sheet(file: &std::path::Path) -> Vec<Vec<String>> {
    use calamine::{Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook(file).unwrap();
    let range = book.worksheet_range("Data").unwrap();
    range
        .rows()
        .map(|row| row.iter().map(ToString::to_string).collect())
        .collect()
}

#[test]
fn every_export_imports_into_a_fresh_installation_and_exports_again_identically() {
    let first = Installation::demo();
    // Text a spreadsheet would run as a formula goes out neutralised and comes back as it was.
    let tricky = first.write_file(
        "tricky.csv",
        &format!(
            "{}\nNLD-F-1,NL,1.50,EUR,2025-08-04,announced,,,true,,=HYPERLINK(\"http://x\"),false,@SUM(A1)\n",
            HEADER.join(",")
        ),
    );
    first.ok(&["import", "pledges", path(&tricky)]);
    let kinds: [(&str, &[&str]); 5] = [
        ("fx", &[]),
        ("gdp", &[]),
        ("pledges", &[]),
        ("payments", &[]),
        ("requirements", &["--period", "2025-12"]),
    ];
    let export = |installation: &Installation, kind: &str, extra: &[&str], name: &str| {
        let file = installation.folder.path().join(name);
        let mut args = vec!["export", kind, "--output", path(&file)];
        args.extend_from_slice(extra);
        installation.ok(&args);
        file
    };
    let second = Installation::new();
    for (kind, extra) in kinds {
        let workbook = export(&first, kind, extra, &format!("{kind}.xlsx"));
        let csv = export(&first, kind, extra, &format!("{kind}.csv"));
        let rows = data_sheet(&workbook);
        assert!(rows.len() > 1, "{kind}: the demo has rows");
        let mut args = vec!["import", kind, path(&workbook)];
        args.extend_from_slice(extra);
        second.ok(&args);
        let again = export(&second, kind, extra, &format!("{kind}-again.xlsx"));
        assert_eq!(data_sheet(&again), rows, "{kind}: the workbook came back");
        let csv_again = export(&second, kind, extra, &format!("{kind}-again.csv"));
        assert_eq!(
            std::fs::read_to_string(&csv_again).unwrap(),
            std::fs::read_to_string(&csv).unwrap(),
            "{kind}: the CSV came back"
        );
    }
    let pledges = std::fs::read_to_string(first.folder.path().join("pledges.csv")).unwrap();
    assert!(
        pledges.contains("\"'=HYPERLINK(\"\"http://x\"\")\",false,'@SUM(A1)"),
        "formula-like text is neutralised in CSV: {pledges}"
    );
    let pledge = second.json(&["pledge", "show", "NLD-F-1"]);
    assert_eq!(pledge["pledge"]["conditions"], "=HYPERLINK(\"http://x\")");
    assert_eq!(pledge["pledge"]["note"], "@SUM(A1)");
    // The figures built on what was imported are the same too.
    let report = |installation: &Installation| {
        installation.json(&[
            "--format",
            "json",
            "report",
            "contributions",
            "--as-of",
            "2025-12-31",
        ])
    };
    assert_eq!(report(&second)["rows"], report(&first)["rows"]);
}

#[test]
fn a_report_workbook_says_what_it_is_as_of_and_what_was_left_out() {
    use calamine::{Reader, Xlsx};
    let installation = Installation::demo();
    for (report, sheet) in [("overview", "Pledges"), ("contributions", "Contributions")] {
        let file = installation.folder.path().join(format!("{report}.xlsx"));
        installation.ok(&[
            "report",
            report,
            "--as-of",
            "2025-12-31",
            "--output",
            path(&file),
        ]);
        let mut book: Xlsx<_> = calamine::open_workbook(&file).unwrap();
        assert!(book.sheet_names().contains(&sheet.to_owned()), "{report}");
        let rows = book.worksheet_range(sheet).unwrap();
        assert!(rows.height() > 2, "{report}: {sheet} has rows");
        let about = book.worksheet_range("About").unwrap();
        let about: Vec<String> = about.rows().map(|r| r[0].to_string()).collect();
        for key in ["as of", "currency", "left out"] {
            assert!(about.iter().any(|k| k == key), "{report}: About has {key}");
        }
    }
    let overview = installation.folder.path().join("overview.xlsx");
    let mut book: Xlsx<_> = calamine::open_workbook(&overview).unwrap();
    let about = book.worksheet_range("About").unwrap();
    let sources = about
        .rows()
        .find(|r| r[0] == "exchange-rate sources")
        .map(|r| r[1].to_string())
        .unwrap();
    assert!(sources.contains("fx.csv"), "{sources}");
}
