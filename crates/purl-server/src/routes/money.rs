//! Pledges and payments.

use std::collections::BTreeSet;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use purl_core::command::{Command, NewPledge};
use purl_core::ids::{Category, ParticipantCode, Reference};
use purl_core::money::Money;
use purl_core::pledge::{Earmark, PledgeStatus};
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
        .routes(routes!(list_pledges, record_pledge))
        .routes(routes!(get_pledge))
        .routes(routes!(commit_pledge))
        .routes(routes!(withdraw_pledge))
        .routes(routes!(set_public))
        .routes(routes!(set_amount))
        .routes(routes!(list_payments, record_payment))
        .routes(routes!(get_payment))
}

fn reference(name: &str, text: &str) -> Result<Reference, Problem> {
    field(name, Reference::parse(text))
}

/// Pledges: the coordinator sees all, a contributor its own in full; everyone (the public too)
/// sees the pledges flagged public, without conditions, notes or payments.
#[utoipa::path(get, path = "/pledges", tag = "money", params(PageQuery), security((), ("token" = []), ("session" = [])),
    responses((status = 200, body = ListedDoc)))]
async fn list_pledges(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Response, Problem> {
    let listed = ctx.app.pledges(&caller.reader(), page.page()?).await;
    let listed = listed.map_err(|e| caller.problem(e))?;
    crate::export::respond(page.format()?, "pledges", listed)
}

#[utoipa::path(get, path = "/pledges/{reference}", tag = "money", params(("reference" = String, Path)), security((), ("token" = []), ("session" = [])),
    responses((status = 200, body = Record), (status = 404, body = ApiProblem)))]
async fn get_pledge(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(text): Path<String>,
) -> Result<Response, Problem> {
    let found = ctx.app.pledge(&caller.reader(), &text).await;
    found.map(with_etag).map_err(|e| caller.problem(e))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EarmarkInput {
    /// Omitted: every category.
    pub categories: Option<Vec<String>>,
    /// Omitted: true.
    pub lethal_allowed: Option<bool>,
    /// The one package this money is for.
    pub package: Option<u32>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPledgeInput {
    pub reference: String,
    /// One contributor, or several for a joint pledge.
    pub contributors: Vec<String>,
    /// A decimal string in `currency`; omitted when undisclosed or not yet fixed.
    pub amount: Option<String>,
    pub currency: Option<String>,
    /// YYYY-MM-DD.
    pub announced_on: String,
    /// announced (default) or committed.
    pub status: Option<String>,
    /// The joint pledge this is a share of.
    pub part_of: Option<String>,
    pub earmark: Option<EarmarkInput>,
    pub conditions: Option<String>,
    /// Was it announced publicly?
    #[serde(default)]
    pub public: bool,
    pub note: Option<String>,
}

fn earmark(input: Option<&EarmarkInput>) -> Result<Earmark, Problem> {
    let Some(input) = input else {
        return Ok(Earmark::default());
    };
    let categories = input
        .categories
        .as_ref()
        .map(|names| {
            names
                .iter()
                .enumerate()
                .map(|(index, name)| {
                    field(
                        &format!("earmark.categories[{index}]"),
                        Category::parse(name),
                    )
                })
                .collect::<Result<BTreeSet<_>, Problem>>()
        })
        .transpose()?;
    Ok(Earmark {
        categories,
        lethal_allowed: input.lethal_allowed.unwrap_or(true),
        package: input.package,
    })
}

pub(crate) fn new_pledge(body: &NewPledgeInput) -> Result<NewPledge, Problem> {
    let currency = body
        .currency
        .as_deref()
        .map(|code| input::currency("currency", code))
        .transpose()?;
    let amount = match (&body.amount, currency) {
        (Some(amount), Some(currency)) => Some(input::positive_money("amount", amount, currency)?),
        (Some(_), None) => return Err(Problem::invalid("currency", "required with an amount")),
        (None, _) => None,
    };
    let contributors = body
        .contributors
        .iter()
        .enumerate()
        .map(|(index, code)| {
            field(
                &format!("contributors[{index}]"),
                ParticipantCode::parse(code),
            )
        })
        .collect::<Result<Vec<_>, Problem>>()?;
    let status = match body.status.as_deref() {
        None => PledgeStatus::Announced,
        Some(text) => PledgeStatus::parse(text)
            .filter(|status| *status != PledgeStatus::Withdrawn)
            .ok_or_else(|| Problem::invalid("status", "must be announced or committed"))?,
    };
    Ok(NewPledge {
        reference: reference("reference", &body.reference)?,
        contributors,
        amount,
        currency,
        announced_on: input::date("announced_on", &body.announced_on)?,
        status,
        part_of: body
            .part_of
            .as_deref()
            .map(|text| reference("part_of", text))
            .transpose()?,
        earmark: earmark(body.earmark.as_ref())?,
        conditions: input::text("conditions", body.conditions.as_deref())?,
        public: body.public,
        note: input::text("note", body.note.as_deref())?,
    })
}

/// Records a pledge (a contributor's editors for their own; the coordinator's for anyone).
#[utoipa::path(post, path = "/pledges", tag = "money", request_body = NewPledgeInput,
    responses((status = 201, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 409, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn record_pledge(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body<NewPledgeInput>,
) -> Result<Response, Problem> {
    let pledge = new_pledge(&body)?;
    let location = format!("/api/v1/pledges/{}", pledge.reference);
    write::execute(
        &ctx,
        &caller,
        &headers,
        Command::RecordPledge { pledge },
        Some(location),
    )
    .await
}

/// Commits an announced pledge.
#[utoipa::path(post, path = "/pledges/{reference}/commit", tag = "money", params(("reference" = String, Path)),
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn commit_pledge(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(text): Path<String>,
) -> Result<Response, Problem> {
    let command = Command::CommitPledge {
        reference: reference("reference", &text)?,
    };
    write::execute(&ctx, &caller, &headers, command, None).await
}

/// Withdraws a pledge.
#[utoipa::path(post, path = "/pledges/{reference}/withdraw", tag = "money", params(("reference" = String, Path)),
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn withdraw_pledge(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(text): Path<String>,
) -> Result<Response, Problem> {
    let command = Command::WithdrawPledge {
        reference: reference("reference", &text)?,
    };
    write::execute(&ctx, &caller, &headers, command, None).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Public {
    pub public: bool,
}

/// Flags a pledge public (announced publicly) or not.
#[utoipa::path(put, path = "/pledges/{reference}/public", tag = "money", params(("reference" = String, Path)), request_body = Public,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem)))]
async fn set_public(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(text): Path<String>,
    Body(body): Body<Public>,
) -> Result<Response, Problem> {
    let command = Command::SetPledgePublic {
        reference: reference("reference", &text)?,
        public: body.public,
    };
    write::execute(&ctx, &caller, &headers, command, None).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Amount {
    pub amount: String,
    pub currency: String,
}

/// Sets the amount of a pledge whose amount was not yet fixed.
#[utoipa::path(put, path = "/pledges/{reference}/amount", tag = "money", params(("reference" = String, Path)), request_body = Amount,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn set_amount(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(text): Path<String>,
    Body(body): Body<Amount>,
) -> Result<Response, Problem> {
    let currency = input::currency("currency", &body.currency)?;
    let command = Command::SetPledgeAmount {
        reference: reference("reference", &text)?,
        amount: input::positive_money("amount", &body.amount, currency)?,
    };
    write::execute(&ctx, &caller, &headers, command, None).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentQuery {
    /// Only payments against this pledge.
    pub pledge: Option<String>,
    pub offset: Option<usize>,
    pub limit: Option<usize>,
    /// `json` (default), or `csv` / `xlsx` to download the same rows as a file.
    pub format: Option<String>,
}

/// Payments: the coordinator all, a contributor those against its own pledges.
#[utoipa::path(get, path = "/payments", tag = "money", params(PaymentQuery),
    responses((status = 200, body = ListedDoc), (status = 401, body = ApiProblem)))]
async fn list_payments(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<PaymentQuery>,
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
        .payments(&caller.reader(), query.pledge.as_deref(), page)
        .await;
    let listed = listed.map_err(|e| caller.problem(e))?;
    crate::export::respond(
        crate::export::ListFormat::parse(query.format.as_deref())?,
        "payments",
        listed,
    )
}

#[utoipa::path(get, path = "/payments/{id}", tag = "money", params(("id" = String, Path)),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn get_payment(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let found = ctx.app.payment(&caller.reader(), &id).await;
    found.map(with_etag).map_err(|e| caller.problem(e))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewPayment {
    pub pledge: String,
    /// A decimal string in the pledge's currency.
    pub amount: String,
    /// The pledge's currency, to confirm it.
    pub currency: String,
    /// YYYY-MM-DD.
    pub received_on: String,
    pub note: Option<String>,
}

/// Records money received against a pledge, converted to USD at the recorded rate of its date
/// (the coordinator's editors).
#[utoipa::path(post, path = "/payments", tag = "money", request_body = NewPayment,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn record_payment(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body<NewPayment>,
) -> Result<Response, Problem> {
    write::execute(&ctx, &caller, &headers, body.command()?, None).await
}

impl NewPayment {
    pub fn command(&self) -> Result<Command, Problem> {
        let currency = input::currency("currency", &self.currency)?;
        let amount: Money = input::positive_money("amount", &self.amount, currency)?;
        Ok(Command::RecordPayment {
            pledge: reference("pledge", &self.pledge)?,
            amount,
            received_on: input::date("received_on", &self.received_on)?,
            note: input::text("note", self.note.as_deref())?,
        })
    }
}
