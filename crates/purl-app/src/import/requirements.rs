//! `purl import requirements FILE --period 2025-12`. The file is the whole list in rank order: it
//! becomes the draft version of the period (a new version when the latest is approved). Items not
//! yet in the catalogue are added; a known item must keep its name, category and lethality.

use std::collections::HashMap;

use purl_core::command::{Command, NewLine};
use purl_core::error::DomainError;
use purl_core::ids::{parse_date, Category, ItemCode, Name, Period, Text};
use purl_core::limits::LINE_QUANTITY_MAX;
use purl_core::money::{Currency, Money};
use purl_core::state::State;

use super::table::{self, boolean, cell, Grid, Row};
use super::{ImportProblem, Parsed, RowCommand};

pub(crate) const COLUMNS: [&str; 9] = [
    "rank",
    "item_code",
    "item_name",
    "category",
    "lethal",
    "unit_price_usd",
    "quantity",
    "needed_by",
    "justification",
];

fn column_for(error: &DomainError) -> Option<&'static str> {
    match error {
        DomainError::Invalid(message) if message.contains("quantity") => Some("quantity"),
        DomainError::Transition { .. } => None,
        _ => Some("item_code"),
    }
}

struct ItemRow {
    code: ItemCode,
    name: Name,
    category: Category,
    lethal: bool,
    unit_price: Money,
}

/// What one row says, checked on its own: its rank (when readable, to find ranks given twice),
/// its item and line (when every cell is good) and the problems of its cells.
pub(crate) struct CheckedRow {
    number: usize,
    rank: Option<u32>,
    line: Option<(ItemRow, NewLine)>,
    problems: Vec<ImportProblem>,
}

/// Checks one row on its own (see `table::RowCheck`).
pub(crate) fn check_row(row: &Row<'_>) -> CheckedRow {
    let mut problems = Vec::new();
    let rank = cell(
        &mut problems,
        row,
        "rank",
        row.get("rank")
            .parse::<u32>()
            .map_err(|_| format!("'{}' is not a rank (1, 2, ...)", row.get("rank"))),
    );
    let item = parse_item(row, &mut problems);
    let quantity = cell(
        &mut problems,
        row,
        "quantity",
        parse_quantity(row.get("quantity")),
    );
    let needed_by = cell(
        &mut problems,
        row,
        "needed_by",
        parse_date(row.get("needed_by")),
    );
    let justification = cell(
        &mut problems,
        row,
        "justification",
        Text::parse(row.get("justification")),
    );
    let line = match (item, quantity, needed_by, justification) {
        (Some(item), Some(quantity), Some(needed_by), Some(justification))
            if problems.is_empty() =>
        {
            let line = NewLine {
                item: item.code.clone(),
                quantity,
                needed_by,
                justification,
            };
            Some((item, line))
        }
        _ => None,
    };
    CheckedRow {
        number: row.number,
        rank,
        line,
        problems,
    }
}

/// The commands of the list in `grid`: its rows' checks are `checked` when they were made as the
/// file was read, otherwise they are made here.
pub(crate) fn parse(
    grid: &Grid,
    state: &State,
    period: Period,
    checked: Option<Vec<CheckedRow>>,
) -> Result<Parsed, Vec<ImportProblem>> {
    let table = table::read(grid, &COLUMNS, &[])?;
    let checks = checked
        .filter(|checks| checks.len() == table.rows.len())
        .unwrap_or_else(|| table::check_rows(&table.rows, check_row));
    let mut problems = Vec::new();
    let mut ranked: Vec<(u32, usize, NewLine)> = Vec::new();
    let mut ranks: HashMap<u32, usize> = HashMap::with_capacity(table.rows.len());
    let mut commands = Vec::new();
    let mut new_items: HashMap<ItemCode, usize> = HashMap::new();
    for (row, checked) in table.rows.iter().zip(checks) {
        problems.extend(checked.problems);
        if let Some(rank) = checked.rank {
            if let Some(first) = ranks.insert(rank, checked.number) {
                problems.push(row.problem(
                    "rank",
                    format!("rank {rank} is given twice (also on row {first})"),
                ));
                continue;
            }
        }
        let (Some(rank), Some((item, line))) = (checked.rank, checked.line) else {
            continue;
        };
        if let Some(command) = item_command(state, row, &item, &mut new_items, &mut problems) {
            commands.push(RowCommand {
                row: Some(row.number),
                command,
                column_for,
            });
        }
        ranked.push((rank, row.number, line));
    }
    ranked.sort_by_key(|(rank, _, _)| *rank);
    for (index, (rank, number, _)) in ranked.iter().enumerate() {
        let expected = u32::try_from(index).expect("bounded by IMPORT_ROWS_MAX") + 1;
        if *rank != expected && problems.is_empty() {
            problems.push(ImportProblem::at(*number, "rank", format!("ranks must run 1, 2, 3, ... without gaps; expected rank {expected} here, found {rank}")));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let lines = ranked.into_iter().map(|(_, _, line)| line).collect();
    commands.push(RowCommand {
        row: None,
        command: Command::ReplaceLines { period, lines },
        column_for,
    });
    Ok(Parsed {
        commands,
        rows: table.rows.len(),
        notes: Vec::new(),
    })
}

fn parse_quantity(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("quantity must be at least 1".to_owned()),
        Ok(quantity) if quantity <= LINE_QUANTITY_MAX => Ok(quantity),
        _ => Err(format!(
            "'{text}' is not a whole quantity between 1 and {LINE_QUANTITY_MAX}"
        )),
    }
}

fn parse_item(row: &Row<'_>, problems: &mut Vec<ImportProblem>) -> Option<ItemRow> {
    let code = cell(
        problems,
        row,
        "item_code",
        ItemCode::parse(row.get("item_code")),
    );
    let name = cell(
        problems,
        row,
        "item_name",
        Name::parse(row.get("item_name")),
    );
    let category = cell(
        problems,
        row,
        "category",
        Category::parse(row.get("category")),
    );
    let lethal = match row.get("lethal") {
        "" => {
            problems.push(row.problem("lethal", "lethal must be true or false"));
            None
        }
        _ => cell(
            problems,
            row,
            "lethal",
            boolean(row, "lethal", false).map_err(|p| p.message),
        ),
    };
    let unit_price = cell(
        problems,
        row,
        "unit_price_usd",
        Money::parse_positive(row.get("unit_price_usd"), Currency::USD),
    );
    Some(ItemRow {
        code: code?,
        name: name?,
        category: category?,
        lethal: lethal?,
        unit_price: unit_price?,
    })
}

/// Adds an unknown item or reprices a known one; refuses a known item described differently.
fn item_command(
    state: &State,
    row: &Row<'_>,
    item: &ItemRow,
    new_items: &mut HashMap<ItemCode, usize>,
    problems: &mut Vec<ImportProblem>,
) -> Option<Command> {
    let Some(known) = state.items.get(&item.code) else {
        if new_items.contains_key(&item.code) {
            return None;
        }
        new_items.insert(item.code.clone(), row.number);
        return Some(Command::AddItem {
            code: item.code.clone(),
            name: item.name.clone(),
            category: item.category.clone(),
            lethal: item.lethal,
            unit_price: item.unit_price,
            lead_time_days: 0,
        });
    };
    let differs = [
        ("item_name", known.name != item.name, known.name.to_string()),
        (
            "category",
            known.category != item.category,
            known.category.to_string(),
        ),
        (
            "lethal",
            known.lethal != item.lethal,
            known.lethal.to_string(),
        ),
    ];
    for (column, different, catalogue) in differs {
        if different {
            problems.push(row.problem(
                column,
                format!("item {} is '{catalogue}' in the catalogue", item.code),
            ));
        }
    }
    (known.unit_price != item.unit_price).then(|| Command::PriceItem {
        code: item.code.clone(),
        unit_price: item.unit_price,
        lead_time_days: None,
    })
}
