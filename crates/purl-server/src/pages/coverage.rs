//! The coverage report as a page (design §7, the coordinator's): how much of the approved list's
//! value is funded, by rank band and by category, as charts of shares and as tables, the gap, and
//! the first lines not fully funded with the reason; the same figures to download.

use axum::extract::{Query, State};
use maud::{html, Markup};
use purl_core::report::coverage::{Coverage, CoverageRow};

use super::chart::{self, Bar};
use super::format::{grouped, money};
use super::{layout, signed_in, PageError};
use crate::identity::Caller;
use crate::Ctx;

#[derive(Debug, Default, serde::Deserialize)]
pub struct Options {
    /// `on`: count committed money not yet received.
    committed: Option<String>,
}

/// `GET /reports/coverage`.
pub async fn page(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(options): Query<Options>,
) -> Result<Markup, PageError> {
    let actor = signed_in(&caller)?;
    let committed = options.committed.as_deref() == Some("on");
    let report = crate::routes::reports::coverage_report(&ctx, &caller, committed)
        .await
        .map_err(|problem| match problem.status {
            404 | 403 => PageError::not_found(),
            _ => super::failed(&caller, &problem.detail),
        })?;
    Ok(layout::page(
        "Coverage of the approved list",
        Some(actor),
        caller.csrf.as_deref(),
        content(&report, committed),
    ))
}

/// A share as a bar: per mille of the required value.
fn share_bar(row: &CoverageRow) -> Bar {
    let required = u128::try_from(row.required.minor()).unwrap_or(0);
    let funded = u128::try_from(row.funded.minor()).unwrap_or(0);
    Bar {
        label: row.name.clone(),
        size: (funded * 1000).checked_div(required).unwrap_or(0),
        figure: format!("{} %", row.funded_percent),
    }
}

fn table(id: &str, heading: &str, rows: &[CoverageRow]) -> Markup {
    html! {
        table class="sortable" id=(id) {
            thead { tr {
                th scope="col" { (heading) }
                th scope="col" class="number" { "lines" }
                th scope="col" class="number" { "required" }
                th scope="col" class="number" { "funded" }
                th scope="col" class="number" { "funded %" }
                th scope="col" class="number" { "gap" }
            } }
            tbody {
                @for row in rows {
                    tr {
                        td { (row.name) }
                        td class="number" { (row.lines) }
                        td class="number" { (money(&row.required)) }
                        td class="number" { (money(&row.funded)) }
                        td class="number" { (row.funded_percent) }
                        td class="number" { (money(&row.gap)) }
                    }
                }
            }
        }
    }
}

fn content(report: &Coverage, committed: bool) -> Markup {
    let query = if committed {
        "include_committed=true&"
    } else {
        ""
    };
    let bands: Vec<Bar> = report.by_rank_band.iter().map(share_bar).collect();
    let categories: Vec<Bar> = report.by_category.iter().map(share_bar).collect();
    html! {
        p class="as-of" { "List " (report.period) " version " (report.list_version) ". Funded: units in active packages plus units the allocation funds from "
            (if committed { "the money received and committed" } else { "the money received" }) ", at catalogue prices in " (report.currency) "." }
        form method="get" action="/reports/coverage" class="form" {
            label class="check" { input type="checkbox" name="committed" checked[committed]; " Count committed money not yet received" }
            button type="submit" { "Show" }
        }
        section class="figures" aria-label="The whole list" {
            div class="figure" { span class="label" { "Required" } span class="value" { (money(&report.total.required)) } }
            div class="figure" { span class="label" { "Funded" } span class="value" { (money(&report.total.funded)) } span class="note" { (report.total.funded_percent) " %" } }
            div class="figure" { span class="label" { "Gap" } span class="value" { (money(&report.total.gap)) } }
        }
        section aria-labelledby="bands-heading" {
            h2 id="bands-heading" { "By rank band" }
            (chart::shares("Share funded by rank band", &bands))
            (table("coverage-bands", "rank band", &report.by_rank_band))
        }
        section aria-labelledby="categories-heading" {
            h2 id="categories-heading" { "By category" }
            (chart::shares("Share funded by category", &categories))
            (table("coverage-categories", "category", &report.by_category))
        }
        section aria-labelledby="unfunded-heading" {
            h2 id="unfunded-heading" { "First lines not fully funded" }
            @if report.first_unfunded.is_empty() { p { "Every line is fully funded." } }
            @else {
                table id="unfunded" {
                    thead { tr { th scope="col" class="number" { "rank" } th scope="col" { "line" } th scope="col" { "item" } th scope="col" { "category" } th scope="col" class="number" { "funded of wanted" } th scope="col" { "why" } } }
                    tbody {
                        @for line in &report.first_unfunded {
                            tr {
                                td class="number" { (line.rank) }
                                td { (line.line_id) }
                                td { (line.item) }
                                td { (line.category.as_str()) }
                                td class="number" { (grouped(&line.funded.to_string())) " of " (grouped(&line.wanted.to_string())) }
                                td { (line.reason.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
        p class="downloads" {
            "The same figures: "
            a href={ "/api/v1/reports/coverage?" (query) } { "JSON" } ", "
            a href={ "/api/v1/reports/coverage?" (query) "format=csv" } { "CSV" } ", "
            a href={ "/api/v1/reports/coverage?" (query) "format=xlsx" } { "XLSX" } "."
        }
    }
}
