#![allow(clippy::unwrap_used)] // tests fail loudly by design
//! Black-box tests of the `purl` binary on real SQLite files.

mod audit;
mod crash;
mod imports;
mod ledger;
mod nodes;
mod open_data;
mod postgres;
mod serve;
mod support;
mod usage;
mod workbooks;
