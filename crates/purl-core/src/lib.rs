//! PURL Ledger's domain core: money, the objects and their rules, the access policy, commands and
//! events, and reports, as pure functions. No I/O, no clock, no randomness: callers pass them in.

pub mod access;
pub mod allocation;
pub mod canonical_json;
pub mod catalogue;
pub mod checkpoint;
pub mod command;
pub mod error;
pub mod event;
pub mod evidence;
pub mod fx;
pub mod gdp;
pub mod ids;
pub mod limits;
pub mod list;
pub mod merkle;
pub mod money;
pub mod package;
pub mod participant;
pub mod patterns;
pub mod pledge;
pub mod policy;
pub mod report;
pub mod state;
pub mod user;

#[cfg(test)]
pub(crate) mod test_world;

pub use chrono::NaiveDate;
