//! Import templates: an Excel workbook per import with the header row, a format and a list of
//! allowed values per column where there is one, and a second sheet saying what each column holds.

use rust_xlsxwriter::XlsxError;

use super::{gdp, payments, pledges, requirements, ImportKind};
use crate::workbook::{self, Book, Cell, Column, Holds, Sheet};

const fn column(
    name: &'static str,
    holds: Holds,
    meaning: &'static str,
) -> (&'static str, Holds, &'static str) {
    (name, holds, meaning)
}

/// The columns of a file of `kind`, with what each holds.
pub fn columns(kind: ImportKind) -> Vec<Column> {
    columns_of(kind)
        .into_iter()
        .map(|(name, holds, meaning)| Column::new(name, holds, meaning))
        .collect()
}

fn columns_of(kind: ImportKind) -> Vec<(&'static str, Holds, &'static str)> {
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
                "US dollars for one unit of the currency, e.g. 1.0824, or an exact fraction 10000/10823.",
            ),
            column(
                "source",
                H::Text,
                "Where the rate comes from (optional; default: the file's name).",
            ),
        ],
        ImportKind::Gdp => vec![
            column(
                "Country Code",
                H::Text,
                "ISO 3166-1 alpha-3 code as the World Bank uses it, e.g. NLD.",
            ),
            column("Year", H::Whole, "The calendar year of the figure."),
            column(
                "Value",
                H::Amount,
                "GDP in current US dollars (rounded to whole dollars); empty or .. for no figure.",
            ),
            column(
                "Source",
                H::Text,
                "Where the figure comes from, e.g. World Bank WDI NY.GDP.MKTP.CD (optional; default: the file's name).",
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

/// The header a file of `kind` has, as the import reads it.
fn header(kind: ImportKind) -> &'static [&'static str] {
    match kind {
        ImportKind::Pledges => &pledges::COLUMNS,
        ImportKind::Payments => &payments::COLUMNS,
        ImportKind::Fx => &["date", "currency", "usd_per_unit", "source"],
        ImportKind::Gdp => &["Country Code", "Year", "Value", "Source"],
        ImportKind::Requirements { .. } => &requirements::COLUMNS,
    }
}

/// A workbook of `kind` holding `rows` (none for a template), in the import's shape, with lists of
/// allowed values, a sheet explaining the columns and, if given, a sheet of what the rows are.
pub fn book(kind: ImportKind, rows: Vec<Vec<Cell>>, about: Vec<(String, String)>) -> Book {
    let columns = columns(kind);
    debug_assert!(columns
        .iter()
        .map(|c| c.name.as_str())
        .eq(header(kind).iter().copied()));
    debug_assert!(gdp::COLUMNS
        .iter()
        .all(|c| header(ImportKind::Gdp).contains(c)));
    Book {
        sheets: vec![Sheet {
            name: "Data".into(),
            columns,
            rows,
            validate: true,
        }],
        about,
        footer: Some(format!(
            "Fill in the Data sheet from row 2, then: purl import {} FILE.xlsx (add --dry-run to check first).",
            kind.name()
        )),
    }
}

/// The template workbook for `kind`, as bytes of an .xlsx file.
pub fn workbook(kind: ImportKind) -> Result<Vec<u8>, XlsxError> {
    workbook::to_xlsx(&book(kind, Vec::new(), Vec::new()))
}
