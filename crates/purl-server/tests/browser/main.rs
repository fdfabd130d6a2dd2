#![allow(clippy::unwrap_used)] // tests fail loudly by design

//! The pages in a real headless Chromium (Debian's `chromium` and `chromium-driver`, through
//! WebDriver) against the real server on a random port. Full-page screenshots of the pages go to
//! `target/screenshots/`. Without `chromedriver` the tests are skipped with the reason printed,
//! unless `PURL_TEST_BROWSER=required` (CI sets it), when they fail.

/// The server runs on SQLite here.
pub const ON_POSTGRES: bool = false;

mod admin;
mod browser;
mod lists;
mod pages;
mod pledges;
mod round;
#[allow(dead_code)] // shared with the API suite, which uses all of it
#[path = "../api/support.rs"]
mod support;
