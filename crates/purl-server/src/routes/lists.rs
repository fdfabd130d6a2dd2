//! Requirement lists: drafting, ranks, submission, three-party approval, versions and diffs.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use purl_core::command::{Command, NewLine};
use purl_core::ids::{ItemCode, Period};
use purl_core::participant::Party;
use purl_core::user::Actor;
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
        .routes(routes!(list_lists, create_list))
        .routes(routes!(get_list))
        .routes(routes!(diff_list))
        .routes(routes!(new_version))
        .routes(routes!(add_line, replace_lines))
        .routes(routes!(update_line, remove_line))
        .routes(routes!(move_line))
        .routes(routes!(submit_list))
        .routes(routes!(return_list))
        .routes(routes!(approve_list))
}

pub fn period(text: &str) -> Result<Period, Problem> {
    field("period", Period::parse(text))
}

/// Requirement lists: in full for requester, coordinator and supplier; for a contributor the lines
/// of the packages it funds and totals by category.
#[utoipa::path(get, path = "/lists", tag = "lists", params(PageQuery),
    responses((status = 200, body = ListedDoc), (status = 401, body = ApiProblem)))]
async fn list_lists(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let listed = ctx.app.lists(&caller.reader(), page.page()?).await;
    let listed = listed.map_err(|e| caller.problem(e))?;
    crate::export::respond(page.format()?, "lists", listed)
}

#[utoipa::path(get, path = "/lists/{period}", tag = "lists", params(("period" = String, Path, description = "e.g. 2025-12")),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn get_list(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(period): Path<String>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let found = ctx.app.list(&caller.reader(), &period).await;
    found.map(with_etag).map_err(|e| caller.problem(e))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    pub from: u32,
    pub to: u32,
}

/// How version `to` differs from version `from`, line by line.
#[utoipa::path(get, path = "/lists/{period}/diff", tag = "lists", params(("period" = String, Path), DiffQuery),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn diff_list(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(period): Path<String>,
    Query(query): Query<DiffQuery>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let found = ctx
        .app
        .list_diff(&caller.reader(), &period, query.from, query.to)
        .await;
    found.map(with_etag).map_err(|e| caller.problem(e))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewList {
    /// The month, e.g. 2025-12.
    pub period: String,
}

/// Creates a requirement list with an empty draft (the requester's editors).
#[utoipa::path(post, path = "/lists", tag = "lists", request_body = NewList,
    responses((status = 201, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 409, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn create_list(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body<NewList>,
) -> Result<Response, Problem> {
    let period = period(&body.period)?;
    let location = format!("/api/v1/lists/{period}");
    write::execute(
        &ctx,
        &caller,
        &headers,
        Command::CreateList { period },
        Some(location),
    )
    .await
}

/// Starts a new draft version from the latest one (to change an approved list).
#[utoipa::path(post, path = "/lists/{period}/versions", tag = "lists", params(("period" = String, Path)),
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem)))]
async fn new_version(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(text): Path<String>,
) -> Result<Response, Problem> {
    let command = Command::DraftListVersion {
        period: period(&text)?,
    };
    write::execute(&ctx, &caller, &headers, command, None).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LineInput {
    pub item: String,
    pub quantity: u64,
    /// YYYY-MM-DD.
    pub needed_by: String,
    pub justification: Option<String>,
}

pub fn new_line(prefix: &str, line: &LineInput) -> Result<NewLine, Problem> {
    let at = |name: &str| format!("{prefix}{name}");
    Ok(NewLine {
        item: field(&at("item"), ItemCode::parse(&line.item))?,
        quantity: line.quantity,
        needed_by: input::date(&at("needed_by"), &line.needed_by)?,
        justification: input::text(&at("justification"), line.justification.as_deref())?,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddLine {
    /// 1 = most urgent; omitted: after the last line.
    pub rank: Option<u32>,
    #[serde(flatten)]
    pub line: LineInput,
}

/// Adds a line to the draft (the requester's editors).
#[utoipa::path(post, path = "/lists/{period}/lines", tag = "lists", params(("period" = String, Path)), request_body = AddLine,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn add_line(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(text): Path<String>,
    Body(body): Body<AddLine>,
) -> Result<Response, Problem> {
    let command = Command::AddLine {
        period: period(&text)?,
        rank: body.rank,
        line: new_line("", &body.line)?,
    };
    write::execute(&ctx, &caller, &headers, command, None).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReplaceLines {
    /// In rank order.
    pub lines: Vec<LineInput>,
}

/// Replaces every line of the draft at once, in rank order (lines of the same item keep their ids).
#[utoipa::path(put, path = "/lists/{period}/lines", tag = "lists", params(("period" = String, Path)), request_body = ReplaceLines,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn replace_lines(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(text): Path<String>,
    Body(body): Body<ReplaceLines>,
) -> Result<Response, Problem> {
    let lines = body
        .lines
        .iter()
        .enumerate()
        .map(|(index, line)| new_line(&format!("lines[{index}]."), line))
        .collect::<Result<Vec<_>, Problem>>()?;
    let command = Command::ReplaceLines {
        period: period(&text)?,
        lines,
    };
    write::execute(&ctx, &caller, &headers, command, None).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateLine {
    pub quantity: Option<u64>,
    pub needed_by: Option<String>,
    pub justification: Option<String>,
}

/// Changes a draft line's quantity, date or justification.
#[utoipa::path(patch, path = "/lists/{period}/lines/{line}", tag = "lists", params(("period" = String, Path), ("line" = String, Path)), request_body = UpdateLine,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn update_line(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path((text, line)): Path<(String, String)>,
    Body(body): Body<UpdateLine>,
) -> Result<Response, Problem> {
    write::execute(&ctx, &caller, &headers, body.command(&text, line)?, None).await
}

impl UpdateLine {
    pub fn command(&self, list: &str, line: String) -> Result<Command, Problem> {
        let justification = self
            .justification
            .as_deref()
            .map(|value| input::text("justification", Some(value)))
            .transpose()?;
        Ok(Command::UpdateLine {
            period: period(list)?,
            line_id: line,
            quantity: self.quantity,
            needed_by: input::optional_date("needed_by", self.needed_by.as_deref())?,
            justification,
        })
    }
}

/// Removes a line from the draft.
#[utoipa::path(delete, path = "/lists/{period}/lines/{line}", tag = "lists", params(("period" = String, Path), ("line" = String, Path)),
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem)))]
async fn remove_line(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path((text, line)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let command = Command::RemoveLine {
        period: period(&text)?,
        line_id: line,
    };
    write::execute(&ctx, &caller, &headers, command, None).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveLine {
    /// The new rank (1 = most urgent).
    pub rank: u32,
}

/// Moves a draft line to another rank.
#[utoipa::path(post, path = "/lists/{period}/lines/{line}/move", tag = "lists", params(("period" = String, Path), ("line" = String, Path)), request_body = MoveLine,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn move_line(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path((text, line)): Path<(String, String)>,
    Body(body): Body<MoveLine>,
) -> Result<Response, Problem> {
    let command = Command::MoveLine {
        period: period(&text)?,
        line_id: line,
        rank: body.rank,
    };
    write::execute(&ctx, &caller, &headers, command, None).await
}

/// Submits the draft for approval (the requester's approvers).
#[utoipa::path(post, path = "/lists/{period}/submit", tag = "lists", params(("period" = String, Path)),
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn submit_list(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(text): Path<String>,
) -> Result<Response, Problem> {
    let command = Command::SubmitList {
        period: period(&text)?,
    };
    write::execute(&ctx, &caller, &headers, command, None).await
}

/// Returns a submitted version to draft.
#[utoipa::path(post, path = "/lists/{period}/return", tag = "lists", params(("period" = String, Path)),
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn return_list(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(text): Path<String>,
) -> Result<Response, Problem> {
    let command = Command::ReturnList {
        period: period(&text)?,
    };
    write::execute(&ctx, &caller, &headers, command, None).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Approve {
    /// The exact version approved.
    pub version: u32,
}

/// Approves a submitted version for the caller's party (requester, coordinator or supplier
/// approvers). It is approved once all three approved that exact version.
#[utoipa::path(post, path = "/lists/{period}/approve", tag = "lists", params(("period" = String, Path)), request_body = Approve,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn approve_list(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(text): Path<String>,
    Body(body): Body<Approve>,
) -> Result<Response, Problem> {
    let party = match caller.actor()? {
        Actor::User { party, .. } => *party,
        Actor::Operator => Party::Coordinator,
    };
    let command = Command::ApproveList {
        period: period(&text)?,
        version: body.version,
        party,
    };
    write::execute(&ctx, &caller, &headers, command, None).await
}
