//! Reading requests: JSON bodies whose errors name the field, query parameters, `If-Match` and
//! `Idempotency-Key`, and the core types fields are parsed into.

use std::collections::BTreeSet;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode};
use chrono::NaiveDate;
use purl_app::read::{Page, PAGE_LIMIT_DEFAULT, PAGE_LIMIT_MAX};
use purl_core::ids::{parse_date, Text};
use purl_core::money::{Currency, Money};
use purl_core::user::Role;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::problem::Problem;

/// A JSON request body. Malformed JSON is a 400, a body of the wrong shape a 422 naming the field.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Body(value)),
            Err(rejection) => Err(body_problem(&rejection)),
        }
    }
}

fn body_problem(rejection: &JsonRejection) -> Problem {
    let text = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => {
            // "Failed to deserialize the JSON body into the target type: FIELD: reason at line…"
            let detail = text
                .split_once("target type: ")
                .map_or(text.as_str(), |(_, rest)| rest)
                .to_owned();
            let field = detail
                .split_once(": ")
                .map(|(path, _)| path.to_owned())
                .filter(|path| !path.contains(' '))
                .or_else(|| {
                    detail
                        .split_once("missing field `")
                        .and_then(|(_, rest)| rest.split_once('`'))
                        .map(|(name, _)| name.to_owned())
                });
            Problem {
                field,
                ..Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail)
            }
        }
        JsonRejection::JsonSyntaxError(_) => Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed",
            "the body is not valid JSON",
        ),
        JsonRejection::MissingJsonContentType(_) => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "the body is larger than this server accepts",
        ),
        _ => Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed",
            "the body could not be read",
        ),
    }
}

/// `?offset=&limit=` on every list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows to skip (default 0).
    pub offset: Option<usize>,
    /// Rows to return, 1 to 1000 (default 100).
    pub limit: Option<usize>,
    /// `json` (default), or `csv` / `xlsx` to download the same rows as a file.
    pub format: Option<String>,
}

impl PageQuery {
    pub fn format(&self) -> Result<crate::export::ListFormat, Problem> {
        crate::export::ListFormat::parse(self.format.as_deref())
    }

    pub fn page(&self) -> Result<Page, Problem> {
        // A list that is only served as JSON still refuses a format it does not know.
        self.format()?;
        let limit = self.limit.unwrap_or(PAGE_LIMIT_DEFAULT);
        if limit == 0 || limit > PAGE_LIMIT_MAX {
            return Err(Problem::invalid(
                "limit",
                format!("must be 1 to {PAGE_LIMIT_MAX}"),
            ));
        }
        Ok(Page {
            offset: self.offset.unwrap_or(0),
            limit,
        })
    }
}

/// The version an update is based on, from `If-Match: "N"`.
pub fn if_match(headers: &HeaderMap) -> Result<Option<u64>, Problem> {
    let Some(value) = headers.get(axum::http::header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|text| text.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|text| text.parse::<u64>().ok())
        .map(Some)
        .ok_or_else(|| Problem::invalid("If-Match", "must be the ETag of the record, e.g. \"3\""))
}

pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 200;

/// The `Idempotency-Key` header, if any.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(text) if !text.trim().is_empty() && text.len() <= IDEMPOTENCY_KEY_CHARS_MAX => {
            Ok(Some(text.trim().to_owned()))
        }
        _ => Err(Problem::invalid(
            "Idempotency-Key",
            format!("must be 1 to {IDEMPOTENCY_KEY_CHARS_MAX} visible characters"),
        )),
    }
}

/// Parses one field, naming it if it is wrong.
pub fn field<T, E: std::fmt::Display>(name: &str, result: Result<T, E>) -> Result<T, Problem> {
    result.map_err(|error| Problem::invalid(name, error))
}

pub fn date(name: &str, text: &str) -> Result<NaiveDate, Problem> {
    field(name, parse_date(text))
}

pub fn optional_date(name: &str, text: Option<&str>) -> Result<Option<NaiveDate>, Problem> {
    text.map(|text| date(name, text)).transpose()
}

pub fn text(name: &str, value: Option<&str>) -> Result<Text, Problem> {
    field(name, Text::parse(value.unwrap_or("")))
}

pub fn currency(name: &str, code: &str) -> Result<Currency, Problem> {
    field(name, Currency::parse(code))
}

pub fn positive_money(name: &str, amount: &str, currency: Currency) -> Result<Money, Problem> {
    field(name, Money::parse_positive(amount, currency))
}

pub fn roles(name: &str, roles: &[String]) -> Result<BTreeSet<Role>, Problem> {
    roles
        .iter()
        .map(|role| field(name, Role::parse(role)))
        .collect()
}
