//! Tables as spreadsheets: one place that writes an `.xlsx` workbook (number and date formats, a
//! frozen header, column widths, lists of allowed values, a sheet explaining the columns and one
//! saying what the figures are) and a `.csv` file. Templates, exports and report downloads are all
//! built here, so a sheet that comes out goes back in.
//!
//! Text that a spreadsheet would take for a formula (starting with `=`, `+`, `-`, `@`, a tab or a
//! carriage return) is written as text in a workbook and prefixed with `'` in a CSV file; the
//! import removes that prefix again.

use chrono::{Datelike, NaiveDate};
use iso_currency::IntoEnumIterator as _;
use purl_core::ids::STANDARD_CATEGORIES;
use rust_xlsxwriter::{
    DataValidation, ExcelDateTime, Format, FormatAlign, Formula, Workbook, Worksheet, XlsxError,
};

/// What a column holds, for its format and its list of allowed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    Text,
    /// Money, as a decimal number in the row's currency.
    Amount,
    Date,
    Whole,
    /// An exchange rate, as a decimal or an exact fraction.
    Rate,
    /// A percentage (12.34 is 12.34 %).
    Percent,
    TrueFalse,
    Currency,
    PledgeStatus,
    Category,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub holds: Holds,
    pub meaning: String,
}

impl Column {
    pub fn new(name: impl Into<String>, holds: Holds, meaning: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            holds,
            meaning: meaning.into(),
        }
    }
}

/// One cell's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Empty,
    Text(String),
    /// An exact decimal (`577000000.10`, `42`): a number cell where a number holds it exactly.
    Decimal(String),
    Date(NaiveDate),
    Bool(bool),
}

impl Cell {
    pub fn text(value: impl Into<String>) -> Self {
        Cell::Text(value.into())
    }

    pub fn optional_text(value: Option<impl Into<String>>) -> Self {
        value.map_or(Cell::Empty, |v| Cell::Text(v.into()))
    }

    pub fn decimal(value: impl ToString) -> Self {
        Cell::Decimal(value.to_string())
    }

    /// The cell as a CSV file holds it.
    fn csv_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(text) if is_formula_like(text) => format!("'{text}"),
            Cell::Text(text) | Cell::Decimal(text) => text.clone(),
            Cell::Date(date) => date.to_string(),
            Cell::Bool(flag) => flag.to_string(),
        }
    }
}

/// Whether a spreadsheet would run `text` as a formula.
pub fn is_formula_like(text: &str) -> bool {
    text.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// One sheet of rows under a header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sheet {
    pub name: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// Add lists of allowed values to the columns that have them (templates and import-shaped
    /// exports, so what is typed in later is checked by the spreadsheet).
    pub validate: bool,
}

/// A workbook: its data sheets, then a sheet explaining the columns of the first, then a sheet of
/// what the figures are (as-of date, currency, rates, what was left out).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Book {
    pub sheets: Vec<Sheet>,
    pub about: Vec<(String, String)>,
    /// Words under the column explanations (e.g. how to import the sheet).
    pub footer: Option<String>,
}

/// Rows a validated sheet formats and checks beyond its data, for rows typed in later.
const VALIDATED_ROWS_MIN: u32 = 5_000;

struct Formats {
    header: Format,
    wrap: Format,
    text: Format,
    amount: Format,
    date: Format,
    whole: Format,
    rate: Format,
    percent: Format,
}

impl Formats {
    fn new() -> Self {
        Self {
            header: Format::new().set_bold().set_background_color(0x00DD_E5F0),
            wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
            text: Format::new().set_num_format("@"),
            amount: Format::new().set_num_format("#,##0.00"),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            whole: Format::new().set_num_format("0"),
            rate: Format::new().set_num_format("0.000000"),
            percent: Format::new().set_num_format("0.00"),
        }
    }

    fn of(&self, holds: Holds) -> &Format {
        match holds {
            Holds::Amount => &self.amount,
            Holds::Date => &self.date,
            Holds::Whole => &self.whole,
            Holds::Rate => &self.rate,
            Holds::Percent => &self.percent,
            Holds::Text
            | Holds::TrueFalse
            | Holds::Currency
            | Holds::PledgeStatus
            | Holds::Category => &self.text,
        }
    }
}

/// The workbook as the bytes of an `.xlsx` file.
pub fn to_xlsx(book: &Book) -> Result<Vec<u8>, XlsxError> {
    to_xlsx_watched(book, &crate::unwatched)
}

/// Rows written between two reports of progress.
const ROWS_PER_REPORT: usize = 1_000;

/// The workbook as the bytes of an `.xlsx` file, telling `progress` of the rows written (step
/// `rows`) and then of compressing the file (step `compressing`).
pub fn to_xlsx_watched(book: &Book, progress: crate::Progress<'_>) -> Result<Vec<u8>, XlsxError> {
    let formats = Formats::new();
    let currencies: Vec<&str> = iso_currency::Currency::iter()
        .map(|currency| currency.code())
        .collect();
    let mut workbook = Workbook::new();
    for sheet in &book.sheets {
        let worksheet = workbook.add_worksheet();
        write_sheet(worksheet, sheet, &formats, currencies.len(), progress)?;
    }
    if let Some(first) = book.sheets.first() {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name("Columns")?;
        worksheet.write_string_with_format(0, 0, "column", &formats.header)?;
        worksheet.write_string_with_format(0, 1, "what it holds", &formats.header)?;
        worksheet.set_column_width(0, 22)?;
        worksheet.set_column_width(1, 90)?;
        for (row, column) in (1u32..).zip(&first.columns) {
            worksheet.write_string(row, 0, &column.name)?;
            worksheet.write_string_with_format(row, 1, &column.meaning, &formats.wrap)?;
        }
        if let Some(footer) = &book.footer {
            let last = u32::try_from(first.columns.len()).unwrap_or(0) + 2;
            worksheet.write_string(last, 0, footer)?;
        }
    }
    if !book.about.is_empty() {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name("About")?;
        worksheet.set_column_width(0, 24)?;
        worksheet.set_column_width(1, 100)?;
        for (row, (key, value)) in (0u32..).zip(&book.about) {
            worksheet.write_string_with_format(row, 0, key, &formats.header)?;
            worksheet.write_string_with_format(row, 1, value, &formats.wrap)?;
        }
    }
    if book
        .sheets
        .iter()
        .any(|sheet| sheet.validate && sheet.columns.iter().any(|c| c.holds == Holds::Currency))
    {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name("Lists")?;
        for (row, code) in (0u32..).zip(&currencies) {
            worksheet.write_string(row, 0, *code)?;
        }
        worksheet.set_hidden(true);
    }
    progress("compressing", 0, 1);
    let bytes = workbook.save_to_buffer()?;
    progress("compressing", 1, 1);
    Ok(bytes)
}

fn write_sheet(
    worksheet: &mut Worksheet,
    sheet: &Sheet,
    formats: &Formats,
    currencies: usize,
    progress: crate::Progress<'_>,
) -> Result<(), XlsxError> {
    worksheet.set_name(&sheet.name)?;
    worksheet.set_freeze_panes(1, 0)?;
    let rows = u32::try_from(sheet.rows.len()).unwrap_or(u32::MAX - 1);
    let validated_to = rows.max(VALIDATED_ROWS_MIN);
    for (index, column) in (0u16..).zip(&sheet.columns) {
        worksheet.write_string_with_format(0, index, &column.name, &formats.header)?;
        let widest = sheet
            .rows
            .iter()
            .take(1_000)
            .filter_map(|row| row.get(usize::from(index)))
            .map(|cell| cell.csv_text().chars().count() + 2)
            .max()
            .unwrap_or(0);
        let width = (column.name.len() + 4).max(widest).clamp(12, 60);
        worksheet.set_column_width(index, width as f64)?;
        worksheet.set_column_format(index, formats.of(column.holds))?;
        if sheet.validate {
            if let Some(validation) = validation(column, currencies)? {
                worksheet.add_data_validation(1, index, validated_to, index, &validation)?;
            }
        }
    }
    let total = sheet.rows.len() as u64;
    for (row, cells) in (1u32..).zip(&sheet.rows) {
        if (row as usize).is_multiple_of(ROWS_PER_REPORT) {
            progress("rows", u64::from(row), total);
        }
        for ((index, column), cell) in (0u16..).zip(&sheet.columns).zip(cells) {
            write_cell(worksheet, row, index, column.holds, cell, formats)?;
        }
    }
    progress("rows", total, total);
    Ok(())
}

fn validation(column: &Column, currencies: usize) -> Result<Option<DataValidation>, XlsxError> {
    let list = match column.holds {
        Holds::TrueFalse => DataValidation::new().allow_list_strings(&["true", "false"])?,
        Holds::PledgeStatus => {
            DataValidation::new().allow_list_strings(&["announced", "committed", "withdrawn"])?
        }
        Holds::Category => DataValidation::new().allow_list_strings(&STANDARD_CATEGORIES)?,
        Holds::Currency => DataValidation::new()
            .allow_list_formula(Formula::new(format!("=Lists!$A$1:$A${currencies}"))),
        Holds::Text | Holds::Amount | Holds::Date | Holds::Whole | Holds::Rate | Holds::Percent => {
            return Ok(None)
        }
    };
    Ok(Some(list.set_error_message(&column.meaning)?))
}

/// A number exactly as `text` says, if a spreadsheet number holds it exactly.
fn exact_number(text: &str) -> Option<f64> {
    let number: f64 = text.parse().ok()?;
    let normal = |s: &str| {
        let s = s.strip_prefix('-').unwrap_or(s);
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.')
        } else {
            s
        };
        let s = s.trim_start_matches('0');
        if s.is_empty() || s.starts_with('.') {
            format!("0{s}")
        } else {
            s.to_owned()
        }
    };
    let same_sign = text.starts_with('-') == number.is_sign_negative() || number == 0.0;
    (same_sign && normal(&number.to_string()) == normal(text) && number.abs() < 1e15)
        .then_some(number)
}

fn write_cell(
    worksheet: &mut Worksheet,
    row: u32,
    column: u16,
    holds: Holds,
    cell: &Cell,
    formats: &Formats,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Empty => {}
        Cell::Text(text) => {
            worksheet.write_string_with_format(row, column, text, formats.of(holds))?;
        }
        Cell::Decimal(text) => match exact_number(text) {
            Some(number) if holds != Holds::Rate => {
                worksheet.write_number_with_format(row, column, number, formats.of(holds))?;
            }
            _ => {
                worksheet.write_string_with_format(row, column, text, &formats.text)?;
            }
        },
        Cell::Date(date) => {
            let value = ExcelDateTime::from_ymd(
                u16::try_from(date.year()).unwrap_or(1900),
                u8::try_from(date.month()).unwrap_or(1),
                u8::try_from(date.day()).unwrap_or(1),
            )?;
            worksheet.write_datetime_with_format(row, column, &value, &formats.date)?;
        }
        Cell::Bool(flag) => {
            worksheet.write_string_with_format(row, column, flag.to_string(), &formats.text)?;
        }
    }
    Ok(())
}

/// The first sheet as the bytes of a `.csv` file (header row, then the rows).
pub fn to_csv(sheet: &Sheet) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = sheet.columns.iter().map(|c| c.name.as_str()).collect();
    // Writing to memory cannot fail.
    let _ = writer.write_record(&header);
    for row in &sheet.rows {
        let _ = writer.write_record(row.iter().map(Cell::csv_text));
    }
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_numbers_only_where_exact() {
        assert_eq!(exact_number("577000000.10"), Some(577_000_000.1));
        assert_eq!(exact_number("42"), Some(42.0));
        assert_eq!(exact_number("-3.50"), Some(-3.5));
        assert_eq!(exact_number("0.5"), Some(0.5));
        assert_eq!(exact_number("92233720368547758.07"), None);
        assert_eq!(exact_number("1/3"), None);
    }

    #[test]
    fn formula_like_text_is_neutralised_in_csv() {
        let sheet = Sheet {
            name: "x".into(),
            columns: vec![Column::new("note", Holds::Text, "")],
            rows: vec![
                vec![Cell::text("=HYPERLINK(\"http://x\")")],
                vec![Cell::text("@SUM(A1)")],
                vec![Cell::text("plain")],
            ],
            validate: false,
        };
        let text = String::from_utf8(to_csv(&sheet)).unwrap();
        assert_eq!(
            text,
            "note\n\"'=HYPERLINK(\"\"http://x\"\")\"\n'@SUM(A1)\nplain\n"
        );
    }
}
