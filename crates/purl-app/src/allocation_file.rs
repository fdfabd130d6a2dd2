//! `purl allocate --input FILE`: the what-if file of design §6, read strictly, allocated by the
//! core engine, written back with a reason on every line not fully funded; and a generator of
//! large synthetic files for benchmarks.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

use purl_core::allocation::{allocate, Allocation, Fund, Requirement};
use purl_core::ids::{Category, STANDARD_CATEGORIES};
use purl_core::money::{format_minor, push_minor, Currency, Money};
use rand::{Rng, SeedableRng};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputFile<'a> {
    #[serde(borrow)]
    currency: Cow<'a, str>,
    #[serde(borrow)]
    requirements: Vec<RequirementIn<'a>>,
    #[serde(borrow)]
    funds: Vec<FundIn<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementIn<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    rank: u32,
    #[serde(borrow)]
    category: Cow<'a, str>,
    lethal: bool,
    #[serde(borrow)]
    unit_price: Cow<'a, str>,
    quantity: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FundIn<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    contributor: Cow<'a, str>,
    #[serde(borrow)]
    amount: Cow<'a, str>,
    #[serde(borrow)]
    categories: Option<Vec<Cow<'a, str>>>,
    lethal_allowed: Option<bool>,
}

/// A parsed input: validated lines and funds in one currency.
pub struct AllocationInput {
    pub currency: Currency,
    pub requirements: Vec<Requirement>,
    pub funds: Vec<Fund>,
}

/// Reads and checks an input file; every problem names where it is.
pub fn parse_input(text: &[u8]) -> Result<AllocationInput, Vec<String>> {
    let file: InputFile<'_> =
        serde_json::from_slice(text).map_err(|error| vec![error.to_string()])?;
    let currency =
        Currency::parse(&file.currency).map_err(|error| vec![format!("currency: {error}")])?;
    let mut problems = Vec::new();
    let mut categories = Categories::default();
    duplicates(
        file.requirements
            .iter()
            .map(|line| line.id.as_ref())
            .collect(),
        |index, first| {
            problems.push(format!(
                "{}: duplicate id (also requirements[{first}])",
                Place("requirements", index, &file.requirements[index].id)
            ));
        },
    );
    duplicates(
        file.requirements.iter().map(|line| line.rank).collect(),
        |index, first| {
            let line = &file.requirements[index];
            problems.push(format!(
                "{}: rank {} is also the rank of requirements[{first}]",
                Place("requirements", index, &line.id),
                line.rank
            ));
        },
    );
    let mut requirements = Vec::with_capacity(file.requirements.len());
    for (index, line) in file.requirements.iter().enumerate() {
        let place = Place("requirements", index, &line.id);
        let category = categories
            .get(&line.category)
            .map_err(|e| format!("{place}: category: {e}"));
        let price = Money::parse_positive(&line.unit_price, currency)
            .map_err(|e| format!("{place}: unit_price: {e}"));
        match (category, price) {
            (Ok(category), Ok(price)) => requirements.push(Requirement {
                id: line.id.to_string(),
                rank: line.rank,
                category,
                lethal: line.lethal,
                unit_price: price.minor(),
                quantity: line.quantity,
            }),
            (category, price) => problems.extend(category.err().into_iter().chain(price.err())),
        }
    }
    let funds = parse_funds(&file.funds, currency, &mut categories, &mut problems);
    if problems.is_empty() {
        Ok(AllocationInput {
            currency,
            requirements,
            funds,
        })
    } else {
        Err(problems)
    }
}

fn parse_funds(
    funds: &[FundIn<'_>],
    currency: Currency,
    categories: &mut Categories,
    problems: &mut Vec<String>,
) -> Vec<Fund> {
    let mut ids = HashSet::new();
    let mut parsed = Vec::with_capacity(funds.len());
    for (index, fund) in funds.iter().enumerate() {
        let place = Place("funds", index, &fund.id);
        if !ids.insert(fund.id.as_ref()) {
            problems.push(format!("{place}: duplicate id"));
        }
        let amount = Money::parse(&fund.amount, currency)
            .map_err(|e| e.to_string())
            .and_then(|m| {
                if m.minor() < 0 {
                    Err(format!("amount '{}' must not be negative", fund.amount))
                } else {
                    Ok(m)
                }
            });
        let allowed = fund
            .categories
            .as_ref()
            .map(|names| {
                names
                    .iter()
                    .map(|n| categories.get(n))
                    .collect::<Result<BTreeSet<_>, _>>()
            })
            .transpose();
        match (amount, allowed) {
            (Ok(amount), Ok(allowed)) => parsed.push(Fund {
                id: fund.id.to_string(),
                contributor: fund.contributor.to_string(),
                amount: amount.minor(),
                categories: allowed,
                lethal_allowed: fund.lethal_allowed.unwrap_or(true),
            }),
            (amount, allowed) => {
                problems.extend(amount.err().map(|e| format!("{place}: amount: {e}")));
                problems.extend(allowed.err().map(|e| format!("{place}: categories: {e}")));
            }
        }
    }
    parsed
}

/// Reports every item whose key an earlier item already has, as (index, index of the first).
/// Sorting rather than hashing: a million keys sort faster than they hash here.
fn duplicates<K: Ord>(keys: Vec<K>, mut report: impl FnMut(usize, usize)) {
    let mut keyed: Vec<(K, usize)> = keys
        .into_iter()
        .enumerate()
        .map(|(i, key)| (key, i))
        .collect();
    keyed.sort_unstable();
    let mut found: Vec<(usize, usize)> = keyed
        .windows(2)
        .filter(|pair| pair[0].0 == pair[1].0)
        .map(|pair| (pair[1].1, pair[0].1))
        .collect();
    found.sort_unstable();
    let mut first_of: HashMap<usize, usize> = HashMap::new();
    for (index, earlier) in found {
        let first = *first_of.entry(earlier).or_insert(earlier);
        first_of.insert(index, first);
        report(index, first);
    }
}

/// Where in the file: formatted only when there is a problem to report.
struct Place<'a>(&'static str, usize, &'a str);

impl std::fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}[{}] (id {})", self.0, self.1, self.2)
    }
}

/// Known categories, parsed once each.
#[derive(Default)]
struct Categories {
    parsed: HashMap<String, Category>,
}

impl Categories {
    fn get(&mut self, name: &str) -> Result<Category, String> {
        if let Some(category) = self.parsed.get(name) {
            return Ok(category.clone());
        }
        if !STANDARD_CATEGORIES.contains(&name) {
            return Err(format!(
                "unknown category '{name}' (known: {})",
                STANDARD_CATEGORIES.join(", ")
            ));
        }
        let category = Category::parse(name).map_err(|e| e.to_string())?;
        self.parsed.insert(name.to_owned(), category.clone());
        Ok(category)
    }
}

/// Allocates a parsed input and writes the output JSON of design §6 (lines in rank order).
pub fn allocate_to_json(input: &AllocationInput) -> Result<(String, Allocation), String> {
    let started = std::time::Instant::now();
    let allocation = allocate(&input.requirements, &input.funds).map_err(|e| e.to_string())?;
    tracing::info!(
        engine_s = started.elapsed().as_secs_f64(),
        lines = input.requirements.len(),
        "allocation engine done"
    );
    let exponent = input.currency.exponent();
    let money = |minor: i128| format!("{} {}", format_minor(minor, exponent), input.currency);
    let mut order: Vec<usize> = (0..input.requirements.len()).collect();
    order.sort_by_key(|&i| input.requirements[i].rank);
    let mut out = String::with_capacity(input.requirements.len() * 96);
    out.push_str("{\"lines\":[");
    // Per binding, its cause (JSON-quoted, without the closing quote) and the tail of its remedy:
    // every line the same binding stops shares them.
    let mut causes: HashMap<*const purl_core::allocation::Binding, (String, String)> =
        HashMap::new();
    for (position, &index) in order.iter().enumerate() {
        let (line, outcome) = (&input.requirements[index], &allocation.lines[index]);
        if position > 0 {
            out.push(',');
        }
        out.push_str("\n{\"id\":");
        push_json_string(&mut out, &line.id);
        let _ = write!(
            out,
            ",\"funded_quantity\":{},\"sources\":[",
            outcome.funded_quantity
        );
        for (n, (fund, minor)) in outcome.sources.iter().enumerate() {
            out.push_str(if n > 0 { ",{\"fund\":" } else { "{\"fund\":" });
            push_json_string(&mut out, &input.funds[*fund].id);
            out.push_str(",\"amount\":\"");
            push_minor(&mut out, i128::from(*minor), exponent);
            out.push_str("\"}");
        }
        out.push(']');
        if let Some(shortfall) = &outcome.shortfall {
            let binding = &shortfall.binding;
            let (cause, tail) = causes
                .entry(std::sync::Arc::as_ptr(binding))
                .or_insert_with(|| {
                    let cause = json_string(&binding.cause(&|f| input.funds[f].id.clone(), &money));
                    let tail = json_string(&binding.remedy_tail());
                    (cause[..cause.len() - 1].to_owned(), tail[1..].to_owned())
                });
            out.push_str(",\"reason\":");
            out.push_str(cause);
            push_minor(&mut out, shortfall.more_money, exponent);
            out.push(' ');
            out.push_str(input.currency.code());
            out.push_str(tail);
        }
        out.push('}');
    }
    out.push_str("\n],\"funds\":[");
    for (n, (fund, remaining)) in input.funds.iter().zip(&allocation.remaining).enumerate() {
        let comma = if n > 0 { "," } else { "" };
        let _ = write!(
            out,
            "{comma}\n{{\"id\":{},\"remaining\":\"{}\"}}",
            json_string(&fund.id),
            format_minor(i128::from(*remaining), exponent)
        );
    }
    out.push_str("\n]}\n");
    Ok((out, allocation))
}

/// Appends `text` as a JSON string, copying it as it is when nothing needs escaping.
fn push_json_string(out: &mut String, text: &str) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(text);
        out.push('"');
    } else {
        out.push_str(&json_string(text));
    }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serialises")
}

/// A synthetic input: `lines` requirements over the 8 standard categories and `funds` funds, some
/// open to everything, most earmarked to a few categories, a fifth non-lethal only; about a third
/// of the demand is covered. The same seed gives the same file on every machine.
pub fn generate(lines: u64, funds: u64, seed: u64) -> String {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = String::with_capacity(usize::try_from(lines).unwrap_or(0) * 140);
    out.push_str("{\"currency\":\"USD\",\"requirements\":[");
    let mut demand: u128 = 0;
    for n in 0..lines {
        let category = STANDARD_CATEGORIES[rng.gen_range(0..STANDARD_CATEGORIES.len())];
        let lethal = rng.gen_bool(0.6);
        let price_cents: u64 = 10u64.pow(rng.gen_range(4..10)) * rng.gen_range(1..10);
        let quantity: u64 = rng.gen_range(1..200);
        demand += u128::from(price_cents) * u128::from(quantity);
        let comma = if n > 0 { "," } else { "" };
        let _ = write!(
            out,
            "{comma}\n{{\"id\":\"R{:07}\",\"rank\":{},\"category\":\"{category}\",\"lethal\":{lethal},\"unit_price\":\"{}\",\"quantity\":{quantity}}}",
            n + 1,
            n + 1,
            format_minor(i128::from(price_cents), 2)
        );
    }
    out.push_str("\n],\"funds\":[");
    let per_fund = demand / 3 / u128::from(funds.max(1));
    for n in 0..funds {
        let amount = per_fund / 2 + rng.gen_range(0..=per_fund.max(1) as u64) as u128;
        let categories = if rng.gen_bool(0.3) {
            String::new()
        } else {
            let count = rng.gen_range(1..=3);
            let mut chosen: Vec<&str> = (0..count)
                .map(|_| STANDARD_CATEGORIES[rng.gen_range(0..STANDARD_CATEGORIES.len())])
                .collect();
            chosen.sort_unstable();
            chosen.dedup();
            format!(
                ",\"categories\":[{}]",
                chosen
                    .iter()
                    .map(|c| format!("\"{c}\""))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        let lethal = if rng.gen_bool(0.2) {
            ",\"lethal_allowed\":false"
        } else {
            ""
        };
        let comma = if n > 0 { "," } else { "" };
        let _ = write!(out, "{comma}\n{{\"id\":\"F{:03}\",\"contributor\":\"C{:03}\",\"amount\":\"{}\"{categories}{lethal}}}", n + 1, n % 40, format_minor(amount as i128, 2));
    }
    out.push_str("\n]}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"currency": "USD",
 "requirements": [{"id": "R000001", "rank": 1, "category": "air-defence", "lethal": true, "unit_price": "3950000.00", "quantity": 40}],
 "funds": [{"id": "F001", "contributor": "NLD", "amount": "577000000.00", "categories": ["air-defence"], "lethal_allowed": true}]}"#;

    fn problems(text: &str) -> String {
        match parse_input(text.as_bytes()) {
            Ok(_) => panic!("{text} must be refused"),
            Err(problems) => problems.join("\n"),
        }
    }

    #[test]
    fn the_design_example_allocates_with_the_documented_output() {
        let input = parse_input(GOOD.as_bytes()).unwrap();
        let (json, _) = allocate_to_json(&input).unwrap();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["lines"][0]["funded_quantity"], 40);
        assert_eq!(
            value["lines"][0]["sources"][0],
            serde_json::json!({"fund": "F001", "amount": "158000000.00"})
        );
        assert_eq!(
            value["funds"][0],
            serde_json::json!({"id": "F001", "remaining": "419000000.00"})
        );
        assert!(value["lines"][0].get("reason").is_none());
    }

    #[test]
    fn bad_input_is_refused_naming_what_and_where() {
        assert!(
            problems(&GOOD.replace("\"lethal\": true,", "\"lethal\": true, \"colour\": 1,"))
                .contains("unknown field `colour`")
        );
        assert!(
            problems(&GOOD.replace("\"3950000.00\"", "\"-5\"")).contains(
                "requirements[0] (id R000001): unit_price: amount '-5' must be greater than zero"
            )
        );
        assert!(problems(&GOOD.replace("\"577000000.00\"", "\"5,77\""))
            .contains("funds[0] (id F001): amount: amount '5,77' has a thousands separator"));
        assert!(problems(
            &GOOD.replace("\"category\": \"air-defence\"", "\"category\": \"space\"")
        )
        .contains("category: unknown category 'space'"));
        assert!(problems(&GOOD.replace("\"USD\"", "\"XYZ\""))
            .contains("currency: unknown currency 'XYZ'"));
        let two = GOOD.replace("\"quantity\": 40}", "\"quantity\": 40}, {\"id\": \"R000001\", \"rank\": 1, \"category\": \"ew\", \"lethal\": false, \"unit_price\": \"1\", \"quantity\": 1}");
        let found = problems(&two);
        assert!(
            found.contains("requirements[1] (id R000001): duplicate id"),
            "{found}"
        );
        assert!(
            found.contains(
                "requirements[1] (id R000001): rank 1 is also the rank of requirements[0]"
            ),
            "{found}"
        );
    }

    #[test]
    fn the_generator_is_reproducible_and_its_files_parse() {
        let text = generate(500, 10, 7);
        assert_eq!(text, generate(500, 10, 7));
        assert_ne!(text, generate(500, 10, 8));
        let input = parse_input(text.as_bytes()).unwrap();
        assert_eq!((input.requirements.len(), input.funds.len()), (500, 10));
        let (_, allocation) = allocate_to_json(&input).unwrap();
        assert!(allocation.lines.iter().any(|l| l.funded_quantity > 0));
        assert!(allocation.lines.iter().any(|l| l.shortfall.is_some()));
    }
}
