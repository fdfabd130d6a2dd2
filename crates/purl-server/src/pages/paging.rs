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
