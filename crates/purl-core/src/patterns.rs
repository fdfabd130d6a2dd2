//! What each parser of this crate accepts, written as a regular expression for the API document,
//! so a client (or a fuzzer) can tell a valid request from an invalid one by the document alone.
//!
//! The expressions use only what ECMA-262 (JSON Schema's dialect), Python and Rust read alike:
//! no `\s` or `.` (their sets differ), explicit classes instead. Parsers trim whitespace first, so
//! every expression admits around its value exactly the characters Rust's `trim` removes.
//! Each is exact for its parser, except where a doc comment says it is a superset: a rule that
//! needs another field (the decimals a currency allows) or a bound on the value (the largest
//! amount) cannot be written in one field's expression, and a superset refuses nothing the server
//! accepts.

use crate::limits::{NAME_CHARS_MAX, REFERENCE_CHARS_MAX};

/// The characters `str::trim` removes (Unicode White_Space).
const SPACE: &str = r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";
/// Any character but those.
const NOT_SPACE: &str =
    r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// `core`, anchored, with any whitespace around it.
fn trimmed(core: &str) -> String {
    format!("^{SPACE}*(?:{core}){SPACE}*$")
}

/// [`crate::ids::ParticipantCode`].
pub fn participant_code() -> String {
    trimmed("[A-Z][A-Z0-9-]{1,15}")
}

/// [`crate::ids::ItemCode`].
pub fn item_code() -> String {
    trimmed("[A-Z][A-Z0-9-]{0,31}")
}

/// [`crate::ids::Category`].
pub fn category() -> String {
    trimmed("[a-z][a-z0-9-]{0,31}")
}

/// [`crate::ids::Username`].
pub fn username() -> String {
    trimmed("[a-z0-9._@-]{1,64}")
}

/// [`crate::ids::Reference`].
pub fn reference() -> String {
    trimmed(&format!("[A-Za-z0-9_./:-]{{1,{REFERENCE_CHARS_MAX}}}"))
}

/// [`crate::ids::Name`]: one to 200 characters once trimmed.
pub fn name() -> String {
    short_text(NAME_CHARS_MAX)
}

/// One to `max` characters once trimmed.
pub fn short_text(max: usize) -> String {
    let inner = max.saturating_sub(2);
    trimmed(&format!("{NOT_SPACE}(?:[\\s\\S]{{0,{inner}}}{NOT_SPACE})?"))
}

/// One of `words` (lower-case letters and '-'), as the parsers of closed lists read them.
pub fn one_of<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let words: Vec<&str> = words.into_iter().collect();
    assert!(
        words
            .iter()
            .all(|word| word.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')),
        "words need no escaping"
    );
    trimmed(&words.join("|"))
}

/// [`crate::package::PackageStatus`].
pub fn package_status() -> String {
    one_of(crate::package::PackageStatus::ALL.map(|status| status.as_str()))
}

/// [`crate::participant::Party`].
pub fn party() -> String {
    one_of(crate::participant::Party::ALL.map(|party| party.as_str()))
}

/// [`crate::ids::Period`]: a month of the years 2000 to 2999.
pub fn period() -> String {
    trimmed("2[0-9]{3}-(?:0[1-9]|1[0-2])")
}

/// [`crate::ids::parse_date`]: a day of the proleptic Gregorian calendar, years 0000 to 9999.
pub fn date() -> String {
    let year = "[0-9]{4}";
    let leap_year = "[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00";
    trimmed(&format!(
        "{year}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])\
         |{year}-(?:0[13-9]|1[0-2])-(?:29|30)\
         |{year}-(?:0[13578]|1[02])-31\
         |(?:{leap_year})-02-29"
    ))
}

/// [`crate::money::Currency`]: the ISO 4217 codes that have a minor unit.
pub fn currency() -> String {
    use iso_currency::IntoEnumIterator as _;
    let codes: Vec<&str> = iso_currency::Currency::iter()
        .filter(|currency| currency.exponent().is_some())
        .map(|currency| currency.code())
        .collect();
    trimmed(&codes.join("|"))
}

/// A positive decimal amount ([`crate::money::Money::parse_positive`], [`crate::money::Ratio::parse_decimal`]):
/// a superset, since the decimals allowed depend on the currency and the largest value on the
/// field.
pub fn positive_decimal() -> String {
    trimmed(r"[0-9]*[1-9][0-9]*(?:\.[0-9]+)?|[0-9]+\.[0-9]*[1-9][0-9]*")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ids::{
        parse_date, Category, ItemCode, Name, ParticipantCode, Period, Reference, Username,
    };
    use crate::money::{Currency, Money, Ratio};

    type Check = (fn() -> String, fn(&str) -> bool, bool);

    /// Each expression beside its parser, and whether it is exact (or a superset).
    fn checks() -> Vec<(&'static str, Check)> {
        vec![
            (
                "participant_code",
                (
                    participant_code,
                    |s| ParticipantCode::parse(s).is_ok(),
                    true,
                ),
            ),
            (
                "item_code",
                (item_code, |s| ItemCode::parse(s).is_ok(), true),
            ),
            ("category", (category, |s| Category::parse(s).is_ok(), true)),
            ("username", (username, |s| Username::parse(s).is_ok(), true)),
            (
                "reference",
                (reference, |s| Reference::parse(s).is_ok(), true),
            ),
            ("name", (name, |s| Name::parse(s).is_ok(), true)),
            ("period", (period, |s| Period::parse(s).is_ok(), true)),
            ("date", (date, |s| parse_date(s).is_ok(), true)),
            ("currency", (currency, |s| Currency::parse(s).is_ok(), true)),
            (
                "package_status",
                (
                    package_status,
                    |s| crate::package::PackageStatus::parse(s).is_some(),
                    true,
                ),
            ),
            (
                "party",
                (party, |s| crate::participant::Party::parse(s).is_ok(), true),
            ),
            (
                "positive_decimal",
                (
                    positive_decimal,
                    |s| {
                        ["EUR", "JPY", "KWD", "CLF"].iter().any(|code| {
                            let currency = Currency::parse(code).unwrap();
                            Money::parse_positive(s, currency).is_ok()
                        }) || Ratio::parse_decimal(s).is_ok()
                    },
                    false,
                ),
            ),
        ]
    }

    /// Strings near the valid ones: valid values, cut, grown, with characters swapped in and
    /// whitespace (of every kind) around.
    fn near_valid() -> impl Strategy<Value = String> {
        let samples = [
            "NLD",
            "PAC-3-MSE",
            "air-defence",
            "olena.k",
            "NLD-2025/08:a_b",
            "Royal Navy",
            "2025-12",
            "2999-01",
            "1999-12",
            "2024-02-29",
            "2023-02-29",
            "2000-02-29",
            "1900-02-29",
            "2025-04-31",
            "0000-01-01",
            "EUR",
            "XAU",
            "JPY",
            "12.50",
            "0.001",
            "0",
            "00.00",
            "1.",
            ".5",
            "-1",
            "1e5",
            "A",
            "a",
            "",
        ];
        let spaces = prop::sample::select(vec![
            "", " ", "\t", "\n", "\u{85}", "\u{a0}", "\u{2003}", "\u{3000}", "\u{feff}", "\u{1c}",
        ]);
        (
            prop::sample::select(samples.to_vec()),
            spaces.clone(),
            spaces,
            prop::collection::vec((0usize..70, any::<char>()), 0..3),
            0usize..300,
        )
            .prop_map(|(sample, before, after, edits, repeat)| {
                let mut chars: Vec<char> = sample.chars().collect();
                for (at, c) in edits {
                    if at < chars.len() {
                        chars[at] = c;
                    } else {
                        chars.push(c);
                    }
                }
                let mut core: String = chars.into_iter().collect();
                if repeat > 250 {
                    core = core.repeat(repeat - 240);
                }
                format!("{before}{core}{after}")
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        #[test]
        fn each_expression_admits_what_its_parser_accepts(text in near_valid()) {
            for (what, (pattern, accepts, exact)) in checks() {
                let matches = regex::Regex::new(&pattern()).unwrap().is_match(&text);
                let accepted = accepts(&text);
                prop_assert!(matches || !accepted, "{what}: {text:?} accepted but not matched");
                if exact {
                    prop_assert!(!matches || accepted, "{what}: {text:?} matched but refused");
                }
            }
        }
    }

    #[test]
    fn each_expression_reads_in_rust_and_matches_a_known_value() {
        for (what, value) in [
            ("participant_code", " NLD "),
            ("item_code", "PAC-3-MSE"),
            ("category", "air-defence"),
            ("username", "olena.k"),
            ("reference", "NLD-2025-08-PATRIOT"),
            ("name", "Royal Netherlands Navy"),
            ("period", "2025-12"),
            ("date", "2024-02-29"),
            ("currency", "EUR"),
            ("package_status", "in-delivery"),
            ("party", " contributor"),
            ("positive_decimal", "577000000.10"),
        ] {
            let (pattern, accepts, _) = checks()
                .into_iter()
                .find(|(name, _)| *name == what)
                .unwrap()
                .1;
            assert!(accepts(value), "{what}: {value}");
            assert!(
                regex::Regex::new(&pattern()).unwrap().is_match(value),
                "{what}: {value}"
            );
        }
    }
}
