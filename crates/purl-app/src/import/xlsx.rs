//! Excel workbooks in: one sheet (by name, or the first) read into the same rows as a CSV file, so
//! every import checks an XLSX sheet exactly as it checks CSV. Numbers are taken as Excel stores
//! them and written out in their shortest exact decimal form (a cell holding 577000000.1 is
//! `577000000.10` once parsed as money; a value that is not a whole number of minor units is an
//! error of the money parser, naming the cell). Date cells become `YYYY-MM-DD`. Formulas, error
//! cells and merged header cells are refused, each naming where.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use super::ImportProblem;

/// The workbook's column letters for a 0-based column index (`A`, `B`, …, `AA`).
fn column_letters(mut index: u32) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(char::from(b'A' + u8::try_from(index % 26).unwrap_or(0)));
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.iter().rev().collect()
}

fn cell_name(row: u32, column: u32) -> String {
    format!("{}{}", column_letters(column), row + 1)
}

/// A cell as the CSV import would see it, or why it cannot be read.
fn cell_text(cell: &Data) -> Result<String, String> {
    match cell {
        Data::Empty => Ok(String::new()),
        Data::String(text) => Ok(text.clone()),
        Data::Int(value) => Ok(value.to_string()),
        Data::Float(value) if value.is_finite() => Ok(format!("{value}")),
        Data::Float(value) => Err(format!("holds the number {value}")),
        Data::Bool(value) => Ok(value.to_string()),
        Data::DateTime(value) => match value.as_datetime() {
            Some(moment) if moment.time() == chrono::NaiveTime::MIN => {
                Ok(moment.date().format("%Y-%m-%d").to_string())
            }
            Some(moment) => Err(format!(
                "holds a date with a time of day ({moment}); give the date only"
            )),
            None => Err("holds a date Excel cannot represent".into()),
        },
        Data::DateTimeIso(text) => Ok(text.get(..10).unwrap_or(text).to_owned()),
        Data::DurationIso(text) => Err(format!("holds a duration ({text})")),
        Data::Error(error) => Err(format!("holds the error {error}")),
    }
}

/// Reads sheet `sheet` (or the first) of the workbook `bytes` as CSV text. Problems name the
/// sheet's row (1-based, as Excel shows it) and the header of the column.
pub fn sheet_to_csv(bytes: &[u8], sheet: Option<&str>) -> Result<String, Vec<ImportProblem>> {
    let file_problem = |message: String| vec![ImportProblem::file_level(message)];
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|error| file_problem(format!("not an XLSX workbook: {error}")))?;
    let names = workbook.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|name| name.as_str() == wanted)
            .cloned()
            .ok_or_else(|| {
                file_problem(format!(
                    "there is no sheet '{wanted}' (the sheets are: {})",
                    names.join(", ")
                ))
            })?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| file_problem("the workbook has no sheet".into()))?,
    };
    let range = workbook
        .worksheet_range(&name)
        .map_err(|error| file_problem(format!("sheet '{name}': {error}")))?;
    let Some((top, left)) = range.start() else {
        return Err(file_problem(format!("sheet '{name}' is empty")));
    };
    if top != 0 {
        return Err(file_problem(format!(
            "sheet '{name}': the header must be in row 1 (the first filled row is {})",
            top + 1
        )));
    }
    let mut problems = Vec::new();
    if workbook.load_merged_regions().is_ok() {
        for (_, _, region) in workbook.merged_regions_by_sheet(&name) {
            if region.start.0 == 0 {
                problems.push(ImportProblem::file_level(format!(
                    "sheet '{name}': the header cells {}:{} are merged; give each column its own header",
                    cell_name(region.start.0, region.start.1),
                    cell_name(region.end.0, region.end.1)
                )));
            }
        }
    }
    let rows: Vec<&[Data]> = range.rows().collect();
    let header: Vec<String> = rows
        .first()
        .map(|cells| {
            cells
                .iter()
                .map(|cell| cell_text(cell).unwrap_or_default().trim().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let column_of = |index: usize| {
        header
            .get(index)
            .filter(|h| !h.is_empty())
            .cloned()
            .unwrap_or_else(|| column_letters(u32::try_from(index).unwrap_or(0) + left))
    };
    if let Ok(formulas) = workbook.worksheet_formula(&name) {
        for (row, column, formula) in formulas.used_cells() {
            if !formula.is_empty() {
                let (row, column) = (
                    row + formulas.start().map_or(0, |s| s.0 as usize),
                    column + formulas.start().map_or(0, |s| s.1 as usize),
                );
                problems.push(ImportProblem::at(
                    row + 1,
                    &column_of(column.saturating_sub(left as usize)),
                    format!(
                        "cell {} holds the formula ={formula}; paste its value instead",
                        cell_name(
                            u32::try_from(row).unwrap_or(0),
                            u32::try_from(column).unwrap_or(0)
                        )
                    ),
                ));
            }
        }
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    for (index, cells) in rows.iter().enumerate() {
        let mut record = Vec::with_capacity(cells.len());
        for (column, cell) in cells.iter().enumerate() {
            match cell_text(cell) {
                Ok(text) => record.push(text),
                Err(reason) => {
                    problems.push(ImportProblem::at(
                        index + 1,
                        &column_of(column),
                        format!(
                            "cell {} {reason}",
                            cell_name(
                                u32::try_from(index).unwrap_or(0),
                                u32::try_from(column).unwrap_or(0) + left
                            )
                        ),
                    ));
                    record.push(String::new());
                }
            }
        }
        if writer.write_record(&record).is_err() {
            problems.push(ImportProblem::file_level("the sheet could not be read"));
            break;
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let bytes = writer
        .into_inner()
        .map_err(|_| file_problem("the sheet could not be read".into()))?;
    String::from_utf8(bytes).map_err(|_| file_problem("the sheet is not valid text".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_named_as_excel_names_them() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
        assert_eq!(cell_name(0, 2), "C1");
    }

    #[test]
    fn numbers_keep_their_exact_decimal_form() {
        assert_eq!(
            cell_text(&Data::Float(577_000_000.1)).unwrap(),
            "577000000.1"
        );
        assert_eq!(
            cell_text(&Data::Float(0.1 + 0.2)).unwrap(),
            "0.30000000000000004"
        );
        assert_eq!(
            cell_text(&Data::Float(1e21)).unwrap(),
            "1000000000000000000000"
        );
    }
}
