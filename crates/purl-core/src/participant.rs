//! Participants (states and organisations) and the reference data shipped with PURL Ledger.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{IdError, Name, ParticipantCode};

/// What a participant does in PURL (design §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Party {
    Requester,
    Coordinator,
    Supplier,
    Contributor,
    Auditor,
}

impl Party {
    pub const ALL: [Party; 5] = [
        Party::Requester,
        Party::Coordinator,
        Party::Supplier,
        Party::Contributor,
        Party::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Party::Requester => "requester",
            Party::Coordinator => "coordinator",
            Party::Supplier => "supplier",
            Party::Contributor => "contributor",
            Party::Auditor => "auditor",
        }
    }

    pub fn parse(input: &str) -> Result<Self, IdError> {
        Self::ALL
            .into_iter()
            .find(|party| party.as_str() == input.trim())
            .ok_or(IdError {
                what: "party",
                value: input.to_owned(),
                rule: "one of requester, coordinator, supplier, contributor, auditor",
            })
    }
}

/// Whether a participant is a NATO Ally (with its accession date), a partner or an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Membership {
    Ally { joined_on: NaiveDate },
    Partner,
    Organisation,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub code: ParticipantCode,
    /// ISO 3166-1 alpha-2 code of a state, so imports may say `DK;NO;SE`.
    pub alpha2: Option<String>,
    pub name: Name,
    pub membership: Membership,
    pub party: Party,
    pub version: u64,
}

impl Participant {
    pub fn is_ally_on(&self, date: NaiveDate) -> bool {
        matches!(self.membership, Membership::Ally { joined_on } if joined_on <= date)
    }
}

/// One row of the reference data: alpha-3, alpha-2, name, accession date or none, party.
type ReferenceRow = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Party,
);

const FOUNDING: Option<&str> = Some("1949-08-24");

/// The 32 NATO Allies with their accession dates, partners, the requester and the coordinator.
const REFERENCE: &[ReferenceRow] = &[
    ("BEL", "BE", "Belgium", FOUNDING, Party::Contributor),
    ("CAN", "CA", "Canada", FOUNDING, Party::Contributor),
    ("DNK", "DK", "Denmark", FOUNDING, Party::Contributor),
    ("FRA", "FR", "France", FOUNDING, Party::Contributor),
    ("ISL", "IS", "Iceland", FOUNDING, Party::Contributor),
    ("ITA", "IT", "Italy", FOUNDING, Party::Contributor),
    ("LUX", "LU", "Luxembourg", FOUNDING, Party::Contributor),
    ("NLD", "NL", "Netherlands", FOUNDING, Party::Contributor),
    ("NOR", "NO", "Norway", FOUNDING, Party::Contributor),
    ("PRT", "PT", "Portugal", FOUNDING, Party::Contributor),
    ("GBR", "GB", "United Kingdom", FOUNDING, Party::Contributor),
    ("USA", "US", "United States", FOUNDING, Party::Supplier),
    (
        "GRC",
        "GR",
        "Greece",
        Some("1952-02-18"),
        Party::Contributor,
    ),
    (
        "TUR",
        "TR",
        "Türkiye",
        Some("1952-02-18"),
        Party::Contributor,
    ),
    (
        "DEU",
        "DE",
        "Germany",
        Some("1955-05-06"),
        Party::Contributor,
    ),
    ("ESP", "ES", "Spain", Some("1982-05-30"), Party::Contributor),
    (
        "CZE",
        "CZ",
        "Czechia",
        Some("1999-03-12"),
        Party::Contributor,
    ),
    (
        "HUN",
        "HU",
        "Hungary",
        Some("1999-03-12"),
        Party::Contributor,
    ),
    (
        "POL",
        "PL",
        "Poland",
        Some("1999-03-12"),
        Party::Contributor,
    ),
    (
        "BGR",
        "BG",
        "Bulgaria",
        Some("2004-03-29"),
        Party::Contributor,
    ),
    (
        "EST",
        "EE",
        "Estonia",
        Some("2004-03-29"),
        Party::Contributor,
    ),
    (
        "LVA",
        "LV",
        "Latvia",
        Some("2004-03-29"),
        Party::Contributor,
    ),
    (
        "LTU",
        "LT",
        "Lithuania",
        Some("2004-03-29"),
        Party::Contributor,
    ),
    (
        "ROU",
        "RO",
        "Romania",
        Some("2004-03-29"),
        Party::Contributor,
    ),
    (
        "SVK",
        "SK",
        "Slovakia",
        Some("2004-03-29"),
        Party::Contributor,
    ),
    (
        "SVN",
        "SI",
        "Slovenia",
        Some("2004-03-29"),
        Party::Contributor,
    ),
    (
        "ALB",
        "AL",
        "Albania",
        Some("2009-04-01"),
        Party::Contributor,
    ),
    (
        "HRV",
        "HR",
        "Croatia",
        Some("2009-04-01"),
        Party::Contributor,
    ),
    (
        "MNE",
        "ME",
        "Montenegro",
        Some("2017-06-05"),
        Party::Contributor,
    ),
    (
        "MKD",
        "MK",
        "North Macedonia",
        Some("2020-03-27"),
        Party::Contributor,
    ),
    (
        "FIN",
        "FI",
        "Finland",
        Some("2023-04-04"),
        Party::Contributor,
    ),
    (
        "SWE",
        "SE",
        "Sweden",
        Some("2024-03-07"),
        Party::Contributor,
    ),
    ("AUS", "AU", "Australia", None, Party::Contributor),
    ("NZL", "NZ", "New Zealand", None, Party::Contributor),
    ("JPN", "JP", "Japan", None, Party::Contributor),
    ("KOR", "KR", "Republic of Korea", None, Party::Contributor),
    ("IRL", "IE", "Ireland", None, Party::Contributor),
    ("AUT", "AT", "Austria", None, Party::Contributor),
    ("UKR", "UA", "Ukraine", None, Party::Requester),
];

/// The reference participants every installation starts with (`purl init`).
pub fn reference_participants() -> Vec<Participant> {
    let mut participants: Vec<Participant> = REFERENCE
        .iter()
        .map(|&(alpha3, alpha2, name, joined_on, party)| {
            let membership = match joined_on {
                Some(date) => Membership::Ally {
                    joined_on: NaiveDate::parse_from_str(date, "%Y-%m-%d")
                        .expect("reference accession dates are valid ISO dates"),
                },
                None if party == Party::Requester => Membership::Organisation,
                None => Membership::Partner,
            };
            let membership = if alpha3 == "UKR" {
                Membership::Partner
            } else {
                membership
            };
            Participant {
                code: ParticipantCode::parse(alpha3).expect("reference codes are valid"),
                alpha2: Some(alpha2.to_owned()),
                name: Name::parse(name).expect("reference names are valid"),
                membership,
                party,
                version: 0,
            }
        })
        .collect();
    participants.push(Participant {
        code: ParticipantCode::parse("NATO").expect("reference codes are valid"),
        alpha2: None,
        name: Name::parse("NATO PURL coordination cell (NSATU)").expect("valid name"),
        membership: Membership::Organisation,
        party: Party::Coordinator,
        version: 0,
    });
    participants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_data_has_32_allies_with_sweden_last_to_join() {
        let all = reference_participants();
        let day = NaiveDate::from_ymd_opt(2025, 12, 3).unwrap();
        assert_eq!(all.iter().filter(|p| p.is_ally_on(day)).count(), 32);
        let before_sweden = NaiveDate::from_ymd_opt(2024, 3, 6).unwrap();
        assert_eq!(
            all.iter().filter(|p| p.is_ally_on(before_sweden)).count(),
            31
        );
        assert_eq!(all.iter().filter(|p| p.party == Party::Supplier).count(), 1);
        let mut codes: Vec<_> = all.iter().map(|p| p.code.clone()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), all.len(), "codes are unique");
    }
}
