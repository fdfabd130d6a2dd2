//! The ledger as a page, for auditors above all: the key that verifies checkpoints, the signed
//! checkpoints (each note downloadable for `purl audit`), and the evidence bundle of the reader's
//! own records — nothing here opens another party's records.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use purl_core::user::Actor;
use purl_store::Store as _;

use super::{failed, layout, PageError};
use crate::identity::Caller;
use crate::Ctx;

/// Checkpoints listed, newest first.
const CHECKPOINTS_SHOWN: usize = 100;

fn moment(at_us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(at_us).map_or_else(
        || "—".to_owned(),
        |at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
    )
}

pub async fn page(State(ctx): State<Ctx>, caller: Caller) -> Result<Response, PageError> {
    let Some(actor) = caller.actor.as_ref() else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let key = ctx
        .app
        .verifier_key()
        .await
        .map_err(|error| failed(&caller, &error))?;
    let mut checkpoints = ctx
        .app
        .store()
        .checkpoints()
        .await
        .map_err(|error| failed(&caller, &error))?;
    let total = checkpoints.len();
    checkpoints.reverse();
    checkpoints.truncate(CHECKPOINTS_SHOWN);
    let own = match actor {
        Actor::User { participant, .. } => Some(participant.to_string()),
        Actor::Operator => None,
    };
    Ok(layout::page(
        "Ledger and evidence",
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p {
                "Every change is an event in an append-only ledger. Signed checkpoints fix its size and "
                "root hash; with the key below, " code { "purl audit" } " checks them, the evidence of "
                "your records and that a later checkpoint only extends an earlier one — offline."
            }
            h2 { "Verifier key" }
            @match &key {
                Some(key) => { p { code class="key" { (key.encode()) } } }
                None => { p { "This installation signs no checkpoints yet." } }
            }
            @if let Some(own) = &own {
                h2 { "Evidence of your records" }
                p {
                    "Each event about " (own) "'s records, readable, with its inclusion proof in the "
                    "latest checkpoint; every other event stays an opaque hash. "
                    a href={ "/api/v1/ledger/evidence?participant=" (own) } download={ "evidence-" (own) ".json" } {
                        "Download the evidence (JSON)"
                    }
                    ", then " code { "purl audit evidence evidence-" (own) ".json --key KEY" } "."
                }
            }
            h2 { "Signed checkpoints" }
            p class="note" { (total) " checkpoint(s); the latest " (checkpoints.len()) " shown, newest first." }
            table {
                thead {
                    tr {
                        th scope="col" class="number" { "events (tree size)" }
                        th scope="col" { "root hash" }
                        th scope="col" { "signed" }
                        th scope="col" { "note" }
                    }
                }
                tbody {
                    @for checkpoint in &checkpoints {
                        tr {
                            td class="number" { (checkpoint.size) }
                            td { code class="hash" { (hex::encode(checkpoint.root)) } }
                            td { (moment(checkpoint.at_us)) }
                            td { a href={ "/api/v1/ledger/checkpoint?size=" (checkpoint.size) } { "checkpoint " (checkpoint.size) } }
                        }
                    }
                }
            }
        },
    )
    .into_response())
}
