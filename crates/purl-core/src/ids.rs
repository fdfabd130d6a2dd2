//! Identifiers and short texts, each parsed once at the boundary and valid from then on.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::limits::{NAME_CHARS_MAX, REFERENCE_CHARS_MAX, TEXT_CHARS_MAX};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} '{value}' is invalid: {rule}")]
pub struct IdError {
    pub what: &'static str,
    pub value: String,
    pub rule: &'static str,
}

/// Declares a string newtype whose only constructor is `parse`, checked by `$valid`.
macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $what:literal, $rule:literal, $valid:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn parse(input: &str) -> Result<Self, IdError> {
                let trimmed = input.trim();
                let valid: fn(&str) -> bool = $valid;
                if valid(trimmed) {
                    Ok(Self(trimmed.to_owned()))
                } else {
                    Err(IdError { what: $what, value: input.to_owned(), rule: $rule })
                }
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

fn is_code(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        && s.as_bytes()[0].is_ascii_uppercase()
}

fn is_slug(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.as_bytes()[0].is_ascii_lowercase()
}

fn is_reference(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= REFERENCE_CHARS_MAX
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:".contains(&b))
}

string_id!(
    /// A participant: ISO 3166-1 alpha-3 for states (`NLD`), a short code for organisations.
    ParticipantCode, "participant code", "2 to 16 characters A-Z, 0-9 or '-', starting with a letter",
    |s| s.len() >= 2 && is_code(s, 16)
);
string_id!(
    /// A catalogue item code chosen by the supplier (`PAC-3-MSE`).
    ItemCode, "item code", "1 to 32 characters A-Z, 0-9 or '-', starting with a letter",
    |s| is_code(s, 32)
);
string_id!(
    /// A requirement category (`air-defence`); the set is extensible.
    Category, "category", "1 to 32 characters a-z, 0-9 or '-', starting with a letter",
    |s| is_slug(s, 32)
);
string_id!(
    /// A user's login name (`olena.k`).
    Username, "user name", "1 to 64 characters a-z, 0-9, '.', '_', '-' or '@'",
    |s| !s.is_empty() && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-@".contains(&b))
);
string_id!(
    /// The user's own unique identifier of a pledge (`NLD-2025-08-PATRIOT`).
    Reference, "reference", "1 to 64 characters A-Z, a-z, 0-9 or - _ . / :",
    is_reference
);
string_id!(
    /// A person's or organisation's display name.
    Name, "name", "non-empty and at most 200 characters",
    |s| !s.is_empty() && s.chars().count() <= NAME_CHARS_MAX
);

/// The categories of design §3; others may be added.
pub const STANDARD_CATEGORIES: [&str; 8] = [
    "air-defence",
    "artillery",
    "armour",
    "drones",
    "ew",
    "engineering",
    "medical",
    "logistics",
];

/// Free text of bounded length (justifications, conditions, notes); may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let trimmed = input.trim();
        if trimmed.chars().count() > TEXT_CHARS_MAX {
            return Err(IdError {
                what: "text",
                value: trimmed.chars().take(40).collect::<String>() + "…",
                rule: "at most 4000 characters",
            });
        }
        Ok(Self(trimmed.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A requirement list period: a calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Period {
    year: u16,
    month: u8,
}

impl Period {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let error = || IdError {
            what: "period",
            value: input.to_owned(),
            rule: "a month written YYYY-MM, e.g. 2025-12",
        };
        let trimmed = input.trim();
        let (year, month) = trimmed.split_once('-').ok_or_else(error)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(error());
        }
        let year: u16 = year.parse().map_err(|_| error())?;
        let month: u8 = month.parse().map_err(|_| error())?;
        if !(2000..=2999).contains(&year) || !(1..=12).contains(&month) {
            return Err(error());
        }
        Ok(Self { year, month })
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for Period {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Parses an ISO date (`2025-12-03`), the only date form PURL accepts.
pub fn parse_date(input: &str) -> Result<chrono::NaiveDate, IdError> {
    let trimmed = input.trim();
    // Exactly YYYY-MM-DD in ASCII digits: chrono alone also reads a space or tab in a field.
    let valid = trimmed.len() == 10
        && trimmed.bytes().enumerate().all(|(at, byte)| match at {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    // The fields are ASCII digits, so each parses; the calendar decides whether the day exists.
    let field = |range: std::ops::Range<usize>| trimmed[range].parse::<u32>().ok();
    valid
        .then(|| {
            let year = i32::try_from(field(0..4)?).ok()?;
            chrono::NaiveDate::from_ymd_opt(year, field(5..7)?, field(8..10)?)
        })
        .flatten()
        .ok_or_else(|| IdError {
            what: "date",
            value: input.to_owned(),
            rule: "an ISO date written YYYY-MM-DD, e.g. 2025-12-03",
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_checked_and_trimmed() {
        assert_eq!(ParticipantCode::parse(" NLD ").unwrap().as_str(), "NLD");
        assert!(ParticipantCode::parse("nld").is_err());
        assert!(ParticipantCode::parse("N").is_err());
        assert!(Category::parse("air-defence").is_ok());
        assert!(Category::parse("Air Defence").is_err());
        assert!(Reference::parse("NLD-2025/01").is_ok());
        assert!(Reference::parse("has space").is_err());
        assert!(Name::parse("  ").is_err());
    }

    #[test]
    fn periods_and_dates_must_be_iso() {
        assert_eq!(Period::parse("2025-12").unwrap().to_string(), "2025-12");
        for bad in ["2025-13", "2025-1", "25-12", "2025/12", ""] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        assert!(parse_date("2025-12-03").is_ok());
        for bad in [
            "2025-12-3",
            "03/12/2025",
            "2025-02-30",
            "20251203",
            "2024-02-\t9",
            "2024-02- 9",
            "+202-01-01",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_date(" 2024-02-29 ").unwrap(),
            chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
    }

    proptest::proptest! {
        /// Every YYYY-MM-DD text, real day or not, is read as chrono reads that format.
        #[test]
        fn dates_are_read_as_chrono_reads_them(year in 0u32..10_000, month in 0u32..14, day in 0u32..33) {
            let text = format!("{year:04}-{month:02}-{day:02}");
            let chrono = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").ok();
            proptest::prop_assert_eq!(parse_date(&text).ok(), chrono);
        }
    }
}
