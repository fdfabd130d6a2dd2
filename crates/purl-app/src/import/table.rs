//! The cells of an input — a CSV file or a workbook's sheet — as text, and the strict reading of
//! them: known columns only, every row as wide as the header.

use super::ImportProblem;

/// Rows of a file beyond this are refused before parsing: a list or ledger file is never larger.
pub(crate) const IMPORT_ROWS_MAX: usize = 1_000_000;

/// An input's cells as text: the header row and each row after it, trimmed of the `'` an export
/// puts before formula-like text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Grid {
    pub header: Vec<String>,
    /// Each row's number (1-based, the header is row 1) and cells.
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Grid {
    /// Reads CSV text (a leading byte-order mark is ignored); every row must be as wide as the
    /// header.
    pub fn from_csv(text: &str) -> Result<Grid, Vec<ImportProblem>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(text.as_bytes());
        let header = reader
            .headers()
            .map_err(|error| {
                vec![ImportProblem::file_level(format!(
                    "cannot read the header row: {error}"
                ))]
            })?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        let mut grid = Grid {
            header,
            rows: Vec::new(),
        };
        let mut problems = Vec::new();
        for (index, record) in reader.records().enumerate() {
            let number = index + 2;
            if index >= IMPORT_ROWS_MAX {
                problems.push(too_many_rows());
                break;
            }
            match record {
                Ok(record) => grid.push(number, record.iter().map(str::to_owned).collect()),
                Err(error) => problems.push(ImportProblem {
                    file: None,
                    row: error
                        .position()
                        .map(|p| usize::try_from(p.line()).unwrap_or(number)),
                    column: None,
                    message: csv_message(&error),
                }),
            }
        }
        if problems.is_empty() {
            Ok(grid)
        } else {
            Err(problems)
        }
    }

    /// Adds row `number`, its cells as written (see [`unescape`]).
    pub(crate) fn push(&mut self, number: usize, mut cells: Vec<String>) {
        unescape_all(&mut cells);
        self.rows.push((number, cells));
    }
}

/// Every cell of a row as written (see [`unescape`]).
pub(crate) fn unescape_all(cells: &mut [String]) {
    for cell in cells {
        unescape(cell);
    }
}

pub(crate) fn too_many_rows() -> ImportProblem {
    ImportProblem::file_level(format!("more than {IMPORT_ROWS_MAX} rows"))
}

/// The rows of a grid whose header was checked.
pub(crate) struct Table<'a> {
    pub rows: Vec<Row<'a>>,
}

pub(crate) struct Row<'a> {
    /// 1-based with the header as row 1.
    pub number: usize,
    header: &'a [String],
    cells: &'a [String],
}

impl<'a> Row<'a> {
    /// Row `number` (1-based, the header is row 1) of cells under `header`.
    pub fn new(number: usize, header: &'a [String], cells: &'a [String]) -> Self {
        Row {
            number,
            header,
            cells,
        }
    }

    /// The trimmed cell of `column` (a column the table was read with).
    pub fn get(&self, column: &str) -> &str {
        self.header
            .iter()
            .position(|name| name == column)
            .and_then(|index| self.cells.get(index))
            .map_or("", |cell| cell.trim())
    }

    pub fn problem(&self, column: &str, message: impl Into<String>) -> ImportProblem {
        ImportProblem::at(self.number, column, message)
    }
}

/// Reads `grid`, whose header must hold exactly `required` plus any of `optional`, and whose rows
/// must each be as wide as the header.
pub(crate) fn read<'a>(
    grid: &'a Grid,
    required: &[&str],
    optional: &[&str],
) -> Result<Table<'a>, Vec<ImportProblem>> {
    check_header(&grid.header, required, optional)?;
    let width = grid.header.len();
    let mut problems = Vec::new();
    let rows = grid
        .rows
        .iter()
        .filter_map(|(number, cells)| {
            if cells.len() > width && cells[width..].iter().any(|cell| !cell.trim().is_empty()) {
                problems.push(ImportProblem {
                    file: None,
                    row: Some(*number),
                    column: None,
                    message: format!(
                        "the row has {} cells but the header has {width}",
                        cells.len()
                    ),
                });
                return None;
            }
            Some(Row::new(*number, &grid.header, cells))
        })
        .collect();
    if problems.is_empty() {
        Ok(Table { rows })
    } else {
        Err(problems)
    }
}

/// A cell as written: without the `'` an export puts before text a spreadsheet would take for a
/// formula (see `crate::workbook`).
fn unescape(cell: &mut String) {
    if cell
        .strip_prefix('\'')
        .is_some_and(crate::workbook::is_formula_like)
    {
        cell.remove(0);
    }
}

fn csv_message(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("the row has {len} cells but the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "the row is not valid UTF-8".to_owned(),
        _ => error.to_string(),
    }
}

fn check_header(
    header: &[String],
    required: &[&str],
    optional: &[&str],
) -> Result<(), Vec<ImportProblem>> {
    let mut problems = Vec::new();
    for (index, name) in header.iter().enumerate() {
        let column = index + 1;
        if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
            problems.push(ImportProblem {
                file: None,
                row: Some(1),
                column: Some(name.clone()),
                message: format!(
                    "unknown column '{name}' (column {column}); expected {}",
                    required.join(",")
                ),
            });
        }
        if header[..index].contains(name) {
            problems.push(ImportProblem::at(
                1,
                name,
                format!("column '{name}' appears twice"),
            ));
        }
    }
    for name in required {
        if !header.iter().any(|h| h == name) {
            problems.push(ImportProblem::at(
                1,
                name,
                format!("missing column '{name}'"),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Rows beyond this many are checked on every core.
const ROWS_CHECKED_ALONE_MAX: usize = 10_000;

/// A check of one row on its own, which needs no other row: it can run while the rest of the file
/// is still being read (see `xlsx::read_sheet`).
pub(crate) type RowCheck<T> = fn(&Row<'_>) -> T;

/// `check` of every row, in order; a long table is checked on every core at once.
pub(crate) fn check_rows<T: Send>(rows: &[Row<'_>], check: RowCheck<T>) -> Vec<T> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    if rows.len() <= ROWS_CHECKED_ALONE_MAX || cores == 1 {
        return rows.iter().map(check).collect();
    }
    let share = rows.len().div_ceil(cores);
    std::thread::scope(|scope| {
        let parts: Vec<_> = rows
            .chunks(share)
            .map(|part| scope.spawn(move || part.iter().map(check).collect::<Vec<T>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().expect("checking rows does not panic"))
            .collect()
    })
}

/// Parses `true`/`false`, or `default` when empty.
pub(crate) fn boolean(row: &Row<'_>, column: &str, default: bool) -> Result<bool, ImportProblem> {
    match row.get(column) {
        "" => Ok(default),
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(row.problem(column, format!("'{other}' is not true or false"))),
    }
}

/// Collects every problem of a parse; `value` of each cell or the problem found.
pub(crate) fn cell<T, E: std::fmt::Display>(
    problems: &mut Vec<ImportProblem>,
    row: &Row<'_>,
    column: &str,
    parsed: Result<T, E>,
) -> Option<T> {
    match parsed {
        Ok(value) => Some(value),
        Err(error) => {
            problems.push(row.problem(column, error.to_string()));
            None
        }
    }
}
