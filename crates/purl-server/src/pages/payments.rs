//! Payments as a page: the money received that the reader may see (a contributor its own), each
//! with its USD value and the rate behind it; the coordinator's editors record one against a
//! pledge.

use axum::extract::{Query, State};
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use purl_core::pledge::Payment;
use purl_core::policy::{allows, Action};
use serde_json::Value;

use super::form::{self, Field, FormView, Kind, Sent, Submission};
use super::format::{conversion, money};
use super::{failed, layout, paging, signed_in, PageError};
use crate::identity::Caller;
use crate::routes::money::NewPayment;
use crate::Ctx;

/// `GET /payments`.
pub async fn list(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<paging::Offset>,
) -> Result<Markup, PageError> {
    page(&ctx, &caller, query.offset(), None).await
}

async fn page(
    ctx: &Ctx,
    caller: &Caller,
    offset: usize,
    sent: Option<&Sent>,
) -> Result<Markup, PageError> {
    let actor = signed_in(caller)?;
    let csrf = caller.csrf.as_deref().unwrap_or_default();
    let listed = ctx
        .app
        .payments(&caller.reader(), None, paging::page(offset))
        .await
        .map_err(|error| failed(caller, &error))?;
    let payments: Vec<Payment> = paging::in_full(listed.items);
    let recorder = allows(actor, &Action::RecordPayment);
    let form = if recorder {
        let pledges = ctx
            .app
            .pledges(&caller.reader(), paging::ALL)
            .await
            .map_err(|error| failed(caller, &error))?;
        let choices = pledges
            .items
            .iter()
            .filter_map(|pledge| {
                let reference = pledge.get("reference").and_then(Value::as_str)?;
                let currency = pledge.get("currency").and_then(Value::as_str).unwrap_or("");
                Some((reference.to_owned(), format!("{reference} ({currency})")))
            })
            .collect();
        Some(
            FormView::new("payment", "/payments", "Record payment")
                .heading("Record a payment")
                .field(Field::new("pledge", "Pledge", Kind::Choice(choices)))
                .field(Field::new("amount", "Amount", Kind::Decimal))
                .field(Field::new(
                    "currency",
                    "Currency (the pledge's)",
                    Kind::Text,
                ))
                .field(
                    Field::new("received_on", "Received on (YYYY-MM-DD)", Kind::Date)
                        .value(ctx.app.today().to_string()),
                )
                .field(Field::new("note", "Note", Kind::Text).optional()),
        )
    } else {
        None
    };
    Ok(layout::page(
        "Payments",
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p class="note" { (listed.total) " payment(s) you may see. "
                a href="/api/v1/payments?format=csv" { "CSV" } ", "
                a href="/api/v1/payments?format=xlsx" { "XLSX" } "." }
            table class="sortable" id="payments" {
                thead { tr {
                    th scope="col" { "payment" } th scope="col" { "pledge" }
                    th scope="col" class="number" { "amount" } th scope="col" { "received" }
                    th scope="col" class="number" { "USD value" } th scope="col" { "rate (source, date)" }
                } }
                tbody {
                    @for payment in &payments {
                        tr {
                            td { (payment.id) }
                            td { (payment.pledge.as_str()) }
                            td class="number" { (money(&payment.amount)) }
                            td { (payment.received_on) }
                            td class="number" { (money(&payment.conversion.usd)) }
                            td { (conversion(&payment.conversion)) }
                        }
                    }
                }
            }
            (paging::links("/payments", "payments", offset, listed.next_offset))
            @if let Some(form) = form { (form.render(csrf, sent)) }
        },
    ))
}

/// `POST /payments`: records a payment.
pub async fn record(
    State(ctx): State<Ctx>,
    caller: Caller,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    form::perform(
        &ctx,
        &caller,
        Submission::new(pairs),
        |sent| sent.decode::<NewPayment>()?.command(),
        "/payments",
        async |sent| page(&ctx, &caller, 0, Some(&sent)).await,
    )
    .await
}
