#![allow(clippy::unwrap_used)] // tests fail loudly by design

//! The API through a real server on a random port against a fresh database.

mod allocation;
mod authz;
mod ledger;
mod openapi;
mod round;
mod security;
mod support;
