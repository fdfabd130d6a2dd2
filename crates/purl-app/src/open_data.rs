//! Open data: the public figures and the pledges flagged public, as files anyone may reuse — JSON
//! and CSV, each JSON file with its JSON Schema — built through the same need-to-know reads as the
//! public API, so they hold nothing the public may not see.

use serde_json::Value;

use crate::access_log::Reader;
use crate::read::{Page, PAGE_LIMIT_MAX};
use crate::{App, AppError};
use purl_store::Store;

/// The JSON Schema of `overview.json`.
pub const OVERVIEW_SCHEMA: &str = include_str!("../schemas/overview.schema.json");
/// The JSON Schema of `pledges.json`.
pub const PLEDGES_SCHEMA: &str = include_str!("../schemas/pledges.schema.json");

/// What the public may know, as of a day.
pub struct PublicData {
    pub overview: Value,
    pub pledges: Vec<Value>,
    /// The ledger's size the figures were computed at.
    pub ledger_size: u64,
}

impl<S: Store> App<S> {
    /// The public overview and every public pledge, as the public API answers them.
    pub async fn public_data(&self, as_of: chrono::NaiveDate) -> Result<PublicData, AppError> {
        let public = Reader::new(None, "open-data");
        let ledger_size = self.state().await?.head;
        let overview = self.overview(&public, as_of).await?;
        let mut pledges = Vec::new();
        let mut offset = 0;
        loop {
            let page = Page {
                offset,
                limit: PAGE_LIMIT_MAX,
            };
            let listed = self.pledges(&public, page).await?;
            pledges.extend(listed.items);
            match listed.next_offset {
                Some(next) => offset = next,
                None => break,
            }
        }
        Ok(PublicData {
            overview,
            pledges,
            ledger_size,
        })
    }
}
