//! Reports as spreadsheets: the figures of a report as the reader sees them, one sheet per table,
//! and an About sheet with the as-of date, the currency, the exchange rates and GDP figures behind
//! the figures with their sources, and what was left out.

use std::collections::BTreeSet;

use purl_core::money::Money;
use purl_core::report::contributions::Contributions;
use purl_core::report::Overview;

use crate::export::{exact_rate, joined};
use crate::workbook::{Book, Cell, Column, Holds, Sheet};

fn amount(money: Money) -> Cell {
    Cell::Decimal(money.amount_string())
}

fn optional(money: Option<Money>) -> Cell {
    money.map_or(Cell::Empty, amount)
}

fn sheet(name: &str, columns: Vec<Column>, rows: Vec<Vec<Cell>>) -> Sheet {
    Sheet {
        name: name.into(),
        columns,
        rows,
        validate: false,
    }
}

/// The overview: its figures, the pledges counted that the reader may see, the rates behind them.
pub fn overview_book(overview: &Overview, reader: &str) -> Book {
    let usd = |money: Money| vec![amount(money), Cell::text("USD")];
    let figure = |name: &str, mut value: Vec<Cell>| {
        let mut row = vec![Cell::text(name)];
        row.append(&mut value);
        row.resize(3, Cell::Empty);
        row
    };
    let whole = |n: u32| vec![Cell::decimal(n)];
    let mut figures = vec![
        figure("pledged", usd(overview.pledged)),
        figure("committed", usd(overview.committed)),
        figure("paid", usd(overview.paid)),
        figure(
            "pledges of undisclosed amount",
            whole(overview.undisclosed_pledges),
        ),
        figure("contributors", whole(overview.contributors)),
        figure("Allies participating", whole(overview.allies.participating)),
        figure(
            "Allies that can contribute",
            whole(overview.allies.eligible),
        ),
        figure(
            "Allies participating, share in percent",
            vec![Cell::Decimal(format!(
                "{:.2}",
                overview.allies.fraction * 100.0
            ))],
        ),
        figure(
            "partners participating",
            whole(overview.partners.participating),
        ),
        figure("packages", whole(overview.packages.count)),
        figure("value of active packages", usd(overview.packages.value)),
        figure("value delivered", usd(overview.packages.delivered_value)),
    ];
    for (status, count) in &overview.packages.by_status {
        figures.push(figure(&format!("packages {status}"), whole(*count)));
    }
    let figures = sheet(
        "Overview",
        vec![
            Column::new("figure", Holds::Text, "What is counted."),
            Column::new(
                "value",
                Holds::Amount,
                "The figure (money in the unit beside it).",
            ),
            Column::new("unit", Holds::Text, "USD for money; empty for counts."),
        ],
        figures,
    );
    let pledges = sheet(
        "Pledges",
        vec![
            Column::new("reference", Holds::Text, "The pledge."),
            Column::new("amount", Holds::Amount, "In the pledge's currency."),
            Column::new("currency", Holds::Currency, "The pledge's currency."),
            Column::new("status", Holds::Text, "announced, committed, partly paid, paid or withdrawn."),
            Column::new("usd", Holds::Amount, "The amount in USD at the rate of the announcement date."),
            Column::new("usd_per_unit", Holds::Rate, "The rate used, exactly."),
            Column::new("rate_date", Holds::Date, "The date of the rate used."),
            Column::new("rate_source", Holds::Text, "Where the rate comes from."),
            Column::new("paid", Holds::Amount, "Received so far, in the pledge's currency (empty: not yours to see, or nothing yet)."),
            Column::new("paid_usd", Holds::Amount, "Received so far, in USD at the same rate."),
        ],
        overview
            .pledges
            .iter()
            .map(|p| {
                vec![
                    Cell::text(p.reference.as_str()),
                    amount(p.amount),
                    Cell::text(p.amount.currency().code()),
                    Cell::text(p.status),
                    amount(p.conversion.usd),
                    Cell::Decimal(exact_rate(p.conversion.usd_per_unit)),
                    Cell::Date(p.conversion.rate_date),
                    Cell::text(&p.conversion.rate_source),
                    optional(p.paid),
                    optional(p.paid_usd),
                ]
            })
            .collect(),
    );
    let sources: BTreeSet<&str> = overview
        .pledges
        .iter()
        .map(|p| p.conversion.rate_source.as_str())
        .collect();
    Book {
        sheets: vec![figures, pledges],
        about: vec![
            ("report".into(), "Overview (design §7)".into()),
            ("as of".into(), overview.as_of.to_string()),
            ("for".into(), reader.to_owned()),
            ("currency".into(), "USD; each pledge at the rate of its announcement date (the rate and its date on each row)".into()),
            ("exchange-rate sources".into(), sources.into_iter().collect::<Vec<_>>().join("; ")),
            (
                "left out".into(),
                format!(
                    "{} pledge(s) of undisclosed amount count for participation but not in the totals; the Pledges sheet lists only the pledges you may see (the totals count every pledge)",
                    overview.undisclosed_pledges
                ),
            ),
        ],
        footer: None,
    }
}

/// The contributions report: one row per contributor or joint pledge, and the GDP behind it.
pub fn contributions_book(report: &Contributions, reader: &str) -> Book {
    let rows = report
        .rows
        .iter()
        .map(|row| {
            vec![
                Cell::text(joined(&row.contributors)),
                Cell::Bool(row.joint),
                amount(row.pledged),
                amount(row.committed),
                optional(row.paid),
                Cell::Decimal(row.share_of_total_percent.clone()),
                optional(row.gdp),
                Cell::optional_text(row.percent_of_gdp.clone()),
                optional(row.fair_share),
                optional(row.versus_fair_share),
                Cell::text(joined(&row.pledges)),
            ]
        })
        .collect();
    let rows_sheet = sheet(
        "Contributions",
        vec![
            Column::new(
                "contributors",
                Holds::Text,
                "One contributor, or the members of a joint pledge (never split).",
            ),
            Column::new("joint", Holds::TrueFalse, "A joint pledge."),
            Column::new(
                "pledged_usd",
                Holds::Amount,
                "Pledged, in USD at the rate of each announcement date.",
            ),
            Column::new("committed_usd", Holds::Amount, "Of which committed."),
            Column::new(
                "paid_usd",
                Holds::Amount,
                "Paid (empty where you may not see the payments).",
            ),
            Column::new(
                "share_of_total_percent",
                Holds::Percent,
                "Of the total pledged by everyone.",
            ),
            Column::new(
                "gdp_usd",
                Holds::Amount,
                "GDP of the contributor in the GDP year.",
            ),
            Column::new(
                "percent_of_gdp",
                Holds::Percent,
                "Pledged as a share of GDP.",
            ),
            Column::new(
                "fair_share_usd",
                Holds::Amount,
                "The total pledged, divided among participating contributors by GDP.",
            ),
            Column::new(
                "versus_fair_share_usd",
                Holds::Amount,
                "Pledged less the fair share (negative: below it).",
            ),
            Column::new("pledges", Holds::Text, "The pledges summed in the row."),
        ],
        rows,
    );
    let sources: BTreeSet<&str> = report
        .rows
        .iter()
        .filter_map(|row| row.gdp_source.as_deref())
        .collect();
    Book {
        sheets: vec![rows_sheet],
        about: vec![
            ("report".into(), "Contributions and burden sharing (design §7)".into()),
            ("as of".into(), report.as_of.to_string()),
            ("for".into(), reader.to_owned()),
            ("currency".into(), "USD; each pledge at the rate of its announcement date".into()),
            ("total pledged".into(), format!("{} USD", report.total_pledged.amount_string())),
            (
                "GDP".into(),
                match report.gdp_year {
                    Some(year) => format!(
                        "{year}, current US dollars; base {} USD; sources: {}",
                        report.gdp_base.map_or("0".into(), |b| b.amount_string()),
                        sources.into_iter().collect::<Vec<_>>().join("; ")
                    ),
                    None => "no GDP figures recorded: import them with purl import gdp".into(),
                },
            ),
            (
                "left out".into(),
                format!(
                    "{} USD pledged by pledges you may not see (in the total, not in the rows); {} pledge(s) of undisclosed amount; without a GDP figure (not in the base): {}",
                    report.not_disclosed_to_reader.amount_string(),
                    report.undisclosed_amounts,
                    if report.without_gdp.is_empty() {
                        "none".to_owned()
                    } else {
                        joined(&report.without_gdp)
                    }
                ),
            ),
        ],
        footer: None,
    }
}
