//! Every bound the domain enforces, each with its reason.

/// Names show in report headers and table columns; 200 characters fits any official name.
pub const NAME_CHARS_MAX: usize = 200;
/// Free text (justifications, conditions, notes) is kept to what a person writes in a cell.
pub const TEXT_CHARS_MAX: usize = 4_000;
/// A joint pledge names at most every NATO member and partner at once.
pub const PLEDGE_CONTRIBUTORS_MAX: usize = 64;
/// A requirement list version of more lines than this is not a prioritised list any more.
pub const LIST_LINES_MAX: usize = 100_000;
/// Quantities are whole units; one line never asks for more than a billion of anything.
pub const LINE_QUANTITY_MAX: u64 = 1_000_000_000;
/// Money amounts are i64 minor units; this bound leaves room for sums of many amounts in i128.
pub const AMOUNT_MINOR_MAX: i64 = 1_000_000_000_000_000_000;
/// Exchange rates are exact decimals; more than 12 decimals is noise, not precision.
pub const RATE_DECIMALS_MAX: u32 = 12;
/// An idempotency key is an opaque token chosen by the client.
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 200;
/// An API token's name says where it is used ("nightly export"); a line is enough.
pub const TOKEN_NAME_CHARS_MAX: usize = 100;
/// References are user-chosen identifiers of pledges.
pub const REFERENCE_CHARS_MAX: usize = 64;
/// Packages formed from one allocation at once: a target below the price of a unit makes a
/// package of every unit, and no one ships, tracks or reads thousands of packages made in one go
/// (the write would also hold every other write back while it runs).
pub const PACKAGES_FORMED_MAX: usize = 1_000;

const _: () = assert!(AMOUNT_MINOR_MAX < i64::MAX / 2);

/// A checkpoint is signed once this many events are unsigned, ...
pub const CHECKPOINT_EVENTS_MAX: u64 = 1_000;
/// ... or once the newest event is this old and not yet in a checkpoint.
pub const CHECKPOINT_INTERVAL_S: i64 = 300;
/// The allocation keeps a slack for every set of classes (category × lethality): 2^20 sets of
/// 8 bytes is 8 MiB; 8 categories make at most 16 classes.
pub const ALLOCATION_CLASSES_MAX: usize = 20;
