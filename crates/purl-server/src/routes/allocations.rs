//! Allocation on live data: preview, commit as a ledgered allocation, and form packages from it
//! (the coordinator's work).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use purl_app::allocation_live::{PreviewOptions, PACKAGE_TARGET_USD_MINOR};
use purl_core::ids::Period;
use purl_core::money::{Currency, Money};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ListedDoc, Record};
use crate::identity::Caller;
use crate::input::{field, idempotency_key, Body, PageQuery};
use crate::problem::{ApiProblem, Problem};
use crate::write::with_etag;
use crate::Ctx;

pub fn router() -> OpenApiRouter<Ctx> {
    OpenApiRouter::new()
        .routes(routes!(preview))
        .routes(routes!(list_allocations, commit))
        .routes(routes!(get_allocation))
        .routes(routes!(form_packages))
}

#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct AllocationInput {
    /// The list's period (default: the latest list with an approved version).
    pub period: Option<String>,
    /// Count committed money not yet received (at today's recorded rate).
    #[serde(default)]
    pub include_committed: bool,
}

fn period(input: &AllocationInput) -> Result<Option<Period>, Problem> {
    input
        .period
        .as_deref()
        .map(|text| field("period", Period::parse(text)))
        .transpose()
}

/// The approved list, less what packages hold, against the money at hand: every line's funded
/// quantity, the money paying for it and, if not fully funded, why. Nothing is written.
#[utoipa::path(get, path = "/allocations/preview", tag = "allocation", params(AllocationInput),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn preview(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(input): Query<AllocationInput>,
) -> Result<Json<serde_json::Value>, Problem> {
    let actor = caller.actor()?;
    let options = PreviewOptions {
        include_committed: input.include_committed,
    };
    let preview = ctx
        .app
        .preview_allocation(actor, period(&input)?, options)
        .await
        .map_err(|e| caller.problem(e))?;
    Ok(Json(preview.to_json(None)))
}

/// Runs the allocation and records it in the ledger.
#[utoipa::path(post, path = "/allocations", tag = "allocation", request_body = AllocationInput,
    responses((status = 201, body = Record), (status = 401, body = ApiProblem), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn commit(
    State(ctx): State<Ctx>,
    caller: Caller,
    Body(input): Body<AllocationInput>,
) -> Result<Response, Problem> {
    let actor = caller.actor()?;
    let options = PreviewOptions {
        include_committed: input.include_committed,
    };
    let (preview, written) = ctx
        .app
        .commit_allocation(actor, period(&input)?, options)
        .await
        .map_err(|e| caller.problem(e))?;
    ctx.checkpoint_if_due().await;
    Ok((StatusCode::CREATED, Json(preview.to_json(Some(&written)))).into_response())
}

/// Committed allocations (the coordinator's).
#[utoipa::path(get, path = "/allocations", tag = "allocation", params(PageQuery),
    responses((status = 200, body = ListedDoc), (status = 401, body = ApiProblem)))]
async fn list_allocations(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let listed = ctx.app.allocations(&caller.reader(), page.page()?).await;
    let listed = listed.map_err(|e| caller.problem(e))?;
    crate::export::respond(page.format()?, "allocations", listed)
}

#[utoipa::path(get, path = "/allocations/{number}", tag = "allocation", params(("number" = u32, Path)),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn get_allocation(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let found = ctx.app.allocation(&caller.reader(), &number).await;
    found.map(with_etag).map_err(|e| caller.problem(e))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FormInput {
    /// The most a package may be worth, USD as a decimal string (default "500000000.00").
    pub target_usd: Option<String>,
}

/// Forms packages from a committed allocation: its funded lines in rank order, cut at the target
/// value, each package with the money the allocation gave its units (in each pledge's currency,
/// the least amount worth its USD share at today's recorded rate). All or nothing.
#[utoipa::path(post, path = "/allocations/{number}/packages", tag = "allocation", params(("number" = u32, Path)), request_body = FormInput,
    responses((status = 201, body = Record), (status = 401, body = ApiProblem), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn form_packages(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(number): Path<String>,
    Body(input): Body<FormInput>,
) -> Result<Response, Problem> {
    let actor = caller.actor()?;
    let number = number
        .parse::<u32>()
        .map_err(|_| Problem::not_found(format!("allocation '{number}' does not exist")))?;
    let target = match input.target_usd.as_deref() {
        Some(text) => field("target_usd", Money::parse_positive(text, Currency::USD))?.minor(),
        None => PACKAGE_TARGET_USD_MINOR,
    };
    if ctx
        .app
        .allocation(&caller.reader(), &number.to_string())
        .await
        .is_err()
    {
        return Err(Problem::not_found(format!(
            "allocation '{number}' does not exist"
        )));
    }
    let key = idempotency_key(&headers)?.map(|key| format!("{}:{key}", actor.ledger_name()));
    let formed = ctx
        .app
        .form_packages(actor, Some(number), target, key)
        .await
        .map_err(|e| caller.problem(e))?;
    ctx.checkpoint_if_due().await;
    let status = if formed.written.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(formed)).into_response())
}
