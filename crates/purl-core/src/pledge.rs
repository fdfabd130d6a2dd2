//! Pledges of money by contributors, and the payments received against them.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::fx::Conversion;
use crate::ids::{Category, ParticipantCode, Reference, Text};
use crate::money::{Currency, Money};

/// Stored status. "Paid" and "partly paid" are derived from payments (see [`Pledge::display_status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PledgeStatus {
    Announced,
    Committed,
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PledgeStep {
    Commit,
    Withdraw,
}

impl PledgeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PledgeStatus::Announced => "announced",
            PledgeStatus::Committed => "committed",
            PledgeStatus::Withdrawn => "withdrawn",
        }
    }

    /// `announced`, `committed` or `withdrawn` (the statuses a file or a form may name).
    pub fn parse(input: &str) -> Option<Self> {
        [
            PledgeStatus::Announced,
            PledgeStatus::Committed,
            PledgeStatus::Withdrawn,
        ]
        .into_iter()
        .find(|status| status.as_str() == input.trim())
    }

    pub fn after(self, step: PledgeStep) -> Option<PledgeStatus> {
        match (self, step) {
            (PledgeStatus::Announced, PledgeStep::Commit) => Some(PledgeStatus::Committed),
            (PledgeStatus::Announced | PledgeStatus::Committed, PledgeStep::Withdraw) => {
                Some(PledgeStatus::Withdrawn)
            }
            (PledgeStatus::Committed | PledgeStatus::Withdrawn, PledgeStep::Commit)
            | (PledgeStatus::Withdrawn, PledgeStep::Withdraw) => None,
        }
    }
}

/// What the money may pay for. It travels with the money into the allocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Earmark {
    /// `None` means every category.
    pub categories: Option<BTreeSet<Category>>,
    pub lethal_allowed: bool,
    /// A single package this money is for.
    pub package: Option<u32>,
}

impl Default for Earmark {
    fn default() -> Self {
        Self {
            categories: None,
            lethal_allowed: true,
            package: None,
        }
    }
}

impl Earmark {
    pub fn allows(&self, category: &Category, lethal: bool) -> bool {
        (self.lethal_allowed || !lethal)
            && self
                .categories
                .as_ref()
                .is_none_or(|allowed| allowed.contains(category))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pledge {
    pub reference: Reference,
    /// One contributor, or several for a joint pledge (shares often undisclosed).
    pub contributors: Vec<ParticipantCode>,
    /// `None`: the amount is undisclosed or not yet fixed.
    pub amount: Option<Money>,
    pub currency: Option<Currency>,
    pub announced_on: NaiveDate,
    pub status: PledgeStatus,
    pub committed_on: Option<NaiveDate>,
    pub withdrawn_on: Option<NaiveDate>,
    /// The joint pledge this one is a share of: it counts for participation, never for money.
    pub part_of: Option<Reference>,
    pub earmark: Earmark,
    pub conditions: Text,
    pub public: bool,
    pub note: Text,
    /// Sum of payments received, in the pledge's currency.
    pub paid: Option<Money>,
    pub version: u64,
}

impl Pledge {
    pub fn is_share(&self) -> bool {
        self.part_of.is_some()
    }

    /// `announced`, `committed`, `partly paid`, `paid` or `withdrawn`.
    pub fn display_status(&self) -> &'static str {
        match (self.status, self.paid, self.amount) {
            (PledgeStatus::Withdrawn, _, _) => "withdrawn",
            (_, Some(paid), Some(amount)) if paid.minor() >= amount.minor() => "paid",
            (_, Some(paid), _) if paid.is_positive() => "partly paid",
            (status, _, _) => status.as_str(),
        }
    }

    /// Counts for money and participation on `date`.
    pub fn is_live_on(&self, date: NaiveDate) -> bool {
        self.announced_on <= date && self.withdrawn_on.is_none_or(|withdrawn| withdrawn > date)
    }

    pub fn is_committed_on(&self, date: NaiveDate) -> bool {
        self.is_live_on(date) && self.committed_on.is_some_and(|committed| committed <= date)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// `PAY-000001`, assigned in order of recording.
    pub id: String,
    pub pledge: Reference,
    pub amount: Money,
    pub received_on: NaiveDate,
    /// The USD value at the rate of the day received, with the rate and its source.
    pub conversion: Conversion,
    pub note: Text,
    pub version: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pledge_transition_is_allowed_or_refused_as_designed() {
        use PledgeStatus::{Announced, Committed, Withdrawn};
        let cases = [
            (Announced, PledgeStep::Commit, Some(Committed)),
            (Announced, PledgeStep::Withdraw, Some(Withdrawn)),
            (Committed, PledgeStep::Commit, None),
            (Committed, PledgeStep::Withdraw, Some(Withdrawn)),
            (Withdrawn, PledgeStep::Commit, None),
            (Withdrawn, PledgeStep::Withdraw, None),
        ];
        for (from, step, to) in cases {
            assert_eq!(from.after(step), to, "{from:?} + {step:?}");
        }
    }

    #[test]
    fn earmarks_limit_category_and_lethality() {
        let air = Category::parse("air-defence").unwrap();
        let medical = Category::parse("medical").unwrap();
        let earmark = Earmark {
            categories: Some([air.clone()].into_iter().collect()),
            lethal_allowed: false,
            package: None,
        };
        assert!(earmark.allows(&air, false));
        assert!(!earmark.allows(&air, true));
        assert!(!earmark.allows(&medical, false));
        assert!(Earmark::default().allows(&medical, true));
    }
}
