//! Every change through the API: one command, as the calling user, with its `Idempotency-Key`
//! (scoped to the caller, so one caller's key never answers another) and its `If-Match` version.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use purl_app::{WriteOptions, Written};
use purl_core::command::Command;
use serde::Serialize;
use utoipa::ToSchema;

use crate::identity::Caller;
use crate::input::{idempotency_key, if_match};
use crate::problem::Problem;
use crate::Ctx;

/// The answer to a write: the ledger entries it made.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Written)]
pub struct WrittenDoc {
    /// Ledger sequence numbers of the events written (absent when nothing changed).
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    pub events: u64,
    /// True when this repeats the first answer to the same `Idempotency-Key`.
    pub replayed: bool,
}

/// Executes `command` for the caller. `location` is the created record's URL, for a 201.
pub async fn execute(
    ctx: &Ctx,
    caller: &Caller,
    headers: &HeaderMap,
    command: Command,
    location: Option<String>,
) -> Result<Response, Problem> {
    let written = run(ctx, caller, headers, command).await?;
    Ok(respond(&written, location))
}

/// Executes `command` for the caller and returns what was written.
pub async fn run(
    ctx: &Ctx,
    caller: &Caller,
    headers: &HeaderMap,
    command: Command,
) -> Result<Written, Problem> {
    let actor = caller.actor()?;
    let options = WriteOptions {
        idempotency_key: idempotency_key(headers)?
            .map(|key| format!("{}:{key}", actor.ledger_name())),
        request: purl_app::idempotency::describe(&command),
        expected_version: if_match(headers)?,
    };
    let written = ctx
        .app
        .execute(actor, command, options)
        .await
        .map_err(|error| Problem::from_app(error, &caller.request_id))?;
    if written.events > 0 {
        ctx.checkpoint_if_due().await;
    }
    Ok(written)
}

pub fn respond(written: &Written, location: Option<String>) -> Response {
    let status = if location.is_some() && !written.replayed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (status, axum::Json(written)).into_response();
    if let Some(value) = location.and_then(|url| HeaderValue::try_from(url).ok()) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A record as read, with its version as the `ETag` an update names in `If-Match`.
pub fn with_etag(found: purl_app::read::Found) -> Response {
    let mut response = axum::Json(found.body).into_response();
    if let Ok(value) = HeaderValue::try_from(format!("\"{}\"", found.version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}
