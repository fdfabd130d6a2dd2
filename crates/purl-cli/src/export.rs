//! `purl export pledges|payments|fx|gdp|requirements --output FILE`: what the operator sees, in the
//! import's shape, as a workbook or a CSV file; and the one place the CLI writes a spreadsheet.

use std::path::Path;

use anyhow::Context as _;
use purl_app::access_log::Reader;
use purl_app::import::ImportKind;
use purl_app::workbook::{self, Book};
use purl_app::App;
use purl_store::Store;

use crate::cli::ExportCommand;
use crate::parse;
use crate::run::explain;

/// Writes `bytes` to a new file; an existing file is never overwritten.
pub fn write_new_file(output: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = std::fs::File::create_new(output).with_context(|| {
        format!(
            "while creating {} (an existing file is never overwritten)",
            output.display()
        )
    })?;
    std::io::Write::write_all(&mut file, bytes)
        .with_context(|| format!("while writing {}", output.display()))
}

/// Writes `book` to `output`: a workbook for `.xlsx`, its first sheet for `.csv`; a progress bar
/// counts the rows of a long one.
pub fn write_book(book: &Book, output: &Path) -> anyhow::Result<usize> {
    let extension = output
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let bytes = match extension.as_deref() {
        Some("xlsx") => {
            let bar = crate::progress::bar(&output.display().to_string());
            let written = workbook::to_xlsx_watched(book, &|step, done, total| {
                crate::progress::show(&bar, step, done, total);
            });
            bar.finish_and_clear();
            written.map_err(|error| anyhow::anyhow!("the workbook could not be made: {error}"))?
        }
        Some("csv") => book
            .sheets
            .first()
            .map(workbook::to_csv)
            .unwrap_or_default(),
        _ => anyhow::bail!(
            "{}: the file must end in .xlsx or .csv, which says what to write",
            output.display()
        ),
    };
    write_new_file(output, &bytes)?;
    Ok(book.sheets.first().map_or(0, |sheet| sheet.rows.len()))
}

pub async fn run<S: Store>(app: &App<S>, export: &ExportCommand) -> anyhow::Result<()> {
    let (kind, file) = match export {
        ExportCommand::Public { .. } => unreachable!("the open data is published by open_data"),
        ExportCommand::Pledges(file) => (ImportKind::Pledges, file),
        ExportCommand::Payments(file) => (ImportKind::Payments, file),
        ExportCommand::Fx(file) => (ImportKind::Fx, file),
        ExportCommand::Gdp(file) => (ImportKind::Gdp, file),
        ExportCommand::Requirements { file, period } => (
            ImportKind::Requirements {
                period: parse::period(period)?,
            },
            file,
        ),
    };
    let spinner =
        indicatif::ProgressBar::new_spinner().with_message(format!("reading {}", kind.name()));
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let book = app
        .export(&Reader::operator(), kind, app.today())
        .await
        .map_err(explain);
    spinner.finish_and_clear();
    let written = book.and_then(|book| write_book(&book, &file.output));
    say!(
        "ok: {} {} row(s) written to {}",
        written?,
        kind.name(),
        file.output.display()
    );
    Ok(())
}
