#![allow(clippy::unwrap_used)] // tests fail loudly by design

//! Reliability: crash, abuse and tamper tests that each print the figure they show and the seed
//! that replays them (`PURL_SEED=<seed>`). They run on loopback only and are bounded in time.
//! Every figure is also appended to `target/reliability/figures.txt`; RELIABILITY.md lists them.

/// The in-process server of the API tests runs on SQLite here.
pub const ON_POSTGRES: bool = false;

// The test harness starts tests in the order of their names. The runs that need the machine alone
// (their figures are timings) come first, then the longest of the others (API fuzzing): no run
// that must be alone waits behind a long one while a core stays idle.
mod alone {
    pub mod sign_in;
}
mod api_fuzzing;
mod canary;
mod crash;
mod crawl;
mod fail_closed;
mod headers;
mod idempotency;
mod measure;
mod postgres_cluster;
#[allow(dead_code)] // shared with the API suite; this target uses part of it
#[path = "../../../purl-server/tests/api/support.rs"]
mod server;
#[allow(dead_code)] // shared with the CLI suite; this target uses part of it
#[path = "../cli/support.rs"]
mod support;
mod tamper;
mod xss;
