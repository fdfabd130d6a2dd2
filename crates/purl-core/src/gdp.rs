//! GDP per country per year, the reference for burden sharing: each figure with its source.

use crate::state::Map;

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// The gross domestic product of `country` (ISO 3166-1 alpha-3, as the World Bank codes it) in
/// `year`, in current US dollars, according to `source`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GdpFigure {
    pub country: String,
    pub year: i32,
    pub usd: Money,
    pub source: String,
}

impl GdpFigure {
    /// The read-side id of the figure: `NLD/2024`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.country, self.year)
    }
}

/// Whether `code` is shaped like an alpha-3 country code (three capital letters).
pub fn is_country_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// The years GDP figures may be given for.
pub const YEARS: std::ops::RangeInclusive<i32> = 1960..=2100;

/// Every recorded figure, by country then year. A later figure for the same country and year (a
/// revision) replaces the earlier one; the ledger keeps both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GdpTable {
    figures: Map<(String, i32), GdpFigure>,
}

impl GdpTable {
    pub fn insert(&mut self, figure: GdpFigure) {
        self.figures
            .insert((figure.country.clone(), figure.year), figure);
    }

    pub fn get(&self, country: &str, year: i32) -> Option<&GdpFigure> {
        self.figures.get(&(country.to_owned(), year))
    }

    pub fn iter(&self) -> impl Iterator<Item = &GdpFigure> {
        self.figures.values()
    }

    /// The latest year with any figure, at or before `year`.
    pub fn latest_year_up_to(&self, year: i32) -> Option<i32> {
        self.figures
            .keys()
            .map(|(_, y)| *y)
            .filter(|y| *y <= year)
            .max()
    }
}
