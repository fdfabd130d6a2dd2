//! The contributions report (design §7): per contributor — joint pledges as joint, never split —
//! what was pledged, committed and paid in USD, its share of the total, and for a single
//! contributor its pledges as a share of its GDP against a fair share by GDP: the total pledged,
//! divided among the participating contributors in proportion to their GDP.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::access::Visibility;
use crate::error::DomainError;
use crate::ids::{ParticipantCode, Reference};
use crate::money::{divide_half_even, Currency, Money};
use crate::pledge::Pledge;
use crate::state::State;

use super::percent;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contributions {
    pub as_of: NaiveDate,
    pub currency: Currency,
    /// The year of the GDP figures (the latest recorded up to the as-of year), if any.
    pub gdp_year: Option<i32>,
    /// Every live pledge of known amount, shares excluded, as in the overview.
    #[serde(serialize_with = "super::amount")]
    pub total_pledged: Money,
    /// The GDP of every participating contributor that has a figure for `gdp_year`.
    #[serde(serialize_with = "super::optional_amount")]
    pub gdp_base: Option<Money>,
    pub rows: Vec<ContributionRow>,
    /// Pledged by pledges the reader may not see, in one sum (the total is public).
    #[serde(serialize_with = "super::amount")]
    pub not_disclosed_to_reader: Money,
    /// Pledges that count for participation but whose amount is undisclosed or not yet fixed.
    pub undisclosed_amounts: u32,
    /// Participating contributors without a GDP figure for `gdp_year` (left out of the base).
    pub without_gdp: Vec<ParticipantCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContributionRow {
    pub contributors: Vec<ParticipantCode>,
    pub joint: bool,
    /// The pledges summed here, so every figure can be traced.
    pub pledges: Vec<Reference>,
    #[serde(serialize_with = "super::amount")]
    pub pledged: Money,
    #[serde(serialize_with = "super::amount")]
    pub committed: Money,
    /// Paid, when the reader may see the payments of every pledge of the row.
    #[serde(serialize_with = "super::optional_amount")]
    pub paid: Option<Money>,
    /// Of the total pledged, in percent with two decimals.
    pub share_of_total_percent: String,
    #[serde(serialize_with = "super::optional_amount")]
    pub gdp: Option<Money>,
    pub gdp_source: Option<String>,
    /// Pledged as a share of GDP, in percent with three decimals.
    pub percent_of_gdp: Option<String>,
    #[serde(serialize_with = "super::optional_amount")]
    pub fair_share: Option<Money>,
    /// Pledged less the fair share: positive above it, negative below.
    #[serde(serialize_with = "super::optional_amount")]
    pub versus_fair_share: Option<Money>,
}

fn usd(minor: i128) -> Result<Money, DomainError> {
    let minor = i64::try_from(minor).map_err(|_| DomainError::invalid("a total overflowed"))?;
    Ok(Money::from_minor(minor, Currency::USD)?)
}

#[derive(Default)]
struct Sums {
    pledges: Vec<Reference>,
    pledged: i128,
    committed: i128,
    paid: i128,
    paid_known: bool,
}

/// The report on `as_of` as a reader sees it: `visibility` says how much of each pledge the reader
/// may see (hidden pledges go into one undisclosed sum; a summary shows no payments).
pub fn contributions(
    state: &State,
    as_of: NaiveDate,
    visibility: &dyn Fn(&Pledge) -> Visibility,
) -> Result<Contributions, DomainError> {
    let gdp_year = state.gdp.latest_year_up_to(as_of.year());
    let mut total: i128 = 0;
    let mut hidden: i128 = 0;
    let mut undisclosed = 0u32;
    let mut participating: BTreeSet<&ParticipantCode> = BTreeSet::new();
    let mut groups: BTreeMap<Vec<ParticipantCode>, Sums> = BTreeMap::new();
    for pledge in state.pledges.values().filter(|p| p.is_live_on(as_of)) {
        participating.extend(&pledge.contributors);
        if pledge.is_share() {
            continue;
        }
        let Some(amount) = pledge.amount else {
            undisclosed += 1;
            continue;
        };
        let value = i128::from(state.fx.to_usd(amount, pledge.announced_on)?.usd.minor());
        total += value;
        let seen = visibility(pledge);
        if seen == Visibility::Hidden {
            hidden += value;
            continue;
        }
        let mut key = pledge.contributors.clone();
        key.sort();
        let sums = groups.entry(key).or_insert_with(|| Sums {
            paid_known: true,
            ..Sums::default()
        });
        sums.pledges.push(pledge.reference.clone());
        sums.pledged += value;
        if pledge.is_committed_on(as_of) {
            sums.committed += value;
        }
        if seen == Visibility::Full {
            if let Some(paid) = super::paid_on(state, &pledge.reference, amount.currency(), as_of) {
                sums.paid += i128::from(state.fx.to_usd(paid, pledge.announced_on)?.usd.minor());
            }
        } else {
            sums.paid_known = false;
        }
    }
    let gdp_of =
        |code: &ParticipantCode| gdp_year.and_then(|year| state.gdp.get(code.as_str(), year));
    let base: i128 = participating
        .iter()
        .filter_map(|code| gdp_of(code))
        .map(|figure| i128::from(figure.usd.minor()))
        .sum();
    let without_gdp = participating
        .iter()
        .filter(|code| gdp_of(code).is_none())
        .map(|code| (*code).clone())
        .collect();
    let total_minor =
        i64::try_from(total).map_err(|_| DomainError::invalid("a total overflowed"))?;
    let mut rows = Vec::new();
    for (contributors, sums) in groups {
        let joint = contributors.len() > 1;
        let figure = (!joint).then(|| gdp_of(&contributors[0])).flatten();
        let pledged_minor =
            i64::try_from(sums.pledged).map_err(|_| DomainError::invalid("a total overflowed"))?;
        let fair_share = match figure {
            Some(figure) if base > 0 => Some(divide_half_even(
                u128::try_from(total).unwrap_or(0) * figure.usd.minor() as u128,
                base as u128,
            ) as i128),
            _ => None,
        };
        rows.push(ContributionRow {
            joint,
            pledges: sums.pledges,
            pledged: usd(sums.pledged)?,
            committed: usd(sums.committed)?,
            paid: if sums.paid_known {
                Some(usd(sums.paid)?)
            } else {
                None
            },
            share_of_total_percent: percent(pledged_minor, total_minor, 2),
            gdp: figure.map(|f| f.usd),
            gdp_source: figure.map(|f| f.source.clone()),
            percent_of_gdp: figure.map(|f| percent(pledged_minor, f.usd.minor(), 3)),
            fair_share: fair_share.map(usd).transpose()?,
            versus_fair_share: fair_share
                .map(|fair| usd(sums.pledged - fair))
                .transpose()?,
            contributors,
        });
    }
    Ok(Contributions {
        as_of,
        currency: Currency::USD,
        gdp_year,
        total_pledged: usd(total)?,
        gdp_base: (base > 0).then(|| usd(base)).transpose()?,
        rows,
        not_disclosed_to_reader: usd(hidden)?,
        undisclosed_amounts: undisclosed,
        without_gdp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;
    use crate::gdp::GdpFigure;
    use crate::test_world::{day, money, pledge, reference, World};

    fn gdp(state: &mut State, country: &str, dollars: i64) {
        state.gdp.insert(GdpFigure {
            country: country.into(),
            year: 2024,
            usd: Money::from_minor(dollars * 100, Currency::USD).unwrap(),
            source: "test".into(),
        });
    }

    /// NLD 100 EUR (110 USD), DEU 300 USD, a joint NOR+SWE 1000 NOK (100 USD), POL undisclosed.
    fn world() -> State {
        let mut world = World::new();
        for (reference, contributors, amount) in [
            ("NLD-1", &["NLD"][..], Some(money("100", "EUR"))),
            ("DEU-1", &["DEU"][..], Some(money("300", "USD"))),
            ("NORD-1", &["NOR", "SWE"][..], Some(money("1000", "NOK"))),
            ("POL-1", &["POL"][..], None),
        ] {
            world.given(Command::RecordPledge {
                pledge: pledge(reference, contributors, amount),
            });
        }
        let mut state = world.state;
        gdp(&mut state, "NLD", 1_000);
        gdp(&mut state, "DEU", 3_000);
        gdp(&mut state, "NOR", 500);
        gdp(&mut state, "SWE", 500);
        state
    }

    #[test]
    fn fair_shares_divide_the_total_by_gdp_and_joint_pledges_stay_joint() {
        let state = world();
        let report = contributions(&state, day("2025-12-31"), &|_| Visibility::Full).unwrap();
        assert_eq!(report.gdp_year, Some(2024));
        assert_eq!(report.total_pledged.amount_string(), "510.00");
        assert_eq!(report.undisclosed_amounts, 1);
        assert_eq!(report.without_gdp, [crate::test_world::code("POL")]);
        // Base: NLD 1000 + DEU 3000 + NOR 500 + SWE 500 (POL has no figure).
        assert_eq!(report.gdp_base.unwrap().amount_string(), "5000.00");
        let row = |name: &str| {
            report
                .rows
                .iter()
                .find(|r| r.pledges.contains(&reference(name)))
                .unwrap()
        };
        let nld = row("NLD-1");
        assert_eq!(nld.pledged.amount_string(), "110.00");
        assert_eq!(nld.share_of_total_percent, "21.57");
        assert_eq!(nld.percent_of_gdp.as_deref(), Some("11.000"));
        assert_eq!(nld.fair_share.unwrap().amount_string(), "102.00");
        assert_eq!(nld.versus_fair_share.unwrap().amount_string(), "8.00");
        let deu = row("DEU-1");
        assert_eq!(deu.fair_share.unwrap().amount_string(), "306.00");
        assert_eq!(deu.versus_fair_share.unwrap().amount_string(), "-6.00");
        let nordic = row("NORD-1");
        assert!(nordic.joint);
        assert_eq!(nordic.pledged.amount_string(), "100.00");
        assert_eq!(nordic.fair_share, None, "a joint pledge is not split");
        assert_eq!(nordic.gdp, None);
        let summed: i64 = report.rows.iter().map(|r| r.pledged.minor()).sum();
        assert_eq!(
            summed,
            report.total_pledged.minor(),
            "rows add up to the total"
        );
    }

    #[test]
    fn a_hidden_pledge_is_only_in_one_undisclosed_sum_and_a_summary_hides_payments() {
        let state = world();
        let report = contributions(&state, day("2025-12-31"), &|p| {
            if p.reference == reference("DEU-1") {
                Visibility::Hidden
            } else {
                Visibility::Summary
            }
        })
        .unwrap();
        assert!(report
            .rows
            .iter()
            .all(|r| !r.pledges.contains(&reference("DEU-1"))));
        assert!(report.rows.iter().all(|r| r.paid.is_none()));
        assert_eq!(report.not_disclosed_to_reader.amount_string(), "300.00");
        assert_eq!(report.total_pledged.amount_string(), "510.00");
    }

    #[test]
    fn percentages_round_half_to_even() {
        assert_eq!(super::percent(1, 3, 2), "33.33");
        assert_eq!(super::percent(2, 3, 2), "66.67");
        assert_eq!(super::percent(1, 8, 2), "12.50");
        assert_eq!(
            percent(5, 1_000_000, 3),
            "0.000",
            "0.0005 is a tie: to the even 0"
        );
        assert_eq!(
            percent(15, 1_000_000, 3),
            "0.002",
            "0.0015 is a tie: to the even 2"
        );
        assert_eq!(super::percent(1, 0, 2), "0.00");
    }
}
