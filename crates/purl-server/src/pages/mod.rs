//! Server-rendered pages (maud): forms that work without JavaScript, one stylesheet embedded in
//! the binary, nothing fetched from elsewhere. A page reads through the same access policy as the
//! API; every form that changes something carries the session's CSRF token, checked here.

mod admin;
mod allocation;
mod chart;
mod contributions;
mod coverage;
mod form;
mod format;
mod layout;
mod ledger;
mod lists;
mod overview;
mod packages;
mod paging;
mod payments;
mod pipeline;
mod pledges;
mod reference;
mod timeline;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use maud::{html, Markup};
use purl_app::access_log::Outcome;
use serde::Deserialize;

use crate::identity::Caller;
use crate::routes::session::session_cookie;
use crate::Ctx;

const STYLESHEET: &str = include_str!("../../assets/purl.css");
const SCRIPT: &str = include_str!("../../assets/purl.js");

pub fn router() -> Router<Ctx> {
    Router::new()
        .route("/", get(public_overview))
        .route("/home", get(home))
        .route("/sign-in", get(sign_in_form).post(sign_in))
        .route("/sign-out", axum::routing::post(sign_out))
        .route("/password", get(password_form).post(change_password))
        .route("/ledger", get(ledger::page))
        .route("/pledges", get(pledges::list).post(pledges::record))
        .route(
            "/pledges/{reference}/{action}",
            axum::routing::post(pledges::act),
        )
        .route("/lists", get(lists::index).post(lists::create))
        .route("/lists/{period}", get(lists::editor))
        .route("/lists/{period}/diff", get(lists::diff))
        .route("/lists/{period}/import", axum::routing::post(lists::import))
        .route("/lists/{period}/{action}", axum::routing::post(lists::act))
        .route(
            "/catalogue",
            get(reference::catalogue).post(reference::add_item),
        )
        .route(
            "/catalogue/{code}/price",
            axum::routing::post(reference::price_item),
        )
        .route("/rates", get(reference::rates).post(reference::record_rate))
        .route("/payments", get(payments::list).post(payments::record))
        .route("/packages", get(packages::index).post(packages::create))
        .route("/packages/{number}", get(packages::detail))
        .route(
            "/packages/{number}/{action}",
            axum::routing::post(packages::act),
        )
        .route(
            "/deliveries/{id}/receipt",
            axum::routing::post(packages::receive),
        )
        .route(
            "/allocation",
            get(allocation::preview).post(allocation::commit),
        )
        .route("/allocations", get(allocation::committed))
        .route("/reports", get(reports_index))
        .route("/reports/contributions", get(contributions::page))
        .route("/reports/coverage", get(coverage::page))
        .route("/reports/timeline", get(timeline::page))
        .route("/reports/pipeline", get(pipeline::page))
        .route(
            "/participants",
            get(admin::participants).post(admin::add_participant),
        )
        .route("/users", get(admin::users).post(admin::add_user))
        .route(
            "/users/{username}/{action}",
            axum::routing::post(admin::act_on_user),
        )
        .route("/access-log", get(admin::access_log))
        .route("/assets/purl.css", get(stylesheet))
        .route("/assets/purl.js", get(script))
}

/// A page that could not be shown: its status and a short page saying why (never more than the
/// caller may know).
struct PageError(StatusCode, &'static str);

impl PageError {
    /// The caller must sign in first (answered by a redirect to the sign-in page).
    fn sign_in() -> Self {
        PageError(StatusCode::UNAUTHORIZED, "Sign in first.")
    }

    /// A record that does not exist, or that the reader may not see: the same answer for both.
    fn not_found() -> Self {
        PageError(
            StatusCode::NOT_FOUND,
            "There is no such record, or it is not one you may see.",
        )
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let PageError(status, message) = self;
        if status == StatusCode::UNAUTHORIZED {
            return Redirect::to("/sign-in").into_response();
        }
        let page = layout::page(
            status.canonical_reason().unwrap_or("Error"),
            None,
            None,
            html! { p { (message) } p { a href="/" { "Back to the public overview" } } },
        );
        (status, page).into_response()
    }
}

fn failed(caller: &Caller, error: &impl std::fmt::Display) -> PageError {
    tracing::error!(request_id = caller.request_id, %error, "a page failed");
    PageError(
        StatusCode::SERVICE_UNAVAILABLE,
        "The page could not be made just now; try again in a moment.",
    )
}

/// `GET /reports`: the reports the reader may open.
async fn reports_index(caller: Caller) -> Markup {
    let actor = caller.actor.as_ref();
    layout::page(
        "Reports",
        actor,
        caller.csrf.as_deref(),
        html! {
            p class="note" { "Each report is a page with charts and tables, and the same figures as JSON, CSV and XLSX." }
            ul class="reports" {
                @for (href, name, what) in layout::reports(actor) {
                    li { a href=(href) { (name) } ": " (what) "." }
                }
            }
        },
    )
}

/// A read that failed: not found and not visible read the same; anything else is logged.
fn unreadable(caller: &Caller, error: purl_app::AppError) -> PageError {
    match error {
        purl_app::AppError::NotFound(_) | purl_app::AppError::Denied => PageError::not_found(),
        error => failed(caller, &error),
    }
}

/// The signed-in actor, or the way to the sign-in page.
fn signed_in(caller: &Caller) -> Result<&purl_core::user::Actor, PageError> {
    caller.actor.as_ref().ok_or_else(PageError::sign_in)
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// The public overview: aggregates and public pledges, no sign-in.
async fn public_overview(State(ctx): State<Ctx>, caller: Caller) -> Result<Markup, PageError> {
    let public = Caller {
        actor: None,
        ..caller.clone()
    };
    let figures = ctx
        .app
        .overview_view(&public.reader(), ctx.app.today())
        .await
        .map_err(|error| failed(&caller, &error))?;
    Ok(layout::page(
        "Public overview",
        caller.actor.as_ref(),
        caller.csrf.as_deref(),
        overview::overview(
            &figures,
            "/api/v1/public/overview",
            "/api/v1/reports/overview?",
        ),
    ))
}

/// The signed-in party's home: the overview as it may see it.
async fn home(State(ctx): State<Ctx>, caller: Caller) -> Result<Response, PageError> {
    let Some(actor) = caller.actor.as_ref() else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    let figures = ctx
        .app
        .overview_view(&caller.reader(), ctx.app.today())
        .await
        .map_err(|error| failed(&caller, &error))?;
    Ok(layout::page(
        "Home",
        Some(actor),
        caller.csrf.as_deref(),
        overview::overview(
            &figures,
            "/api/v1/reports/overview",
            "/api/v1/reports/overview?",
        ),
    )
    .into_response())
}

#[derive(Debug, Default, Deserialize)]
struct SignInForm {
    username: String,
    password: String,
}

fn sign_in_page(username: &str, problem: Option<&str>) -> Markup {
    layout::page(
        "Sign in",
        None,
        None,
        html! {
            form method="post" action="/sign-in" class="form" {
                @if let Some(problem) = problem {
                    p class="problem" role="alert" id="sign-in-problem" { (problem) }
                }
                label for="username" { "User name" }
                input id="username" name="username" type="text" autocomplete="username" required
                    value=(username) aria-describedby=[problem.map(|_| "sign-in-problem")];
                label for="password" { "Password" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" { "Sign in" }
            }
        },
    )
}

async fn sign_in_form(caller: Caller) -> Response {
    if caller.actor.is_some() {
        return Redirect::to("/home").into_response();
    }
    sign_in_page("", None).into_response()
}

/// Signs in with the form's user name and password: the same checks, limits and answers as
/// `POST /api/v1/session` (a wrong password and an unknown user read the same).
async fn sign_in(
    State(ctx): State<Ctx>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    caller: Caller,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    if !ctx.may_try_sign_in(address.ip()) {
        return Ok(too_many_sign_ins(&form.username, 60));
    }
    match ctx
        .app
        .sign_in(&ctx.config.auth, &form.username, &form.password)
        .await
    {
        Ok(signed_in) => {
            let mut response = Redirect::to("/home").into_response();
            response.headers_mut().insert(
                header::SET_COOKIE,
                session_cookie(&ctx, &signed_in.cookie, None),
            );
            Ok(response)
        }
        Err(purl_app::auth::AuthError::Throttled { retry_after_secs }) => {
            ctx.app
                .log_access(
                    &caller.reader(),
                    format!("sign in as {}: rate limited", form.username),
                    Outcome::Denied,
                    0,
                )
                .await
                .map_err(|error| failed(&caller, &error))?;
            Ok(too_many_sign_ins(&form.username, retry_after_secs))
        }
        Err(purl_app::auth::AuthError::Failed) => {
            ctx.app
                .log_access(
                    &caller.reader(),
                    format!("sign in as {}", form.username),
                    Outcome::Denied,
                    0,
                )
                .await
                .map_err(|error| failed(&caller, &error))?;
            Ok((
                StatusCode::UNAUTHORIZED,
                sign_in_page(
                    &form.username,
                    Some("The user name or the password is wrong."),
                ),
            )
                .into_response())
        }
        Err(error) => Err(failed(&caller, &error)),
    }
}

/// The sign-in page again, with 429 and `Retry-After`.
fn too_many_sign_ins(username: &str, retry_after_secs: u64) -> Response {
    let message = format!("Too many sign-in attempts; try again in {retry_after_secs} seconds.");
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        sign_in_page(username, Some(&message)),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// Every field defaults, so a form without its token is refused for that (403), not for its shape.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CsrfOnly {
    csrf: String,
}

/// The answer to a form that does not carry the session's CSRF token.
fn not_from_session() -> PageError {
    PageError(
        StatusCode::FORBIDDEN,
        "This form is not from your session; reload the page and try again.",
    )
}

/// Whether the form carries the caller's session CSRF token.
fn form_is_from_session(caller: &Caller, presented: &str) -> bool {
    caller
        .csrf
        .as_deref()
        .is_some_and(|expected| expected == presented)
}

async fn sign_out(
    State(ctx): State<Ctx>,
    caller: Caller,
    Form(form): Form<CsrfOnly>,
) -> Result<Response, PageError> {
    let Some(cookie) = caller.session_cookie.as_deref() else {
        return Ok(Redirect::to("/").into_response());
    };
    if !form_is_from_session(&caller, &form.csrf) {
        return Err(not_from_session());
    }
    ctx.app
        .sign_out(cookie)
        .await
        .map_err(|error| failed(&caller, &error))?;
    let mut response = Redirect::to("/").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&ctx, "", Some(0)));
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
}

fn password_page(caller: &Caller, problem: Option<(&str, &str)>) -> Markup {
    let (field, message) = problem.unzip();
    let described = |name: &str| (field == Some(name)).then_some("password-problem");
    layout::page(
        "Change your password",
        caller.actor.as_ref(),
        caller.csrf.as_deref(),
        html! {
            p { "A one-time password must be changed before anything else. The new password needs 12 to 256 characters." }
            form method="post" action="/password" class="form" {
                input type="hidden" name="csrf" value=(caller.csrf.as_deref().unwrap_or_default());
                label for="current_password" { "Current password" }
                input id="current_password" name="current_password" type="password"
                    autocomplete="current-password" required aria-describedby=[described("current_password")];
                @if field == Some("current_password") {
                    p class="problem" role="alert" id="password-problem" { (message.unwrap_or_default()) }
                }
                label for="new_password" { "New password" }
                input id="new_password" name="new_password" type="password" minlength="12"
                    autocomplete="new-password" required aria-describedby=[described("new_password")];
                @if field == Some("new_password") {
                    p class="problem" role="alert" id="password-problem" { (message.unwrap_or_default()) }
                }
                button type="submit" { "Change password" }
            }
        },
    )
}

async fn password_form(caller: Caller) -> Response {
    if caller.actor.is_none() {
        return Redirect::to("/sign-in").into_response();
    }
    password_page(&caller, None).into_response()
}

/// Changes the signed-in user's password (`POST /api/v1/session/password` as a form); a problem
/// is shown next to the field it concerns.
async fn change_password(
    State(ctx): State<Ctx>,
    caller: Caller,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    let Some(purl_core::user::Actor::User { username, .. }) = caller.actor.as_ref() else {
        return Ok(Redirect::to("/sign-in").into_response());
    };
    if !form_is_from_session(&caller, &form.csrf) {
        return Err(not_from_session());
    }
    let changed = ctx
        .app
        .change_password(
            &ctx.config.auth,
            username.as_str(),
            &form.current_password,
            &form.new_password,
            caller.session_cookie.as_deref(),
        )
        .await;
    match changed {
        Ok(()) => Ok(Redirect::to("/home").into_response()),
        Err(purl_app::auth::AuthError::Failed) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            password_page(
                &caller,
                Some(("current_password", "The current password is wrong.")),
            ),
        )
            .into_response()),
        Err(purl_app::auth::AuthError::Invalid(message)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            password_page(&caller, Some(("new_password", message.as_str()))),
        )
            .into_response()),
        Err(error @ purl_app::auth::AuthError::Throttled { retry_after_secs }) => {
            let message = error.to_string();
            let mut response = (
                StatusCode::TOO_MANY_REQUESTS,
                password_page(&caller, Some(("current_password", message.as_str()))),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            Ok(response)
        }
        Err(error) => Err(failed(&caller, &error)),
    }
}
