//! Participants, users, the catalogue, exchange rates and GDP figures.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use purl_core::command::Command;
use purl_core::fx::FxRate;
use purl_core::ids::{Category, ItemCode, Name, ParticipantCode, Username};
use purl_core::money::{Currency, Ratio};
use purl_core::participant::{Membership, Party};
use purl_core::policy::{allows, Action};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
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
        .routes(routes!(list_participants, add_participant))
        .routes(routes!(get_participant))
        .routes(routes!(list_users, add_user))
        .routes(routes!(get_user))
        .routes(routes!(set_roles))
        .routes(routes!(activate_user))
        .routes(routes!(deactivate_user))
        .routes(routes!(reset_password))
        .routes(routes!(list_items, add_item))
        .routes(routes!(get_item))
        .routes(routes!(price_item))
        .routes(routes!(list_rates, add_rates))
        .routes(routes!(list_gdp))
}

/// Reference data every signed-in party works with.
#[utoipa::path(get, path = "/participants", tag = "reference", params(PageQuery),
    responses((status = 200, body = ListedDoc), (status = 401, body = ApiProblem)))]
async fn list_participants(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let listed = ctx.app.participants(&caller.reader(), page.page()?).await;
    let listed = listed.map_err(|e| caller.problem(e))?;
    crate::export::respond(page.format()?, "participants", listed)
}

#[utoipa::path(get, path = "/participants/{code}", tag = "reference", params(("code" = String, Path)),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn get_participant(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let found = ctx.app.participant(&caller.reader(), &code).await;
    found.map(with_etag).map_err(|e| caller.problem(e))
}

/// GDP per country per year, with its source (recorded by `POST /imports/gdp`).
#[utoipa::path(get, path = "/gdp", tag = "reference", params(PageQuery),
    responses((status = 200, body = ListedDoc), (status = 401, body = ApiProblem)))]
async fn list_gdp(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let listed = ctx.app.gdp(&caller.reader(), page.page()?).await;
    let listed = listed.map_err(|e| caller.problem(e))?;
    crate::export::respond(page.format()?, "gdp", listed)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewParticipant {
    /// ISO 3166-1 alpha-3 for states (`NLD`), a short code for organisations (`NATO`).
    pub code: String,
    pub name: String,
    /// requester, coordinator, supplier, contributor or auditor.
    pub party: String,
    pub alpha2: Option<String>,
    /// For a NATO Ally: the date it joined (YYYY-MM-DD).
    pub ally_since: Option<String>,
    /// A partner state (not an Ally).
    #[serde(default)]
    pub partner: bool,
}

/// Onboards a participant (coordinator admins).
#[utoipa::path(post, path = "/participants", tag = "reference", request_body = NewParticipant,
    responses((status = 201, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 409, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn add_participant(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body<NewParticipant>,
) -> Result<Response, Problem> {
    let location = format!("/api/v1/participants/{}", body.code);
    write::execute(&ctx, &caller, &headers, body.command()?, Some(location)).await
}

impl NewParticipant {
    pub fn command(&self) -> Result<Command, Problem> {
        let membership = match (&self.ally_since, self.partner) {
            (Some(date), _) => Membership::Ally {
                joined_on: input::date("ally_since", date)?,
            },
            (None, true) => Membership::Partner,
            (None, false) => Membership::Organisation,
        };
        Ok(Command::AddParticipant {
            code: field("code", ParticipantCode::parse(&self.code))?,
            alpha2: self.alpha2.clone(),
            name: field("name", Name::parse(&self.name))?,
            membership,
            party: field("party", Party::parse(&self.party))?,
        })
    }
}

/// Users the caller may see: itself, and as an admin those of its participant (a coordinator
/// admin: everyone).
#[utoipa::path(get, path = "/users", tag = "users", params(PageQuery),
    responses((status = 200, body = ListedDoc), (status = 401, body = ApiProblem)))]
async fn list_users(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let listed = ctx.app.users(&caller.reader(), page.page()?).await;
    let listed = listed.map_err(|e| caller.problem(e))?;
    crate::export::respond(page.format()?, "users", listed)
}

#[utoipa::path(get, path = "/users/{username}", tag = "users", params(("username" = String, Path)),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn get_user(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let found = ctx.app.user(&caller.reader(), &username).await;
    found.map(with_etag).map_err(|e| caller.problem(e))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUser {
    pub username: String,
    pub participant: String,
    pub name: String,
    /// Any of viewer, editor, approver, admin.
    pub roles: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub written: WrittenDoc,
    /// Shown only in the first answer; it must be changed at first sign-in. A replayed answer
    /// has none: issue a new one with `POST /users/{username}/password-reset`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_password: Option<String>,
}

/// Creates a user with a one-time password (admins, for their own participant; coordinator admins
/// for any).
#[utoipa::path(post, path = "/users", tag = "users", request_body = NewUser,
    responses((status = 201, body = CreatedUser), (status = 403, body = ApiProblem), (status = 409, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn add_user(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body<NewUser>,
) -> Result<Response, Problem> {
    let (written, one_time_password) = create_user(&ctx, &caller, &headers, &body).await?;
    let username = &body.username;
    let status = if written.replayed {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::CREATED
    };
    let body = CreatedUser {
        written: WrittenDoc {
            first_seq: written.first_seq,
            last_seq: written.last_seq,
            events: written.events,
            replayed: written.replayed,
        },
        one_time_password,
    };
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = format!("/api/v1/users/{username}").parse() {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, value);
    }
    Ok(response)
}

/// Creates the user and issues its one-time password (none when this repeats an earlier answer).
pub(crate) async fn create_user(
    ctx: &Ctx,
    caller: &Caller,
    headers: &HeaderMap,
    body: &NewUser,
) -> Result<(purl_app::Written, Option<String>), Problem> {
    let username = field("username", Username::parse(&body.username))?;
    let command = Command::AddUser {
        username: username.clone(),
        participant: field("participant", ParticipantCode::parse(&body.participant))?,
        name: field("name", Name::parse(&body.name))?,
        roles: input::roles("roles", &body.roles)?,
    };
    let written = write::run(ctx, caller, headers, command).await?;
    let one_time_password = if written.replayed {
        None
    } else {
        Some(
            ctx.app
                .issue_one_time_password(username.as_str())
                .await
                .map_err(|e| caller.problem(e))?,
        )
    };
    Ok((written, one_time_password))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Roles {
    pub roles: Vec<String>,
}

#[utoipa::path(put, path = "/users/{username}/roles", tag = "users", params(("username" = String, Path)), request_body = Roles,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem)))]
async fn set_roles(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(username): Path<String>,
    Body(body): Body<Roles>,
) -> Result<Response, Problem> {
    let command = Command::SetUserRoles {
        username: field("username", Username::parse(&username))?,
        roles: input::roles("roles", &body.roles)?,
    };
    write::execute(&ctx, &caller, &headers, command, None).await
}

pub(crate) fn set_active_command(username: &str, active: bool) -> Result<Command, Problem> {
    Ok(Command::SetUserActive {
        username: field("username", Username::parse(username))?,
        active,
    })
}

async fn set_active(
    ctx: &Ctx,
    caller: &Caller,
    headers: &HeaderMap,
    username: &str,
    active: bool,
) -> Result<Response, Problem> {
    let command = set_active_command(username, active)?;
    write::execute(ctx, caller, headers, command, None).await
}

#[utoipa::path(post, path = "/users/{username}/activate", tag = "users", params(("username" = String, Path)),
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn activate_user(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Result<Response, Problem> {
    set_active(&ctx, &caller, &headers, &username, true).await
}

#[utoipa::path(post, path = "/users/{username}/deactivate", tag = "users", params(("username" = String, Path)),
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn deactivate_user(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Result<Response, Problem> {
    set_active(&ctx, &caller, &headers, &username, false).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OneTimePassword {
    /// Shown only now; it must be changed at the next sign-in.
    pub one_time_password: String,
}

/// Issues a new one-time password for a user the caller administers (also lifts a lockout).
#[utoipa::path(post, path = "/users/{username}/password-reset", tag = "users", params(("username" = String, Path)),
    responses((status = 200, body = OneTimePassword), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn reset_password(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(username): Path<String>,
) -> Result<Json<OneTimePassword>, Problem> {
    let one_time_password = issue_password(&ctx, &caller, &username).await?;
    Ok(Json(OneTimePassword { one_time_password }))
}

/// A new one-time password for a user the caller administers (also lifts a lockout).
pub(crate) async fn issue_password(
    ctx: &Ctx,
    caller: &Caller,
    username: &str,
) -> Result<String, Problem> {
    let actor = caller.actor()?;
    let found = ctx.app.user(&caller.reader(), username).await;
    let found = found.map_err(|e| caller.problem(e))?;
    let participant = found
        .body
        .get("participant")
        .and_then(|value| value.as_str())
        .and_then(|code| ParticipantCode::parse(code).ok())
        .ok_or_else(|| Problem::not_found(format!("user '{username}' does not exist")))?;
    if !allows(actor, &Action::ManageUsers { participant }) {
        return Err(Problem::forbidden());
    }
    ctx.app
        .issue_one_time_password(username)
        .await
        .map_err(|e| caller.problem(e))
}

#[utoipa::path(get, path = "/catalogue", tag = "reference", params(PageQuery),
    responses((status = 200, body = ListedDoc), (status = 401, body = ApiProblem)))]
async fn list_items(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let listed = ctx.app.items(&caller.reader(), page.page()?).await;
    let listed = listed.map_err(|e| caller.problem(e))?;
    crate::export::respond(page.format()?, "items", listed)
}

#[utoipa::path(get, path = "/catalogue/{code}", tag = "reference", params(("code" = String, Path)),
    responses((status = 200, body = Record), (status = 401, body = ApiProblem), (status = 404, body = ApiProblem)))]
async fn get_item(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(code): Path<String>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let found = ctx.app.item(&caller.reader(), &code).await;
    found.map(with_etag).map_err(|e| caller.problem(e))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewItem {
    pub code: String,
    pub name: String,
    /// e.g. air-defence, artillery, armour, drones, ew, engineering, medical, logistics.
    pub category: String,
    pub lethal: bool,
    /// USD, as a decimal string ("3950000.00").
    pub unit_price: String,
    pub lead_time_days: u32,
}

/// Adds a catalogue item (the supplier's editors).
#[utoipa::path(post, path = "/catalogue", tag = "reference", request_body = NewItem,
    responses((status = 201, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 409, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn add_item(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body<NewItem>,
) -> Result<Response, Problem> {
    let location = format!("/api/v1/catalogue/{}", body.code);
    write::execute(&ctx, &caller, &headers, body.command()?, Some(location)).await
}

impl NewItem {
    pub fn command(&self) -> Result<Command, Problem> {
        Ok(Command::AddItem {
            code: field("code", ItemCode::parse(&self.code))?,
            name: field("name", Name::parse(&self.name))?,
            category: field("category", Category::parse(&self.category))?,
            lethal: self.lethal,
            unit_price: input::positive_money("unit_price", &self.unit_price, Currency::USD)?,
            lead_time_days: self.lead_time_days,
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Price {
    /// USD, as a decimal string.
    pub unit_price: String,
    pub lead_time_days: Option<u32>,
}

/// Prices a catalogue item (the supplier's editors).
#[utoipa::path(post, path = "/catalogue/{code}/price", tag = "reference", params(("code" = String, Path)), request_body = Price,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 404, body = ApiProblem), (status = 412, body = ApiProblem)))]
async fn price_item(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Path(code): Path<String>,
    Body(body): Body<Price>,
) -> Result<Response, Problem> {
    write::execute(&ctx, &caller, &headers, body.command(&code)?, None).await
}

impl Price {
    pub fn command(&self, code: &str) -> Result<Command, Problem> {
        Ok(Command::PriceItem {
            code: field("code", ItemCode::parse(code))?,
            unit_price: input::positive_money("unit_price", &self.unit_price, Currency::USD)?,
            lead_time_days: self.lead_time_days,
        })
    }
}

#[utoipa::path(get, path = "/fx-rates", tag = "reference", params(PageQuery),
    responses((status = 200, body = ListedDoc), (status = 401, body = ApiProblem)))]
async fn list_rates(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Response, Problem> {
    caller.signed_in()?;
    let listed = ctx.app.rates(&caller.reader(), page.page()?).await;
    let listed = listed.map_err(|e| caller.problem(e))?;
    crate::export::respond(page.format()?, "rates", listed)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRate {
    pub currency: String,
    /// YYYY-MM-DD.
    pub date: String,
    /// USD per one unit of the currency, as a decimal string ("1.0824").
    pub usd_per_unit: String,
    pub source: String,
}

impl NewRate {
    /// The rate, its problems naming fields after `prefix`.
    pub fn rate(&self, prefix: &str) -> Result<FxRate, Problem> {
        let at = |name: &str| format!("{prefix}{name}");
        Ok(FxRate {
            currency: input::currency(&at("currency"), &self.currency)?,
            date: input::date(&at("date"), &self.date)?,
            usd_per_unit: field(
                &at("usd_per_unit"),
                Ratio::parse_decimal(&self.usd_per_unit),
            )?,
            source: self.source.clone(),
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewRates {
    pub rates: Vec<NewRate>,
}

/// Records exchange rates (the coordinator's editors).
#[utoipa::path(post, path = "/fx-rates", tag = "reference", request_body = NewRates,
    responses((status = 200, body = WrittenDoc), (status = 403, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn add_rates(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body<NewRates>,
) -> Result<Response, Problem> {
    let rates = body
        .rates
        .iter()
        .enumerate()
        .map(|(index, rate)| rate.rate(&format!("rates[{index}].")))
        .collect::<Result<Vec<_>, Problem>>()?;
    write::execute(
        &ctx,
        &caller,
        &headers,
        Command::RecordRates { rates },
        None,
    )
    .await
}
