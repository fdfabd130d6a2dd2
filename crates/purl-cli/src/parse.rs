//! Turning command-line arguments into core types, with errors that name the argument.

use std::collections::BTreeSet;

use anyhow::{anyhow, Context as _};
use chrono::NaiveDate;
use purl_core::ids::{
    parse_date, Category, ItemCode, Name, ParticipantCode, Period, Reference, Text, Username,
};
use purl_core::money::{Currency, Money};
use purl_core::participant::Party;
use purl_core::user::Role;

fn named<T, E: std::fmt::Display>(argument: &str, result: Result<T, E>) -> anyhow::Result<T> {
    result.map_err(|error| anyhow!("{argument}: {error}"))
}

pub fn period(text: &str) -> anyhow::Result<Period> {
    named("period", Period::parse(text))
}

pub fn date(argument: &str, text: &str) -> anyhow::Result<NaiveDate> {
    named(argument, parse_date(text))
}

pub fn reference(text: &str) -> anyhow::Result<Reference> {
    named("reference", Reference::parse(text))
}

pub fn participant(text: &str) -> anyhow::Result<ParticipantCode> {
    named("participant", ParticipantCode::parse(text))
}

pub fn username(text: &str) -> anyhow::Result<Username> {
    named("username", Username::parse(text))
}

pub fn name(text: &str) -> anyhow::Result<Name> {
    named("--name", Name::parse(text))
}

pub fn text(argument: &str, text: &str) -> anyhow::Result<Text> {
    named(argument, Text::parse(text))
}

pub fn item(text: &str) -> anyhow::Result<ItemCode> {
    named("item", ItemCode::parse(text))
}

pub fn category(text: &str) -> anyhow::Result<Category> {
    named("--category", Category::parse(text))
}

pub fn currency(text: &str) -> anyhow::Result<Currency> {
    named("--currency", Currency::parse(text))
}

pub fn money(amount: &str, currency_code: &str) -> anyhow::Result<Money> {
    let currency = currency(currency_code)?;
    named("--amount", Money::parse_positive(amount, currency))
}

pub fn usd(argument: &str, amount: &str) -> anyhow::Result<Money> {
    named(argument, Money::parse_positive(amount, Currency::USD))
}

pub fn party(text: &str) -> anyhow::Result<Party> {
    named("party", Party::parse(text))
}

pub fn roles(text: &str) -> anyhow::Result<BTreeSet<Role>> {
    named("roles", Role::parse_set(text))
}

pub fn contributors(
    text: &str,
    resolve: impl Fn(&str) -> Result<ParticipantCode, String>,
) -> anyhow::Result<Vec<ParticipantCode>> {
    text.split([';', ','])
        .filter(|code| !code.trim().is_empty())
        .map(|code| resolve(code).map_err(|error| anyhow!("--contributors: {error}")))
        .collect::<anyhow::Result<Vec<_>>>()
        .context("while reading the contributors")
}
