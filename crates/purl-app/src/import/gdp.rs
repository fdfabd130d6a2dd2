//! `purl import gdp FILE`: GDP per country per year in the World Bank's long shape,
//! `Country Code,Year,Value` (current US dollars; `Country Name`, `Indicator Name`, `Indicator Code`
//! and `Source` columns may be present). An empty value or the World Bank's `..` means no figure and
//! the row is skipped. Values are rounded half-to-even to whole dollars: GDP is a statistic measured
//! far more coarsely than that.

use std::collections::HashMap;

use purl_core::command::Command;
use purl_core::error::DomainError;
use purl_core::gdp::{is_country_code, GdpFigure, YEARS};
use purl_core::money::{Currency, Money};
use purl_core::state::State;

use super::table::{self, cell, Grid};
use super::{ImportProblem, Parsed, RowCommand};

pub(crate) const COLUMNS: [&str; 3] = ["Country Code", "Year", "Value"];
const OPTIONAL: [&str; 4] = ["Country Name", "Indicator Name", "Indicator Code", "Source"];

fn column_for(_: &DomainError) -> Option<&'static str> {
    Some("Value")
}

/// Whole US dollars from a non-negative decimal, rounded half-to-even.
fn whole_dollars(text: &str) -> Result<i64, String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (text.contains('.') && !digits(fraction)) {
        return Err(format!("'{text}' is not a number of US dollars"));
    }
    let too_large = || format!("'{text}' is too large for a GDP");
    let mut dollars: i64 = whole.parse().map_err(|_| too_large())?;
    let first = fraction.bytes().next().map_or(0, |b| b - b'0');
    let rest_nonzero = fraction.bytes().skip(1).any(|b| b != b'0');
    if first > 5 || (first == 5 && (rest_nonzero || dollars % 2 == 1)) {
        dollars = dollars.checked_add(1).ok_or_else(too_large)?;
    }
    Ok(dollars)
}

pub(crate) fn parse(grid: &Grid, _state: &State, file: &str) -> Result<Parsed, Vec<ImportProblem>> {
    let table = table::read(grid, &COLUMNS, &OPTIONAL)?;
    let mut problems = Vec::new();
    let mut figures = Vec::new();
    let mut seen: HashMap<(String, i32), usize> = HashMap::new();
    let mut skipped = 0usize;
    for row in &table.rows {
        let code = row.get("Country Code").to_owned();
        let country = cell(
            &mut problems,
            row,
            "Country Code",
            if is_country_code(&code) {
                Ok(code.clone())
            } else {
                Err(format!("'{code}' is not a three-letter country code"))
            },
        );
        let year = cell(
            &mut problems,
            row,
            "Year",
            row.get("Year")
                .parse::<i32>()
                .ok()
                .filter(|y| YEARS.contains(y))
                .ok_or_else(|| {
                    format!(
                        "'{}' is not a year from {} to {}",
                        row.get("Year"),
                        YEARS.start(),
                        YEARS.end()
                    )
                }),
        );
        let value = row.get("Value");
        if value.is_empty() || value == ".." {
            skipped += 1;
            continue;
        }
        let usd = cell(
            &mut problems,
            row,
            "Value",
            whole_dollars(value).and_then(|dollars| {
                dollars
                    .checked_mul(100)
                    .and_then(|minor| Money::from_minor(minor, Currency::USD).ok())
                    .filter(|money| money.is_positive())
                    .ok_or_else(|| format!("'{value}' is not a positive GDP in US dollars"))
            }),
        );
        let (Some(country), Some(year), Some(usd)) = (country, year, usd) else {
            continue;
        };
        if let Some(first) = seen.insert((country.clone(), year), row.number) {
            problems.push(row.problem(
                "Year",
                format!("{country} {year} appears twice (also on row {first})"),
            ));
            continue;
        }
        let source = match row.get("Source") {
            "" => format!("file {file}"),
            given => given.to_owned(),
        };
        figures.push(GdpFigure {
            country,
            year,
            usd,
            source,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut notes = Vec::new();
    if skipped > 0 {
        notes.push(format!("{skipped} rows without a value were skipped"));
    }
    Ok(Parsed {
        commands: vec![RowCommand {
            row: None,
            command: Command::RecordGdp { figures },
            column_for,
        }],
        rows: table.rows.len(),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_half_to_even_to_whole_dollars() {
        assert_eq!(whole_dollars("1118125000000"), Ok(1_118_125_000_000));
        assert_eq!(whole_dollars("10.5"), Ok(10));
        assert_eq!(whole_dollars("11.5"), Ok(12));
        assert_eq!(whole_dollars("10.50001"), Ok(11));
        assert_eq!(whole_dollars("10.4999"), Ok(10));
        assert!(whole_dollars("1e12").is_err());
        assert!(whole_dollars("-5").is_err());
        assert!(whole_dollars("12.").is_err());
    }

    #[test]
    fn a_world_bank_extract_reads_with_its_gaps_and_source() {
        let text = "Country Name,Country Code,Year,Value,Source\n\
            Netherlands,NLD,2024,1227540000000.4,World Bank WDI NY.GDP.MKTP.CD\n\
            Germany,DEU,2024,..,World Bank WDI NY.GDP.MKTP.CD\n";
        let parsed = parse(&Grid::from_csv(text).unwrap(), &State::default(), "gdp.csv").unwrap();
        let Command::RecordGdp { figures } = &parsed.commands[0].command else {
            panic!("one command");
        };
        assert_eq!(figures.len(), 1);
        assert_eq!(figures[0].usd.amount_string(), "1227540000000.00");
        assert_eq!(figures[0].source, "World Bank WDI NY.GDP.MKTP.CD");
        assert_eq!(parsed.notes, ["1 rows without a value were skipped"]);
    }

    #[test]
    fn every_bad_row_is_named_with_its_column() {
        let text = "Country Code,Year,Value\nnl,2024,5\nNLD,1800,5\nNLD,2024,abc\n";
        let problems = parse(&Grid::from_csv(text).unwrap(), &State::default(), "gdp.csv")
            .err()
            .unwrap();
        let places: Vec<_> = problems
            .iter()
            .map(|p| (p.row.unwrap(), p.column.clone().unwrap()))
            .collect();
        assert_eq!(
            places,
            [
                (2, "Country Code".to_owned()),
                (3, "Year".to_owned()),
                (4, "Value".to_owned())
            ]
        );
    }
}
