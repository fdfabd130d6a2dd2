//! The coverage report (design §7): for the approved list, the value funded — units already in
//! active packages plus units the allocation funds from the money at hand — against the value
//! required, by rank band and by category, the gap, and the first lines not fully funded with
//! the allocation's reason.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::DomainError;
use crate::ids::{Category, Period};
use crate::money::{Currency, Money};

/// One line of the approved list as the report counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageLine {
    pub rank: u32,
    pub line_id: String,
    pub item: String,
    pub category: Category,
    /// USD minor units.
    pub unit_price: i64,
    pub wanted: u64,
    /// Units in active packages.
    pub packaged: u64,
    /// Units the allocation funds of the rest.
    pub allocated: u64,
    /// Why the line is not fully funded.
    pub reason: Option<String>,
}

impl CoverageLine {
    fn funded(&self) -> u64 {
        (self.packaged + self.allocated).min(self.wanted)
    }
}

/// Rank bands: most urgent first; the last is open-ended.
pub const RANK_BANDS: [(u32, Option<u32>); 5] = [
    (1, Some(10)),
    (11, Some(25)),
    (26, Some(50)),
    (51, Some(100)),
    (101, None),
];

/// Lines listed as the first not fully funded.
pub const FIRST_UNFUNDED_MAX: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub period: Period,
    pub list_version: u32,
    pub currency: Currency,
    #[serde(flatten)]
    pub total: CoverageRow,
    pub by_rank_band: Vec<CoverageRow>,
    pub by_category: Vec<CoverageRow>,
    pub first_unfunded: Vec<UnfundedLine>,
}

/// Required and funded value of a group of lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoverageRow {
    pub name: String,
    pub lines: u32,
    #[serde(serialize_with = "super::amount")]
    pub required: Money,
    #[serde(serialize_with = "super::amount")]
    pub funded: Money,
    /// Funded of required, in percent with one decimal.
    pub funded_percent: String,
    #[serde(serialize_with = "super::amount")]
    pub gap: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnfundedLine {
    pub rank: u32,
    pub line_id: String,
    pub item: String,
    pub category: Category,
    pub wanted: u64,
    pub funded: u64,
    pub reason: Option<String>,
}

#[derive(Default)]
struct Sums {
    lines: u32,
    required: i128,
    funded: i128,
}

impl Sums {
    fn add(&mut self, line: &CoverageLine) {
        let price = i128::from(line.unit_price);
        self.lines += 1;
        self.required += price * i128::from(line.wanted);
        self.funded += price * i128::from(line.funded());
    }

    fn row(&self, name: String) -> Result<CoverageRow, DomainError> {
        let usd = |minor: i128| {
            let minor =
                i64::try_from(minor).map_err(|_| DomainError::invalid("a total overflowed"))?;
            Ok::<_, DomainError>(Money::from_minor(minor, Currency::USD)?)
        };
        Ok(CoverageRow {
            name,
            lines: self.lines,
            required: usd(self.required)?,
            funded: usd(self.funded)?,
            funded_percent: super::percent(self.funded, self.required, 1),
            gap: usd(self.required - self.funded)?,
        })
    }
}

fn band_name(band: (u32, Option<u32>)) -> String {
    match band {
        (from, Some(to)) => format!("ranks {from}–{to}"),
        (from, None) => format!("ranks {from}+"),
    }
}

/// The report for `lines` (in rank order) of version `list_version` of `period`'s list.
pub fn coverage(
    period: Period,
    list_version: u32,
    lines: &[CoverageLine],
) -> Result<Coverage, DomainError> {
    let mut total = Sums::default();
    let mut bands: Vec<Sums> = RANK_BANDS.iter().map(|_| Sums::default()).collect();
    let mut categories: BTreeMap<&Category, Sums> = BTreeMap::new();
    for line in lines {
        total.add(line);
        let band = RANK_BANDS
            .iter()
            .position(|(from, to)| line.rank >= *from && to.is_none_or(|to| line.rank <= to))
            .unwrap_or(RANK_BANDS.len() - 1);
        bands[band].add(line);
        categories.entry(&line.category).or_default().add(line);
    }
    let by_rank_band = RANK_BANDS
        .iter()
        .zip(&bands)
        .filter(|(_, sums)| sums.lines > 0)
        .map(|(band, sums)| sums.row(band_name(*band)))
        .collect::<Result<_, _>>()?;
    let by_category = categories
        .iter()
        .map(|(category, sums)| sums.row(category.as_str().to_owned()))
        .collect::<Result<_, _>>()?;
    let first_unfunded = lines
        .iter()
        .filter(|line| line.funded() < line.wanted)
        .take(FIRST_UNFUNDED_MAX)
        .map(|line| UnfundedLine {
            rank: line.rank,
            line_id: line.line_id.clone(),
            item: line.item.clone(),
            category: line.category.clone(),
            wanted: line.wanted,
            funded: line.funded(),
            reason: line.reason.clone(),
        })
        .collect();
    Ok(Coverage {
        period,
        list_version,
        currency: Currency::USD,
        total: total.row("the whole list".to_owned())?,
        by_rank_band,
        by_category,
        first_unfunded,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(
        rank: u32,
        category: &str,
        price: i64,
        wanted: u64,
        packaged: u64,
        allocated: u64,
    ) -> CoverageLine {
        CoverageLine {
            rank,
            line_id: format!("L{rank:04}"),
            item: "X".into(),
            category: Category::parse(category).unwrap(),
            unit_price: price,
            wanted,
            packaged,
            allocated,
            reason: (packaged + allocated < wanted).then(|| format!("short at {rank}")),
        }
    }

    #[test]
    fn sums_by_band_and_category_with_the_gap_and_the_first_unfunded_lines() {
        let period = Period::parse("2026-12").unwrap();
        let lines = [
            line(1, "air-defence", 100, 10, 4, 6),
            line(2, "medical", 5, 100, 0, 40),
            line(11, "air-defence", 100, 3, 0, 0),
        ];
        let report = coverage(period, 2, &lines).unwrap();
        assert_eq!(report.total.required.amount_string(), "18.00");
        assert_eq!(report.total.funded.amount_string(), "12.00");
        assert_eq!(report.total.gap.amount_string(), "6.00");
        assert_eq!(report.total.funded_percent, "66.7");
        let bands: Vec<(&str, &str)> = report
            .by_rank_band
            .iter()
            .map(|row| (row.name.as_str(), row.funded_percent.as_str()))
            .collect();
        assert_eq!(bands, [("ranks 1–10", "80.0"), ("ranks 11–25", "0.0")]);
        let air = &report.by_category[0];
        assert_eq!((air.name.as_str(), air.lines), ("air-defence", 2));
        assert_eq!(air.funded.amount_string(), "10.00");
        assert_eq!(report.first_unfunded.len(), 2);
        assert_eq!(report.first_unfunded[0].line_id, "L0002");
        assert_eq!(report.first_unfunded[0].funded, 40);
        assert_eq!(
            report.first_unfunded[1].reason.as_deref(),
            Some("short at 11")
        );
    }

    #[test]
    fn more_units_than_wanted_count_as_fully_funded_only() {
        let period = Period::parse("2026-12").unwrap();
        let report = coverage(period, 1, &[line(1, "medical", 7, 2, 3, 0)]).unwrap();
        assert_eq!(report.total.funded_percent, "100.0");
        assert_eq!(report.total.gap.amount_string(), "0.00");
        assert!(report.first_unfunded.is_empty());
    }
}
