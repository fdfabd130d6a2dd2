//! Need-to-know: who may read what (design §4). Pure decisions over the state; the application
//! layer applies them to every read, single or list, for every entry point. A record a reader may
//! not see is answered exactly like one that does not exist.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::ids::{Category, ParticipantCode, Period, Reference};
use crate::list::{ListStatus, RequirementList};
use crate::money::{Currency, Money};
use crate::package::{Delivery, Package, PackageStatus};
use crate::participant::Party;
use crate::pledge::{Payment, Pledge};
use crate::state::State;
use crate::user::{Actor, Role, User};

/// What a reader sees, by the party it belongs to. `None` (no signed-in user) is the public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Public,
    /// The installation operator and the coordinator see every record.
    Everything,
    Requester,
    Supplier,
    Contributor(ParticipantCode),
    Auditor,
}

impl Scope {
    pub fn of(actor: Option<&Actor>) -> Scope {
        match actor {
            None => Scope::Public,
            Some(Actor::Operator) => Scope::Everything,
            Some(Actor::User {
                party, participant, ..
            }) => match party {
                Party::Coordinator => Scope::Everything,
                Party::Requester => Scope::Requester,
                Party::Supplier => Scope::Supplier,
                Party::Contributor => Scope::Contributor(participant.clone()),
                Party::Auditor => Scope::Auditor,
            },
        }
    }

    pub fn is_signed_in(&self) -> bool {
        *self != Scope::Public
    }
}

/// How much of a record a reader sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Full,
    /// The reduced form the matrix allows (a public pledge, a package's number, value and status,
    /// a list's totals by category).
    Summary,
    Hidden,
}

/// Whether `participant` pays for `package`: one of the pledges allocated to it names it.
pub fn funds(state: &State, participant: &ParticipantCode, package: &Package) -> bool {
    package.contributions.iter().any(|contribution| {
        state
            .pledges
            .get(&contribution.pledge)
            .is_some_and(|pledge| pledge.contributors.contains(participant))
    })
}

/// Pledges: the coordinator all, a contributor its own; anyone else only pledges flagged public.
pub fn pledge(scope: &Scope, pledge: &Pledge) -> Visibility {
    match scope {
        Scope::Everything => Visibility::Full,
        Scope::Contributor(code) if pledge.contributors.contains(code) => Visibility::Full,
        Scope::Contributor(_)
        | Scope::Public
        | Scope::Requester
        | Scope::Supplier
        | Scope::Auditor => {
            if pledge.public {
                Visibility::Summary
            } else {
                Visibility::Hidden
            }
        }
    }
}

/// Payments: the coordinator all, a contributor those against its own pledges.
pub fn payment(scope: &Scope, state: &State, payment: &Payment) -> Visibility {
    match scope {
        Scope::Everything => Visibility::Full,
        Scope::Contributor(code) => {
            let own = state
                .pledges
                .get(&payment.pledge)
                .is_some_and(|pledge| pledge.contributors.contains(code));
            if own {
                Visibility::Full
            } else {
                Visibility::Hidden
            }
        }
        Scope::Public | Scope::Requester | Scope::Supplier | Scope::Auditor => Visibility::Hidden,
    }
}

/// Packages: requester, coordinator and supplier in full; a contributor in full those it funds and
/// the number, value and status of the others; auditor and public only through aggregates.
pub fn package(scope: &Scope, state: &State, package: &Package) -> Visibility {
    match scope {
        Scope::Everything | Scope::Requester | Scope::Supplier => Visibility::Full,
        Scope::Contributor(code) => {
            if funds(state, code, package) {
                Visibility::Full
            } else {
                Visibility::Summary
            }
        }
        Scope::Auditor | Scope::Public => Visibility::Hidden,
    }
}

/// Deliveries: requester, coordinator, supplier, and a contributor for the packages it funds.
pub fn delivery(scope: &Scope, state: &State, delivery: &Delivery) -> Visibility {
    match scope {
        Scope::Everything | Scope::Requester | Scope::Supplier => Visibility::Full,
        Scope::Contributor(code) => {
            let funded = state
                .packages
                .get(&delivery.package)
                .is_some_and(|package| funds(state, code, package));
            if funded {
                Visibility::Full
            } else {
                Visibility::Hidden
            }
        }
        Scope::Auditor | Scope::Public => Visibility::Hidden,
    }
}

/// Requirement lists: requester, coordinator and supplier in full; a contributor the lines of the
/// packages it funds and totals by category of the rest; nothing for auditor and public.
pub fn list(scope: &Scope) -> Visibility {
    match scope {
        Scope::Everything | Scope::Requester | Scope::Supplier => Visibility::Full,
        Scope::Contributor(_) => Visibility::Summary,
        Scope::Auditor | Scope::Public => Visibility::Hidden,
    }
}

/// Committed allocations name every pledge's money: the coordinator only.
pub fn allocation(scope: &Scope) -> Visibility {
    match scope {
        Scope::Everything => Visibility::Full,
        Scope::Requester
        | Scope::Supplier
        | Scope::Contributor(_)
        | Scope::Auditor
        | Scope::Public => Visibility::Hidden,
    }
}

/// Reference data every signed-in party works with: participants, the catalogue, exchange rates.
pub fn reference_data(scope: &Scope) -> Visibility {
    if scope.is_signed_in() {
        Visibility::Full
    } else {
        Visibility::Hidden
    }
}

/// Users (and their tokens): oneself; an admin those of its own participant; a coordinator admin
/// everyone's. Auditors administer no one.
pub fn user(actor: Option<&Actor>, user: &User) -> Visibility {
    let visible = match actor {
        None => false,
        Some(Actor::Operator) => true,
        Some(Actor::User {
            username,
            participant,
            party,
            roles,
        }) => {
            *username == user.username
                || (roles.contains(&Role::Admin)
                    && (*party == Party::Coordinator
                        || (*party != Party::Auditor && *participant == user.participant)))
        }
    };
    if visible {
        Visibility::Full
    } else {
        Visibility::Hidden
    }
}

/// The access log: the operator, coordinator admins and auditors.
pub fn access_log(actor: Option<&Actor>) -> Visibility {
    let visible = match actor {
        None => false,
        Some(Actor::Operator) => true,
        Some(Actor::User { party, roles, .. }) => {
            *party == Party::Auditor
                || (*party == Party::Coordinator && roles.contains(&Role::Admin))
        }
    };
    if visible {
        Visibility::Full
    } else {
        Visibility::Hidden
    }
}

/// Whether the record `key` exists and `actor` may see at least part of it: `None` when it does not
/// exist. A command aimed at a record its actor may not see is refused as if the record were absent.
pub fn may_see(
    actor: Option<&Actor>,
    state: &State,
    key: &crate::state::RecordKey,
) -> Option<bool> {
    use crate::state::RecordKind as K;
    let scope = Scope::of(actor);
    let seen = |visibility: Visibility| visibility != Visibility::Hidden;
    let id = key.id.as_str();
    match key.kind {
        K::Participant | K::Item | K::FxRate | K::Gdp => {
            let exists = match key.kind {
                K::Participant => crate::ids::ParticipantCode::parse(id)
                    .is_ok_and(|code| state.participants.contains_key(&code)),
                K::Item => crate::ids::ItemCode::parse(id)
                    .is_ok_and(|code| state.items.contains_key(&code)),
                _ => true,
            };
            exists.then(|| seen(reference_data(&scope)))
        }
        K::User => crate::ids::Username::parse(id)
            .ok()
            .and_then(|name| state.users.get(&name))
            .map(|found| seen(user(actor, found))),
        K::List => Period::parse(id)
            .ok()
            .and_then(|period| state.lists.get(&period))
            .map(|_| seen(list(&scope))),
        K::Pledge => Reference::parse(id)
            .ok()
            .and_then(|reference| state.pledges.get(&reference))
            .map(|found| seen(pledge(&scope, found))),
        K::Payment => state
            .payments
            .get(id)
            .map(|found| seen(payment(&scope, state, found))),
        K::Package => id
            .parse::<u32>()
            .ok()
            .and_then(|number| state.packages.get(&number))
            .map(|found| seen(package(&scope, state, found))),
        K::Delivery => state
            .deliveries
            .get(id)
            .map(|found| seen(delivery(&scope, state, found))),
        K::Allocation => id
            .parse::<u32>()
            .ok()
            .and_then(|number| state.allocations.get(&number))
            .map(|_| seen(allocation(&scope))),
    }
}

/// Whether `actor` may have the evidence (readable events with their proofs) of `participant`'s
/// records: its own participant's, or anyone's for the operator and the coordinator. Everyone else
/// gets proofs of hashes only.
pub fn evidence_of(actor: Option<&Actor>, participant: &ParticipantCode) -> bool {
    match actor {
        None => false,
        Some(Actor::Operator) => true,
        Some(Actor::User {
            participant: own,
            party,
            ..
        }) => *party == Party::Coordinator || own == participant,
    }
}

/// Whether `actor` may read ledger event `event` (its bytes and salt): the operator and the
/// coordinator any; anyone else the events about its own participant's records.
pub fn may_open_event(
    actor: Option<&Actor>,
    state: &State,
    event: &crate::event::EventPayload,
) -> bool {
    match actor {
        None => false,
        Some(Actor::Operator) => true,
        Some(Actor::User {
            participant, party, ..
        }) => *party == Party::Coordinator || crate::evidence::concerns(state, participant, event),
    }
}

/// A pledge as anyone may see it once it was announced publicly: no conditions, notes, earmark or
/// payments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicPledge {
    pub reference: Reference,
    pub contributors: Vec<ParticipantCode>,
    pub amount: Option<Money>,
    pub currency: Option<Currency>,
    pub announced_on: chrono::NaiveDate,
    pub status: &'static str,
    pub part_of: Option<Reference>,
}

impl From<&Pledge> for PublicPledge {
    fn from(pledge: &Pledge) -> Self {
        Self {
            reference: pledge.reference.clone(),
            contributors: pledge.contributors.clone(),
            amount: pledge.amount,
            currency: pledge.currency,
            announced_on: pledge.announced_on,
            status: pledge.status.as_str(),
            part_of: pledge.part_of.clone(),
        }
    }
}

/// A package as a reader entitled to it in full sees it: each contribution of a pledge the reader
/// may see in full (the coordinator every one, a contributor its own), and the others only as one
/// sum in USD, naming neither pledge nor amount (design §4: requester and supplier see money in
/// totals, a contributor no other contributor's money).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageInFull {
    #[serde(flatten)]
    pub package: Package,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undisclosed_contributions_usd: Option<Money>,
}

impl PackageInFull {
    pub fn of(scope: &Scope, state: &State, package: &Package) -> Self {
        let disclosed = |pledge: &Reference| {
            state
                .pledges
                .get(pledge)
                .is_some_and(|found| self::pledge(scope, found) == Visibility::Full)
        };
        let (shown, undisclosed): (Vec<_>, Vec<_>) = package
            .contributions
            .iter()
            .cloned()
            .partition(|contribution| disclosed(&contribution.pledge));
        let undisclosed_minor: i64 = undisclosed.iter().map(|c| c.conversion.usd.minor()).sum();
        Self {
            package: Package {
                contributions: shown,
                ..package.clone()
            },
            undisclosed_contributions_usd: (!undisclosed.is_empty())
                .then(|| Money::from_minor(undisclosed_minor, Currency::USD).ok())
                .flatten(),
        }
    }
}

/// A package a contributor does not fund: its number, value and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageSummary {
    pub number: u32,
    pub value: Money,
    pub status: PackageStatus,
}

impl From<&Package> for PackageSummary {
    fn from(package: &Package) -> Self {
        Self {
            number: package.number,
            value: package.value,
            status: package.status,
        }
    }
}

/// A requirement list as a contributor sees it: per version, the lines of the packages it funds and
/// the totals by category of all lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListSummary {
    pub period: Period,
    pub versions: Vec<VersionSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionSummary {
    pub number: u32,
    pub status: ListStatus,
    pub approvals: BTreeSet<Party>,
    pub totals_by_category: BTreeMap<Category, CategoryTotal>,
    /// The lines of packages this contributor funds, with their ranks.
    pub funded_lines: Vec<FundedLine>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CategoryTotal {
    pub lines: u32,
    pub quantity: u64,
    /// Quantity times the catalogue's unit price, in USD (lines whose item has no USD price are
    /// counted in `lines` and `quantity` only).
    pub value: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FundedLine {
    pub rank: u32,
    #[serde(flatten)]
    pub line: crate::list::Line,
}

/// The contributor's view of a list (see [`ListSummary`]).
pub fn list_summary(
    state: &State,
    contributor: &ParticipantCode,
    list: &RequirementList,
) -> ListSummary {
    let funded: BTreeSet<(u32, &str)> = state
        .packages
        .values()
        .filter(|package| funds(state, contributor, package))
        .flat_map(|package| package.lines.iter())
        .filter(|line| line.period == list.period)
        .map(|line| (line.list_version, line.line_id.as_str()))
        .collect();
    let versions = list
        .versions
        .iter()
        .map(|version| {
            let mut totals = BTreeMap::<Category, CategoryTotal>::new();
            for line in &version.lines {
                let Some(item) = state.items.get(&line.item) else {
                    continue;
                };
                let total = totals.entry(item.category.clone()).or_default();
                total.lines += 1;
                total.quantity = total.quantity.saturating_add(line.quantity);
                let line_value = i64::try_from(line.quantity)
                    .ok()
                    .and_then(|quantity| item.unit_price.minor().checked_mul(quantity))
                    .and_then(|minor| Money::from_minor(minor, item.unit_price.currency()).ok());
                total.value = match (total.value, line_value) {
                    (None, value) if total.lines == 1 => value,
                    (Some(sum), Some(value)) => sum.checked_add(value),
                    _ => None,
                };
            }
            let funded_lines = version
                .lines
                .iter()
                .zip(1..)
                .filter(|(line, _)| funded.contains(&(version.number, line.id.as_str())))
                .map(|(line, rank)| FundedLine {
                    rank,
                    line: line.clone(),
                })
                .collect();
            VersionSummary {
                number: version.number,
                status: version.status,
                approvals: version.approvals.clone(),
                totals_by_category: totals,
                funded_lines,
            }
        })
        .collect();
    ListSummary {
        period: list.period,
        versions,
    }
}

#[cfg(test)]
mod tests;
