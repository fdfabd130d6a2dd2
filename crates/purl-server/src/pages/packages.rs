//! Packages as pages: the pipeline of packages the reader may see and, for one package, its lines,
//! the contributions paying for it (each with the rate behind its USD value), its status history
//! and its deliveries. The coordinator forms it (lines, contributions) and moves it along; the
//! supplier records the contract, shipments and delivery; the requester confirms receipt. A
//! contributor sees in full only the packages it funds.

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Form;
use maud::{html, Markup};
use purl_core::list::RequirementList;
use purl_core::package::{Delivery, Package, PackageStatus};
use purl_core::policy::{allows, Action};
use purl_core::user::Actor;
use serde_json::Value;

use super::form::{self, Field, FormView, Kind, Sent, Submission};
use super::format::{conversion, grouped, money};
use super::{failed, layout, paging, signed_in, unreadable, PageError};
use crate::identity::Caller;
use crate::routes::packages::{
    ContributionInput, NewPackage, PackageLineInput, Receipt, Shipment, StatusInput,
};
use crate::Ctx;

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("—")
}

/// `GET /packages`: the pipeline.
pub async fn index(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<paging::Offset>,
) -> Result<Markup, PageError> {
    index_page(&ctx, &caller, query.offset(), None).await
}

async fn index_page(
    ctx: &Ctx,
    caller: &Caller,
    offset: usize,
    sent: Option<&Sent>,
) -> Result<Markup, PageError> {
    let actor = signed_in(caller)?;
    let csrf = caller.csrf.as_deref().unwrap_or_default();
    let listed = ctx
        .app
        .packages(&caller.reader(), paging::page(offset))
        .await
        .map_err(|error| failed(caller, &error))?;
    // Counts of every package (a figure everyone may see), not only this page's.
    let by_status = ctx
        .app
        .overview_view(&caller.reader(), ctx.app.today())
        .await
        .map_err(|error| failed(caller, &error))?
        .packages
        .by_status;
    let create = FormView::new("package", "/packages", "Create package")
        .heading("Form a package")
        .field(Field::new("name", "Name", Kind::Text));
    Ok(layout::page(
        "Packages",
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p class="note" { (listed.total) " package(s). "
                a href="/api/v1/packages?format=csv" { "CSV" } ", "
                a href="/api/v1/packages?format=xlsx" { "XLSX" } "." }
            ol class="pipeline" aria-label="Packages by status" {
                @for status in PackageStatus::ALL {
                    li { span class="label" { (status.as_str()) } " " span class="value" { (by_status.get(status.as_str()).copied().unwrap_or(0)) } }
                }
            }
            table class="sortable" id="packages" {
                thead { tr { th scope="col" class="number" { "number" } th scope="col" { "name" } th scope="col" { "status" } th scope="col" class="number" { "value" } } }
                tbody {
                    @for package in &listed.items {
                        @let number = package.get("number").and_then(Value::as_u64).unwrap_or(0);
                        tr {
                            td class="number" { a href={ "/packages/" (number) } { (number) } }
                            td { (text(package, "name")) }
                            td { (text(package, "status")) }
                            td class="number" { (super::lists::money_value(package.get("value"))) }
                        }
                    }
                }
            }
            (paging::links("/packages", "packages", offset, listed.next_offset))
            @if allows(actor, &Action::ManagePackages) { (create.render(csrf, sent)) }
        },
    ))
}

/// `POST /packages`: creates a package.
pub async fn create(
    State(ctx): State<Ctx>,
    caller: Caller,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    form::perform(
        &ctx,
        &caller,
        Submission::new(pairs),
        |sent| sent.decode::<NewPackage>()?.command(),
        "/packages",
        async |sent| index_page(&ctx, &caller, 0, Some(&sent)).await,
    )
    .await
}

/// `GET /packages/{number}`.
pub async fn detail(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Markup, PageError> {
    detail_page(&ctx, &caller, &number, None).await
}

/// The statuses `actor` may move a package in `status` to, from this page.
fn next_statuses(actor: &Actor, status: PackageStatus) -> Vec<PackageStatus> {
    PackageStatus::ALL
        .into_iter()
        .filter(|next| status.can_move_to(*next))
        .filter(|next| {
            let supplier_step = matches!(
                next,
                PackageStatus::Contracted | PackageStatus::InDelivery | PackageStatus::Delivered
            );
            allows(
                actor,
                &if supplier_step {
                    Action::ReportPackageProgress
                } else {
                    Action::ManagePackages
                },
            )
        })
        .collect()
}

/// The lines of the approved lists, for the coordinator to put in a package: (period, line id, label).
async fn approved_lines(
    ctx: &Ctx,
    caller: &Caller,
) -> Result<Vec<(String, String, String)>, PageError> {
    let lists = ctx
        .app
        .lists(&caller.reader(), paging::ALL)
        .await
        .map_err(|error| failed(caller, &error))?;
    let mut lines = Vec::new();
    for list in lists.items {
        let Ok(list) = serde_json::from_value::<RequirementList>(list) else {
            continue;
        };
        if let Some(approved) = list.approved() {
            for line in &approved.lines {
                let label = format!(
                    "{} {} — {} × {}",
                    list.period,
                    line.id,
                    line.item.as_str(),
                    line.quantity
                );
                lines.push((list.period.to_string(), line.id.clone(), label));
            }
        }
    }
    Ok(lines)
}

async fn detail_page(
    ctx: &Ctx,
    caller: &Caller,
    number: &str,
    sent: Option<&Sent>,
) -> Result<Markup, PageError> {
    let actor = signed_in(caller)?;
    let csrf = caller.csrf.as_deref().unwrap_or_default();
    let found = ctx
        .app
        .package(&caller.reader(), number)
        .await
        .map_err(|error| unreadable(caller, error))?;
    let title = format!("Package {number}");
    let Ok(package) = serde_json::from_value::<Package>(found.body.clone()) else {
        // Need-to-know: a package the reader does not fund, in summary.
        return Ok(layout::page(
            &title,
            Some(actor),
            caller.csrf.as_deref(),
            html! {
                p class="note" { "You see this package in summary: it is not one you fund." }
                p { "Status: " strong { (text(&found.body, "status")) } ". Value: " (super::lists::money_value(found.body.get("value"))) "." }
            },
        ));
    };
    // Contributions of pledges the reader may not see in full come as one sum.
    let undisclosed = found
        .body
        .get("undisclosed_contributions_usd")
        .and_then(|sum| serde_json::from_value::<purl_core::money::Money>(sum.clone()).ok());
    let funded = purl_core::money::Money::from_minor(
        package.funded_usd_minor() + undisclosed.map_or(0, |sum| sum.minor()),
        purl_core::money::Currency::USD,
    )
    .unwrap_or(package.value);
    let deliveries: Vec<Delivery> = paging::in_full(
        ctx.app
            .deliveries(&caller.reader(), Some(package.number), paging::ALL)
            .await
            .map_err(|error| failed(caller, &error))?
            .items,
    );
    let action = |name: &str| format!("/packages/{}/{name}", package.number);
    let manager = allows(actor, &Action::ManagePackages);
    let forming = package.status == PackageStatus::Forming;
    let add_line = if manager && forming {
        let lines = approved_lines(ctx, caller).await?;
        let period = lines
            .first()
            .map(|(period, _, _)| period.clone())
            .unwrap_or_default();
        let choices = lines
            .into_iter()
            .map(|(_, id, label)| (id, label))
            .collect();
        Some(
            FormView::new("line", action("add-line"), "Add to package")
                .heading("Add units of an approved line")
                .field(Field::new("period", "List month (YYYY-MM)", Kind::Text).value(period))
                .field(Field::new("line", "Line", Kind::Choice(choices)))
                .field(Field::new("quantity", "Quantity", Kind::Number)),
        )
    } else {
        None
    };
    let contribute = (manager
        && matches!(
            package.status,
            PackageStatus::Forming | PackageStatus::Funded
        ))
    .then(|| {
        FormView::new("contribution", action("contribute"), "Allocate")
            .heading("Allocate money of a pledge")
            .field(Field::new("pledge", "Pledge reference", Kind::Text))
            .field(Field::new("amount", "Amount", Kind::Decimal))
            .field(Field::new(
                "currency",
                "Currency (the pledge's)",
                Kind::Text,
            ))
    });
    let ship = (allows(actor, &Action::RecordShipment)
        && matches!(
            package.status,
            PackageStatus::Contracted | PackageStatus::InDelivery
        ))
    .then(|| {
        let choices = package
            .lines
            .iter()
            .map(|line| {
                (
                    line.line_id.clone(),
                    format!(
                        "{} — {} × {}",
                        line.line_id,
                        line.item.as_str(),
                        line.quantity
                    ),
                )
            })
            .collect();
        FormView::new("shipment", action("ship"), "Record shipment")
            .heading("Record a shipment")
            .field(Field::new("line", "Line", Kind::Choice(choices)))
            .field(Field::new("quantity", "Quantity", Kind::Number))
            .field(
                Field::new("shipped_on", "Shipped on (YYYY-MM-DD)", Kind::Date)
                    .value(ctx.app.today().to_string()),
            )
    });
    let receiver = allows(actor, &Action::ConfirmReceipt);
    let today = ctx.app.today().to_string();
    Ok(layout::page(
        &format!("{title}: {}", package.name.as_str()),
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p class="status" id="package-status" { "Status: " strong { (package.status.as_str()) } ". Value " (money(&package.value)) ", funded "
                (money(&funded)) "." }
            (form::inline_problem(sent))
            h2 { "Lines" }
            table id="package-lines" {
                thead { tr { th scope="col" { "list" } th scope="col" { "line" } th scope="col" { "item" } th scope="col" { "category" } th scope="col" class="number" { "quantity" } th scope="col" class="number" { "unit price" } th scope="col" class="number" { "value" } } }
                tbody {
                    @for line in &package.lines {
                        tr {
                            td { (line.period) " v" (line.list_version) }
                            td { (line.line_id) }
                            td { (line.item.as_str()) }
                            td { (line.category.as_str()) }
                            td class="number" { (grouped(&line.quantity.to_string())) }
                            td class="number" { (money(&line.unit_price)) }
                            td class="number" { (money(&line.value)) }
                        }
                    }
                }
            }
            h2 { "Contributions" }
            table id="package-contributions" {
                thead { tr { th scope="col" { "pledge" } th scope="col" class="number" { "amount" } th scope="col" class="number" { "USD" } th scope="col" { "rate (date, source)" } } }
                tbody {
                    @for contribution in &package.contributions {
                        tr {
                            td { (contribution.pledge.as_str()) }
                            td class="number" { (money(&contribution.amount)) }
                            td class="number" { (money(&contribution.conversion.usd)) }
                            td { (conversion(&contribution.conversion)) }
                        }
                    }
                    @if let Some(sum) = undisclosed {
                        tr {
                            td { "other contributors (not disclosed to you)" }
                            td class="number" { }
                            td class="number" { (money(&sum)) }
                            td { }
                        }
                    }
                }
            }
            h2 { "History" }
            ol { @for change in &package.history { li { (change.on) ": " (change.status.as_str()) } } }
            @let moves = next_statuses(actor, package.status);
            @if !moves.is_empty() {
                h2 { "Move along" }
                p {
                    @for next in &moves {
                        (FormView::new(format!("status-{}", next.as_str()), action("status"), &format!("Mark {}", next.as_str()))
                            .field(Field::hidden("status", next.as_str()))
                            .button(csrf, &format!("Mark package {} {}", package.number, next.as_str())))
                        " "
                    }
                }
            }
            h2 { "Deliveries" }
            table id="deliveries" {
                thead { tr { th scope="col" { "delivery" } th scope="col" { "line" } th scope="col" class="number" { "shipped" } th scope="col" { "on" } th scope="col" { "received" } @if receiver { th scope="col" { span class="visually-hidden" { "confirm" } } } } }
                tbody {
                    @for delivery in &deliveries {
                        tr {
                            td { (delivery.id) }
                            td { (delivery.line_id) }
                            td class="number" { (delivery.quantity) }
                            td { (delivery.shipped_on) }
                            td { @match (delivery.received_on, delivery.received_quantity) {
                                (Some(on), Some(quantity)) => { (quantity) " on " (on) }
                                _ => { "not yet" }
                            } }
                            @if receiver {
                                td { @if delivery.received_on.is_none() {
                                    (FormView::new(format!("receipt-{}", delivery.id), format!("/deliveries/{}/receipt?package={}", delivery.id, package.number), "Confirm receipt")
                                        .field(Field::new("received_on", "Received on", Kind::Date).value(today.clone()))
                                        .field(Field::new("quantity", "Quantity received", Kind::Number).value(delivery.quantity.to_string()))
                                        .render(csrf, sent))
                                } }
                            }
                        }
                    }
                }
            }
            @if let Some(form) = add_line { (form.render(csrf, sent)) }
            @if let Some(form) = contribute { (form.render(csrf, sent)) }
            @if let Some(form) = ship { (form.render(csrf, sent)) }
        },
    ))
}

/// `POST /packages/{number}/{action}`: add-line, contribute, status or ship.
pub async fn act(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path((number, action)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let package = number.clone();
    let command = move |sent: &Submission| match action.as_str() {
        "add-line" => sent.decode::<PackageLineInput>()?.command(&package),
        "contribute" => sent.decode::<ContributionInput>()?.command(&package),
        "status" => sent.decode::<StatusInput>()?.command(&package),
        "ship" => {
            let mut pairs = vec![("package".to_owned(), package.clone())];
            for name in ["line", "quantity", "shipped_on"] {
                pairs.push((
                    name.to_owned(),
                    sent.get(name).unwrap_or_default().to_owned(),
                ));
            }
            Submission::new(pairs).decode::<Shipment>()?.command()
        }
        _ => Err(crate::problem::Problem::not_found("no such action")),
    };
    let back = format!("/packages/{number}");
    form::perform(
        &ctx,
        &caller,
        Submission::new(pairs),
        command,
        &back,
        async |sent| detail_page(&ctx, &caller, &number, Some(&sent)).await,
    )
    .await
}

#[derive(Debug, serde::Deserialize)]
pub struct Back {
    package: u32,
}

/// `POST /deliveries/{id}/receipt?package=N`: the requester confirms receipt.
pub async fn receive(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
    axum::extract::Query(back): axum::extract::Query<Back>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let number = back.package.to_string();
    form::perform(
        &ctx,
        &caller,
        Submission::new(pairs),
        |sent| sent.decode::<Receipt>()?.command(id.clone()),
        &format!("/packages/{number}"),
        async |sent| detail_page(&ctx, &caller, &number, Some(&sent)).await,
    )
    .await
}
