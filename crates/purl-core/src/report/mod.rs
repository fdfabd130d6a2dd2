//! Reports as pure functions of the state.

pub mod contributions;
pub mod coverage;
pub mod timeline;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::DomainError;
use crate::fx::Conversion;
use crate::ids::{ParticipantCode, Reference};
use crate::money::{Currency, Money};
use crate::package::PackageStatus;
use crate::participant::{Membership, Party};
use crate::state::State;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    pub as_of: NaiveDate,
    pub currency: Currency,
    /// Announced and committed pledges of known amount, shares excluded, not withdrawn.
    #[serde(serialize_with = "amount")]
    pub pledged: Money,
    #[serde(serialize_with = "amount")]
    pub committed: Money,
    #[serde(serialize_with = "amount")]
    pub paid: Money,
    /// Pledges that count for participation but whose amount is undisclosed or not yet fixed.
    pub undisclosed_pledges: u32,
    pub contributors: u32,
    pub allies: AlliesFigure,
    pub partners: PartnersFigure,
    pub packages: PackagesFigure,
    /// Each pledge counted, with the rate behind its USD value.
    pub pledges: Vec<PledgeFigure>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlliesFigure {
    pub participating: u32,
    /// Every Ally but the supplier.
    pub eligible: u32,
    pub total: u32,
    /// participating / eligible, rounded half-to-even to four decimals.
    pub fraction: f64,
    pub codes: Vec<ParticipantCode>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartnersFigure {
    pub participating: u32,
    pub codes: Vec<ParticipantCode>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PackagesFigure {
    pub count: u32,
    #[serde(serialize_with = "amount")]
    pub value: Money,
    #[serde(serialize_with = "amount")]
    pub delivered_value: Money,
    pub by_status: BTreeMap<&'static str, u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PledgeFigure {
    pub reference: Reference,
    pub amount: Money,
    pub status: &'static str,
    pub committed: bool,
    pub paid: Option<Money>,
    pub conversion: Conversion,
    #[serde(serialize_with = "optional_amount")]
    pub paid_usd: Option<Money>,
}

/// `part / whole` in percent, rounded half-to-even to `decimals` (0 when there is no whole).
pub(crate) fn percent(part: impl Into<i128>, whole: impl Into<i128>, decimals: u32) -> String {
    let (part, whole) = (part.into(), whole.into());
    if whole <= 0 || part < 0 {
        return crate::money::format_minor(0, decimals);
    }
    let scaled =
        crate::money::divide_half_even(part as u128 * 100 * 10u128.pow(decimals), whole as u128);
    crate::money::format_minor(scaled as i128, decimals)
}

fn amount<S: serde::Serializer>(money: &Money, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&money.amount_string())
}

fn optional_amount<S: serde::Serializer>(
    money: &Option<Money>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match money {
        Some(money) => serializer.serialize_str(&money.amount_string()),
        None => serializer.serialize_none(),
    }
}

/// The overview of design §7 on `as_of`: every amount in USD at the rate of each pledge's
/// announcement date (a missing rate is an error naming currency and date, never a zero).
pub fn overview(state: &State, as_of: NaiveDate) -> Result<Overview, DomainError> {
    let usd = |minor: i64| Money::from_minor(minor, Currency::USD);
    let (mut pledged, mut committed, mut paid) = (0i64, 0i64, 0i64);
    let mut undisclosed = 0u32;
    let mut figures = Vec::new();
    let mut named: BTreeSet<&ParticipantCode> = BTreeSet::new();
    for pledge in state.pledges.values().filter(|p| p.is_live_on(as_of)) {
        named.extend(&pledge.contributors);
        if pledge.is_share() {
            continue;
        }
        let Some(amount) = pledge.amount else {
            undisclosed += 1;
            continue;
        };
        let conversion = state.fx.to_usd(amount, pledge.announced_on)?;
        let paid_here = paid_on(state, &pledge.reference, amount.currency(), as_of);
        let paid_usd = match paid_here {
            Some(money) => Some(state.fx.to_usd(money, pledge.announced_on)?.usd),
            None => None,
        };
        let is_committed = pledge.is_committed_on(as_of);
        pledged += conversion.usd.minor();
        committed += if is_committed {
            conversion.usd.minor()
        } else {
            0
        };
        paid += paid_usd.map_or(0, Money::minor);
        figures.push(PledgeFigure {
            reference: pledge.reference.clone(),
            amount,
            status: pledge.display_status(),
            committed: is_committed,
            paid: paid_here,
            conversion,
            paid_usd,
        });
    }
    Ok(Overview {
        as_of,
        currency: Currency::USD,
        pledged: usd(pledged)?,
        committed: usd(committed)?,
        paid: usd(paid)?,
        undisclosed_pledges: undisclosed,
        contributors: 0,
        allies: allies_figure(state, &named, as_of),
        partners: partners_figure(state, &named),
        packages: packages_figure(state)?,
        pledges: figures,
    })
    .map(|mut overview| {
        overview.contributors = overview.allies.participating + overview.partners.participating;
        overview
    })
}

fn paid_on(
    state: &State,
    reference: &Reference,
    currency: Currency,
    as_of: NaiveDate,
) -> Option<Money> {
    let minor: i64 = state
        .payments
        .values()
        .filter(|p| &p.pledge == reference && p.received_on <= as_of)
        .map(|p| p.amount.minor())
        .sum();
    (minor > 0).then(|| Money::from_minor(minor, currency).expect("paid never exceeds the pledge"))
}

fn count(n: usize) -> u32 {
    u32::try_from(n).expect("participant counts are small")
}

fn allies_figure(
    state: &State,
    named: &BTreeSet<&ParticipantCode>,
    as_of: NaiveDate,
) -> AlliesFigure {
    let allies: Vec<_> = state
        .participants
        .values()
        .filter(|p| p.is_ally_on(as_of))
        .collect();
    let eligible: Vec<_> = allies
        .iter()
        .filter(|p| p.party != Party::Supplier)
        .collect();
    let codes: Vec<ParticipantCode> = eligible
        .iter()
        .filter(|p| named.contains(&p.code))
        .map(|p| p.code.clone())
        .collect();
    let fraction = if eligible.is_empty() {
        0.0
    } else {
        let ten_thousandths =
            crate::money::divide_half_even(codes.len() as u128 * 10_000, eligible.len() as u128);
        // Exact to four decimals: an integer count of ten-thousandths, shown as a fraction.
        f64::from(u32::try_from(ten_thousandths).expect("at most 10000")) / 10_000.0
    };
    AlliesFigure {
        participating: count(codes.len()),
        eligible: count(eligible.len()),
        total: count(allies.len()),
        fraction,
        codes,
    }
}

fn partners_figure(state: &State, named: &BTreeSet<&ParticipantCode>) -> PartnersFigure {
    let codes: Vec<ParticipantCode> = state
        .participants
        .values()
        .filter(|p| {
            p.party == Party::Contributor && !matches!(p.membership, Membership::Ally { .. })
        })
        .filter(|p| named.contains(&p.code))
        .map(|p| p.code.clone())
        .collect();
    PartnersFigure {
        participating: count(codes.len()),
        codes,
    }
}

fn packages_figure(state: &State) -> Result<PackagesFigure, DomainError> {
    let mut by_status = BTreeMap::new();
    for status in PackageStatus::ALL {
        by_status.insert(status.as_str(), 0);
    }
    let (mut value, mut delivered) = (0i64, 0i64);
    for package in state.packages.values() {
        *by_status.entry(package.status.as_str()).or_default() += 1;
        if !package.status.is_active() {
            continue;
        }
        value += package.value.minor();
        for line in &package.lines {
            let received: u64 = state
                .deliveries
                .values()
                .filter(|d| d.package == package.number && d.line_id == line.line_id)
                .filter_map(|d| d.received_quantity)
                .sum();
            let received = i64::try_from(received.min(line.quantity)).expect("bounded quantities");
            delivered += line.unit_price.minor() * received;
        }
    }
    Ok(PackagesFigure {
        count: count(state.packages.len()),
        value: Money::from_minor(value, Currency::USD)?,
        delivered_value: Money::from_minor(delivered, Currency::USD)?,
        by_status,
    })
}
