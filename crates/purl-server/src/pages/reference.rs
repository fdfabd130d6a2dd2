//! Reference data as pages: the supplier's catalogue (adding and pricing items) and the exchange
//! rates the coordinator records (each with its source), which every conversion names.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use purl_core::catalogue::CatalogueItem;
use purl_core::command::Command;
use purl_core::fx::FxRate;
use purl_core::ids::STANDARD_CATEGORIES;
use purl_core::policy::{allows, Action};

use super::form::{self, Field, FormView, Kind, Sent, Submission};
use super::format::money;
use super::{failed, layout, paging, signed_in, PageError};
use crate::identity::Caller;
use crate::routes::reference::{NewItem, NewRate, Price};
use crate::Ctx;

/// `GET /catalogue`.
pub async fn catalogue(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<paging::Offset>,
) -> Result<Markup, PageError> {
    catalogue_page(&ctx, &caller, query.offset(), None).await
}

async fn catalogue_page(
    ctx: &Ctx,
    caller: &Caller,
    offset: usize,
    sent: Option<&Sent>,
) -> Result<Markup, PageError> {
    let actor = signed_in(caller)?;
    let csrf = caller.csrf.as_deref().unwrap_or_default();
    let listed = ctx
        .app
        .items(&caller.reader(), paging::page(offset))
        .await
        .map_err(|error| failed(caller, &error))?;
    let next = listed.next_offset;
    let total = listed.total;
    let items: Vec<CatalogueItem> = paging::in_full(listed.items);
    let editor = allows(actor, &Action::EditCatalogue);
    let categories = STANDARD_CATEGORIES
        .iter()
        .map(|category| ((*category).to_owned(), (*category).to_owned()))
        .collect();
    let yes_no = vec![
        ("false".to_owned(), "no".to_owned()),
        ("true".to_owned(), "yes".to_owned()),
    ];
    let add = FormView::new("item", "/catalogue", "Add item")
        .heading("Add an item")
        .field(Field::new("code", "Code (e.g. PAC3)", Kind::Text))
        .field(Field::new("name", "Name", Kind::Text))
        .field(Field::new("category", "Category", Kind::Choice(categories)))
        .field(Field::new("lethal", "Lethal", Kind::Choice(yes_no)))
        .field(Field::new("unit_price", "Unit price (USD)", Kind::Decimal))
        .field(Field::new("lead_time_days", "Lead time (days)", Kind::Number).value("90"));
    Ok(layout::page(
        "Catalogue",
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p class="note" { (total) " item(s). Prices are the supplier's, in USD. "
                a href="/api/v1/catalogue?format=csv" { "CSV" } ", "
                a href="/api/v1/catalogue?format=xlsx" { "XLSX" } "." }
            table class="sortable" id="catalogue" {
                thead { tr {
                    th scope="col" { "code" } th scope="col" { "name" } th scope="col" { "category" }
                    th scope="col" { "lethal" } th scope="col" class="number" { "unit price" }
                    th scope="col" class="number" { "lead time (days)" }
                    @if editor { th scope="col" { span class="visually-hidden" { "price" } } }
                } }
                tbody {
                    @for item in &items {
                        tr {
                            td { (item.code.as_str()) }
                            td { (item.name.as_str()) }
                            td { (item.category.as_str()) }
                            td { (if item.lethal { "yes" } else { "no" }) }
                            td class="number" { (money(&item.unit_price)) }
                            td class="number" { (item.lead_time_days) }
                            @if editor {
                                td { details {
                                    summary { "Price" }
                                    (FormView::new(format!("price-{}", item.code.as_str()), format!("/catalogue/{}/price", item.code.as_str()), "Save price")
                                        .field(Field::new("unit_price", "Unit price (USD)", Kind::Decimal).value(item.unit_price.amount_string()))
                                        .field(Field::new("lead_time_days", "Lead time (days)", Kind::Number).value(item.lead_time_days.to_string()).optional())
                                        .render(csrf, sent))
                                } }
                            }
                        }
                    }
                }
            }
            (paging::links("/catalogue", "items", offset, next))
            @if editor { (add.render(csrf, sent)) }
        },
    ))
}

/// `POST /catalogue`: adds an item.
pub async fn add_item(
    State(ctx): State<Ctx>,
    caller: Caller,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    form::perform(
        &ctx,
        &caller,
        Submission::new(pairs),
        |sent| sent.decode::<NewItem>()?.command(),
        "/catalogue",
        async |sent| catalogue_page(&ctx, &caller, 0, Some(&sent)).await,
    )
    .await
}

/// `POST /catalogue/{code}/price`: prices an item.
pub async fn price_item(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(code): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    form::perform(
        &ctx,
        &caller,
        Submission::new(pairs),
        |sent| sent.decode::<Price>()?.command(&code),
        "/catalogue",
        async |sent| catalogue_page(&ctx, &caller, 0, Some(&sent)).await,
    )
    .await
}

/// `GET /rates`.
pub async fn rates(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<paging::Offset>,
) -> Result<Markup, PageError> {
    rates_page(&ctx, &caller, query.offset(), None).await
}

async fn rates_page(
    ctx: &Ctx,
    caller: &Caller,
    offset: usize,
    sent: Option<&Sent>,
) -> Result<Markup, PageError> {
    let actor = signed_in(caller)?;
    let csrf = caller.csrf.as_deref().unwrap_or_default();
    let listed = ctx
        .app
        .rates(&caller.reader(), paging::page(offset))
        .await
        .map_err(|error| failed(caller, &error))?;
    let next = listed.next_offset;
    let rates: Vec<FxRate> = paging::in_full(listed.items);
    let record = FormView::new("rate", "/rates", "Record rate")
        .heading("Record an exchange rate")
        .field(Field::new("currency", "Currency (ISO code)", Kind::Text))
        .field(
            Field::new("date", "Date (YYYY-MM-DD)", Kind::Date).value(ctx.app.today().to_string()),
        )
        .field(Field::new(
            "usd_per_unit",
            "USD per unit (e.g. 1.0824)",
            Kind::Decimal,
        ))
        .field(Field::new("source", "Source", Kind::Text).value("ECB"));
    Ok(layout::page(
        "Exchange rates",
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p class="note" { (listed.total) " rate(s). Each conversion uses the rate of its day and names it. "
                a href="/api/v1/fx-rates?format=csv" { "CSV" } "." }
            table class="sortable" id="rates" {
                thead { tr { th scope="col" { "currency" } th scope="col" { "date" } th scope="col" class="number" { "USD per unit" } th scope="col" { "source" } } }
                tbody {
                    @for rate in &rates {
                        tr {
                            td { (rate.currency) }
                            td { (rate.date) }
                            td class="number" { (purl_app::export::exact_rate(rate.usd_per_unit)) }
                            td { (rate.source) }
                        }
                    }
                }
            }
            (paging::links("/rates", "rates", offset, next))
            @if allows(actor, &Action::RecordRates) { (record.render(csrf, sent)) }
        },
    ))
}

/// `POST /rates`: records one rate.
pub async fn record_rate(
    State(ctx): State<Ctx>,
    caller: Caller,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    form::perform(
        &ctx,
        &caller,
        Submission::new(pairs),
        |sent| {
            let rate = sent.decode::<NewRate>()?.rate("")?;
            Ok(Command::RecordRates { rates: vec![rate] })
        },
        "/rates",
        async |sent| rates_page(&ctx, &caller, 0, Some(&sent)).await,
    )
    .await
}
