//! Administration as pages: the participants (the coordinator's admins onboard them), the users
//! an admin may manage (created with a one-time password shown once, deactivated, reactivated,
//! given a new one-time password), and the access log (coordinator admins and auditors).

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use purl_core::participant::{Membership, Participant, Party};
use purl_core::policy::{allows, Action};
use purl_core::user::{Actor, User};
use serde::Deserialize;

use super::form::{self, Field, FormView, Kind, Sent, Submission};
use super::{failed, layout, paging, signed_in, unreadable, PageError};
use crate::identity::Caller;
use crate::routes::reference::{
    create_user, issue_password, set_active_command, NewParticipant, NewUser,
};
use crate::Ctx;

/// `GET /participants`.
pub async fn participants(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<paging::Offset>,
) -> Result<Markup, PageError> {
    participants_page(&ctx, &caller, query.offset(), None).await
}

async fn participants_page(
    ctx: &Ctx,
    caller: &Caller,
    offset: usize,
    sent: Option<&Sent>,
) -> Result<Markup, PageError> {
    let actor = signed_in(caller)?;
    let csrf = caller.csrf.as_deref().unwrap_or_default();
    let listed = ctx
        .app
        .participants(&caller.reader(), paging::page(offset))
        .await
        .map_err(|error| failed(caller, &error))?;
    let (total, next) = (listed.total, listed.next_offset);
    let participants: Vec<Participant> = paging::in_full(listed.items);
    let parties = Party::ALL
        .iter()
        .map(|party| (party.as_str().to_owned(), party.as_str().to_owned()))
        .collect();
    let partner = vec![
        ("false".to_owned(), "no".to_owned()),
        ("true".to_owned(), "yes".to_owned()),
    ];
    let onboard = FormView::new("participant", "/participants", "Add participant")
        .heading("Onboard a participant")
        .field(Field::new(
            "code",
            "Code (ISO alpha-3, e.g. NLD; or e.g. NATO)",
            Kind::Text,
        ))
        .field(Field::new("name", "Name", Kind::Text))
        .field(Field::new("party", "Party", Kind::Choice(parties)).value("contributor"))
        .field(Field::new("alpha2", "ISO alpha-2 (states)", Kind::Text).optional())
        .field(Field::new("ally_since", "NATO Ally since (YYYY-MM-DD)", Kind::Date).optional())
        .field(Field::new(
            "partner",
            "Partner state (not an Ally)",
            Kind::Choice(partner),
        ));
    Ok(layout::page(
        "Participants",
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p class="note" { (total) " participant(s)." }
            table class="sortable" id="participants" {
                thead { tr { th scope="col" { "code" } th scope="col" { "name" } th scope="col" { "party" } th scope="col" { "membership" } } }
                tbody {
                    @for participant in &participants {
                        tr {
                            td { (participant.code.as_str()) }
                            td { (participant.name.as_str()) }
                            td { (participant.party.as_str()) }
                            td { @match participant.membership {
                                Membership::Ally { joined_on } => { "Ally since " (joined_on) }
                                Membership::Partner => { "partner" }
                                Membership::Organisation => { "organisation" }
                            } }
                        }
                    }
                }
            }
            (paging::links("/participants", "participants", offset, next))
            @if allows(actor, &Action::ManageParticipants) { (onboard.render(csrf, sent)) }
        },
    ))
}

/// `POST /participants`.
pub async fn add_participant(
    State(ctx): State<Ctx>,
    caller: Caller,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    form::perform(
        &ctx,
        &caller,
        Submission::new(pairs),
        |sent| sent.decode::<NewParticipant>()?.command(),
        "/participants",
        async |sent| participants_page(&ctx, &caller, 0, Some(&sent)).await,
    )
    .await
}

/// Whether `actor` administers users of `participant`.
fn administers(actor: &Actor, participant: &purl_core::ids::ParticipantCode) -> bool {
    allows(
        actor,
        &Action::ManageUsers {
            participant: participant.clone(),
        },
    )
}

/// `GET /users`.
pub async fn users(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<paging::Offset>,
) -> Result<Markup, PageError> {
    users_page(&ctx, &caller, query.offset(), None, None).await
}

/// A one-time password just issued, to show once.
struct Issued {
    username: String,
    password: String,
}

async fn users_page(
    ctx: &Ctx,
    caller: &Caller,
    offset: usize,
    sent: Option<&Sent>,
    issued: Option<&Issued>,
) -> Result<Markup, PageError> {
    let actor = signed_in(caller)?;
    let csrf = caller.csrf.as_deref().unwrap_or_default();
    let listed = ctx
        .app
        .users(&caller.reader(), paging::page(offset))
        .await
        .map_err(|error| failed(caller, &error))?;
    let (total, next) = (listed.total, listed.next_offset);
    let users: Vec<User> = paging::in_full(listed.items);
    let own = match actor {
        Actor::User { participant, .. } => participant.as_str().to_owned(),
        Actor::Operator => String::new(),
    };
    let may_add = match actor {
        Actor::User { participant, .. } => administers(actor, participant),
        Actor::Operator => true,
    };
    let add = FormView::new("user", "/users", "Create user")
        .heading("Create a user")
        .field(Field::new(
            "username",
            "User name (e.g. nld.mod)",
            Kind::Text,
        ))
        .field(Field::new("participant", "Participant code", Kind::Text).value(own))
        .field(Field::new("name", "Full name", Kind::Text))
        .field(
            Field::new(
                "roles",
                "Roles (viewer, editor, approver, admin; separated by ,)",
                Kind::Text,
            )
            .value("viewer"),
        );
    Ok(layout::page(
        "Users",
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            @if let Some(issued) = issued {
                div class="notice" role="status" id="one-time-password" {
                    p { "One-time password for " strong { (issued.username) } ": " code { (issued.password) } }
                    p { "It is shown only now. Give it to the user through a separate channel; they must change it when they first sign in." }
                }
            }
            (form::inline_problem(sent))
            p class="note" { (total) " user(s) you may see." }
            table class="sortable" id="users" {
                thead { tr {
                    th scope="col" { "user" } th scope="col" { "participant" } th scope="col" { "name" }
                    th scope="col" { "roles" } th scope="col" { "active" }
                    th scope="col" { span class="visually-hidden" { "manage" } }
                } }
                tbody {
                    @for user in &users {
                        @let name = user.username.as_str();
                        tr {
                            td { (name) }
                            td { (user.participant.as_str()) }
                            td { (user.name.as_str()) }
                            td { (user.roles.iter().map(|role| role.as_str()).collect::<Vec<_>>().join(", ")) }
                            td { (if user.active { "yes" } else { "no" }) }
                            td {
                                @if administers(actor, &user.participant) {
                                    @let (verb, label) = if user.active { ("deactivate", "Deactivate") } else { ("activate", "Activate") };
                                    (FormView::new(format!("{verb}-{name}"), format!("/users/{name}/{verb}"), label)
                                        .button(csrf, &format!("{label} {name}")))
                                    " "
                                    (FormView::new(format!("reset-{name}"), format!("/users/{name}/password-reset"), "New one-time password")
                                        .button(csrf, &format!("New one-time password for {name}")))
                                }
                            }
                        }
                    }
                }
            }
            (paging::links("/users", "users", offset, next))
            @if may_add { (add.render(csrf, sent)) }
        },
    ))
}

/// `POST /users`: creates a user and shows its one-time password once.
pub async fn add_user(
    State(ctx): State<Ctx>,
    caller: Caller,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    signed_in(&caller)?;
    let sent = Submission::new(pairs);
    if !form::from_session(&caller, &sent) {
        return Err(super::not_from_session());
    }
    let body = NewUser {
        username: sent.get("username").unwrap_or_default().to_owned(),
        participant: sent.get("participant").unwrap_or_default().to_uppercase(),
        name: sent.get("name").unwrap_or_default().to_owned(),
        roles: sent
            .get("roles")
            .unwrap_or_default()
            .split([',', ';', ' '])
            .filter(|role| !role.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    match create_user(&ctx, &caller, &HeaderMap::new(), &body).await {
        Ok((_, password)) => {
            let issued = password.map(|password| Issued {
                username: body.username.clone(),
                password,
            });
            Ok(users_page(&ctx, &caller, 0, None, issued.as_ref())
                .await?
                .into_response())
        }
        Err(problem) => {
            form::refuse(&caller, sent, problem, async |sent| {
                users_page(&ctx, &caller, 0, Some(&sent), None).await
            })
            .await
        }
    }
}

/// `POST /users/{username}/{action}`: activate, deactivate or password-reset.
pub async fn act_on_user(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path((username, action)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let sent = Submission::new(pairs);
    if action == "password-reset" {
        signed_in(&caller)?;
        if !form::from_session(&caller, &sent) {
            return Err(super::not_from_session());
        }
        return match issue_password(&ctx, &caller, &username).await {
            Ok(password) => {
                let issued = Issued { username, password };
                Ok(users_page(&ctx, &caller, 0, None, Some(&issued))
                    .await?
                    .into_response())
            }
            Err(problem) => {
                form::refuse(&caller, sent, problem, async |sent| {
                    users_page(&ctx, &caller, 0, Some(&sent), None).await
                })
                .await
            }
        };
    }
    let active = match action.as_str() {
        "activate" => true,
        "deactivate" => false,
        _ => return Err(PageError::not_found()),
    };
    form::perform(
        &ctx,
        &caller,
        sent,
        |_| set_active_command(&username, active),
        "/users",
        async |sent| users_page(&ctx, &caller, 0, Some(&sent), None).await,
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
pub struct After {
    after: Option<u64>,
}

/// Log entries shown on one page.
const LOG_ROWS: u32 = 100;

/// `GET /access-log`: every read of confidential data and every denied request.
pub async fn access_log(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(query): Query<After>,
) -> Result<Markup, PageError> {
    let actor = signed_in(&caller)?;
    let after = query.after.unwrap_or(0);
    let entries = ctx
        .app
        .access_log(&caller.reader(), after, LOG_ROWS)
        .await
        .map_err(|error| unreadable(&caller, error))?;
    let last = entries.last().map(|entry| entry.seq);
    let time = |at_us: i64| {
        chrono::DateTime::from_timestamp_micros(at_us)
            .map(|at| at.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default()
    };
    Ok(layout::page(
        "Access log",
        Some(actor),
        caller.csrf.as_deref(),
        html! {
            p class="note" { "Every read of confidential data and every refused request, oldest first." }
            table class="sortable" id="access-log" {
                thead { tr {
                    th scope="col" class="number" { "entry" } th scope="col" { "at" } th scope="col" { "who" }
                    th scope="col" { "what" } th scope="col" { "outcome" } th scope="col" class="number" { "rows" }
                    th scope="col" { "request" }
                } }
                tbody {
                    @for entry in &entries {
                        tr {
                            td class="number" { (entry.seq) }
                            td { (time(entry.at_us)) }
                            td { (entry.actor) }
                            td { (entry.action) }
                            td { (entry.outcome) }
                            td class="number" { (entry.rows) }
                            td { code { (entry.request_id) } }
                        }
                    }
                }
            }
            nav class="pages" aria-label="Pages of the access log" {
                @if after > 0 { a href="/access-log" { "First" } " " }
                @if let Some(last) = last.filter(|_| entries.len() == LOG_ROWS as usize) {
                    a href={ "/access-log?after=" (last) } { "Next" }
                }
            }
        },
    ))
}
