//! Forming packages from a committed allocation: the funded lines in rank order, cut into packages
//! of at most a target value (a line may be split across packages in whole units), each carrying
//! exactly the money the allocation assigned to the units it holds.

use std::collections::BTreeMap;

use super::CommittedAllocation;
use crate::error::DomainError;
use crate::ids::Reference;
use crate::limits::PACKAGES_FORMED_MAX;
use crate::money::{Currency, Money};

/// Units of one requirement line in a planned package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedLine {
    pub line_id: String,
    pub quantity: u64,
    /// USD minor units.
    pub value: i64,
}

/// One package to form: its lines and the money of each pledge that pays for them (USD minor).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlannedPackage {
    pub lines: Vec<PlannedLine>,
    pub contributions: BTreeMap<Reference, i64>,
    /// USD minor units: the sum of the lines' values, and of the contributions.
    pub value: i64,
}

/// Cuts the funded lines of `allocation`, in rank order, into packages worth at most `target`
/// (USD minor units) each; a single unit dearer than the target makes a package of its own.
/// `unit_prices` gives each line's USD unit price in minor units. The money of each line's sources
/// follows its units in the order the allocation lists them. Refused when it would make more than
/// [`PACKAGES_FORMED_MAX`] packages.
pub fn form_packages(
    allocation: &CommittedAllocation,
    unit_prices: &BTreeMap<String, i64>,
    target: i64,
) -> Result<Vec<PlannedPackage>, DomainError> {
    let too_many = || {
        DomainError::invalid(format!(
            "target_usd: packages of at most {} USD would make more than {PACKAGES_FORMED_MAX} packages of allocation {}; choose a larger target",
            Money::from_minor(target, Currency::USD).map_or_else(|_| target.to_string(), |m| m.amount_string()),
            allocation.number
        ))
    };
    let mut packages = Vec::new();
    let mut current = PlannedPackage::default();
    for line in allocation.lines.iter().filter(|line| line.funded > 0) {
        let Some(&price) = unit_prices.get(&line.line_id).filter(|price| **price > 0) else {
            continue;
        };
        let mut sources: Vec<(Reference, i64)> = line
            .sources
            .iter()
            .map(|source| (source.pledge.clone(), source.usd.minor()))
            .collect();
        sources.reverse();
        let mut left = line.funded;
        while left > 0 {
            let room = u64::try_from((target - current.value).max(0) / price).unwrap_or(0);
            let mut take = left.min(room);
            if take == 0 {
                if current.lines.is_empty() {
                    take = 1;
                } else {
                    packages.push(std::mem::take(&mut current));
                    if packages.len() >= PACKAGES_FORMED_MAX {
                        return Err(too_many());
                    }
                    continue;
                }
            }
            let value = price.saturating_mul(i64::try_from(take).unwrap_or(i64::MAX));
            let mut owed = value;
            while owed > 0 {
                let Some((pledge, available)) = sources.last_mut() else {
                    break;
                };
                let paid = owed.min(*available);
                *current.contributions.entry(pledge.clone()).or_default() += paid;
                *available -= paid;
                owed -= paid;
                if *available == 0 {
                    sources.pop();
                }
            }
            current.lines.push(PlannedLine {
                line_id: line.line_id.clone(),
                quantity: take,
                value,
            });
            current.value += value;
            left -= take;
        }
    }
    if !current.lines.is_empty() {
        packages.push(current);
    }
    Ok(packages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allocation::{CommittedLine, CommittedSource};

    fn usd(minor: i64) -> Money {
        Money::from_minor(minor, Currency::USD).unwrap()
    }

    fn line(id: &str, funded: u64, sources: &[(&str, i64)]) -> CommittedLine {
        CommittedLine {
            line_id: id.into(),
            wanted: funded,
            funded,
            sources: sources
                .iter()
                .map(|(pledge, minor)| CommittedSource {
                    pledge: Reference::parse(pledge).unwrap(),
                    usd: usd(*minor),
                })
                .collect(),
            reason: None,
        }
    }

    fn allocation(lines: Vec<CommittedLine>) -> CommittedAllocation {
        CommittedAllocation {
            number: 1,
            period: crate::ids::Period::parse("2026-01").unwrap(),
            list_version: 1,
            on: chrono::NaiveDate::MIN,
            include_committed: false,
            lines,
            version: 1,
        }
    }

    #[test]
    fn lines_fill_packages_in_rank_order_and_split_in_whole_units_with_their_money() {
        // Prices 40 and 30; target 100. L1: 3 units (120) paid 70 by A then 50 by B.
        let plan = form_packages(
            &allocation(vec![
                line("L1", 3, &[("A", 70), ("B", 50)]),
                line("L2", 2, &[("C", 60)]),
                line("L3", 0, &[]),
            ]),
            &BTreeMap::from([("L1".into(), 40), ("L2".into(), 30), ("L3".into(), 5)]),
            100,
        )
        .unwrap();
        let shape: Vec<Vec<(&str, u64)>> = plan
            .iter()
            .map(|p| {
                p.lines
                    .iter()
                    .map(|l| (l.line_id.as_str(), l.quantity))
                    .collect()
            })
            .collect();
        assert_eq!(shape, vec![vec![("L1", 2)], vec![("L1", 1), ("L2", 2)]]);
        let money = |p: &PlannedPackage| -> Vec<(String, i64)> {
            p.contributions
                .iter()
                .map(|(r, m)| (r.to_string(), *m))
                .collect()
        };
        assert_eq!(money(&plan[0]), vec![("A".into(), 70), ("B".into(), 10)]);
        assert_eq!(money(&plan[1]), vec![("B".into(), 40), ("C".into(), 60)]);
        for package in &plan {
            assert!(package.value <= 100);
            assert_eq!(package.value, package.contributions.values().sum::<i64>());
        }
    }

    #[test]
    fn a_unit_dearer_than_the_target_is_a_package_of_its_own() {
        let plan = form_packages(
            &allocation(vec![line("L1", 2, &[("A", 500)])]),
            &BTreeMap::from([("L1".into(), 250)]),
            100,
        )
        .unwrap();
        assert_eq!(plan.len(), 2);
        assert!(plan
            .iter()
            .all(|p| p.value == 250 && p.lines[0].quantity == 1));
    }

    #[test]
    fn a_target_that_would_make_more_packages_than_the_bound_is_refused() {
        let units = PACKAGES_FORMED_MAX as u64;
        let funded = |units: u64| allocation(vec![line("L1", units, &[("A", 250 * units as i64)])]);
        let prices = BTreeMap::from([("L1".into(), 250)]);
        let at_bound = form_packages(&funded(units), &prices, 100).unwrap();
        assert_eq!(at_bound.len(), PACKAGES_FORMED_MAX);
        let refused = form_packages(&funded(units + 1), &prices, 100).unwrap_err();
        assert!(
            refused.to_string().contains("more than 1000 packages"),
            "{refused}"
        );
        // A line of a billion units, each dearer than the target, is refused as soon as the
        // bound is passed (not after planning a billion packages).
        assert!(form_packages(&funded(1_000_000_000), &prices, 1).is_err());
    }
}
