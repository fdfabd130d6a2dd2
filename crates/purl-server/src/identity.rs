//! Who is calling: a browser session (cookie, with CSRF token for every state-changing request), a
//! personal API token (`Authorization: Bearer`), or the public. Decided once per request by the
//! `identify` middleware, before any handler runs.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use purl_app::access_log::{Outcome, Reader};
use purl_core::user::Actor;
use rand::RngCore;

use crate::problem::Problem;
use crate::Ctx;

pub const SESSION_COOKIE: &str = "purl_session";
/// The session cookie's name when cookies are `Secure` (served over TLS or behind a TLS proxy):
/// the `__Host-` prefix makes browsers refuse it unless it is Secure, for this host only and for
/// every path, so no other site or subdomain can plant one.
pub const SECURE_SESSION_COOKIE: &str = "__Host-purl_session";

/// The session cookie's name under this configuration.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Option<Actor>,
    /// The session cookie, when the caller signed in with a browser session.
    pub session_cookie: Option<String>,
    /// The session's CSRF token: pages put it in their forms and check it on every post.
    pub csrf: Option<String>,
    pub request_id: String,
}

impl Caller {
    pub fn reader(&self) -> Reader<'_> {
        Reader::new(self.actor.as_ref(), &self.request_id)
    }

    /// The signed-in actor, or 401.
    pub fn actor(&self) -> Result<&Actor, Problem> {
        self.actor.as_ref().ok_or_else(Problem::unauthenticated)
    }

    /// 401 for the public on endpoints that hold nothing public.
    pub fn signed_in(&self) -> Result<(), Problem> {
        self.actor().map(|_| ())
    }

    /// An application error as this request's problem document.
    pub fn problem(&self, error: purl_app::AppError) -> Problem {
        Problem::from_app(error, &self.request_id)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| Problem::internal("-"))
    }
}

fn new_request_id() -> String {
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

fn bearer(headers: &HeaderMap) -> Option<Result<String, ()>> {
    let value = headers.get(header::AUTHORIZATION)?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|text| text.strip_prefix("Bearer "))
            .map(|token| token.trim().to_owned())
            .ok_or(()),
    )
}

/// Paths a session whose password must still be changed may use.
const PASSWORD_CHANGE_PATHS: [&str; 5] = [
    "/api/v1/session",
    "/api/v1/session/password",
    "/password",
    "/sign-out",
    "/assets/purl.css",
];

/// Identifies the caller, enforces CSRF for session-authenticated writes, and gives every request
/// an id that the response (`X-Request-Id`) and the log carry.
pub async fn identify(State(ctx): State<Ctx>, mut request: Request, next: Next) -> Response {
    let request_id = new_request_id();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let outcome = caller_of(&ctx, request.headers(), &method, &path, &request_id).await;
    let mut response = match outcome {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        // A page asks for the new password instead of refusing.
        Err(problem)
            if problem.code == "password-change-required" && !path.starts_with("/api/") =>
        {
            axum::response::Redirect::to("/password").into_response()
        }
        Err(problem) => problem.into_response(),
    };
    if let Ok(value) = request_id.parse() {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let status = response.status();
    if status.is_server_error() {
        tracing::error!(request_id, %status, "request failed");
    } else {
        tracing::debug!(request_id, %status, "request done");
    }
    response
}

async fn caller_of(
    ctx: &Ctx,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    request_id: &str,
) -> Result<Caller, Problem> {
    let unsafe_method = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if let Some(presented) = bearer(headers) {
        let actor = match presented {
            Ok(token) => ctx
                .app
                .token_actor(&token)
                .await
                .map_err(|error| Problem::from_app(error, request_id))?,
            Err(()) => None,
        };
        let Some(actor) = actor else {
            let public = Reader::new(None, request_id);
            ctx.app
                .log_access(
                    &public,
                    "authenticate with an API token".into(),
                    Outcome::Denied,
                    0,
                )
                .await
                .map_err(|error| Problem::from_app(error, request_id))?;
            return Err(Problem::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "invalid-token",
                "the API token is unknown, expired or revoked",
            ));
        };
        return Ok(Caller {
            actor: Some(actor),
            session_cookie: None,
            csrf: None,
            request_id: request_id.to_owned(),
        });
    }
    // Pages carry the CSRF token in their forms, checked by the page handler
    // (`pages::form_is_from_session`); a state-changing page request from another site is
    // refused here.
    let page = !path.starts_with("/api/");
    if unsafe_method && page && cross_site(headers) {
        return Err(Problem::new(
            axum::http::StatusCode::FORBIDDEN,
            "cross-site",
            "a form of another site cannot change anything here",
        ));
    }
    if let Some(value) = cookie(headers, session_cookie_name(ctx.config.secure_cookies)) {
        let found = ctx
            .app
            .session(&ctx.config.auth, &value)
            .await
            .map_err(|error| Problem::from_app(error, request_id))?;
        if let Some((session, actor)) = found {
            if unsafe_method && !page {
                let presented = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                if presented != Some(session.csrf.as_str()) {
                    let reader = Reader::new(Some(&actor), request_id);
                    ctx.app
                        .log_access(
                            &reader,
                            format!("{method} {path} without a valid CSRF token"),
                            Outcome::Denied,
                            0,
                        )
                        .await
                        .map_err(|error| Problem::from_app(error, request_id))?;
                    return Err(Problem::new(
                        axum::http::StatusCode::FORBIDDEN,
                        "csrf",
                        format!("a state-changing request of a browser session must carry the session's CSRF token in the {CSRF_HEADER} header"),
                    ));
                }
            }
            if session.must_change_password && !PASSWORD_CHANGE_PATHS.contains(&path) {
                return Err(Problem::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "password-change-required",
                    "this account signed in with a one-time password: change it first (POST /api/v1/session/password)",
                ));
            }
            return Ok(Caller {
                actor: Some(actor),
                session_cookie: Some(value),
                csrf: Some(session.csrf),
                request_id: request_id.to_owned(),
            });
        }
    }
    Ok(Caller {
        actor: None,
        session_cookie: None,
        csrf: None,
        request_id: request_id.to_owned(),
    })
}

/// Whether the browser says the request comes from another site: `Sec-Fetch-Site` when the
/// browser sends it (only `same-origin` and `none`, a request the user made, pass); else an
/// `Origin` naming another host than the one the request was sent to. (`Origin: null`, which
/// browsers send under `Referrer-Policy: no-referrer`, says nothing; the session's SameSite
/// cookie and the form's CSRF token still hold.)
fn cross_site(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    match (text("origin"), text("host")) {
        (Some("null") | None, _) => false,
        (Some(origin), Some(host)) => {
            origin.split_once("://").map_or(origin, |(_, rest)| rest) != host
        }
        (Some(_), None) => true,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderMap;

    use super::cross_site;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("a header value"));
        }
        map
    }

    #[test]
    fn a_form_of_another_site_is_told_apart() {
        let host = ("host", "purl.example:8080");
        assert!(cross_site(&headers(&[
            host,
            ("sec-fetch-site", "cross-site")
        ])));
        assert!(cross_site(&headers(&[
            host,
            ("sec-fetch-site", "same-site")
        ])));
        assert!(!cross_site(&headers(&[
            host,
            ("sec-fetch-site", "same-origin")
        ])));
        assert!(!cross_site(&headers(&[host, ("sec-fetch-site", "none")])));
        // The browser's word wins over the Origin.
        assert!(cross_site(&headers(&[
            host,
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://purl.example:8080"),
        ])));
        assert!(cross_site(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(!cross_site(&headers(&[
            host,
            ("origin", "https://purl.example:8080")
        ])));
        assert!(!cross_site(&headers(&[host, ("origin", "null")])));
        assert!(!cross_site(&headers(&[host])));
    }
}
