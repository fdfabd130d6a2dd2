//! Packages and deliveries.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use purl_core::command::Command;
use purl_core::ids::{Name, Period, Reference};
use purl_core::package::PackageStatus;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ListedDoc, Record};
use crate::identity::Caller;
use crate::input::{self, field, Body, PageQuery};
use crate::problem::{ApiProblem, Problem};
use crate::write::{self, with_etag, WrittenDoc};
use crate::Ctx;

pub fn router() -> OpenApiRouter<Ctx> {
    OpenApiRouter::new()
        .routes(routes!(list_packages, create_package))
        .routes(routes!(get_package))
        .routes(routes!(add_package_line))
        .routes(routes!(allocate_contribution))
        .routes(routes!(set_status))
        .routes(routes!(list_deliveries, ship))
        .routes(routes!(get_delivery))
        .routes(routes!(receive))
}

/// Packages: in full for requester, coordinator, supplier and the contributors funding them; a
/// contributor sees only the number, value and status of the others.
#[utoipa::path(get, path = "/packages", tag = "packages", params(PageQuery),
    responses((status = 200, body = ListedDoc), (status = 401, body = ApiProblem)))]
async fn list_packages(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let listed = ctx.app.packages(&caller.reader(), page.page()?).await;
    let listed = listed.map_err(|e| caller.problem(e))?;
    crate::export::respond(page.format()?, "packages", listed)
}

#[utoipa::path(get, path = "/packages/{number}", tag = "packages", params(("number" = u32, Path)),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn get_package(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let found = ctx.app.package(&caller.reader(), &number).await;
    found.map(with_etag).map_err(|e| caller.problem(e))
}

fn number(text: &str) -> Result<u32, Problem> {
    text.parse::<u32>()
        .map_err(|_| Problem::not_found(format!("package '{text}' does not exist")))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPackage {
    pub name: String,
}

/// Creates a package, numbered in order (the coordinator's editors).
#[utoipa::path(post, path = "/packages", tag = "packages", request_body = NewPackage,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn create_package(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body<NewPackage>,
) -> Result<Response, Problem> {
    write::execute(&ctx, &caller, &headers, body.command()?, None).await
}

impl NewPackage {
    pub fn command(&self) -> Result<Command, Problem> {
        Ok(Command::CreatePackage {
            name: field("name", Name::parse(&self.name))?,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PackageLineInput {
    /// The approved list's period.
    pub period: String,
    pub line: String,
    pub quantity: u64,
}

/// Adds units of an approved requirement line to a forming package.
#[utoipa::path(post, path = "/packages/{number}/lines", tag = "packages", params(("number" = u32, Path)), request_body = PackageLineInput,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn add_package_line(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(text): Path<String>,
    Body(body): Body<PackageLineInput>,
) -> Result<Response, Problem> {
    write::execute(&ctx, &caller, &headers, body.command(&text)?, None).await
}

impl PackageLineInput {
    pub fn command(&self, package: &str) -> Result<Command, Problem> {
        Ok(Command::AddPackageLine {
            number: number(package)?,
            period: field("period", Period::parse(&self.period))?,
            line_id: self.line.clone(),
            quantity: self.quantity,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ContributionInput {
    pub pledge: String,
    /// A decimal string in the pledge's currency.
    pub amount: String,
    pub currency: String,
}

/// Allocates money of a pledge to a package.
#[utoipa::path(post, path = "/packages/{number}/contributions", tag = "packages", params(("number" = u32, Path)), request_body = ContributionInput,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn allocate_contribution(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(text): Path<String>,
    Body(body): Body<ContributionInput>,
) -> Result<Response, Problem> {
    write::execute(&ctx, &caller, &headers, body.command(&text)?, None).await
}

impl ContributionInput {
    pub fn command(&self, package: &str) -> Result<Command, Problem> {
        let currency = input::currency("currency", &self.currency)?;
        Ok(Command::AllocateContribution {
            number: number(package)?,
            pledge: field("pledge", Reference::parse(&self.pledge))?,
            amount: input::positive_money("amount", &self.amount, currency)?,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StatusInput {
    /// forming, funded, released, contracted, in-delivery, delivered, closed or cancelled.
    pub status: String,
}

/// Moves a package along its pipeline (coordinator; the supplier for contract and delivery steps).
#[utoipa::path(put, path = "/packages/{number}/status", tag = "packages", params(("number" = u32, Path)), request_body = StatusInput,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn set_status(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(text): Path<String>,
    Body(body): Body<StatusInput>,
) -> Result<Response, Problem> {
    write::execute(&ctx, &caller, &headers, body.command(&text)?, None).await
}

impl StatusInput {
    pub fn command(&self, package: &str) -> Result<Command, Problem> {
        let status = PackageStatus::parse(&self.status).ok_or_else(|| {
            Problem::invalid(
                "status",
                format!("'{}' is not a package status", self.status),
            )
        })?;
        Ok(Command::SetPackageStatus {
            number: number(package)?,
            status,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Only deliveries of this package.
    pub package: Option<u32>,
    pub offset: Option<usize>,
    pub limit: Option<usize>,
    /// `json` (default), or `csv` / `xlsx` to download the same rows as a file.
    pub format: Option<String>,
}

/// Deliveries: requester, coordinator, supplier, and contributors for the packages they fund.
#[utoipa::path(get, path = "/deliveries", tag = "packages", params(DeliveryQuery),
    responses((status = 200, body = ListedDoc), (status = 401, body = ApiProblem)))]
async fn list_deliveries(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<DeliveryQuery>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let page = PageQuery {
        offset: query.offset,
        limit: query.limit,
        format: None,
    }
    .page()?;
    let listed = ctx
        .app
        .deliveries(&caller.reader(), query.package, page)
        .await;
    let listed = listed.map_err(|e| caller.problem(e))?;
    crate::export::respond(
        crate::export::ListFormat::parse(query.format.as_deref())?,
        "deliveries",
        listed,
    )
}

#[utoipa::path(get, path = "/deliveries/{id}", tag = "packages", params(("id" = String, Path)),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn get_delivery(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let found = ctx.app.delivery(&caller.reader(), &id).await;
    found.map(with_etag).map_err(|e| caller.problem(e))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Shipment {
    pub package: u32,
    pub line: String,
    pub quantity: u64,
    /// YYYY-MM-DD.
    pub shipped_on: String,
}

/// Records a shipment of a package line (the supplier's editors).
#[utoipa::path(post, path = "/deliveries", tag = "packages", request_body = Shipment,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn ship(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body<Shipment>,
) -> Result<Response, Problem> {
    write::execute(&ctx, &caller, &headers, body.command()?, None).await
}

impl Shipment {
    pub fn command(&self) -> Result<Command, Problem> {
        Ok(Command::ShipDelivery {
            package: self.package,
            line_id: self.line.clone(),
            quantity: self.quantity,
            shipped_on: input::date("shipped_on", &self.shipped_on)?,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Receipt {
    /// YYYY-MM-DD.
    pub received_on: String,
    pub quantity: u64,
}

/// Confirms receipt of a delivery (the requester's editors).
#[utoipa::path(post, path = "/deliveries/{id}/receipt", tag = "packages", params(("id" = String, Path)), request_body = Receipt,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn receive(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Body(body): Body<Receipt>,
) -> Result<Response, Problem> {
    write::execute(&ctx, &caller, &headers, body.command(id)?, None).await
}

impl Receipt {
    pub fn command(&self, delivery: String) -> Result<Command, Problem> {
        Ok(Command::ReceiveDelivery {
            id: delivery,
            received_on: input::date("received_on", &self.received_on)?,
            quantity: self.quantity,
        })
    }
}
