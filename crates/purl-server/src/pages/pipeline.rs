//! The package pipeline as a page (design §7): per package the reader sees in full, the days from
//! its forming to funding, release and delivery, from its status history; the packages it sees
//! only in summary are counted by status, without dates.

use axum::extract::State;
use maud::{html, Markup};
use purl_core::package::{Package, PackageStatus};

use super::chart::{self, Bar};
use super::{failed, layout, paging, signed_in, PageError};
use crate::identity::Caller;
use crate::Ctx;

/// Days from the package's forming to the first time it reached `status`.
fn days_to(package: &Package, status: PackageStatus) -> Option<i64> {
    let formed = package.history.first()?.on;
    package
        .history
        .iter()
        .find(|change| change.status == status)
        .map(|change| (change.on - formed).num_days())
}

/// `GET /reports/pipeline`.
pub async fn page(State(ctx): State<Ctx>, caller: Caller) -> Result<Markup, PageError> {
    let actor = signed_in(&caller)?;
    let listed = ctx
        .app
        .packages(&caller.reader(), paging::ALL)
        .await
        .map_err(|error| failed(&caller, &error))?;
    let summaries = listed.items.len();
    let packages: Vec<Package> = paging::in_full(listed.items);
    let in_summary = summaries - packages.len();
    let stages = [
        ("funded", PackageStatus::Funded),
        ("released", PackageStatus::Released),
        ("delivered", PackageStatus::Delivered),
    ];
    let bars: Vec<Bar> = packages
        .iter()
        .filter_map(|package| {
            let (stage, days) = stages
                .iter()
                .rev()
                .find_map(|(stage, status)| days_to(package, *status).map(|days| (*stage, days)))?;
            Some(Bar {
                label: format!("package {}", package.number),
                size: u128::try_from(days).unwrap_or(0),
                figure: format!("{days} days to {stage}"),
            })
        })
        .collect();
    let cell = |days: Option<i64>| days.map_or_else(|| "—".to_owned(), |days| days.to_string());
    Ok(layout::page(
        "Package pipeline",
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p class="note" { "Days counted from the day each package was formed, from its status history." }
            @if !bars.is_empty() {
                (chart::bars("Days from forming to the latest step", &bars))
            }
            table class="sortable" id="pipeline" {
                thead { tr {
                    th scope="col" class="number" { "package" } th scope="col" { "name" } th scope="col" { "status" }
                    th scope="col" { "formed" }
                    th scope="col" class="number" { "days to funded" }
                    th scope="col" class="number" { "days to released" }
                    th scope="col" class="number" { "days to delivered" }
                } }
                tbody {
                    @for package in &packages {
                        tr {
                            td class="number" { a href={ "/packages/" (package.number) } { (package.number) } }
                            td { (package.name.as_str()) }
                            td { (package.status.as_str()) }
                            td { (package.history.first().map(|change| change.on.to_string()).unwrap_or_default()) }
                            td class="number" { (cell(days_to(package, PackageStatus::Funded))) }
                            td class="number" { (cell(days_to(package, PackageStatus::Released))) }
                            td class="number" { (cell(days_to(package, PackageStatus::Delivered))) }
                        }
                    }
                }
            }
            @if in_summary > 0 {
                p class="note" { (in_summary) " other package(s) you see only in summary (see Packages)." }
            }
            p class="downloads" { "The packages with their status history: "
                a href="/api/v1/packages" { "JSON" } ", " a href="/api/v1/packages?format=csv" { "CSV" } ", "
                a href="/api/v1/packages?format=xlsx" { "XLSX" } "." }
        },
    ))
}
