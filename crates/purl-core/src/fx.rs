//! Exchange rates to USD, kept as exact ratios with their date and source.

use crate::state::Map;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::{convert, Currency, Money, Ratio, RatioError};

/// How many USD one unit of `currency` was worth on `date`, according to `source`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FxRate {
    pub currency: Currency,
    pub date: NaiveDate,
    pub usd_per_unit: Ratio,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FxError {
    #[error("no exchange rate for {currency} to USD on or before {date}")]
    MissingRate { currency: Currency, date: NaiveDate },
    #[error("converting {amount} to USD overflowed")]
    Overflow { amount: Money },
}

/// A converted amount and the rate behind it, so every figure can be traced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversion {
    pub usd: Money,
    pub usd_per_unit: Ratio,
    /// The date of the rate used: the requested date or the latest one before it.
    pub rate_date: NaiveDate,
    pub rate_source: String,
}

/// All recorded rates, by currency then date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FxTable {
    rates: Map<Currency, Map<NaiveDate, FxRate>>,
}

impl FxTable {
    pub fn insert(&mut self, rate: FxRate) {
        self.rates
            .entry(rate.currency)
            .or_default()
            .insert(rate.date, rate);
    }

    pub fn get(&self, currency: Currency, date: NaiveDate) -> Option<&FxRate> {
        self.rates.get(&currency)?.get(&date)
    }

    pub fn iter(&self) -> impl Iterator<Item = &FxRate> {
        self.rates.values().flat_map(Map::values)
    }

    pub fn len(&self) -> usize {
        self.rates.values().map(Map::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }

    /// The rate of `date` or the latest one before it.
    pub fn rate_on(&self, currency: Currency, date: NaiveDate) -> Result<&FxRate, FxError> {
        self.rates
            .get(&currency)
            .and_then(|by_date| by_date.range(..=date).next_back())
            .map(|(_, rate)| rate)
            .ok_or(FxError::MissingRate { currency, date })
    }

    /// Converts `amount` to USD at the rate of `date` (or the latest before it), rounding once.
    pub fn to_usd(&self, amount: Money, date: NaiveDate) -> Result<Conversion, FxError> {
        if amount.currency() == Currency::USD {
            return Ok(Conversion {
                usd: amount,
                usd_per_unit: Ratio::one(),
                rate_date: date,
                rate_source: "identity".to_owned(),
            });
        }
        let rate = self.rate_on(amount.currency(), date)?;
        let usd = convert(amount, rate.usd_per_unit, Currency::USD)
            .map_err(|_: RatioError| FxError::Overflow { amount })?;
        Ok(Conversion {
            usd,
            usd_per_unit: rate.usd_per_unit,
            rate_date: rate.date,
            rate_source: rate.source.clone(),
        })
    }

    /// The least amount of `currency` that is worth at least `usd` at the rate of `date` (as
    /// `to_usd` converts it): what a contribution in the pledge's currency must be to pay `usd`.
    pub fn least_worth(
        &self,
        usd: Money,
        currency: Currency,
        date: NaiveDate,
    ) -> Result<Money, FxError> {
        if currency == Currency::USD {
            return Ok(usd);
        }
        let rate = self.rate_on(currency, date)?.usd_per_unit;
        let overflow = || FxError::Overflow { amount: usd };
        // usd = amount × n / d, scaled by the currencies' exponents: amount = usd × d / n.
        let scale = |exponent: u32| 10u128.checked_pow(exponent).ok_or_else(overflow);
        let numerator = u128::try_from(usd.minor().max(0))
            .map_err(|_| overflow())?
            .checked_mul(rate.denominator())
            .and_then(|v| v.checked_mul(scale(currency.exponent()).ok()?))
            .ok_or_else(overflow)?;
        let denominator = rate
            .numerator()
            .checked_mul(scale(Currency::USD.exponent())?)
            .ok_or_else(overflow)?;
        let mut minor =
            i64::try_from(numerator.div_ceil(denominator.max(1))).map_err(|_| overflow())?;
        // Rounding half-to-even on the way back may need a step either way.
        while minor > 0
            && self
                .to_usd(
                    Money::from_minor(minor - 1, currency).map_err(|_| overflow())?,
                    date,
                )?
                .usd
                .minor()
                >= usd.minor()
        {
            minor -= 1;
        }
        while self
            .to_usd(
                Money::from_minor(minor, currency).map_err(|_| overflow())?,
                date,
            )?
            .usd
            .minor()
            < usd.minor()
        {
            minor += 1;
        }
        Money::from_minor(minor, currency).map_err(|_| overflow())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn uses_the_rate_of_the_date_or_the_latest_before_it() {
        let nok = Currency::parse("NOK").unwrap();
        let mut table = FxTable::default();
        for (date, rate) in [("2025-12-01", "0.09"), ("2025-12-03", "0.1")] {
            table.insert(FxRate {
                currency: nok,
                date: day(date),
                usd_per_unit: Ratio::parse_decimal(rate).unwrap(),
                source: "test".into(),
            });
        }
        let amount = Money::parse("100", nok).unwrap();
        assert_eq!(
            table
                .to_usd(amount, day("2025-12-02"))
                .unwrap()
                .usd
                .amount_string(),
            "9.00"
        );
        assert_eq!(
            table
                .to_usd(amount, day("2025-12-09"))
                .unwrap()
                .usd
                .amount_string(),
            "10.00"
        );
        let missing = table.to_usd(amount, day("2025-11-30")).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "no exchange rate for NOK to USD on or before 2025-11-30"
        );
    }

    proptest::proptest! {
        #[test]
        fn least_worth_is_the_least_amount_worth_at_least_the_usd(
            usd_minor in 1i64..10_000_000_000_000,
            rate_micro in 1u64..5_000_000_000,
            code in proptest::sample::select(vec!["EUR", "JPY", "NOK", "KWD"]),
        ) {
            let currency = Currency::parse(code).unwrap();
            let mut table = FxTable::default();
            table.insert(FxRate {
                currency,
                date: day("2026-01-01"),
                usd_per_unit: Ratio::new(u128::from(rate_micro), 1_000_000).unwrap(),
                source: "test".into(),
            });
            let usd = Money::from_minor(usd_minor, Currency::USD).unwrap();
            let date = day("2026-01-02");
            let amount = table.least_worth(usd, currency, date).unwrap();
            let worth = |minor: i64| {
                table
                    .to_usd(Money::from_minor(minor, currency).unwrap(), date)
                    .unwrap()
                    .usd
                    .minor()
            };
            proptest::prop_assert!(worth(amount.minor()) >= usd_minor);
            proptest::prop_assert!(amount.minor() == 0 || worth(amount.minor() - 1) < usd_minor);
        }
    }
}
