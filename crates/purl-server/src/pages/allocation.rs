//! The allocation as a page (the coordinator's): a preview of how the money at hand funds the
//! approved list in priority order — every line's funded quantity, the money paying for it and,
//! when it is not fully funded, why — then the commit that records exactly that in the ledger.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use purl_app::allocation_live::PreviewOptions;
use purl_core::policy::{allows, Action};
use serde::Deserialize;
use serde_json::Value;

use super::form::{self, Sent, Submission};
use super::format::grouped;
use super::{layout, signed_in, unreadable, PageError};
use crate::identity::Caller;
use crate::Ctx;

#[derive(Debug, Default, Deserialize)]
pub struct Options {
    /// `on`: count committed money not yet received.
    committed: Option<String>,
}

impl Options {
    fn preview(&self) -> PreviewOptions {
        PreviewOptions {
            include_committed: self.committed.as_deref() == Some("on"),
        }
    }
}

/// `GET /allocation`: the preview.
pub async fn preview(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(options): Query<Options>,
) -> Result<Markup, PageError> {
    page(&ctx, &caller, &options, None).await
}

fn usd(amount: &str) -> String {
    format!("USD {}", grouped(amount))
}

async fn page(
    ctx: &Ctx,
    caller: &Caller,
    options: &Options,
    sent: Option<&Sent>,
) -> Result<Markup, PageError> {
    let actor = signed_in(caller)?;
    if !allows(actor, &Action::ManagePackages) {
        return Err(PageError::not_found());
    }
    let csrf = caller.csrf.as_deref().unwrap_or_default();
    let preview = ctx
        .app
        .preview_allocation(actor, None, options.preview())
        .await
        .map_err(|error| unreadable(caller, error))?
        .to_json(None);
    let lines = preview["lines"].as_array().cloned().unwrap_or_default();
    let funds = preview["funds"].as_array().cloned().unwrap_or_default();
    let wanted: u64 = lines
        .iter()
        .filter_map(|line| line["wanted_quantity"].as_u64())
        .sum();
    let funded: u64 = lines
        .iter()
        .filter_map(|line| line["funded_quantity"].as_u64())
        .sum();
    let short = lines
        .iter()
        .filter(|line| line["reason"].is_string())
        .count();
    let committed = options.preview().include_committed;
    Ok(layout::page(
        "Allocation preview",
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p class="note" { "List " (preview["period"].as_str().unwrap_or("")) " version " (preview["list_version"]) ", funded in priority order with "
                (if committed { "the money received and committed" } else { "the money received" }) ". Nothing is written until you commit." }
            form method="get" action="/allocation" class="form" {
                label class="check" { input type="checkbox" name="committed" checked[committed]; " Count committed money not yet received" }
                button type="submit" { "Preview again" }
            }
            section class="figures" aria-label="Outcome" {
                div class="figure" { span class="label" { "Units funded" } span class="value" { (grouped(&funded.to_string())) " of " (grouped(&wanted.to_string())) } }
                div class="figure" { span class="label" { "Lines not fully funded" } span class="value" { (short) " of " (lines.len()) } }
            }
            (form::inline_problem(sent))
            table id="allocation" {
                thead { tr {
                    th scope="col" class="number" { "rank" } th scope="col" { "line" } th scope="col" { "item" }
                    th scope="col" class="number" { "wanted" } th scope="col" class="number" { "funded" }
                    th scope="col" { "paid by" } th scope="col" { "why not fully funded" }
                } }
                tbody {
                    @for line in &lines {
                        tr class=[line["reason"].is_string().then_some("short")] {
                            td class="number" { (line["rank"]) }
                            td { (line["id"].as_str().unwrap_or("")) }
                            td { (line["item"].as_str().unwrap_or("")) }
                            td class="number" { (grouped(&line["wanted_quantity"].to_string())) }
                            td class="number" { (grouped(&line["funded_quantity"].to_string())) }
                            td { @for source in line["sources"].as_array().into_iter().flatten() {
                                (source["fund"].as_str().unwrap_or("")) ": " (usd(source["amount"].as_str().unwrap_or(""))) br;
                            } }
                            td { (line["reason"].as_str().unwrap_or("")) }
                        }
                    }
                }
            }
            h2 { "Money at hand" }
            table id="funds" {
                thead { tr { th scope="col" { "fund" } th scope="col" { "contributor" } th scope="col" class="number" { "available" } th scope="col" class="number" { "left after" } } }
                tbody {
                    @for fund in &funds {
                        tr {
                            td { (fund["id"].as_str().unwrap_or("")) }
                            td { (fund["contributor"].as_str().map(str::to_owned).unwrap_or_else(|| fund["contributor"].to_string())) }
                            td class="number" { (usd(fund["available"].as_str().unwrap_or(""))) }
                            td class="number" { (usd(fund["remaining"].as_str().unwrap_or(""))) }
                        }
                    }
                }
            }
            @if let Some(notes) = preview["notes"].as_array().filter(|notes| !notes.is_empty()) {
                h2 { "Notes" }
                ul { @for note in notes { li { (note.as_str().unwrap_or("")) } } }
            }
            form method="post" action="/allocation" class="form" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="form" value="commit";
                input type="hidden" name="inline" value="yes";
                @if committed { input type="hidden" name="committed" value="on"; }
                button type="submit" { "Commit this allocation" }
            }
        },
    ))
}

/// `POST /allocation`: commits the allocation, then shows the committed record.
pub async fn commit(
    State(ctx): State<Ctx>,
    caller: Caller,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let actor = signed_in(&caller)?;
    let sent = Submission::new(pairs);
    if !form::from_session(&caller, &sent) {
        return Err(super::not_from_session());
    }
    let options = Options {
        committed: sent.get("committed").map(str::to_owned),
    };
    match ctx
        .app
        .commit_allocation(actor, None, options.preview())
        .await
    {
        Ok(_) => {
            ctx.checkpoint_if_due().await;
            Ok(Redirect::to("/allocations").into_response())
        }
        Err(error) => {
            let problem = caller.problem(error);
            form::refuse(&caller, sent, problem, async |sent| {
                page(&ctx, &caller, &options, Some(&sent)).await
            })
            .await
        }
    }
}

/// `GET /allocations`: the committed allocations.
pub async fn committed(State(ctx): State<Ctx>, caller: Caller) -> Result<Markup, PageError> {
    let actor = signed_in(&caller)?;
    let listed = ctx
        .app
        .allocations(&caller.reader(), purl_app::read::Page::default())
        .await
        .map_err(|error| unreadable(&caller, error))?;
    Ok(layout::page(
        "Committed allocations",
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p class="note" { (listed.total) " allocation(s) recorded in the ledger." }
            table id="allocations" {
                thead { tr { th scope="col" class="number" { "number" } th scope="col" { "list" } th scope="col" class="number" { "lines" } } }
                tbody {
                    @for allocation in &listed.items {
                        tr {
                            td class="number" { (allocation.get("number").map(Value::to_string).unwrap_or_default()) }
                            td { (allocation.get("period").and_then(Value::as_str).unwrap_or("")) " v" (allocation.get("list_version").map(Value::to_string).unwrap_or_default()) }
                            td class="number" { (allocation.get("lines").and_then(Value::as_array).map_or(0, Vec::len)) }
                        }
                    }
                }
            }
            p { a href="/allocation" { "Preview the allocation again" } }
        },
    ))
}
