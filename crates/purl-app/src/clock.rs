//! The only place PURL Ledger reads the time and draws random bytes.

use chrono::{DateTime, NaiveDate, Utc};
use rand::RngCore;

pub trait Clock: Send + Sync + 'static {
    /// Microseconds since the Unix epoch.
    fn now_us(&self) -> i64;

    fn today(&self) -> NaiveDate {
        DateTime::<Utc>::from_timestamp_micros(self.now_us())
            .expect("the clock gives a representable time")
            .date_naive()
    }

    /// Fresh random salt for one event.
    fn salt(&self) -> [u8; purl_core::event::SALT_BYTES] {
        let mut salt = [0u8; purl_core::event::SALT_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut salt);
        salt
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_us(&self) -> i64 {
        Utc::now().timestamp_micros()
    }
}

/// A clock stopped at one instant, for tests and reproducible demos.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub i64);

impl Clock for FixedClock {
    fn now_us(&self) -> i64 {
        self.0
    }
}
