//! The overview (design §7) as a page: the headline figures, a chart of the money, the packages
//! by status and every pledge counted with the rate behind it — exactly what the reader may see.

use maud::{html, Markup};
use purl_core::report::Overview;

use super::chart::{self, Bar};
use super::format::{conversion, grouped, money, share_in_words};

/// Size of a bar: the minor units (never negative).
fn size(money: &purl_core::money::Money) -> u128 {
    u128::try_from(money.minor()).unwrap_or(0)
}

/// The downloads of the same figures (`query` selects the reader's report or the public one).
fn downloads(json: &str, files: &str) -> Markup {
    html! {
        p class="downloads" {
            "The same figures: "
            a href=(json) { "JSON" } ", "
            a href={ (files) "format=csv" } { "CSV" } ", "
            a href={ (files) "format=xlsx" } { "XLSX" } "."
        }
    }
}

pub fn overview(overview: &Overview, json: &str, files: &str) -> Markup {
    let allies = &overview.allies;
    let bars = [
        ("pledged", &overview.pledged),
        ("committed", &overview.committed),
        ("paid", &overview.paid),
    ]
    .map(|(label, amount)| Bar {
        label: label.to_owned(),
        size: size(amount),
        figure: money(amount),
    });
    html! {
        p class="as-of" { "As of " (overview.as_of) ". Amounts in " (overview.currency) " at the rate of each pledge's date." }
        section class="figures" aria-label="Headline figures" {
            div class="figure" { span class="label" { "Pledged" } span class="value" { (money(&overview.pledged)) } }
            div class="figure" { span class="label" { "Committed" } span class="value" { (money(&overview.committed)) } }
            div class="figure" { span class="label" { "Paid" } span class="value" { (money(&overview.paid)) } }
            div class="figure" {
                span class="label" { "Allies participating" }
                span class="value" { (allies.participating) " of " (allies.eligible) }
                span class="note" { (share_in_words(allies.participating, allies.eligible)) }
            }
            div class="figure" {
                span class="label" { "Partners participating" }
                span class="value" { (overview.partners.participating) }
            }
            div class="figure" {
                span class="label" { "Packages" }
                span class="value" { (overview.packages.count) }
                span class="note" { (money(&overview.packages.value)) ", delivered " (money(&overview.packages.delivered_value)) }
            }
        }
        @if overview.undisclosed_pledges > 0 {
            p class="note" { (overview.undisclosed_pledges) " pledge(s) count for participation but their amount is not disclosed or not yet fixed." }
        }
        section aria-labelledby="money-heading" {
            h2 id="money-heading" { "Money" }
            (chart::bars("Pledged, committed and paid", &bars))
        }
        section aria-labelledby="packages-heading" {
            h2 id="packages-heading" { "Packages by status" }
            @if overview.packages.by_status.is_empty() {
                p { "No packages yet." }
            } @else {
                table {
                    thead { tr { th scope="col" { "status" } th scope="col" class="number" { "packages" } } }
                    tbody {
                        @for (status, count) in &overview.packages.by_status {
                            tr { td { (status) } td class="number" { (count) } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="pledges-heading" {
            h2 id="pledges-heading" { "Pledges counted" }
            @if overview.pledges.is_empty() {
                p { "No pledges to show." }
            } @else {
                table {
                    thead {
                        tr {
                            th scope="col" { "reference" }
                            th scope="col" { "status" }
                            th scope="col" class="number" { "amount" }
                            th scope="col" class="number" { "in " (overview.currency) }
                            th scope="col" { "rate (date, source)" }
                            th scope="col" class="number" { "paid" }
                        }
                    }
                    tbody {
                        @for pledge in &overview.pledges {
                            tr {
                                td { (pledge.reference.as_str()) }
                                td { (pledge.status) }
                                td class="number" { (money(&pledge.amount)) }
                                td class="number" { (grouped(&pledge.conversion.usd.amount_string())) }
                                td { (conversion(&pledge.conversion)) }
                                td class="number" {
                                    @match &pledge.paid { Some(paid) => (money(paid)), None => "—" }
                                }
                            }
                        }
                    }
                }
            }
        }
        (downloads(json, files))
    }
}
