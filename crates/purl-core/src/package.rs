//! Packages of approved requirement lines, funded by contributions, and their deliveries.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::fx::Conversion;
use crate::ids::{Category, ItemCode, Name, Period, Reference};
use crate::money::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageStatus {
    Forming,
    Funded,
    Released,
    Contracted,
    InDelivery,
    Delivered,
    Closed,
    Cancelled,
}

impl PackageStatus {
    pub const ALL: [PackageStatus; 8] = [
        PackageStatus::Forming,
        PackageStatus::Funded,
        PackageStatus::Released,
        PackageStatus::Contracted,
        PackageStatus::InDelivery,
        PackageStatus::Delivered,
        PackageStatus::Closed,
        PackageStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PackageStatus::Forming => "forming",
            PackageStatus::Funded => "funded",
            PackageStatus::Released => "released",
            PackageStatus::Contracted => "contracted",
            PackageStatus::InDelivery => "in-delivery",
            PackageStatus::Delivered => "delivered",
            PackageStatus::Closed => "closed",
            PackageStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(input: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == input.trim())
    }

    /// Whether a package may move from `self` to `to`: one step forward along the pipeline, or
    /// cancelled before the supplier has contracted.
    pub fn can_move_to(self, to: PackageStatus) -> bool {
        use PackageStatus::{
            Cancelled, Closed, Contracted, Delivered, Forming, Funded, InDelivery, Released,
        };
        matches!(
            (self, to),
            (Forming, Funded)
                | (Funded, Released)
                | (Released, Contracted)
                | (Contracted, InDelivery)
                | (InDelivery, Delivered)
                | (Delivered, Closed)
                | (Forming | Funded | Released, Cancelled)
        )
    }

    /// Counts towards the value of requirements already packaged.
    pub fn is_active(self) -> bool {
        self != PackageStatus::Cancelled
    }
}

/// A requirement line (of an approved list version) taken into a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageLine {
    pub period: Period,
    pub list_version: u32,
    pub line_id: String,
    pub item: ItemCode,
    pub category: Category,
    pub lethal: bool,
    pub quantity: u64,
    pub unit_price: Money,
    pub value: Money,
}

/// Money from a pledge allocated to a package, with its USD value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    pub pledge: Reference,
    pub amount: Money,
    pub conversion: Conversion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: PackageStatus,
    pub on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub number: u32,
    pub name: Name,
    pub status: PackageStatus,
    pub lines: Vec<PackageLine>,
    pub contributions: Vec<Contribution>,
    /// USD: the sum of the lines' values.
    pub value: Money,
    pub history: Vec<StatusChange>,
    pub version: u64,
}

impl Package {
    pub fn funded_usd_minor(&self) -> i64 {
        self.contributions
            .iter()
            .map(|c| c.conversion.usd.minor())
            .sum()
    }
}

/// Quantities of a package line shipped by the supplier, and their receipt in Ukraine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// `DLV-000001`, assigned in order of recording.
    pub id: String,
    pub package: u32,
    pub line_id: String,
    pub quantity: u64,
    pub shipped_on: NaiveDate,
    pub received_on: Option<NaiveDate>,
    pub received_quantity: Option<u64>,
    pub version: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_package_transition_is_allowed_or_refused_as_designed() {
        use PackageStatus::*;
        let allowed = [
            (Forming, Funded),
            (Funded, Released),
            (Released, Contracted),
            (Contracted, InDelivery),
            (InDelivery, Delivered),
            (Delivered, Closed),
            (Forming, Cancelled),
            (Funded, Cancelled),
            (Released, Cancelled),
        ];
        for from in PackageStatus::ALL {
            for to in PackageStatus::ALL {
                assert_eq!(
                    from.can_move_to(to),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }
}
