//! The timeline and the runway as a page (design §7), for everyone: the cumulative pledged,
//! committed and paid totals month by month, and the month in which a monthly need passes the
//! money committed — each a chart and a table, with the same figures to download.

use axum::extract::{Query, State};
use maud::{html, Markup};

use super::chart::{self, Series};
use super::format::{grouped, money, urlencode};
use super::{layout, PageError};
use crate::identity::Caller;
use crate::routes::reports::{timeline_report, TimelineReport, MONTHLY_NEED_DEFAULT};
use crate::Ctx;

#[derive(Debug, Default, serde::Deserialize)]
pub struct Options {
    monthly_need: Option<String>,
}

/// `GET /reports/timeline`.
pub async fn page(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(options): Query<Options>,
) -> Result<Markup, PageError> {
    let need = options
        .monthly_need
        .as_deref()
        .map(str::trim)
        .filter(|need| !need.is_empty())
        .unwrap_or(MONTHLY_NEED_DEFAULT)
        .replace(',', "");
    let (report, problem) = match timeline_report(&ctx, &caller, None, Some(&need)).await {
        Ok(report) => (report, None),
        Err(problem) if problem.status == 422 => (
            timeline_report(&ctx, &caller, None, None)
                .await
                .map_err(|problem| super::failed(&caller, &problem.detail))?,
            Some(problem.detail),
        ),
        Err(problem) => return Err(super::failed(&caller, &problem.detail)),
    };
    Ok(layout::page(
        "Timeline and runway",
        caller.actor.as_ref(),
        caller.csrf.as_deref(),
        content(&report, &need, problem.as_deref()),
    ))
}

/// Whole dollars, for the axis: `USD 1,234,567`.
fn dollars(minor: u128) -> String {
    format!("USD {}", grouped(&(minor / 100).to_string()))
}

fn minor(money: &purl_core::money::Money) -> u128 {
    u128::try_from(money.minor()).unwrap_or(0)
}

fn content(report: &TimelineReport, need: &str, problem: Option<&str>) -> Markup {
    let points = &report.timeline.points;
    let labels: Vec<String> = points.iter().map(|point| point.month.clone()).collect();
    let totals = [
        Series {
            name: "pledged".into(),
            values: points.iter().map(|point| minor(&point.pledged)).collect(),
        },
        Series {
            name: "committed".into(),
            values: points.iter().map(|point| minor(&point.committed)).collect(),
        },
        Series {
            name: "paid".into(),
            values: points.iter().map(|point| minor(&point.paid)).collect(),
        },
    ];
    let runway = &report.runway;
    let runway_labels: Vec<String> = runway
        .months
        .iter()
        .map(|month| month.month.clone())
        .collect();
    let runway_series = [
        Series {
            name: "committed".into(),
            values: runway
                .months
                .iter()
                .map(|month| minor(&month.committed))
                .collect(),
        },
        Series {
            name: "cumulative need".into(),
            values: runway
                .months
                .iter()
                .map(|month| minor(&month.cumulative_need))
                .collect(),
        },
    ];
    let query = format!("monthly_need={}", urlencode(need));
    html! {
        p class="as-of" { "As of " (report.timeline.as_of) ". Totals in " (report.timeline.currency)
            " at the end of each month, each exactly the public overview of that day." }
        section aria-labelledby="timeline-heading" {
            h2 id="timeline-heading" { "Cumulative pledged, committed and paid" }
            @if points.is_empty() { p { "No pledges yet." } }
            @else {
                (chart::lines("Cumulative pledged, committed and paid", &labels, &totals, &dollars))
                table class="sortable" id="timeline" {
                    thead { tr { th scope="col" { "month" } th scope="col" { "to" } th scope="col" class="number" { "pledged" } th scope="col" class="number" { "committed" } th scope="col" class="number" { "paid" } } }
                    tbody {
                        @for point in points {
                            tr {
                                td { (point.month) }
                                td { (point.on) }
                                td class="number" { (money(&point.pledged)) }
                                td class="number" { (money(&point.committed)) }
                                td class="number" { (money(&point.paid)) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="runway-heading" {
            h2 id="runway-heading" { "Runway" }
            form method="get" action="/reports/timeline" class="form" {
                label for="monthly_need" { "Monthly need (USD)" }
                input id="monthly_need" name="monthly_need" type="text" inputmode="decimal" value=(need)
                    aria-describedby=[problem.map(|_| "monthly_need-problem")];
                @if let Some(problem) = problem {
                    p class="problem" role="alert" id="monthly_need-problem" { (problem) }
                }
                button type="submit" { "Show runway" }
            }
            p class="figure-sentence" id="runs-out" {
                @match &runway.runs_out {
                    Some(month) => { "At " (money(&runway.monthly_need)) " a month, funding runs out in " strong { (month) } "." }
                    None => { "At " (money(&runway.monthly_need)) " a month, the committed money lasts beyond the months shown." }
                }
                " The need counts from the month of the first pledge; after this month no new money is assumed."
            }
            @if !runway.months.is_empty() {
                (chart::lines("Committed money against the cumulative need", &runway_labels, &runway_series, &dollars))
                table id="runway" {
                    thead { tr { th scope="col" { "month" } th scope="col" class="number" { "committed" } th scope="col" class="number" { "cumulative need" } th scope="col" { "" } } }
                    tbody {
                        @for month in &runway.months {
                            tr class=[(runway.runs_out.as_deref() == Some(month.month.as_str())).then_some("short")] {
                                td { (month.month) }
                                td class="number" { (money(&month.committed)) }
                                td class="number" { (money(&month.cumulative_need)) }
                                td { (if month.projected { "projected" } else { "" }) }
                            }
                        }
                    }
                }
            }
        }
        p class="downloads" {
            "The same figures: "
            a href={ "/api/v1/reports/timeline?" (query) } { "JSON" } ", "
            a href={ "/api/v1/reports/timeline?" (query) "&format=csv" } { "CSV" } ", "
            a href={ "/api/v1/reports/timeline?" (query) "&format=xlsx" } { "XLSX" } "."
        }
    }
}
