#![allow(clippy::unwrap_used)] // tests fail loudly by design

//! The API through a real server on a random port against a fresh SQLite database. The same suite
//! runs on PostgreSQL in the `api_postgres` test binary.

/// This binary runs the suite on SQLite.
pub const ON_POSTGRES: bool = false;

mod allocation;
mod authz;
mod imports;
mod ledger;
mod openapi;
mod page_forms;
mod round;
mod security;
mod support;
