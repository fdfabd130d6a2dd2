//! The contributions report as a page (design §7): per contributor — joint pledges as joint —
//! what was pledged, committed and paid, its share of the total and of its GDP against a fair
//! share by GDP, as a chart and as a table, with the same figures to download. Pledges the reader
//! may not see are only in one sum.

use axum::extract::State;
use maud::{html, Markup};
use purl_core::report::contributions::Contributions;

use super::chart::{self, Bar};
use super::format::money;
use super::{failed, layout, PageError};
use crate::identity::Caller;
use crate::Ctx;

/// `GET /reports/contributions` (the public sees what the public may).
pub async fn page(State(ctx): State<Ctx>, caller: Caller) -> Result<Markup, PageError> {
    let report = ctx
        .app
        .contributions(&caller.reader(), ctx.app.today())
        .await
        .map_err(|error| failed(&caller, &error))?;
    Ok(layout::page(
        "Contributions",
        caller.actor.as_ref(),
        caller.csrf.as_deref(),
        content(&report),
    ))
}

fn optional(amount: Option<&purl_core::money::Money>) -> String {
    amount.map_or_else(|| "—".to_owned(), money)
}

fn content(report: &Contributions) -> Markup {
    let label = |row: &purl_core::report::contributions::ContributionRow| {
        let codes: Vec<&str> = row.contributors.iter().map(|code| code.as_str()).collect();
        if row.joint {
            format!("{} (joint)", codes.join(", "))
        } else {
            codes.join(", ")
        }
    };
    let mut bars: Vec<Bar> = report
        .rows
        .iter()
        .map(|row| Bar {
            label: label(row),
            size: u128::try_from(row.pledged.minor()).unwrap_or(0),
            figure: money(&row.pledged),
        })
        .collect();
    if report.not_disclosed_to_reader.is_positive() {
        bars.push(Bar {
            label: "others, in one sum".to_owned(),
            size: u128::try_from(report.not_disclosed_to_reader.minor()).unwrap_or(0),
            figure: money(&report.not_disclosed_to_reader),
        });
    }
    html! {
        p class="as-of" { "As of " (report.as_of) ". Amounts in " (report.currency) " at the rate of each pledge's date; "
            "GDP figures of " (report.gdp_year.map_or_else(|| "no year".to_owned(), |year| year.to_string())) "." }
        section class="figures" aria-label="Totals" {
            div class="figure" { span class="label" { "Pledged in all" } span class="value" { (money(&report.total_pledged)) } }
            div class="figure" { span class="label" { "Not shown to you, in one sum" } span class="value" { (money(&report.not_disclosed_to_reader)) } }
            div class="figure" { span class="label" { "GDP of the participating contributors" } span class="value" { (optional(report.gdp_base.as_ref())) } }
        }
        section aria-labelledby="chart-heading" {
            h2 id="chart-heading" { "Pledged by contributor" }
            @if bars.is_empty() { p { "No pledges to show." } } @else { (chart::bars("Pledged by contributor", &bars)) }
        }
        section aria-labelledby="table-heading" {
            h2 id="table-heading" { "The figures" }
            table class="sortable" id="contributions" {
                thead { tr {
                    th scope="col" { "contributor" }
                    th scope="col" class="number" { "pledged" }
                    th scope="col" class="number" { "committed" }
                    th scope="col" class="number" { "paid" }
                    th scope="col" class="number" { "share of total %" }
                    th scope="col" class="number" { "% of GDP" }
                    th scope="col" class="number" { "fair share by GDP" }
                    th scope="col" class="number" { "versus fair share" }
                    th scope="col" { "pledges" }
                } }
                tbody {
                    @for row in &report.rows {
                        tr {
                            td { (label(row)) }
                            td class="number" { (money(&row.pledged)) }
                            td class="number" { (money(&row.committed)) }
                            td class="number" { (optional(row.paid.as_ref())) }
                            td class="number" { (row.share_of_total_percent) }
                            td class="number" { (row.percent_of_gdp.as_deref().unwrap_or("—")) }
                            td class="number" { (optional(row.fair_share.as_ref())) }
                            td class="number" { (optional(row.versus_fair_share.as_ref())) }
                            td { (row.pledges.iter().map(|reference| reference.as_str()).collect::<Vec<_>>().join(", ")) }
                        }
                    }
                }
            }
            @if report.undisclosed_amounts > 0 {
                p class="note" { (report.undisclosed_amounts) " pledge(s) count for participation but their amount is not disclosed or not yet fixed." }
            }
            @if !report.without_gdp.is_empty() {
                p class="note" { "Without a GDP figure (left out of the fair share): "
                    (report.without_gdp.iter().map(|code| code.as_str()).collect::<Vec<_>>().join(", ")) "." }
            }
        }
        p class="downloads" {
            "The same figures: "
            a href="/api/v1/reports/contributions" { "JSON" } ", "
            a href="/api/v1/reports/contributions?format=csv" { "CSV" } ", "
            a href="/api/v1/reports/contributions?format=xlsx" { "XLSX" } "."
        }
    }
}
