//! `purl import payments FILE`. A payment has no id of its own in a file, so a row is the same
//! payment as a recorded one when pledge, amount, date and note agree; the n-th such row matches
//! the n-th such payment, and only rows beyond those already recorded are new.

use std::collections::HashMap;

use purl_core::command::Command;
use purl_core::error::DomainError;
use purl_core::ids::{parse_date, Reference, Text};
use purl_core::money::{Currency, Money};
use purl_core::state::State;

use super::table::{self, cell, Grid};
use super::{ImportProblem, Parsed, RowCommand};

pub(crate) const COLUMNS: [&str; 5] = [
    "pledge_reference",
    "amount",
    "currency",
    "received_on",
    "note",
];

fn column_for(error: &DomainError) -> Option<&'static str> {
    match error {
        DomainError::Fx(_) => Some("received_on"),
        DomainError::Invalid(message) if message.contains(" is in ") => Some("currency"),
        DomainError::Invalid(message) if message.contains("received") => Some("amount"),
        _ => Some("pledge_reference"),
    }
}

type PaymentKey = (Reference, Money, chrono::NaiveDate, String);

pub(crate) fn parse(grid: &Grid, state: &State) -> Result<Parsed, Vec<ImportProblem>> {
    let table = table::read(grid, &COLUMNS, &[])?;
    let mut problems = Vec::new();
    let mut recorded: HashMap<PaymentKey, usize> = HashMap::new();
    for payment in state.payments.values() {
        let key = (
            payment.pledge.clone(),
            payment.amount,
            payment.received_on,
            payment.note.as_str().to_owned(),
        );
        *recorded.entry(key).or_default() += 1;
    }
    let mut commands = Vec::new();
    let mut skipped = 0usize;
    for row in &table.rows {
        let before = problems.len();
        let pledge = cell(
            &mut problems,
            row,
            "pledge_reference",
            Reference::parse(row.get("pledge_reference")),
        );
        if let Some(reference) = &pledge {
            if !state.pledges.contains_key(reference) {
                problems.push(row.problem(
                    "pledge_reference",
                    format!("pledge '{reference}' does not exist"),
                ));
            }
        }
        let currency = cell(
            &mut problems,
            row,
            "currency",
            Currency::parse(row.get("currency")),
        );
        let amount = currency.and_then(|c| {
            cell(
                &mut problems,
                row,
                "amount",
                Money::parse_positive(row.get("amount"), c),
            )
        });
        let received_on = cell(
            &mut problems,
            row,
            "received_on",
            parse_date(row.get("received_on")),
        );
        let note = cell(&mut problems, row, "note", Text::parse(row.get("note")));
        if problems.len() > before {
            continue;
        }
        let (Some(pledge), Some(amount), Some(received_on), Some(note)) =
            (pledge, amount, received_on, note)
        else {
            continue;
        };
        let key = (
            pledge.clone(),
            amount,
            received_on,
            note.as_str().to_owned(),
        );
        if let Some(count) = recorded.get_mut(&key).filter(|count| **count > 0) {
            *count -= 1;
            skipped += 1;
            continue;
        }
        let command = Command::RecordPayment {
            pledge,
            amount,
            received_on,
            note,
        };
        commands.push(RowCommand {
            row: Some(row.number),
            command,
            column_for,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let notes = if skipped > 0 {
        vec![format!("{skipped} row(s) already recorded")]
    } else {
        Vec::new()
    };
    Ok(Parsed {
        commands,
        rows: table.rows.len(),
        notes,
    })
}
