//! The API's endpoints, by subject. Every handler carries its OpenAPI description, so the served
//! document and the router come from the same code.

mod allocations;
pub(crate) mod imports;
mod ledger;
pub(crate) mod lists;
pub(crate) mod money;
pub(crate) mod packages;
pub(crate) mod reference;
pub(crate) mod reports;
pub(crate) mod session;

use std::sync::OnceLock;

use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use crate::Ctx;

pub fn all() -> OpenApiRouter<Ctx> {
    OpenApiRouter::new()
        .routes(utoipa_axum::routes!(openapi_document))
        .merge(session::router())
        .merge(reference::router())
        .merge(lists::router())
        .merge(money::router())
        .merge(packages::router())
        .merge(reports::router())
        .merge(ledger::router())
        .merge(allocations::router())
        .merge(imports::router())
}

/// One page of a list, filtered to what the caller may see before it is paged.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Listed)]
pub struct ListedDoc {
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
    /// Rows the caller may see in all.
    pub total: usize,
    /// Pass as `offset` for the next page; absent on the last page.
    pub next_offset: Option<usize>,
}

/// A record as the caller may see it (in full, or the reduced form need-to-know allows). Its
/// version is the response's `ETag`; name it in `If-Match` to update the record.
#[derive(Debug, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct Record(serde_json::Value);

/// The OpenAPI document, set once when the router is built.
pub static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();

/// This document: the OpenAPI 3.1 description of every route of the API.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(()),
    responses((status = 200, body = Object, description = "the OpenAPI document")))]
async fn openapi_document() -> axum::Json<Option<&'static utoipa::openapi::OpenApi>> {
    axum::Json(DOCUMENT.get())
}
