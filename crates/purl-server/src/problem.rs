//! Errors as `application/problem+json` (RFC 9457): a stable `code`, a message for people, the
//! field that is wrong for bad input, and never an internal detail (a 5xx carries only the request
//! id, which is in the server's log with the cause).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use purl_app::auth::AuthError;
use purl_app::import::ImportProblem;
use purl_app::AppError;
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem document (kept small: it is the error of every handler).
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: u16,
    /// Stable and machine-readable, e.g. `not-found`, `invalid`, `stale-version`.
    pub code: &'static str,
    pub detail: String,
    /// For bad input: the field (or header, or query parameter) that is wrong.
    pub field: Option<String>,
    /// For a refused batch: every problem, each saying where it is.
    pub problems: Vec<ImportProblem>,
    pub request_id: Option<Box<str>>,
    /// For a 429: seconds until a retry may succeed, sent as `Retry-After`.
    pub retry_after_secs: Option<u32>,
}

/// The problem document, as the OpenAPI document names it.
pub type ApiProblem = ProblemDoc<'static>;

/// The problem document as sent.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDoc<'a> {
    /// `urn:purl-ledger:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: &'a str,
    pub status: u16,
    /// Stable and machine-readable, e.g. `not-found`, `invalid`, `stale-version`.
    pub code: &'a str,
    pub detail: &'a str,
    /// For bad input: the field (or header, or query parameter) that is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'a str>,
    /// For a refused batch: every problem, each saying where it is (file, row, column).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub problems: &'a [ImportProblem],
    /// For a 5xx: the id under which the server logged the cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<&'a str>,
}

impl Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ProblemDoc {
            kind: format!("urn:purl-ledger:problem:{}", self.code),
            title: status.canonical_reason().unwrap_or("Error"),
            status: self.status,
            code: self.code,
            detail: &self.detail,
            field: self.field.as_deref(),
            problems: &self.problems,
            request_id: self.request_id.as_deref(),
        }
        .serialize(serializer)
    }
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status: status.as_u16(),
            code,
            detail: detail.into(),
            field: None,
            problems: Vec::new(),
            request_id: None,
            retry_after_secs: None,
        }
    }

    /// Bad input in `field`.
    pub fn invalid(field: &str, detail: impl std::fmt::Display) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("{field}: {detail}"),
            )
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "sign in, or send a valid API token as `Authorization: Bearer <token>`",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "not permitted")
    }

    /// A failure whose cause is only in the server's log.
    pub fn internal(request_id: &str) -> Self {
        Self {
            request_id: Some(request_id.into()),
            ..Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("the server failed; quote request id {request_id} to its operator"),
            )
        }
    }

    /// The database cannot be reached, is read-only or full: nothing was written; try again.
    pub fn unavailable(request_id: &str) -> Self {
        Self {
            request_id: Some(request_id.into()),
            retry_after_secs: Some(5),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the service cannot use its storage just now; nothing was changed; try again shortly",
            )
        }
    }

    /// Turns an application error into a problem; internal causes are logged with `request_id`.
    pub fn from_app(error: AppError, request_id: &str) -> Self {
        match error {
            AppError::Invalid(message) => {
                let field = message
                    .split_once(": ")
                    .map(|(field, _)| field)
                    .filter(|field| !field.contains(' ') && field.len() < 40)
                    .map(str::to_owned);
                Self {
                    field,
                    ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
                }
            }
            AppError::NotFound(message) => Self::not_found(message),
            AppError::Conflict(message) => Self::new(StatusCode::CONFLICT, "conflict", message),
            AppError::KeyReused { field } => Self {
                field: field.clone(),
                ..Self::new(
                    StatusCode::CONFLICT,
                    "idempotency-key-reused",
                    AppError::KeyReused { field }.to_string(),
                )
            },
            AppError::Stale(message) => {
                Self::new(StatusCode::PRECONDITION_FAILED, "stale-version", message)
            }
            AppError::Denied => Self::forbidden(),
            AppError::Rejected(problems) => Self {
                problems,
                ..Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "rejected",
                    "the request was refused; nothing was written (see problems)",
                )
            },
            AppError::Store(source) => {
                tracing::error!(request_id, error = %source, cause = ?std::error::Error::source(&source), "storage failed");
                match source {
                    purl_store::StoreError::Unavailable(_) => Self::unavailable(request_id),
                    _ => Self::internal(request_id),
                }
            }
        }
    }

    /// Too many attempts: 429 with `Retry-After`.
    pub fn too_many_attempts(retry_after_secs: u32) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too-many-attempts",
                format!("too many sign-in attempts; try again in {retry_after_secs} s"),
            )
        }
    }

    pub fn from_auth(error: AuthError, request_id: &str) -> Self {
        match error {
            AuthError::Throttled { retry_after_secs } => {
                Self::too_many_attempts(u32::try_from(retry_after_secs).unwrap_or(u32::MAX))
            }
            AuthError::Failed => Self::new(
                StatusCode::UNAUTHORIZED,
                "sign-in-failed",
                error.to_string(),
            ),
            AuthError::Invalid(message) => Self::from_app(AppError::Invalid(message), request_id),
            AuthError::App(error) => Self::from_app(error, request_id),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(&self)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(seconds) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
