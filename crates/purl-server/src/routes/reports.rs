//! Reports, the public figures, and the access log.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use purl_app::read::Listed;
use purl_store::AccessEntry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ListedDoc, Record};
use crate::export::ListFormat;
use crate::identity::Caller;
use crate::input::{self, PageQuery};
use crate::problem::{ApiProblem, Problem};
use crate::Ctx;

pub fn router() -> OpenApiRouter<Ctx> {
    OpenApiRouter::new()
        .routes(routes!(overview))
        .routes(routes!(contributions))
        .routes(routes!(public_overview))
        .routes(routes!(public_pledges))
        .routes(routes!(access_log))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOf {
    /// The day the figures are for (YYYY-MM-DD; default today).
    pub as_of: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// The day the figures are for (YYYY-MM-DD; default today).
    pub as_of: Option<String>,
    /// json (default), xlsx (with a sheet of the rates, sources and what was left out) or csv.
    pub format: Option<String>,
}

fn day(ctx: &Ctx, as_of: Option<&str>) -> Result<chrono::NaiveDate, Problem> {
    Ok(input::optional_date("as_of", as_of)?.unwrap_or_else(|| ctx.app.today()))
}

async fn overview_for(
    ctx: &Ctx,
    caller: &Caller,
    as_of: Option<&str>,
) -> Result<Json<serde_json::Value>, Problem> {
    let value = ctx.app.overview(&caller.reader(), day(ctx, as_of)?).await;
    value.map(Json).map_err(|e| caller.problem(e))
}

/// Pledged, committed and paid totals in USD (each pledge with the rate behind it, among those the
/// caller may see), Allies participating, packages by status and value delivered.
#[utoipa::path(get, path = "/reports/overview", tag = "reports", params(ReportQuery), security((), ("token" = []), ("session" = [])),
    responses((status = 200, body = Record), (status = 422, body = ApiProblem)))]
async fn overview(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<ReportQuery>,
) -> Result<Response, Problem> {
    match ListFormat::parse(query.format.as_deref())? {
        ListFormat::Json => Ok(overview_for(&ctx, &caller, query.as_of.as_deref())
            .await?
            .into_response()),
        ListFormat::File(format) => {
            let report = ctx
                .app
                .overview_report(&caller.reader(), day(&ctx, query.as_of.as_deref())?)
                .await
                .map_err(|e| caller.problem(e))?;
            let book = purl_app::report_book::overview_book(&report, &caller.reader().name());
            crate::export::book_file(format, "overview", &book)
        }
    }
}

/// Per contributor (joint pledges as joint): pledged, committed and paid in USD, share of the
/// total, share of GDP and a fair share by GDP. Pledges the caller may not see are in one sum.
#[utoipa::path(get, path = "/reports/contributions", tag = "reports", params(ReportQuery), security((), ("token" = []), ("session" = [])),
    responses((status = 200, body = Record), (status = 422, body = ApiProblem)))]
async fn contributions(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<ReportQuery>,
) -> Result<Response, Problem> {
    let format = ListFormat::parse(query.format.as_deref())?;
    let report = ctx
        .app
        .contributions(&caller.reader(), day(&ctx, query.as_of.as_deref())?)
        .await
        .map_err(|e| caller.problem(e))?;
    match format {
        ListFormat::Json => Ok(Json(report).into_response()),
        ListFormat::File(format) => {
            let book = purl_app::report_book::contributions_book(&report, &caller.reader().name());
            crate::export::book_file(format, "contributions", &book)
        }
    }
}

/// The public overview: aggregates and the pledges flagged public; no sign-in.
#[utoipa::path(get, path = "/public/overview", tag = "public", params(AsOf), security(()),
    responses((status = 200, body = Record), (status = 422, body = ApiProblem)))]
async fn public_overview(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<AsOf>,
) -> Result<Json<serde_json::Value>, Problem> {
    let public = Caller {
        actor: None,
        ..caller
    };
    overview_for(&ctx, &public, query.as_of.as_deref()).await
}

/// The pledges flagged public; no sign-in.
#[utoipa::path(get, path = "/public/pledges", tag = "public", params(PageQuery), security(()),
    responses((status = 200, body = ListedDoc)))]
async fn public_pledges(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Json<Listed>, Problem> {
    let public = Caller {
        actor: None,
        ..caller
    };
    let listed = ctx.app.pledges(&public.reader(), page.page()?).await;
    listed.map(Json).map_err(|e| public.problem(e))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Entries after this sequence number (default 0).
    pub after: Option<u64>,
    /// 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntry {
    pub seq: u64,
    pub at_us: i64,
    pub actor: String,
    pub action: String,
    /// allowed, denied or not-found.
    pub outcome: String,
    pub rows: u64,
    pub request_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogPage {
    pub items: Vec<LogEntry>,
}

/// Every read of confidential data and every denied request (coordinator admins and auditors).
#[utoipa::path(get, path = "/access-log", tag = "reports", params(LogQuery),
    responses((status = 200, body = LogPage), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn access_log(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<LogQuery>,
) -> Result<Json<LogPage>, Problem> {
    caller.signed_in()?;
    let limit = query.limit.unwrap_or(100);
    if limit == 0 || limit > 1000 {
        return Err(Problem::invalid("limit", "must be 1 to 1000"));
    }
    let entries = ctx
        .app
        .access_log(&caller.reader(), query.after.unwrap_or(0), limit)
        .await
        .map_err(|e| caller.problem(e))?;
    let items = entries
        .into_iter()
        .map(|entry: AccessEntry| LogEntry {
            seq: entry.seq,
            at_us: entry.at_us,
            actor: entry.actor,
            action: entry.action,
            outcome: entry.outcome,
            rows: entry.rows,
            request_id: entry.request_id,
        })
        .collect();
    Ok(Json(LogPage { items }))
}
