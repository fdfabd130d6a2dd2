//! `purl import fx FILE`: the ECB reference-rate CSV as published (`Date,USD,JPY,...`, units of
//! each currency per 1 EUR, `N/A` for gaps), or the simple form `date,currency,usd_per_unit`
//! (a decimal or an exact fraction `n/d`) with an optional `source` column.
//! ECB rates become USD rates exactly: one unit of X is worth USD/X dollars, kept as a ratio.

use purl_core::command::Command;
use purl_core::error::DomainError;
use purl_core::fx::FxRate;
use purl_core::ids::parse_date;
use purl_core::money::{Currency, Ratio};
use purl_core::state::State;

use super::table::{self, cell, Grid};
use super::{ImportProblem, Parsed, RowCommand};

fn column_for(_: &DomainError) -> Option<&'static str> {
    None
}

pub(crate) fn parse(grid: &Grid, _state: &State, file: &str) -> Result<Parsed, Vec<ImportProblem>> {
    if grid.header.first().is_some_and(|first| first == "Date") {
        parse_ecb(grid, file)
    } else {
        parse_simple(grid, file)
    }
}

fn finish(rates: Vec<FxRate>, rows: usize, notes: Vec<String>) -> Parsed {
    let command = RowCommand {
        row: None,
        command: Command::RecordRates { rates },
        column_for,
    };
    Parsed {
        commands: vec![command],
        rows,
        notes,
    }
}

fn parse_simple(grid: &Grid, file: &str) -> Result<Parsed, Vec<ImportProblem>> {
    let table = table::read(grid, &["date", "currency", "usd_per_unit"], &["source"])?;
    let mut problems = Vec::new();
    let mut rates: Vec<FxRate> = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for row in &table.rows {
        let date = cell(&mut problems, row, "date", parse_date(row.get("date")));
        let currency = cell(
            &mut problems,
            row,
            "currency",
            Currency::parse(row.get("currency")),
        );
        let value = cell(
            &mut problems,
            row,
            "usd_per_unit",
            match row.get("usd_per_unit") {
                exact if exact.contains('/') => Ratio::parse_fraction(exact),
                decimal => Ratio::parse_decimal(decimal),
            },
        );
        if let (Some(date), Some(currency), Some(usd_per_unit)) = (date, currency, value) {
            if let Some(earlier) = seen.insert((date, currency), row.number) {
                problems.push(row.problem(
                    "currency",
                    format!("{currency} on {date} appears twice (also on row {earlier})"),
                ));
                continue;
            }
            rates.push(FxRate {
                currency,
                date,
                usd_per_unit,
                source: match row.get("source") {
                    "" => format!("file {file}"),
                    given => given.to_owned(),
                },
            });
        }
    }
    if problems.is_empty() {
        Ok(finish(rates, table.rows.len(), Vec::new()))
    } else {
        Err(problems)
    }
}

/// Historic currencies the ECB file still carries (CYP, SIT, ...) are not ISO 4217 today; their
/// columns are skipped and named in the summary.
fn parse_ecb(grid: &Grid, file: &str) -> Result<Parsed, Vec<ImportProblem>> {
    let columns: Vec<&str> = grid
        .header
        .iter()
        .map(String::as_str)
        .filter(|h| !h.is_empty())
        .collect();
    if !columns.contains(&"USD") {
        return Err(vec![ImportProblem::at(
            1,
            "USD",
            "the ECB file has no USD column, so no rate to USD can be derived",
        )]);
    }
    let mut optional = columns.clone();
    optional.push("");
    let table = table::read(grid, &["Date"], &optional)?;
    let currencies: Vec<(&str, Option<Currency>)> = columns
        .iter()
        .filter(|c| **c != "Date")
        .map(|c| (*c, Currency::parse(c).ok()))
        .collect();
    let skipped: Vec<&str> = currencies
        .iter()
        .filter(|(_, c)| c.is_none())
        .map(|(code, _)| *code)
        .collect();
    let mut problems = Vec::new();
    let mut rates = Vec::new();
    let source = format!("ECB euro reference rates, file {file}");
    for row in &table.rows {
        let Some(date) = cell(&mut problems, row, "Date", parse_date(row.get("Date"))) else {
            continue;
        };
        let per_eur = |code: &str| match row.get(code) {
            "" | "N/A" => Ok(None),
            text => Ratio::parse_decimal(text).map(Some),
        };
        let Some(Some(usd_per_eur)) = cell(&mut problems, row, "USD", per_eur("USD")) else {
            continue;
        };
        rates.push(FxRate {
            currency: Currency::EUR,
            date,
            usd_per_unit: usd_per_eur,
            source: source.clone(),
        });
        for (code, currency) in &currencies {
            let Some(currency) = currency.filter(|c| *c != Currency::USD) else {
                continue;
            };
            let Some(Some(units_per_eur)) = cell(&mut problems, row, code, per_eur(code)) else {
                continue;
            };
            match usd_per_eur.checked_div(units_per_eur) {
                Ok(usd_per_unit) => rates.push(FxRate {
                    currency,
                    date,
                    usd_per_unit,
                    source: source.clone(),
                }),
                Err(error) => problems.push(row.problem(code, error.to_string())),
            }
        }
    }
    let mut notes = Vec::new();
    if !skipped.is_empty() {
        notes.push(format!(
            "skipped columns of currencies no longer in ISO 4217: {}",
            skipped.join(", ")
        ));
    }
    if problems.is_empty() {
        Ok(finish(rates, table.rows.len(), notes))
    } else {
        Err(problems)
    }
}
