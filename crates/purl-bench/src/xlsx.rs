//! `purl-bench xlsx --rows 100000`: a requirement list as an Excel workbook — written, imported
//! (read, validated, stored, in the ledger) and exported again — next to pandas and python-calamine
//! reading the same file in the same run.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;
use chrono::NaiveDate;
use purl_app::access_log::Reader;
use purl_app::import::{template, ImportKind, ImportRequest, Source};
use purl_app::workbook::{self, Cell};
use purl_app::{App, SystemClock};
use purl_core::ids::{Period, STANDARD_CATEGORIES};
use purl_core::user::Actor;
use purl_store_sqlite::SqliteStore;

/// Distinct catalogue items the generated list draws on.
const ITEMS: usize = 1_000;

fn rows(count: usize) -> Vec<Vec<Cell>> {
    let needed_by = NaiveDate::from_ymd_opt(2027, 6, 30).expect("a valid date");
    (0..count)
        .map(|n| {
            let item = n % ITEMS;
            vec![
                Cell::decimal(n + 1),
                Cell::text(format!("ITEM{item:04}")),
                Cell::text(format!("Generated item {item}")),
                Cell::text(STANDARD_CATEGORIES[item % STANDARD_CATEGORIES.len()]),
                Cell::Bool(item.is_multiple_of(3)),
                Cell::Decimal(format!("{}.{:02}", 100 + item * 37, item % 100)),
                Cell::decimal(1 + n % 500),
                Cell::Date(needed_by),
                Cell::text(format!("line {n} of the generated list")),
            ]
        })
        .collect()
}

/// Seconds a Python snippet reports for reading `file`, or why it could not run.
fn python(snippet: &str, file: &Path) -> Result<f64, String> {
    let output = Command::new("python3")
        .arg("-c")
        .arg(snippet)
        .arg(file)
        .output()
        .map_err(|error| format!("python3 could not run: {error}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim().parse().map_err(|_| {
        format!(
            "not measured ({}); install with: pip install pandas openpyxl python-calamine",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("no output")
        )
    })
}

const PANDAS: &str = "import sys, time, pandas\nt = time.perf_counter()\nframe = pandas.read_excel(sys.argv[1], sheet_name='Data')\nprint(time.perf_counter() - t)";
const CALAMINE: &str = "import sys, time\nfrom python_calamine import CalamineWorkbook\nt = time.perf_counter()\nrows = CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_name('Data').to_python()\nprint(time.perf_counter() - t)";

pub async fn run(count: usize, runs: u32) -> anyhow::Result<()> {
    println!("purl-bench xlsx --rows {count} --runs {runs}");
    let folder = tempfile::tempdir()?;
    let file = folder.path().join("requirements.xlsx");
    let period = Period::parse("2026-01").map_err(|e| anyhow::anyhow!("{e}"))?;
    let kind = ImportKind::Requirements { period };

    let started = Instant::now();
    let book = template::book(kind, rows(count), Vec::new());
    let bytes = workbook::to_xlsx(&book).map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::write(&file, &bytes)?;
    println!(
        "write the workbook ({count} rows, {:.1} MB): {:.2} s",
        bytes.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let mut app = None;
    let (mut imports, mut readings) = (Vec::new(), Vec::new());
    for run in 1..=runs {
        let (imported, import_s) = import_once(&file, folder.path(), kind, run).await?;
        app = Some(imported);
        imports.push(import_s);
        match python(CALAMINE, &file) {
            Ok(seconds) => {
                println!(
                    "  python-calamine, reading only, right after: {seconds:.2} s (the import takes {:.2}x as long)",
                    import_s / seconds
                );
                readings.push(seconds);
            }
            Err(why) => println!("  python-calamine: {why}"),
        }
    }
    let best = |times: &[f64]| times.iter().copied().fold(f64::INFINITY, f64::min);
    if runs > 1 && !readings.is_empty() {
        for (what, import_s, reading_s) in [
            ("best", best(&imports), best(&readings)),
            ("median", median(&mut imports), median(&mut readings)),
        ] {
            println!(
                "{what} of {runs}: import {import_s:.2} s, python-calamine {reading_s:.2} s (the import takes {:.2}x as long)",
                import_s / reading_s
            );
        }
    }
    let app = app.context("at least one run")?;

    let started = Instant::now();
    let exported = app
        .export(&Reader::operator(), kind, app.today())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let out = workbook::to_xlsx(&exported).map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::write(folder.path().join("exported.xlsx"), &out)?;
    println!(
        "export ({} rows, {:.1} MB): {:.2} s",
        exported.sheets[0].rows.len(),
        out.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    match python(PANDAS, &file) {
        Ok(seconds) => println!(
            "pandas.read_excel (openpyxl), reading only: {seconds:.2} s; the best purl import is {:.1}x as fast",
            seconds / best(&imports)
        ),
        Err(why) => println!("pandas.read_excel: {why}"),
    }
    Ok(())
}

/// The middle of `times` (the mean of the middle two of an even count).
fn median(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    let middle = times.len() / 2;
    if times.len().is_multiple_of(2) {
        (times[middle - 1] + times[middle]) / 2.0
    } else {
        times[middle]
    }
}

/// Imports `file` into a fresh SQLite installation in `folder` as `purl import requirements`
/// does, printing the time of each step: the installation and the seconds taken.
async fn import_once(
    file: &Path,
    folder: &Path,
    kind: ImportKind,
    run: u32,
) -> anyhow::Result<(App<SqliteStore>, f64)> {
    let store = SqliteStore::create(&folder.join(format!("bench-{run}.sqlite")))
        .await
        .context("creating the ledger")?;
    let app = App::new(store, Box::new(SystemClock));
    let started = Instant::now();
    let bytes = std::fs::read(file)?;
    let steps = std::sync::Mutex::new(Vec::<(&'static str, f64)>::new());
    let note_step = |step: &'static str, _done: u64, _total: u64| {
        let mut steps = steps.lock().expect("not poisoned");
        if steps.last().is_none_or(|(last, _)| *last != step) {
            steps.push((step, started.elapsed().as_secs_f64()));
        }
    };
    let request = ImportRequest {
        kind,
        file: "requirements.xlsx",
        source: Source::Xlsx {
            bytes: &bytes,
            sheet: None,
        },
        idempotency_key: None,
        dry_run: false,
    };
    let summary = app
        .import_or_check(&Actor::Operator, request, &note_step)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let import_s = started.elapsed().as_secs_f64();
    let steps = steps.into_inner().expect("not poisoned");
    let took: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(index, (step, at))| {
            let end = steps.get(index + 1).map_or(import_s, |(_, next)| *next);
            format!("{step} {:.2} s", end - at)
        })
        .collect();
    let before = steps.first().map_or(0.0, |(_, at)| *at);
    println!(
        "run {run}: import (read, validate, store and append to the ledger, synchronous=FULL): {import_s:.2} s for {} rows, {} events (opening {before:.2} s, {})",
        summary.rows,
        summary.written.events,
        took.join(", ")
    );
    Ok((app, import_s))
}
