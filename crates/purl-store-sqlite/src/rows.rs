//! Row structs of this backend read through sqlx (bulk reads are in `reader.rs`).

use purl_store::IdempotentResult;

#[derive(sqlx::FromRow)]
pub(crate) struct IdempotencyRow {
    key: String,
    request_hash: String,
    response: String,
    at_us: i64,
    request: Option<String>,
}

impl From<IdempotencyRow> for IdempotentResult {
    fn from(row: IdempotencyRow) -> Self {
        IdempotentResult {
            key: row.key,
            request_hash: row.request_hash,
            response: row.response,
            at_us: row.at_us,
            request: row.request,
        }
    }
}
