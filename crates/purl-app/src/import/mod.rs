//! Imports of CSV files and XLSX sheets. A file is read and checked completely before anything is
//! written; every problem names the file, row (the header is row 1) and column; a file with any
//! problem imports nothing; importing the same file again changes nothing.

mod fx;
mod gdp;
mod payments;
mod pledges;
mod requirements;
mod table;
pub mod template;
pub mod xlsx;

pub use pledges::resolve_participant;
pub use table::Grid;

use std::fmt;

use purl_core::command::Command;
use purl_core::error::DomainError;
use purl_core::ids::Period;
use purl_core::state::State;
use purl_core::user::Actor;
use purl_store::Store;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{unwatched, App, AppError, BatchError, Progress, WriteOptions, Written};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Pledges,
    Payments,
    Fx,
    Gdp,
    Requirements { period: Period },
}

impl ImportKind {
    pub fn name(self) -> &'static str {
        match self {
            ImportKind::Pledges => "pledges",
            ImportKind::Payments => "payments",
            ImportKind::Fx => "fx",
            ImportKind::Gdp => "gdp",
            ImportKind::Requirements { .. } => "requirements",
        }
    }
}

/// One problem in an input, and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    pub file: Option<String>,
    /// 1-based, counting the header as row 1, as a spreadsheet shows it.
    pub row: Option<usize>,
    pub column: Option<String>,
    pub message: String,
}

impl ImportProblem {
    pub(crate) fn at(row: usize, column: &str, message: impl Into<String>) -> Self {
        Self {
            file: None,
            row: Some(row),
            column: Some(column.to_owned()),
            message: message.into(),
        }
    }

    pub(crate) fn file_level(message: impl Into<String>) -> Self {
        Self {
            file: None,
            row: None,
            column: None,
            message: message.into(),
        }
    }

    /// A refused command of a batch, named by its position.
    pub(crate) fn command(index: usize, error: &DomainError) -> Self {
        Self {
            file: None,
            row: None,
            column: None,
            message: format!("command {}: {error}", index + 1),
        }
    }
}

impl fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut place = Vec::new();
        if let Some(file) = &self.file {
            place.push(file.clone());
        }
        if let Some(row) = self.row {
            place.push(format!("row {row}"));
        }
        if let Some(column) = &self.column {
            place.push(format!("column {column}"));
        }
        if place.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", place.join(", "), self.message)
        }
    }
}

/// A command parsed from a row, with where it came from, to place a refusal.
pub(crate) struct RowCommand {
    pub row: Option<usize>,
    pub command: Command,
    /// Which column a refusal of this command most likely concerns.
    pub column_for: fn(&DomainError) -> Option<&'static str>,
}

/// What a parser made of a file.
pub(crate) struct Parsed {
    pub commands: Vec<RowCommand>,
    pub rows: usize,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub file: String,
    pub kind: &'static str,
    pub rows: usize,
    pub commands: usize,
    pub written: Written,
    pub notes: Vec<String>,
    /// Checked only: nothing was written (`written` counts the events it would make).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

/// Where an import's rows come from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A CSV file's bytes (UTF-8).
    Csv(&'a [u8]),
    /// An XLSX workbook's bytes and the sheet to read (the first when none is named).
    Xlsx {
        bytes: &'a [u8],
        sheet: Option<&'a str>,
    },
}

impl Source<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Source::Csv(bytes) | Source::Xlsx { bytes, .. } => bytes,
        }
    }

    /// The source's cells as text; a workbook tells `progress` of the rows read.
    pub fn read(&self, progress: Progress<'_>) -> Result<Grid, Vec<ImportProblem>> {
        match *self {
            Source::Csv(bytes) => {
                let text = std::str::from_utf8(bytes).map_err(|error| {
                    vec![ImportProblem::file_level(format!(
                        "the file is not UTF-8 (first bad byte at offset {})",
                        error.valid_up_to()
                    ))]
                })?;
                Grid::from_csv(text)
            }
            Source::Xlsx { bytes, sheet } => xlsx::read_sheet(bytes, sheet, progress),
        }
    }

    /// The source's cells, and `check` of each row when the reading could run it on the way (a
    /// workbook's rows are checked as they are read, on a second core).
    fn read_checked<T: Send>(
        &self,
        progress: Progress<'_>,
        check: table::RowCheck<T>,
    ) -> Result<(Grid, Option<Vec<T>>), Vec<ImportProblem>> {
        match *self {
            Source::Csv(_) => self.read(progress).map(|grid| (grid, None)),
            Source::Xlsx { bytes, sheet } => {
                xlsx::read_sheet_checked(bytes, sheet, progress, Some(check))
            }
        }
    }

    /// `problems` found in the source's rows, with what the source adds to explain them.
    fn explain(&self, problems: Vec<ImportProblem>) -> Vec<ImportProblem> {
        match *self {
            Source::Csv(_) => problems,
            Source::Xlsx { bytes, sheet } => xlsx::explain(bytes, sheet, problems),
        }
    }
}

/// One file to import, and how.
#[derive(Debug, Clone)]
pub struct ImportRequest<'a> {
    pub kind: ImportKind,
    /// The name problems are reported under.
    pub file: &'a str,
    pub source: Source<'a>,
    pub idempotency_key: Option<String>,
    /// Checks only: every problem is reported, nothing is written.
    pub dry_run: bool,
}

fn parse(
    kind: ImportKind,
    grid: &Grid,
    state: &State,
    file: &str,
) -> Result<Parsed, Vec<ImportProblem>> {
    match kind {
        ImportKind::Pledges => pledges::parse(grid, state),
        ImportKind::Payments => payments::parse(grid, state),
        ImportKind::Fx => fx::parse(grid, state, file),
        ImportKind::Gdp => gdp::parse(grid, state, file),
        ImportKind::Requirements { period } => requirements::parse(grid, state, period, None),
    }
}

/// Reads `source` and checks its rows against `state`: problems of reading as found, problems of
/// rows with what the source adds to explain them. Tells `progress` of the steps `reading` (rows
/// of a workbook) and `checking` (rows).
fn read_and_parse(
    kind: ImportKind,
    source: &Source<'_>,
    state: &State,
    file: &str,
    progress: Progress<'_>,
) -> Result<Parsed, Vec<ImportProblem>> {
    let parsed = match kind {
        ImportKind::Requirements { period } => {
            let (grid, checked) = source.read_checked(progress, requirements::check_row)?;
            checking(grid, progress, |grid| {
                requirements::parse(grid, state, period, checked)
            })
        }
        other => {
            let grid = source.read(progress)?;
            checking(grid, progress, |grid| parse(other, grid, state, file))
        }
    };
    parsed.map_err(|problems| source.explain(problems))
}

/// A grid of more rows than this is freed on another thread: its cells take a while to free, and
/// nothing waits for them.
const GRID_ROWS_FREED_ALONE_MIN: usize = 10_000;

/// `parse` of `grid`, as the step `checking`; a large grid is freed in the background.
fn checking(
    grid: Grid,
    progress: Progress<'_>,
    parse: impl FnOnce(&Grid) -> Result<Parsed, Vec<ImportProblem>>,
) -> Result<Parsed, Vec<ImportProblem>> {
    let rows = grid.rows.len() as u64;
    progress("checking", 0, rows);
    let parsed = parse(&grid);
    if grid.rows.len() > GRID_ROWS_FREED_ALONE_MIN {
        std::thread::spawn(move || drop(grid));
    }
    progress("checking", rows, rows);
    parsed
}

/// A file to import larger than this is refused before it is read: a million rows of any kind
/// fit in far less.
pub const FILE_BYTES_MAX: u64 = 512 << 20;

/// Reads and checks a file against `state` without a store and writes nothing: the number of
/// changes it would make, or every problem. The whole reading and checking path of every import
/// (the fuzz targets run it).
pub fn check_file(
    kind: ImportKind,
    source: &Source<'_>,
    state: &State,
    file: &str,
) -> Result<usize, Vec<ImportProblem>> {
    read_and_parse(kind, source, state, file, &unwatched).map(|parsed| parsed.commands.len())
}

impl<S: Store> App<S> {
    /// Imports one CSV file all-or-nothing. `file` is the name errors are reported under.
    pub async fn import(
        &self,
        actor: &Actor,
        kind: ImportKind,
        file: &str,
        text: &str,
        idempotency_key: Option<String>,
    ) -> Result<ImportSummary, AppError> {
        let request = ImportRequest {
            kind,
            file,
            source: Source::Csv(text.as_bytes()),
            idempotency_key,
            dry_run: false,
        };
        self.import_or_check(actor, request, &unwatched).await
    }

    /// Imports one file all-or-nothing, or with `dry_run` only checks it: every problem of the
    /// file is reported at once either way, and a dry run writes nothing.
    pub async fn import_or_check(
        &self,
        actor: &Actor,
        request: ImportRequest<'_>,
        progress: Progress<'_>,
    ) -> Result<ImportSummary, AppError> {
        // Steps: `reading` (rows of a workbook), `checking` (rows), `writing` (changes).
        let ImportRequest {
            kind,
            file,
            source,
            idempotency_key,
            dry_run,
        } = request;
        let name_problems = |mut problems: Vec<ImportProblem>| {
            for problem in &mut problems {
                problem.file = Some(file.to_owned());
            }
            AppError::Rejected(problems)
        };
        let state = self.state().await?;
        let parsed =
            read_and_parse(kind, &source, &state, file, progress).map_err(name_problems)?;
        tracing::info!(
            file,
            kind = kind.name(),
            rows = parsed.rows,
            commands = parsed.commands.len(),
            "parsed"
        );
        let places: Vec<_> = parsed
            .commands
            .iter()
            .map(|c| (c.row, c.column_for))
            .collect();
        let commands: Vec<Command> = parsed.commands.into_iter().map(|c| c.command).collect();
        let count = commands.len();
        progress("writing", 0, count as u64);
        let request = crate::idempotency::describe(&serde_json::json!({ "import": {
            "kind": kind.name(),
            "content_sha256": hex::encode(Sha256::digest(source.bytes())),
        }}));
        let options = WriteOptions {
            idempotency_key,
            request,
            expected_version: None,
        };
        let outcome = if dry_run {
            self.dry_run(actor, &commands).await.map(|events| Written {
                first_seq: None,
                last_seq: None,
                events,
                replayed: false,
            })
        } else {
            self.execute_all(actor, commands, options).await
        };
        let written = outcome.map_err(|error| match error {
            BatchError::Refused(refusals) => name_problems(
                refusals
                    .into_iter()
                    .map(|(index, error)| {
                        let (row, column_for) = places[index];
                        ImportProblem {
                            file: None,
                            row,
                            column: column_for(&error).map(str::to_owned),
                            message: error.to_string(),
                        }
                    })
                    .collect(),
            ),
            BatchError::App(error) => error,
        })?;
        progress("writing", count as u64, count as u64);
        Ok(ImportSummary {
            file: file.to_owned(),
            kind: kind.name(),
            rows: parsed.rows,
            commands: count,
            written,
            notes: parsed.notes,
            dry_run,
        })
    }
}
