//! A CSV file with a header row, read strictly: known columns only, every row as wide as the header.

use std::collections::HashMap;

use super::ImportProblem;

/// Rows of a file beyond this are refused before parsing: a list or ledger file is never larger.
pub(crate) const IMPORT_ROWS_MAX: usize = 1_000_000;

pub(crate) struct Table {
    pub rows: Vec<Row>,
}

pub(crate) struct Row {
    /// 1-based with the header as row 1.
    pub number: usize,
    cells: HashMap<String, String>,
}

impl Row {
    /// The trimmed cell of `column` (a column the table was read with).
    pub fn get(&self, column: &str) -> &str {
        self.cells.get(column).map_or("", |cell| cell.trim())
    }

    pub fn problem(&self, column: &str, message: impl Into<String>) -> ImportProblem {
        ImportProblem::at(self.number, column, message)
    }
}

/// Reads `text` whose header must hold exactly `required` plus any of `optional`.
pub(crate) fn read(
    text: &str,
    required: &[&str],
    optional: &[&str],
) -> Result<Table, Vec<ImportProblem>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|error| {
            vec![ImportProblem::file_level(format!(
                "cannot read the header row: {error}"
            ))]
        })?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    check_header(&header, required, optional)?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let number = index + 2;
        if index >= IMPORT_ROWS_MAX {
            problems.push(ImportProblem::file_level(format!(
                "more than {IMPORT_ROWS_MAX} rows"
            )));
            break;
        }
        match record {
            Ok(record) => {
                let cells = header
                    .iter()
                    .cloned()
                    .zip(record.iter().map(unescape))
                    .collect();
                rows.push(Row { number, cells });
            }
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
        Ok(Table { rows })
    } else {
        Err(problems)
    }
}

/// A cell as written: without the `'` an export puts before text a spreadsheet would take for a
/// formula (see `crate::workbook`).
fn unescape(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if crate::workbook::is_formula_like(rest) => rest.to_owned(),
        _ => cell.to_owned(),
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

/// Parses `true`/`false`, or `default` when empty.
pub(crate) fn boolean(row: &Row, column: &str, default: bool) -> Result<bool, ImportProblem> {
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
    row: &Row,
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
