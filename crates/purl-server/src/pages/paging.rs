//! Long tables a page at a time: `?offset=` in, links to the previous and next pages out.

use maud::{html, Markup};
use purl_app::read::Page;
use serde::Deserialize;

/// Rows of a table shown on one page.
pub const ROWS_PER_PAGE: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub struct Offset {
    offset: Option<usize>,
}

impl Offset {
    pub fn offset(&self) -> usize {
        self.offset.unwrap_or(0)
    }
}

/// Every row (up to the most one read returns), for choices and counts.
pub const ALL: Page = Page {
    offset: 0,
    limit: purl_app::read::PAGE_LIMIT_MAX,
};

/// The rows the reader sees in full, as their records; rows shown in summary are left out.
pub fn in_full<T: serde::de::DeserializeOwned>(rows: Vec<serde_json::Value>) -> Vec<T> {
    rows.into_iter()
        .filter_map(|row| serde_json::from_value(row).ok())
        .collect()
}

/// The page of rows starting at `offset`.
pub fn page(offset: usize) -> Page {
    Page {
        offset,
        limit: ROWS_PER_PAGE,
    }
}

/// Links to the previous and the next page of the table at `path` (`what` names its rows).
pub fn links(path: &str, what: &str, offset: usize, next: Option<usize>) -> Markup {
    html! {
        @if offset > 0 || next.is_some() {
            nav class="pages" aria-label={ "Pages of " (what) } {
                @if offset > 0 {
                    a href={ (path) "?offset=" (offset.saturating_sub(ROWS_PER_PAGE)) } { "Previous" } " "
                }
                @if let Some(next) = next {
                    a href={ (path) "?offset=" (next) } { "Next" }
                }
            }
        }
    }
}
