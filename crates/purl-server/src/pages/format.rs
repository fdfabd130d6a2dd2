//! How figures read on a page: money with its currency and thousands separators, shares in words.

use purl_core::money::Money;

/// `1234567.50` as `1,234,567.50`.
pub fn grouped(amount: &str) -> String {
    let (sign, digits) = amount
        .strip_prefix('-')
        .map_or(("", amount), |rest| ("-", rest));
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut out = String::with_capacity(amount.len() + whole.len() / 3);
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if fraction.is_empty() {
        format!("{sign}{out}")
    } else {
        format!("{sign}{out}.{fraction}")
    }
}

/// Money as people read it: `USD 1,234,567.50`.
pub fn money(money: &Money) -> String {
    format!("{} {}", money.currency(), grouped(&money.amount_string()))
}

/// `part` of `whole` in words, rounded down to the nearest familiar share: "over two-thirds".
pub fn share_in_words(part: u32, whole: u32) -> &'static str {
    if whole == 0 {
        return "none eligible";
    }
    let (part, whole) = (u64::from(part), u64::from(whole));
    // Each share as a fraction n/d: part/whole > n/d  ⇔  part·d > n·whole.
    let above = |n: u64, d: u64| part * d > n * whole;
    let exactly = |n: u64, d: u64| part * d == n * whole;
    if part == whole {
        "all"
    } else if above(3, 4) {
        "over three-quarters"
    } else if above(2, 3) {
        "over two-thirds"
    } else if above(1, 2) {
        "over half"
    } else if exactly(1, 2) {
        "half"
    } else if above(1, 3) {
        "over a third"
    } else if above(1, 4) {
        "over a quarter"
    } else if part == 0 {
        "none"
    } else {
        "under a quarter"
    }
}

/// The rate behind a USD figure, as people check it: `1.1 (2026-11-02, ECB)`.
pub fn conversion(conversion: &purl_core::fx::Conversion) -> String {
    format!(
        "{} ({}, {})",
        purl_app::export::exact_rate(conversion.usd_per_unit),
        conversion.rate_date,
        conversion.rate_source
    )
}

/// `text` as one part of a URL (a path segment or a query value).
pub fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated() {
        assert_eq!(grouped("0.00"), "0.00");
        assert_eq!(grouped("999"), "999");
        assert_eq!(grouped("1000"), "1,000");
        assert_eq!(grouped("577000000.10"), "577,000,000.10");
        assert_eq!(grouped("-1234567.5"), "-1,234,567.5");
    }

    #[test]
    fn shares_are_named_by_exact_comparison() {
        assert_eq!(share_in_words(21, 31), "over two-thirds");
        assert_eq!(share_in_words(20, 30), "over half"); // exactly two-thirds is not over
        assert_eq!(share_in_words(24, 31), "over three-quarters");
        assert_eq!(share_in_words(15, 30), "half");
        assert_eq!(share_in_words(31, 31), "all");
        assert_eq!(share_in_words(0, 31), "none");
        assert_eq!(share_in_words(1, 31), "under a quarter");
        assert_eq!(share_in_words(3, 0), "none eligible");
    }
}
