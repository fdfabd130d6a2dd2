//! Files out. Every list as a spreadsheet: `?format=csv` or `?format=xlsx` on a list endpoint
//! answers the same rows as the JSON — filtered by need-to-know exactly as the JSON is — as a file.
//! Money becomes an amount column and a currency column; nested values are written as JSON text.
//! Workbooks and CSV files are written by `purl_app::workbook`, as the CLI writes them.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use purl_app::read::Listed;
use purl_app::workbook::{self, Book, Cell, Column, Holds, Sheet};
use serde_json::{Map, Value};

use crate::problem::Problem;

/// How a list is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    Json,
    File(FileFormat),
}

impl ListFormat {
    pub fn parse(text: Option<&str>) -> Result<Self, Problem> {
        match text {
            None | Some("json") => Ok(ListFormat::Json),
            Some("csv") => Ok(ListFormat::File(FileFormat::Csv)),
            Some("xlsx") => Ok(ListFormat::File(FileFormat::Xlsx)),
            Some(other) => Err(Problem::invalid(
                "format",
                format!("'{other}' is not one of json, csv, xlsx"),
            )),
        }
    }
}

/// A spreadsheet file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    /// `xlsx` unless asked otherwise.
    pub fn parse(text: Option<&str>) -> Result<Self, Problem> {
        match text {
            None | Some("xlsx") => Ok(FileFormat::Xlsx),
            Some("csv") => Ok(FileFormat::Csv),
            Some(other) => Err(Problem::invalid(
                "format",
                format!("'{other}' is not one of xlsx, csv"),
            )),
        }
    }
}

fn is_money(object: &Map<String, Value>) -> bool {
    object.len() == 2 && object.contains_key("amount") && object.contains_key("currency")
}

/// The columns and cells of one row: top-level fields, money split in two.
fn flatten(item: &Value) -> Vec<(String, Holds, Cell)> {
    let Some(object) = item.as_object() else {
        return vec![("value".into(), Holds::Text, Cell::Text(item.to_string()))];
    };
    let mut cells = Vec::new();
    for (key, value) in object {
        match value {
            Value::Null => cells.push((key.clone(), Holds::Text, Cell::Empty)),
            Value::Bool(flag) => cells.push((key.clone(), Holds::TrueFalse, Cell::Bool(*flag))),
            Value::Number(number) => {
                let holds = if number.is_f64() {
                    Holds::Amount
                } else {
                    Holds::Whole
                };
                cells.push((key.clone(), holds, Cell::Decimal(number.to_string())));
            }
            Value::String(text) => cells.push((key.clone(), Holds::Text, Cell::Text(text.clone()))),
            Value::Object(inner) if is_money(inner) => {
                let amount = inner["amount"].as_str().unwrap_or_default().to_owned();
                cells.push((key.clone(), Holds::Amount, Cell::Decimal(amount)));
                cells.push((
                    format!("{key}_currency"),
                    Holds::Currency,
                    Cell::Text(inner["currency"].as_str().unwrap_or_default().to_owned()),
                ));
            }
            Value::Array(_) | Value::Object(_) => {
                cells.push((key.clone(), Holds::Text, Cell::Text(value.to_string())));
            }
        }
    }
    cells
}

/// The list as a workbook: its rows under the union of their fields, and an About sheet.
fn list_book(listed: &Listed, what: &str) -> Book {
    let flat: Vec<Vec<(String, Holds, Cell)>> = listed.items.iter().map(flatten).collect();
    let mut columns: Vec<Column> = Vec::new();
    for row in &flat {
        for (name, holds, _) in row {
            if !columns.iter().any(|c| &c.name == name) {
                columns.push(Column::new(name.clone(), *holds, format!("{what}: {name}")));
            }
        }
    }
    let rows = flat
        .into_iter()
        .map(|row| {
            columns
                .iter()
                .map(|column| {
                    row.iter()
                        .find(|(name, _, _)| name == &column.name)
                        .map_or(Cell::Empty, |(_, _, cell)| cell.clone())
                })
                .collect()
        })
        .collect();
    let more = listed
        .next_offset
        .map_or("none: this is every row".to_owned(), |next| {
            format!("ask again with offset={next}")
        });
    Book {
        sheets: vec![Sheet {
            name: what.chars().take(31).collect(),
            columns,
            rows,
            validate: false,
        }],
        about: vec![
            ("what".into(), what.to_owned()),
            (
                "rows".into(),
                format!("{} of {} you may see", listed.items.len(), listed.total),
            ),
            ("more".into(), more),
            (
                "money".into(),
                "amounts in the currency of the column beside them; USD values at the recorded rate named in each row".into(),
            ),
        ],
        footer: None,
    }
}

fn attachment(media: &'static str, file: &str, body: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    if let Ok(value) = HeaderValue::try_from(format!("attachment; filename=\"{file}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A workbook as a download named `what.xlsx`, or its first sheet as `what.csv`.
pub fn book_file(format: FileFormat, what: &str, book: &Book) -> Result<Response, Problem> {
    match format {
        FileFormat::Csv => Ok(attachment(
            "text/csv; charset=utf-8",
            &format!("{what}.csv"),
            book.sheets
                .first()
                .map(workbook::to_csv)
                .unwrap_or_default(),
        )),
        FileFormat::Xlsx => {
            let bytes = workbook::to_xlsx(book).map_err(|error| {
                tracing::error!(%error, "an XLSX export failed");
                Problem::internal("xlsx")
            })?;
            Ok(attachment(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                &format!("{what}.xlsx"),
                bytes,
            ))
        }
    }
}

/// Answers a list in the asked format.
pub fn respond(format: ListFormat, what: &str, listed: Listed) -> Result<Response, Problem> {
    match format {
        ListFormat::Json => Ok(Json(listed).into_response()),
        ListFormat::File(file) => book_file(file, what, &list_book(&listed, what)),
    }
}
