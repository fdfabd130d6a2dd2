//! Requirement lists, their versions and the three-party approval.

use super::{Command, Context, NewLine};
use crate::error::DomainError;
use crate::event::EventPayload;
use crate::ids::Period;
use crate::limits::{LINE_QUANTITY_MAX, LIST_LINES_MAX};
use crate::list::{Line, ListStatus, ListStep, ListVersion, RequirementList, APPROVING_PARTIES};
use crate::policy::Action;
use crate::state::State;

pub(super) fn decide(
    state: &State,
    context: &Context<'_>,
    command: &Command,
) -> Result<Vec<EventPayload>, DomainError> {
    match command {
        Command::CreateList { period } => {
            context.require(Action::DraftList)?;
            if state.lists.contains_key(period) {
                return Err(DomainError::AlreadyExists {
                    what: "list",
                    id: period.to_string(),
                });
            }
            Ok(vec![EventPayload::ListCreated { period: *period }])
        }
        Command::DraftListVersion { period } => {
            context.require(Action::DraftList)?;
            let list = get_list(state, *period)?;
            if let Some(open) = list.open_version() {
                return Err(DomainError::invalid(format!(
                    "list {period} already has version {} in status {}; finish it first",
                    open.number,
                    open.status.as_str()
                )));
            }
            let latest = list.latest();
            Ok(vec![EventPayload::ListVersionDrafted {
                period: *period,
                number: latest.number + 1,
                based_on: Some(latest.number),
            }])
        }
        Command::SubmitList { period } | Command::ReturnList { period } => {
            let submit = matches!(command, Command::SubmitList { .. });
            context.require(if submit {
                Action::SubmitList
            } else {
                Action::DraftList
            })?;
            step_version(state, *period, submit)
        }
        Command::ApproveList {
            period,
            version,
            party,
        } => approve(state, context, *period, *version, *party),
        Command::ReplaceLines { period, lines } => replace_lines(state, context, *period, lines),
        _ => edit_draft(state, context, command),
    }
}

fn get_list(state: &State, period: Period) -> Result<&RequirementList, DomainError> {
    state
        .lists
        .get(&period)
        .ok_or_else(|| DomainError::not_found("list", period))
}

fn draft_of(list: &RequirementList) -> Result<&ListVersion, DomainError> {
    let latest = list.latest();
    if latest.status != ListStatus::Draft {
        return Err(DomainError::transition(
            "list version",
            format!("{} v{}", list.period, latest.number),
            latest.status.as_str(),
            "edit lines (draft a new version first)",
        ));
    }
    Ok(latest)
}

fn step_version(
    state: &State,
    period: Period,
    submit: bool,
) -> Result<Vec<EventPayload>, DomainError> {
    let list = get_list(state, period)?;
    let latest = list.latest();
    let (step, action) = if submit {
        (ListStep::Submit, "submit")
    } else {
        (ListStep::Return, "return to draft")
    };
    if latest.status.after(step).is_none() {
        let id = format!("{period} v{}", latest.number);
        return Err(DomainError::transition(
            "list version",
            id,
            latest.status.as_str(),
            action,
        ));
    }
    if submit && latest.lines.is_empty() {
        return Err(DomainError::invalid(format!(
            "list {period} v{} has no lines to submit",
            latest.number
        )));
    }
    let version = latest.number;
    Ok(vec![if submit {
        EventPayload::ListSubmitted { period, version }
    } else {
        EventPayload::ListReturned { period, version }
    }])
}

fn approve(
    state: &State,
    context: &Context<'_>,
    period: Period,
    number: u32,
    party: crate::participant::Party,
) -> Result<Vec<EventPayload>, DomainError> {
    context.require(Action::ApproveList { party })?;
    if !APPROVING_PARTIES.contains(&party) {
        return Err(DomainError::invalid(format!(
            "only the requester, the coordinator and the supplier approve lists, not the {}",
            party.as_str()
        )));
    }
    let list = get_list(state, period)?;
    let id = format!("{period} v{number}");
    let version = list
        .get_version(number)
        .ok_or_else(|| DomainError::not_found("list version", &id))?;
    if version.status != ListStatus::Submitted {
        return Err(DomainError::transition(
            "list version",
            id,
            version.status.as_str(),
            "approve",
        ));
    }
    if version.approvals.contains(&party) {
        return Err(DomainError::invalid(format!(
            "the {} has already approved {id}",
            party.as_str()
        )));
    }
    let mut events = vec![EventPayload::ListApprovedBy {
        period,
        version: number,
        party,
    }];
    let complete = APPROVING_PARTIES
        .iter()
        .all(|p| *p == party || version.approvals.contains(p));
    if complete {
        if let Some(previous) = list.approved() {
            events.push(EventPayload::ListVersionSuperseded {
                period,
                version: previous.number,
            });
        }
        events.push(EventPayload::ListVersionApproved {
            period,
            version: number,
        });
    }
    Ok(events)
}

fn check_new_line(state: &State, line: &NewLine) -> Result<(), DomainError> {
    if !state.items.contains_key(&line.item) {
        return Err(DomainError::not_found("item", &line.item));
    }
    if line.quantity == 0 || line.quantity > LINE_QUANTITY_MAX {
        return Err(DomainError::invalid(format!(
            "quantity {} must be between 1 and {LINE_QUANTITY_MAX}",
            line.quantity
        )));
    }
    Ok(())
}

fn line_id(number: u32) -> String {
    format!("L{number:04}")
}

fn edit_draft(
    state: &State,
    context: &Context<'_>,
    command: &Command,
) -> Result<Vec<EventPayload>, DomainError> {
    context.require(Action::DraftList)?;
    let period = match command {
        Command::AddLine { period, .. }
        | Command::UpdateLine { period, .. }
        | Command::MoveLine { period, .. }
        | Command::RemoveLine { period, .. } => *period,
        _ => unreachable!("list::decide routes only line edits here"),
    };
    let list = get_list(state, period)?;
    let draft = draft_of(list)?;
    let version = draft.number;
    let find = |line_id: &str| {
        draft
            .line(line_id)
            .ok_or_else(|| DomainError::not_found("line", format!("{period} v{version} {line_id}")))
    };
    let rank_in = |rank: u32, count: usize| {
        if rank == 0 || rank as usize > count {
            return Err(DomainError::invalid(format!(
                "rank {rank} must be between 1 and {count}"
            )));
        }
        Ok(rank)
    };
    match command {
        Command::AddLine { rank, line, .. } => {
            check_new_line(state, line)?;
            if draft.lines.len() >= LIST_LINES_MAX {
                return Err(DomainError::invalid(format!(
                    "a version holds at most {LIST_LINES_MAX} lines"
                )));
            }
            let count = draft.lines.len() + 1;
            let rank = rank_in(
                rank.unwrap_or(u32::try_from(count).expect("bounded")),
                count,
            )?;
            let line = Line {
                id: line_id(list.next_line_number),
                item: line.item.clone(),
                quantity: line.quantity,
                needed_by: line.needed_by,
                justification: line.justification.clone(),
            };
            Ok(vec![EventPayload::LineAdded {
                period,
                version,
                rank,
                line,
            }])
        }
        Command::UpdateLine {
            line_id,
            quantity,
            needed_by,
            justification,
            ..
        } => {
            let mut line = find(line_id)?.clone();
            if let Some(quantity) = quantity {
                line.quantity = *quantity;
            }
            line.needed_by = needed_by.unwrap_or(line.needed_by);
            line.justification = justification.clone().unwrap_or(line.justification);
            let as_new = NewLine {
                item: line.item.clone(),
                quantity: line.quantity,
                needed_by: line.needed_by,
                justification: line.justification.clone(),
            };
            check_new_line(state, &as_new)?;
            if Some(&line) == draft.line(line_id) {
                return Ok(Vec::new());
            }
            Ok(vec![EventPayload::LineUpdated {
                period,
                version,
                line,
            }])
        }
        Command::MoveLine { line_id, rank, .. } => {
            find(line_id)?;
            let rank = rank_in(*rank, draft.lines.len())?;
            if draft.rank_of(line_id) == Some(rank) {
                return Ok(Vec::new());
            }
            Ok(vec![EventPayload::LineMoved {
                period,
                version,
                line_id: line_id.clone(),
                rank,
            }])
        }
        Command::RemoveLine { line_id, .. } => {
            find(line_id)?;
            Ok(vec![EventPayload::LineRemoved {
                period,
                version,
                line_id: line_id.clone(),
            }])
        }
        _ => unreachable!("matched above"),
    }
}

/// Makes the list's lines exactly `lines` (an import): creates the list if new, edits the draft,
/// or drafts a new version when the latest is submitted or approved. Identical lines change nothing.
fn replace_lines(
    state: &State,
    context: &Context<'_>,
    period: Period,
    lines: &[NewLine],
) -> Result<Vec<EventPayload>, DomainError> {
    context.require(Action::DraftList)?;
    if lines.len() > LIST_LINES_MAX {
        return Err(DomainError::invalid(format!(
            "a version holds at most {LIST_LINES_MAX} lines"
        )));
    }
    for line in lines {
        check_new_line(state, line)?;
    }
    let mut events = Vec::new();
    let (current, next_number, version) = match state.lists.get(&period) {
        None => {
            events.push(EventPayload::ListCreated { period });
            (Vec::new(), 1, 1)
        }
        Some(list) => {
            let latest = list.latest();
            if same_lines(&latest.lines, lines) {
                return Ok(Vec::new());
            }
            if latest.status != ListStatus::Draft {
                if latest.status == ListStatus::Submitted {
                    return Err(DomainError::transition(
                        "list version",
                        format!("{period} v{}", latest.number),
                        "submitted",
                        "replace its lines (return it to draft first)",
                    ));
                }
                events.push(EventPayload::ListVersionDrafted {
                    period,
                    number: latest.number + 1,
                    based_on: Some(latest.number),
                });
            }
            let version = if latest.status == ListStatus::Draft {
                latest.number
            } else {
                latest.number + 1
            };
            (latest.lines.clone(), list.next_line_number, version)
        }
    };
    let lines = assign_ids(&current, lines, next_number);
    events.push(EventPayload::LinesReplaced {
        period,
        version,
        lines,
    });
    Ok(events)
}

fn same_lines(current: &[Line], lines: &[NewLine]) -> bool {
    current.len() == lines.len()
        && current.iter().zip(lines).all(|(a, b)| {
            a.item == b.item
                && a.quantity == b.quantity
                && a.needed_by == b.needed_by
                && a.justification == b.justification
        })
}

/// Keeps the id of a current line of the same item (first unused), so versions diff line by line.
fn assign_ids(current: &[Line], lines: &[NewLine], mut next_number: u32) -> Vec<Line> {
    let mut used = vec![false; current.len()];
    lines
        .iter()
        .map(|new| {
            let reuse = current
                .iter()
                .enumerate()
                .find(|(index, line)| !used[*index] && line.item == new.item);
            let id = match reuse {
                Some((index, line)) => {
                    used[index] = true;
                    line.id.clone()
                }
                None => {
                    next_number += 1;
                    line_id(next_number - 1)
                }
            };
            Line {
                id,
                item: new.item.clone(),
                quantity: new.quantity,
                needed_by: new.needed_by,
                justification: new.justification.clone(),
            }
        })
        .collect()
}
