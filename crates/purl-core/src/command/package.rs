//! Packages, their funding, status and deliveries.

use super::{Command, Context};
use crate::error::DomainError;
use crate::event::EventPayload;
use crate::ids::{Period, Reference};
use crate::money::{Currency, Money};
use crate::package::{Contribution, Delivery, Package, PackageLine, PackageStatus};
use crate::pledge::PledgeStatus;
use crate::policy::Action;
use crate::state::State;

pub(super) fn decide(
    state: &State,
    context: &Context<'_>,
    command: &Command,
) -> Result<Vec<EventPayload>, DomainError> {
    match command {
        Command::CreatePackage { name } => {
            context.require(Action::ManagePackages)?;
            let number = state.packages.keys().next_back().map_or(1, |last| last + 1);
            Ok(vec![EventPayload::PackageCreated {
                number,
                name: name.clone(),
                on: context.today,
            }])
        }
        Command::AddPackageLine {
            number,
            period,
            line_id,
            quantity,
        } => {
            context.require(Action::ManagePackages)?;
            forming_package(state, *number, "take lines")?;
            let line = package_line(state, *period, line_id, *quantity)?;
            Ok(vec![EventPayload::PackageLineAdded {
                number: *number,
                line,
            }])
        }
        Command::AllocateContribution {
            number,
            pledge,
            amount,
        } => {
            context.require(Action::ManagePackages)?;
            allocate(state, context, *number, pledge, *amount)
        }
        Command::SetPackageStatus { number, status } => {
            set_status(state, context, *number, *status)
        }
        Command::ShipDelivery {
            package,
            line_id,
            quantity,
            shipped_on,
        } => {
            context.require(Action::RecordShipment)?;
            ship(state, context, *package, line_id, *quantity, *shipped_on)
        }
        Command::ReceiveDelivery {
            id,
            received_on,
            quantity,
        } => {
            context.require(Action::ConfirmReceipt)?;
            let delivery = state
                .deliveries
                .get(id)
                .ok_or_else(|| DomainError::not_found("delivery", id))?;
            if delivery.received_on.is_some() {
                return Err(DomainError::transition(
                    "delivery",
                    id,
                    "received",
                    "confirm receipt again",
                ));
            }
            if *received_on < delivery.shipped_on {
                return Err(DomainError::invalid(format!(
                    "delivery {id} cannot be received on {received_on}, before it shipped on {}",
                    delivery.shipped_on
                )));
            }
            if *quantity > delivery.quantity {
                return Err(DomainError::invalid(format!(
                    "delivery {id} shipped {}; {quantity} cannot have been received",
                    delivery.quantity
                )));
            }
            Ok(vec![EventPayload::DeliveryReceived {
                id: id.clone(),
                received_on: *received_on,
                quantity: *quantity,
            }])
        }
        _ => unreachable!("command::decide routes only package commands here"),
    }
}

fn get_package(state: &State, number: u32) -> Result<&Package, DomainError> {
    state
        .packages
        .get(&number)
        .ok_or_else(|| DomainError::not_found("package", number))
}

fn forming_package<'a>(
    state: &'a State,
    number: u32,
    action: &str,
) -> Result<&'a Package, DomainError> {
    let package = get_package(state, number)?;
    if package.status != PackageStatus::Forming {
        return Err(DomainError::transition(
            "package",
            number,
            package.status.as_str(),
            action,
        ));
    }
    Ok(package)
}

/// A line of the approved version of `period`, if `quantity` of it is not yet packaged.
fn package_line(
    state: &State,
    period: Period,
    line_id: &str,
    quantity: u64,
) -> Result<PackageLine, DomainError> {
    let list = state
        .lists
        .get(&period)
        .ok_or_else(|| DomainError::not_found("list", period))?;
    let approved = list.approved().ok_or_else(|| {
        DomainError::invalid(format!("list {period} has no approved version to package"))
    })?;
    let line = approved.line(line_id).ok_or_else(|| {
        DomainError::not_found("line", format!("{period} v{} {line_id}", approved.number))
    })?;
    let packaged: u64 = state
        .packages
        .values()
        .filter(|p| p.status.is_active())
        .flat_map(|p| &p.lines)
        .filter(|l| l.period == period && l.line_id == line_id)
        .map(|l| l.quantity)
        .sum();
    let open = line.quantity.saturating_sub(packaged);
    if quantity == 0 || quantity > open {
        return Err(DomainError::invalid(format!(
            "line {line_id} of {period} has {open} of {} units not yet packaged; {quantity} cannot be taken",
            line.quantity
        )));
    }
    let item = state
        .items
        .get(&line.item)
        .ok_or_else(|| DomainError::not_found("item", &line.item))?;
    let value_minor = i64::try_from(quantity)
        .ok()
        .and_then(|q| item.unit_price.minor().checked_mul(q))
        .ok_or_else(|| DomainError::invalid("package line value overflows"))?;
    Ok(PackageLine {
        period,
        list_version: approved.number,
        line_id: line_id.to_owned(),
        item: item.code.clone(),
        category: item.category.clone(),
        lethal: item.lethal,
        quantity,
        unit_price: item.unit_price,
        value: Money::from_minor(value_minor, Currency::USD)?,
    })
}

fn allocate(
    state: &State,
    context: &Context<'_>,
    number: u32,
    reference: &Reference,
    amount: Money,
) -> Result<Vec<EventPayload>, DomainError> {
    let package = get_package(state, number)?;
    if !matches!(
        package.status,
        PackageStatus::Forming | PackageStatus::Funded
    ) {
        return Err(DomainError::transition(
            "package",
            number,
            package.status.as_str(),
            "receive contributions",
        ));
    }
    let pledge = state
        .pledges
        .get(reference)
        .ok_or_else(|| DomainError::not_found("pledge", reference))?;
    if pledge.is_share() || pledge.status != PledgeStatus::Committed {
        return Err(DomainError::invalid(format!(
            "pledge {reference} must be a committed pledge (not a share) to fund a package"
        )));
    }
    if pledge.currency != Some(amount.currency()) || !amount.is_positive() {
        return Err(DomainError::invalid(format!(
            "contribution {amount} must be a positive amount in the pledge's currency"
        )));
    }
    if let Some(earmarked) = pledge.earmark.package.filter(|p| *p != number) {
        return Err(DomainError::invalid(format!(
            "pledge {reference} is earmarked for package {earmarked}"
        )));
    }
    if let Some(line) = package
        .lines
        .iter()
        .find(|l| !pledge.earmark.allows(&l.category, l.lethal))
    {
        return Err(DomainError::invalid(format!(
            "pledge {reference}'s earmark does not allow line {} ({}, {})",
            line.line_id,
            line.category,
            if line.lethal { "lethal" } else { "non-lethal" }
        )));
    }
    let allocated: i64 = state
        .packages
        .values()
        .filter(|p| p.status.is_active())
        .flat_map(|p| &p.contributions)
        .filter(|c| &c.pledge == reference)
        .map(|c| c.amount.minor())
        .sum();
    let available = pledge.amount.map(|total| total.minor() - allocated);
    if available.is_some_and(|available| amount.minor() > available) {
        return Err(DomainError::invalid(format!(
            "pledge {reference} has {} left to allocate; {amount} is more",
            Money::from_minor(available.unwrap_or(0), amount.currency())?
        )));
    }
    let conversion = state.fx.to_usd(amount, context.today)?;
    let contribution = Contribution {
        pledge: reference.clone(),
        amount,
        conversion,
    };
    Ok(vec![EventPayload::ContributionAllocated {
        number,
        contribution,
    }])
}

fn set_status(
    state: &State,
    context: &Context<'_>,
    number: u32,
    status: PackageStatus,
) -> Result<Vec<EventPayload>, DomainError> {
    let supplier_step = matches!(
        status,
        PackageStatus::Contracted | PackageStatus::InDelivery | PackageStatus::Delivered
    );
    context.require(if supplier_step {
        Action::ReportPackageProgress
    } else {
        Action::ManagePackages
    })?;
    let package = get_package(state, number)?;
    if !package.status.can_move_to(status) {
        return Err(DomainError::transition(
            "package",
            number,
            package.status.as_str(),
            format!("become {}", status.as_str()),
        ));
    }
    match status {
        PackageStatus::Funded
            if package.lines.is_empty() || package.funded_usd_minor() < package.value.minor() =>
        {
            return Err(DomainError::invalid(format!(
                "package {number} is worth {} but only {} is allocated to it",
                package.value,
                Money::from_minor(package.funded_usd_minor(), Currency::USD)?
            )));
        }
        PackageStatus::Delivered => check_fully_received(state, package)?,
        _ => {}
    }
    Ok(vec![EventPayload::PackageStatusChanged {
        number,
        status,
        on: context.today,
    }])
}

fn shipped_of(state: &State, package: u32, line_id: &str) -> (u64, u64) {
    state
        .deliveries
        .values()
        .filter(|d| d.package == package && d.line_id == line_id)
        .fold((0, 0), |(shipped, received), d| {
            (
                shipped + d.quantity,
                received + d.received_quantity.unwrap_or(0),
            )
        })
}

fn check_fully_received(state: &State, package: &Package) -> Result<(), DomainError> {
    for line in &package.lines {
        let (_, received) = shipped_of(state, package.number, &line.line_id);
        if received < line.quantity {
            return Err(DomainError::invalid(format!(
                "package {} line {} has {received} of {} units received",
                package.number, line.line_id, line.quantity
            )));
        }
    }
    Ok(())
}

fn ship(
    state: &State,
    context: &Context<'_>,
    number: u32,
    line_id: &str,
    quantity: u64,
    shipped_on: chrono::NaiveDate,
) -> Result<Vec<EventPayload>, DomainError> {
    let package = get_package(state, number)?;
    if !matches!(
        package.status,
        PackageStatus::Contracted | PackageStatus::InDelivery
    ) {
        return Err(DomainError::transition(
            "package",
            number,
            package.status.as_str(),
            "ship (it must be contracted)",
        ));
    }
    let ordered: u64 = package
        .lines
        .iter()
        .filter(|l| l.line_id == line_id)
        .map(|l| l.quantity)
        .sum();
    if ordered == 0 {
        return Err(DomainError::not_found(
            "package line",
            format!("{number} {line_id}"),
        ));
    }
    let (shipped, _) = shipped_of(state, number, line_id);
    if quantity == 0 || shipped + quantity > ordered {
        return Err(DomainError::invalid(format!(
            "package {number} line {line_id}: {shipped} of {ordered} units shipped; {quantity} more cannot be"
        )));
    }
    let delivery = Delivery {
        id: format!("DLV-{:06}", state.deliveries.len() + 1),
        package: number,
        line_id: line_id.to_owned(),
        quantity,
        shipped_on,
        received_on: None,
        received_quantity: None,
        version: 0,
    };
    let mut events = Vec::new();
    if package.status == PackageStatus::Contracted {
        events.push(EventPayload::PackageStatusChanged {
            number,
            status: PackageStatus::InDelivery,
            on: context.today,
        });
    }
    events.push(EventPayload::DeliveryShipped { delivery });
    Ok(events)
}

/// Records an allocation of an approved list version: every line named must be in that version,
/// fund no more than its quantity, and every source must be a pledge.
pub(super) fn commit_allocation(
    state: &State,
    context: &Context<'_>,
    allocation: &crate::allocation::CommittedAllocation,
) -> Result<Vec<EventPayload>, DomainError> {
    context.require(Action::ManagePackages)?;
    let period = allocation.period;
    let list = state
        .lists
        .get(&period)
        .ok_or_else(|| DomainError::not_found("list", period))?;
    let id = format!("{period} v{}", allocation.list_version);
    let version = list
        .get_version(allocation.list_version)
        .ok_or_else(|| DomainError::not_found("list version", &id))?;
    if version.status != crate::list::ListStatus::Approved {
        return Err(DomainError::transition(
            "list version",
            id,
            version.status.as_str(),
            "be allocated (only the approved version is)",
        ));
    }
    for line in &allocation.lines {
        let listed = version
            .line(&line.line_id)
            .ok_or_else(|| DomainError::not_found("line", format!("{id} {}", line.line_id)))?;
        if line.funded > line.wanted || line.wanted > listed.quantity {
            return Err(DomainError::invalid(format!(
                "line {}: {} funded of {} wanted exceeds its quantity {}",
                line.line_id, line.funded, line.wanted, listed.quantity
            )));
        }
        if let Some(source) = line
            .sources
            .iter()
            .find(|s| !state.pledges.contains_key(&s.pledge) || !s.usd.is_positive())
        {
            return Err(DomainError::invalid(format!(
                "line {}: source {} is not a pledge with a positive amount",
                line.line_id, source.pledge
            )));
        }
    }
    let mut recorded = allocation.clone();
    recorded.number = state
        .allocations
        .keys()
        .next_back()
        .map_or(1, |last| last + 1);
    recorded.on = context.today;
    recorded.version = 0;
    Ok(vec![EventPayload::AllocationCommitted {
        allocation: recorded,
    }])
}
