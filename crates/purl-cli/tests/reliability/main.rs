#![allow(clippy::unwrap_used)] // tests fail loudly by design

//! Reliability: crash, abuse and tamper tests that each print the figure they show and the seed
//! that replays them (`PURL_SEED=<seed>`). They run on loopback only and are bounded in time.
//! Every figure is also appended to `target/reliability/figures.txt`; RELIABILITY.md lists them.

/// The in-process server of the API tests runs on SQLite here.
pub const ON_POSTGRES: bool = false;

mod canary;
mod crash;
mod crawl;
mod fail_closed;
mod headers;
mod idempotency;
mod measure;
mod postgres_cluster;
mod schemathesis;
#[allow(dead_code)] // shared with the API suite; this target uses part of it
#[path = "../../../purl-server/tests/api/support.rs"]
mod server;
mod sign_in;
#[allow(dead_code)] // shared with the CLI suite; this target uses part of it
#[path = "../cli/support.rs"]
mod support;
mod tamper;
mod xss;
