//! Import templates: an Excel workbook per import with the header row, a format and a list of
//! allowed values per column where there is one, and a second sheet saying what each column holds.

use iso_currency::IntoEnumIterator as _;
use purl_core::ids::STANDARD_CATEGORIES;
use rust_xlsxwriter::{DataValidation, Format, FormatAlign, Formula, Workbook, XlsxError};

use super::{payments, pledges, requirements, ImportKind};

/// What a column holds, for its format and its list of allowed values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holds {
    Text,
    /// Money, as a decimal number in the row's currency.
    Amount,
    Date,
    Whole,
    Rate,
    TrueFalse,
    Currency,
    PledgeStatus,
    Category,
}

struct Column {
    name: &'static str,
    holds: Holds,
    meaning: &'static str,
}

const fn column(name: &'static str, holds: Holds, meaning: &'static str) -> Column {
    Column {
        name,
        holds,
        meaning,
    }
}

fn columns(kind: ImportKind) -> Vec<Column> {
    use Holds as H;
    match kind {
        ImportKind::Pledges => vec![
            column(
                "reference",
                H::Text,
                "Your unique reference for the pledge, e.g. NLD-2026-01.",
            ),
            column(
                "contributors",
                H::Text,
                "Country codes (NL or NLD), several separated by ; for a joint pledge.",
            ),
            column(
                "amount",
                H::Amount,
                "The amount in the pledge's currency; empty if undisclosed or not yet fixed.",
            ),
            column("currency", H::Currency, "ISO 4217 code, e.g. EUR."),
            column("announced_on", H::Date, "The day the pledge was announced."),
            column(
                "status",
                H::PledgeStatus,
                "announced, committed or withdrawn.",
            ),
            column(
                "part_of",
                H::Text,
                "For a share of a joint pledge: the joint pledge's reference.",
            ),
            column(
                "categories",
                H::Text,
                "Categories the money may pay for, separated by ; (empty: every category).",
            ),
            column(
                "lethal_allowed",
                H::TrueFalse,
                "May the money pay for lethal items? (empty: true)",
            ),
            column(
                "package",
                H::Whole,
                "The one package this money is for, if any.",
            ),
            column(
                "conditions",
                H::Text,
                "National conditions on the use of the money.",
            ),
            column("public", H::TrueFalse, "Was the pledge announced publicly?"),
            column("note", H::Text, "Anything else."),
        ],
        ImportKind::Payments => vec![
            column(
                "pledge_reference",
                H::Text,
                "The pledge the money was paid against.",
            ),
            column(
                "amount",
                H::Amount,
                "The amount received, in the pledge's currency.",
            ),
            column("currency", H::Currency, "The pledge's currency (ISO 4217)."),
            column(
                "received_on",
                H::Date,
                "The day the money was received (its exchange rate is that day's).",
            ),
            column("note", H::Text, "Anything else."),
        ],
        ImportKind::Fx => vec![
            column("date", H::Date, "The day of the rate."),
            column("currency", H::Currency, "ISO 4217 code."),
            column(
                "usd_per_unit",
                H::Rate,
                "US dollars for one unit of the currency, e.g. 1.0824.",
            ),
        ],
        ImportKind::Requirements { .. } => vec![
            column("rank", H::Whole, "1 is the most urgent; each rank once."),
            column("item_code", H::Text, "The catalogue item's code."),
            column(
                "item_name",
                H::Text,
                "The item's name (checked against the catalogue).",
            ),
            column("category", H::Category, "The item's category."),
            column("lethal", H::TrueFalse, "Is the item lethal?"),
            column(
                "unit_price_usd",
                H::Amount,
                "The catalogue's unit price in USD (checked).",
            ),
            column("quantity", H::Whole, "Units needed."),
            column("needed_by", H::Date, "The day they are needed by."),
            column("justification", H::Text, "Why."),
        ],
    }
}

/// The header a file of `kind` must have, as the import reads it.
fn header(kind: ImportKind) -> &'static [&'static str] {
    match kind {
        ImportKind::Pledges => &pledges::COLUMNS,
        ImportKind::Payments => &payments::COLUMNS,
        ImportKind::Fx => &["date", "currency", "usd_per_unit"],
        ImportKind::Requirements { .. } => &requirements::COLUMNS,
    }
}

/// Rows a template formats and validates (the import takes more).
const TEMPLATE_ROWS: u32 = 5_000;

/// The template workbook for `kind`, as bytes of an .xlsx file.
pub fn workbook(kind: ImportKind) -> Result<Vec<u8>, XlsxError> {
    let columns = columns(kind);
    debug_assert!(columns
        .iter()
        .map(|c| c.name)
        .eq(header(kind).iter().copied()));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold().set_background_color(0x00DD_E5F0);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let text = Format::new().set_num_format("@");
    let amount = Format::new().set_num_format("#,##0.00");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let whole = Format::new().set_num_format("0");
    let rate = Format::new().set_num_format("0.000000");

    let currencies: Vec<&str> = iso_currency::Currency::iter()
        .map(|currency| currency.code())
        .collect();
    {
        let sheet = book.add_worksheet();
        sheet.set_name("Data")?;
        sheet.set_freeze_panes(1, 0)?;
        for (index, column) in (0u16..).zip(&columns) {
            sheet.write_string_with_format(0, index, column.name, &bold)?;
            sheet.set_column_width(index, (column.name.len() + 4).max(14) as f64)?;
            let format = match column.holds {
                Holds::Amount => &amount,
                Holds::Date => &date,
                Holds::Whole => &whole,
                Holds::Rate => &rate,
                Holds::Text
                | Holds::TrueFalse
                | Holds::Currency
                | Holds::PledgeStatus
                | Holds::Category => &text,
            };
            sheet.set_column_format(index, format)?;
            let validation = match column.holds {
                Holds::TrueFalse => {
                    Some(DataValidation::new().allow_list_strings(&["true", "false"])?)
                }
                Holds::PledgeStatus => Some(DataValidation::new().allow_list_strings(&[
                    "announced",
                    "committed",
                    "withdrawn",
                ])?),
                Holds::Category => {
                    Some(DataValidation::new().allow_list_strings(&STANDARD_CATEGORIES)?)
                }
                Holds::Currency => Some(DataValidation::new().allow_list_formula(Formula::new(
                    format!("=Lists!$A$1:$A${}", currencies.len()),
                ))),
                Holds::Text | Holds::Amount | Holds::Date | Holds::Whole | Holds::Rate => None,
            };
            if let Some(validation) = validation {
                let validation = validation.set_error_message(column.meaning)?;
                sheet.add_data_validation(1, index, TEMPLATE_ROWS, index, &validation)?;
            }
        }
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name("Columns")?;
        sheet.write_string_with_format(0, 0, "column", &bold)?;
        sheet.write_string_with_format(0, 1, "what it holds", &bold)?;
        sheet.set_column_width(0, 18)?;
        sheet.set_column_width(1, 90)?;
        for (row, column) in (1u32..).zip(&columns) {
            sheet.write_string(row, 0, column.name)?;
            sheet.write_string_with_format(row, 1, column.meaning, &wrap)?;
        }
        let last = u32::try_from(columns.len()).unwrap_or(0) + 2;
        sheet.write_string(
            last,
            0,
            "Fill in the Data sheet from row 2, then: purl import <kind> FILE.xlsx (add --dry-run to check first).",
        )?;
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name("Lists")?;
        for (row, code) in (0u32..).zip(&currencies) {
            sheet.write_string(row, 0, *code)?;
        }
        sheet.set_hidden(true);
    }
    book.save_to_buffer()
}
