//! Spreadsheet rows in: the same CSV imports as `purl import`, all rows or none, every problem
//! named by row and column; and out, in the same shape.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use purl_app::import::{ImportKind, ImportRequest, ImportSummary, Source};
use purl_app::unwatched;
use purl_core::ids::Period;
use purl_core::policy::{allows, Action};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Record;
use crate::identity::Caller;
use crate::input::{field, idempotency_key};
use crate::problem::{ApiProblem, Problem};
use crate::Ctx;

pub fn router() -> OpenApiRouter<Ctx> {
    OpenApiRouter::new()
        .routes(routes!(import))
        .routes(routes!(export))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// For requirements: the list's period (e.g. 2026-01).
    pub period: Option<String>,
    /// The file's name, used in every problem reported (default: the kind).
    pub name: Option<String>,
    /// For a workbook: the sheet to read (default: the first).
    pub sheet: Option<String>,
    /// Check the whole file and report every problem, writing nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// The media type of an Excel workbook.
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Imports a CSV file (`Content-Type: text/csv`, UTF-8) or an Excel workbook (`Content-Type:
/// application/vnd.openxmlformats-officedocument.spreadsheetml.sheet`; `?sheet=` or the first) of
/// `pledges`, `payments`, `fx` rates or `requirements`, with the columns of `purl import`: every
/// row is written, or none, and every problem is reported with its row and column.
#[utoipa::path(post, path = "/imports/{kind}", tag = "imports",
    params(("kind" = String, Path, description = "pledges, payments, fx or requirements"), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 201, body = Record), (status = 401, body = ApiProblem), (status = 403, body = ApiProblem),
        (status = 415, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn import(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(kind): Path<String>,
    Query(query): Query<ImportQuery>,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let actor = caller.actor()?;
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let workbook = media.starts_with(XLSX);
    if !workbook && !media.starts_with("text/csv") {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            format!("send the file as `Content-Type: text/csv` (UTF-8) or `{XLSX}`"),
        ));
    }
    let kind = kind_of(&kind, query.period.as_deref())?;
    let extension = if workbook { "xlsx" } else { "csv" };
    let name = query
        .name
        .unwrap_or_else(|| format!("{}.{extension}", kind.name()));
    let source = if workbook {
        Source::Xlsx {
            bytes: &body,
            sheet: query.sheet.as_deref(),
        }
    } else {
        Source::Csv(&body)
    };
    let key = idempotency_key(&headers)?.map(|key| format!("{}:{key}", actor.ledger_name()));
    let request = ImportRequest {
        kind,
        file: &name,
        source,
        idempotency_key: key,
        dry_run: query.dry_run,
    };
    let summary = run_import(&ctx, &caller, request).await?;
    let status = if summary.written.replayed || summary.dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(summary)).into_response())
}

/// Imports (or checks) a file for the caller: a party that may not make these changes at all
/// reads nothing from the file's answers.
pub(crate) async fn run_import(
    ctx: &Ctx,
    caller: &Caller,
    request: ImportRequest<'_>,
) -> Result<ImportSummary, Problem> {
    let actor = caller.actor()?;
    let action = match request.kind {
        ImportKind::Pledges => Action::RecordPledge {
            contributors: match actor {
                purl_core::user::Actor::User { participant, .. } => vec![participant.clone()],
                purl_core::user::Actor::Operator => Vec::new(),
            },
        },
        ImportKind::Payments => Action::RecordPayment,
        ImportKind::Fx | ImportKind::Gdp => Action::RecordRates,
        ImportKind::Requirements { .. } => Action::DraftList,
    };
    if !allows(actor, &action) {
        return Err(Problem::forbidden());
    }
    let summary = ctx
        .app
        .import_or_check(actor, request, &unwatched)
        .await
        .map_err(|e| caller.problem(e))?;
    ctx.checkpoint_if_due().await;
    Ok(summary)
}

/// The kind of sheet a path names (`requirements` needs its period).
fn kind_of(kind: &str, period: Option<&str>) -> Result<ImportKind, Problem> {
    Ok(match kind {
        "pledges" => ImportKind::Pledges,
        "payments" => ImportKind::Payments,
        "fx" => ImportKind::Fx,
        "gdp" => ImportKind::Gdp,
        "requirements" => {
            let text =
                period.ok_or_else(|| Problem::invalid("period", "required for requirements"))?;
            ImportKind::Requirements {
                period: field("period", Period::parse(text))?,
            }
        }
        other => return Err(Problem::not_found(format!("no sheet of '{other}'"))),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// For requirements: the list's period (e.g. 2026-01).
    pub period: Option<String>,
    /// xlsx (default) or csv.
    pub format: Option<String>,
}

/// What the caller may see in full of `pledges`, `payments`, `fx` rates, `gdp` figures or a list's
/// `requirements`, as a workbook (`?format=xlsx`, with a sheet explaining the columns and one saying
/// what was left out) or a CSV file, in the shape the import takes back.
#[utoipa::path(get, path = "/exports/{kind}", tag = "imports",
    params(("kind" = String, Path, description = "pledges, payments, fx, gdp or requirements"), ExportQuery),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 401, body = ApiProblem), (status = 404, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn export(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(kind): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let kind = kind_of(&kind, query.period.as_deref())?;
    let format = crate::export::FileFormat::parse(query.format.as_deref())?;
    let book = ctx
        .app
        .export(&caller.reader(), kind, ctx.app.today())
        .await
        .map_err(|e| caller.problem(e))?;
    crate::export::book_file(format, kind.name(), &book)
}
