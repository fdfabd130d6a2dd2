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
        .routes(routes!(coverage))
        .routes(routes!(timeline))
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverageQuery {
    /// Count committed money not yet received (at today's recorded rate).
    #[serde(default)]
    pub include_committed: bool,
    /// json (default), xlsx or csv (one row per rank band and per category).
    pub format: Option<String>,
}

/// Coverage of the latest approved list (the coordinator's: it weighs every pledge): value
/// funded — units in active packages plus units the allocation funds from the money at hand —
/// against value required, by rank band and by category, the gap, and the first lines not fully
/// funded with their reasons.
#[utoipa::path(get, path = "/reports/coverage", tag = "reports", params(CoverageQuery),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn coverage(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<CoverageQuery>,
) -> Result<Response, Problem> {
    let format = ListFormat::parse(query.format.as_deref())?;
    let report = coverage_report(&ctx, &caller, query.include_committed).await?;
    match format {
        ListFormat::Json => Ok(Json(report).into_response()),
        ListFormat::File(_) => crate::export::respond(format, "coverage", coverage_rows(&report)),
    }
}

/// The coverage report for the caller (404 for anyone but the coordinator, as for a record it
/// may not see).
pub async fn coverage_report(
    ctx: &Ctx,
    caller: &Caller,
    include_committed: bool,
) -> Result<purl_core::report::coverage::Coverage, Problem> {
    let actor = caller.actor()?;
    let options = purl_app::allocation_live::PreviewOptions { include_committed };
    let preview = ctx
        .app
        .preview_allocation(actor, None, options)
        .await
        .map_err(|error| match error {
            purl_app::AppError::Denied => {
                Problem::not_found("there is no coverage report you may see")
            }
            error => caller.problem(error),
        })?;
    preview.coverage().map_err(|e| caller.problem(e))
}

/// The report's rows as a sheet: the whole list, each rank band, each category.
fn coverage_rows(report: &purl_core::report::coverage::Coverage) -> Listed {
    let row = |group: &str, row: &purl_core::report::coverage::CoverageRow| {
        serde_json::json!({
            "group": group,
            "name": row.name,
            "lines": row.lines,
            "required_usd": row.required.amount_string(),
            "funded_usd": row.funded.amount_string(),
            "funded_percent": row.funded_percent,
            "gap_usd": row.gap.amount_string(),
        })
    };
    let items: Vec<serde_json::Value> = std::iter::once(row("total", &report.total))
        .chain(report.by_rank_band.iter().map(|r| row("rank band", r)))
        .chain(report.by_category.iter().map(|r| row("category", r)))
        .collect();
    Listed {
        total: items.len(),
        items,
        next_offset: None,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimelineQuery {
    /// The last day (YYYY-MM-DD; default today).
    pub as_of: Option<String>,
    /// The monthly need for the runway, USD (default 1000000000.00).
    pub monthly_need: Option<String>,
    /// json (default), xlsx or csv (one row a month).
    pub format: Option<String>,
}

/// The default monthly need of the runway: about one billion dollars (design §7).
pub const MONTHLY_NEED_DEFAULT: &str = "1000000000.00";

/// The timeline and the runway together.
#[derive(Debug, Serialize)]
pub struct TimelineReport {
    pub timeline: purl_core::report::timeline::Timeline,
    pub runway: purl_core::report::timeline::Runway,
}

/// Pledged, committed and paid totals in USD at the end of each month (public figures), and the
/// runway: the month in which a monthly need passes the money committed by then.
#[utoipa::path(get, path = "/reports/timeline", tag = "reports", params(TimelineQuery), security((), ("token" = []), ("session" = [])),
    responses((status = 200, body = Record), (status = 422, body = ApiProblem)))]
async fn timeline(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<TimelineQuery>,
) -> Result<Response, Problem> {
    let format = ListFormat::parse(query.format.as_deref())?;
    let report = timeline_report(
        &ctx,
        &caller,
        query.as_of.as_deref(),
        query.monthly_need.as_deref(),
    )
    .await?;
    match format {
        ListFormat::Json => Ok(Json(report).into_response()),
        ListFormat::File(_) => crate::export::respond(format, "timeline", timeline_rows(&report)),
    }
}

/// The timeline and runway on `as_of` (default today) at `monthly_need` (default one billion).
pub async fn timeline_report(
    ctx: &Ctx,
    caller: &Caller,
    as_of: Option<&str>,
    monthly_need: Option<&str>,
) -> Result<TimelineReport, Problem> {
    let need = input::positive_money(
        "monthly_need",
        monthly_need.unwrap_or(MONTHLY_NEED_DEFAULT),
        purl_core::money::Currency::USD,
    )?;
    let timeline = ctx
        .app
        .timeline(day(ctx, as_of)?)
        .await
        .map_err(|e| caller.problem(e))?;
    let runway = purl_core::report::timeline::runway(&timeline, need)
        .map_err(|e| caller.problem(e.into()))?;
    Ok(TimelineReport { timeline, runway })
}

/// One row a month: the timeline's totals (empty in projected months) and the runway's need.
fn timeline_rows(report: &TimelineReport) -> Listed {
    let items: Vec<serde_json::Value> = report
        .runway
        .months
        .iter()
        .map(|month| {
            let point = report
                .timeline
                .points
                .iter()
                .find(|p| p.month == month.month);
            let amount = |pick: fn(
                &purl_core::report::timeline::TimelinePoint,
            ) -> purl_core::money::Money| {
                point.map(|p| pick(p).amount_string())
            };
            serde_json::json!({
                "month": month.month,
                "pledged_usd": amount(|p| p.pledged),
                "committed_usd": amount(|p| p.committed),
                "paid_usd": amount(|p| p.paid),
                "cumulative_need_usd": month.cumulative_need.amount_string(),
                "committed_for_runway_usd": month.committed.amount_string(),
                "projected": month.projected,
            })
        })
        .collect();
    Listed {
        total: items.len(),
        items,
        next_offset: None,
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
