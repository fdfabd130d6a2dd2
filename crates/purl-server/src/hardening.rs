//! What wraps every route: the caller's identity, a body size limit, a timeout, security headers,
//! problem documents for unknown routes and methods, and a 500 without detail if a handler panics.

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::identity::identify;
use crate::problem::Problem;
use crate::Ctx;

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn no_route() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "no-route",
        "there is no such endpoint; the API is described at /api/v1/openapi.json",
    )
}

async fn wrong_method() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "this endpoint does not take that method; see /api/v1/openapi.json",
    )
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the server failed; its operator has the details in the log",
    )
    .into_response()
}

/// The answers axum's extractors give a request they cannot read (a query, a path or a body of the
/// wrong shape) are plain text; under `/api/` they become problem documents like every other error.
async fn plain_errors_as_problems(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/plain"));
    let status = response.status();
    if !(api && plain && (status.is_client_error() || status.is_server_error())) {
        return response;
    }
    let detail = match axum::body::to_bytes(response.into_body(), 16 * 1024).await {
        Ok(_) if status.is_server_error() => "the server failed".to_owned(),
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    };
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        _ if status.is_server_error() => "internal",
        _ => "bad-request",
    };
    Problem::new(status, code, detail).into_response()
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

pub fn wrap(router: Router, ctx: Ctx) -> Router {
    let timeout = ctx.config.request_timeout;
    let body_limit = ctx.config.body_limit;
    router
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(ctx, identify))
        .layer(axum::middleware::from_fn(plain_errors_as_problems))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(panicked))
        .layer(header_layer(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "no-referrer"))
        .layer(header_layer(header::CACHE_CONTROL, "no-store"))
}
