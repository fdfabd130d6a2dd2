//! Read commands: what the operator sees, as a table or as JSON.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, Context as _};
use chrono::NaiveDate;
use purl_app::access_log::Reader;
use purl_app::App;
use purl_core::list::{diff as list_diff, ListVersion};
use purl_core::state::State;
use purl_store::Store;
use serde_json::json;

use crate::cli::Format;
use crate::output::{self, money};
use crate::parse;
use crate::run::explain;
use purl_app::access_log::Outcome;

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_owned()
}

/// The state to answer a read from. The operator sees every record (design §4); its reads are
/// recorded in the access log like everyone's.
async fn state<S: Store>(app: &App<S>, what: &str) -> anyhow::Result<State> {
    let reader = purl_app::access_log::Reader::operator();
    app.log_access(&reader, format!("read {what}"), Outcome::Allowed, 0)
        .await
        .map_err(crate::run::explain)?;
    app.load_state().await.map_err(crate::run::explain)
}

pub async fn verify<S: Store>(app: &App<S>, format: Format) -> anyhow::Result<ExitCode> {
    let bar = crate::progress::bar("verify");
    let progress = |done: u64, total: u64| crate::progress::show(&bar, "events", done, total);
    let report = purl_app::verify::verify(app.store(), &progress)
        .await
        .map_err(crate::run::explain)?;
    bar.finish_and_clear();
    if format == Format::Json {
        output::json(&json!({"ok": report.is_ok(), "report": report}))?;
    } else if report.is_ok() {
        say!(
            "ok: {} events ({} bytes) verified: every hash and column, the Merkle tree ({} nodes), {} signed checkpoint(s), and {} read-side records rebuilt from the events",
            report.events, report.event_bytes, report.tree_nodes, report.checkpoints, report.records
        );
    } else {
        say!(
            "FAILED: {} problem(s) in {} events",
            report.problems.len(),
            report.events
        );
        for problem in &report.problems {
            say!("  {problem}");
        }
    }
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub async fn participants<S: Store>(app: &App<S>, format: Format) -> anyhow::Result<()> {
    let state = state(app, "participants").await?;
    let all: Vec<_> = state.participants.values().collect();
    let rows = all
        .iter()
        .map(|p| {
            let membership = match p.membership {
                purl_core::participant::Membership::Ally { joined_on } => {
                    format!("Ally since {joined_on}")
                }
                purl_core::participant::Membership::Partner => "partner".into(),
                purl_core::participant::Membership::Organisation => "organisation".into(),
            };
            vec![
                p.code.to_string(),
                p.name.to_string(),
                p.party.as_str().into(),
                membership,
            ]
        })
        .collect();
    output::read(format, &all, &["code", "name", "party", "membership"], rows)
}

pub async fn participant<S: Store>(app: &App<S>, format: Format, code: &str) -> anyhow::Result<()> {
    let state = state(app, &format!("participant {code}")).await?;
    let code = parse::participant(code)?;
    let participant = state
        .participants
        .get(&code)
        .ok_or_else(|| anyhow!("participant '{code}' does not exist"))?;
    let users: Vec<_> = state
        .users
        .values()
        .filter(|u| u.participant == code)
        .map(|u| u.username.to_string())
        .collect();
    let rows = vec![
        vec!["code".into(), participant.code.to_string()],
        vec!["name".into(), participant.name.to_string()],
        vec!["party".into(), participant.party.as_str().into()],
        vec!["users".into(), users.join(", ")],
        vec!["version".into(), participant.version.to_string()],
    ];
    output::read(format, participant, &["field", "value"], rows)
}

pub async fn users<S: Store>(app: &App<S>, format: Format) -> anyhow::Result<()> {
    let state = state(app, "users").await?;
    let all: Vec<_> = state.users.values().collect();
    let rows = all
        .iter()
        .map(|u| {
            let roles: Vec<_> = u.roles.iter().map(|r| r.as_str()).collect();
            vec![
                u.username.to_string(),
                u.participant.to_string(),
                u.name.to_string(),
                roles.join(","),
                yes_no(u.active),
            ]
        })
        .collect();
    output::read(
        format,
        &all,
        &["username", "participant", "name", "roles", "active"],
        rows,
    )
}

pub async fn catalogue<S: Store>(app: &App<S>, format: Format) -> anyhow::Result<()> {
    let state = state(app, "catalogue").await?;
    let all: Vec<_> = state.items.values().collect();
    let rows = all
        .iter()
        .map(|i| {
            vec![
                i.code.to_string(),
                i.name.to_string(),
                i.category.to_string(),
                yes_no(i.lethal),
                money(i.unit_price),
                i.lead_time_days.to_string(),
            ]
        })
        .collect();
    output::read(
        format,
        &all,
        &[
            "code",
            "name",
            "category",
            "lethal",
            "unit price",
            "lead time (days)",
        ],
        rows,
    )
}

pub async fn lists<S: Store>(app: &App<S>, format: Format) -> anyhow::Result<()> {
    let state = state(app, "lists").await?;
    let mut rows = Vec::new();
    let mut value = Vec::new();
    for list in state.lists.values() {
        for version in &list.versions {
            let approvals: Vec<_> = version.approvals.iter().map(|p| p.as_str()).collect();
            rows.push(vec![
                list.period.to_string(),
                version.number.to_string(),
                version.status.as_str().into(),
                version.lines.len().to_string(),
                approvals.join(", "),
            ]);
            value.push(json!({"period": list.period, "version": version.number, "status": version.status, "lines": version.lines.len(), "approvals": version.approvals}));
        }
    }
    output::read(
        format,
        &value,
        &["period", "version", "status", "lines", "approved by"],
        rows,
    )
}

fn version_value(state: &State, period: &str, version: &ListVersion) -> serde_json::Value {
    let lines: Vec<_> = version
        .lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let item = state.items.get(&line.item);
            json!({
                "rank": index + 1, "id": line.id, "item": line.item, "item_name": item.map(|i| i.name.to_string()),
                "category": item.map(|i| i.category.to_string()), "lethal": item.map(|i| i.lethal),
                "quantity": line.quantity, "unit_price": item.map(|i| i.unit_price),
                "needed_by": line.needed_by, "justification": line.justification,
            })
        })
        .collect();
    json!({"period": period, "version": version.number, "status": version.status, "based_on": version.based_on, "approvals": version.approvals, "lines": lines})
}

pub async fn list<S: Store>(
    app: &App<S>,
    format: Format,
    period: &str,
    number: Option<u32>,
) -> anyhow::Result<()> {
    let state = state(app, &format!("list {period}")).await?;
    let period = parse::period(period)?;
    let list = state
        .lists
        .get(&period)
        .ok_or_else(|| anyhow!("list '{period}' does not exist"))?;
    let version = match number {
        Some(n) => list
            .get_version(n)
            .ok_or_else(|| anyhow!("list '{period}' has no version {n}"))?,
        None => list.latest(),
    };
    let value = version_value(&state, &period.to_string(), version);
    if format == Format::Table {
        let approvals: Vec<_> = version.approvals.iter().map(|p| p.as_str()).collect();
        say!(
            "list {period} version {} ({}), approved by: {}; record version {}",
            version.number,
            version.status.as_str(),
            if approvals.is_empty() {
                "nobody yet".into()
            } else {
                approvals.join(", ")
            },
            list.version
        );
    }
    let rows = version
        .lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            let item = state.items.get(&line.item);
            vec![
                (index + 1).to_string(),
                line.id.clone(),
                line.item.to_string(),
                item.map(|i| i.category.to_string()).unwrap_or_default(),
                line.quantity.to_string(),
                item.map(|i| money(i.unit_price)).unwrap_or_default(),
                line.needed_by.to_string(),
                line.justification.as_str().to_owned(),
            ]
        })
        .collect();
    output::read(
        format,
        &value,
        &[
            "rank",
            "line",
            "item",
            "category",
            "quantity",
            "unit price",
            "needed by",
            "justification",
        ],
        rows,
    )
}

pub async fn diff<S: Store>(
    app: &App<S>,
    format: Format,
    period: &str,
    from: u32,
    to: u32,
) -> anyhow::Result<()> {
    let state = state(app, &format!("list {period} diff")).await?;
    let period = parse::period(period)?;
    let list = state
        .lists
        .get(&period)
        .ok_or_else(|| anyhow!("list '{period}' does not exist"))?;
    let version = |n: u32| {
        list.get_version(n)
            .ok_or_else(|| anyhow!("list '{period}' has no version {n}"))
    };
    let changes = list_diff(version(from)?, version(to)?);
    let rows = changes
        .iter()
        .map(|change| match change {
            purl_core::list::LineChange::Added {
                line_id,
                item,
                rank,
                quantity,
            } => vec![
                "added".into(),
                line_id.clone(),
                item.to_string(),
                format!("rank {rank}, quantity {quantity}"),
            ],
            purl_core::list::LineChange::Removed {
                line_id,
                item,
                rank,
                quantity,
            } => vec![
                "removed".into(),
                line_id.clone(),
                item.to_string(),
                format!("was rank {rank}, quantity {quantity}"),
            ],
            purl_core::list::LineChange::Changed {
                line_id,
                item,
                fields,
            } => {
                let text: Vec<_> = fields
                    .iter()
                    .map(|f| format!("{} {} -> {}", f.field, f.from, f.to))
                    .collect();
                vec![
                    "changed".into(),
                    line_id.clone(),
                    item.to_string(),
                    text.join("; "),
                ]
            }
        })
        .collect();
    output::read(
        format,
        &changes,
        &["change", "line", "item", "detail"],
        rows,
    )
}

fn pledge_row(p: &purl_core::pledge::Pledge) -> Vec<String> {
    let contributors: Vec<_> = p.contributors.iter().map(ToString::to_string).collect();
    vec![
        p.reference.to_string(),
        contributors.join(";"),
        p.amount.map_or_else(|| "undisclosed".into(), money),
        p.paid.map(money).unwrap_or_default(),
        p.display_status().into(),
        p.announced_on.to_string(),
        p.part_of
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        yes_no(p.public),
    ]
}

const PLEDGE_HEADERS: [&str; 8] = [
    "reference",
    "contributors",
    "amount",
    "paid",
    "status",
    "announced",
    "part of",
    "public",
];

pub async fn pledges<S: Store>(app: &App<S>, format: Format) -> anyhow::Result<()> {
    let state = state(app, "pledges").await?;
    let all: Vec<_> = state.pledges.values().collect();
    output::read(
        format,
        &all,
        &PLEDGE_HEADERS,
        all.iter().map(|p| pledge_row(p)).collect(),
    )
}

pub async fn pledge<S: Store>(app: &App<S>, format: Format, reference: &str) -> anyhow::Result<()> {
    let state = state(app, &format!("pledge {reference}")).await?;
    let reference = parse::reference(reference)?;
    let pledge = state
        .pledges
        .get(&reference)
        .ok_or_else(|| anyhow!("pledge '{reference}' does not exist"))?;
    let payments: Vec<_> = state
        .payments
        .values()
        .filter(|p| p.pledge == reference)
        .collect();
    if format == Format::Json {
        return output::json(&json!({"pledge": pledge, "payments": payments}));
    }
    output::table(&PLEDGE_HEADERS, vec![pledge_row(pledge)]);
    let categories = pledge.earmark.categories.as_ref().map_or_else(
        || "all".into(),
        |c| {
            c.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    say!(
        "earmark: categories {categories}; lethal allowed: {}; package: {}",
        yes_no(pledge.earmark.lethal_allowed),
        pledge
            .earmark
            .package
            .map_or_else(|| "any".into(), |p| p.to_string())
    );
    say!(
        "conditions: {}",
        if pledge.conditions.is_empty() {
            "none"
        } else {
            pledge.conditions.as_str()
        }
    );
    say!("record version: {}", pledge.version);
    payment_table(&payments);
    Ok(())
}

fn payment_table(payments: &[&purl_core::pledge::Payment]) {
    let rows = payments
        .iter()
        .map(|p| {
            vec![
                p.id.clone(),
                p.pledge.to_string(),
                money(p.amount),
                p.received_on.to_string(),
                money(p.conversion.usd),
                format!(
                    "{} ({}, {})",
                    p.conversion.usd_per_unit.to_decimal_string(6),
                    p.conversion.rate_date,
                    p.conversion.rate_source
                ),
            ]
        })
        .collect();
    output::table(
        &[
            "payment",
            "pledge",
            "amount",
            "received",
            "USD",
            "USD per unit (rate date, source)",
        ],
        rows,
    );
}

pub async fn payments<S: Store>(
    app: &App<S>,
    format: Format,
    pledge: Option<&str>,
) -> anyhow::Result<()> {
    let state = state(app, "payments").await?;
    let filter = pledge.map(parse::reference).transpose()?;
    let all: Vec<_> = state
        .payments
        .values()
        .filter(|p| filter.as_ref().is_none_or(|r| &p.pledge == r))
        .collect();
    if format == Format::Json {
        return output::json(&all);
    }
    payment_table(&all);
    Ok(())
}

pub async fn rates<S: Store>(
    app: &App<S>,
    format: Format,
    currency: Option<&str>,
) -> anyhow::Result<()> {
    let state = state(app, "rates").await?;
    let filter = currency.map(parse::currency).transpose()?;
    let all: Vec<_> = state
        .fx
        .iter()
        .filter(|r| filter.is_none_or(|c| r.currency == c))
        .collect();
    let rows = all
        .iter()
        .map(|r| {
            vec![
                r.date.to_string(),
                r.currency.to_string(),
                r.usd_per_unit.to_decimal_string(8),
                r.usd_per_unit.to_string(),
                r.source.clone(),
            ]
        })
        .collect();
    output::read(
        format,
        &all,
        &["date", "currency", "USD per unit", "exact ratio", "source"],
        rows,
    )
}

pub async fn convert<S: Store>(
    app: &App<S>,
    format: Format,
    amount: &str,
    currency: &str,
    date: &str,
) -> anyhow::Result<()> {
    let state = state(app, "convert").await?;
    let amount = parse::money(amount, currency)?;
    let date = parse::date("--date", date)?;
    let conversion = state
        .fx
        .to_usd(amount, date)
        .with_context(|| format!("while converting {amount}"))?;
    let rows = vec![vec![
        money(amount),
        money(conversion.usd),
        conversion.usd_per_unit.to_decimal_string(8),
        conversion.rate_date.to_string(),
        conversion.rate_source.clone(),
    ]];
    output::read(
        format,
        &conversion,
        &["amount", "USD", "USD per unit", "rate date", "source"],
        rows,
    )
}

pub async fn packages<S: Store>(app: &App<S>, format: Format) -> anyhow::Result<()> {
    let state = state(app, "packages").await?;
    let all: Vec<_> = state.packages.values().collect();
    let rows = all
        .iter()
        .map(|p| {
            let funded = purl_core::money::Money::from_minor(
                p.funded_usd_minor(),
                purl_core::money::Currency::USD,
            )
            .map(money)
            .unwrap_or_default();
            vec![
                p.number.to_string(),
                p.name.to_string(),
                p.status.as_str().into(),
                p.lines.len().to_string(),
                money(p.value),
                funded,
            ]
        })
        .collect();
    output::read(
        format,
        &all,
        &[
            "package",
            "name",
            "status",
            "lines",
            "value",
            "allocated (USD)",
        ],
        rows,
    )
}

pub async fn package<S: Store>(app: &App<S>, format: Format, number: u32) -> anyhow::Result<()> {
    let state = state(app, &format!("package {number}")).await?;
    let package = state
        .packages
        .get(&number)
        .ok_or_else(|| anyhow!("package '{number}' does not exist"))?;
    let deliveries: Vec<_> = state
        .deliveries
        .values()
        .filter(|d| d.package == number)
        .collect();
    if format == Format::Json {
        return output::json(&json!({"package": package, "deliveries": deliveries}));
    }
    say!(
        "package {} '{}': {} (record version {})",
        package.number,
        package.name,
        package.status.as_str(),
        package.version
    );
    let lines = package
        .lines
        .iter()
        .map(|l| {
            vec![
                format!("{} v{}", l.period, l.list_version),
                l.line_id.clone(),
                l.item.to_string(),
                l.quantity.to_string(),
                money(l.unit_price),
                money(l.value),
            ]
        })
        .collect();
    output::table(
        &["list", "line", "item", "quantity", "unit price", "value"],
        lines,
    );
    let contributions = package
        .contributions
        .iter()
        .map(|c| {
            vec![
                c.pledge.to_string(),
                money(c.amount),
                money(c.conversion.usd),
                format!(
                    "{} on {}",
                    c.conversion.usd_per_unit.to_decimal_string(6),
                    c.conversion.rate_date
                ),
            ]
        })
        .collect();
    output::table(&["pledge", "amount", "USD", "rate"], contributions);
    let history: Vec<_> = package
        .history
        .iter()
        .map(|h| format!("{} {}", h.on, h.status.as_str()))
        .collect();
    say!("history: {}", history.join(" → "));
    delivery_table(&deliveries);
    Ok(())
}

fn delivery_table(deliveries: &[&purl_core::package::Delivery]) {
    let rows = deliveries
        .iter()
        .map(|d| {
            vec![
                d.id.clone(),
                d.package.to_string(),
                d.line_id.clone(),
                d.quantity.to_string(),
                d.shipped_on.to_string(),
                d.received_on.map(|r| r.to_string()).unwrap_or_default(),
                d.received_quantity
                    .map(|q| q.to_string())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    output::table(
        &[
            "delivery",
            "package",
            "line",
            "shipped",
            "shipped on",
            "received on",
            "received",
        ],
        rows,
    );
}

pub async fn deliveries<S: Store>(
    app: &App<S>,
    format: Format,
    package: Option<u32>,
) -> anyhow::Result<()> {
    let state = state(app, "deliveries").await?;
    let all: Vec<_> = state
        .deliveries
        .values()
        .filter(|d| package.is_none_or(|p| d.package == p))
        .collect();
    if format == Format::Json {
        return output::json(&all);
    }
    delivery_table(&all);
    Ok(())
}

fn as_of_or_today<S: Store>(app: &App<S>, as_of: Option<&str>) -> anyhow::Result<NaiveDate> {
    match as_of {
        Some(date) => parse::date("--as-of", date),
        None => Ok(app.today()),
    }
}

/// Writes a report's workbook when `--output` asks for it.
fn write_report(
    book: Option<purl_app::workbook::Book>,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    if let (Some(book), Some(output)) = (book, output) {
        crate::export::write_book(&book, output)?;
        say!("ok: report written to {}", output.display());
    }
    Ok(())
}

pub async fn contributions<S: Store>(
    app: &App<S>,
    format: Format,
    as_of: Option<&str>,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let as_of = as_of_or_today(app, as_of)?;
    let report = app
        .contributions(&Reader::operator(), as_of)
        .await
        .map_err(explain)?;
    let book = output.map(|_| purl_app::report_book::contributions_book(&report, "operator"));
    if format == Format::Json {
        output::json(&report)?;
        return write_report(book, output);
    }
    say!(
        "PURL contributions as of {as_of}: {} pledged (USD at each pledge's announcement-date rate); GDP of {}",
        money(report.total_pledged),
        report.gdp_year.map_or("no year (none recorded)".to_owned(), |y| y.to_string())
    );
    let dash = || "—".to_owned();
    let rows = report
        .rows
        .iter()
        .map(|row| {
            vec![
                row.contributors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("+"),
                money(row.pledged),
                format!("{}%", row.share_of_total_percent),
                row.percent_of_gdp
                    .as_ref()
                    .map_or_else(dash, |p| format!("{p}%")),
                row.fair_share.map_or_else(dash, money),
                row.versus_fair_share.map_or_else(dash, money),
            ]
        })
        .collect();
    output::table(
        &[
            "contributors",
            "pledged",
            "of total",
            "of GDP",
            "fair share by GDP",
            "versus fair share",
        ],
        rows,
    );
    if !report.without_gdp.is_empty() {
        say!(
            "without a GDP figure (not in the fair-share base): {}",
            report
                .without_gdp
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    write_report(book, output)
}

pub async fn overview<S: Store>(
    app: &App<S>,
    format: Format,
    as_of: Option<&str>,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let as_of = as_of_or_today(app, as_of)?;
    let overview = app
        .overview_report(&Reader::operator(), as_of)
        .await
        .map_err(explain)?;
    let book = output.map(|_| purl_app::report_book::overview_book(&overview, "operator"));
    if format == Format::Json {
        output::json(&overview)?;
        return write_report(book, output);
    }
    let allies = &overview.allies;
    let usd = |m: purl_core::money::Money| money(m);
    let rows = vec![
        vec!["pledged".into(), usd(overview.pledged)],
        vec!["committed".into(), usd(overview.committed)],
        vec!["paid".into(), usd(overview.paid)],
        vec![
            "pledges of undisclosed amount (not in the totals)".into(),
            overview.undisclosed_pledges.to_string(),
        ],
        vec!["contributors".into(), overview.contributors.to_string()],
        vec![
            "Allies participating".into(),
            format!(
                "{} of {} eligible ({:.1}%; {} Allies in all)",
                allies.participating,
                allies.eligible,
                allies.fraction * 100.0,
                allies.total
            ),
        ],
        vec![
            "partners participating".into(),
            format!(
                "{} ({})",
                overview.partners.participating,
                overview
                    .partners
                    .codes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ],
        vec![
            "packages".into(),
            format!(
                "{} worth {}",
                overview.packages.count,
                usd(overview.packages.value)
            ),
        ],
        vec![
            "value delivered".into(),
            usd(overview.packages.delivered_value),
        ],
    ];
    say!("PURL overview as of {as_of} (USD at each pledge's announcement-date rate)");
    output::table(&["figure", "value"], rows);
    let status: Vec<_> = overview
        .packages
        .by_status
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    say!("packages by status: {}", status.join(", "));
    write_report(book, output)
}
