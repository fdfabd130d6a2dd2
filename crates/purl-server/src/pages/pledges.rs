//! Pledges as a page: the pledges the reader may see (a contributor its own in full, the others
//! flagged public in summary; the coordinator all), a form to record one, and buttons to commit a
//! pledge or flag it public — each a form with the session's CSRF token, answered by a redirect.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};
use purl_core::command::Command;
use purl_core::participant::Party;
use purl_core::user::Actor;
use serde::Deserialize;
use serde_json::Value;

use super::format::grouped;
use super::{failed, form_is_from_session, layout, not_from_session, paging, PageError};
use crate::identity::Caller;
use crate::problem::Problem;
use crate::routes::money::{new_pledge, NewPledgeInput};
use crate::Ctx;

/// Every field defaults, so a form without its token is refused for that (403), not for its shape.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PledgeForm {
    csrf: String,
    reference: String,
    /// Semicolon-separated participant codes (a contributor's own code among them; a joint pledge
    /// names every contributor).
    #[serde(default)]
    contributors: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    currency: String,
    announced_on: String,
    #[serde(default)]
    status: String,
    /// A checked box sends `on`.
    #[serde(default)]
    public: Option<String>,
}

/// A problem to show: the field it concerns (none: the whole form) and what is wrong.
struct Shown {
    field: Option<String>,
    message: String,
}

impl From<Problem> for Shown {
    fn from(problem: Problem) -> Self {
        let field = problem.field.map(|field| {
            field
                .split(['[', '.'])
                .next()
                .unwrap_or_default()
                .to_owned()
        });
        Shown {
            field,
            message: problem.detail,
        }
    }
}

fn text<'a>(item: &'a Value, key: &str) -> &'a str {
    item.get(key).and_then(Value::as_str).unwrap_or("—")
}

fn amount(item: &Value) -> String {
    match (
        item.get("amount"),
        item.get("currency").and_then(Value::as_str),
    ) {
        (Some(Value::String(amount)), Some(currency)) => format!("{currency} {}", grouped(amount)),
        (Some(Value::Object(money)), _) => format!(
            "{} {}",
            money.get("currency").and_then(Value::as_str).unwrap_or(""),
            grouped(money.get("amount").and_then(Value::as_str).unwrap_or(""))
        ),
        _ => "not disclosed".to_owned(),
    }
}

/// Whether the reader may change `item`: the coordinator any, a contributor's editors their own
/// (the policy decides again when the command runs).
fn may_change(actor: &Actor, item: &Value) -> bool {
    let Actor::User {
        participant, party, ..
    } = actor
    else {
        return false;
    };
    match party {
        Party::Coordinator => true,
        Party::Contributor => item
            .get("contributors")
            .and_then(Value::as_array)
            .is_some_and(|codes| {
                codes
                    .iter()
                    .any(|code| code.as_str() == Some(participant.as_str()))
            }),
        _ => false,
    }
}

fn field_problem(shown: Option<&Shown>, field: &str) -> Markup {
    html! {
        @if let Some(shown) = shown.filter(|s| s.field.as_deref() == Some(field)) {
            p class="problem" role="alert" id={ (field) "-problem" } { (shown.message) }
        }
    }
}

fn described(shown: Option<&Shown>, field: &str) -> Option<String> {
    shown
        .filter(|s| s.field.as_deref() == Some(field))
        .map(|_| format!("{field}-problem"))
}

fn record_form(csrf: &str, form: &PledgeForm, shown: Option<&Shown>) -> Markup {
    html! {
        h2 id="record-heading" { "Record a pledge" }
        form method="post" action="/pledges" class="form" aria-labelledby="record-heading" {
            @if let Some(shown) = shown.filter(|s| s.field.is_none()) {
                p class="problem" role="alert" { (shown.message) }
            }
            input type="hidden" name="csrf" value=(csrf);
            label for="reference" { "Reference (e.g. NLD-2026-01)" }
            input id="reference" name="reference" type="text" required value=(form.reference)
                aria-describedby=[described(shown, "reference")];
            (field_problem(shown, "reference"))
            label for="contributors" { "Contributors (codes separated by ; — a joint pledge names each)" }
            input id="contributors" name="contributors" type="text" required value=(form.contributors)
                aria-describedby=[described(shown, "contributors")];
            (field_problem(shown, "contributors"))
            label for="amount" { "Amount (empty if not disclosed)" }
            input id="amount" name="amount" type="text" inputmode="decimal" value=(form.amount)
                aria-describedby=[described(shown, "amount")];
            (field_problem(shown, "amount"))
            label for="currency" { "Currency (ISO code, e.g. EUR)" }
            input id="currency" name="currency" type="text" maxlength="3" value=(form.currency)
                aria-describedby=[described(shown, "currency")];
            (field_problem(shown, "currency"))
            label for="announced_on" { "Announced on (YYYY-MM-DD)" }
            input id="announced_on" name="announced_on" type="text" required value=(form.announced_on)
                pattern="[0-9]{4}-[0-9]{2}-[0-9]{2}" inputmode="numeric" autocomplete="off"
                aria-describedby=[described(shown, "announced_on")];
            (field_problem(shown, "announced_on"))
            label for="status" { "Status" }
            select id="status" name="status" {
                option value="announced" selected[form.status != "committed"] { "announced" }
                option value="committed" selected[form.status == "committed"] { "committed" }
            }
            label class="check" {
                input type="checkbox" name="public" checked[form.public.is_some()];
                " Announced publicly (shown to everyone)"
            }
            button type="submit" { "Record pledge" }
        }
    }
}

fn row_actions(csrf: &str, item: &Value) -> Markup {
    let reference = text(item, "reference");
    let public = item.get("public").and_then(Value::as_bool).unwrap_or(false);
    html! {
        @if text(item, "status") == "announced" {
            form method="post" action={ "/pledges/" (reference) "/commit" } class="inline" {
                input type="hidden" name="csrf" value=(csrf);
                button type="submit" aria-label={ "Commit " (reference) } { "Commit" }
            }
        }
        form method="post" action={ "/pledges/" (reference) "/public" } class="inline" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="public" value=(if public { "false" } else { "true" });
            button type="submit" aria-label={ (if public { "Make private " } else { "Make public " }) (reference) } {
                (if public { "Make private" } else { "Make public" })
            }
        }
    }
}

async fn page(
    ctx: &Ctx,
    caller: &Caller,
    offset: usize,
    form: &PledgeForm,
    shown: Option<&Shown>,
) -> Result<Markup, PageError> {
    let actor = caller.actor.as_ref().ok_or(PageError(
        StatusCode::UNAUTHORIZED,
        "Sign in to see pledges.",
    ))?;
    let csrf = caller.csrf.as_deref().unwrap_or_default();
    let listed = ctx
        .app
        .pledges(&caller.reader(), paging::page(offset))
        .await
        .map_err(|error| failed(caller, &error))?;
    let may_record = matches!(
        actor,
        Actor::User {
            party: Party::Coordinator | Party::Contributor,
            ..
        }
    );
    Ok(layout::page(
        "Pledges",
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p class="note" { (listed.total) " pledge(s) you may see. "
                a href="/api/v1/pledges?format=csv" { "CSV" } ", "
                a href="/api/v1/pledges?format=xlsx" { "XLSX" } "." }
            table class="sortable" id="pledges" {
                thead {
                    tr {
                        th scope="col" { "reference" }
                        th scope="col" { "contributors" }
                        th scope="col" class="number" { "amount" }
                        th scope="col" { "status" }
                        th scope="col" { "announced" }
                        th scope="col" { "public" }
                        th scope="col" { span class="visually-hidden" { "actions" } }
                    }
                }
                tbody {
                    @for item in &listed.items {
                        tr {
                            td { (text(item, "reference")) }
                            td { (item.get("contributors").and_then(Value::as_array).map(|codes| codes.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default()) }
                            td class="number" { (amount(item)) }
                            td { (text(item, "status")) }
                            td { (text(item, "announced_on")) }
                            td { (if item.get("public").and_then(Value::as_bool).unwrap_or(false) { "yes" } else { "no" }) }
                            td { @if may_change(actor, item) { (row_actions(csrf, item)) } }
                        }
                    }
                }
            }
            (paging::links("/pledges", "pledges", offset, listed.next_offset))
            @if may_record { (record_form(csrf, form, shown)) }
        },
    ))
}

pub async fn list(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<paging::Offset>,
) -> Result<Response, PageError> {
    if caller.actor.is_none() {
        return Ok(Redirect::to("/sign-in").into_response());
    }
    let form = blank_form(&ctx, &caller);
    Ok(page(&ctx, &caller, query.offset(), &form, None)
        .await?
        .into_response())
}

/// A new pledge's form: announced today; a contributor's own code filled in.
fn blank_form(ctx: &Ctx, caller: &Caller) -> PledgeForm {
    let contributors = match caller.actor.as_ref() {
        Some(Actor::User {
            participant,
            party: Party::Contributor,
            ..
        }) => participant.to_string(),
        _ => String::new(),
    };
    PledgeForm {
        announced_on: ctx.app.today().to_string(),
        contributors,
        ..PledgeForm::default()
    }
}

/// Runs `command` for the caller, as the API would.
async fn run(ctx: &Ctx, caller: &Caller, command: Command) -> Result<(), Problem> {
    crate::write::run(ctx, caller, &HeaderMap::new(), command)
        .await
        .map(|_| ())
}

pub async fn record(
    State(ctx): State<Ctx>,
    caller: Caller,
    Form(form): Form<PledgeForm>,
) -> Result<Response, PageError> {
    let Some(Actor::User {
        participant, party, ..
    }) = caller.actor.as_ref()
    else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    if !form_is_from_session(&caller, &form.csrf) {
        return Err(not_from_session());
    }
    let optional = |text: &str| (!text.trim().is_empty()).then(|| text.trim().to_owned());
    let mut contributors: Vec<String> = form
        .contributors
        .split(';')
        .map(str::trim)
        .filter(|code| !code.is_empty())
        .map(str::to_ascii_uppercase)
        .collect();
    if contributors.is_empty() && *party == Party::Contributor {
        contributors.push(participant.to_string());
    }
    let input = NewPledgeInput {
        reference: form.reference.trim().to_owned(),
        contributors,
        amount: optional(&form.amount),
        currency: optional(&form.currency).map(|code| code.to_ascii_uppercase()),
        announced_on: form.announced_on.trim().to_owned(),
        status: optional(&form.status),
        part_of: None,
        earmark: None,
        conditions: None,
        public: form.public.is_some(),
        note: None,
    };
    let outcome = match new_pledge(&input) {
        Ok(pledge) => run(&ctx, &caller, Command::RecordPledge { pledge }).await,
        Err(problem) => Err(problem),
    };
    match outcome {
        Ok(()) => Ok(Redirect::to("/pledges").into_response()),
        Err(problem) if problem.status >= 500 => Err(failed(&caller, &problem.detail)),
        Err(problem) => {
            let shown = Shown::from(problem);
            let markup = page(&ctx, &caller, 0, &form, Some(&shown)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, markup).into_response())
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    /// For `/public`: `true` or `false`.
    public: Option<String>,
}

/// `POST /pledges/{reference}/commit` and `/public`.
pub async fn act(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path((reference, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    if caller.actor.is_none() {
        return Ok(Redirect::to("/sign-in").into_response());
    }
    if !form_is_from_session(&caller, &form.csrf) {
        return Err(not_from_session());
    }
    let not_found = PageError(StatusCode::NOT_FOUND, "There is no such pledge.");
    let reference = purl_core::ids::Reference::parse(&reference)
        .map_err(|_| PageError(not_found.0, not_found.1))?;
    let command = match action.as_str() {
        "commit" => Command::CommitPledge { reference },
        "public" => Command::SetPledgePublic {
            reference,
            public: form.public.as_deref() == Some("true"),
        },
        _ => return Err(not_found),
    };
    match run(&ctx, &caller, command).await {
        Ok(()) => Ok(Redirect::to("/pledges").into_response()),
        Err(problem) if problem.status >= 500 => Err(failed(&caller, &problem.detail)),
        Err(problem) => {
            let shown = Shown {
                field: None,
                message: problem.detail,
            };
            let form = blank_form(&ctx, &caller);
            let markup = page(&ctx, &caller, 0, &form, Some(&shown)).await?;
            Ok((
                StatusCode::from_u16(problem.status).unwrap_or(StatusCode::CONFLICT),
                markup,
            )
                .into_response())
        }
    }
}
