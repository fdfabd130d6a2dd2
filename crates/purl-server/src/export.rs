//! Every list as a spreadsheet: `?format=csv` or `?format=xlsx` on a list endpoint answers the same
//! rows as the JSON — filtered by need-to-know exactly as the JSON is — as a file. Money becomes an
//! amount column and a currency column; nested values are written as JSON text.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use purl_app::read::Listed;
use rust_xlsxwriter::{Format, Workbook};
use serde_json::{Map, Value};

use crate::problem::Problem;

/// How a list is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    Json,
    Csv,
    Xlsx,
}

impl ListFormat {
    pub fn parse(text: Option<&str>) -> Result<Self, Problem> {
        match text {
            None | Some("json") => Ok(ListFormat::Json),
            Some("csv") => Ok(ListFormat::Csv),
            Some("xlsx") => Ok(ListFormat::Xlsx),
            Some(other) => Err(Problem::invalid(
                "format",
                format!("'{other}' is not one of json, csv, xlsx"),
            )),
        }
    }
}

/// One cell of the table.
enum Cell {
    Empty,
    Text(String),
    Number(f64, String),
    Bool(bool),
}

fn is_money(object: &Map<String, Value>) -> bool {
    object.len() == 2 && object.contains_key("amount") && object.contains_key("currency")
}

/// The columns and cells of one row: top-level fields, money split in two.
fn flatten(item: &Value) -> Vec<(String, Cell)> {
    let Some(object) = item.as_object() else {
        return vec![("value".into(), Cell::Text(item.to_string()))];
    };
    let mut cells = Vec::new();
    for (key, value) in object {
        match value {
            Value::Null => cells.push((key.clone(), Cell::Empty)),
            Value::Bool(flag) => cells.push((key.clone(), Cell::Bool(*flag))),
            Value::Number(number) => cells.push((
                key.clone(),
                Cell::Number(number.as_f64().unwrap_or(0.0), number.to_string()),
            )),
            Value::String(text) => cells.push((key.clone(), Cell::Text(text.clone()))),
            Value::Object(inner) if is_money(inner) => {
                let amount = inner["amount"].as_str().unwrap_or_default().to_owned();
                let number = amount.parse::<f64>().unwrap_or(0.0);
                cells.push((key.clone(), Cell::Number(number, amount)));
                cells.push((
                    format!("{key}_currency"),
                    Cell::Text(inner["currency"].as_str().unwrap_or_default().to_owned()),
                ));
            }
            Value::Array(_) | Value::Object(_) => {
                cells.push((key.clone(), Cell::Text(value.to_string())));
            }
        }
    }
    cells
}

fn table(listed: &Listed) -> (Vec<String>, Vec<Vec<(String, Cell)>>) {
    let rows: Vec<Vec<(String, Cell)>> = listed.items.iter().map(flatten).collect();
    let mut columns: Vec<String> = Vec::new();
    for row in &rows {
        for (name, _) in row {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    (columns, rows)
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

fn csv(listed: &Listed) -> Result<Vec<u8>, Problem> {
    let (columns, rows) = table(listed);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |_| Problem::internal("csv");
    writer.write_record(&columns).map_err(failed)?;
    for row in rows {
        let record: Vec<String> = columns
            .iter()
            .map(|column| match row.iter().find(|(name, _)| name == column) {
                None | Some((_, Cell::Empty)) => String::new(),
                Some((_, Cell::Text(text))) => text.clone(),
                Some((_, Cell::Number(_, exact))) => exact.clone(),
                Some((_, Cell::Bool(flag))) => flag.to_string(),
            })
            .collect();
        writer.write_record(&record).map_err(failed)?;
    }
    writer.into_inner().map_err(|_| Problem::internal("csv"))
}

fn xlsx(listed: &Listed, what: &str) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let (columns, rows) = table(listed);
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let number = Format::new().set_num_format("#,##0.00");
    {
        let sheet = book.add_worksheet();
        sheet.set_name(what)?;
        sheet.set_freeze_panes(1, 0)?;
        for (index, name) in (0u16..).zip(&columns) {
            sheet.write_string_with_format(0, index, name, &bold)?;
            sheet.set_column_width(index, (name.len() + 4).max(12) as f64)?;
        }
        for (row, cells) in (1u32..).zip(&rows) {
            for (index, column) in (0u16..).zip(&columns) {
                match cells.iter().find(|(name, _)| name == column) {
                    None | Some((_, Cell::Empty)) => {}
                    Some((_, Cell::Text(text))) => {
                        sheet.write_string(row, index, text)?;
                    }
                    Some((_, Cell::Number(value, exact))) if exact.contains('.') => {
                        sheet.write_number_with_format(row, index, *value, &number)?;
                    }
                    Some((_, Cell::Number(value, _))) => {
                        sheet.write_number(row, index, *value)?;
                    }
                    Some((_, Cell::Bool(flag))) => {
                        sheet.write_boolean(row, index, *flag)?;
                    }
                }
            }
        }
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name("About")?;
        sheet.set_column_width(0, 24)?;
        sheet.set_column_width(1, 80)?;
        let lines = [
            ("what", what.to_owned()),
            ("rows", format!("{} of {} you may see", listed.items.len(), listed.total)),
            (
                "more",
                listed.next_offset.map_or("none: this is every row".to_owned(), |next| {
                    format!("ask again with offset={next}")
                }),
            ),
            (
                "money",
                "amounts in the currency of the column beside them; USD values at the recorded rate named in each row".to_owned(),
            ),
        ];
        for (row, (key, value)) in (0u32..).zip(lines) {
            sheet.write_string_with_format(row, 0, key, &bold)?;
            sheet.write_string(row, 1, value)?;
        }
    }
    book.save_to_buffer()
}

/// Answers a list in the asked format.
pub fn respond(format: ListFormat, what: &str, listed: Listed) -> Result<Response, Problem> {
    match format {
        ListFormat::Json => Ok(Json(listed).into_response()),
        ListFormat::Csv => Ok(attachment(
            "text/csv; charset=utf-8",
            &format!("{what}.csv"),
            csv(&listed)?,
        )),
        ListFormat::Xlsx => {
            let bytes = xlsx(&listed, what).map_err(|error| {
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
