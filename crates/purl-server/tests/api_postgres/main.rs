#![allow(clippy::unwrap_used)] // tests fail loudly by design

//! The API suite of `tests/api` on PostgreSQL (each server in a fresh schema) when
//! `PURL_TEST_POSTGRES_URL` is set; otherwise every test says it is skipped.

/// This binary runs the suite on PostgreSQL.
pub const ON_POSTGRES: bool = true;

#[path = "../api/allocation.rs"]
mod allocation;
#[path = "../api/authz.rs"]
mod authz;
#[path = "../api/imports.rs"]
mod imports;
#[path = "../api/ledger.rs"]
mod ledger;
#[path = "../api/openapi.rs"]
mod openapi;
#[path = "../api/page_forms.rs"]
mod page_forms;
#[path = "../api/round.rs"]
mod round;
#[path = "../api/security.rs"]
mod security;
#[path = "../api/support.rs"]
mod support;
