use proptest::prelude::*;

use super::*;

fn ccy(code: &str) -> Currency {
    Currency::parse(code).unwrap()
}

#[test]
fn parses_plain_decimals_into_minor_units() {
    assert_eq!(
        Money::parse("1234.50", ccy("EUR")).unwrap().minor(),
        123_450
    );
    assert_eq!(Money::parse("1234.5", ccy("EUR")).unwrap().minor(), 123_450);
    assert_eq!(Money::parse("1234", ccy("EUR")).unwrap().minor(), 123_400);
    assert_eq!(Money::parse("-0.05", ccy("USD")).unwrap().minor(), -5);
    assert_eq!(Money::parse("1200", ccy("JPY")).unwrap().minor(), 1200);
    assert_eq!(Money::parse("1.234", ccy("KWD")).unwrap().minor(), 1234);
}

#[test]
fn rejects_separators_and_extra_decimals_with_a_clear_error() {
    let eur = ccy("EUR");
    assert!(matches!(
        Money::parse("1,234.50", eur),
        Err(AmountError::Separator(_))
    ));
    assert!(matches!(
        Money::parse("1 234.50", eur),
        Err(AmountError::Separator(_))
    ));
    let error = Money::parse("1234.505", eur).unwrap_err();
    assert_eq!(
        error.to_string(),
        "amount '1234.505' has more decimals than EUR allows (2)"
    );
    assert!(matches!(
        Money::parse("5.5", ccy("JPY")),
        Err(AmountError::TooManyDecimals { .. })
    ));
    for bad in ["", "abc", "1.", ".5", "1e5", "+5", "--1", "1.2.3", "0x10"] {
        assert!(Money::parse(bad, eur).is_err(), "{bad:?} must be rejected");
    }
    assert!(matches!(
        Money::parse("-1", eur).map(Money::is_positive),
        Ok(false)
    ));
    assert!(matches!(
        Money::parse_positive("0", eur),
        Err(AmountError::NotPositive(_))
    ));
    assert!(matches!(
        Money::parse("99999999999999999999", eur),
        Err(AmountError::TooLarge(_))
    ));
}

#[test]
fn rejects_unknown_currencies_and_those_without_a_minor_unit() {
    assert!(matches!(
        Currency::parse("XYZ"),
        Err(CurrencyError::Unknown(_))
    ));
    assert!(matches!(
        Currency::parse("eur"),
        Err(CurrencyError::Unknown(_))
    ));
    assert!(matches!(
        Currency::parse("XAU"),
        Err(CurrencyError::NoMinorUnit(_))
    ));
    assert_eq!(Currency::parse("ISK").unwrap().exponent(), 0);
    assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
    assert_eq!(Currency::parse("NOK").unwrap().exponent(), 2);
}

#[test]
fn converts_with_half_to_even_rounding_once() {
    let eur = ccy("EUR");
    // 0.05 EUR at 1.5 = 0.075 USD -> 0.08 (7.5 cents rounds to even 8)
    let rate = Ratio::parse_decimal("1.5").unwrap();
    assert_eq!(
        convert(Money::parse("0.05", eur).unwrap(), rate, Currency::USD)
            .unwrap()
            .minor(),
        8
    );
    // 0.03 EUR at 1.5 = 4.5 cents -> 4
    assert_eq!(
        convert(Money::parse("0.03", eur).unwrap(), rate, Currency::USD)
            .unwrap()
            .minor(),
        4
    );
    // JPY to USD: 1000 JPY at 0.0067 = 6.70 USD
    let yen = Money::parse("1000", ccy("JPY")).unwrap();
    let rate = Ratio::parse_decimal("0.0067").unwrap();
    assert_eq!(convert(yen, rate, Currency::USD).unwrap().minor(), 670);
}

#[test]
fn cross_rates_through_eur_are_exact_ratios() {
    // ECB: 1 EUR = 1.0842 USD, 1 EUR = 11.4485 NOK, so 1 NOK = 1.0842/11.4485 USD exactly.
    let usd = Ratio::parse_decimal("1.0842").unwrap();
    let nok = Ratio::parse_decimal("11.4485").unwrap();
    let nok_in_usd = usd.checked_div(nok).unwrap();
    assert_eq!(nok_in_usd.to_string(), "10842/114485");
    let five_billion = Money::parse("5000000000", ccy("NOK")).unwrap();
    let usd_amount = convert(five_billion, nok_in_usd, Currency::USD).unwrap();
    // 5e9 * 1.0842 / 11.4485 = 473511813.77...
    assert_eq!(usd_amount.amount_string(), "473511813.77");
}

fn currency_strategy() -> impl Strategy<Value = Currency> {
    prop::sample::select(vec!["EUR", "USD", "JPY", "ISK", "KWD", "NOK", "GBP", "CAD"]).prop_map(ccy)
}

proptest! {
    #[test]
    fn formatting_then_parsing_gives_the_same_money(
        minor in -AMOUNT_MINOR_MAX..=AMOUNT_MINOR_MAX, currency in currency_strategy()
    ) {
        let money = Money::from_minor(minor, currency).unwrap();
        let text = money.amount_string();
        prop_assert_eq!(Money::parse(&text, currency).unwrap(), money);
        let json = serde_json::to_string(&money).unwrap();
        prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), money);
    }

    #[test]
    fn parsing_then_formatting_is_canonical(whole in 0u64..10_000_000_000, cents in 0u32..100) {
        let text = format!("{whole}.{cents:02}");
        let money = Money::parse(&text, Currency::EUR).unwrap();
        prop_assert_eq!(money.amount_string(), text);
    }

    #[test]
    fn more_decimals_than_the_currency_allows_are_rejected(
        whole in 0u64..1_000_000, extra in 1u32..10, currency in currency_strategy()
    ) {
        let decimals = "1".repeat((currency.exponent() + extra) as usize);
        let text = format!("{whole}.{decimals}");
        let is_too_many = matches!(
            Money::parse(&text, currency), Err(AmountError::TooManyDecimals { .. })
        );
        prop_assert!(is_too_many);
    }

    #[test]
    fn conversion_at_rate_one_between_same_exponents_is_identity(
        minor in -1_000_000_000_000i64..1_000_000_000_000
    ) {
        let money = Money::from_minor(minor, Currency::EUR).unwrap();
        prop_assert_eq!(convert(money, Ratio::one(), Currency::USD).unwrap().minor(), minor);
    }

    #[test]
    fn conversion_is_within_half_a_minor_unit_of_the_exact_value(
        minor in 0i64..1_000_000_000_000_000, numerator in 1u128..100_000_000,
        denominator in 1u128..100_000_000
    ) {
        let money = Money::from_minor(minor, Currency::EUR).unwrap();
        let rate = Ratio::new(numerator, denominator).unwrap();
        let exact = u128::try_from(minor).unwrap() * rate.numerator();
        let Ok(converted) = convert(money, rate, Currency::USD) else {
            // Refused only when the result would exceed the largest amount PURL holds.
            prop_assert!(exact / rate.denominator() >= AMOUNT_MINOR_MAX as u128);
            return Ok(());
        };
        let converted = converted.minor();
        // |converted * den - minor * num| <= den / 2, with ties resolved to even.
        let scaled = u128::try_from(converted).unwrap() * rate.denominator();
        let difference = exact.abs_diff(scaled);
        prop_assert!(difference * 2 <= rate.denominator());
        if difference * 2 == rate.denominator() {
            prop_assert_eq!(converted % 2, 0);
        }
    }

    #[test]
    fn conversion_is_symmetric_in_sign(minor in 1i64..1_000_000_000_000, numerator in 1u128..1_000_000) {
        let rate = Ratio::new(numerator, 9_973).unwrap();
        let positive = convert(Money::from_minor(minor, Currency::EUR).unwrap(), rate, Currency::USD);
        let negative = convert(Money::from_minor(-minor, Currency::EUR).unwrap(), rate, Currency::USD);
        prop_assert_eq!(positive.unwrap().minor(), -negative.unwrap().minor());
    }

    #[test]
    fn decimal_rates_round_trip_through_their_stored_fraction(
        whole in 0u64..100_000, fraction in 1u64..1_000_000
    ) {
        let rate = Ratio::parse_decimal(&format!("{whole}.{fraction:06}")).unwrap();
        prop_assert_eq!(Ratio::parse_fraction(&rate.to_string()).unwrap(), rate);
        prop_assert_eq!(rate.to_decimal_string(6), format!("{whole}.{fraction:06}"));
    }
}
