//! Sign-in and sign-out, password changes, and personal API tokens.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use purl_app::access_log::Outcome;
use purl_app::auth::{AuthError, TokenInfo};
use purl_core::user::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::identity::{session_cookie_name, Caller};
use crate::input::{idempotency_key, Body, PageQuery};
use crate::problem::{ApiProblem, Problem};
use crate::Ctx;

pub fn router() -> OpenApiRouter<Ctx> {
    OpenApiRouter::new()
        .routes(routes!(who_am_i, sign_in, sign_out))
        .routes(routes!(change_password))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SignIn {
    pub username: String,
    pub password: String,
}

/// The signed-in caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub participant: String,
    pub party: String,
    pub roles: Vec<String>,
    /// Send it as `X-CSRF-Token` with every state-changing request of this browser session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    /// Signed in with a one-time password: only changing it is allowed until then.
    pub must_change_password: bool,
}

fn me(actor: &Actor, csrf_token: Option<String>, must_change_password: bool) -> Option<Me> {
    match actor {
        Actor::User {
            username,
            participant,
            party,
            roles,
        } => Some(Me {
            username: username.to_string(),
            participant: participant.to_string(),
            party: party.as_str().to_owned(),
            roles: roles.iter().map(|role| role.as_str().to_owned()).collect(),
            csrf_token,
            must_change_password,
        }),
        Actor::Operator => None,
    }
}

pub(crate) fn session_cookie(ctx: &Ctx, value: &str, max_age: Option<u32>) -> HeaderValue {
    let secure = if ctx.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let age = max_age.map_or(String::new(), |seconds| format!("; Max-Age={seconds}"));
    let name = session_cookie_name(ctx.config.secure_cookies);
    HeaderValue::try_from(format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}{age}"
    ))
    .expect("cookie values are URL-safe base64")
}

/// Who is signed in.
#[utoipa::path(get, path = "/session", tag = "session",
    responses((status = 200, body = Me), (status = 401, body = ApiProblem)))]
async fn who_am_i(State(ctx): State<Ctx>, caller: Caller) -> Result<Json<Me>, Problem> {
    let actor = caller.actor()?;
    let session = match &caller.session_cookie {
        Some(cookie) => ctx
            .app
            .session(&ctx.config.auth, cookie)
            .await
            .map_err(|error| Problem::from_app(error, &caller.request_id))?
            .map(|(session, _)| session),
        None => None,
    };
    let must_change = session.as_ref().is_some_and(|s| s.must_change_password);
    me(actor, session.map(|s| s.csrf), must_change)
        .map(Json)
        .ok_or_else(Problem::unauthenticated)
}

/// Signs in with a password and opens a browser session (an HttpOnly, SameSite=Strict cookie).
/// Attempts are rate-limited per address and per account, and an account is locked for a while
/// after ten wrong passwords in a row; the answer never says whether an account exists.
#[utoipa::path(post, path = "/session", tag = "session", request_body = SignIn, security(()),
    responses((status = 200, body = Me, description = "signed in; the session cookie is set"),
        (status = 401, body = ApiProblem), (status = 429, body = ApiProblem)))]
async fn sign_in(
    State(ctx): State<Ctx>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    caller: Caller,
    Body(body): Body<SignIn>,
) -> Result<Response, Problem> {
    if !ctx.may_try_sign_in(address.ip()) {
        return Err(refused_sign_in(
            &ctx,
            &caller,
            &body.username,
            AuthError::Throttled {
                retry_after_secs: 60,
            },
        )
        .await);
    }
    let signed_in = match ctx
        .app
        .sign_in(&ctx.config.auth, &body.username, &body.password)
        .await
    {
        Ok(signed_in) => signed_in,
        Err(error) => return Err(refused_sign_in(&ctx, &caller, &body.username, error).await),
    };
    let state = ctx
        .app
        .state()
        .await
        .map_err(|error| Problem::from_app(error, &caller.request_id))?;
    let actor =
        purl_app::auth::actor_of(&state, &body.username).ok_or_else(Problem::unauthenticated)?;
    let body = me(
        &actor,
        Some(signed_in.session.csrf.clone()),
        signed_in.session.must_change_password,
    )
    .ok_or_else(Problem::unauthenticated)?;
    let mut response = Json(body).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(&ctx, &signed_in.cookie, None),
    );
    Ok(response)
}

/// A refused sign-in, recorded in the access log (rate limited or failed alike).
async fn refused_sign_in(ctx: &Ctx, caller: &Caller, username: &str, error: AuthError) -> Problem {
    let what = match error {
        AuthError::Throttled { .. } => format!("sign in as {username}: rate limited"),
        _ => format!("sign in as {username}"),
    };
    if let Err(error) = ctx
        .app
        .log_access(&caller.reader(), what, Outcome::Denied, 0)
        .await
    {
        return Problem::from_app(error, &caller.request_id);
    }
    Problem::from_auth(error, &caller.request_id)
}

/// Signs out: the session ends on the server and the cookie is cleared (signing out without a
/// session, or twice, also answers 204).
#[utoipa::path(delete, path = "/session", tag = "session", security((), ("session" = [])),
    responses((status = 204, description = "signed out")))]
async fn sign_out(State(ctx): State<Ctx>, caller: Caller) -> Result<Response, Problem> {
    if let Some(cookie) = &caller.session_cookie {
        ctx.app
            .sign_out(cookie)
            .await
            .map_err(|error| Problem::from_app(error, &caller.request_id))?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&ctx, "", Some(0)));
    Ok(response)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ChangePassword {
    pub current_password: String,
    /// 12 to 256 characters.
    pub new_password: String,
}

/// Changes the caller's password (required after signing in with a one-time password). Every
/// other session of the user ends.
#[utoipa::path(post, path = "/session/password", tag = "session", request_body = ChangePassword,
    responses((status = 204, description = "changed"), (status = 401, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn change_password(
    State(ctx): State<Ctx>,
    caller: Caller,
    Body(body): Body<ChangePassword>,
) -> Result<StatusCode, Problem> {
    let Actor::User { username, .. } = caller.actor()? else {
        return Err(Problem::unauthenticated());
    };
    ctx.app
        .change_password(
            &ctx.config.auth,
            username.as_str(),
            &body.current_password,
            &body.new_password,
            caller.session_cookie.as_deref(),
        )
        .await
        .map_err(|error| Problem::from_auth(error, &caller.request_id))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Token)]
pub struct TokenDoc {
    pub id: String,
    pub username: String,
    pub name: String,
    pub created_us: i64,
    pub expires_us: i64,
    pub revoked_us: Option<i64>,
    pub last_used_us: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    #[schema(value_type = Vec<TokenDoc>)]
    pub items: Vec<TokenInfo>,
    pub total: usize,
    pub next_offset: Option<usize>,
}

/// The caller's API tokens, and as an admin those of the users it administers (never secrets).
#[utoipa::path(get, path = "/tokens", tag = "session", params(PageQuery),
    responses((status = 200, body = TokenList), (status = 401, body = ApiProblem)))]
async fn list_tokens(
    State(ctx): State<Ctx>,
    caller: Caller,
    Query(page): Query<PageQuery>,
) -> Result<Json<TokenList>, Problem> {
    let actor = caller.actor()?;
    let page = page.page()?;
    let all = ctx
        .app
        .tokens(actor)
        .await
        .map_err(|error| Problem::from_app(error, &caller.request_id))?;
    let total = all.len();
    let items: Vec<TokenInfo> = all.into_iter().skip(page.offset).take(page.limit).collect();
    let next_offset = (page.offset + items.len() < total).then_some(page.offset + items.len());
    Ok(Json(TokenList {
        items,
        total,
        next_offset,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    pub name: String,
    /// 1 to 366 (default 90).
    pub expires_in_days: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// Shown only now: send it as `Authorization: Bearer <token>`. Absent when this answers a
    /// retry (same `Idempotency-Key`): the secret was in the first answer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub replayed: bool,
    #[serde(flatten)]
    #[schema(value_type = TokenDoc)]
    pub info: TokenInfo,
}

/// Creates a personal API token for the caller. Its secret is in this answer only; a retry with
/// the same `Idempotency-Key` creates no second token.
#[utoipa::path(post, path = "/tokens", tag = "session", request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 200, body = CreatedToken, description = "a retry"),
        (status = 401, body = ApiProblem), (status = 422, body = ApiProblem)))]
async fn create_token(
    State(ctx): State<Ctx>,
    caller: Caller,
    headers: HeaderMap,
    Body(body): Body<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), Problem> {
    let actor = caller.actor()?;
    let key = idempotency_key(&headers)?;
    let (info, token) = ctx
        .app
        .create_token(
            actor,
            &body.name,
            body.expires_in_days.unwrap_or(90),
            key.as_deref(),
        )
        .await
        .map_err(|error| Problem::from_app(error, &caller.request_id))?;
    let replayed = token.is_none();
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(CreatedToken {
            token,
            replayed,
            info,
        }),
    ))
}

/// Revokes a token: the caller's own, or one of a user it administers.
#[utoipa::path(delete, path = "/tokens/{id}", tag = "session", params(("id" = String, Path)),
    responses((status = 200, body = TokenDoc), (status = 404, body = ApiProblem)))]
async fn revoke_token(
    State(ctx): State<Ctx>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TokenInfo>, Problem> {
    let actor = caller.actor()?;
    ctx.app
        .revoke_token(actor, &id)
        .await
        .map(Json)
        .map_err(|error| Problem::from_app(error, &caller.request_id))
}
