//! Excel workbooks in: one sheet (by name, or the first) read into the same grid of text cells as
//! a CSV file, so every import checks an XLSX sheet exactly as it checks CSV. Numbers are taken as Excel stores
//! them and written out in their shortest exact decimal form (a cell holding 577000000.1 is
//! `577000000.10` once parsed as money; a value that is not a whole number of minor units is an
//! error of the money parser, naming the cell). Date cells become `YYYY-MM-DD`. Formulas, error
//! cells and merged header cells are refused, each naming where.

use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx, XlsxCellFormula};

use super::table::{too_many_rows, unescape_all, Grid, Row, RowCheck, IMPORT_ROWS_MAX};
use super::ImportProblem;
use crate::Progress;

/// A workbook that unpacks to more than this is refused before it is read: the 1,000,000 rows an
/// import may have take about a quarter of it.
pub const UNPACKED_BYTES_MAX: u64 = 1 << 30;
/// A workbook of more parts than this is not a sheet of rows.
const PARTS_MAX: usize = 1_000;
/// Deflate shrinks data by at most about this factor, so a part of `n` compressed bytes unpacks to
/// at most this many times `n`, whatever size it declares.
const DEFLATE_RATIO_MAX: u64 = 1_032;

/// Refuses a workbook that would unpack to more than `UNPACKED_BYTES_MAX` (a zip bomb), before
/// anything is unpacked for reading. The sizes a ZIP file declares may lie: a part that could
/// exceed what is left of the budget is inflated once into nothing, counting, and stopped at the
/// limit.
fn check_unpacked_size(bytes: &[u8]) -> Result<(), String> {
    check_unpacked_within(bytes, UNPACKED_BYTES_MAX)
}

fn check_unpacked_within(bytes: &[u8], limit: u64) -> Result<(), String> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|error| format!("not an XLSX workbook: {error}"))?;
    if archive.len() > PARTS_MAX {
        return Err(format!(
            "the workbook has {} parts; a sheet to import has far fewer than {PARTS_MAX}",
            archive.len()
        ));
    }
    let too_large = || {
        format!(
            "the workbook unpacks to more than {} MiB; split it or import it as CSV",
            limit >> 20
        )
    };
    let mut left = limit;
    for index in 0..archive.len() {
        let part = archive
            .by_index(index)
            .map_err(|error| format!("not an XLSX workbook: {error}"))?;
        if part.size() > left {
            return Err(too_large());
        }
        let unpacked = if part.compressed_size().saturating_mul(DEFLATE_RATIO_MAX) > left {
            let name = String::from_utf8_lossy(part.name_raw()).into_owned();
            std::io::copy(
                &mut std::io::Read::take(part, left + 1),
                &mut std::io::sink(),
            )
            .map_err(|error| format!("part {name} of the workbook cannot be unpacked: {error}"))?
        } else {
            part.size()
        };
        left = left.checked_sub(unpacked).ok_or_else(too_large)?;
    }
    Ok(())
}

/// Rows read between two reports of progress.
const ROWS_PER_REPORT: usize = 1_000;

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
fn cell_text(cell: &DataRef<'_>) -> Result<String, String> {
    match cell {
        DataRef::Empty => Ok(String::new()),
        DataRef::String(text) => Ok(text.clone()),
        DataRef::SharedString(text) => Ok((*text).to_owned()),
        DataRef::Int(value) => Ok(value.to_string()),
        DataRef::Float(value) if value.is_finite() => Ok(number_text(*value)),
        DataRef::Float(value) => Err(format!("holds the number {value}")),
        DataRef::Bool(value) => Ok(value.to_string()),
        DataRef::DateTime(value) => match value.as_datetime() {
            Some(moment) if moment.time() == chrono::NaiveTime::MIN => Ok(date_text(moment.date())),
            Some(moment) => Err(format!(
                "holds a date with a time of day ({moment}); give the date only"
            )),
            None => Err("holds a date Excel cannot represent".into()),
        },
        DataRef::DateTimeIso(text) => Ok(text.get(..10).unwrap_or(text).to_owned()),
        DataRef::DurationIso(text) => Err(format!("holds a duration ({text})")),
        DataRef::Error(error) => Err(format!("holds the error {error}")),
    }
}

/// A number in its shortest exact decimal form, as Rust writes an `f64` (`577000000.1`, `12`). A
/// whole number below 2^53 is written as the integer it is: the same text, found far quicker.
fn number_text(value: f64) -> String {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if value.trunc() == value && value.abs() < EXACT && !(value == 0.0 && value.is_sign_negative())
    {
        // Exact: a whole number of magnitude below 2^53 converts to i64 without loss.
        return (value as i64).to_string();
    }
    format!("{value}")
}

/// A date as `YYYY-MM-DD`.
fn date_text(date: chrono::NaiveDate) -> String {
    use chrono::Datelike as _;
    if (0..=9999).contains(&date.year()) {
        format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
    } else {
        date.format("%Y-%m-%d").to_string()
    }
}

/// A cell that cannot be read: where it is (0-based) and why.
struct BadCell {
    row: u32,
    column: u32,
    reason: String,
}

/// The filled cells of a sheet as text, row by row in the sheet's order, each row checked (when
/// a check is given) as soon as it is complete.
struct Cells<T> {
    /// Each filled row's 0-based number and cells (by absolute column; unfilled ones empty).
    rows: Vec<(u32, Vec<String>)>,
    /// The leftmost filled column.
    left: u32,
    bad: Vec<BadCell>,
    checking: Option<Checking<T>>,
}

/// Rows checked while the sheet is read, under the header as first read. The checks hold for the
/// grid the sheet becomes only when no later row is filled left of the header (which would move
/// every column); `valid` says so.
struct Checking<T> {
    check: RowCheck<T>,
    /// The header row's leftmost filled column and its trimmed names, once read.
    header: Option<(u32, Vec<String>)>,
    checked: Vec<T>,
    valid: bool,
}

impl<T> Cells<T> {
    fn new(check: Option<RowCheck<T>>) -> Self {
        Cells {
            rows: Vec::new(),
            left: u32::MAX,
            bad: Vec::new(),
            checking: check.map(|check| Checking {
                check,
                header: None,
                checked: Vec::new(),
                valid: true,
            }),
        }
    }

    /// Takes one cell as read; false once the sheet has more rows than an import may have (the
    /// reading can stop).
    fn add(&mut self, cell: XlsxCellFormula<'_>) -> bool {
        let (row, column) = cell.pos;
        let text = match (&cell.formula, cell_text(&cell.value)) {
            (Some(formula), _) if !formula.is_empty() => {
                self.bad.push(BadCell {
                    row,
                    column,
                    reason: format!("holds the formula ={formula}; paste its value instead"),
                });
                return true;
            }
            (_, Ok(text)) if text.is_empty() => return true,
            (_, Ok(text)) => text,
            (_, Err(reason)) => {
                self.bad.push(BadCell {
                    row,
                    column,
                    reason,
                });
                return true;
            }
        };
        if self.rows.last().is_none_or(|(last, _)| *last != row) {
            if self.rows.len() > IMPORT_ROWS_MAX {
                return false;
            }
            self.check_last_row();
            self.rows.push((row, Vec::new()));
        }
        let (_, record) = self.rows.last_mut().expect("a row was just pushed");
        let index = column as usize;
        if record.len() <= index {
            record.resize(index + 1, String::new());
        }
        record[index] = text;
        self.left = self.left.min(column);
        true
    }

    /// Checks the last row read, now complete: the first is the header.
    fn check_last_row(&mut self) {
        let (Some(checking), Some((row, record))) = (&mut self.checking, self.rows.last_mut())
        else {
            return;
        };
        if !checking.valid {
            return;
        }
        let Some((left, header)) = &checking.header else {
            let left = record.iter().position(|cell| !cell.is_empty()).unwrap_or(0);
            let names = record[left..]
                .iter()
                .map(|cell| cell.trim().to_owned())
                .collect();
            checking.header = Some((u32::try_from(left).unwrap_or(u32::MAX), names));
            checking.valid = *row == 0;
            return;
        };
        let left = *left as usize;
        if record.iter().take(left).any(|cell| !cell.is_empty()) {
            checking.valid = false;
            return;
        }
        let cells = record.get_mut(left..).unwrap_or_default();
        unescape_all(cells);
        let number = *row as usize + 1;
        checking
            .checked
            .push((checking.check)(&Row::new(number, header, cells)));
    }

    /// The rows' checks, when they hold for the grid of these rows with its leftmost column
    /// `left`.
    fn checked(&mut self, left: u32) -> Option<Vec<T>> {
        self.check_last_row();
        let checking = self.checking.take()?;
        let holds = checking.valid
            && checking.header.as_ref().map(|(first, _)| *first) == Some(left)
            && checking.checked.len() + 1 == self.rows.len();
        holds.then_some(checking.checked)
    }
}

/// Cells passed at a time from the thread parsing the sheet's XML to the one turning them into
/// text, and how many such batches may wait: the two steps run side by side.
const CELLS_PER_BATCH: usize = 4_096;
const BATCHES_WAITING: usize = 8;

/// Reads every cell of sheet `name` in one pass: this thread parses the XML while a second one
/// turns the cells into text and checks each row with `check`.
fn read_cells<R: std::io::Read + std::io::Seek, T: Send>(
    workbook: &mut Xlsx<R>,
    name: &str,
    progress: Progress<'_>,
    check: Option<RowCheck<T>>,
) -> Result<Cells<T>, String> {
    let mut reader = workbook
        .worksheet_cells_reader(name)
        .map_err(|error| error.to_string())?;
    let rows = u64::from(reader.dimensions().end.0) + 1;
    let (send, receive) =
        std::sync::mpsc::sync_channel::<Vec<XlsxCellFormula<'_>>>(BATCHES_WAITING);
    std::thread::scope(|scope| {
        let texts = scope.spawn(move || {
            let mut cells = Cells::new(check);
            for batch in receive {
                for cell in batch {
                    if !cells.add(cell) {
                        // Dropping the receiver stops the reading.
                        return cells;
                    }
                }
            }
            cells
        });
        let read = (|| {
            let mut batch = Vec::with_capacity(CELLS_PER_BATCH);
            let (mut row, mut rows_seen) = (None, 0_usize);
            while let Some(cell) = reader
                .next_cell_with_formula()
                .map_err(|error| error.to_string())?
            {
                if row != Some(cell.pos.0) {
                    row = Some(cell.pos.0);
                    if rows_seen.is_multiple_of(ROWS_PER_REPORT) {
                        progress("reading", u64::from(cell.pos.0), rows);
                    }
                    rows_seen += 1;
                }
                batch.push(cell);
                if batch.len() == CELLS_PER_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(CELLS_PER_BATCH));
                    if send.send(full).is_err() {
                        return Ok(());
                    }
                }
            }
            // The receiver is gone only when it has seen enough rows.
            let _ = send.send(batch);
            Ok(())
        })();
        drop(send);
        let cells = texts
            .join()
            .expect("turning cells into text does not panic");
        read.map(|()| cells)
    })
}

/// `problems`, preceded by one for each merged cell of the header: merged header cells leave all
/// but their first cell empty, which the problems found would not say plainly. (Merges are
/// listed after the cells, so they are read only when something is wrong.)
fn explain_merges<R: std::io::Read + std::io::Seek>(
    workbook: &mut Xlsx<R>,
    name: &str,
    mut problems: Vec<ImportProblem>,
) -> Vec<ImportProblem> {
    let regions = workbook.merge_cells_by_sheet_name(name).unwrap_or_default();
    let merged = regions
        .iter()
        .filter(|region| region.start.0 == 0)
        .map(|region| {
            ImportProblem::file_level(format!(
            "sheet '{name}': the header cells {}:{} are merged; give each column its own header",
            cell_name(region.start.0, region.start.1),
            cell_name(region.end.0, region.end.1)
        ))
        });
    problems.splice(0..0, merged);
    problems
}

/// What is wrong with sheet `sheet` (or the first) of the workbook `bytes`, its merged header
/// cells named first.
pub(crate) fn explain(
    bytes: &[u8],
    sheet: Option<&str>,
    problems: Vec<ImportProblem>,
) -> Vec<ImportProblem> {
    let Ok(mut workbook) = Xlsx::new(Cursor::new(bytes)) else {
        return problems;
    };
    let name = match sheet {
        Some(name) => name.to_owned(),
        None => match workbook.sheet_names().first() {
            Some(first) => first.clone(),
            None => return problems,
        },
    };
    explain_merges(&mut workbook, &name, problems)
}

/// Reads sheet `sheet` (or the first) of the workbook `bytes`. Problems name the sheet's row
/// (1-based, as Excel shows it) and the header of the column.
pub fn read_sheet(
    bytes: &[u8],
    sheet: Option<&str>,
    progress: Progress<'_>,
) -> Result<Grid, Vec<ImportProblem>> {
    read_sheet_checked::<()>(bytes, sheet, progress, None).map(|(grid, _)| grid)
}

/// [`read_sheet`], with `check` run on each row while the sheet is still being read: the grid,
/// and the check of each of its rows when they hold for it (otherwise the caller checks the rows
/// of the grid).
pub(crate) fn read_sheet_checked<T: Send>(
    bytes: &[u8],
    sheet: Option<&str>,
    progress: Progress<'_>,
    check: Option<RowCheck<T>>,
) -> Result<(Grid, Option<Vec<T>>), Vec<ImportProblem>> {
    let file_problem = |message: String| vec![ImportProblem::file_level(message)];
    check_unpacked_size(bytes).map_err(file_problem)?;
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
    let mut cells = read_cells(&mut workbook, &name, progress, check)
        .map_err(|error| file_problem(format!("sheet '{name}': {error}")))?;
    let bad = std::mem::take(&mut cells.bad);
    let left = bad
        .iter()
        .map(|cell| cell.column)
        .fold(cells.left, u32::min);
    let checked = cells.checked(left);
    let mut rows = cells.rows;
    if rows.len() > IMPORT_ROWS_MAX {
        return Err(vec![too_many_rows()]);
    }
    let first_row = rows.first().map(|(row, _)| *row);
    let first_bad = bad.iter().map(|cell| cell.row).min();
    match first_row.into_iter().chain(first_bad).min() {
        None => return Err(file_problem(format!("sheet '{name}' is empty"))),
        Some(0) => {}
        Some(top) => {
            return Err(file_problem(format!(
                "sheet '{name}': the header must be in row 1 (the first filled row is {})",
                top + 1
            )))
        }
    }
    let skip = left as usize;
    let width = rows
        .iter()
        .map(|(_, cells)| cells.len().saturating_sub(skip))
        .max()
        .unwrap_or(0);
    for (_, cells) in &mut rows {
        cells.drain(..skip.min(cells.len()));
    }
    let mut header = match rows.first() {
        Some((0, _)) => rows.remove(0).1,
        _ => Vec::new(),
    };
    for cell in &mut header {
        *cell = cell.trim().to_owned();
    }
    header.resize(width.max(header.len()), String::new());
    let column_of = |column: u32| {
        header
            .get((column - left) as usize)
            .filter(|h| !h.is_empty())
            .cloned()
            .unwrap_or_else(|| column_letters(column))
    };
    let problems: Vec<ImportProblem> = bad
        .iter()
        .map(|cell| {
            ImportProblem::at(
                cell.row as usize + 1,
                &column_of(cell.column),
                format!("cell {} {}", cell_name(cell.row, cell.column), cell.reason),
            )
        })
        .collect();
    if !problems.is_empty() {
        return Err(explain_merges(&mut workbook, &name, problems));
    }
    let mut grid = Grid {
        header,
        rows: Vec::with_capacity(rows.len()),
    };
    for (row, cells) in rows {
        // Excel shows 0-based row `row` as row `row + 1`; the header is row 1.
        grid.push(row as usize + 1, cells);
    }
    Ok((grid, checked))
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

    proptest::proptest! {
        /// The quick forms give exactly the text of the general ones.
        #[test]
        fn numbers_and_dates_are_written_as_rust_and_chrono_write_them(
            bits in proptest::num::u64::ANY,
            whole in -(1i64 << 54)..(1i64 << 54),
            days in -1_000_000i32..4_000_000,
        ) {
            let value = f64::from_bits(bits);
            if value.is_finite() {
                proptest::prop_assert_eq!(number_text(value), format!("{value}"));
            }
            let value = whole as f64;
            proptest::prop_assert_eq!(number_text(value), format!("{value}"));
            let date = chrono::NaiveDate::from_num_days_from_ce_opt(days).expect("in range");
            proptest::prop_assert_eq!(date_text(date), date.format("%Y-%m-%d").to_string());
        }
    }

    /// The checks made while a sheet is read are those of its grid's rows, or none when a row
    /// filled left of the header moved the columns.
    #[test]
    fn rows_checked_while_read_are_those_of_the_grid() {
        let check: RowCheck<(usize, String, String)> =
            |row| (row.number, row.get("a").to_owned(), row.get("b").to_owned());
        for stray_left_of_header in [false, true] {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            sheet.write(0, 1, "a").expect("written");
            sheet.write(0, 2, " b ").expect("written");
            for row in 1..50u32 {
                sheet.write(row, 1, format!("'=x{row}")).expect("written");
                sheet.write(row, 2, f64::from(row) / 4.0).expect("written");
            }
            sheet.write(70, 2, "last").expect("written");
            if stray_left_of_header {
                sheet.write(5, 0, "stray").expect("written");
            }
            let bytes = book.save_to_buffer().expect("saved");
            let (grid, checked) =
                read_sheet_checked(&bytes, None, &crate::unwatched, Some(check)).expect("read");
            let of_grid: Vec<_> = grid
                .rows
                .iter()
                .map(|(number, cells)| check(&Row::new(*number, &grid.header, cells)))
                .collect();
            assert_eq!(of_grid.len(), 50);
            assert_eq!(of_grid[0], (2, "=x1".to_owned(), "0.25".to_owned()));
            assert_eq!(of_grid[49], (71, String::new(), "last".to_owned()));
            if stray_left_of_header {
                assert!(checked.is_none());
            } else {
                assert_eq!(checked, Some(of_grid));
            }
        }
    }

    #[test]
    fn numbers_keep_their_exact_decimal_form() {
        for value in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            12.0,
            1e15,
            9_007_199_254_740_992.0,
            1e21,
            0.5,
        ] {
            assert_eq!(number_text(value), format!("{value}"), "{value}");
        }
        assert_eq!(
            cell_text(&DataRef::Float(577_000_000.1)).unwrap(),
            "577000000.1"
        );
        assert_eq!(
            cell_text(&DataRef::Float(0.1 + 0.2)).unwrap(),
            "0.30000000000000004"
        );
        assert_eq!(
            cell_text(&DataRef::Float(1e21)).unwrap(),
            "1000000000000000000000"
        );
    }
}

#[cfg(test)]
mod unpacked_size_tests {
    use std::io::Write as _;

    use super::check_unpacked_within;

    const MIB: u64 = 1 << 20;

    fn zip_of(part: &[u8]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        writer
            .start_file(
                "xl/worksheets/sheet1.xml",
                zip::write::SimpleFileOptions::default(),
            )
            .expect("a part");
        writer.write_all(part).expect("written");
        writer.finish().expect("finished").into_inner()
    }

    /// The archive with every declared uncompressed size (local and central headers) set to 100.
    fn lying(mut bytes: Vec<u8>) -> Vec<u8> {
        for (signature, offset) in [(0x0403_4b50_u32, 22), (0x0201_4b50, 24)] {
            let at = bytes
                .windows(4)
                .position(|w| w == signature.to_le_bytes())
                .expect("a header");
            bytes[at + offset..at + offset + 4].copy_from_slice(&100u32.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn a_workbook_unpacking_past_the_limit_is_refused_even_when_it_declares_less() {
        let bomb = zip_of(&vec![b'0'; 2 * MIB as usize]);
        assert!(bomb.len() < 10_000, "{} bytes packed", bomb.len());
        let refused = check_unpacked_within(&bomb, MIB).expect_err("too large");
        assert!(refused.contains("unpacks to more than 1 MiB"), "{refused}");
        assert!(check_unpacked_within(&lying(bomb), MIB).is_err());
        assert_eq!(check_unpacked_within(&zip_of(&[b'0'; 1000]), MIB), Ok(()));
        let refused = check_unpacked_within(b"PK not a zip", MIB).expect_err("not a zip");
        assert!(refused.starts_with("not an XLSX workbook"), "{refused}");
    }
}
