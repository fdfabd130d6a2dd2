//! `purl import pledges FILE`.

use std::collections::{BTreeSet, HashMap};

use purl_core::command::{Command, NewPledge};
use purl_core::error::DomainError;
use purl_core::ids::{parse_date, Category, ParticipantCode, Reference, Text, STANDARD_CATEGORIES};
use purl_core::money::{Currency, Money};
use purl_core::pledge::{Earmark, Pledge, PledgeStatus};
use purl_core::state::State;

use super::table::{self, boolean, cell, Grid, Row};
use super::{ImportProblem, Parsed, RowCommand};

pub(crate) const COLUMNS: [&str; 13] = [
    "reference",
    "contributors",
    "amount",
    "currency",
    "announced_on",
    "status",
    "part_of",
    "categories",
    "lethal_allowed",
    "package",
    "conditions",
    "public",
    "note",
];

fn column_for(error: &DomainError) -> Option<&'static str> {
    match error {
        DomainError::NotFound {
            what: "participant",
            ..
        } => Some("contributors"),
        DomainError::NotFound { what: "pledge", .. } => Some("part_of"),
        DomainError::NotFound {
            what: "package", ..
        } => Some("package"),
        DomainError::AlreadyExists { .. } => Some("reference"),
        DomainError::Invalid(message) if message.contains("contributor") => Some("contributors"),
        _ => Some("status"),
    }
}

/// A 2-letter ISO code is looked up among participants; anything else must be a participant code.
pub fn resolve_participant(state: &State, code: &str) -> Result<ParticipantCode, String> {
    let upper = code.trim().to_ascii_uppercase();
    if upper.len() == 2 {
        return state
            .participants
            .values()
            .find(|p| p.alpha2.as_deref() == Some(upper.as_str()))
            .map(|p| p.code.clone())
            .ok_or_else(|| format!("unknown country '{code}'"));
    }
    let parsed = ParticipantCode::parse(&upper)
        .map_err(|_| format!("unknown country or participant '{code}'"))?;
    if state.participants.contains_key(&parsed) {
        Ok(parsed)
    } else {
        Err(format!("unknown country or participant '{code}'"))
    }
}

fn known_categories(state: &State) -> BTreeSet<String> {
    let mut known: BTreeSet<String> = STANDARD_CATEGORIES
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    known.extend(state.items.values().map(|item| item.category.to_string()));
    known
}

pub(crate) fn parse(grid: &Grid, state: &State) -> Result<Parsed, Vec<ImportProblem>> {
    let table = table::read(grid, &COLUMNS, &[])?;
    let mut problems = Vec::new();
    let mut pledges: Vec<(usize, NewPledge)> = Vec::new();
    let mut seen: HashMap<Reference, usize> = HashMap::new();
    let known = known_categories(state);
    for row in &table.rows {
        let Some(pledge) = parse_row(row, state, &known, &mut problems) else {
            continue;
        };
        if let Some(first) = seen.insert(pledge.reference.clone(), row.number) {
            problems.push(row.problem(
                "reference",
                format!(
                    "duplicate reference '{}' (also on row {first})",
                    pledge.reference
                ),
            ));
            continue;
        }
        pledges.push((row.number, pledge));
    }
    for (number, pledge) in &pledges {
        if let Some(joint) = &pledge.part_of {
            if !seen.contains_key(joint) && !state.pledges.contains_key(joint) {
                problems.push(ImportProblem::at(
                    *number,
                    "part_of",
                    format!("part_of '{joint}' points to no pledge in this file or the ledger"),
                ));
            }
        }
    }
    // Joint pledges before the shares that point at them.
    pledges.sort_by_key(|(number, pledge)| (pledge.part_of.is_some(), *number));
    let mut commands = Vec::new();
    for (number, pledge) in pledges {
        match state.pledges.get(&pledge.reference) {
            None => commands.extend(new_pledge_commands(number, pledge)),
            Some(existing) => match changes_to(existing, &pledge) {
                Ok(changes) => commands.extend(changes.into_iter().map(|command| RowCommand {
                    row: Some(number),
                    command,
                    column_for,
                })),
                Err(problem) => problems.push(ImportProblem::at(number, problem.0, problem.1)),
            },
        }
    }
    if problems.is_empty() {
        Ok(Parsed {
            commands,
            rows: table.rows.len(),
            notes: Vec::new(),
        })
    } else {
        Err(problems)
    }
}

fn new_pledge_commands(number: usize, mut pledge: NewPledge) -> Vec<RowCommand> {
    let withdrawn = pledge.status == PledgeStatus::Withdrawn;
    if withdrawn {
        pledge.status = PledgeStatus::Announced;
    }
    let reference = pledge.reference.clone();
    let mut commands = vec![RowCommand {
        row: Some(number),
        command: Command::RecordPledge { pledge },
        column_for,
    }];
    if withdrawn {
        commands.push(RowCommand {
            row: Some(number),
            command: Command::WithdrawPledge { reference },
            column_for,
        });
    }
    commands
}

/// What a re-imported row changes on an existing pledge: its status and public flag may move on;
/// anything else differing is an error (the ledger does not silently rewrite a pledge).
fn changes_to(existing: &Pledge, row: &NewPledge) -> Result<Vec<Command>, (&'static str, String)> {
    let fixed = [
        ("contributors", existing.contributors != row.contributors),
        ("amount", existing.amount != row.amount),
        ("currency", existing.currency != row.currency),
        ("announced_on", existing.announced_on != row.announced_on),
        ("part_of", existing.part_of != row.part_of),
        ("categories", existing.earmark != row.earmark),
        ("conditions", existing.conditions != row.conditions),
        ("note", existing.note != row.note),
    ];
    if let Some((column, _)) = fixed.iter().find(|(_, differs)| *differs) {
        return Err((column, format!("pledge '{}' is already recorded with a different {column}; change it with the pledge commands, not by re-import", existing.reference)));
    }
    let reference = existing.reference.clone();
    let mut commands = Vec::new();
    match (existing.status, row.status) {
        (from, to) if from == to => {}
        (PledgeStatus::Announced, PledgeStatus::Committed) => {
            commands.push(Command::CommitPledge {
                reference: reference.clone(),
            })
        }
        (_, PledgeStatus::Withdrawn) => commands.push(Command::WithdrawPledge {
            reference: reference.clone(),
        }),
        (from, to) => {
            return Err((
                "status",
                format!(
                    "pledge '{reference}' is {}; it cannot become {}",
                    from.as_str(),
                    to.as_str()
                ),
            ));
        }
    }
    if existing.public != row.public {
        commands.push(Command::SetPledgePublic {
            reference,
            public: row.public,
        });
    }
    Ok(commands)
}

fn parse_row(
    row: &Row<'_>,
    state: &State,
    known: &BTreeSet<String>,
    problems: &mut Vec<ImportProblem>,
) -> Option<NewPledge> {
    let before = problems.len();
    let reference = cell(
        problems,
        row,
        "reference",
        Reference::parse(row.get("reference")),
    );
    let contributors = parse_contributors(row, state, problems);
    let currency = match row.get("currency") {
        "" => None,
        code => cell(problems, row, "currency", Currency::parse(code)),
    };
    let amount = match (row.get("amount"), currency) {
        ("", _) => None,
        (_, None) if row.get("currency").is_empty() => {
            problems
                .push(row.problem("currency", "a currency is required when an amount is given"));
            None
        }
        (_, None) => None,
        (text, Some(currency)) => cell(
            problems,
            row,
            "amount",
            Money::parse_positive(text, currency),
        ),
    };
    let announced_on = cell(
        problems,
        row,
        "announced_on",
        parse_date(row.get("announced_on")),
    );
    let status = match PledgeStatus::parse(row.get("status")) {
        Some(status) => Some(status),
        None => {
            problems.push(row.problem(
                "status",
                format!(
                    "'{}' is not announced, committed or withdrawn",
                    row.get("status")
                ),
            ));
            None
        }
    };
    let part_of = match row.get("part_of") {
        "" => None,
        text => cell(problems, row, "part_of", Reference::parse(text)),
    };
    let earmark = parse_earmark(row, known, problems);
    let conditions = cell(
        problems,
        row,
        "conditions",
        Text::parse(row.get("conditions")),
    );
    let public = cell(
        problems,
        row,
        "public",
        boolean(row, "public", false).map_err(|p| p.message),
    );
    let note = cell(problems, row, "note", Text::parse(row.get("note")));
    if problems.len() > before {
        return None;
    }
    Some(NewPledge {
        reference: reference?,
        contributors,
        amount,
        currency,
        announced_on: announced_on?,
        status: status?,
        part_of,
        earmark: earmark?,
        conditions: conditions?,
        public: public?,
        note: note?,
    })
}

fn parse_contributors(
    row: &Row<'_>,
    state: &State,
    problems: &mut Vec<ImportProblem>,
) -> Vec<ParticipantCode> {
    let text = row.get("contributors");
    if text.is_empty() {
        problems.push(row.problem("contributors", "at least one contributor is required"));
        return Vec::new();
    }
    text.split(';')
        .filter_map(|code| {
            cell(
                problems,
                row,
                "contributors",
                resolve_participant(state, code),
            )
        })
        .collect()
}

fn parse_earmark(
    row: &Row<'_>,
    known: &BTreeSet<String>,
    problems: &mut Vec<ImportProblem>,
) -> Option<Earmark> {
    let before = problems.len();
    let categories = match row.get("categories") {
        "" => None,
        text => {
            let mut set = BTreeSet::new();
            for name in text.split(';').map(str::trim) {
                if !known.contains(name) {
                    let list = known.iter().cloned().collect::<Vec<_>>().join(", ");
                    problems.push(row.problem(
                        "categories",
                        format!("unknown category '{name}' (known: {list})"),
                    ));
                } else if let Some(category) =
                    cell(problems, row, "categories", Category::parse(name))
                {
                    set.insert(category);
                }
            }
            Some(set)
        }
    };
    let lethal_allowed = cell(
        problems,
        row,
        "lethal_allowed",
        boolean(row, "lethal_allowed", true).map_err(|p| p.message),
    );
    let package = match row.get("package") {
        "" => None,
        text => cell(
            problems,
            row,
            "package",
            text.parse::<u32>()
                .map_err(|_| format!("'{text}' is not a package number")),
        ),
    };
    if problems.len() > before {
        return None;
    }
    Some(Earmark {
        categories,
        lethal_allowed: lethal_allowed?,
        package,
    })
}
