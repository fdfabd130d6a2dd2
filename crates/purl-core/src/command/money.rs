//! Pledges, payments and exchange rates.

use super::{Command, Context, NewPledge};
use crate::error::DomainError;
use crate::event::EventPayload;
use crate::ids::Reference;
use crate::limits::PLEDGE_CONTRIBUTORS_MAX;
use crate::participant::Party;
use crate::pledge::{Payment, Pledge, PledgeStatus, PledgeStep};
use crate::policy::Action;
use crate::state::State;

pub(super) fn decide(
    state: &State,
    context: &Context<'_>,
    command: &Command,
) -> Result<Vec<EventPayload>, DomainError> {
    match command {
        Command::RecordPledge { pledge } => record_pledge(state, context, pledge),
        Command::CommitPledge { reference } | Command::WithdrawPledge { reference } => {
            let pledge = pledge_for_editor(state, context, reference)?;
            let commit = matches!(command, Command::CommitPledge { .. });
            let step = if commit {
                PledgeStep::Commit
            } else {
                PledgeStep::Withdraw
            };
            if pledge.status.after(step).is_none() {
                let action = if commit { "commit" } else { "withdraw" };
                return Err(DomainError::transition(
                    "pledge",
                    reference,
                    pledge.status.as_str(),
                    action,
                ));
            }
            if !commit && pledge.paid.is_some_and(|paid| paid.is_positive()) {
                return Err(DomainError::transition(
                    "pledge",
                    reference,
                    "partly or fully paid",
                    "withdraw",
                ));
            }
            let (reference, on) = (reference.clone(), context.today);
            Ok(vec![if commit {
                EventPayload::PledgeCommitted { reference, on }
            } else {
                EventPayload::PledgeWithdrawn { reference, on }
            }])
        }
        Command::SetPledgePublic { reference, public } => {
            let pledge = pledge_for_editor(state, context, reference)?;
            if pledge.public == *public {
                return Ok(Vec::new());
            }
            Ok(vec![EventPayload::PledgePublicitySet {
                reference: reference.clone(),
                public: *public,
            }])
        }
        Command::SetPledgeAmount { reference, amount } => {
            let pledge = pledge_for_editor(state, context, reference)?;
            set_amount(pledge, *amount)
        }
        Command::RecordPayment { .. } => record_payment(state, context, command),
        Command::RecordRates { rates } => {
            context.require(Action::RecordRates)?;
            let mut new_rates = Vec::new();
            for rate in rates {
                match state.fx.get(rate.currency, rate.date) {
                    Some(existing) if existing.usd_per_unit == rate.usd_per_unit => {}
                    Some(existing) => {
                        return Err(DomainError::invalid(format!(
                            "a rate for {} on {} is already recorded ({} USD per unit from {}); a different rate ({}) cannot replace it",
                            rate.currency, rate.date, existing.usd_per_unit.to_decimal_string(6), existing.source, rate.usd_per_unit.to_decimal_string(6)
                        )));
                    }
                    None => new_rates.push(rate.clone()),
                }
            }
            if new_rates.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![EventPayload::RatesRecorded { rates: new_rates }])
        }
        Command::RecordGdp { figures } => {
            context.require(Action::RecordRates)?;
            record_gdp(state, figures)
        }
        _ => unreachable!("command::decide routes only money commands here"),
    }
}

/// The pledge, if the actor may edit it; a contributor that is not named learns nothing.
fn pledge_for_editor<'a>(
    state: &'a State,
    context: &Context<'_>,
    reference: &Reference,
) -> Result<&'a Pledge, DomainError> {
    let pledge = state
        .pledges
        .get(reference)
        .ok_or_else(|| DomainError::not_found("pledge", reference))?;
    context
        .require(Action::RecordPledge {
            contributors: pledge.contributors.clone(),
        })
        .map_err(|_| DomainError::not_found("pledge", reference))?;
    Ok(pledge)
}

fn record_pledge(
    state: &State,
    context: &Context<'_>,
    new: &NewPledge,
) -> Result<Vec<EventPayload>, DomainError> {
    context.require(Action::RecordPledge {
        contributors: new.contributors.clone(),
    })?;
    if state.pledges.contains_key(&new.reference) {
        return Err(DomainError::AlreadyExists {
            what: "pledge",
            id: new.reference.to_string(),
        });
    }
    check_contributors(state, new)?;
    check_amount(new)?;
    if let Some(joint) = &new.part_of {
        check_share(state, new, joint)?;
    }
    if let Some(package) = new.earmark.package {
        if !state.packages.contains_key(&package) {
            return Err(DomainError::not_found("package", package));
        }
    }
    if new.status == PledgeStatus::Withdrawn {
        return Err(DomainError::invalid(format!(
            "pledge {} cannot be recorded as withdrawn",
            new.reference
        )));
    }
    let committed = new.status == PledgeStatus::Committed;
    let pledge = Pledge {
        reference: new.reference.clone(),
        contributors: new.contributors.clone(),
        amount: new.amount,
        currency: new.amount.map(|a| a.currency()).or(new.currency),
        announced_on: new.announced_on,
        status: new.status,
        committed_on: committed.then_some(new.announced_on),
        withdrawn_on: None,
        part_of: new.part_of.clone(),
        earmark: new.earmark.clone(),
        conditions: new.conditions.clone(),
        public: new.public,
        note: new.note.clone(),
        paid: None,
        version: 0,
    };
    Ok(vec![EventPayload::PledgeRecorded { pledge }])
}

fn check_contributors(state: &State, new: &NewPledge) -> Result<(), DomainError> {
    if new.contributors.is_empty() || new.contributors.len() > PLEDGE_CONTRIBUTORS_MAX {
        return Err(DomainError::invalid(format!(
            "pledge {} must name between 1 and {PLEDGE_CONTRIBUTORS_MAX} contributors",
            new.reference
        )));
    }
    for (index, code) in new.contributors.iter().enumerate() {
        let participant = state
            .participants
            .get(code)
            .ok_or_else(|| DomainError::not_found("participant", code))?;
        if participant.party != Party::Contributor {
            return Err(DomainError::invalid(format!(
                "{code} is the {}, not a contributor",
                participant.party.as_str()
            )));
        }
        if new.contributors[..index].contains(code) {
            return Err(DomainError::invalid(format!(
                "contributor {code} is named twice"
            )));
        }
    }
    Ok(())
}

fn check_amount(new: &NewPledge) -> Result<(), DomainError> {
    if let Some(amount) = new.amount {
        if !amount.is_positive() {
            return Err(DomainError::invalid(format!(
                "pledge amount {amount} must be greater than zero"
            )));
        }
    }
    Ok(())
}

fn check_share(state: &State, new: &NewPledge, joint: &Reference) -> Result<(), DomainError> {
    let joint_pledge = state
        .pledges
        .get(joint)
        .ok_or_else(|| DomainError::not_found("pledge", joint))?;
    if joint_pledge.is_share() {
        return Err(DomainError::invalid(format!(
            "pledge {joint} is itself a share of {}; a share must point at the joint pledge",
            joint_pledge.part_of.as_ref().expect("is_share")
        )));
    }
    if let Some(outsider) = new
        .contributors
        .iter()
        .find(|c| !joint_pledge.contributors.contains(c))
    {
        return Err(DomainError::invalid(format!(
            "{outsider} is not one of the contributors of the joint pledge {joint}"
        )));
    }
    Ok(())
}

fn set_amount(
    pledge: &Pledge,
    amount: crate::money::Money,
) -> Result<Vec<EventPayload>, DomainError> {
    if pledge.status == PledgeStatus::Withdrawn {
        return Err(DomainError::transition(
            "pledge",
            &pledge.reference,
            "withdrawn",
            "set its amount",
        ));
    }
    if !amount.is_positive() {
        return Err(DomainError::invalid(format!(
            "pledge amount {amount} must be greater than zero"
        )));
    }
    if let Some(paid) = pledge.paid {
        if paid.currency() != amount.currency() || paid.minor() > amount.minor() {
            return Err(DomainError::invalid(format!(
                "pledge {} has received {paid}; its amount cannot become {amount}",
                pledge.reference
            )));
        }
    }
    if pledge.amount == Some(amount) {
        return Ok(Vec::new());
    }
    Ok(vec![EventPayload::PledgeAmountSet {
        reference: pledge.reference.clone(),
        amount,
    }])
}

fn record_payment(
    state: &State,
    context: &Context<'_>,
    command: &Command,
) -> Result<Vec<EventPayload>, DomainError> {
    let Command::RecordPayment {
        pledge: reference,
        amount,
        received_on,
        note,
    } = command
    else {
        unreachable!("routed by money::decide")
    };
    context.require(Action::RecordPayment)?;
    let pledge = state
        .pledges
        .get(reference)
        .ok_or_else(|| DomainError::not_found("pledge", reference))?;
    if let Some(joint) = &pledge.part_of {
        return Err(DomainError::invalid(format!(
            "pledge {reference} is a share of {joint}: record payments against the joint pledge"
        )));
    }
    if pledge.status != PledgeStatus::Committed {
        return Err(DomainError::transition(
            "pledge",
            reference,
            pledge.status.as_str(),
            "receive a payment (commit it first)",
        ));
    }
    if !amount.is_positive() {
        return Err(DomainError::invalid(format!(
            "payment amount {amount} must be greater than zero"
        )));
    }
    if let Some(currency) = pledge.currency {
        if currency != amount.currency() {
            return Err(DomainError::invalid(format!(
                "payment is in {}, but pledge {reference} is in {currency}",
                amount.currency()
            )));
        }
    }
    check_not_overpaid(pledge, *amount)?;
    let conversion = state.fx.to_usd(*amount, *received_on)?;
    let payment = Payment {
        id: format!("PAY-{:06}", state.payments.len() + 1),
        pledge: reference.clone(),
        amount: *amount,
        received_on: *received_on,
        conversion,
        note: note.clone(),
        version: 0,
    };
    Ok(vec![EventPayload::PaymentRecorded { payment }])
}

fn check_not_overpaid(pledge: &Pledge, amount: crate::money::Money) -> Result<(), DomainError> {
    let paid_after = match pledge.paid {
        None => Some(amount),
        Some(paid) => paid.checked_add(amount),
    }
    .ok_or_else(|| {
        DomainError::invalid(format!(
            "payment {amount} does not match earlier payments' currency"
        ))
    })?;
    if let Some(total) = pledge.amount {
        if paid_after.minor() > total.minor() {
            return Err(DomainError::invalid(format!(
                "payment of {amount} would bring pledge {} to {paid_after} received, more than its {total}",
                pledge.reference
            )));
        }
    }
    Ok(())
}

fn record_gdp(
    state: &State,
    figures: &[crate::gdp::GdpFigure],
) -> Result<Vec<EventPayload>, DomainError> {
    let mut new_figures = Vec::new();
    for figure in figures {
        if !crate::gdp::is_country_code(&figure.country) {
            return Err(DomainError::invalid(format!(
                "'{}' is not a three-letter country code",
                figure.country
            )));
        }
        if !crate::gdp::YEARS.contains(&figure.year) {
            return Err(DomainError::invalid(format!(
                "GDP year {} is outside {}-{}",
                figure.year,
                crate::gdp::YEARS.start(),
                crate::gdp::YEARS.end()
            )));
        }
        if figure.usd.currency() != crate::money::Currency::USD || !figure.usd.is_positive() {
            return Err(DomainError::invalid(format!(
                "the GDP of {} in {} must be a positive amount in USD",
                figure.country, figure.year
            )));
        }
        let unchanged = state
            .gdp
            .get(&figure.country, figure.year)
            .is_some_and(|known| known.usd == figure.usd && known.source == figure.source);
        if !unchanged {
            new_figures.push(figure.clone());
        }
    }
    if new_figures.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![EventPayload::GdpRecorded {
        figures: new_figures,
    }])
}
