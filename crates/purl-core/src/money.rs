//! Money: an integer count of minor units plus an ISO 4217 currency. No floating point, anywhere.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::limits::{AMOUNT_MINOR_MAX, RATE_DECIMALS_MAX};

/// An ISO 4217 currency that has a minor unit (so not gold, SDR or testing codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurrencyError {
    #[error("unknown currency '{0}': expected an ISO 4217 code such as EUR, USD or NOK")]
    Unknown(String),
    #[error("currency '{0}' has no minor unit and cannot hold money")]
    NoMinorUnit(String),
}

impl Currency {
    pub const USD: Currency = Currency(iso_currency::Currency::USD);
    pub const EUR: Currency = Currency(iso_currency::Currency::EUR);

    pub fn parse(code: &str) -> Result<Self, CurrencyError> {
        let code = code.trim();
        let upper = code.to_ascii_uppercase();
        if upper != code || code.len() != 3 {
            return Err(CurrencyError::Unknown(code.to_owned()));
        }
        let currency = iso_currency::Currency::from_code(code)
            .ok_or_else(|| CurrencyError::Unknown(code.to_owned()))?;
        if currency.exponent().is_none() {
            return Err(CurrencyError::NoMinorUnit(code.to_owned()));
        }
        Ok(Self(currency))
    }

    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// Number of decimal places of the minor unit: 2 for EUR, 0 for JPY and ISK, 3 for KWD.
    pub fn exponent(self) -> u32 {
        u32::from(
            self.0
                .exponent()
                .expect("Currency::parse admits only currencies with a minor unit"),
        )
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = CurrencyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Self::parse(&code).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("amount is empty")]
    Empty,
    #[error("amount '{0}' has a thousands separator or space; write it as 1234567.89")]
    Separator(String),
    #[error("amount '{text}' has more decimals than {currency} allows ({allowed})")]
    TooManyDecimals {
        text: String,
        currency: Currency,
        allowed: u32,
    },
    #[error("amount '{0}' is not a decimal number such as 1234.50")]
    Malformed(String),
    #[error("amount '{0}' is too large")]
    TooLarge(String),
    #[error("amount '{0}' must be greater than zero")]
    NotPositive(String),
}

/// An exact amount: `minor` units of `currency` (cents for USD, whole yen for JPY).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    pub fn from_minor(minor: i64, currency: Currency) -> Result<Self, AmountError> {
        if minor.abs() > AMOUNT_MINOR_MAX {
            return Err(AmountError::TooLarge(minor.to_string()));
        }
        Ok(Self { minor, currency })
    }

    pub fn zero(currency: Currency) -> Self {
        Self { minor: 0, currency }
    }

    /// Parses a plain decimal string (`1234.50`, `-3`, `0.5`) in `currency`.
    pub fn parse(text: &str, currency: Currency) -> Result<Self, AmountError> {
        let minor = parse_decimal_minor(text, currency)?;
        Self::from_minor(minor, currency)
    }

    /// Parses an amount that must be strictly positive (pledges, payments, prices).
    pub fn parse_positive(text: &str, currency: Currency) -> Result<Self, AmountError> {
        let money = Self::parse(text, currency)?;
        if money.minor <= 0 {
            return Err(AmountError::NotPositive(text.trim().to_owned()));
        }
        Ok(money)
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    pub fn is_positive(self) -> bool {
        self.minor > 0
    }

    /// Adds two amounts of the same currency; `None` on a currency mismatch or overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        let minor = self.minor.checked_add(other.minor)?;
        Money::from_minor(minor, self.currency).ok()
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.checked_add(Money {
            minor: other.minor.checked_neg()?,
            currency: other.currency,
        })
    }

    /// The amount as a decimal string without the currency: `1234.50`, `-0.05`, `1200` (JPY).
    pub fn amount_string(self) -> String {
        format_minor(i128::from(self.minor), self.currency.exponent())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount_string(), self.currency)
    }
}

/// Wire form: `{"amount": "1234.50", "currency": "EUR"}`.
#[derive(Serialize, Deserialize)]
struct MoneyWire {
    amount: String,
    currency: Currency,
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        MoneyWire {
            amount: self.amount_string(),
            currency: self.currency,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = MoneyWire::deserialize(deserializer)?;
        Money::parse(&wire.amount, wire.currency).map_err(serde::de::Error::custom)
    }
}

/// Formats a count of minor units with `exponent` decimals.
pub fn format_minor(minor: i128, exponent: u32) -> String {
    let mut out = String::with_capacity(24);
    push_minor(&mut out, minor, exponent);
    out
}

/// Appends a count of minor units with `exponent` decimals (`-1234.50`), without allocating.
pub fn push_minor(out: &mut String, minor: i128, exponent: u32) {
    let mut digits = [0u8; 40];
    let mut at = digits.len();
    let mut rest = minor.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + u8::try_from(rest % 10).expect("a digit");
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let needed = exponent as usize + 1;
    while digits.len() - at < needed {
        at -= 1;
        digits[at] = b'0';
    }
    if minor < 0 {
        out.push('-');
    }
    let text = std::str::from_utf8(&digits[at..]).expect("ASCII digits");
    let (whole, fraction) = text.split_at(text.len() - exponent as usize);
    out.push_str(whole);
    if exponent > 0 {
        out.push('.');
        out.push_str(fraction);
    }
}

fn parse_decimal_minor(text: &str, currency: Currency) -> Result<i64, AmountError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(AmountError::Empty);
    }
    if trimmed.contains([',', ' ', '\u{a0}', '\'', '_']) {
        return Err(AmountError::Separator(trimmed.to_owned()));
    }
    let malformed = || AmountError::Malformed(trimmed.to_owned());
    let (negative, unsigned) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return Err(malformed());
    }
    if unsigned.contains('.') && fraction.is_empty() {
        return Err(malformed());
    }
    let exponent = currency.exponent();
    if fraction.len() > exponent as usize {
        return Err(AmountError::TooManyDecimals {
            text: trimmed.to_owned(),
            currency,
            allowed: exponent,
        });
    }
    let too_large = || AmountError::TooLarge(trimmed.to_owned());
    let mut magnitude: i64 = 0;
    let padding = exponent as usize - fraction.len();
    let digits = whole
        .bytes()
        .chain(fraction.bytes())
        .chain(std::iter::repeat_n(b'0', padding));
    for digit in digits {
        magnitude = magnitude
            .checked_mul(10)
            .and_then(|m| m.checked_add(i64::from(digit - b'0')))
            .ok_or_else(too_large)?;
    }
    if magnitude > AMOUNT_MINOR_MAX {
        return Err(too_large());
    }
    Ok(if negative { -magnitude } else { magnitude })
}

/// An exact positive rational number, kept reduced: exchange rates are stored this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ratio {
    numerator: u128,
    denominator: u128,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatioError {
    #[error("rate '{0}' is not a positive decimal number such as 1.0842")]
    Malformed(String),
    #[error("rate '{0}' must be greater than zero")]
    NotPositive(String),
    #[error("rate '{text}' has more than {max} decimals", max = RATE_DECIMALS_MAX)]
    TooPrecise { text: String },
    #[error("rate arithmetic overflowed")]
    Overflow,
}

impl Ratio {
    pub fn new(numerator: u128, denominator: u128) -> Result<Self, RatioError> {
        if numerator == 0 || denominator == 0 {
            return Err(RatioError::NotPositive(format!(
                "{numerator}/{denominator}"
            )));
        }
        let divisor = gcd(numerator, denominator);
        Ok(Self {
            numerator: numerator / divisor,
            denominator: denominator / divisor,
        })
    }

    pub fn one() -> Self {
        Self {
            numerator: 1,
            denominator: 1,
        }
    }

    /// Parses a positive decimal (`1.0842`, `157.63`, `25`) exactly.
    pub fn parse_decimal(text: &str) -> Result<Self, RatioError> {
        let trimmed = text.trim();
        let malformed = || RatioError::Malformed(trimmed.to_owned());
        let (whole, fraction) = trimmed.split_once('.').unwrap_or((trimmed, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(malformed());
        }
        if trimmed.contains('.') && fraction.is_empty() {
            return Err(malformed());
        }
        if fraction.len() > RATE_DECIMALS_MAX as usize {
            return Err(RatioError::TooPrecise {
                text: trimmed.to_owned(),
            });
        }
        if whole.trim_start_matches('0').len() > 15 {
            return Err(malformed());
        }
        let numerator: u128 = format!("{whole}{fraction}")
            .parse()
            .map_err(|_| malformed())?;
        if numerator == 0 {
            return Err(RatioError::NotPositive(trimmed.to_owned()));
        }
        let exponent = u32::try_from(fraction.len()).map_err(|_| malformed())?;
        Self::new(numerator, 10u128.pow(exponent))
    }

    /// Parses the stored form `numerator/denominator`.
    pub fn parse_fraction(text: &str) -> Result<Self, RatioError> {
        let malformed = || RatioError::Malformed(text.to_owned());
        let (numerator, denominator) = text.split_once('/').ok_or_else(malformed)?;
        let numerator = numerator.parse().map_err(|_| malformed())?;
        let denominator = denominator.parse().map_err(|_| malformed())?;
        Self::new(numerator, denominator)
    }

    pub fn numerator(self) -> u128 {
        self.numerator
    }

    pub fn denominator(self) -> u128 {
        self.denominator
    }

    /// `self / other`, exactly: the cross rate through a common base.
    pub fn checked_div(self, other: Ratio) -> Result<Ratio, RatioError> {
        let numerator = self
            .numerator
            .checked_mul(other.denominator)
            .ok_or(RatioError::Overflow)?;
        let denominator = self
            .denominator
            .checked_mul(other.numerator)
            .ok_or(RatioError::Overflow)?;
        Ratio::new(numerator, denominator)
    }

    /// A decimal rendering rounded half-to-even to `decimals` places, for display only.
    pub fn to_decimal_string(self, decimals: u32) -> String {
        let scale = 10u128.pow(decimals);
        let scaled = self
            .numerator
            .checked_mul(scale)
            .map(|n| divide_half_even(n, self.denominator));
        match scaled {
            Some(value) => format_minor(value as i128, decimals),
            None => format!("{}/{}", self.numerator, self.denominator),
        }
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.numerator, self.denominator)
    }
}

impl Serialize for Ratio {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Ratio {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ratio::parse_fraction(&text).map_err(serde::de::Error::custom)
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `numerator / denominator` rounded half-to-even; both non-negative, denominator positive.
pub fn divide_half_even(numerator: u128, denominator: u128) -> u128 {
    assert!(
        denominator > 0,
        "callers never divide by a zero denominator"
    );
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    let twice = remainder * 2;
    let round_up = twice > denominator || (twice == denominator && quotient % 2 == 1);
    quotient + u128::from(round_up)
}

/// Converts `amount` at `rate` (units of `target` per unit of the amount's currency), rounding
/// once, half-to-even, to the target's minor unit.
pub fn convert(amount: Money, rate: Ratio, target: Currency) -> Result<Money, RatioError> {
    let source_exponent = amount.currency().exponent();
    let target_exponent = target.exponent();
    let magnitude = u128::from(amount.minor().unsigned_abs());
    let mut numerator = magnitude
        .checked_mul(rate.numerator)
        .ok_or(RatioError::Overflow)?;
    let mut denominator = rate.denominator;
    if target_exponent >= source_exponent {
        let scale = 10u128.pow(target_exponent - source_exponent);
        numerator = numerator.checked_mul(scale).ok_or(RatioError::Overflow)?;
    } else {
        let scale = 10u128.pow(source_exponent - target_exponent);
        denominator = denominator.checked_mul(scale).ok_or(RatioError::Overflow)?;
    }
    let converted = divide_half_even(numerator, denominator);
    let converted = i64::try_from(converted).map_err(|_| RatioError::Overflow)?;
    let signed = if amount.minor() < 0 {
        -converted
    } else {
        converted
    };
    Money::from_minor(signed, target).map_err(|_| RatioError::Overflow)
}

#[cfg(test)]
#[path = "money_tests.rs"]
mod tests;
